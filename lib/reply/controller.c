/* The controller: learn and fuzzy requests and what their replies mean;
 * stat, counters, uptime, actions; changing a symbol's weight or an
 * action's score. */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------ requests */

static const struct {
    const char *path, *method;
} ops[] = {
    [RK_LEARN_SPAM] = {"/learnspam", "POST"},   [RK_LEARN_HAM] = {"/learnham", "POST"},
    [RK_LEARN_CLASS] = {"/learnclass", "POST"}, [RK_FUZZY_ADD] = {"/fuzzyadd", "POST"},
    [RK_FUZZY_DEL] = {"/fuzzydel", "POST"},     [RK_FUZZY_DELHASH] = {"/fuzzydelhash", "GET"},
};

RK_API rk_ctl_kind rk_ctl_op_kind(rk_ctl_op op)
{
    return op <= RK_LEARN_CLASS ? RK_CTL_LEARN : RK_CTL_FUZZY;
}

RK_API void rk_ctl_request(rk_ctl_op op, rk_request *req)
{
    req->path = ops[op].path;
    req->method = ops[op].method;
}

RK_API int rk_fuzzy_hash_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return 0;
    return n == RK_FUZZY_HASH_HEX;
}

RK_API int rk_ctl_headers_sized(rk_ctl_op op, const rk_ctl_args *caller, size_t a_size, rk_headers *h,
                                rk_error *err)
{
    rk_ctl_args full = {0}, *a = &full;
    if (rk_sized_in(&full, sizeof full, caller, a_size, err))
        return -1;
    if (op == RK_LEARN_CLASS && a->cls && rk_headers_add(h, "Class", a->cls))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    for (size_t i = 0; op == RK_FUZZY_DELHASH && i < a->n_hashes; i++) {
        if (!rk_fuzzy_hash_valid(a->hashes[i]))
            return rk_fail(err, RK_ERR_USAGE, "'%.140s' is not a fuzzy hash", a->hashes[i]);
        if (rk_headers_add(h, "Hash", a->hashes[i]))
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    if (a->filename && rk_headers_add(h, "Filename", a->filename))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return 0;
}

/* ------------------------------------------------------------ documents */

struct rk_ctl_doc {
    json_t *v;
};

/* Length of a bare nan/inf token at p (Rspamd prints non-finite doubles so),
 * or 0. */
static size_t nonfinite_len(const char *p, const char *end)
{
    static const char *const words[] = {"-infinity", "infinity", "-nan", "nan", "-inf", "inf"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(end - p) >= n && strncasecmp(p, words[i], n) == 0 &&
            (p + n == end || !isalnum((unsigned char)p[n])))
            return n;
    }
    return 0;
}

/* Parse a reply body; nan and inf outside strings read as null. */
static json_t *parse_body(const unsigned char *body, size_t len, json_error_t *je)
{
    const char *p = (const char *)body, *end = p + len;
    rk_buf b = {0};
    const char *copied = p; /* start of what is not yet in b */
    int in_str = 0;
    for (const char *q = p; q < end; q++) {
        if (in_str) {
            if (*q == '\\')
                q++;
            else if (*q == '"')
                in_str = 0;
            continue;
        }
        if (*q == '"') {
            in_str = 1;
            continue;
        }
        size_t n = (q == p || !isalnum((unsigned char)q[-1])) ? nonfinite_len(q, end) : 0;
        if (n) {
            if (rk_buf_append(&b, copied, (size_t)(q - copied)) || rk_buf_puts(&b, "null"))
                break;
            q += n - 1;
            copied = q + 1;
        }
    }
    json_t *v;
    if (copied == p) {
        v = json_loadb(p, len, 0, je);
    } else {
        rk_buf_append(&b, copied, (size_t)(end - copied));
        v = json_loadb((const char *)b.p, b.len, 0, je);
    }
    rk_buf_free(&b);
    return v;
}

static rk_ctl_doc *doc_new(json_t *v)
{
    rk_ctl_doc *d = v ? malloc(sizeof *d) : NULL;
    if (d)
        d->v = v;
    else
        json_decref(v);
    return d;
}

