/* rspamkit-fuzzy: add message hashes to Rspamd's fuzzy storage, or delete them. */
#include "config.h"
#include "common.h"
#include "inputs.h"
#include "render.h"
#include "transport_opts.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------ options */

static struct {
    int flag, weight, skip_images, skip_attachments, json, compact, ucl, headers, quiet, verbose;
    int max_requests, raw, version, progress, no_progress;
    char *symbol, *files_from;
    char **exclude;
} o = {.max_requests = 8};

static struct poptOption fuzzy_table[] = {
    {"flag", 'f', POPT_ARG_INT, &o.flag, 0, "Fuzzy list flag, as in the fuzzy_check rule's fuzzy_map",
     "N"},
    {"fuzzy-symbol", 'S', POPT_ARG_STRING, &o.symbol, 0,
     "Fuzzy list by its symbol instead of its flag (Symbol header)", "SYMBOL"},
    {"weight", 'w', POPT_ARG_INT, &o.weight, 0, "Weight of the added hashes (server default 1)",
     "N"},
    {"skip-images", 0, POPT_ARG_NONE, &o.skip_images, 0, "Do not hash images", NULL},
    {"skip-attachments", 0, POPT_ARG_NONE, &o.skip_attachments, 0, "Do not hash attachments",
     NULL},
    {"max-requests", 'n', POPT_ARG_INT, &o.max_requests, 0, "Requests in flight (default 8)", "N"},
    {"files-from", 0, POPT_ARG_STRING, &o.files_from, 0, "Read input paths from FILE (- = stdin)",
     "FILE"},
    {"files-list", 0, POPT_ARG_STRING, &o.files_from, 0, "Same as --files-from (rspamc 4.1's name)",
     "FILE"},
    {"exclude", 0, POPT_ARG_ARGV, &o.exclude, 0,
     "Skip directory entries matching GLOB (repeatable)", "GLOB"},
    {"json", 'j', POPT_ARG_NONE, &o.json, 0, "JSON output, one value per input", NULL},
    {"compact", 0, POPT_ARG_NONE, &o.compact, 0, "Compact JSON output (rspamc words)", NULL},
    {"ucl", 0, POPT_ARG_NONE, &o.ucl, 0, "UCL output (rspamc words)", NULL},
    {"headers", 0, POPT_ARG_NONE, &o.headers, 0, "Print the reply's HTTP headers (rspamc words)",
     NULL},
    {"quiet", 'q', POPT_ARG_NONE, &o.quiet, 0,
     "Print only inputs that were skipped or failed, and no summary", NULL},
    {"verbose", 'v', POPT_ARG_NONE, &o.verbose, 0,
     "Print the hashes, and the summary even for one input", NULL},
    {"progress", 0, POPT_ARG_NONE, &o.progress, 0,
     "Show the progress line even when stderr is not a terminal", NULL},
    {"no-progress", 0, POPT_ARG_NONE, &o.no_progress, 0, "Never show the progress line", NULL},
    {"raw", 0, POPT_ARG_NONE, &o.raw, 0, "Inputs are not mail: send them anyway (Raw: yes)", NULL},
    {"version", 0, POPT_ARG_NONE, &o.version, 0, "Print the version and exit", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_req_table, 0, "Request options:", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_conn_table, 0, "Connection options:", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_transport_table, 0, "Transport options:", NULL},
    POPT_AUTOHELP POPT_TABLEEND};

/* ------------------------------------------------------------ output */

static struct {
    int compat;        /* invoked with an rspamc word: rspamc's output */
    int del;           /* del / delhash */
    tk_outfmt fmt;
} st;

static const char *done_word(void) { return st.del ? "deleted" : "added"; }

/* Native --json: one object per input (label NULL for delhash). */
static void native_json(FILE *f, const char *label, const rk_ctl_reply *r)
{
    char *js = rk_ctl_reply_json(r, label, r->outcome == RK_CTL_DONE      ? done_word()
                                           : r->outcome == RK_CTL_SKIPPED ? "skipped"
                                                                          : "failed",
                                 NULL, 1);
    if (js) {
        fprintf(f, "%s\n", js);
        free(js);
    }
}

