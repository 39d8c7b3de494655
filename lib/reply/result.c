/* The /checkv2 reply parsed into rk_result.
 *
 * A scan in bulk spends most of its client time here, so the reply is read
 * by a small strict JSON reader that decodes only what rk_result holds
 * (action, scores, symbols and their options) into one block of memory.
 * The few sub-objects kept as JSON (messages, urls, milter ...) are small
 * and handed to jansson alone; the whole tree only when the caller asks for
 * it (RK_RESULT_TREE: -j, --ucl). What is accepted is what jansson accepts:
 * RFC 8259 JSON, UTF-8 only, no NUL in strings. */
#include "internal.h"
#include "reply/reply.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 2048 /* as jansson's parser */

typedef struct reader {
    const unsigned char *p, *start, *end;
    char *arena;       /* decoded strings, each NUL-terminated */
    size_t used;
    int depth;
    const char *why;   /* first error */
    int nomem;
} reader;

static int bad(reader *r, const char *why)
{
    if (!r->why)
        r->why = why;
    return -1;
}

static int nomem(reader *r)
{
    r->nomem = 1;
    return bad(r, "out of memory");
}

static void ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* Consume `c` after optional white space. */
static int eat(reader *r, unsigned char c)
{
    ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return 1;
    }
    return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v |= (c | 0x20) - 'a' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (a byte >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], cp;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * A string at r->p (after white space). With `keep`, its decoded text goes
 * to the arena and is returned; without, it is only checked (returns a
 * non-NULL dummy). NULL on error. A decoded string is never longer than
 * its quoted form, so an arena as long as the input always has room.
 */
static const char *string(reader *r, int keep)
{
    ws(r);
    if (r->p >= r->end || *r->p != '"')
        return bad(r, "string expected"), NULL;
    r->p++;
    char *out = keep ? r->arena + r->used : NULL;
    size_t n = 0;
    for (;;) {
        /* plain run */
        const unsigned char *s = r->p;
        while (r->p < r->end && *r->p >= 0x20 && *r->p != '"' && *r->p != '\\' && *r->p < 0x80)
            r->p++;
        if (keep && r->p > s) {
            memcpy(out + n, s, (size_t)(r->p - s));
            n += (size_t)(r->p - s);
        }
        if (r->p >= r->end)
            return bad(r, "unterminated string"), NULL;
        unsigned c = *r->p;
        if (c == '"') {
            r->p++;
            break;
        }
        if (c < 0x20)
            return bad(r, "control character in a string"), NULL;
        if (c >= 0x80) {
            size_t l = utf8_len(r->p, r->end);
            if (!l)
                return bad(r, "invalid UTF-8 in a string"), NULL;
            if (keep)
                memcpy(out + n, r->p, l), n += l;
            r->p += l;
            continue;
        }
        /* backslash */
        if (r->end - r->p < 2)
            return bad(r, "unterminated string"), NULL;
        c = r->p[1];
        r->p += 2;
        char e;
        switch (c) {
        case '"': e = '"'; break;
        case '\\': e = '\\'; break;
        case '/': e = '/'; break;
        case 'b': e = '\b'; break;
        case 'f': e = '\f'; break;
        case 'n': e = '\n'; break;
        case 'r': e = '\r'; break;
        case 't': e = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (r->end - r->p < 4 || hex4(r->p, &cp))
                return bad(r, "invalid \\u escape"), NULL;
            r->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return bad(r, "invalid \\u surrogate pair"), NULL;
                r->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return bad(r, "invalid \\u surrogate pair"), NULL;
            } else if (cp == 0) {
                return bad(r, "\\u0000 is not allowed"), NULL;
            }
            if (keep)
                n += put_utf8(out + n, cp);
            continue;
        }
        default:
            return bad(r, "invalid escape"), NULL;
        }
        if (keep)
            out[n++] = e;
    }
    if (!keep)
        return "";
    out[n] = 0;
    r->used += n + 1;
    return out;
}

