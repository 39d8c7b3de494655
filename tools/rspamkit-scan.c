/* rspamkit-scan: scan messages with Rspamd, rspamc-compatible. */
#include "config.h"
#include "common.h"
#include "commands.h"
#include "inputs.h"
#include "render.h"
#include "lda.h"
#include "transport_opts.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------ options */

static struct {
    int verbose, json, compact, headers, raw, ucl, max_requests, ext_urls;
    int mime, empty, compressed, profile, skip_images, skip_attachments;
    int weight, flag, commands, unordered, check, tests, summary, version, progress, no_progress;
    int maildir_folders, human, protocol_v3, msgpack;
    char *key, *exec, *sort, *output_body;
    char **metadata_headers;
    char *dictionary, *classifier, *fuzzy_symbol;
    char *queue_id, *log_tag, *settings, *settings_id, *files_from;
    char **exclude;
} o = {.max_requests = 8};

static struct poptOption scan_table[] = {
    {"verbose", 'v', POPT_ARG_NONE, &o.verbose, 0, "More verbose messages on stderr", NULL},
    {"commands", 0, POPT_ARG_NONE, &o.commands, 0, "List the rspamc command words", NULL},
    {"json", 'j', POPT_ARG_NONE, &o.json, 0, "Pretty JSON output, one value per input", NULL},
    {"compact", 0, POPT_ARG_NONE, &o.compact, 0, "Compact JSON output, one line per input", NULL},
    {"headers", 0, POPT_ARG_NONE, &o.headers, 0, "Print the reply's HTTP headers", NULL},
    {"raw", 0, POPT_ARG_NONE, &o.raw, 0, "Input is not an email (Raw: yes); do not check it", NULL},
    {"ucl", 0, POPT_ARG_NONE, &o.ucl, 0, "UCL output", NULL},
    {"max-requests", 'n', POPT_ARG_INT, &o.max_requests, 0, "Requests in flight (default 8)", "N"},
    {"extended-urls", 0, POPT_ARG_NONE, &o.ext_urls, 0, "Output URLs in extended format", NULL},
    {"exec", 'e', POPT_ARG_STRING, &o.exec, 0,
     "Pipe each message (--mime) or result to CMD; no shell; --exec -- CMD ARG... takes the rest", "CMD"},
    {"mime", 'm', POPT_ARG_NONE, &o.mime, 0, "Write the message with X-Spam headers added", NULL},
    {"exclude", 0, POPT_ARG_ARGV, &o.exclude, 0, "Skip directory entries matching GLOB (repeatable)", "GLOB"},
    {"maildir-folders", 0, POPT_ARG_NONE, &o.maildir_folders, 0,
     "In a Maildir, scan its Maildir++ folders (.Junk, .Sent, ...) too", NULL},
    {"sort", 0, POPT_ARG_STRING, &o.sort, 0, "Sort symbols by name, score (add :asc to reverse)", "KEY"},
    {"empty", 'E', POPT_ARG_NONE, &o.empty, 0, "Send an empty request when no inputs are given", NULL},
    {"fuzzy-symbol", 'S', POPT_ARG_STRING, &o.fuzzy_symbol, 0, "Fuzzy symbol (Symbol header)", "SYMBOL"},
    {"profile", 0, POPT_ARG_NONE, &o.profile, 0, "Profile symbols execution time", NULL},
    {"skip-images", 0, POPT_ARG_NONE, &o.skip_images, 0, "Skip images (fuzzy)", NULL},
    {"skip-attachments", 0, POPT_ARG_NONE, &o.skip_attachments, 0, "Skip attachments (fuzzy)", NULL},
    {"classifier", 'c', POPT_ARG_STRING, &o.classifier, 0, "Classifier header", "NAME"},
    {"weight", 'w', POPT_ARG_INT, &o.weight, 0, "Weight header", "N"},
    {"flag", 'f', POPT_ARG_INT, &o.flag, 0, "Flag header", "N"},
    {"queue-id", 0, POPT_ARG_STRING, &o.queue_id, 0, "MTA queue id (Queue-Id header)", "ID"},
    {"log-tag", 0, POPT_ARG_STRING, &o.log_tag, 0, "Log tag (Log-Tag header)", "TAG"},
    {"settings", 0, POPT_ARG_STRING, &o.settings, 0, "Inline settings as JSON (Settings header)", "JSON"},
    {"settings-id", 0, POPT_ARG_STRING, &o.settings_id, 0, "Settings profile id (Settings-Id header)", "ID"},
    {"files-from", 0, POPT_ARG_STRING, &o.files_from, 0, "Read input paths from FILE (- = stdin)", "FILE"},
    {"files-list", 0, POPT_ARG_STRING, &o.files_from, 0, "Same as --files-from (rspamc 4.1's name)",
     "FILE"},
    {"human", 'R', POPT_ARG_NONE, &o.human, 0, "Human-readable report, as rspamc 4.1 -R", NULL},
    {"output-body", 0, POPT_ARG_STRING, &o.output_body, 0,
     "Save a message rewritten by the server to FILE instead of printing it", "FILE"},
    {"protocol-v3", 0, POPT_ARG_NONE, &o.protocol_v3, 0,
     "Scan with /checkv3, multipart request and reply (Rspamd 4.0 and later)", NULL},
    {"msgpack", 0, POPT_ARG_NONE, &o.msgpack, 0,
     "With --protocol-v3: metadata and result in msgpack", NULL},
    {"metadata-header", 0, POPT_ARG_ARGV, &o.metadata_headers, 0,
     "With --protocol-v3: field K of the metadata's headers (repeatable)", "K=V"},
    {"unordered", 0, POPT_ARG_NONE, &o.unordered, 0, "Print results as they complete", NULL},
    {"check", 0, POPT_ARG_NONE, &o.check, 0, "Print score/threshold only; exit 1 if spam", NULL},
    {"tests", 'y', POPT_ARG_NONE, &o.tests, 0, "Print symbol names only, comma-separated", NULL},
    {"summary", 0, POPT_ARG_NONE, &o.summary, 0, "Print counts per action and a score histogram", NULL},
    {"progress", 0, POPT_ARG_NONE, &o.progress, 0,
     "Show the progress line even when stderr is not a terminal", NULL},
    {"no-progress", 0, POPT_ARG_NONE, &o.no_progress, 0, "Never show the progress line", NULL},
    {"version", 0, POPT_ARG_NONE, &o.version, 0, "Print the version and exit", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_msg_table, 0, "Message options:", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, lda_table, 0, "LDA mode (--mime, --exec):", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_conn_table, 0, "Connection options:", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_transport_table, 0, "Transport options:", NULL},
    POPT_AUTOHELP POPT_TABLEEND};

