/* rspamkit-ctl: controller commands without a message: stat, stat_reset,
 * counters, uptime, actions, add_symbol, add_action; and ping. */
#include "config.h"
#include "common.h"
#include "render.h"
#include "transport_opts.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------ options */

static struct {
    int json, compact, ucl, headers, version, verbose;
    char *sort, *bind;
} o;

static struct poptOption ctl_table[] = {
    {"json", 'j', POPT_ARG_NONE, &o.json, 0, "Pretty JSON output of the reply (as rspamc -j)", NULL},
    {"compact", 0, POPT_ARG_NONE, &o.compact, 0, "Compact JSON output", NULL},
    {"ucl", 0, POPT_ARG_NONE, &o.ucl, 0, "UCL output", NULL},
    {"headers", 0, POPT_ARG_NONE, &o.headers, 0, "Print the reply's HTTP headers", NULL},
    {"sort", 0, POPT_ARG_STRING, &o.sort, 0,
     "counters: sort by name, weight, frequency, time or hits (add :asc to reverse)", "KEY"},
    {"verbose", 'v', POPT_ARG_NONE, &o.verbose, 0, "Accepted for rspamc compatibility", NULL},
    {"bind", 'b', POPT_ARG_STRING, &o.bind, 0, "Accepted for rspamc compatibility, ignored", "IP"},
    {"version", 0, POPT_ARG_NONE, &o.version, 0, "Print the version and exit", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_conn_table, 0, "Connection options:", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_transport_table, 0, "Transport options:", NULL},
    POPT_AUTOHELP POPT_TABLEEND};

enum cmd { C_STAT, C_STAT_RESET, C_COUNTERS, C_UPTIME, C_ACTIONS, C_ADD_SYMBOL, C_ADD_ACTION, C_PING };

static const struct {
    const char *word;
    rk_ctl_query query; /* C_ADD_*, C_PING: none */
    int nargs;
} cmds[] = {
    [C_STAT] = {"stat", RK_CTL_STAT, 0},
    [C_STAT_RESET] = {"stat_reset", RK_CTL_STAT_RESET, 0},
    [C_COUNTERS] = {"counters", RK_CTL_COUNTERS, 0},
    [C_UPTIME] = {"uptime", RK_CTL_UPTIME, 0},
    [C_ACTIONS] = {"actions", RK_CTL_ACTIONS, 0},
    [C_ADD_SYMBOL] = {"add_symbol", 0, 2},
    [C_ADD_ACTION] = {"add_action", 0, 2},
    [C_PING] = {"ping", 0, 0},
};
#define N_CMDS (sizeof cmds / sizeof *cmds)

static tk_outfmt fmt;

/* ------------------------------------------------------------ helpers */

/* fmt's {:^W} with the padding's odd space on the right. */
static void centred(FILE *f, const char *s, int w)
{
    int len = (int)strlen(s), pad = w > len ? w - len : 0;
    fprintf(f, "%*s%s%*s", pad / 2, "", s, pad - pad / 2, "");
}

/* ------------------------------------------------------------ stat */

