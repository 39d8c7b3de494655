/* The toolkit's own configuration file, rspamkit.conf(5): UCL read with the
 * same parser as Rspamd's configuration, system file then user file. */
#include "ucl/ucl.h"

#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the settings own: their strings (the password is wiped first). */
static const size_t owned[] = {
    offsetof(rk_settings, host),     offsetof(rk_settings, controller),
    offsetof(rk_settings, password), offsetof(rk_settings, password_file),
    offsetof(rk_settings, key),      offsetof(rk_settings, header_style),
    offsetof(rk_settings, files),    offsetof(rk_settings, files) + sizeof(char *),
    offsetof(rk_settings, password_error)};

static void defaults(rk_settings *s)
{
    memset(s, 0, sizeof *s);
    s->connect_timeout = -1;
    s->timeout = -1;
    s->retries = -1;
}

/* Free the strings that start at or after byte `from` of s. */
static void free_from(rk_settings *s, size_t from)
{
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) {
        if (owned[i] < from)
            continue;
        char **str = (char **)((char *)s + owned[i]);
        if (owned[i] == offsetof(rk_settings, password) && *str)
            explicit_bzero(*str, strlen(*str));
        free(*str);
        *str = NULL;
    }
}

/* Hand `full` back to a caller whose struct has s_size bytes: what does not
 * fit is freed. */
static void settings_out(rk_settings *s, size_t s_size, rk_settings *full)
{
    memcpy(s, full, s_size < sizeof *full ? s_size : sizeof *full);
    free_from(full, s_size);
}

RK_API void rk_settings_init_sized(rk_settings *s, size_t s_size)
{
    rk_settings full;
    defaults(&full);
    memset(s, 0, s_size);
    settings_out(s, s_size, &full);
}

RK_API void rk_settings_clear_sized(rk_settings *s, size_t s_size)
{
    rk_settings full;
    defaults(&full);
    memcpy(&full, s, s_size < sizeof full ? s_size : sizeof full);
    free_from(&full, 0);
    rk_settings_init_sized(s, s_size);
}

typedef enum { T_STR, T_SECONDS, T_COUNT, T_BOOL } setting_type;

typedef struct setting {
    const char *name;
    setting_type type;
    size_t off;
} setting;

#define AT(f) offsetof(rk_settings, f)
static const setting settings[] = {
    {"host", T_STR, AT(host)},
    {"controller", T_STR, AT(controller)},
    {"password", T_STR, AT(password)},
    {"password_file", T_STR, AT(password_file)},
    {"key", T_STR, AT(key)},
    {"connect_timeout", T_SECONDS, AT(connect_timeout)},
    {"timeout", T_SECONDS, AT(timeout)},
    {"retries", T_COUNT, AT(retries)},
    {"header_style", T_STR, AT(header_style)},
    {"tempfail", T_BOOL, AT(failure)},
};

/* The value to use for a key given several times: the last one. */
static const rk_ucl *last_value(const rk_ucl *u)
{
    while (rk_ucl_next(u))
        u = rk_ucl_next(u);
    return u;
}

static int apply(rk_settings *s, const char *path, const setting *st, const rk_ucl *v,
                 rk_error *err)
{
    char *base = (char *)s + st->off;
    rk_ucl_type t = rk_ucl_type_of(v);
    switch (st->type) {
    case T_STR: {
        size_t len;
        const char *str = rk_ucl_string(v, &len);
        if (!str)
            return rk_fail(err, RK_ERR_USAGE, "%s: '%s' must be a string", path, st->name);
        if (strlen(str) != len)
            return rk_fail(err, RK_ERR_USAGE, "%s: '%s' contains a NUL byte", path, st->name);
        char *copy = strdup(str), **field = (char **)(void *)base;
        if (!copy)
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
        if (st->off == AT(password) && s->password)
            explicit_bzero(s->password, strlen(s->password));
        free(*field);
        *field = copy;
        return 0;
    }
    case T_SECONDS: {
        double d = rk_ucl_double(v);
        if ((t != RK_UCL_INT && t != RK_UCL_FLOAT && t != RK_UCL_TIME) || !isfinite(d) || d < 0)
            return rk_fail(err, RK_ERR_USAGE,
                           "%s: '%s' must be a number of seconds (e.g. 10, 2.5, 500ms)", path,
                           st->name);
        *(double *)(void *)base = d;
        return 0;
    }
    case T_COUNT: {
        int64_t n = rk_ucl_int(v);
        if (t != RK_UCL_INT || n < 0 || n > 1000)
            return rk_fail(err, RK_ERR_USAGE, "%s: '%s' must be an integer from 0 to 1000", path,
                           st->name);
        *(int *)(void *)base = (int)n;
        return 0;
    }
    case T_BOOL:
        if (t != RK_UCL_BOOLEAN)
            return rk_fail(err, RK_ERR_USAGE, "%s: '%s' must be yes or no", path, st->name);
        *(rk_failure_policy *)(void *)base = rk_ucl_bool(v) ? RK_FAILURE_TEMPFAIL : RK_FAILURE_PASS;
        return 0;
    }
    return 0;
}