/* neural_learn:CLASS, rspamc 4.1's word: a scan with ANN-Train: CLASS */
static char *neural_class;

/* ------------------------------------------------------------ state */

typedef struct job {
    size_t seq;
    tk_input in;
    rk_headers headers;
    unsigned char *v3_body; /* the /checkv3 request body */
} job;

static struct {
    rk_headers base;
    tk_walker *walker;
    tk_outfmt fmt;
    tk_order order;
    size_t n_ok, n_failed, n_spam, n_inputs;
    int first_fail_code;
    tk_progress prog;
    int cleared; /* the progress line was erased for an error line */
    const char *single;  /* --check: the one input given, whose line has no label */
    int learn_message;   /* neural_learn through the controller */
    lda_v3 v3;           /* --protocol-v3 */
    /* summary */
    struct action_count { char *name; size_t n; } *actions; /* in order of appearance */
    size_t n_actions;
    size_t hist[32];
    double min_score, max_score;
} st;

/* ------------------------------------------------------------ sorting */

static struct {
    int key; /* TK_SORT_NAME, TK_SORT_WEIGHT (the score); another: the server's order */
    int asc;
} sort_by;

static int cmp_sym(const void *a, const void *b)
{
    const rk_symbol *x = *(rk_symbol *const *)a, *y = *(rk_symbol *const *)b;
    int r;
    if (sort_by.key == TK_SORT_NAME) {
        r = strcmp(x->name, y->name);
    } else {
        long sx = (long)(fabs(x->score) * 1000), sy = (long)(fabs(y->score) * 1000);
        r = sx < sy ? 1 : sx > sy ? -1 : 0;
    }
    if (sort_by.asc)
        r = -r;
    return r ? r : (x < y ? -1 : x > y);
}

/* r's symbols in --sort order (the server's for none); NULL without memory. Free it. */
static const rk_symbol **sorted_symbols(const rk_result *r)
{
    const rk_symbol **syms = malloc((r->n_symbols + 1) * sizeof *syms);
    for (size_t i = 0; syms && i < r->n_symbols; i++)
        syms[i] = &r->symbols[i];
    if (syms && sort_by.key <= TK_SORT_WEIGHT)
        qsort(syms, r->n_symbols, sizeof *syms, cmp_sym);
    return syms;
}

/* ------------------------------------------------------------ text report */