static void render_stat(FILE *f, const rk_stat *r)
{
    const char *b = tk_bold(), *e = tk_reset();
    int64_t scanned = r->scanned;
    fprintf(f, "Messages scanned: %s%" PRId64 "%s\n", b, scanned, e);
    if (scanned > 0) {
        for (size_t i = 0; i < r->n_actions; i++)
            fprintf(f, "Messages with action %s: %s%" PRId64 "%s, %.2f%%\n", r->actions[i].name, b,
                    r->actions[i].count, e, (double)r->actions[i].count / (double)scanned * 100.);
        fprintf(f, "Messages treated as spam: %s%" PRId64 "%s, %.2f%%\n", b, r->spam_count, e,
                (double)r->spam_count / (double)scanned * 100.);
        fprintf(f, "Messages treated as ham: %s%" PRId64 "%s, %.2f%%\n", b, r->ham_count, e,
                (double)r->ham_count / (double)scanned * 100.);
    }
    fprintf(f, "Messages learned: %s%" PRId64 "%s\n", b, r->learned, e);
    fprintf(f, "Connections count: %s%" PRId64 "%s\n", b, r->connections, e);
    fprintf(f, "Control connections count: %s%" PRId64 "%s\n", b, r->control_connections, e);
    if (r->n_scan_times) {
        double sum = 0;
        for (size_t i = 0; i < r->n_scan_times; i++)
            sum += r->scan_times[i];
        fprintf(f, "Average scan time: %s%.3f%s sec\n", b, sum / (double)r->n_scan_times, e);
    }
    const struct {
        const char *label;
        int64_t n;
    } pools[] = {
        {"Pools allocated", r->pools_allocated},
        {"Pools freed", r->pools_freed},
        {"Bytes allocated", r->bytes_allocated},
        {"Memory chunks allocated", r->chunks_allocated},
        {"Shared chunks allocated", r->shared_chunks_allocated},
        {"Chunks freed", r->chunks_freed},
        {"Oversized chunks", r->chunks_oversized},
    };
    for (size_t i = 0; i < sizeof pools / sizeof *pools; i++)
        fprintf(f, "%s: %" PRId64 "\n", pools[i].label, pools[i].n);
    if (r->has_fuzzy_hashes) {
        uint64_t stored = 0;
        for (size_t i = 0; i < r->n_fuzzy_hashes; i++) {
            fprintf(f, "Fuzzy hashes in storage \"%s\": %" PRId64 "\n", r->fuzzy_hashes[i].name,
                    r->fuzzy_hashes[i].count);
            stored += (uint64_t)r->fuzzy_hashes[i].count;
        }
        fprintf(f, "Fuzzy hashes stored: %" PRIu64 "\n", stored);
    }
    const struct {
        int has;
        const int64_t *v;
        size_t n;
        const char *label;
    } arrays[] = {{r->has_fuzzy_checked, r->fuzzy_checked, r->n_fuzzy_checked,
                   "Fuzzy hashes checked: "},
                  {r->has_fuzzy_found, r->fuzzy_found, r->n_fuzzy_found, "Fuzzy hashes found: "}};
    for (size_t a = 0; a < 2; a++) {
        if (!arrays[a].has)
            continue;
        fputs(arrays[a].label, f);
        for (size_t i = 0; i < arrays[a].n; i++)
            fprintf(f, "%" PRId64 " ", arrays[a].v[i]);
        fputc('\n', f);
    }
    for (size_t i = 0; i < r->n_statfiles; i++) {
        const rk_statfile *s = &r->statfiles[i];
        if (s->label)
            fprintf(f, "Statfile: %s <%s> type: %s; ", s->symbol, s->label, s->type);
        else
            fprintf(f, "Statfile: %s type: %s; ", s->symbol, s->type);
        fprintf(f,
                "length: %" PRId64 "; free blocks: %" PRId64 "; total blocks: %" PRId64
                "; free: %.2f%%; learned: %" PRId64 "; users: %" PRId64 "; languages: %" PRId64
                "\n",
                s->size, s->total - s->used, s->total,
                s->total > 0 ? (double)(s->total - s->used) * 100.0 / (double)s->total : 0.0,
                s->revision, s->users, s->languages);
    }
    fprintf(f, "Total learns: %" PRId64 "\n", r->total_learns);
}

/* ------------------------------------------------------------ uptime */

static const char *pl(int64_t n) { return n > 1 ? "s" : ""; }

/* rspamc's format, without 3.4's two bugs (a literal "%s" instead of the
 * version, and "second%s"). */
static void render_uptime(FILE *f, const rk_uptime *r)
{
    if (r->version)
        fprintf(f, "Rspamd version: %s\n", r->version);
    if (!r->has_uptime)
        return;
    int64_t secs = r->uptime;
    fputs("Uptime: ", f);
    if (secs >= 2 * 3600) {
        int64_t days = secs / 86400, hours = secs / 3600 - days * 24,
                mins = secs / 60 - hours * 60 - days * 1440;
        fprintf(f, "%" PRId64 " day%s %" PRId64 " hour%s %" PRId64 " minute%s\n", days, pl(days),
                hours, pl(hours), mins, pl(mins));
    } else if (secs / 60 == 0) {
        fprintf(f, "%" PRId64 " second%s\n", secs, pl(secs));
    } else {
        int64_t hours = secs / 3600, mins = secs / 60 - hours * 60;
        secs -= hours * 3600 + mins * 60;
        fprintf(f, "%" PRId64 " hour %" PRId64 " minute%s %" PRId64 " second%s\n", hours, mins,
                pl(mins), secs, pl(secs));
    }
}

