/* rspamkit-configdump: parse an Rspamd configuration tree and print the
 * merged result the way `rspamadm configdump` does. */
#include "config.h"
#include "common.h"
#include "rspamd/rspamd.h" /* private: this tool links the internal library */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EX_LOAD = 1 }; /* the configuration cannot be read: rspamadm's status */

static struct {
    int json, compact, skip_template, modules, groups, details, raw, version, comments;
    char *config, *rspamd_version;
    const char **vars;
    size_t n_vars;
} opt;

static int reported; /* an error other than a write error was printed */

static void failed(const char *what)
{
    tk_err("%s", what);
    reported = 1;
}

static void free_vars(void)
{
    for (size_t i = 0; i < opt.n_vars; i++)
        free((void *)opt.vars[i]);
    free(opt.vars);
}

static int add_var(const char *arg)
{
    const char **v = realloc(opt.vars, (opt.n_vars + 1) * sizeof *v);
    if (!v)
        return -1;
    opt.vars = v;
    opt.vars[opt.n_vars++] = arg;
    return 0;
}

static int write_all(const char *s, size_t len)
{
    if (len && fwrite(s, 1, len, stdout) != len)
        return -1;
    return 0;
}

static int dump(const rk_ucl *u, rk_ucl_format fmt)
{
    size_t len;
    char *s = rk_ucl_emit_ex(u, fmt, opt.comments ? RK_UCL_EMIT_COMMENTS : 0, &len);
    if (!s) {
        failed("out of memory");
        return -1;
    }
    int rc = write_all(s, len);
    free(s);
    return rc;
}

static int print_list(const char *what, char **names)
{
    printf("Modules %s: ", what);
    for (size_t i = 0; names && names[i]; i++)
        printf("%s%s", i ? ", " : "", names[i]);
    return putchar('\n') == EOF ? -1 : 0;
}

static int modules_state(const rk_ucl *cfg)
{
    rk_rspamd_modules m;
    rk_error err;
    rk_error_clear(&err);
    if (rk_rspamd_modules_state(cfg, &m, &err)) {
        failed(err.msg);
        return -1;
    }
    /* one statement per line: the operands of | have no evaluation order */
    int rc = print_list("enabled", m.enabled);
    rc |= print_list("disabled (explicitly)", m.disabled_explicitly);
    rc |= print_list("disabled (unconfigured)", m.disabled_unconfigured);
    rc |= print_list("disabled (no Redis)", m.disabled_redis);
    rc |= print_list("disabled (experimental)", m.disabled_experimental);
    rc |= print_list("disabled (failed)", m.disabled_failed);
    rk_rspamd_modules_clear(&m);
    return rc;
}

static int dump_built(rk_ucl *u, rk_ucl_format fmt)
{
    if (!u) {
        failed("out of memory");
        return -1;
    }
    int rc = dump(u, fmt);
    rk_ucl_free(u);
    return rc;
}