static const char *action_color(const char *a, int *canon)
{
    *canon = 0;
    if (!tk_color)
        return "";
    if (strcasecmp(a, "reject") == 0) {
        *canon = 1;
        return "\033[38;2;255;000;000m";
    }
    if (strcasecmp(a, "no action") == 0 || strcasecmp(a, "no_action") == 0) {
        *canon = 2;
        return "\033[38;2;000;128;000m";
    }
    if (strcasecmp(a, "add header") == 0 || strcasecmp(a, "add_header") == 0 ||
        strcasecmp(a, "rewrite subject") == 0 || strcasecmp(a, "rewrite_subject") == 0)
        return "\033[38;2;255;165;000m";
    if (strcasecmp(a, "greylist") == 0 || strcasecmp(a, "soft reject") == 0 ||
        strcasecmp(a, "soft_reject") == 0)
        return "\033[38;2;128;128;128m";
    return "\033[1m";
}

/* The reply's "urls" or "emails" list as rspamc prints it: pretty with
 * --extended-urls, else compact; NULL when the reply has none. */
static char *reply_list(const rk_result *r, const char *name)
{
    return rk_result_emit_member(r, name, o.ext_urls ? RK_EMIT_JSON : RK_EMIT_COMPACT, NULL);
}

static void render_text(FILE *f, const rk_result *r)
{
    fputs("[Metric: default]\n", f);
    if (r->action) {
        int canon;
        const char *c = action_color(r->action, &canon);
        fprintf(f, "Action: %s%s%s\n", c,
                canon == 1 ? "reject" : canon == 2 ? "no action" : r->action, tk_reset());
        int spam = rk_action_is_spam(r->action);
        if (spam >= 0)
            fprintf(f, "Spam: %s%s%s\n", tk_bold(), spam ? "true" : "false", tk_reset());
    }
    if (r->subject)
        fprintf(f, "Subject: %s%s%s\n", tk_bold(), r->subject, tk_reset());
    if (r->has_score && r->has_required)
        fprintf(f, "Score: %s%.2f%s / %s%.2f%s\n", tk_bold(), r->score, tk_reset(), tk_bold(),
                r->required_score, tk_reset());
    const rk_symbol **syms = sorted_symbols(r);
    for (size_t i = 0; syms && i < r->n_symbols; i++) {
        const rk_symbol *s = syms[i];
        fprintf(f, "Symbol: %s", s->name);
        if (s->has_score)
            fprintf(f, " (%.2f)", s->score);
        else
            fputc(' ', f);
        if (s->has_options) {
            fputc('[', f);
            for (size_t k = 0; k < s->n_options; k++)
                fprintf(f, "%s%s", k ? ", " : "", s->options[k]);
            fputc(']', f);
        }
        fputc('\n', f);
    }
    free(syms);
    if (r->message_id)
        fprintf(f, "Message-ID: %s\n", r->message_id);
    if (r->queue_id)
        fprintf(f, "Queue-ID: %s\n", r->queue_id);
    static const char *const lists[][2] = {{"urls", "Urls"}, {"emails", "Emails"}};
    for (size_t i = 0; i < 2; i++) {
        char *list = reply_list(r, lists[i][0]);
        if (list)
            fprintf(f, "%s: %s\n", lists[i][1], list);
        free(list);
    }
    if (r->error)
        fprintf(f, "Scan error: %s\n", r->error);
    for (size_t i = 0; i < r->n_message_items; i++) {
        const rk_reply_item *m = &r->message_items[i];
        /* a value that is not a string: its JSON, cut as rspamc does */
        fprintf(f, m->is_string ? "Message - %s: %s\n" : "Message - %s: %.60s\n", m->key, m->text);
    }
    for (size_t i = 0; i < r->n_dkim; i++)
        fprintf(f, "DKIM-Signature: %s\n", r->dkim[i]);
    if (r->profile_items) {
        fputs("Profile data:\n", f);
        for (size_t i = 0; i < r->n_profile_items; i++)
            fprintf(f, "\t%s: %3g usec\n", r->profile_items[i].key, r->profile_items[i].number);
    }
}

/* rspamc 4.1's wrapping for -R: at most `max` bytes on the first line and
 * max - indent on the next ones (indented), broken after a separator when a
 * word would be cut; the blanks at a break are dropped. */
static void print_wrapped(FILE *f, const char *line, size_t max, size_t indent)
{
    static const char blank[] = " \f\n\r\t\v";
    static const char starts[] = " \f\n\r\t\v?,;<({[~!#$%^&*+:=/\\|";
    static const char ends[] = " \f\n\r\t\v?,;]})>~!#$%^&*+:_=/\\|";
    size_t n = strlen(line), pos = 0;
    while (pos < n) {
        size_t len = pos ? max - indent : max;
        if (len > n - pos)
            len = n - pos;
        if (pos + len < n && !strchr(starts, line[pos + len]))
            for (size_t k = len; k-- > 0;)
                if (strchr(ends, line[pos + k])) {
                    len = k + 1;
                    break;
                }
        if (indent && pos)
            fprintf(f, "%*s", (int)indent, "");
        fwrite(line + pos, 1, len, f);
        fputc('\n', f);
        pos += len;
        while (pos < n && strchr(blank, line[pos]))
            pos++;
    }
}

