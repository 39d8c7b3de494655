/* Rspamd's view of a configuration: its predefined UCL variables, its Jinja
 * environment, how it reads the top file, and the public parse entry points. */
#include "rspamd/rspamd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Debian's build of Rspamd 3.4 */
#define RS_CONFDIR "/etc/rspamd"
#define RS_RUNDIR "/run/rspamd"
#define RS_DBDIR "/var/lib/rspamd"
#define RS_LOGDIR "/var/log/rspamd"
#define RS_SHAREDIR "/usr/share/rspamd"
#define RS_PLUGINSDIR RS_SHAREDIR "/plugins"
#define RS_RULESDIR RS_SHAREDIR "/rules"
#define RS_WWWDIR RS_SHAREDIR "/www"
#define RS_LUALIBDIR RS_SHAREDIR "/lualib"
#define RS_PREFIX "/usr"

extern char **environ;

void rk_rs_env_clear(rk_rs_env *e)
{
    for (size_t i = 0; i < e->nown; i++)
        free(e->own[i]);
    free(e->own);
    free(e->vars);
    free(e->tpl_env);
    free(e->tpl_paths);
    memset(e, 0, sizeof *e);
}

static char *keep(rk_rs_env *e, char *s)
{
    if (!s)
        return NULL;
    char **own = realloc(e->own, (e->nown + 1) * sizeof *own);
    if (!own) {
        free(s);
        return NULL;
    }
    e->own = own;
    e->own[e->nown++] = s;
    return s;
}

static int add_kv(rk_ucl_kv **v, size_t *n, const char *name, const char *value)
{
    rk_ucl_kv *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    nv[*n].name = name;
    nv[*n].value = value;
    *v = nv;
    (*n)++;
    return 0;
}

static const char *kv_get(const rk_ucl_kv *v, size_t n, const char *name)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(v[i].name, name) == 0)
            return v[i].value;
    return NULL;
}

/* Split the "NAME=VALUE" items into e->user (name, value pairs). */
static int split_vars(rk_rs_env *e, const char *const *vars, size_t n, rk_ucl_kv **out,
                      size_t *nout, rk_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(vars[i], '=');
        if (!eq || eq == vars[i])
            return rk_fail(err, RK_ERR_USAGE, "invalid variable '%s': expected NAME=VALUE", vars[i]);
        char *name = keep(e, strndup(vars[i], (size_t)(eq - vars[i])));
        if (!name || add_kv(out, nout, name, eq + 1))
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    return 0;
}

int rk_rs_version_parse(const char *version, unsigned *major, unsigned *minor, unsigned *patch)
{
    unsigned long pa = 0;
    const char *p = version ? version : RK_RSPAMD_VERSION;
    char *e;
    if (!(*p >= '0' && *p <= '9'))
        return -1;
    unsigned long ma = strtoul(p, &e, 10);
    if (*e != '.' || !(e[1] >= '0' && e[1] <= '9'))
        return -1;
    unsigned long mi = strtoul(e + 1, &e, 10);
    if (*e == '.' && e[1] >= '0' && e[1] <= '9')
        pa = strtoul(e + 1, &e, 10);
    if (*e || ma > 99 || mi > 99 || pa > 99)
        return -1;
    *major = (unsigned)ma;
    *minor = (unsigned)mi;
    if (patch)
        *patch = (unsigned)pa;
    return 0;
}