/* A number; *is_int (when non-NULL) tells whether it was written as an
 * integer (no fraction, no exponent: what jansson makes an integer of). */
static int number_ex(reader *r, double *out, int *is_int)
{
    ws(r);
    const unsigned char *s = r->p, *p = s, *e = r->end;
    if (p < e && *p == '-')
        p++;
    if (p < e && *p == '0')
        p++;
    else if (p < e && *p >= '1' && *p <= '9')
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    else
        return bad(r, "invalid value");
    if (p < e && *p == '.') {
        if (++p >= e || *p < '0' || *p > '9')
            return bad(r, "invalid number");
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            return bad(r, "invalid number");
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    r->p = p;
    /* As jansson: an integer must fit in 64 bits, a real must not overflow. */
    char small[64];
    size_t len = (size_t)(p - s);
    char *tmp = len < sizeof small ? small : malloc(len + 1);
    if (!tmp)
        return nomem(r);
    memcpy(tmp, s, len);
    tmp[len] = 0;
    errno = 0;
    double v;
    const char *why = NULL;
    int integer = !memchr(tmp, '.', len) && !memchr(tmp, 'e', len) && !memchr(tmp, 'E', len);
    if (is_int)
        *is_int = integer;
    if (integer) {
        long long ll = strtoll(tmp, NULL, 10);
        if (errno == ERANGE)
            why = "integer too big";
        v = (double)ll;
    } else {
        v = strtod(tmp, NULL);
        if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
            why = "real number overflow";
    }
    if (tmp != small)
        free(tmp);
    if (why)
        return bad(r, why);
    if (out)
        *out = v;
    return 0;
}

static int number(reader *r, double *out) { return number_ex(r, out, NULL); }

static int literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return bad(r, "invalid value");
    r->p += n;
    return 0;
}

static int skip(reader *r);

/* An object or array whose opening character was consumed: each member is
 * handed to `member` (object: after its key), or skipped when it is NULL. */
typedef int (*member_fn)(reader *r, const char *key, void *ud);

static int object(reader *r, member_fn member, int keep_keys, void *ud)
{
    if (++r->depth > MAX_DEPTH)
        return bad(r, "nested too deeply");
    if (!eat(r, '}')) {
        do {
            const char *k = string(r, keep_keys);
            if (!k)
                return -1;
            if (!eat(r, ':'))
                return bad(r, "':' expected");
            if (member ? member(r, k, ud) : skip(r))
                return -1;
        } while (eat(r, ','));
        if (!eat(r, '}'))
            return bad(r, "',' or '}' expected");
    }
    r->depth--;
    return 0;
}

static int array(reader *r, member_fn member, void *ud)
{
    if (++r->depth > MAX_DEPTH)
        return bad(r, "nested too deeply");
    if (!eat(r, ']')) {
        do {
            if (member ? member(r, NULL, ud) : skip(r))
                return -1;
        } while (eat(r, ','));
        if (!eat(r, ']'))
            return bad(r, "',' or ']' expected");
    }
    r->depth--;
    return 0;
}

/* Check one value and step over it. */
static int skip(reader *r)
{
    ws(r);
    if (r->p >= r->end)
        return bad(r, "value expected");
    switch (*r->p) {
    case '{':
        r->p++;
        return object(r, NULL, 0, NULL);
    case '[':
        r->p++;
        return array(r, NULL, NULL);
    case '"':
        return string(r, 0) ? 0 : -1;
    case 't':
        return literal(r, "true");
    case 'f':
        return literal(r, "false");
    case 'n':
        return literal(r, "null");
    default:
        return number(r, NULL);
    }
}

/* What the value at r->p is, without consuming it. */
static int peek(reader *r)
{
    ws(r);
    return r->p < r->end ? *r->p : 0;
}