/* rspamc's number for an action (Rspamd's enum: reject 0 ... no action 5), or -1 */
static int action_number(const char *a)
{
    static const char *const names[] = {"reject", "soft reject", "rewrite subject", "add header",
                                        "greylist", "no action"};
    for (int i = 0; i < 6; i++) {
        char alt[32];
        snprintf(alt, sizeof alt, "%s", names[i]);
        for (char *p = alt; *p; p++)
            if (*p == ' ')
                *p = '_';
        if (strcasecmp(a, names[i]) == 0 || strcasecmp(a, alt) == 0)
            return i;
    }
    return -1;
}

static double threshold(const rk_result *r, const char *name, double dflt)
{
    double v;
    return rk_result_threshold(r, name, &v) ? v : dflt;
}

/* Print a list of URLs or emails as -R does, unless it is empty. */
static void human_list(FILE *f, const char *what, const rk_result *r, const char *name)
{
    char *s = reply_list(r, name);
    if (s && strcmp(s, "[]") != 0) {
        char *line = NULL;
        if (asprintf(&line, "%s found: %s", what, s) >= 0) {
            print_wrapped(f, line, 78, 4);
            free(line);
        }
    }
    free(s);
}

/* -R: rspamc 4.1's human-readable report (SpamAssassin-like). */
static void render_human(FILE *f, const rk_result *r)
{
    double score = r->has_score ? r->score : 0;
    double grey = threshold(r, "greylist", 0), add = threshold(r, "add header", 0);
    double req = threshold(r, "reject", r->has_required ? r->required_score : 0);
    const char *b = tk_bold(), *e = tk_reset();
    fprintf(f, "%s%.2f%s/%s%.2f%s/%s%.2f%s/%s%.2f%s", b, score, e, b, grey, e, b, add, e, b, req, e);
    int spam = 0;
    if (r->action) {
        int n = action_number(r->action), canon;
        const char *c = action_color(r->action, &canon);
        fprintf(f, ",action=%d:%s%s%s", n < 0 ? 5 : n, n < 0 ? "" : c,
                n >= 0 && canon == 1 ? "reject" : n >= 0 && canon == 2 ? "no action" : r->action,
                n < 0 ? "" : tk_reset());
        spam = n >= 0 && n < 4;
    }
    fprintf(f, ",spam=%d,skipped=%d\n", spam, r->is_skipped ? 1 : 0);
    fprintf(f, "Content analysis details:   (%s%.2f%s points, %s%.2f%s required)\n\n", b, score, e, b,
            add, e);
    fputs(" pts rule name              description\n"
          "---- ---------------------- --------------------------------------------------\n",
          f);
    const rk_symbol **syms = sorted_symbols(r);
    for (size_t i = 0; syms && i < r->n_symbols; i++) {
        const rk_symbol *s = syms[i];
        char *line = NULL;
        size_t len = 0;
        FILE *l = open_memstream(&line, &len);
        if (!l)
            break;
        fprintf(l, "%4.1f %-22s %s", s->has_score ? s->score : 0.0, s->name,
                s->description ? s->description : "");
        if (s->has_options) {
            fputs(s->description ? " [" : "[", l);
            for (size_t k = 0; k < s->n_options; k++)
                fprintf(l, "%s%s", k ? "," : "", s->options[k]);
            fputc(']', l);
        }
        fclose(l);
        print_wrapped(f, line, 78, 28);
        free(line);
    }
    free(syms);
    fputc('\n', f);
    human_list(f, "Domains", r, "urls");
    human_list(f, "Emails", r, "emails");
    if (r->error)
        fprintf(f, "Scan error: %s\n", r->error);
}

/* neural_learn's report, as rspamc 4.1 prints it: for a scan reply (the
 * training went with the scan), or for the controller's learn_message reply. */
static void render_neural(FILE *f, const rk_result *r)
{
    char *s = rk_emit_neural(r, neural_class, NULL);
    if (s)
        fputs(s, f);
    free(s);
}

/* neural_learn: as rspamc 4.1, first ask the controller for the neural rules
 * (GET /plugins/neural/config at the -h address, whose port 11333 becomes
 * 11334; 11334 without one). When the rule (the Rule header, else "default")
 * needs no scan, the messages go to the controller's
 * /plugins/neural/learn_message: that client is returned. NULL: scan. */
