/* rspamkit-ctl: controller commands without a message: stat, stat_reset,
 * counters, uptime, actions, add_symbol, add_action. */
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

enum cmd { C_STAT, C_STAT_RESET, C_COUNTERS, C_UPTIME, C_ACTIONS, C_ADD_SYMBOL, C_ADD_ACTION };

static const struct {
    const char *word, *path;
    int nargs;
} cmds[] = {
    [C_STAT] = {"stat", "/stat", 0},
    [C_STAT_RESET] = {"stat_reset", "/statreset", 0},
    [C_COUNTERS] = {"counters", "/counters", 0},
    [C_UPTIME] = {"uptime", "/auth", 0},
    [C_ACTIONS] = {"actions", "/actions", 0},
    [C_ADD_SYMBOL] = {"add_symbol", "/savesymbols", 2},
    [C_ADD_ACTION] = {"add_action", "/saveactions", 2},
};
#define N_CMDS (sizeof cmds / sizeof *cmds)

static tk_outfmt fmt;

/* ------------------------------------------------------------ helpers */

static int64_t int_of(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    if (json_is_true(v))
        return 1;
    return 0;
}

static double num_of(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* fmt's {:^W} with the padding's odd space on the right. */
static void centred(FILE *f, const char *s, int w)
{
    int len = (int)strlen(s), pad = w > len ? w - len : 0;
    fprintf(f, "%*s%s%*s", pad / 2, "", s, pad - pad / 2, "");
}

/* ------------------------------------------------------------ stat */

static void render_stat(FILE *f, const json_t *r)
{
    const char *b = tk_bold(), *e = tk_reset();
    int64_t scanned = int_of(r, "scanned");
    fprintf(f, "Messages scanned: %s%" PRId64 "%s\n", b, scanned, e);
    if (scanned > 0) {
        json_t *acts = json_object_get(r, "actions");
        const char *k;
        json_t *v;
        json_object_foreach(acts, k, v) {
            int64_t n = json_is_number(v) ? (int64_t)json_number_value(v) : 0;
            fprintf(f, "Messages with action %s: %s%" PRId64 "%s, %.2f%%\n", k, b, n, e,
                    (double)n / (double)scanned * 100.);
        }
        int64_t spam = int_of(r, "spam_count"), ham = int_of(r, "ham_count");
        fprintf(f, "Messages treated as spam: %s%" PRId64 "%s, %.2f%%\n", b, spam, e,
                (double)spam / (double)scanned * 100.);
        fprintf(f, "Messages treated as ham: %s%" PRId64 "%s, %.2f%%\n", b, ham, e,
                (double)ham / (double)scanned * 100.);
    }
    fprintf(f, "Messages learned: %s%" PRId64 "%s\n", b, int_of(r, "learned"), e);
    fprintf(f, "Connections count: %s%" PRId64 "%s\n", b, int_of(r, "connections"), e);
    fprintf(f, "Control connections count: %s%" PRId64 "%s\n", b,
            int_of(r, "control_connections"), e);
    json_t *times = json_object_get(r, "scan_times");
    if (json_is_array(times)) {
        double sum = 0;
        size_t n = 0, i;
        json_t *v;
        json_array_foreach(times, i, v) {
            if (json_is_number(v)) {
                sum += json_number_value(v);
                n++;
            }
        }
        if (n)
            fprintf(f, "Average scan time: %s%.3f%s sec\n", b, sum / (double)n, e);
    }
    static const struct {
        const char *label, *key;
    } pools[] = {
        {"Pools allocated", "pools_allocated"},   {"Pools freed", "pools_freed"},
        {"Bytes allocated", "bytes_allocated"},   {"Memory chunks allocated", "chunks_allocated"},
        {"Shared chunks allocated", "shared_chunks_allocated"},
        {"Chunks freed", "chunks_freed"},          {"Oversized chunks", "chunks_oversized"},
    };
    for (size_t i = 0; i < sizeof pools / sizeof *pools; i++)
        fprintf(f, "%s: %" PRId64 "\n", pools[i].label, int_of(r, pools[i].key));
    json_t *fh = json_object_get(r, "fuzzy_hashes");
    if (json_is_object(fh)) {
        const char *k;
        json_t *v;
        uint64_t stored = 0;
        json_object_foreach(fh, k, v) {
            int64_t n = json_is_number(v) ? (int64_t)json_number_value(v) : 0;
            fprintf(f, "Fuzzy hashes in storage \"%s\": %" PRId64 "\n", k, n);
            stored += (uint64_t)n;
        }
        fprintf(f, "Fuzzy hashes stored: %" PRIu64 "\n", stored);
    }
    static const char *const arrays[][2] = {{"fuzzy_checked", "Fuzzy hashes checked: "},
                                            {"fuzzy_found", "Fuzzy hashes found: "}};
    for (size_t a = 0; a < 2; a++) {
        json_t *arr = json_object_get(r, arrays[a][0]);
        if (!json_is_array(arr))
            continue;
        fputs(arrays[a][1], f);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
            fprintf(f, "%" PRId64 " ", json_is_number(v) ? (int64_t)json_number_value(v) : 0);
        fputc('\n', f);
    }
    json_t *sf = json_object_get(r, "statfiles");
    size_t i;
    json_t *s;
    json_array_foreach(sf, i, s) {
        const char *label = json_string_value(json_object_get(s, "label"));
        const char *sym = json_string_value(json_object_get(s, "symbol"));
        const char *type = json_string_value(json_object_get(s, "type"));
        int64_t total = int_of(s, "total"), used = int_of(s, "used");
        if (label)
            fprintf(f, "Statfile: %s <%s> type: %s; ", sym ? sym : "", label, type ? type : "");
        else
            fprintf(f, "Statfile: %s type: %s; ", sym ? sym : "", type ? type : "");
        fprintf(f,
                "length: %" PRId64 "; free blocks: %" PRId64 "; total blocks: %" PRId64
                "; free: %.2f%%; learned: %" PRId64 "; users: %" PRId64 "; languages: %" PRId64
                "\n",
                int_of(s, "size"), total - used, total,
                total > 0 ? (double)(total - used) * 100.0 / (double)total : 0.0,
                int_of(s, "revision"), int_of(s, "users"), int_of(s, "languages"));
    }
    fprintf(f, "Total learns: %" PRId64 "\n", int_of(r, "total_learns"));
}

/* ------------------------------------------------------------ uptime */

static const char *pl(int64_t n) { return n > 1 ? "s" : ""; }

/* rspamc's format, without 3.4's two bugs (a literal "%s" instead of the
 * version, and "second%s"). */
static void render_uptime(FILE *f, const json_t *r)
{
    json_t *ver = json_object_get(r, "version");
    if (ver)
        fprintf(f, "Rspamd version: %s\n", json_is_string(ver) ? json_string_value(ver) : "");
    if (!json_object_get(r, "uptime"))
        return;
    int64_t secs = int_of(r, "uptime");
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
    int key; /* 0 name, 1 weight, 2 frequency, 3 time, 4 hits, -1 server order */
    int asc;
} sort_by;

static int parse_sort(const char *s)
{
    static const char *const keys[] = {"name", "weight", "frequency", "time", "hits"};
    sort_by.key = 0;
    sort_by.asc = 0;
    if (!s)
        return 0;
    size_t n = strcspn(s, ":");
    if (s[n] && strcmp(s + n + 1, "asc") != 0)
        return -1;
    sort_by.asc = s[n] != 0;
    for (int i = 0; i < 5; i++)
        if (strlen(keys[i]) == n && strncmp(s, keys[i], n) == 0) {
            sort_by.key = i;
            return 0;
        }
    if (n == 5 && strncmp(s, "score", 5) == 0) {
        sort_by.key = 1;
        return 0;
    }
    return -1;
}

typedef struct {
    const json_t *v;
    size_t idx;
} row;

static int cmp_rows(const void *pa, const void *pb)
{
    const row *a = pa, *b = pb;
    int r = 0;
    if (sort_by.key == 0) {
        const char *x = json_string_value(json_object_get(a->v, "symbol"));
        const char *y = json_string_value(json_object_get(b->v, "symbol"));
        r = strcmp(x ? x : "", y ? y : "");
    } else if (sort_by.key == 4) {
        int64_t x = int_of(a->v, "hits"), y = int_of(b->v, "hits");
        r = x < y ? 1 : x > y ? -1 : 0;
    } else {
        const char *k = sort_by.key == 1 ? "weight" : sort_by.key == 2 ? "frequency" : "time";
        int64_t x = (int64_t)(num_of(a->v, k) * 1000), y = (int64_t)(num_of(b->v, k) * 1000);
        r = x < y ? 1 : x > y ? -1 : 0;
    }
    if (sort_by.asc)
        r = -r;
    return r ? r : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

static void render_counters(FILE *f, const json_t *r)
{
    if (!json_is_array(r)) {
        fputs("Bad output\n", f);
        return;
    }
    size_t n = json_array_size(r), w = 6;
    row *rows = calloc(n + 1, sizeof *rows);
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++) {
        rows[i].v = json_array_get(r, i);
        rows[i].idx = i;
        const char *s = json_string_value(json_object_get(rows[i].v, "symbol"));
        if (s && strlen(s) > w)
            w = strlen(s);
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
    fprintf(f, "| %-4s | %-*s | ", "", (int)w, "");
    centred(f, "", 7);
    fputs(" | ", f);
    centred(f, "hits/min", 13);
    fputs(" | ", f);
    centred(f, "", 7);
    fputs(" |\n", f);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = rows[i].v;
        fprintf(f, " %s \n", dash);
        const char *sym = json_string_value(json_object_get(v, "symbol"));
        if (!sym || !json_object_get(v, "weight") || !json_object_get(v, "frequency") ||
            !json_object_get(v, "hits"))
            continue;
        char name[64], num[64];
        if (strlen(sym) > w)
            snprintf(name, sizeof name, "%.*s...", (int)w - 3, sym);
        else
            snprintf(name, sizeof name, "%s", sym);
        fprintf(f, "| %-4zu | %-*s | ", i, (int)w, name);
        snprintf(num, sizeof num, "%.1f", num_of(v, "weight"));
        centred(f, num, 7);
        fputs(" | ", f);
        snprintf(num, sizeof num, "%.3f", num_of(v, "frequency") * 60.0);
        centred(f, num, 6);
        fputc('(', f);
        snprintf(num, sizeof num, "%.3f", num_of(v, "frequency_stddev") * 60.0);
        centred(f, num, 5);
        fputs(") | ", f);
        snprintf(num, sizeof num, "%" PRIu64, (uint64_t)int_of(v, "hits"));
        centred(f, num, 7);
        fputs(" |\n", f);
    }
    fprintf(f, " %s \n", dash);
    free(rows);
}

/* ------------------------------------------------------------ actions */

static void render_actions(FILE *f, const json_t *r)
{
    size_t i;
    json_t *a;
    json_array_foreach(r, i, a) {
        const char *name = json_string_value(json_object_get(a, "action"));
        json_t *v = json_object_get(a, "value");
        if (!name)
            continue;
        if (json_is_number(v))
            fprintf(f, "%s: %.2f\n", name, json_number_value(v));
        else
            fprintf(f, "%s: disabled\n", name);
    }
}

/* ------------------------------------------------------------ requests */

/* One request; prints the error and returns its exit code on failure.
 * On success *reply is the parsed JSON body (owned by the caller). */
static int call(rk_client *c, const char *path, const char *body, rk_response *resp,
                json_t **reply)
{
    rk_headers h = {0};
    rk_error err;
    rk_error_clear(&err);
    rk_headers_add(&h, "User-Agent", "rspamkit");
    if (body)
        rk_headers_add(&h, "Content-Type", "application/json");
    rk_request req = {
        .path = path, .method = body ? "POST" : "GET",
        .body = (const unsigned char *)body, .body_len = body ? strlen(body) : 0, .headers = &h,
    };
    memset(resp, 0, sizeof *resp);
    *reply = NULL;
    int rc = rk_client_request(c, &req, resp, &err);
    rk_headers_clear(&h);
    if (rc || err.code != RK_OK) {
        if (err.code == RK_ERR_HTTP && resp->body_len) {
            json_t *jb = json_loadb((const char *)resp->body, resp->body_len, 0, NULL);
            const char *m = json_string_value(json_object_get(jb, "error"));
            if (m && resp->reason && strcmp(m, resp->reason) != 0)
                snprintf(err.msg, sizeof err.msg, "HTTP error: %d, %s", resp->status, m);
            json_decref(jb);
        }
        tk_err("%s", err.msg);
        return tk_exit_for(&err);
    }
    json_error_t je;
    *reply = json_loadb((const char *)resp->body, resp->body_len, 0, &je);
    if (!*reply) {
        tk_err("bad reply from %s: %s", resp->host ? resp->host : "the server",
               resp->body_len ? je.text : "empty body");
        return TK_EX_PROTOCOL;
    }
    return 0;
}

static void heading(FILE *f, const char *word, double t)
{
    tk_heading(f, fmt, "command", word, t);
}

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

/* The weight of `sym` in a /symbols reply; 0 if found. */
static int symbol_weight(const json_t *groups, const char *sym, double *w)
{
    size_t i, k;
    json_t *g, *r;
    json_array_foreach(groups, i, g) {
        json_array_foreach(json_object_get(g, "rules"), k, r) {
            const char *name = json_string_value(json_object_get(r, "symbol"));
            if (name && strcmp(name, sym) == 0) {
                *w = num_of(r, "weight");
                return 0;
            }
        }
    }
    return -1;
}

/* The score of action `canon` in an /actions reply (NAN when disabled). */
static double action_score(const json_t *actions, const char *canon)
{
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) {
        const char *n = json_string_value(json_object_get(a, "action")), *c;
        if (n && rk_action_name_canon(n, &c) == 0 && strcmp(c, canon) == 0) {
            json_t *v = json_object_get(a, "value");
            return json_is_number(v) ? json_number_value(v) : NAN;
        }
    }
    return NAN;
}