static void render(FILE *f, char **errline, const char *label, const rk_response *resp,
                   const rk_ctl_reply *r)
{
    rk_ctl_outcome oc = r->outcome;
    const rk_error *why = &r->why;
    if (st.compat) {
        if (oc != RK_CTL_FAILED) {
            tk_ctl_dump(f, st.fmt, o.headers, "file", label, label, resp, r->doc);
            if (oc == RK_CTL_SKIPPED)
                *errline = tk_line(label, "nothing stored, skipped by the server: ", why->msg);
        } else {
            tk_ctl_error(f, errline, st.fmt, "file", label, resp, why->msg);
        }
        return;
    }
    if (o.json) {
        native_json(f, label, r);
        if (oc == RK_CTL_FAILED)
            *errline = tk_line(label, "", why->msg);
        return;
    }
    size_t nh = r->n_hashes;
    switch (oc) {
    case RK_CTL_DONE:
    case RK_CTL_ALREADY:
        if (!o.quiet) {
            fprintf(f, "%s: %s (%zu hash%s)\n", label, done_word(), nh, nh == 1 ? "" : "es");
            for (size_t i = 0; o.verbose && i < nh; i++)
                fprintf(f, "  %s\n", r->hashes[i]);
        }
        break;
    case RK_CTL_SKIPPED:
        fprintf(f, "%s: skipped by the server: %s\n", label, why->msg);
        break;
    case RK_CTL_FAILED:
        *errline = tk_line(label, "", why->msg);
        break;
    }
}

/* ------------------------------------------------------------ delhash */

/* Hashes from the arguments, or whitespace-separated from stdin for "-". */
static int collect_hashes(const char **args, size_t n, char ***out, size_t *n_out)
{
    size_t cap = 16, k = 0;
    char **v = malloc(cap * sizeof *v);
    int bad = 0;
    if (!v)
        return TK_EX_SOFTWARE;
    for (size_t i = 0; i < n; i++) {
        char word[512];
        FILE *in = strcmp(args[i], "-") == 0 ? stdin : NULL;
        const char *one = in ? NULL : args[i];
        for (;;) {
            if (in) {
                if (fscanf(in, "%511s", word) != 1)
                    break;
                one = word;
            }
            if (!rk_fuzzy_hash_valid(one)) {
                tk_err("'%.140s' is not a fuzzy hash (%d hex digits, as fuzzy add prints them)",
                       one, RK_FUZZY_HASH_HEX);
                bad = 1;
            } else {
                if (k == cap) {
                    char **nv = realloc(v, (cap *= 2) * sizeof *v);
                    if (!nv)
                        return TK_EX_SOFTWARE;
                    v = nv;
                }
                v[k] = strdup(one);
                for (char *p = v[k]; p && *p; p++)
                    *p = (char)tolower((unsigned char)*p);
                k++;
            }
            if (!in)
                break;
        }
    }
    *out = v;
    *n_out = k;
    if (bad)
        return TK_EX_USAGE;
    if (!k) {
        tk_err("delhash needs at least one hash");
        return TK_EX_USAGE;
    }
    return 0;
}

