/* libFuzzer harness for the UCL parser, the Jinja stage, the emitters and
 * Rspamd's Lua transform emulation. Build and run with tests/fuzz/run.
 *
 * Each input is parsed as if it were $ROOT/input.conf with Rspamd's
 * variables and templates on; includes and .load may read the small tree
 * in tests/fuzz/root and nothing else (RK_FUZZ_ROOT). Every successful
 * parse is printed in all three formats, converted to JSON, looked up by
 * path, transformed and printed again; comments are kept and printed. */
#include "rspamd/rspamd.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rk_rs_env env;
static char root[PATH_MAX], input[PATH_MAX + 16];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *r = getenv("RK_FUZZ_ROOT");
    if (!r || !realpath(r, root)) {
        fprintf(stderr, "fuzz_ucl: set RK_FUZZ_ROOT to tests/fuzz/root\n");
        exit(2);
    }
    snprintf(input, sizeof input, "%s/input.conf", root);
    static char confdir_s[PATH_MAX + 16], local_s[PATH_MAX + 32];
    snprintf(confdir_s, sizeof confdir_s, "CONFDIR=%s", root);
    snprintf(local_s, sizeof local_s, "LOCAL_CONFDIR=%s", root);
    const char *vars[] = {confdir_s, local_s, "X=1"};
    rk_error err;
    if (rk_rs_env_init(&env, RK_UCL_RSPAMD_VARS | RK_UCL_TEMPLATES, NULL, vars, 3, &err)) {
        fprintf(stderr, "fuzz_ucl: %s\n", err.msg);
        exit(2);
    }
    env.env.rspamd_macros = 1;
    env.env.include_root = root;
    env.env.keep_comments = 1;
    return 0;
}

static void emit_all(const rk_ucl *u)
{
    static const rk_ucl_format fmts[] = {RK_UCL_FMT_CONFIG, RK_UCL_FMT_JSON, RK_UCL_FMT_COMPACT};
    for (size_t i = 0; i < 3; i++) {
        size_t len = 0;
        char *s = rk_ucl_emit_ex(u, fmts[i], i == 0 ? RK_UCL_EMIT_COMMENTS : 0, &len);
        if (s && strlen(s) > len)
            abort(); /* the length must cover the text */
        free(s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rk_ucl *u = NULL;
    rk_error err;
    if (size > 65536)
        return 0;
    if (rk_ucl_parse_env(data, size, input, &env.env, &u, &err) != 0)
        return 0;
    emit_all(u);
    json_t *j = rk_ucl_to_json(u);
    json_decref(j);
    static const char *const paths[] = {"a", "a.b", "options.dns", "group", "0", "a.0.b", "..x.."};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        const rk_ucl *o = rk_ucl_lookup_path(u, paths[i]);
        for (; o; o = rk_ucl_next(o))
            emit_all(o);
    }
    if (rk_rs_transform(u, 0, &err) == 0) {
        emit_all(u);
        rk_ucl *g = rk_rspamd_groups(u), *s = rk_rspamd_symbols(u);
        if (g)
            emit_all(g);
        if (s)
            emit_all(s);
        rk_ucl_free(g);
        rk_ucl_free(s);
        rk_rspamd_modules m;
        if (rk_rspamd_modules_state(u, &m, &err) == 0)
            rk_rspamd_modules_clear(&m);
    }
    rk_ucl_free(u);
    return 0;
}
