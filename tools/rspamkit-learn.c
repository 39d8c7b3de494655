/* rspamkit-learn: train Rspamd's Bayes classifier in bulk, with honest outcomes. */
#include "config.h"
#include "common.h"
#include "inputs.h"
#include "render.h"
#include "transport_opts.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------ options */

static struct {
    int spam, ham, json, compact, ucl, headers, quiet, verbose, max_requests, raw, version;
    int progress, no_progress;
    char *cls, *classifier, *files_from;
    char **exclude;
} o = {.max_requests = 8};

static struct poptOption learn_table[] = {
    {"spam", 0, POPT_ARG_NONE, &o.spam, 0, "Learn the messages as spam (rspamc learn_spam)", NULL},
    {"ham", 0, POPT_ARG_NONE, &o.ham, 0, "Learn the messages as ham (rspamc learn_ham)", NULL},
    {"class", 0, POPT_ARG_STRING, &o.cls, 0,
     "Learn the messages as class NAME (Rspamd 3.13 and later)", "NAME"},
    {"classifier", 'c', POPT_ARG_STRING, &o.classifier, 0,
     "Bayes classifier to train (Classifier header)", "NAME"},
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
     "Print only inputs that were not learned, and no summary", NULL},
    {"verbose", 'v', POPT_ARG_NONE, &o.verbose, 0, "Print the summary even for one input", NULL},
    {"progress", 0, POPT_ARG_NONE, &o.progress, 0,
     "Show the progress line even when stderr is not a terminal", NULL},
    {"no-progress", 0, POPT_ARG_NONE, &o.no_progress, 0, "Never show the progress line", NULL},
    {"raw", 0, POPT_ARG_NONE, &o.raw, 0, "Inputs are not mail: send them anyway (Raw: yes)", NULL},
    {"version", 0, POPT_ARG_NONE, &o.version, 0, "Print the version and exit", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_msg_table, 0, "Message options:", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_conn_table, 0, "Connection options:", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_transport_table, 0, "Transport options:", NULL},
    POPT_AUTOHELP POPT_TABLEEND};

/* ------------------------------------------------------------ output */

static struct {
    int compat;            /* invoked with an rspamc word: rspamc's output */
    const char *cls_name;  /* class for messages: "spam", "ham" or the --class name */
    rk_ctl_op op;
    tk_outfmt fmt;
} st;

static const char *outcome_word(rk_ctl_outcome oc)
{
    static const char *const n[] = {"learned", "already_learned", "skipped", "failed"};
    return n[oc];
}

static void render(FILE *f, char **errline, const char *label, const rk_response *resp,
                   const rk_ctl_reply *r)
{
    rk_ctl_outcome oc = r->outcome;
    const rk_error *why = &r->why;
    if (st.compat) {
        /* rspamc: any 2xx reply is dumped (UCL in text mode: rspamc has no
         * text renderer for learn replies); errors go to stderr. */
        if (oc != RK_CTL_FAILED) {
            tk_ctl_dump(f, st.fmt, o.headers, "file", label, label, resp, r->doc);
            if (oc == RK_CTL_SKIPPED)
                *errline = tk_line(label, "not learned, skipped by the server: ", why->msg);
        } else {
            tk_ctl_error(f, errline, st.fmt, "file", label, resp, why->msg);
        }
    } else if (o.json) {
        char *js = rk_ctl_reply_json(r, label, outcome_word(oc), st.cls_name, 0);
        if (js) {
            fprintf(f, "%s\n", js);
            free(js);
        }
        if (oc == RK_CTL_FAILED)
            *errline = tk_line(label, "", why->msg);
    } else {
        switch (oc) {
        case RK_CTL_DONE:
            if (!o.quiet)
                fprintf(f, "%s: learned as %s\n", label, st.cls_name);
            break;
        case RK_CTL_ALREADY:
            if (!o.quiet)
                fprintf(f, "%s: already learned (%s)\n", label, why->msg);
            break;
        case RK_CTL_SKIPPED:
            fprintf(f, "%s: skipped by the server: %s\n", label, why->msg);
            break;
        case RK_CTL_FAILED:
            *errline = tk_line(label, "", why->msg);
            break;
        }
    }
}

/* ------------------------------------------------------------ main */

static void print_summary(const tk_bulk *b, double secs)
{
    char dur[32];
    tk_format_duration(dur, sizeof dur, secs);
    fprintf(stderr,
            "Summary: %zu learned, %zu already learned, %zu skipped by the server, %zu failed; "
            "%zu input%s in %s (%.1f/s)\n",
            b->count[RK_CTL_DONE], b->count[RK_CTL_ALREADY], b->count[RK_CTL_SKIPPED],
            b->count[RK_CTL_FAILED], b->n_inputs, b->n_inputs == 1 ? "" : "s", dur,
            secs > 0 ? (double)b->n_inputs / secs : 0.0);
}

