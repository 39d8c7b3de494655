/* What rspamadm configdump adds on top of UCL: Rspamd's variables, Jinja,
 * the configuration transforms and module state. Private to librspamkit and
 * rspamkit-configdump (which links the internal library); not exported. */
#ifndef RK_RSPAMD_H
#define RK_RSPAMD_H

#include "ucl/ucl.h"

/*
 * Rspamd configuration as `rspamadm configdump` sees it: the UCL tree after
 * the transformations Rspamd's Lua code applies to it when the tree has a
 * top-level `metric` or several `group` blocks (see rspamkit-configdump(1)).
 */
typedef struct rk_rspamd_opts {
    const char *config;        /* NULL: $CONFDIR/rspamd.conf */
    const char *version;       /* Rspamd version to behave as; NULL: 3.4 */
    const char *const *vars;   /* "NAME=VALUE" (--var) */
    size_t n_vars;
    int skip_template;         /* -T: no Jinja stage */
    int no_transform;          /* dump the tree exactly as parsed */
    int keep_comments;         /* -s: keep comments (RK_UCL_KEEP_COMMENTS) */
} rk_rspamd_opts;

int rk_rspamd_config_load(const rk_rspamd_opts *opts, rk_ucl **out, rk_error *err);

/* Module states worked out from the files (configdump -m). Each list is a
 * NULL-terminated array of names; free with rk_rspamd_modules_clear. */
typedef struct rk_rspamd_modules {
    char **enabled, **disabled_explicitly, **disabled_unconfigured,
         **disabled_redis, **disabled_experimental, **disabled_failed;
} rk_rspamd_modules;

int rk_rspamd_modules_state(const rk_ucl *cfg, rk_rspamd_modules *out, rk_error *err);
void rk_rspamd_modules_clear(rk_rspamd_modules *m);
/* configdump -g and -d: new trees owned by the caller, NULL on ENOMEM. */
rk_ucl *rk_rspamd_groups(const rk_ucl *cfg);
rk_ucl *rk_rspamd_symbols(const rk_ucl *cfg);

#endif