static rk_client *neural_plan(void)
{
    char *saved = tk_conn_opts.host, *host = saved ? strdup(saved) : NULL;
    if (host) {
        size_t n = strlen(host);
        if (n > 6 && strcmp(host + n - 6, ":11333") == 0)
            memcpy(host + n - 6, ":11334", 6);
        tk_conn_opts.host = host;
    }
    char *why = NULL;
    size_t wl = 0;
    FILE *ms = open_memstream(&why, &wl);
    tk_err_capture(ms);
    int code = 0;
    rk_client *c = tk_client(RK_CONTROLLER_PORT, &code);
    tk_err_capture(NULL);
    if (ms)
        fclose(ms);
    tk_conn_opts.host = saved;
    free(host);
    rk_request req = {.path = "/plugins/neural/config", .headers = &st.base};
    rk_response resp = {0};
    rk_error e;
    rk_error_clear(&e);
    int learn_message = 0;
    if (c && rk_client_request(c, &req, &resp, &e) == 0) {
        rk_ctl_doc *d = NULL;
        rk_ctl_doc_parse(resp.body, resp.body_len, &d, NULL);
        learn_message = !rk_ctl_neural_requires_scan(d, rk_headers_get(&st.base, "Rule"));
        rk_ctl_doc_free(d);
    } else if (st.fmt != TK_OUT_JSON && st.fmt != TK_OUT_COMPACT) {
        size_t n = why ? strlen(why) : 0;
        while (n && why[n - 1] == '\n')
            why[--n] = 0;
        fprintf(stderr, "Note: could not fetch neural config (%s); using scan-based learning\n",
                c ? e.msg : why && *why ? why : "no controller");
    }
    rk_response_clear(&resp);
    free(why);
    if (!learn_message) {
        rk_client_free(c);
        c = NULL;
    }
    return c;
}

/* --tests: comma-separated symbol names, as spamc -y. */
static void render_tests(FILE *f, const rk_result *r)
{
    for (size_t i = 0; i < r->n_symbols; i++)
        fprintf(f, "%s%s", i ? "," : "", r->symbols[i].name);
    fputc('\n', f);
}

/* ------------------------------------------------------------ output order */

static void progress_line(void)
{
    char counts[64];
    snprintf(counts, sizeof counts, "%zu scanned, %zu failed", st.n_ok, st.n_failed);
    tk_progress_draw(&st.prog, st.n_ok + st.n_failed, counts, st.cleared);
    st.cleared = 0;
}

static void flush_ready(void)
{
    st.cleared |= tk_order_flush(&st.order, &st.prog);
    progress_line();
}

/* ------------------------------------------------------------ requests */

static void record_failure(int code)
{
    st.n_failed++;
    if (!st.first_fail_code)
        st.first_fail_code = code;
}

static int next_cb(void *ud, rk_request *req, void **token)
{
    (void)ud;
    for (;;) {
        job *j = calloc(1, sizeof *j);
        if (!j)
            return -1;
        if (!tk_walker_next(st.walker, &j->in)) {
            free(j);
            return 0;
        }
        j->seq = st.n_inputs++;
        tk_slot *s = tk_order_slot(&st.order, j->seq);
        if (!s) {
            tk_input_clear(&j->in);
            free(j);
            return -1;
        }
        if (j->in.error) {
            /* Input error: report it in order, no request. */
            char *buf = NULL;
            size_t len = 0;
            if (st.fmt != TK_OUT_TEXT) {
                FILE *f = open_memstream(&buf, &len);
                tk_dump_error(f, st.fmt, j->in.label, j->in.error);
                fclose(f);
            }
            s->out = buf;
            s->out_len = len;
            s->errline = strdup(j->in.error);
            s->done = 1;
            record_failure(j->in.exit_code);
            tk_input_clear(&j->in);
            free(j);
            if (o.unordered)
                st.cleared |= tk_slot_emit(s, &st.prog);
            flush_ready();
            continue;
        }
        if (st.v3.on) {
            rk_error e;
            if (rk_scan_request_v3(req, &j->headers, &st.base, st.v3.meta, st.v3.n_meta,
                                   st.v3.flags, j->in.data, j->in.len, &j->v3_body, &e)) {
                tk_err("%s", e.msg);
                rk_headers_clear(&j->headers);
                tk_input_clear(&j->in);
                free(j);
                return -1;
            }
            *token = j;
            return 1;
        }
        /* the library sends File to a local server, the body otherwise */
        char *lf = tk_transport_opts.local_file ? tk_local_file(j->in.label, j->in.len) : NULL;
        rk_scan_request(req, &j->headers, &st.base, j->in.label, lf, j->in.data, j->in.len);
        free(lf);
        if (st.learn_message)
            req->path = "/plugins/neural/learn_message";
        *token = j;
        return 1;
    }
}