int main(int argc, char **argv)
{
    tk_prog = "rspamkit-learn";
    signal(SIGPIPE, SIG_IGN);
    tk_password_argv(argc, argv, "learn");
    poptContext pc = poptGetContext("rspamkit-learn", argc, (const char **)argv, learn_table, 0);
    poptSetOtherOptionHelp(pc, "[OPTION...] --spam|--ham|--class NAME [FILE|DIR...]\n"
                               "       rspamkit-learn [OPTION...] learn_spam|learn_ham [FILE|DIR...]");
    const char **rest = NULL;
    size_t n_rest = 0;
    int parsed = tk_parse_args(pc, &o.version, &rest, &n_rest);
    tk_password_hide(argc, argv);
    if (parsed >= 0) {
        poptFreeContext(pc);
        return parsed;
    }

    /* The class: one of --spam, --ham, --class, or an rspamc word first. */
    int n_cls = !!o.spam + !!o.ham + !!o.cls;
    if (n_rest && (strcasecmp(rest[0], "learn_spam") == 0 || strcasecmp(rest[0], "learn_ham") == 0 ||
                   strncasecmp(rest[0], "learn_class:", 12) == 0)) {
        st.compat = 1;
        n_cls++;
        if (strcasecmp(rest[0], "learn_spam") == 0)
            o.spam = 1;
        else if (strcasecmp(rest[0], "learn_ham") == 0)
            o.ham = 1;
        else
            o.cls = (char *)rest[0] + 12;
        rest++;
        n_rest--;
    }
    if (n_cls == 0)
        return tk_usage_error(pc, "say what to learn: --spam, --ham or --class NAME "
                               "(or the rspamc words learn_spam, learn_ham)");
    if (n_cls > 1)
        return tk_usage_error(pc, "give only one of --spam, --ham, --class NAME, learn_spam, learn_ham");
    if (o.cls && !*o.cls)
        return tk_usage_error(pc, "--class needs a class name");
    if (o.max_requests < 1)
        return tk_usage_error(pc, "-n/--max-requests must be at least 1");
    /* Rspamd 3.4's controller answers a learn request without a body with
     * "400 Empty body is not permitted", and its worker crashes (SIGSEGV, no
     * reply) when the File it is given cannot be read: no safe fallback. */
    if (tk_transport_opts.local_file)
        return tk_usage_error(pc, "--local-file is not supported for learning: Rspamd's controller "
                               "refuses a request without a body, and crashes on a File it cannot "
                               "read");
    if ((o.compact || o.ucl || o.headers) && !st.compat)
        return tk_usage_error(pc, "--compact, --ucl and --headers go with the rspamc words "
                               "learn_spam/learn_ham; use --json");
    st.op = o.spam ? RK_LEARN_SPAM : o.ham ? RK_LEARN_HAM : RK_LEARN_CLASS;
    st.cls_name = o.spam ? "spam" : o.ham ? "ham" : o.cls;

    tk_color_init();
    st.fmt = o.compact ? TK_OUT_COMPACT : o.json ? TK_OUT_JSON : o.ucl ? TK_OUT_UCL : TK_OUT_TEXT;
    size_t n_excl = 0;
    while (o.exclude && o.exclude[n_excl])
        n_excl++;

    rk_msg_opts mo = {.classifier = o.classifier, .raw = o.raw};
    tk_msg_fill(&mo);
    int code = 0;
    rk_error err;
    rk_error_clear(&err);
    rk_client *client = NULL;
    rk_headers base = {0};
    tk_walker *walker = NULL;
    rk_ctl_args ca = {.cls = o.cls};
    if (rk_msg_opts_headers(&mo, &base, &err) || rk_ctl_headers(st.op, &ca, &base, &err)) {
        tk_err("%s", err.msg[0] ? err.msg : "out of memory");
        code = err.code ? tk_exit_for(&err) : TK_EX_SOFTWARE;
        goto out;
    }
    client = tk_client(RK_CONTROLLER_PORT, &code);
    if (!client)
        goto out;
    tk_walk_opts wo = {
        .args = (char **)rest, .n_args = n_rest, .files_from = o.files_from,
        .exclude = (const char *const *)o.exclude, .n_exclude = n_excl, .raw = o.raw,
        .split_mbox = 1,
    };
    tk_bulk b = {
        .op = st.op, .base = &base, .max_requests = o.max_requests,
        .done_word = "learned", .render = render,
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
    code = tk_flush_stdout(code);
out:
    tk_walker_free(walker);
    rk_client_free(client);
    rk_headers_clear(&base);
    poptFreeContext(pc);
    return code;
}