/* ------------------------------------------------------------ counters */

static struct {
    int key; /* TK_SORT_NAME ... TK_SORT_HITS */
    int asc;
} sort_by;

typedef struct {
    const rk_counter *v;
    size_t idx;
} row;

static int cmp_rows(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int r = 0;
    if (sort_by.key == TK_SORT_NAME) {
        const char *x = a->v->symbol, *y = b->v->symbol;
        r = strcmp(x ? x : "", y ? y : "");
    } else if (sort_by.key == TK_SORT_HITS) {
        int64_t x = a->v->hits, y = b->v->hits;
        r = x < y ? 1 : x > y ? -1 : 0;
    } else {
        int k = sort_by.key;
        double dx = k == TK_SORT_WEIGHT      ? a->v->weight
                    : k == TK_SORT_FREQUENCY ? a->v->frequency
                                             : a->v->time;
        double dy = k == TK_SORT_WEIGHT      ? b->v->weight
                    : k == TK_SORT_FREQUENCY ? b->v->frequency
                                             : b->v->time;
        int64_t x = (int64_t)(dx * 1000), y = (int64_t)(dy * 1000);
        r = x < y ? 1 : x > y ? -1 : 0;
    }
    if (sort_by.asc)
        r = -r;
    return r ? r : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

/* server: rk_response_server_version() of the reply; rspamc 4.0 and later
 * print an "avg (stddev)" row under the heading (the server sends
 * frequency_stddev from 4.0), so rspamkit does for a 4.x server. */
static void render_counters(FILE *f, const rk_counter *v, size_t n, int server)
{
    size_t w = 6;
    row *rows = calloc(n + 1, sizeof *rows);
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++) {
        rows[i].v = &v[i];
        rows[i].idx = i;
        if (v[i].symbol && strlen(v[i].symbol) > w)
            w = strlen(v[i].symbol);
    }
    qsort(rows, n, sizeof *rows, cmp_rows);
    if (w > 37)
        w = 37;
    char dash[128];
    memset(dash, '-', 44 + w);
    dash[44 + w] = 0;
    const char *b = tk_bold(), *e = tk_reset();
    fputs("Symbols cache\n", f);
    fprintf(f, " %s%s%s \n", b, dash, e);
    fprintf(f, "| %-4s | %-*s | ", "Pri", (int)w, "Symbol");
    centred(f, "Weight", 7);
    fputs(" | ", f);
    centred(f, "Frequency", 13);
    fputs(" | ", f);
    centred(f, "Hits", 7);
    fputs(" |\n", f);
    fprintf(f, " %s%s%s \n", b, dash, e);
    for (int second = server >= 40000 ? 0 : 1; second < 2; second++) {
        fprintf(f, "| %-4s | %-*s | ", "", (int)w, "");
        centred(f, "", 7);
        fputs(" | ", f);
        centred(f, second ? "hits/min" : "avg (stddev)", 13);
        fputs(" | ", f);
        centred(f, "", 7);
        fputs(" |\n", f);
    }
    for (size_t i = 0; i < n; i++) {
        const rk_counter *c = rows[i].v;
        fprintf(f, " %s \n", dash);
        if (!c->complete)
            continue;
        char name[64], num[64];
        if (strlen(c->symbol) > w)
            snprintf(name, sizeof name, "%.*s...", (int)w - 3, c->symbol);
        else
            snprintf(name, sizeof name, "%s", c->symbol);
        fprintf(f, "| %-4zu | %-*s | ", i, (int)w, name);
        snprintf(num, sizeof num, "%.1f", c->weight);
        centred(f, num, 7);
        fputs(" | ", f);
        snprintf(num, sizeof num, "%.3f", c->frequency * 60.0);
        centred(f, num, 6);
        fputc('(', f);
        snprintf(num, sizeof num, "%.3f", c->frequency_stddev * 60.0);
        centred(f, num, 5);
        fputs(") | ", f);
        snprintf(num, sizeof num, "%" PRIu64, (uint64_t)c->hits);
        centred(f, num, 7);
        fputs(" |\n", f);
    }
    fprintf(f, " %s \n", dash);
    free(rows);
}

