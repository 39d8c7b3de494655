/* The toolkit's own configuration file, rspamkit.conf(5). */
#include "ucl.h"

#include <stdlib.h>
#include <string.h>

RK_API void rk_settings_init(rk_settings *s)
{
    memset(s, 0, sizeof *s);
    s->connect_timeout = -1;
    s->timeout = -1;
    s->retries = -1;
}

RK_API void rk_settings_clear(rk_settings *s)
{
    free(s->host);
    free(s->controller);
    free(s->password);
    free(s->password_file);
    free(s->key);
    free(s->header_style);
    free(s->files[0]);
    free(s->files[1]);
    rk_settings_init(s);
}

RK_API int rk_config_load_file(rk_settings *s, const char *path, int must_exist, rk_error *err)
{
    (void)s; (void)path; (void)must_exist;
    return rk_fail(err, RK_ERR_UNSUPPORTED, "not implemented");
}

RK_API int rk_config_load(rk_settings *out, rk_error *err)
{
    rk_settings_init(out);
    return rk_fail(err, RK_ERR_UNSUPPORTED, "not implemented");
}