int main(int argc, char **argv)
{
    tk_prog = "rspamkit-configdump";
    struct poptOption table[] = {
        {"config", 'c', POPT_ARG_STRING, &opt.config, 0,
         "Configuration file (default: $CONFDIR/rspamd.conf)", "FILE"},
        {"json", 'j', POPT_ARG_NONE, &opt.json, 0, "Pretty JSON output (wins over -C)", NULL},
        {"compact", 'C', POPT_ARG_NONE, &opt.compact, 0, "Compact JSON output", NULL},
        {"var", 0, POPT_ARG_STRING, NULL, 'v',
         "Set a UCL variable, e.g. CONFDIR=/srv/rspamd (repeatable)", "NAME=VALUE"},
        {"rspamd-version", 0, POPT_ARG_STRING, &opt.rspamd_version, 0,
         "Read the files as this Rspamd version does (default " RK_RSPAMD_VERSION ")", "VERSION"},
        {"skip-template", 'T', POPT_ARG_NONE, &opt.skip_template, 0,
         "Do not run the Jinja stage over the files", NULL},
        {"show-comments", 's', POPT_ARG_NONE, &opt.comments, 0,
         "Show the comments of the files (UCL output only)", NULL},
        {"modules-state", 'm', POPT_ARG_NONE, &opt.modules, 0,
         "Show the state of modules worked out from the files", NULL},
        {"groups", 'g', POPT_ARG_NONE, &opt.groups, 0, "Show symbol groups only", NULL},
        {"symbol-details", 'd', POPT_ARG_NONE, &opt.details, 0, "Show symbols with their details only",
         NULL},
        {"no-transform", 0, POPT_ARG_NONE, &opt.raw, 0,
         "Print the tree exactly as parsed, without Rspamd's Lua transformations", NULL},
        {"version", 0, POPT_ARG_NONE, &opt.version, 0, "Print the version and exit", NULL},
        POPT_AUTOHELP POPT_TABLEEND};

    poptContext pc = poptGetContext(tk_prog, argc, (const char **)argv, table, 0);
    poptSetOtherOptionHelp(pc, "[OPTION...] [PATH...]");
    int rc;
    while ((rc = poptGetNextOpt(pc)) > 0) {
        if (rc == 'v') {
            const char *a = poptGetOptArg(pc);
            if (!a || !strchr(a, '=') || a[0] == '=') {
                tk_err("--var: expected NAME=VALUE, got '%s'", a ? a : "");
                free((void *)a);
                free_vars();
                poptFreeContext(pc);
                return TK_EX_USAGE;
            }
            if (add_var(a)) {
                tk_err("out of memory");
                free((void *)a);
                free_vars();
                poptFreeContext(pc);
                return TK_EX_SOFTWARE;
            }
        }
    }
    if (rc < -1) {
        int code = tk_popt_error(pc, rc);
        free_vars();
        poptFreeContext(pc);
        return code;
    }
    if (opt.version) {
        tk_print_version();
        free_vars();
        poptFreeContext(pc);
        return 0;
    }

    rk_rspamd_opts ro = {.config = opt.config,
                         .version = opt.rspamd_version,
                         .vars = opt.vars,
                         .n_vars = opt.n_vars,
                         .skip_template = opt.skip_template,
                         .no_transform = opt.raw,
                         .keep_comments = opt.comments};
    rk_ucl *cfg = NULL;
    rk_error err;
    rk_error_clear(&err);
    int status = 0;
    if (rk_rspamd_config_load(&ro, &cfg, &err)) {
        tk_err("failed to load config: %s", err.msg);
        status = err.code == RK_ERR_USAGE ? TK_EX_USAGE : EX_LOAD;
        goto out;
    }

    rk_ucl_format fmt = opt.json ? RK_UCL_FMT_JSON : opt.compact ? RK_UCL_FMT_COMPACT : RK_UCL_FMT_CONFIG;
    int werr = 0;
    if (opt.modules) {
        werr = modules_state(cfg);
    } else if (opt.details) {
        werr = dump_built(rk_rspamd_symbols(cfg), fmt);
    } else if (opt.groups) {
        werr = dump_built(rk_rspamd_groups(cfg), fmt);
    } else if (!poptPeekArg(pc)) {
        werr = dump(cfg, fmt);
    } else {
        const char *path;
        while (!werr && (path = poptGetArg(pc))) {
            const rk_ucl *o = rk_ucl_lookup_path(cfg, path);
            if (!o) {
                werr = printf("Section %s NOT FOUND\n", path) < 0;
                continue;
            }
            for (; o && !werr; o = rk_ucl_next(o)) {
                if (fmt == RK_UCL_FMT_CONFIG)
                    werr |= printf("*** Section %s ***\n", path) < 0;
                werr |= dump(o, fmt);
                if (fmt == RK_UCL_FMT_CONFIG)
                    werr |= printf("\n*** End of section %s ***\n", path) < 0;
                else
                    werr |= putchar('\n') == EOF;
            }
        }
    }
    if (fflush(stdout) || ferror(stdout) || werr) {
        if (reported) {
            status = TK_EX_SOFTWARE;
        } else {
            tk_err("cannot write the output: %s", errno ? strerror(errno) : "write error");
            status = TK_EX_IOERR;
        }
    }
out:
    rk_ucl_free(cfg);
    free_vars();
    poptFreeContext(pc);
    return status;
}