static void summary_add(const rk_result *r)
{
    if (!o.summary)
        return;
    const char *a = r->action ? r->action : "(none)";
    size_t i = 0;
    while (i < st.n_actions && strcmp(st.actions[i].name, a) != 0)
        i++;
    if (i == st.n_actions) {
        struct action_count *v = realloc(st.actions, (i + 1) * sizeof *v);
        char *name = strdup(a);
        if (!v || !name) { /* out of memory: this one is not counted */
            if (v)
                st.actions = v;
            free(name);
            return;
        }
        st.actions = v;
        st.actions[st.n_actions++] = (struct action_count){name, 0};
    }
    st.actions[i].n++;
    double sc = r->score;
    int b = (int)floor(sc) + 8; /* buckets: <-7 .. >=23 */
    if (b < 0)
        b = 0;
    if (b > 31)
        b = 31;
    st.hist[b]++;
}

/* --output-body: the rewritten message goes to the file (each rewritten
 * message replaces the last, as with rspamc) and the report says so. */
static void save_body(FILE *f, const rk_result *r, int text)
{
    FILE *out = fopen(o.output_body, "wb");
    int ok = out && fwrite(r->rewritten, 1, r->rewritten_len, out) == r->rewritten_len;
    if (out && fclose(out) != 0)
        ok = 0;
    if (ok)
        fprintf(f, text ? "\nNew body saved to: %s\n" : "New body saved to: %s\n\n", o.output_body);
    else
        tk_err("cannot write %s: %s", o.output_body, strerror(errno));
}

static int done_cb(void *ud, void *token, rk_response *resp, const rk_error *err)
{
    (void)ud;
    job *j = token;
    tk_slot *s = tk_order_slot(&st.order, j->seq);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    rk_error e;
    rk_result r;
    unsigned rf = (st.fmt != TK_OUT_TEXT || neural_class ? RK_RESULT_TREE : 0) |
                  (st.v3.on ? RK_RESULT_V3 : 0);
    int ok = rk_scan_result(resp, err, rf, &r, &e) == 0;
    if (ok) {
        st.n_ok++;
        int spam = rk_action_is_spam(r.action) == 1;
        st.n_spam += spam;
        summary_add(&r);
        if (o.check) {
            /* several inputs (or a directory, an mbox): each line names its input */
            if (!st.single || strcmp(st.single, j->in.label) != 0)
                fprintf(f, "%s: ", j->in.label);
            fprintf(f, "%.1f/%.1f\n", r.score, r.required_score);
        } else if (o.tests) {
            render_tests(f, &r);
        } else {
            if (!o.human || st.fmt != TK_OUT_TEXT)
                tk_heading(f, st.fmt, "file", j->in.label, resp->elapsed);
            if (o.headers)
                tk_print_headers(f, resp);
            if (st.fmt == TK_OUT_TEXT)
                (neural_class ? render_neural : o.human ? render_human : render_text)(f, &r);
            else
                tk_dump_reply(f, &r, st.fmt, j->in.label, resp->elapsed);
            /* rspamc writes -j, --compact and --ucl output without its final
             * newline, then this, then the newline */
            int text = st.fmt == TK_OUT_TEXT;
            if (r.rewritten && o.output_body)
                save_body(f, &r, text);
            else if (r.rewritten) {
                fputs(text ? "\nNew body:\n" : "New body:\n", f);
                fwrite(r.rewritten, 1, r.rewritten_len, f);
                fputs(text ? "\n" : "\n\n", f);
            }
            if (st.fmt == TK_OUT_TEXT)
                fputc('\n', f);
        }
    } else if (tk_rspamc_output) {
        tk_ctl_error(f, &s->errline, st.fmt, "file", j->in.label, resp, e.msg);
        record_failure(tk_exit_for(&e));
    } else {
        s->errline = tk_line(j->in.label, "", e.msg);
        if (st.fmt != TK_OUT_TEXT)
            tk_dump_error(f, st.fmt, j->in.label, e.msg);
        record_failure(tk_exit_for(&e));
    }
    fclose(f);
    s->out = buf;
    s->out_len = len;
    s->done = 1;
    rk_result_clear(&r);
    tk_input_clear(&j->in);
    rk_headers_clear(&j->headers);
    free(j->v3_body);
    free(j);
    if (o.unordered)
        st.cleared |= tk_slot_emit(s, &st.prog);
    flush_ready();
    return 0;
}

/* ------------------------------------------------------------ summary */

