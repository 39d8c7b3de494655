/* Serialisation of a UCL tree the way `rspamadm configdump` 3.4 prints it:
 * libucl's "config", "json" and "json_compact" emitters with Rspamd's own
 * number printer (see ucl_num.c).
 *
 * Layout rules worth knowing (all from libucl):
 *  - the top value of a config dump has no braces, and a top scalar has no
 *    terminator;
 *  - "{}" / "[]" are chosen by libucl's len field, not by counting;
 *  - in JSON an implicit array (a key given several times) is written as an
 *    array whose line breaks follow the len of its *first* value, so a list
 *    of numbers comes out as `[        1,\n        2]`. */
#include "ucl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct emitter {
    rk_buf b;
    rk_ucl_format fmt;
    const rk_ucl *top;
    unsigned indent;
    int fail;
    int comments; /* print kept comments (config syntax only) */
} emitter;

static void put(emitter *e, const void *s, size_t len)
{
    if (!e->fail && rk_buf_append(&e->b, s, len))
        e->fail = 1;
}

static void puts_(emitter *e, const char *s) { put(e, s, strlen(s)); }

static void tabs(emitter *e, unsigned n)
{
    if (e->fmt == RK_UCL_FMT_COMPACT)
        return;
    for (unsigned i = 0; i < n; i++)
        put(e, "    ", 4);
}

static void put_jstring(emitter *e, const char *s, size_t len)
{
    if (!e->fail && rk_emit_json_string(&e->b, s, len))
        e->fail = 1;
}

static void squoted_string(emitter *e, const char *s, size_t len)
{
    put(e, "'", 1);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'')
            put(e, "\\'", 2);
        else
            put(e, s + i, 1);
    }
    put(e, "'", 1);
}

/* libucl's ucl_maybe_long_string */
static int heredoc_worthy(const rk_ucl *u)
{
    return (u->len > 80 || (u->flags & RK_UCLF_MULTILINE)) && memchr(u->v.sv, '\n', u->len);
}

static void print_key(emitter *e, const rk_ucl *u)
{
    if (e->fmt == RK_UCL_FMT_CONFIG) {
        if (u->flags & RK_UCLF_KEY_ESCAPE)
            put_jstring(e, u->key, u->keylen);
        else
            put(e, u->key, u->keylen);
        if (u->type != RK_UCL_OBJECT && u->type != RK_UCL_ARRAY)
            put(e, " = ", 3);
        else
            put(e, " ", 1);
    } else {
        if (u->keylen > 0)
            put_jstring(e, u->key, u->keylen);
        else
            put(e, "null", 4);
        puts_(e, e->fmt == RK_UCL_FMT_COMPACT ? ":" : ": ");
    }
}

static void finish(emitter *e, const rk_ucl *u, int in_array)
{
    if (e->fmt != RK_UCL_FMT_CONFIG || u == e->top)
        return;
    if (u->type != RK_UCL_OBJECT && u->type != RK_UCL_ARRAY)
        puts_(e, in_array ? ",\n" : ";\n");
    else
        put(e, "\n", 1);
}

static void elt(emitter *e, const rk_ucl *u, int first, int print_key_);

static void start_array(emitter *e, const rk_ucl *u, int print_key_)
{
    int compact = e->fmt == RK_UCL_FMT_COMPACT;
    if (print_key_)
        print_key(e, u);
    puts_(e, compact || u->len == 0 ? "[" : "[\n");
    e->indent++;
    if (u->type == RK_UCL_ARRAY) {
        for (size_t i = 0; i < u->v.av->n; i++)
            elt(e, u->v.av->v[i], i == 0, 0);
    } else { /* implicit array: the value and its followers */
        int first = 1;
        for (const rk_ucl *c = u; c; c = c->next, first = 0)
            elt(e, c, first, 0);
    }
}

static void end_array(emitter *e, const rk_ucl *u)
{
    e->indent--;
    if (e->fmt == RK_UCL_FMT_COMPACT || u->len == 0) {
        put(e, "]", 1);
    } else {
        if (e->fmt != RK_UCL_FMT_CONFIG)
            put(e, "\n", 1);
        tabs(e, e->indent);
        put(e, "]", 1);
    }
    finish(e, u, 1);
}

static int braced(const emitter *e, const rk_ucl *u)
{
    return e->top != u || e->fmt != RK_UCL_FMT_CONFIG;
}