/* A number value into *out (and *has), anything else only checked (a later
 * duplicate key wins, as in jansson). */
static int num_member(reader *r, double *out, int *has)
{
    int c = peek(r);
    if (has)
        *has = 0;
    if (c == '-' || (c >= '0' && c <= '9')) {
        if (has)
            *has = 1;
        return number(r, out);
    }
    return skip(r);
}

/* A string value, or NULL for anything else (checked). */
static int str_member(reader *r, const char **out)
{
    *out = NULL;
    if (peek(r) != '"')
        return skip(r);
    *out = string(r, 1);
    return *out ? 0 : -1;
}

typedef struct strs {
    const char **v;
    size_t n, cap;
} strs;

static int strs_cb(reader *r, const char *key, void *ud)
{
    (void)key;
    strs *s = ud;
    const char *v = NULL;
    if (str_member(r, &v))
        return -1;
    if (!v)
        return 0;
    if (s->n + 1 >= s->cap) { /* room for v and the NULL after it */
        size_t cap = s->cap * 2 >= s->n + 2 ? s->cap * 2 : s->n + 8;
        const char **nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return nomem(r);
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = v;
    s->v[s->n] = NULL;
    return 0;
}

/* A string, or an array of them (non-strings skipped). has: an array was seen. */
static int string_list(reader *r, strs *s, int *has)
{
    int c = peek(r);
    if (c == '[') {
        r->p++;
        if (has)
            *has = 1;
        if (!s->v && !(s->v = calloc(1, sizeof *s->v)))
            return nomem(r);
        s->cap = s->cap ? s->cap : 1;
        return array(r, strs_cb, s);
    }
    if (c == '"' && !has)
        return strs_cb(r, NULL, s);
    return skip(r);
}

#define N_KEPT 5

typedef struct parse {
    rk_result *res;
    size_t cap;        /* of res->symbols */
    size_t cap_add, cap_rm; /* of res->milter_add, res->milter_remove */
    const char *value; /* "value" of a milter.add_headers object */
    struct { const unsigned char *p; size_t n; } slice[N_KEPT];
} parse;

static int symbol_cb(reader *r, const char *key, void *ud)
{
    rk_symbol *y = ud;
    if (strcmp(key, "score") == 0)
        return num_member(r, &y->score, &y->has_score);
    if (strcmp(key, "metric_score") == 0)
        return num_member(r, &y->metric_score, NULL);
    if (strcmp(key, "description") == 0)
        return str_member(r, &y->description);
    if (strcmp(key, "options") == 0) {
        strs s = {NULL, 0, 0};
        free(y->options);
        int rc = string_list(r, &s, &y->has_options);
        y->options = s.v;
        y->n_options = s.n;
        return rc;
    }
    return skip(r);
}

static int symbols_cb(reader *r, const char *key, void *ud)
{
    parse *ps = ud;
    rk_result *res = ps->res;
    if (peek(r) != '{')
        return skip(r);
    r->p++;
    if (res->n_symbols == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 32;
        rk_symbol *v = realloc(res->symbols, cap * sizeof *v);
        if (!v)
            return nomem(r);
        res->symbols = v;
        ps->cap = cap;
    }
    rk_symbol *y = &res->symbols[res->n_symbols++];
    memset(y, 0, sizeof *y);
    y->name = key;
    return object(r, symbol_cb, 1, y);
}

/* ---- milter {"add_headers": {...}, "remove_headers": {...}} ---- */

static int grow(reader *r, void **v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *nv = realloc(*v, nc * size);
    if (!nv)
        return nomem(r);
    *v = nv;
    *cap = nc;
    return 0;
}

static int add_push(reader *r, parse *ps, const char *name, const char *value)
{
    rk_result *res = ps->res;
    if (grow(r, (void **)&res->milter_add, res->n_milter_add, &ps->cap_add, sizeof *res->milter_add))
        return -1;
    res->milter_add[res->n_milter_add++] = (rk_milter_add){name, value};
    return 0;
}

static int add_value_cb(reader *r, const char *key, void *ud)
{
    parse *ps = ud;
    if (strcmp(key, "value") == 0)
        return str_member(r, &ps->value); /* the last one counts */
    return skip(r);
}

/* A string, or an object's "value" string (other values: nothing). */
static int add_one(reader *r, parse *ps, const char *name)
{
    const char *v = NULL;
    if (peek(r) == '{') {
        r->p++;
        ps->value = NULL;
        if (object(r, add_value_cb, 1, ps))
            return -1;
        v = ps->value;
    } else if (str_member(r, &v)) {
        return -1;
    }
    return v ? add_push(r, ps, name, v) : 0;
}

/* One position: an integer (anything else: nothing). */
static int remove_one(reader *r, parse *ps, const char *name)
{
    rk_result *res = ps->res;
    int c = peek(r), is_int = 0;
    double v;
    if (c != '-' && !(c >= '0' && c <= '9'))
        return skip(r);
    if (number_ex(r, &v, &is_int))
        return -1;
    if (!is_int)
        return 0;
    if (grow(r, (void **)&res->milter_remove, res->n_milter_remove, &ps->cap_rm,
             sizeof *res->milter_remove))
        return -1;
    res->milter_remove[res->n_milter_remove++] = (rk_milter_remove){name, (long long)v};
    return 0;
}

typedef int (*one_fn)(reader *r, parse *ps, const char *name);
typedef struct each {
    parse *ps;
    const char *name;
    one_fn one;
} each;

static int each_cb(reader *r, const char *key, void *ud)
{
    (void)key;
    each *e = ud;
    return e->one(r, e->ps, e->name);
}

/* A value, or an array of them: one() for each. */
static int one_or_each(reader *r, parse *ps, const char *name, one_fn one)
{
    if (peek(r) == '[') {
        r->p++;
        each e = {ps, name, one};
        return array(r, each_cb, &e);
    }
    return one(r, ps, name);
}

/* {"Name": V} or {"Name": [V, ...]}: each V added */
static int add_cb(reader *r, const char *name, void *ud) { return one_or_each(r, ud, name, add_one); }

/* {"Name": N} or, from Rspamd 4.x's milter_headers, {"Name": [N, M, ...]}: positions in the
 * message as received, each removed (Rspamd's milter sends one change per position). */
static int remove_cb(reader *r, const char *name, void *ud)
{
    return one_or_each(r, ud, name, remove_one);
}

/* A key given twice: the last value counts, as in jansson. */
static int milter_cb(reader *r, const char *key, void *ud)
{
    parse *ps = ud;
    int add = strcmp(key, "add_headers") == 0, rm = strcmp(key, "remove_headers") == 0;
    if (add)
        ps->res->n_milter_add = 0;
    if (rm)
        ps->res->n_milter_remove = 0;
    if ((add || rm) && peek(r) == '{') {
        r->p++;
        return object(r, add ? add_cb : remove_cb, 1, ps);
    }
    return skip(r);
}

static int thresholds_cb(reader *r, const char *key, void *ud)
{
    rk_result *res = ((parse *)ud)->res;
    if (strcmp(key, "reject") == 0)
        return num_member(r, &res->reject_score, &res->has_reject);
    return skip(r);
}

static const char *const kept_json[N_KEPT] = {"messages", "urls", "emails", "thresholds",
                                              "profile"};

/* The field of `r` that keeps member kept_json[i]. */
static json_t **kept_field(rk_result *r, size_t i)
{
    json_t **f[N_KEPT] = {&r->messages, &r->urls, &r->emails, &r->thresholds, &r->profile};
    return f[i];
}

static int top_cb(reader *r, const char *key, void *ud)
{
    parse *ps = ud;
    rk_result *res = ps->res;
    switch (key[0]) {
    case 'a':
        if (strcmp(key, "action") == 0)
            return str_member(r, &res->action);
        break;
    case 's':
        if (strcmp(key, "score") == 0)
            return num_member(r, &res->score, &res->has_score);
        if (strcmp(key, "subject") == 0)
            return str_member(r, &res->subject);
        if (strcmp(key, "symbols") == 0 && !res->symbols && peek(r) == '{') {
            r->p++;
            return object(r, symbols_cb, 1, ps);
        }
        break;
    case 'r':
        if (strcmp(key, "required_score") == 0)
            return num_member(r, &res->required_score, &res->has_required);
        break;
    case 'i':
        if (strcmp(key, "is_skipped") == 0) {
            res->is_skipped = peek(r) == 't';
            return skip(r);
        }
        break;
    case 'm':
        if (strcmp(key, "message-id") == 0)
            return str_member(r, &res->message_id);
        if (strcmp(key, "milter") == 0) {
            res->n_milter_add = res->n_milter_remove = 0;
            if (peek(r) != '{')
                return skip(r);
            r->p++;
            return object(r, milter_cb, 1, ps);
        }
        break;
    case 'q':
        if (strcmp(key, "queue-id") == 0)
            return str_member(r, &res->queue_id);
        break;
    case 'e':
        if (strcmp(key, "error") == 0)
            return str_member(r, &res->error);
        break;
    case 'd':
        if (strcmp(key, "dkim-signature") == 0) {
            strs s = {res->dkim, res->n_dkim, res->n_dkim};
            res->dkim = NULL;
            int rc = string_list(r, &s, NULL);
            res->dkim = s.v;
            res->n_dkim = s.n;
            return rc;
        }
        break;
    }
    for (size_t i = 0; i < N_KEPT; i++)
        if (strcmp(key, kept_json[i]) == 0) {
            ws(r);
            const unsigned char *s = r->p;
            if (i == 3) { /* thresholds: also read its reject score */
                res->has_reject = 0;
                if (peek(r) == '{') {
                    r->p++;
                    if (object(r, thresholds_cb, 1, ps))
                        return -1;
                } else if (skip(r)) {
                    return -1;
                }
            } else if (skip(r)) {
                return -1;
            }
            ps->slice[i].p = s;
            ps->slice[i].n = (size_t)(r->p - s);
            return 0;
        }
    return skip(r);
}

RK_API void rk_result_clear(rk_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_symbols; i++)
        free(r->symbols[i].options);
    free(r->symbols);
    free(r->dkim);
    free(r->milter_add);
    free(r->milter_remove);
    for (size_t i = 0; i < r->n_message_items; i++)
        free((char *)r->message_items[i].text);
    free(r->message_items);
    free(r->profile_items);
    json_decref(r->json);
    for (size_t i = 0; i < N_KEPT; i++)
        json_decref(*kept_field(r, i));
    free(r->strings_);
    memset(r, 0, sizeof *r);
}