static void print_summary(void)
{
    FILE *f = stderr;
    fprintf(f, "Summary: %zu scanned, %zu failed\n", st.n_ok, st.n_failed);
    for (size_t i = 0; i < st.n_actions; i++)
        fprintf(f, "  %-16s %6zu\n", st.actions[i].name, st.actions[i].n);
    size_t max = 0;
    int lo = 32, hi = -1;
    for (int i = 0; i < 32; i++)
        if (st.hist[i]) {
            if (st.hist[i] > max)
                max = st.hist[i];
            if (i < lo)
                lo = i;
            hi = i;
        }
    if (hi < 0)
        return;
    fputs("Score histogram:\n", f);
    for (int i = lo; i <= hi; i++) {
        char label[32];
        if (i == 0)
            snprintf(label, sizeof label, "   < -7");
        else if (i == 31)
            snprintf(label, sizeof label, "  >= 23");
        else
            snprintf(label, sizeof label, "%3d..%-3d", i - 8, i - 7);
        size_t w = max ? (st.hist[i] * 40 + max - 1) / max : 0;
        fprintf(f, "  %-8s |", label);
        for (size_t k2 = 0; k2 < w; k2++)
            fputs(tk_color ? "\u2588" : "#", f);
        fprintf(f, " %zu\n", st.hist[i]);
    }
}

/* ------------------------------------------------------------ main */