static void start_object(emitter *e, const rk_ucl *u, int print_key_)
{
    int compact = e->fmt == RK_UCL_FMT_COMPACT, first = 1;
    if (print_key_)
        print_key(e, u);
    if (braced(e, u)) {
        puts_(e, compact || u->len == 0 ? "{" : "{\n");
        e->indent++;
    }
    for (size_t i = 0; i < u->v.ov->n; i++) {
        const rk_ucl *m = u->v.ov->v[i];
        if (!m)
            continue;
        if (e->fmt == RK_UCL_FMT_CONFIG) {
            for (const rk_ucl *c = m; c; c = c->next)
                elt(e, c, first, 1);
        } else if (m->next) {
            if (!first)
                puts_(e, compact ? "," : ",\n");
            tabs(e, e->indent);
            start_array(e, m, 1);
            end_array(e, m);
        } else {
            elt(e, m, first, 1);
        }
        first = 0;
    }
}

static void end_object(emitter *e, const rk_ucl *u)
{
    if (braced(e, u)) {
        e->indent--;
        if (e->fmt == RK_UCL_FMT_COMPACT || u->len == 0) {
            put(e, "}", 1);
        } else {
            if (e->fmt != RK_UCL_FMT_CONFIG)
                put(e, "\n", 1);
            tabs(e, e->indent);
            put(e, "}", 1);
        }
    }
    finish(e, u, 0);
}

static void value(emitter *e, const rk_ucl *u, int print_key_);

/* One value with, in config syntax, the comments kept with it: before it,
 * or after it when they were found before a closing brace. */
static void elt(emitter *e, const rk_ucl *u, int first, int print_key_)
{
    const rk_ucl_comments *c =
        e->comments && e->fmt == RK_UCL_FMT_CONFIG ? u->comments : NULL;
    if (e->fmt != RK_UCL_FMT_CONFIG && !first)
        puts_(e, e->fmt == RK_UCL_FMT_COMPACT ? "," : ",\n");
    tabs(e, e->indent);
    if (c && !c->after) {
        for (size_t i = 0; i < c->n; i++) {
            put(e, c->text[i], c->len[i]);
            put(e, "\n", 1);
            tabs(e, e->indent);
        }
        c = NULL;
    }
    value(e, u, print_key_);
    for (size_t i = 0; c && i < c->n; i++) {
        put(e, c->text[i], c->len[i]);
        put(e, "\n", 1);
        if (i + 1 < c->n)
            tabs(e, e->indent);
    }
}

static void value(emitter *e, const rk_ucl *u, int print_key_)
{
    char num[64];
    switch (u->type) {
    case RK_UCL_OBJECT:
        start_object(e, u, print_key_);
        end_object(e, u);
        return;
    case RK_UCL_ARRAY:
        start_array(e, u, print_key_);
        end_array(e, u);
        return;
    default:
        break;
    }
    if (print_key_)
        print_key(e, u);
    switch (u->type) {
    case RK_UCL_INT:
        snprintf(num, sizeof num, "%" PRId64, u->v.iv);
        puts_(e, num);
        break;
    case RK_UCL_FLOAT:
    case RK_UCL_TIME:
        put(e, num, rk_ucl_format_double(u->v.dv, num));
        break;
    case RK_UCL_BOOLEAN:
        puts_(e, u->v.bv ? "true" : "false");
        break;
    case RK_UCL_STRING:
        if (e->fmt == RK_UCL_FMT_CONFIG && heredoc_worthy(u)) {
            puts_(e, "<<EOD\n");
            put(e, u->v.sv, u->len);
            puts_(e, "\nEOD");
        } else if (e->fmt == RK_UCL_FMT_CONFIG && (u->flags & RK_UCLF_SQUOTED)) {
            squoted_string(e, u->v.sv, u->len);
        } else {
            put_jstring(e, u->v.sv, u->len);
        }
        break;
    default:
        put(e, "null", 4);
        break;
    }
    finish(e, u, !print_key_);
}

char *rk_ucl_emit(const rk_ucl *u, rk_ucl_format fmt, size_t *len)
{
    return rk_ucl_emit_ex(u, fmt, 0, len);
}

char *rk_ucl_emit_ex(const rk_ucl *u, rk_ucl_format fmt, unsigned flags, size_t *len)
{
    emitter e = {.fmt = fmt, .top = u, .comments = !!(flags & RK_UCL_EMIT_COMMENTS)};
    if (u)
        elt(&e, u, 1, 0);
    if (!e.fail && rk_buf_reserve(&e.b, 1))
        e.fail = 1;
    if (e.fail) {
        rk_buf_free(&e.b);
        return NULL;
    }
    e.b.p[e.b.len] = 0;
    if (len)
        *len = e.b.len;
    return (char *)e.b.p;
}