int rk_rs_env_init(rk_rs_env *e, unsigned flags, const char *version, const char *const *vars,
                   size_t n_vars, rk_error *err)
{
    rk_ucl_kv *user = NULL;
    size_t nuser = 0;
    unsigned major, minor;
    memset(e, 0, sizeof *e);
    if (rk_rs_version_parse(version, &major, &minor, NULL))
        return rk_fail(err, RK_ERR_USAGE, "invalid Rspamd version '%s': expected MAJOR.MINOR[.PATCH]",
                       version);
    if (!version)
        version = RK_RSPAMD_VERSION;
    /* RSPAMD_VERSION_NUM: 0x<major>0<minor>0000000000 read as hex, printed by
     * Lua as a number ("%.14g") */
    char buf[40], hex[40];
    const char *smajor, *sminor, *snum;
    snprintf(buf, sizeof buf, "%u", major);
    smajor = keep(e, strdup(buf));
    snprintf(buf, sizeof buf, "%u", minor);
    sminor = keep(e, strdup(buf));
    snprintf(hex, sizeof hex, "%u0%u0000000000", major, minor);
    snprintf(buf, sizeof buf, "%.14g", (double)strtoull(hex, NULL, 16));
    snum = keep(e, strdup(buf));
    if (!smajor || !sminor || !snum) {
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (split_vars(e, vars, n_vars, &user, &nuser, err))
        goto fail;

    char host[HOST_NAME_MAX + 1] = "";
    gethostname(host, sizeof host - 1);
    const char *hostname = keep(e, strdup(host));
    if (!hostname) {
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
        goto fail;
    }

    if (flags & RK_UCL_RSPAMD_VARS) {
        const char *const defaults[][2] = {
            {"CONFDIR", RS_CONFDIR},       {"LOCAL_CONFDIR", RS_CONFDIR},
            {"RUNDIR", RS_RUNDIR},         {"DBDIR", RS_DBDIR},
            {"LOGDIR", RS_LOGDIR},         {"PLUGINSDIR", RS_PLUGINSDIR},
            {"SHAREDIR", RS_SHAREDIR},     {"RULESDIR", RS_RULESDIR},
            {"WWWDIR", RS_WWWDIR},         {"PREFIX", RS_PREFIX},
            {"VERSION", version},          {"VERSION_MAJOR", smajor},
            {"VERSION_MINOR", sminor},     {"BRANCH_VERSION", smajor},
        };
        for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
            if (add_kv(&e->vars, &e->n_vars, defaults[i][0], defaults[i][1]))
                goto oom;
        if (add_kv(&e->vars, &e->n_vars, "HOSTNAME", hostname))
            goto oom;
    }
    for (size_t i = 0; i < nuser; i++)
        if (add_kv(&e->vars, &e->n_vars, user[i].name, user[i].value))
            goto oom;

    if (flags & RK_UCL_TEMPLATES) {
        /* rspamd_env: --var items, then fixed names, then RSPAMD_<X> from
         * the environment; later ones win. */
        for (size_t i = 0; i < nuser; i++)
            if (add_kv(&e->tpl_env, &e->n_tpl_env, user[i].name, user[i].value))
                goto oom;
        const char *const fixed[][2] = {
            {"version", version}, {"ver_major", smajor}, {"ver_minor", sminor},
            {"ver_id", "release"}, {"ver_num", snum},
        };
        if (add_kv(&e->tpl_env, &e->n_tpl_env, "hostname", hostname))
            goto oom;
        for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
            if (add_kv(&e->tpl_env, &e->n_tpl_env, fixed[i][0], fixed[i][1]))
                goto oom;
        for (char **ev = environ; ev && *ev; ev++) {
            if (strncmp(*ev, "RSPAMD_", 7) != 0)
                continue;
            const char *eq = strchr(*ev + 7, '=');
            if (!eq)
                continue;
            char *name = keep(e, strndup(*ev + 7, (size_t)(eq - *ev - 7)));
            if (!name || add_kv(&e->tpl_env, &e->n_tpl_env, name, eq + 1))
                goto oom;
        }
        /* rspamd_paths: defaults, then plain environment variables, then --var */
        static const char *const paths[][2] = {
            {"SHAREDIR", RS_SHAREDIR},   {"CONFDIR", RS_CONFDIR}, {"LOCAL_CONFDIR", RS_CONFDIR},
            {"RUNDIR", RS_RUNDIR},       {"DBDIR", RS_DBDIR},     {"LOGDIR", RS_LOGDIR},
            {"WWWDIR", RS_WWWDIR},       {"PLUGINSDIR", RS_PLUGINSDIR},
            {"RULESDIR", RS_RULESDIR},   {"LUALIBDIR", RS_LUALIBDIR}, {"PREFIX", RS_PREFIX},
        };
        for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
            const char *v = paths[i][1];
            if (strcmp(paths[i][0], "PREFIX") != 0) {
                const char *ev = getenv(paths[i][0]);
                const char *uv = kv_get(user, nuser, paths[i][0]);
                if (ev)
                    v = ev;
                if (uv)
                    v = uv;
            }
            if (add_kv(&e->tpl_paths, &e->n_tpl_paths, paths[i][0], v))
                goto oom;
        }
    }
    free(user);
    e->env.vars = e->vars;
    e->env.n_vars = e->n_vars;
    e->env.template_fn = (flags & RK_UCL_TEMPLATES) ? rk_ucl_jinja : NULL;
    e->env.tpl_env = e->tpl_env;
    e->env.n_tpl_env = e->n_tpl_env;
    e->env.tpl_paths = e->tpl_paths;
    e->env.n_tpl_paths = e->n_tpl_paths;
    return 0;
oom:
    rk_fail(err, RK_ERR_NOMEM, "out of memory");
fail:
    free(user);
    rk_rs_env_clear(e);
    return -1;
}