static int run_delhash(rk_client *client, rk_headers *base, const char **args, size_t n)
{
    char **hashes = NULL;
    size_t nh = 0;
    int code = collect_hashes(args, n, &hashes, &nh);
    if (code)
        goto done;
    rk_ctl_args ca = {.filename = "hashes", .hashes = (const char *const *)hashes, .n_hashes = nh};
    rk_request req = {.headers = base};
    rk_response resp;
    rk_error err;
    rk_ctl_reply r;
    memset(&resp, 0, sizeof resp);
    rk_error_clear(&err);
    if (rk_ctl_headers(RK_FUZZY_DELHASH, &ca, base, &err)) {
        tk_err("%s", err.msg);
        code = tk_exit_for(&err);
        goto done;
    }
    rk_ctl_request(RK_FUZZY_DELHASH, &req);
    rk_client_request(client, &req, &resp, &err);
    rk_ctl_outcome oc = rk_ctl_classify(RK_FUZZY_DELHASH, &resp, &err, &r);
    if (st.compat) {
        if (oc != RK_CTL_FAILED)
            tk_ctl_dump(stdout, st.fmt, o.headers, "command", "fuzzy_delhash", NULL, &resp, r.doc);
        else if (st.fmt != TK_OUT_TEXT && st.fmt != TK_OUT_UCL)
            tk_dump_error(stdout, st.fmt, "hashes", r.why.msg);
    } else if (o.json) {
        native_json(stdout, NULL, &r);
    } else if (oc == RK_CTL_DONE && !o.quiet) {
        for (size_t i = 0; i < r.n_hashes; i++)
            printf("%s: deleted\n", r.hashes[i]);
    }
    if (oc == RK_CTL_FAILED)
        tk_err("%s", r.why.msg);
    else if (oc == RK_CTL_SKIPPED)
        tk_err("nothing deleted, skipped by the server: %s", r.why.msg);
    else if (r.n_hashes < nh)
        tk_err("the server deleted %zu of %zu hashes", r.n_hashes, nh);
    code = oc == RK_CTL_FAILED    ? tk_exit_for(&r.why)
           : oc == RK_CTL_SKIPPED ? TK_EX_SKIPPED
                                  : TK_EX_OK;
    rk_ctl_reply_clear(&r);
    rk_response_clear(&resp);
done:
    for (size_t i = 0; i < nh; i++)
        free(hashes[i]);
    free(hashes);
    return code;
}

/* ------------------------------------------------------------ main */

static void print_summary(const tk_bulk *b, double secs)
{
    char dur[32];
    tk_format_duration(dur, sizeof dur, secs);
    fprintf(stderr, "Summary: %zu %s, %zu skipped by the server, %zu failed; %zu input%s in %s (%.1f/s)\n",
            b->count[RK_CTL_DONE] + b->count[RK_CTL_ALREADY], done_word(),
            b->count[RK_CTL_SKIPPED], b->count[RK_CTL_FAILED], b->n_inputs,
            b->n_inputs == 1 ? "" : "s", dur, secs > 0 ? (double)b->n_inputs / secs : 0.0);
}