/* ---- msgpack, as libucl's UCL_EMIT_MSGPACK writes it (rspamc --msgpack) ---- */

static int mp_head(rk_buf *b, unsigned char fix, unsigned fixmax, unsigned char c8,
                   unsigned char c16, unsigned char c32, uint64_t n)
{
    unsigned char h[5];
    size_t k = 0;
    if (n <= fixmax) {
        h[k++] = (unsigned char)(fix | n);
    } else if (c8 && n <= 0xff) {
        h[k++] = c8;
        h[k++] = (unsigned char)n;
    } else if (n <= 0xffff) {
        h[k++] = c16;
        h[k++] = (unsigned char)(n >> 8);
        h[k++] = (unsigned char)n;
    } else {
        h[k++] = c32;
        for (int s = 24; s >= 0; s -= 8)
            h[k++] = (unsigned char)(n >> s);
    }
    return rk_buf_append(b, h, k);
}

static int mp_be(rk_buf *b, unsigned char code, uint64_t v, unsigned bytes)
{
    unsigned char h[9];
    h[0] = code;
    for (unsigned i = 0; i < bytes; i++)
        h[1 + i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    return rk_buf_append(b, h, bytes + 1);
}

static int mp_int(rk_buf *b, int64_t v)
{
    unsigned char c = (unsigned char)v;
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        return u <= 0x7f ? rk_buf_append(b, &c, 1)
             : u <= 0xff ? mp_be(b, 0xcc, u, 1)
             : u <= 0xffff ? mp_be(b, 0xcd, u, 2)
             : u <= 0xffffffffu ? mp_be(b, 0xce, u, 4)
             : mp_be(b, 0xcf, u, 8);
    }
    uint64_t mag = (uint64_t)0 - (uint64_t)v;
    return v >= -32 ? rk_buf_append(b, &c, 1)
         : mag <= INT8_MAX ? mp_be(b, 0xd0, (uint64_t)v, 1)
         : mag <= INT16_MAX ? mp_be(b, 0xd1, (uint64_t)v, 2)
         : mag <= INT32_MAX ? mp_be(b, 0xd2, (uint64_t)v, 4)
         : mp_be(b, 0xd3, (uint64_t)v, 8);
}

static int mp_str(rk_buf *b, const char *s, size_t len)
{
    return mp_head(b, 0xa0, 0x1f, 0xd9, 0xda, 0xdb, len) || rk_buf_append(b, s, len);
}

/* One value; an object's member is its first value only (libucl does not
 * expand an implicit array there). */
static int mp_value(rk_buf *b, const rk_ucl *u)
{
    size_t n;
    switch (u->type) {
    case RK_UCL_OBJECT:
        n = 0;
        for (size_t i = 0; i < u->v.ov->n; i++)
            n += u->v.ov->v[i] != NULL;
        if (mp_head(b, 0x80, 0xf, 0, 0xde, 0xdf, n))
            return -1;
        for (size_t i = 0; i < u->v.ov->n; i++) {
            const rk_ucl *m = u->v.ov->v[i];
            if (m && (mp_str(b, m->key, m->keylen) || mp_value(b, m)))
                return -1;
        }
        return 0;
    case RK_UCL_ARRAY:
        if (mp_head(b, 0x90, 0xf, 0, 0xdc, 0xdd, u->v.av->n))
            return -1;
        for (size_t i = 0; i < u->v.av->n; i++)
            if (mp_value(b, u->v.av->v[i]))
                return -1;
        return 0;
    case RK_UCL_INT:
        return mp_int(b, u->v.iv);
    case RK_UCL_FLOAT:
    case RK_UCL_TIME: {
        uint64_t bits;
        memcpy(&bits, &u->v.dv, sizeof bits);
        return mp_be(b, 0xcb, bits, 8);
    }
    case RK_UCL_STRING:
        return mp_str(b, u->v.sv, u->len);
    case RK_UCL_BOOLEAN: {
        unsigned char c = u->v.bv ? 0xc3 : 0xc2;
        return rk_buf_append(b, &c, 1);
    }
    default: {
        unsigned char c = 0xc0;
        return rk_buf_append(b, &c, 1);
    }
    }
}

int rk_ucl_emit_msgpack(const rk_ucl *u, rk_buf *out)
{
    return mp_value(out, u);
}