/* The members of a kept object as items: strings copied, other values as
 * compact JSON (messages), or numbers (profile). */
static int items(const json_t *obj, int texts, rk_reply_item **out, size_t *n)
{
    if (!json_is_object(obj))
        return 0;
    if (!(*out = calloc(json_object_size(obj) + 1, sizeof **out)))
        return -1;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        rk_reply_item *it = &(*out)[(*n)++];
        it->key = k;
        if (!texts) {
            it->number = json_number_value(v);
            continue;
        }
        it->is_string = json_is_string(v);
        it->text = it->is_string ? strdup(json_string_value(v)) : rk_emit(v, RK_EMIT_COMPACT, NULL);
        if (!it->text)
            return -1;
    }
    return 0;
}

/* The reply body[0..jlen) into res, whose private block of strings gets
 * `extra` more bytes after them (at strings_ + jlen + 1). */
static int parse_reply(const unsigned char *body, size_t jlen, size_t extra, unsigned flags,
                       rk_result *res, rk_error *err)
{
    memset(res, 0, sizeof *res);
    if (jlen == 0)
        return rk_fail(err, RK_ERR_PROTOCOL, "empty reply body");
    res->strings_ = malloc(jlen + 1 + extra);
    if (!res->strings_)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    reader r = {body, body, body + jlen, res->strings_, 0, 0, NULL, 0};
    parse ps;
    memset(&ps, 0, sizeof ps);
    ps.res = res;
    int rc;
    if (!eat(&r, '{'))
        rc = skip(&r) ? -1 : bad(&r, "not a JSON object");
    else
        rc = object(&r, top_cb, 1, &ps);
    if (rc == 0) {
        ws(&r);
        if (r.p != r.end)
            rc = bad(&r, "end of input expected");
    }
    if (rc) {
        rk_result_clear(res); /* r.why is a literal: still valid */
        if (r.nomem)
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
        return rk_fail(err, RK_ERR_PROTOCOL, "cannot parse reply: %s at byte %zu",
                       r.why ? r.why : "invalid JSON", (size_t)(r.p - r.start));
    }
    if (flags & RK_RESULT_TREE) {
        res->json = json_loadb((const char *)body, jlen, 0, NULL);
        if (!res->json) {
            rk_result_clear(res);
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < N_KEPT; i++)
            *kept_field(res, i) = json_incref(json_object_get(res->json, kept_json[i]));
    } else {
        for (size_t i = 0; i < N_KEPT; i++)
            if (ps.slice[i].p &&
                !(*kept_field(res, i) = json_loadb((const char *)ps.slice[i].p, ps.slice[i].n,
                                        JSON_DECODE_ANY, NULL))) {
                rk_result_clear(res);
                return rk_fail(err, RK_ERR_NOMEM, "out of memory");
            }
    }
    if (items(res->messages, 1, &res->message_items, &res->n_message_items) ||
        items(res->profile, 0, &res->profile_items, &res->n_profile_items)) {
        rk_result_clear(res);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    return 0;
}

RK_API int rk_result_parse(const unsigned char *body, size_t len, size_t message_offset,
                           unsigned flags, rk_result *res, rk_error *err)
{
    int has_message = message_offset > 0 && message_offset < len;
    if (parse_reply(body, has_message ? message_offset : len, 0, flags, res, err))
        return -1;
    if (has_message) {
        res->rewritten = body + message_offset;
        res->rewritten_len = len - message_offset;
    }
    return 0;
}

int rk_result_parse_copy(const unsigned char *json, size_t jlen, const unsigned char *message,
                         size_t mlen, unsigned flags, rk_result *res, rk_error *err)
{
    if (parse_reply(json, jlen, mlen, flags, res, err))
        return -1;
    if (message && mlen) {
        unsigned char *copy = (unsigned char *)res->strings_ + jlen + 1;
        memcpy(copy, message, mlen);
        res->rewritten = copy;
        res->rewritten_len = mlen;
    }
    return 0;
}

RK_API int rk_action_is_spam(const char *a)
{
    static const char *const spam[] = {"reject", "soft reject", "soft_reject", "rewrite subject",
                                       "rewrite_subject", "add header", "add_header"};
    static const char *const ham[] = {"greylist", "no action", "no_action"};
    if (!a)
        return -1;
    for (size_t i = 0; i < sizeof spam / sizeof *spam; i++)
        if (strcasecmp(a, spam[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof ham / sizeof *ham; i++)
        if (strcasecmp(a, ham[i]) == 0)
            return 0;
    return -1;
}

RK_API int rk_result_threshold(const rk_result *r, const char *action, double *score)
{
    json_t *v = r && action ? json_object_get(r->thresholds, action) : NULL;
    if (!json_is_number(v))
        return 0;
    *score = json_number_value(v);
    return 1;
}

RK_API char *rk_result_emit_member(const rk_result *r, const char *name, rk_emit_format fmt,
                                   size_t *len)
{
    for (size_t i = 0; r && name && i < N_KEPT; i++)
        if (strcmp(name, kept_json[i]) == 0) {
            const json_t *v = *kept_field((rk_result *)r, i);
            return v ? rk_emit(v, fmt, len) : NULL;
        }
    return NULL;
}

/* ------------------------------------------------------- the scan exchange */

RK_API int rk_scan_request(rk_request *req, rk_headers *h, const rk_headers *base,
                           const char *filename, const char *local_file,
                           const unsigned char *msg, size_t len)
{
    int rc = 0;
    for (size_t i = 0; base && i < base->n; i++)
        rc |= rk_headers_add(h, base->v[i].name, base->v[i].value);
    if (filename)
        rc |= rk_headers_add(h, "Filename", filename);
    if (local_file)
        rc |= rk_headers_add(h, "File", local_file);
    req->path = "/checkv2";
    req->method = NULL;
    req->body = msg;
    req->body_len = len;
    req->headers = h;
    return rc ? -1 : 0;
}

/* A /checkv3 request failed on a server before Rspamd 4.0: say so. */
static int no_v3(const rk_response *resp, rk_error *why)
{
    int v = rk_response_server_version(resp);
    if (v >= 40000 ||
        (!v && !(resp->status == 500 && resp->reason &&
                 strcasecmp(resp->reason, "invalid command") == 0)))
        return 0;
    char ver[48] = "";
    if (v % 100)
        snprintf(ver, sizeof ver, "Rspamd %d.%d.%d; ", v / 10000, v / 100 % 100, v % 100);
    else if (v)
        snprintf(ver, sizeof ver, "Rspamd %d.%d; ", v / 10000, v / 100 % 100);
    why->code = RK_ERR_UNSUPPORTED;
    snprintf(why->msg, sizeof why->msg, "%.200s has no /checkv3 (%s--protocol-v3 needs Rspamd 4.0 "
             "or later)", resp->host ? resp->host : "the server", ver);
    return 1;
}

RK_API int rk_scan_result(const rk_response *resp, const rk_error *err, unsigned flags,
                          rk_result *out, rk_error *why)
{
    rk_error local;
    if (!why)
        why = &local;
    memset(out, 0, sizeof *out);
    if (err->code != RK_OK) {
        *why = *err;
        if ((flags & RK_RESULT_V3) && err->code == RK_ERR_HTTP && resp && no_v3(resp, why))
            return -1;
        /* The server's {"error": ...} text, when it says more than the status line. */
        rk_result e;
        if (err->code == RK_ERR_HTTP && resp && resp->body_len &&
            rk_result_parse(resp->body, resp->body_len, 0, 0, &e, NULL) == 0) {
            if (e.error && (!resp->reason || strcmp(e.error, resp->reason) != 0))
                snprintf(why->msg, sizeof why->msg, "HTTP error: %d, %s", resp->status, e.error);
            rk_result_clear(&e);
        }
        return -1;
    }
    const char *mo = rk_headers_get(&resp->headers, "Message-Offset");
    const char *ct = rk_headers_get(&resp->headers, "Content-Type");
    size_t off = mo ? strtoul(mo, NULL, 10) : 0;
    rk_error pe;
    rk_error_clear(&pe);
    if (ct && (strncasecmp(ct, "multipart/", 10) == 0 || strstr(ct, "msgpack"))
            ? rk_v3_result(resp, ct, flags & RK_RESULT_TREE, out, &pe) == 0
            : rk_result_parse(resp->body, resp->body_len, off, flags, out, &pe) == 0)
        return 0;
    *why = pe;
    why->http_status = resp->status;
    snprintf(why->msg, sizeof why->msg, "bad reply from %.200s: %.280s",
             resp->host ? resp->host : "server", pe.msg);
    return -1;
}