static int same(double a, double b) { return fabs(a - b) < 0.001; }

/* Read the setting back: the controller applies its dynamic configuration
 * when it rereads the file, normally at once. 0, or an exit code. */
static int verify(rk_client *c, enum cmd cmd, const char *name, double want)
{
    for (int tries = 0; tries < 10; tries++) {
        rk_response resp;
        json_t *r = NULL;
        int code = call(c, cmd == C_ADD_SYMBOL ? "/symbols" : "/actions", NULL, &resp, &r);
        rk_response_clear(&resp);
        if (code)
            return code;
        double have = NAN;
        int found = cmd == C_ADD_SYMBOL ? symbol_weight(r, name, &have) == 0 : 1;
        if (cmd == C_ADD_ACTION)
            have = action_score(r, name);
        json_decref(r);
        if (found && same(have, want))
            return 0;
        if (tries == 9) {
            tk_err("the server answered success, but still reports %s %s %.2f", name,
                   cmd == C_ADD_SYMBOL ? "with weight" : "at", have);
            return TK_EX_PROTOCOL;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int run(rk_client *c, enum cmd cmd, const char **args)
{
    rk_response resp;
    json_t *reply = NULL, *cur = NULL;
    char *body = NULL;
    int code = 0, unchanged = 0;
    double value = 0, before = NAN;
    const char *name = args[0];
    rk_error err;
    rk_error_clear(&err);

    if (cmd == C_ADD_SYMBOL || cmd == C_ADD_ACTION) {
        parse_number(args[1], &value);
        /* Read the current setting first: 3.4 answers "404 No symbols to save"
         * both for an unknown symbol and for an unchanged weight, and
         * /saveactions replaces four scores at once. */
        code = call(c, cmd == C_ADD_SYMBOL ? "/symbols" : "/actions", NULL, &resp, &cur);
        rk_response_clear(&resp);
        if (code)
            return code;
        if (cmd == C_ADD_SYMBOL) {
            if (symbol_weight(cur, name, &before)) {
                tk_err("the server has no symbol '%s': add_symbol changes the weight of an "
                       "existing symbol", name);
                json_decref(cur);
                return TK_EX_USAGE;
            }
            unchanged = same(before, value);
            if (!unchanged)
                body = rk_savesymbols_body(name, value, &err);
        } else {
            rk_action_name_canon(args[0], &name);
            before = action_score(cur, name);
            unchanged = same(before, value);
            if (!unchanged)
                body = rk_saveactions_body(cur, name, value, &err);
        }
        json_decref(cur);
        if (!unchanged && !body) {
            tk_err("%s", err.msg);
            return tk_exit_for(&err);
        }
    }
    if (unchanged) {
        /* Nothing to send: the setting already has that value. */
        memset(&resp, 0, sizeof resp);
        reply = json_pack("{s:b, s:s}", "success", 1, "note", "unchanged");
    } else {
        code = call(c, cmds[cmd].path, body, &resp, &reply);
        free(body);
        if (code) {
            rk_response_clear(&resp);
            return code;
        }
        if (cmd == C_ADD_SYMBOL || cmd == C_ADD_ACTION) {
            code = verify(c, cmd, name, value);
            if (code) {
                json_decref(reply);
                rk_response_clear(&resp);
                return code;
            }
        }
    }
    int want_array = cmd == C_COUNTERS || cmd == C_ACTIONS;
    if (want_array ? !json_is_array(reply) : !json_is_object(reply)) {
        tk_err("bad reply from %s: not a JSON %s", resp.host ? resp.host : "the server",
               want_array ? "array" : "object");
        json_decref(reply);
        rk_response_clear(&resp);
        return TK_EX_PROTOCOL;
    }
    FILE *f = stdout;
    heading(f, cmds[cmd].word, resp.elapsed);
    if (o.headers && !unchanged)
        tk_print_headers(f, &resp);
    if (fmt == TK_OUT_UCL && !json_is_object(reply)) {
        /* libucl ends a top-level array without a newline; rk_emit adds one */
        size_t len;
        char *u = rk_emit(reply, RK_EMIT_UCL, &len);
        while (u && len && u[len - 1] == '\n')
            len--;
        if (u)
            fwrite(u, 1, len, f);
        fputc('\n', f);
        free(u);
    } else if (fmt != TK_OUT_TEXT) {
        tk_dump_reply(f, reply, fmt, NULL, resp.elapsed);
    } else {
        switch (cmd) {
        case C_STAT:
        case C_STAT_RESET: render_stat(f, reply); break;
        case C_COUNTERS: render_counters(f, reply); break;
        case C_UPTIME: render_uptime(f, reply); break;
        case C_ACTIONS: render_actions(f, reply); break;
        case C_ADD_SYMBOL:
        case C_ADD_ACTION:
            if (unchanged)
                fprintf(f, "%s %s: %s already %.2f, nothing changed\n",
                        cmd == C_ADD_SYMBOL ? "Symbol" : "Action", name,
                        cmd == C_ADD_SYMBOL ? "weight" : "score", value);
            else
                fprintf(f, "%s %s: %s %.2f (was %.2f)\n", cmd == C_ADD_SYMBOL ? "Symbol" : "Action",
                        name, cmd == C_ADD_SYMBOL ? "weight" : "score", value, before);
            break;
        }
        fputc('\n', f);
    }
    json_decref(reply);
    rk_response_clear(&resp);
    return 0;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    tk_prog = "rspamkit-ctl";
    signal(SIGPIPE, SIG_IGN);
    tk_password_argv(argc, argv, "ctl");
    poptContext pc = poptGetContext("rspamkit-ctl", argc, (const char **)argv, ctl_table, 0);
    poptSetOtherOptionHelp(pc, "[OPTION...] stat|stat_reset|counters|uptime|actions\n"
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
                                     "actions, add_symbol, add_action");
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
    if (cmd == C_ADD_ACTION) {
        const char *canon;
        if (rk_action_name_canon(rest[1], &canon) || strcmp(canon, "soft reject") == 0 ||
            strcmp(canon, "no action") == 0 || strcmp(canon, "discard") == 0 ||
            strcmp(canon, "quarantine") == 0)
            return tk_usage_error(pc,
                               "cannot set action '%s': Rspamd 3.4's controller (/saveactions) "
                               "sets only reject, rewrite_subject, add_header and greylist",
                               rest[1]);
    }
    if (tk_transport_opts.local_file)
        return tk_usage_error(pc, "%s", "--local-file: these commands send no message");
    if (cmd == C_COUNTERS && parse_sort(o.sort))
        return tk_usage_error(pc, "invalid --sort value '%s' (name, weight, frequency, time, hits[:asc])",
                           o.sort);
    tk_color_init();
    fmt = o.compact ? TK_OUT_COMPACT : o.json ? TK_OUT_JSON : o.ucl ? TK_OUT_UCL : TK_OUT_TEXT;
    int code = 0;
    rk_client *c = tk_client(RK_CONTROLLER_PORT, &code);
    if (c) {
        code = run(c, (enum cmd)cmd, rest + 1);
        rk_client_free(c);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            tk_err("error writing output: %s", strerror(errno));
        if (!code)
            code = TK_EX_IOERR;
    }
    poptFreeContext(pc);
    return code;
}