int main(int argc, char **argv)
{
    tk_prog = "rspamkit-fuzzy";
    signal(SIGPIPE, SIG_IGN);
    tk_password_argv(argc, argv, "fuzzy");
    poptContext pc = poptGetContext("rspamkit-fuzzy", argc, (const char **)argv, fuzzy_table, 0);
    poptSetOtherOptionHelp(pc, "[OPTION...] add|del [FILE|DIR...]\n"
                               "       rspamkit-fuzzy [OPTION...] delhash HASH...\n"
                               "       (also rspamc's fuzzy_add, fuzzy_del, fuzzy_delhash)");
    const char **rest = NULL;
    size_t n_rest = 0;
    int parsed = tk_parse_args(pc, &o.version, &rest, &n_rest);
    tk_password_hide(argc, argv);
    if (parsed >= 0) {
        poptFreeContext(pc);
        return parsed;
    }
    if (!n_rest)
        return tk_usage_error(pc, "say what to do: add, del or delhash (or fuzzy_add, fuzzy_del, "
                               "fuzzy_delhash)");
    const char *cmd = rest[0];
    if (strncasecmp(cmd, "fuzzy_", 6) == 0) {
        st.compat = 1;
        cmd += 6;
    }
    int delhash = strcasecmp(cmd, "delhash") == 0;
    st.del = delhash || strcasecmp(cmd, "del") == 0;
    if (!delhash && !st.del && strcasecmp(cmd, "add") != 0) {
        tk_err("unknown command '%s': use add, del or delhash", rest[0]);
        poptFreeContext(pc);
        return TK_EX_USAGE;
    }
    rest++;
    n_rest--;
    if (!o.flag && !o.symbol)
        return tk_usage_error(pc, "say which fuzzy list: -f FLAG or -S SYMBOL (the server refuses "
                               "a request without one: \"Unknown or missing flag\")");
    if (o.max_requests < 1)
        return tk_usage_error(pc, "-n/--max-requests must be at least 1");
    /* Rspamd 3.4's controller answers fuzzy_add and fuzzy_del without a body
     * with "400 Empty body is not permitted", and with a body it ignores File
     * and hashes the body: --local-file cannot work. */
    if (tk_transport_opts.local_file)
        return tk_usage_error(pc, "--local-file is not supported for fuzzy hashes: Rspamd's "
                               "controller ignores the File header and hashes only the request "
                               "body");
    if ((o.compact || o.ucl || o.headers) && !st.compat)
        return tk_usage_error(pc, "--compact, --ucl and --headers go with the rspamc words "
                               "fuzzy_add, fuzzy_del, fuzzy_delhash; use --json");
    if (delhash && (o.files_from || o.exclude))
        return tk_usage_error(pc, "delhash takes hashes, not files: --files-from and --exclude "
                               "do not apply");

    tk_color_init();
    st.fmt = o.compact ? TK_OUT_COMPACT : o.json ? TK_OUT_JSON : o.ucl ? TK_OUT_UCL : TK_OUT_TEXT;
    size_t n_excl = 0;
    while (o.exclude && o.exclude[n_excl])
        n_excl++;

    rk_msg_opts mo = {
        .fuzzy_symbol = o.symbol, .flag = o.flag, .weight = st.del ? 0 : o.weight, .raw = o.raw,
        .skip_images = o.skip_images, .skip_attachments = o.skip_attachments,
    };
    tk_msg_fill(&mo);
    int code = 0;
    rk_error err;
    rk_error_clear(&err);
    rk_client *client = NULL;
    rk_headers base = {0};
    tk_walker *walker = NULL;
    if (rk_msg_opts_headers(&mo, &base, &err)) {
        tk_err("%s", err.msg);
        code = tk_exit_for(&err);
        goto out;
    }
    if (delhash) {
        /* Check the hashes before asking for a password. */
        char **hs = NULL;
        size_t nh = 0;
        int c = n_rest == 1 && strcmp(rest[0], "-") == 0 ? 0 : collect_hashes(rest, n_rest, &hs, &nh);
        for (size_t i = 0; i < nh; i++)
            free(hs[i]);
        free(hs);
        if (c) {
            code = c;
            goto out;
        }
    }
    client = tk_client(RK_CONTROLLER_PORT, &code);
    if (!client)
        goto out;
    if (delhash) {
        code = run_delhash(client, &base, rest, n_rest);
        goto flush;
    }
    tk_walk_opts wo = {
        .args = (char **)rest, .n_args = n_rest, .files_from = o.files_from,
        .exclude = (const char *const *)o.exclude, .n_exclude = n_excl, .raw = o.raw,
        .split_mbox = 1,
    };
    tk_bulk b = {
        .op = st.del ? RK_FUZZY_DEL : RK_FUZZY_ADD, .base = &base,
        .max_requests = o.max_requests, .done_word = done_word(), .render = render,
    };
    tk_progress_start(&b.prog, o.progress, o.no_progress, &wo);
    walker = b.walker = tk_walker_new(&wo);
    if (!walker) {
        code = TK_EX_SOFTWARE;
        goto out;
    }
    code = tk_bulk_run(client, &b);
    double secs = tk_progress_elapsed(&b.prog);
    int tty = isatty(STDERR_FILENO);
    if (!o.quiet && (o.verbose || (b.n_inputs > 1 && (tty || (!st.compat && !o.json)))))
        print_summary(&b, secs);
    if (!code)
        code = tk_bulk_exit_code(&b, st.compat);
flush:
    code = tk_flush_stdout(code);
out:
    tk_walker_free(walker);
    rk_client_free(client);
    rk_headers_clear(&base);
    poptFreeContext(pc);
    return code;
}