/* Whole file, NUL-terminated, with Rspamd's messages for its top file. */
int rk_rs_read_file(const char *path, unsigned char **buf, size_t *len, rk_error *err)
{
    rk_slurp_step step;
    if (rk_ucl_slurp(path, buf, len, &step) == 0)
        return 0;
    switch (step) {
    case RK_SLURP_OPEN:
        return rk_fail(err, RK_ERR_INPUT, "cannot open %s: %s", path, strerror(errno));
    case RK_SLURP_STAT:
        return rk_fail(err, RK_ERR_INPUT, "cannot stat %s: %s", path, strerror(errno));
    case RK_SLURP_NOMEM:
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    default:
        return rk_fail(err, RK_ERR_INPUT, "cannot read %s: %s", path, strerror(errno));
    }
}

int rk_ucl_parse_buffer(const void *data, size_t len, const char *name,
                               const rk_ucl_parse_opts *opts, rk_ucl **out, rk_error *err)
{
    rk_rs_env e;
    if (rk_rs_env_init(&e, opts ? opts->flags : 0, NULL, opts ? opts->vars : NULL,
                       opts ? opts->n_vars : 0, err))
        return -1;
    e.env.keep_comments = opts && (opts->flags & RK_UCL_KEEP_COMMENTS);
    int rc = rk_ucl_parse_env(data, len, name, &e.env, out, err);
    rk_rs_env_clear(&e);
    return rc;
}

int rk_ucl_parse_file(const char *path, const rk_ucl_parse_opts *opts, rk_ucl **out,
                             rk_error *err)
{
    unsigned char *buf;
    size_t len;
    char real[PATH_MAX];
    *out = NULL;
    if (rk_rs_read_file(path, &buf, &len, err))
        return -1;
    int rc = rk_ucl_parse_buffer(buf, len, realpath(path, real) ? real : path, opts, out, err);
    free(buf);
    return rc;
}

int rk_rspamd_config_load(const rk_rspamd_opts *opts, rk_ucl **out, rk_error *err)
{
    rk_rs_env e;
    char defpath[PATH_MAX], real[PATH_MAX];
    const char *path = opts->config;
    unsigned char *buf;
    size_t len;
    rk_error perr;
    *out = NULL;

    unsigned major, minor, patch;
    if (rk_rs_env_init(&e, RK_UCL_RSPAMD_VARS | (opts->skip_template ? 0 : RK_UCL_TEMPLATES),
                       opts->version, opts->vars, opts->n_vars, err))
        return -1;
    rk_rs_version_parse(opts->version, &major, &minor, &patch);
    e.env.rspamd_macros = 1;
    e.env.keep_comments = opts->keep_comments;
    if (!path) {
        /* rspamadm: --var CONFDIR moves the default file, nothing else does */
        const char *confdir = kv_get(e.vars, e.n_vars, "CONFDIR");
        snprintf(defpath, sizeof defpath, "%s/rspamd.conf", confdir ? confdir : RS_CONFDIR);
        path = defpath;
    }
    if (rk_rs_read_file(path, &buf, &len, err)) {
        rk_rs_env_clear(&e);
        return -1;
    }
    if (len == 0) { /* Rspamd mmaps the file, which fails for an empty one */
        free(buf);
        rk_rs_env_clear(&e);
        return rk_fail(err, RK_ERR_INPUT, "cannot mmap %s: Invalid argument", path);
    }
    rk_error_clear(&perr);
    int rc = rk_ucl_parse_env(buf, len, realpath(path, real) ? real : path, &e.env, out, &perr);
    free(buf);
    rk_rs_env_clear(&e);
    if (rc)
        return rk_fail(err, perr.code, "ucl parser error: %s", perr.msg);
    if ((*out)->type != RK_UCL_OBJECT) { /* Rspamd's rcl stage refuses it */
        rk_ucl_free(*out);
        *out = NULL;
        return rk_fail(err, RK_ERR_INPUT, "rcl parse error: top configuration must be an object");
    }
    /* Rspamd 3.10 rewrote the transform to edit the tree in place */
    int inplace = major > 3 || (major == 3 && minor >= 10);
    /* 3.14.3 added fuzzy_check's max_score -> hits_limit rename */
    int hits_limit = major * 10000 + minor * 100 + patch >= 31403;
    if (!opts->no_transform &&
        (rk_rs_transform(*out, inplace, err) || (hits_limit && rk_rs_hits_limit(*out, err)))) {
        rk_ucl_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