int main(int argc, const char **argv)
{
    tk_prog = "rspamkit-scan";
    signal(SIGPIPE, SIG_IGN);
    /* --exec -- CMD ARG...: the words after "--" are the command. */
    lda_opts lo = {0};
    argc = lda_split_argv(argc, argv, &lo.exec_tail, &lo.n_exec_tail);
    tk_password_argv(argc, (char **)argv, "scan");
    poptContext pc = poptGetContext("rspamkit-scan", argc, argv, scan_table, 0);
    poptSetOtherOptionHelp(pc, "[OPTION...] [symbols|check|report] [FILE|DIR...]");
    const char **rest = NULL;
    size_t n_rest = 0;
    int parsed = tk_parse_args(pc, &o.version, &rest, &n_rest);
    tk_password_hide(argc, (char **)argv);
    if (parsed < 0 && o.commands) {
        tk_commands_print(stdout);
        parsed = 0;
    }
    if (parsed >= 0) {
        poptFreeContext(pc);
        return parsed;
    }
    /* Positional arguments: an optional rspamc command word, then inputs. */
    if (n_rest) {
        const tk_command *cmd = tk_command_find(rest[0]);
        if (cmd && !(cmd->flags & TK_CMD_RSPAMC))
            cmd = NULL; /* another program's own word: here, a file name */
        if (cmd && strcmp(cmd->tool, "scan") == 0) {
            if (strncasecmp(rest[0], "neural_learn:", 13) == 0) {
                /* rspamc lowercases the class with the word */
                neural_class = strdup(rest[0] + 13);
                for (char *p = neural_class; p && *p; p++)
                    *p = (char)tolower((unsigned char)*p);
            }
            rest++;
            n_rest--;
        } else if (cmd) {
            tk_err("'%s' is a command of rspamkit-%s (or run it as rspamkit %s)", rest[0],
                   cmd->tool, rest[0]);
            poptFreeContext(pc);
            return TK_EX_USAGE;
        }
    }
    int code = 0;
    /* as rspamc: /checkv3 for a scan (not neural_learn); --msgpack and
     * --metadata-header only mean something with it */
    if ((o.msgpack || o.metadata_headers) && (!o.protocol_v3 || neural_class))
        tk_err("note: %s has no effect without --protocol-v3 (nor with neural_learn)",
               o.msgpack ? "--msgpack" : "--metadata-header");
    st.v3.on = o.protocol_v3 && !neural_class;
    st.v3.flags = (o.msgpack ? RK_V3_MSGPACK : 0) | (tk_transport_opts.compressed ? RK_V3_ZSTD : 0);
    st.v3.meta = (const char *const *)o.metadata_headers;
    while (o.metadata_headers && o.metadata_headers[st.v3.n_meta])
        st.v3.n_meta++;
    if (neural_class && !*neural_class) {
        tk_err("neural_learn: needs a class (neural_learn:CLASS)");
        code = TK_EX_USAGE;
    } else if (tk_parse_sort(o.sort, &sort_by.key, &sort_by.asc)) {
        tk_err("invalid --sort value '%s' (name, score, weight, frequency, hits, time[:asc])", o.sort);
        code = TK_EX_USAGE;
    } else if (o.max_requests < 1) {
        tk_err("-n/--max-requests must be at least 1");
        code = TK_EX_USAGE;
    }
    int lda = o.mime || o.exec || lo.exec_tail;
    if (lda && !code) {
        lo.mime = o.mime;
        lo.exec = o.exec;
        lo.verbose = o.verbose;
        lo.fmt = o.compact ? TK_OUT_COMPACT : o.json ? TK_OUT_JSON : o.ucl ? TK_OUT_UCL : TK_OUT_TEXT;
        lo.render = render_text;
        lo.v3 = st.v3;
        code = lda_setup(&lo);
    }
    if (code) {
        poptFreeContext(pc);
        return code;
    }

    tk_color_init();
    st.fmt = o.compact ? TK_OUT_COMPACT : o.json ? TK_OUT_JSON : o.ucl ? TK_OUT_UCL : TK_OUT_TEXT;
    size_t n_excl = 0;
    while (o.exclude && o.exclude[n_excl])
        n_excl++;
    rk_msg_opts mo = {
        .queue_id = o.queue_id, .log_tag = o.log_tag, .settings = o.settings,
        .settings_id = o.settings_id, .classifier = o.classifier,
        .fuzzy_symbol = o.fuzzy_symbol, .weight = o.weight, .flag = o.flag,
        .profile = o.profile, .raw = o.raw, .extended_urls = o.ext_urls,
        .skip_images = o.skip_images, .skip_attachments = o.skip_attachments,
    };
    tk_msg_fill(&mo);
    rk_error err;
    rk_error_clear(&err);
    if (rk_msg_opts_headers(&mo, &st.base, &err) ||
        (neural_class && rk_headers_add(&st.base, "ANN-Train", neural_class))) {
        tk_err("%s", err.msg);
        code = tk_exit_for(&err);
        goto out;
    }
    rk_client *client = NULL;
    char *why = NULL; /* delivery mode: why there is no client */
    if (lda) {
        /* An invalid configuration file, or connection options that do not
         * work (a bad address, password or key), follow the failure policy
         * in delivery mode (lda_run without a client): never exit 64. */
        size_t wl = 0;
        FILE *ms = open_memstream(&why, &wl);
        tk_err_capture(ms);
        if (!tk_settings_error())
            client = tk_client(RK_DEFAULT_PORT, &code);
        tk_err_capture(NULL);
        if (ms)
            fclose(ms);
        code = 0;
    } else {
        /* neural_learn may need a second client, to the controller */
        tk_password_keep = neural_class != NULL;
        rk_client *ctl = neural_class ? neural_plan() : NULL;
        tk_password_keep = 0;
        if (ctl) {
            st.learn_message = 1;
            client = ctl;
            tk_password_wipe();
        } else if (!(client = tk_client(RK_DEFAULT_PORT, &code))) {
            goto out;
        }
    }
    tk_walk_opts wo = {
        .args = (char **)rest, .n_args = n_rest, .files_from = o.files_from,
        .exclude = (const char *const *)o.exclude, .n_exclude = n_excl,
        .empty = o.empty, .raw = o.raw || lda, .split_mbox = 1,
        .maildir_folders = o.maildir_folders,
    };
    st.walker = tk_walker_new(&wo);
    if (lda) {
        tk_color = 0; /* the report piped to --exec has no terminal escapes */
        code = lda_run(client, st.walker, &st.base, o.max_requests,
                       tk_settings_error() ? tk_settings_error() : why && *why ? why : "cannot scan");
        free(why);
        tk_walker_free(st.walker);
        rk_client_free(client);
        goto out;
    }
    tk_progress_start(&st.prog, o.progress, o.no_progress, &wo);
    if (!o.files_from && n_rest <= 1)
        st.single = n_rest ? rest[0] : o.empty ? "empty" : "stdin";
    if (rk_client_run(client, o.max_requests, next_cb, done_cb, NULL)) {
        tk_err("internal error while running requests");
        code = TK_EX_SOFTWARE;
    }
    flush_ready();
    if (st.prog.on) { /* redraw with the final counts, then clear */
        st.cleared = 1;
        progress_line();
    }
    tk_progress_clear(&st.prog);
    if (o.summary)
        print_summary();
    tk_walker_free(st.walker);
    rk_client_free(client);
    if (!code) {
        if (st.n_failed && st.n_ok)
            code = TK_EX_PARTIAL;
        else if (st.n_failed)
            code = st.first_fail_code;
        else if (o.check && st.n_spam)
            code = TK_EX_SPAM;
    }
    code = tk_flush_stdout(code);
out:
    tk_order_free(&st.order, &st.prog);
    for (size_t i = 0; i < st.n_actions; i++)
        free(st.actions[i].name);
    free(st.actions);
    rk_headers_clear(&st.base);
    free(neural_class);
    poptFreeContext(pc);
    return code;
}