RK_API int rk_ctl_doc_parse(const void *body, size_t len, rk_ctl_doc **out, rk_error *err)
{
    json_error_t je;
    json_t *v = parse_body(body, len, &je);
    *out = NULL;
    if (!v)
        return rk_fail(err, RK_ERR_PROTOCOL, "%s", len ? je.text : "empty body");
    if (!(*out = doc_new(v)))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return 0;
}

RK_API void rk_ctl_doc_free(rk_ctl_doc *d)
{
    if (d) {
        json_decref(d->v);
        free(d);
    }
}

static char *with_newline(char *s, size_t *len, int strip)
{
    if (!s)
        return NULL;
    while (strip && *len && s[*len - 1] == '\n')
        (*len)--;
    char *t = realloc(s, *len + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[(*len)++] = '\n';
    t[*len] = 0;
    return t;
}

RK_API char *rk_ctl_doc_emit(const rk_ctl_doc *d, rk_emit_format fmt, const char *filename,
                             double t, size_t *len)
{
    size_t n = 0;
    char *s;
    if (!json_is_object(d->v)) {
        /* libucl ends a top-level array without a newline in UCL */
        s = with_newline(rk_emit(d->v, fmt, &n), &n, fmt == RK_EMIT_UCL);
    } else {
        json_t *copy = json_copy(d->v);
        if (!copy)
            return NULL;
        if (filename)
            json_object_set_new(copy, "filename", json_string_nocheck(filename));
        json_object_set_new(copy, "scan_time", json_real(t));
        s = with_newline(rk_emit(copy, fmt, &n), &n, 0);
        json_decref(copy);
    }
    if (len)
        *len = s ? n : 0;
    return s;
}

/* ------------------------------------------------------------ learn, fuzzy */

RK_API const char *rk_ctl_outcome_name(rk_ctl_kind kind, rk_ctl_outcome o)
{
    switch (o) {
    case RK_CTL_DONE: return kind == RK_CTL_LEARN ? "learned" : "done";
    case RK_CTL_ALREADY: return "already learned";
    case RK_CTL_SKIPPED: return "skipped";
    case RK_CTL_FAILED: return "failed";
    }
    return "unknown";
}

static void set_why(rk_error *why, rk_status code, int status, const char *msg)
{
    why->code = code;
    why->http_status = status;
    snprintf(why->msg, sizeof why->msg, "%s", msg ? msg : "");
}

/* A scanner (normal worker) answers every controller path with 500
 * "invalid command": the request went to the wrong port, which no retry
 * fixes. Fills `why` (RK_ERR_USAGE) and returns 1 when that is the case. */
static int scanner_port(rk_error *why, int status, const char *emsg, const char *host)
{
    if (status != 500 || !emsg || strcmp(emsg, "invalid command") != 0)
        return 0;
    char m[sizeof why->msg];
    snprintf(m, sizeof m,
             "HTTP error: 500, invalid command: %.200s is a scanner port; learning, fuzzy "
             "storage and statistics need the controller (port %d, or the configuration "
             "file's controller)",
             host ? host : "the server", RK_CONTROLLER_PORT);
    set_why(why, RK_ERR_USAGE, status, m);
    return 1;
}

/* Case-insensitive substring search. */
static int has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

/* Messages by which Rspamd (3.x and older 1.x/2.x paths) says "not learned,
 * but nothing is wrong": the learn cache, learn conditions, token count. */
static int learn_already(const char *m)
{
    return has(m, "already learned") || has(m, "already been learned");
}

static int learn_declined(const char *m)
{
    return has(m, "learn conditions denied") || has(m, "less tokens than required") ||
           has(m, "already in class") || has(m, "conditions denied") ||
           has(m, "skip learning") || has(m, "skipped learning");
}

static int fuzzy_declined(const char *m)
{
    return has(m, "No content to generate fuzzy") || has(m, "no hashes");
}

static rk_ctl_outcome classify(rk_ctl_kind kind, const rk_response *resp, const rk_error *err,
                               json_t *body, rk_error *why)
{
    const char *emsg = json_string_value(json_object_get(body, "error"));
    int status = resp->status;
    if (!emsg && status != 200)
        emsg = resp->reason && *resp->reason ? resp->reason : NULL;

    if (err && err->code == RK_ERR_AUTH) {
        set_why(why, RK_ERR_AUTH, status, err->msg);
        return RK_CTL_FAILED;
    }
    if (status >= 200 && status <= 299) {
        if (!json_is_object(body)) {
            char m[400];
            snprintf(m, sizeof m, "bad reply from %.200s: %s", resp->host ? resp->host : "server",
                     resp->body_len ? "not a JSON object" : "empty body");
            set_why(why, RK_ERR_PROTOCOL, status, m);
            return RK_CTL_FAILED;
        }
        if (kind == RK_CTL_LEARN && status == 208) {
            set_why(why, RK_OK, status, emsg ? emsg : "already learned");
            return RK_CTL_ALREADY;
        }
        if (status == 204) {
            set_why(why, RK_OK, status, emsg ? emsg : "the server declined the request");
            return RK_CTL_SKIPPED;
        }
        if (emsg) {
            /* 2xx carrying an error: declined by the server, not an error of ours. */
            set_why(why, RK_OK, status, emsg);
            return kind == RK_CTL_LEARN && learn_already(emsg) ? RK_CTL_ALREADY : RK_CTL_SKIPPED;
        }
        if (json_is_false(json_object_get(body, "success"))) {
            set_why(why, RK_ERR_SERVER, status, "the server answered \"success\": false");
            return RK_CTL_FAILED;
        }
        if (kind == RK_CTL_FUZZY && json_is_array(json_object_get(body, "hashes")) &&
            json_array_size(json_object_get(body, "hashes")) == 0) {
            set_why(why, RK_OK, status, "the server made no hashes of it");
            return RK_CTL_SKIPPED;
        }
        return RK_CTL_DONE;
    }
    /* 3xx/4xx/5xx: failures, except the ways older servers say
     * "already learned" or "declined" with an error status. */
    if (kind == RK_CTL_LEARN && emsg && learn_already(emsg)) {
        set_why(why, RK_OK, status, emsg);
        return RK_CTL_ALREADY;
    }
    if (emsg && (kind == RK_CTL_LEARN ? learn_declined(emsg) : fuzzy_declined(emsg))) {
        set_why(why, RK_OK, status, emsg);
        return RK_CTL_SKIPPED;
    }
    if (scanner_port(why, status, emsg, resp->host))
        return RK_CTL_FAILED;
    char m[sizeof why->msg];
    snprintf(m, sizeof m, "HTTP error: %d, %s", status, emsg ? emsg : "(no reason)");
    set_why(why, err && err->code != RK_OK ? err->code : RK_ERR_HTTP, status, m);
    return RK_CTL_FAILED;
}

RK_API void rk_ctl_reply_fail(rk_ctl_reply *out, const rk_error *why)
{
    memset(out, 0, sizeof *out);
    out->outcome = RK_CTL_FAILED;
    out->why = *why;
}

RK_API rk_ctl_outcome rk_ctl_classify(rk_ctl_op op, const rk_response *resp,
                                      const rk_error *err, rk_ctl_reply *out)
{
    memset(out, 0, sizeof *out);
    rk_error_clear(&out->why);
    /* No reply at all: transport failure, as the client reported it. */
    if (!resp || resp->status == 0) {
        if (err)
            out->why = *err;
        if (out->why.code == RK_OK) {
            out->why.code = RK_ERR_RECV;
            snprintf(out->why.msg, sizeof out->why.msg, "no reply from %s",
                     resp && resp->host ? resp->host : "the server");
        }
        return out->outcome = RK_CTL_FAILED;
    }
    out->elapsed = resp->elapsed;
    json_t *body = NULL;
    if (resp->body && resp->body_len)
        body = parse_body(resp->body, resp->body_len, NULL);
    out->outcome = classify(rk_ctl_op_kind(op), resp, err, body, &out->why);
    if (out->outcome == RK_CTL_FAILED && op == RK_LEARN_CLASS && resp->status == 404 &&
        resp->reason && strcasecmp(resp->reason, "Not found") == 0)
        snprintf(out->why.msg, sizeof out->why.msg,
                 "the server has no /learnclass (Rspamd before 3.13): use --spam or --ham, "
                 "and -c for another classifier");
    out->why.http_status = resp->status;
    if (!json_is_object(body)) {
        json_decref(body);
        return out->outcome;
    }
    out->doc = doc_new(body);
    json_t *h = json_object_get(body, "hashes");
    if (out->doc && json_array_size(h)) {
        out->hashes = calloc(json_array_size(h), sizeof *out->hashes);
        for (size_t i = 0; out->hashes && i < json_array_size(h); i++)
            if (json_is_string(json_array_get(h, i)))
                out->hashes[out->n_hashes++] = json_string_value(json_array_get(h, i));
    }
    return out->outcome;
}

RK_API void rk_ctl_reply_clear(rk_ctl_reply *r)
{
    free(r->hashes);
    rk_ctl_doc_free(r->doc);
    r->hashes = NULL;
    r->n_hashes = 0;
    r->doc = NULL;
}

RK_API char *rk_ctl_reply_json(const rk_ctl_reply *r, const char *filename, const char *outcome,
                               const char *cls, int with_hashes)
{
    json_t *v = json_object();
    if (!v)
        return NULL;
    if (filename)
        json_object_set_new(v, "filename", json_string(filename));
    json_object_set_new(v, "outcome", json_string(outcome));
    if (cls)
        json_object_set_new(v, "class", json_string(cls));
    json_object_set_new(v, "status",
                        r->why.http_status ? json_integer(r->why.http_status) : json_null());
    if (with_hashes) {
        json_t *h = r->doc ? json_object_get(r->doc->v, "hashes") : NULL;
        json_object_set_new(v, "hashes", json_is_array(h) ? json_deep_copy(h) : json_array());
    }
    if (r->outcome != RK_CTL_DONE)
        json_object_set_new(v, "message", json_string(r->why.msg));
    json_object_set_new(v, "time", json_real(r->elapsed));
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(v);
    return s;
}

/* ------------------------------------------------------------ queries */

static const struct {
    const char *path;
    int array;
} queries[] = {
    [RK_CTL_STAT] = {"/stat", 0},         [RK_CTL_STAT_RESET] = {"/statreset", 0},
    [RK_CTL_COUNTERS] = {"/counters", 1}, [RK_CTL_UPTIME] = {"/auth", 0},
    [RK_CTL_ACTIONS] = {"/actions", 1},   [RK_CTL_SYMBOLS] = {"/symbols", 1},
};

/* GET `path`, or POST `body` (JSON) to it. */
static int request(rk_client *c, const char *path, const char *body, rk_response *resp,
                   rk_ctl_doc **out, rk_error *err)
{
    rk_headers h = {0};
    rk_error_clear(err);
    *out = NULL;
    memset(resp, 0, sizeof *resp);
    if (rk_headers_add(&h, "User-Agent", "rspamkit") ||
        (body && rk_headers_add(&h, "Content-Type", "application/json"))) {
        rk_headers_clear(&h);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    rk_request req = {
        .path = path, .method = body ? "POST" : "GET",
        .body = (const unsigned char *)body, .body_len = body ? strlen(body) : 0, .headers = &h,
    };
    int rc = rk_client_request(c, &req, resp, err);
    rk_headers_clear(&h);
    if (rc || err->code != RK_OK) {
        if (err->code == RK_ERR_HTTP && resp->body_len) {
            json_t *jb = parse_body(resp->body, resp->body_len, NULL);
            const char *m = json_string_value(json_object_get(jb, "error"));
            if (scanner_port(err, resp->status, m, resp->host))
                ;
            else if (m && resp->reason && strcmp(m, resp->reason) != 0)
                snprintf(err->msg, sizeof err->msg, "HTTP error: %d, %s", resp->status, m);
            json_decref(jb);
        }
        return -1;
    }
    rk_error why;
    if (rk_ctl_doc_parse(resp->body, resp->body_len, out, &why) == 0)
        return 0;
    if (why.code != RK_ERR_PROTOCOL)
        return rk_fail(err, why.code, "%s", why.msg);
    return rk_fail(err, RK_ERR_PROTOCOL, "bad reply from %s: %s",
                   resp->host ? resp->host : "the server", why.msg);
}

static int check_shape(const rk_ctl_doc *d, int array, const rk_response *resp, rk_error *err)
{
    if (array ? json_is_array(d->v) : json_is_object(d->v))
        return 0;
    return rk_fail(err, RK_ERR_PROTOCOL, "bad reply from %s: not a JSON %s",
                   resp->host ? resp->host : "the server", array ? "array" : "object");
}

RK_API int rk_ctl_query_run(rk_client *c, rk_ctl_query q, rk_response *resp, rk_ctl_doc **out,
                            rk_error *err)
{
    if (request(c, queries[q].path, NULL, resp, out, err))
        return -1;
    if (check_shape(*out, queries[q].array, resp, err)) {
        rk_ctl_doc_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

RK_API int rk_ctl_ping(rk_client *c, rk_response *resp, rk_error *err)
{
    rk_request req = {.path = "/ping", .method = "GET"};
    rk_error_clear(err);
    memset(resp, 0, sizeof *resp);
    if (rk_client_request(c, &req, resp, err))
        return -1;
    size_t n = resp->body_len;
    const unsigned char *b = resp->body;
    while (n && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' '))
        n--;
    if (n == 4 && memcmp(b, "pong", 4) == 0)
        return 0;
    return rk_fail(err, RK_ERR_PROTOCOL, "bad reply from %s to /ping: %s",
                   resp->host ? resp->host : "the server", n ? "not \"pong\"" : "empty body");
}

/* ------------------------------------------------------------ typed views */

static int64_t int_of(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return json_is_true(v) ? 1 : 0;
}

static double num_of(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static int64_t count_of(const json_t *v)
{
    return json_is_number(v) ? (int64_t)json_number_value(v) : 0;
}

static const char *str_or(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : dflt;
}

static int not_a(const rk_ctl_doc *d, int array, rk_error *err)
{
    if (d && (array ? json_is_array(d->v) : json_is_object(d->v)))
        return 0;
    return rk_fail(err, RK_ERR_PROTOCOL, "the reply is not a JSON %s", array ? "array" : "object");
}

/* The members of object `o` as name/count pairs; -1 on ENOMEM. */
static int counts(const json_t *o, rk_ctl_count **out, size_t *n)
{
    const char *k;
    json_t *v;
    *n = 0;
    *out = calloc(json_object_size(o) + 1, sizeof **out);
    if (!*out)
        return -1;
    json_object_foreach((json_t *)o, k, v) {
        (*out)[*n].name = k;
        (*out)[(*n)++].count = count_of(v);
    }
    return 0;
}

static int ints(const json_t *a, int64_t **out, size_t *n)
{
    *n = json_array_size(a);
    *out = calloc(*n + 1, sizeof **out);
    for (size_t i = 0; *out && i < *n; i++)
        (*out)[i] = count_of(json_array_get(a, i));
    return *out ? 0 : -1;
}

RK_API void rk_stat_clear(rk_stat *s)
{
    free(s->actions);
    free(s->scan_times);
    free(s->fuzzy_hashes);
    free(s->fuzzy_checked);
    free(s->fuzzy_found);
    free(s->statfiles);
    memset(s, 0, sizeof *s);
}

RK_API int rk_ctl_stat(const rk_ctl_doc *d, rk_stat *out, rk_error *err)
{
    memset(out, 0, sizeof *out);
    if (not_a(d, 0, err))
        return -1;
    const json_t *r = d->v;
    out->scanned = int_of(r, "scanned");
    out->learned = int_of(r, "learned");
    out->spam_count = int_of(r, "spam_count");
    out->ham_count = int_of(r, "ham_count");
    out->connections = int_of(r, "connections");
    out->control_connections = int_of(r, "control_connections");
    out->pools_allocated = int_of(r, "pools_allocated");
    out->pools_freed = int_of(r, "pools_freed");
    out->bytes_allocated = int_of(r, "bytes_allocated");
    out->chunks_allocated = int_of(r, "chunks_allocated");
    out->shared_chunks_allocated = int_of(r, "shared_chunks_allocated");
    out->chunks_freed = int_of(r, "chunks_freed");
    out->chunks_oversized = int_of(r, "chunks_oversized");
    out->total_learns = int_of(r, "total_learns");
    int bad = counts(json_object_get(r, "actions"), &out->actions, &out->n_actions);

    json_t *times = json_object_get(r, "scan_times");
    out->has_scan_times = json_is_array(times);
    out->scan_times = calloc(json_array_size(times) + 1, sizeof *out->scan_times);
    bad |= !out->scan_times;
    for (size_t i = 0; out->scan_times && i < json_array_size(times); i++)
        if (json_is_number(json_array_get(times, i)))
            out->scan_times[out->n_scan_times++] = json_number_value(json_array_get(times, i));

    json_t *fh = json_object_get(r, "fuzzy_hashes");
    out->has_fuzzy_hashes = json_is_object(fh);
    bad |= counts(fh, &out->fuzzy_hashes, &out->n_fuzzy_hashes);
    json_t *fc = json_object_get(r, "fuzzy_checked"), *ff = json_object_get(r, "fuzzy_found");
    out->has_fuzzy_checked = json_is_array(fc);
    out->has_fuzzy_found = json_is_array(ff);
    bad |= ints(fc, &out->fuzzy_checked, &out->n_fuzzy_checked);
    bad |= ints(ff, &out->fuzzy_found, &out->n_fuzzy_found);

    json_t *sf = json_object_get(r, "statfiles");
    out->statfiles = calloc(json_array_size(sf) + 1, sizeof *out->statfiles);
    bad |= !out->statfiles;
    for (size_t i = 0; out->statfiles && i < json_array_size(sf); i++) {
        const json_t *s = json_array_get(sf, i);
        rk_statfile *f = &out->statfiles[out->n_statfiles++];
        f->symbol = str_or(s, "symbol", "");
        f->type = str_or(s, "type", "");
        f->label = str_or(s, "label", NULL);
        f->revision = int_of(s, "revision");
        f->used = int_of(s, "used");
        f->total = int_of(s, "total");
        f->size = int_of(s, "size");
        f->users = int_of(s, "users");
        f->languages = int_of(s, "languages");
    }
    if (bad) {
        rk_stat_clear(out);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    return 0;
}

RK_API int rk_ctl_counters(const rk_ctl_doc *d, rk_counter **out, size_t *n, rk_error *err)
{
    *out = NULL;
    *n = 0;
    if (not_a(d, 1, err))
        return -1;
    size_t k = json_array_size(d->v);
    rk_counter *v = calloc(k + 1, sizeof *v);
    if (!v)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < k; i++) {
        const json_t *e = json_array_get(d->v, i);
        v[i].symbol = str_or(e, "symbol", NULL);
        v[i].weight = num_of(e, "weight");
        v[i].frequency = num_of(e, "frequency");
        v[i].frequency_stddev = num_of(e, "frequency_stddev");
        v[i].time = num_of(e, "time");
        v[i].hits = int_of(e, "hits");
        v[i].complete = v[i].symbol && json_object_get(e, "weight") &&
                        json_object_get(e, "frequency") && json_object_get(e, "hits");
    }
    *out = v;
    *n = k;
    return 0;
}

RK_API int rk_ctl_uptime(const rk_ctl_doc *d, rk_uptime *out, rk_error *err)
{
    memset(out, 0, sizeof *out);
    if (not_a(d, 0, err))
        return -1;
    json_t *ver = json_object_get(d->v, "version");
    out->version = ver ? str_or(d->v, "version", "") : NULL;
    out->has_uptime = json_object_get(d->v, "uptime") != NULL;
    out->uptime = int_of(d->v, "uptime");
    return 0;
}

RK_API int rk_ctl_neural_requires_scan(const rk_ctl_doc *d, const char *rule)
{
    json_t *rules = d ? json_object_get(json_object_get(d->v, "data"), "rules") : NULL;
    json_t *rq = json_object_get(json_object_get(rules, rule ? rule : "default"), "requires_scan");
    return !(json_is_object(rules) && rq && !json_is_true(rq));
}

/* The actions of an /actions reply (a JSON array). */
static rk_action_score *actions_of(const json_t *a, size_t *n)
{
    size_t k = json_array_size(a);
    rk_action_score *v = calloc(k + 1, sizeof *v);
    *n = 0;
    for (size_t i = 0; v && i < k; i++) {
        const json_t *e = json_array_get(a, i);
        const char *name = str_or(e, "action", NULL);
        json_t *val = json_object_get(e, "value");
        if (!name)
            continue;
        v[*n].name = name;
        v[(*n)++].score = json_is_number(val) ? json_number_value(val) : NAN;
    }
    return v;
}

RK_API int rk_ctl_actions(const rk_ctl_doc *d, rk_action_score **out, size_t *n, rk_error *err)
{
    *out = NULL;
    *n = 0;
    if (not_a(d, 1, err))
        return -1;
    if (!(*out = actions_of(d->v, n)))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return 0;
}

/* ------------------------------------------------------------ settings */

/* The four slots of 3.4's /saveactions, in its order. */
static const char *const save_slots[4] = {"reject", "rewrite subject", "add header", "greylist"};

RK_API int rk_action_name_canon(const char *name, const char **canon)
{
    char buf[64];
    size_t n = strlen(name);
    if (n >= sizeof buf)
        return -1;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (name[i] == '_' || name[i] == '-') ? ' ' : name[i];
    static const char *const all[] = {"reject", "rewrite subject", "add header", "greylist",
                                      "soft reject", "no action", "discard", "quarantine"};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (strcasecmp(buf, all[i]) == 0) {
            *canon = all[i];
            return 0;
        }
    return -1;
}

/* The score of canonical action `canon` (NAN when disabled or absent). */
static double action_score(const rk_action_score *a, size_t n, const char *canon)
{
    const char *c;
    for (size_t i = 0; i < n; i++)
        if (rk_action_name_canon(a[i].name, &c) == 0 && strcmp(c, canon) == 0)
            return a[i].score;
    return NAN;
}

/* The /saveactions slot of `action`, or -1. */
static int save_slot(const char *action)
{
    const char *canon;
    if (rk_action_name_canon(action, &canon) == 0)
        for (int i = 0; i < 4; i++)
            if (strcmp(canon, save_slots[i]) == 0)
                return i;
    return -1;
}

RK_API int rk_ctl_action_settable(const char *name)
{
    return save_slot(name) >= 0;
}

RK_API char *rk_saveactions_body(const rk_action_score *actions, size_t n, const char *action,
                                 double score, rk_error *err)
{
    int slot = save_slot(action);
    if (slot < 0) {
        rk_fail(err, RK_ERR_USAGE,
                "cannot set action '%s': the controller's /saveactions takes only reject, "
                "rewrite subject, add header and greylist", action);
        return NULL;
    }
    json_t *arr = json_array();
    for (int i = 0; arr && i < 4; i++) {
        double v = i == slot ? score : action_score(actions, n, save_slots[i]);
        /* not configured or disabled: stays disabled */
        json_array_append_new(arr, isfinite(v) ? json_real(v) : json_null());
    }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!s)
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return s;
}

RK_API char *rk_savesymbols_body(const char *symbol, double weight, rk_error *err)
{
    if (!symbol || !*symbol || isnan(weight) || isinf(weight)) {
        rk_fail(err, RK_ERR_USAGE, "a symbol name and a finite weight are needed");
        return NULL;
    }
    json_t *arr = json_pack("[{s:s, s:f}]", "name", symbol, "value", weight);
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!s)
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return s;
}

/* The weight of `sym` in a /symbols reply (groups with their rules). */
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

/* The current value: a symbol's weight (-1 when there is no such symbol) or
 * an action's score. */
static int current(rk_client *c, int symbol, const char *name, double *have, rk_error *err)
{
    rk_response resp;
    rk_ctl_doc *d = NULL;
    int rc = request(c, symbol ? "/symbols" : "/actions", NULL, &resp, &d, err);
    rk_response_clear(&resp);
    if (rc)
        return -2;
    if (symbol) {
        rc = symbol_weight(d->v, name, have);
    } else {
        size_t n;
        rk_action_score *a = actions_of(d->v, &n);
        *have = action_score(a, n, name);
        rc = 0;
        free(a);
    }
    rk_ctl_doc_free(d);
    return rc;
}

static int same(double a, double b) { return fabs(a - b) < 0.001; }

static int set_value(rk_client *c, int symbol, const char *name, double want,
                     rk_ctl_change *out, rk_response *resp, rk_ctl_doc **reply, rk_error *err)
{
    char *body = NULL;
    memset(resp, 0, sizeof *resp);
    *reply = NULL;
    out->name = name;
    out->unchanged = 0;
    out->before = NAN;
    rk_error_clear(err);
    /* Read the current setting first: 3.4 answers "404 No symbols to save"
     * both for an unknown symbol and for an unchanged weight, and
     * /saveactions replaces four scores at once. */
    if (symbol) {
        int rc = current(c, 1, name, &out->before, err);
        if (rc == -2)
            return -1;
        if (rc)
            return rk_fail(err, RK_ERR_USAGE, "the server has no symbol '%s': add_symbol changes "
                           "the weight of an existing symbol", name);
        out->unchanged = same(out->before, want);
        if (!out->unchanged && !(body = rk_savesymbols_body(name, want, err)))
            return -1;
    } else {
        rk_response r;
        rk_ctl_doc *d = NULL;
        int rc = request(c, "/actions", NULL, &r, &d, err);
        rk_response_clear(&r);
        if (rc)
            return -1;
        size_t n;
        rk_action_score *a = actions_of(d->v, &n);
        out->before = action_score(a, n, name);
        out->unchanged = same(out->before, want);
        if (!out->unchanged)
            body = rk_saveactions_body(a, n, name, want, err);
        free(a);
        rk_ctl_doc_free(d);
        if (!out->unchanged && !body)
            return -1;
    }
    if (out->unchanged) {
        /* Nothing to send: the setting already has that value. */
        *reply = doc_new(json_pack("{s:b, s:s}", "success", 1, "note", "unchanged"));
        return *reply ? 0 : rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    int rc = request(c, symbol ? "/savesymbols" : "/saveactions", body, resp, reply, err);
    free(body);
    if (rc)
        return -1;
    /* Read the setting back. */
    for (int tries = 0;; tries++) {
        double have = NAN;
        int found = current(c, symbol, name, &have, err);
        if (found == -2)
            return -1;
        if (found == 0 && same(have, want))
            break;
        if (tries == 9)
            return rk_fail(err, RK_ERR_PROTOCOL,
                           "the server answered success, but still reports %s %s %.2f", name,
                           symbol ? "with weight" : "at", have);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return check_shape(*reply, 0, resp, err);
}

/* On failure *reply is freed; resp keeps the reply that failed, if any. */
static int set_done(int rc, rk_ctl_doc **reply)
{
    if (rc) {
        rk_ctl_doc_free(*reply);
        *reply = NULL;
    }
    return rc;
}

RK_API int rk_ctl_set_symbol(rk_client *c, const char *symbol, double weight,
                             rk_ctl_change *out, rk_response *resp, rk_ctl_doc **reply,
                             rk_error *err)
{
    return set_done(set_value(c, 1, symbol, weight, out, resp, reply, err), reply);
}

RK_API int rk_ctl_set_action(rk_client *c, const char *action, double score,
                             rk_ctl_change *out, rk_response *resp, rk_ctl_doc **reply,
                             rk_error *err)
{
    const char *canon;
    memset(resp, 0, sizeof *resp);
    *reply = NULL;
    if (rk_action_name_canon(action, &canon))
        return rk_fail(err, RK_ERR_USAGE, "unknown action '%s'", action);
    return set_done(set_value(c, 0, canon, score, out, resp, reply, err), reply);
}