/* ------------------------------------------------------------ actions */

static void render_actions(FILE *f, const rk_action_score *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i].score))
            fprintf(f, "%s: disabled\n", a[i].name);
        else
            fprintf(f, "%s: %.2f\n", a[i].name, a[i].score);
    }
}

/* ------------------------------------------------------------ commands */

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

/* The reply in text: rspamc's rendering of it. 0, or an exit code. */
static int render_text(FILE *f, enum cmd cmd, const rk_ctl_doc *d, int server)
{
    rk_error err;
    rk_error_clear(&err);
    int rc = 0;
    switch (cmd) {
    case C_STAT:
    case C_STAT_RESET: {
        rk_stat st;
        if (!(rc = rk_ctl_stat(d, &st, &err)))
            render_stat(f, &st);
        rk_stat_clear(&st);
        break;
    }
    case C_COUNTERS: {
        rk_counter *v = NULL;
        size_t n = 0;
        if (!(rc = rk_ctl_counters(d, &v, &n, &err)))
            render_counters(f, v, n, server);
        free(v);
        break;
    }
    case C_UPTIME: {
        rk_uptime u;
        if (!(rc = rk_ctl_uptime(d, &u, &err)))
            render_uptime(f, &u);
        break;
    }
    case C_ACTIONS: {
        rk_action_score *a = NULL;
        size_t n = 0;
        if (!(rc = rk_ctl_actions(d, &a, &n, &err)))
            render_actions(f, a, n);
        free(a);
        break;
    }
    case C_ADD_SYMBOL:
    case C_ADD_ACTION:
    case C_PING:
        break;
    }
    if (rc) {
        tk_err("%s", err.msg);
        return tk_exit_for(&err);
    }
    return 0;
}

static int run(rk_client *c, enum cmd cmd, const char **args)
{
    rk_response resp;
    rk_ctl_doc *reply = NULL;
    rk_ctl_change chg = {0};
    rk_error err;
    double value = 0;
    int rc, code = 0;
    rk_error_clear(&err);

    if (cmd == C_ADD_SYMBOL || cmd == C_ADD_ACTION) {
        parse_number(args[1], &value);
        rc = cmd == C_ADD_SYMBOL ? rk_ctl_set_symbol(c, args[0], value, &chg, &resp, &reply, &err)
                                 : rk_ctl_set_action(c, args[0], value, &chg, &resp, &reply, &err);
    } else {
        rc = rk_ctl_query_run(c, cmds[cmd].query, &resp, &reply, &err);
    }
    if (rc) {
        char *line = NULL;
        if (tk_rspamc_output)
            tk_ctl_error(stdout, &line, fmt, "command", cmds[cmd].word, &resp, err.msg);
        else
            tk_err("%s", err.msg);
        if (line)
            tk_err("%s", line);
        free(line);
        rk_response_clear(&resp);
        return tk_exit_for(&err);
    }
    FILE *f = stdout;
    if (fmt != TK_OUT_TEXT) {
        tk_ctl_dump(f, fmt, o.headers && !chg.unchanged, "command", cmds[cmd].word, NULL, &resp,
                    reply);
    } else {
        tk_heading(f, fmt, "command", cmds[cmd].word, resp.elapsed);
        if (o.headers && !chg.unchanged)
            tk_print_headers(f, &resp);
        const char *what = cmd == C_ADD_SYMBOL ? "Symbol" : "Action";
        const char *unit = cmd == C_ADD_SYMBOL ? "weight" : "score";
        if (cmd != C_ADD_SYMBOL && cmd != C_ADD_ACTION)
            code = render_text(f, cmd, reply, rk_response_server_version(&resp));
        else if (chg.unchanged)
            fprintf(f, "%s %s: %s already %.2f, nothing changed\n", what, chg.name, unit, value);
        else
            fprintf(f, "%s %s: %s %.2f (was %.2f)\n", what, chg.name, unit, value, chg.before);
        fputc('\n', f);
    }
    rk_ctl_doc_free(reply);
    rk_response_clear(&resp);
    return code;
}