/* A password must not sit in a file other users can read: when `path` is
 * readable by group or others, s->password_error says so (the password is
 * then not to be used), else it is cleared. */
static int check_private(rk_settings *s, const char *path, rk_error *err)
{
    struct stat st;
    free(s->password_error);
    s->password_error = NULL;
    if (stat(path, &st) != 0 || !(st.st_mode & (S_IRGRP | S_IROTH)))
        return 0;
    const char *who = !(st.st_mode & S_IROTH) ? "group"
                      : !(st.st_mode & S_IRGRP) ? "others"
                                                : "group and others";
    if (asprintf(&s->password_error,
                 "%s: holds a password but is readable by %s (mode %03o); "
                 "make it private (chmod 600) or use password_file",
                 path, who, (unsigned)(st.st_mode & 0777)) < 0) {
        s->password_error = NULL;
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static int load_file(rk_settings *s, const char *path, int must_exist, rk_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        /* EACCES/ENOTDIR from stat: a directory on the way cannot be searched
         * (e.g. an inherited $HOME of another user, as in LDA use), so there
         * is no file we could know of; a file that exists but cannot be read
         * still fails below */
        if (!must_exist && (errno == ENOENT || errno == ENOTDIR || errno == EACCES))
            return 0;
        return rk_fail(err, RK_ERR_INPUT, "cannot read %s: %s", path, strerror(errno));
    }
    /* A file this user may not read (a system file kept private because it
     * holds the password) is skipped like a missing one: commands that need
     * no password run without it. */
    if (!must_exist && access(path, R_OK) != 0 && errno == EACCES)
        return 0;
    rk_ucl *top = NULL;
    rk_error perr;
    rk_error_clear(&perr);
    if (rk_ucl_parse_file(path, NULL, &top, &perr)) {
        /* parse errors already name the file; read errors too */
        return rk_fail(err, perr.code, "%s", perr.msg);
    }
    int rc = 0;
    if (rk_ucl_type_of(top) != RK_UCL_OBJECT) {
        rc = rk_fail(err, RK_ERR_USAGE, "%s: the settings must be an object (key = value;)", path);
        goto out;
    }
    for (size_t i = 0; i < rk_ucl_count(top) && rc == 0; i++) {
        const rk_ucl *m = rk_ucl_at(top, i);
        size_t klen;
        const char *key = rk_ucl_key(m, &klen);
        const setting *st_ = NULL;
        for (size_t j = 0; j < sizeof settings / sizeof *settings; j++)
            if (strlen(settings[j].name) == klen && memcmp(settings[j].name, key, klen) == 0)
                st_ = &settings[j];
        if (!st_) {
            rc = rk_fail(err, RK_ERR_USAGE, "%s: unknown setting '%s'", path, key);
            break;
        }
        if (st_->off == AT(password) && (rc = check_private(s, path, err)))
            break;
        rc = apply(s, path, st_, last_value(m), err);
    }
out:
    rk_ucl_free(top);
    return rc ? -1 : 1;
}

/* $RSPAMKIT_CONFIG, else $XDG_CONFIG_HOME/rspamkit/config, else
 * ~/.config/rspamkit/config; NULL when there is no home to look in. */
static char *user_path(void)
{
    const char *p = getenv("RSPAMKIT_CONFIG");
    char *out = NULL;
    if (p && *p)
        return strdup(p);
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && xdg[0] == '/') { /* the spec says: ignore a relative value */
        if (asprintf(&out, "%s/rspamkit/config", xdg) < 0)
            return NULL;
        return out;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return NULL;
    if (asprintf(&out, "%s/.config/rspamkit/config", home) < 0)
        return NULL;
    return out;
}

RK_API int rk_config_load_file_sized(rk_settings *s, size_t s_size, const char *path, int must_exist,
                                     rk_error *err)
{
    rk_settings full;
    defaults(&full);
    if (rk_sized_in(&full, sizeof full, s, s_size, err))
        return -1;
    int rc = load_file(&full, path, must_exist, err);
    settings_out(s, s_size, &full);
    return rc;
}

RK_API int rk_config_load_sized(rk_settings *out, size_t out_size, rk_error *err)
{
    rk_settings full;
    defaults(&full);
    const char *sys = getenv("RSPAMKIT_SYSCONFIG");
    if (!sys || !*sys)
        sys = "/etc/rspamkit/config";
    int rc = load_file(&full, sys, 0, err);
    if (rc < 0 || (rc == 1 && !(full.files[0] = strdup(sys))))
        goto fail;
    char *user = user_path();
    if (user) {
        rc = load_file(&full, user, 0, err);
        if (rc == 1)
            full.files[1] = user;
        else
            free(user);
        if (rc < 0)
            goto fail;
    }
    memset(out, 0, out_size);
    settings_out(out, out_size, &full);
    return 0;
fail:
    if (rc >= 0)
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
    free_from(&full, 0);
    rk_settings_init_sized(out, out_size);
    return -1;
}