/* ping: "pong" on stdout and 0 when the server answers /ping so; else an
 * error line and the exit code of the failure. */
static int ping(rk_client *c)
{
    rk_response resp;
    rk_error err;
    int code = 0;
    if (rk_ctl_ping(c, &resp, &err) == 0) {
        if (o.headers)
            tk_print_headers(stdout, &resp);
        puts("pong");
    } else {
        tk_err("%s", err.msg);
        code = tk_exit_for(&err);
    }
    rk_response_clear(&resp);
    return code;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    tk_prog = "rspamkit-ctl";
    signal(SIGPIPE, SIG_IGN);
    tk_password_argv(argc, argv, "ctl");
    poptContext pc = poptGetContext("rspamkit-ctl", argc, (const char **)argv, ctl_table, 0);
    poptSetOtherOptionHelp(pc, "[OPTION...] stat|stat_reset|counters|uptime|actions|ping\n"
                               "       rspamkit-ctl [OPTION...] add_symbol SYMBOL WEIGHT\n"
                               "       rspamkit-ctl [OPTION...] add_action ACTION SCORE");
    const char **rest = NULL;
    size_t n_rest = 0;
    int parsed = tk_parse_args(pc, &o.version, &rest, &n_rest);
    tk_password_hide(argc, argv);
    if (parsed >= 0) {
        poptFreeContext(pc);
        return parsed;
    }
    if (!n_rest)
        return tk_usage_error(pc, "%s", "say which command: stat, stat_reset, counters, uptime, "
                                     "actions, add_symbol, add_action, ping");
    size_t cmd = N_CMDS;
    for (size_t i = 0; i < N_CMDS; i++)
        if (strcasecmp(rest[0], cmds[i].word) == 0)
            cmd = i;
    if (cmd == N_CMDS)
        return tk_usage_error(pc, "unknown command '%s'", rest[0]);
    if (n_rest - 1 != (size_t)cmds[cmd].nargs) {
        if (cmd == C_ADD_SYMBOL)
            return tk_usage_error(pc, "%s", "usage: add_symbol SYMBOL WEIGHT");
        if (cmd == C_ADD_ACTION)
            return tk_usage_error(pc, "%s", "usage: add_action ACTION SCORE");
        return tk_usage_error(pc, "%s takes no arguments", cmds[cmd].word);
    }
    double d;
    if (cmd == C_ADD_SYMBOL && parse_number(rest[2], &d))
        return tk_usage_error(pc, "invalid weight '%s'", rest[2]);
    if (cmd == C_ADD_ACTION && parse_number(rest[2], &d))
        return tk_usage_error(pc,
                           "invalid score '%s': a number (Rspamd 3.4 stores a disabled action "
                           "in its dynamic configuration but never applies it: use a high "
                           "score instead)",
                           rest[2]);
    if (cmd == C_ADD_ACTION && !rk_ctl_action_settable(rest[1]))
        return tk_usage_error(pc,
                           "cannot set action '%s': Rspamd 3.4's controller "
                           "sets only reject, rewrite_subject, add_header and greylist",
                           rest[1]);
    if (tk_transport_opts.local_file)
        return tk_usage_error(pc, "%s", "--local-file: these commands send no message");
    if (cmd == C_COUNTERS && tk_parse_sort(o.sort, &sort_by.key, &sort_by.asc))
        return tk_usage_error(pc, "invalid --sort value '%s' (name, weight, frequency, time, hits[:asc])",
                           o.sort);
    tk_color_init();
    fmt = o.compact ? TK_OUT_COMPACT : o.json ? TK_OUT_JSON : o.ucl ? TK_OUT_UCL : TK_OUT_TEXT;
    int code = 0;
    rk_client *c = tk_client(RK_CONTROLLER_PORT, &code);
    if (c) {
        code = cmd == C_PING ? ping(c) : run(c, (enum cmd)cmd, rest + 1);
        rk_client_free(c);
    }
    code = tk_flush_stdout(code);
    poptFreeContext(pc);
    return code;
}
