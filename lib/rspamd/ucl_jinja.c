/* Rspamd's Jinja stage without a Lua interpreter.
 *
 * Rspamd passes every configuration chunk through lupa (a Lua Jinja) with
 * the delimiters {% %} (statements), {= =} (expressions) and {# #}
 * (comments), options keep_trailing_newline and no autoescape. Expressions
 * are Lua expressions followed by |filters. This file implements the part
 * of it a configuration uses, with lupa's semantics:
 *
 *  - CR LF line ends become LF;
 *  - {# comments #}; {% raw %}...{% endraw %};
 *  - {= expr =} with expr a Lua expression over nil, true, false, numbers,
 *    strings, {list} tables, names (env.X, paths.X, top-level names of env,
 *    variables of {% set %} and {% for %}, loop.*), .name and [expr] indexing,
 *    the operators or and not == ~= < > <= >= .. + - * / % ^ # and unary -,
 *    and the filters listed in FILTERS below;
 *  - {% if %} / {% elseif %} / {% else %} / {% endif %} (Lua truth: only
 *    nil and false are false), {% for x in list [if cond] %} / {% else %} /
 *    {% endfor %} with loop.index etc., {% set name = expr %};
 *  - '-' just inside a delimiter strips whitespace on that side, exactly
 *    where lupa's grammar puts the strip (so "{%- else" strips nothing);
 *
 * Everything else (function calls, macros, blocks, includes, other filters)
 * is refused with a message naming the file and line rather than producing
 * a configuration Rspamd would not. "{{ }}" is not a delimiter in Rspamd. */
#include "rspamd/rspamd.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- values */

typedef enum { V_NIL, V_BOOL, V_NUM, V_STR, V_TAB, V_ENV, V_PATHS } vtype;

typedef struct jtab jtab;
typedef struct jv {
    vtype t;
    int b;
    double n;
    const char *s; /* V_STR: not NUL-terminated */
    size_t len;
    jtab *tab;
} jv;

struct jtab {
    jv *arr; /* 1-based in Lua, 0-based here */
    size_t narr;
    const char **keys; /* string-keyed fields */
    size_t *klen;
    jv *vals;
    size_t nkeys;
};

typedef struct blk {
    struct blk *next;
    max_align_t data[];
} blk;

typedef struct scope {
    struct scope *up;
    const char **names;
    jv *vals;
    size_t n;
} scope;

typedef struct jctx {
    const rk_ucl_env *env;
    const char *file;
    const unsigned char *text, *end;
    const unsigned char *pos; /* for error lines */
    blk *blocks;
    jmp_buf fail;
    char *msg;
    size_t msgsz;
} jctx;

static void jfail(jctx *c, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

static unsigned line_of(const unsigned char *begin, const unsigned char *p)
{
    unsigned n = 1;
    for (; begin < p; begin++)
        n += *begin == '\n';
    return n;
}

static void jfail(jctx *c, const char *fmt, ...)
{
    int n = snprintf(c->msg, c->msgsz, "%s:%u: ", c->file, line_of(c->text, c->pos));
    if (n >= 0 && (size_t)n < c->msgsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg + n, c->msgsz - (size_t)n, fmt, ap);
        va_end(ap);
    }
    longjmp(c->fail, 1);
}

static void joom(jctx *c) __attribute__((noreturn));
static void joom(jctx *c)
{
    snprintf(c->msg, c->msgsz, "out of memory");
    longjmp(c->fail, 1);
}

static void *jalloc(jctx *c, size_t size)
{
    blk *b = malloc(sizeof *b + size + 1);
    if (!b)
        joom(c);
    b->next = c->blocks;
    c->blocks = b;
    return b->data;
}

static void *jgrow(jctx *c, void *old, size_t oldsize, size_t size)
{
    void *p = jalloc(c, size);
    if (old && oldsize)
        memcpy(p, old, oldsize);
    return p;
}

static int lua_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int ident_start(unsigned char ch) { return ch == '_' || isalpha(ch); }
static int ident_char(unsigned char ch) { return ch == '_' || isalnum(ch); }

static jv vnil(void) { return (jv){.t = V_NIL}; }
static jv vbool(int b) { return (jv){.t = V_BOOL, .b = !!b}; }
static jv vnum(double n) { return (jv){.t = V_NUM, .n = n}; }
static jv vstr(const char *s, size_t len) { return (jv){.t = V_STR, .s = s, .len = len}; }
static int truthy(jv v) { return !(v.t == V_NIL || (v.t == V_BOOL && !v.b)); }

static const char *type_name(jv v)
{
    static const char *const names[] = {"nil", "boolean", "number", "string", "table", "table", "table"};
    return names[v.t];
}

static jv vstr_dup(jctx *c, const char *s, size_t len)
{
    char *p = jalloc(c, len + 1);
    memcpy(p, s, len);
    p[len] = 0;
    return vstr(p, len);
}

/* Lua 5.1/LuaJIT tostring of a number: "%.14g" */
static size_t num_str(double n, char *buf, size_t sz)
{
    if (isnan(n))
        return (size_t)snprintf(buf, sz, "%s", signbit(n) ? "-nan" : "nan");
    if (isinf(n))
        return (size_t)snprintf(buf, sz, "%s", n < 0 ? "-inf" : "inf");
    return (size_t)snprintf(buf, sz, "%.14g", n);
}

/* tostring(v) for what a template can print */
static jv to_string(jctx *c, jv v)
{
    char buf[64];
    switch (v.t) {
    case V_STR:
        return v;
    case V_NUM:
        return vstr_dup(c, buf, num_str(v.n, buf, sizeof buf));
    case V_BOOL:
        return v.b ? vstr("true", 4) : vstr("false", 5);
    case V_NIL:
        return vstr("nil", 3);
    default:
        jfail(c, "Jinja: a table cannot be printed");
    }
}

/* Lua's string -> number coercion (decimal or hex, surrounding space) */
static int str_num(jv v, double *out)
{
    char buf[128];
    if (v.len == 0 || v.len >= sizeof buf)
        return 0;
    memcpy(buf, v.s, v.len);
    buf[v.len] = 0;
    const char *d0 = buf;
    while (lua_space((unsigned char)*d0))
        d0++;
    if (*d0 == '-' || *d0 == '+')
        d0++;
    if (!isdigit((unsigned char)*d0) && *d0 != '.') /* no "inf" or "nan" in Lua */
        return 0;
    char *e;
    errno = 0;
    double d = strtod(buf, &e);
    if (e == buf)
        return 0;
    while (lua_space((unsigned char)*e))
        e++;
    if (*e)
        return 0;
    *out = d;
    return 1;
}

static double arith_num(jctx *c, jv v, const char *what)
{
    double d;
    if (v.t == V_NUM)
        return v.n;
    if (v.t == V_STR && str_num(v, &d))
        return d;
    jfail(c, "Jinja error: attempt to %s a %s value", what, type_name(v));
}

/* --------------------------------------------------------------- lookups */

static const char *kv_lookup(const rk_ucl_kv *kv, size_t n, const char *name, size_t len)
{
    for (size_t i = n; i-- > 0;) /* later entries override earlier ones */
        if (strlen(kv[i].name) == len && memcmp(kv[i].name, name, len) == 0)
            return kv[i].value;
    return NULL;
}

static jv kv_value(const char *s) { return s ? vstr(s, strlen(s)) : vnil(); }

static jv index_value(jctx *c, jv t, jv key)
{
    if (t.t == V_ENV || t.t == V_PATHS) {
        if (key.t != V_STR)
            return vnil();
        if (t.t == V_ENV)
            return kv_value(kv_lookup(c->env->tpl_env, c->env->n_tpl_env, key.s, key.len));
        return kv_value(kv_lookup(c->env->tpl_paths, c->env->n_tpl_paths, key.s, key.len));
    }
    if (t.t == V_TAB) {
        if (key.t == V_NUM) {
            double i = key.n;
            if (i >= 1 && i <= (double)t.tab->narr && i == floor(i))
                return t.tab->arr[(size_t)i - 1];
            return vnil();
        }
        if (key.t == V_STR)
            for (size_t i = 0; i < t.tab->nkeys; i++)
                if (t.tab->klen[i] == key.len && memcmp(t.tab->keys[i], key.s, key.len) == 0)
                    return t.tab->vals[i];
        return vnil();
    }
    if (t.t == V_STR)
        return vnil(); /* string methods: not something to print */
    if (key.t == V_STR)
        jfail(c, "Jinja error: attempt to index field '%.*s' (a %s value)", (int)key.len, key.s,
              type_name(t));
    jfail(c, "Jinja error: attempt to index a %s value", type_name(t));
}

static void tab_set(jctx *c, jtab *t, const char *k, jv v)
{
    size_t n = t->nkeys;
    t->keys = jgrow(c, t->keys, n * sizeof *t->keys, (n + 1) * sizeof *t->keys);
    t->klen = jgrow(c, t->klen, n * sizeof *t->klen, (n + 1) * sizeof *t->klen);
    t->vals = jgrow(c, t->vals, n * sizeof *t->vals, (n + 1) * sizeof *t->vals);
    t->keys[n] = k;
    t->klen[n] = strlen(k);
    t->vals[n] = v;
    t->nkeys++;
}

static void scope_set(jctx *c, scope *s, const char *name, size_t len, jv v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->names[i]) == len && memcmp(s->names[i], name, len) == 0) {
            s->vals[i] = v;
            return;
        }
    s->names = jgrow(c, s->names, s->n * sizeof *s->names, (s->n + 1) * sizeof *s->names);
    s->vals = jgrow(c, s->vals, s->n * sizeof *s->vals, (s->n + 1) * sizeof *s->vals);
    s->names[s->n] = vstr_dup(c, name, len).s;
    s->vals[s->n++] = v;
}

static jv lookup_name(jctx *c, scope *s, const char *name, size_t len)
{
    for (; s; s = s->up)
        for (size_t i = 0; i < s->n; i++)
            if (strlen(s->names[i]) == len && memcmp(s->names[i], name, len) == 0)
                return s->vals[i];
    if (len == 3 && memcmp(name, "env", 3) == 0)
        return (jv){.t = V_ENV};
    if (len == 5 && memcmp(name, "paths", 5) == 0)
        return (jv){.t = V_PATHS};
    return kv_value(kv_lookup(c->env->tpl_env, c->env->n_tpl_env, name, len));
}

/* ----------------------------------------------------------- expressions */

typedef struct lexer {
    jctx *c;
    scope *sc;
    const unsigned char *p, *end;
    int skip; /* parse without evaluating: the side "and"/"or" do not need */
    int depth; /* nesting, bounded (Lua's own limit is 200 C levels) */
} lexer;

static void skip_ws(lexer *x)
{
    while (x->p < x->end && lua_space(*x->p))
        x->p++;
}

static int at_op(lexer *x, const char *op)
{
    size_t n = strlen(op);
    skip_ws(x);
    return (size_t)(x->end - x->p) >= n && memcmp(x->p, op, n) == 0;
}

/* `w` as a whole word: not followed by a letter, digit or '_' */
static int at_word(lexer *x, const char *w)
{
    size_t n = strlen(w);
    return at_op(x, w) && (x->p + n == x->end || !ident_char(x->p[n]));
}

static int accept(lexer *x, const char *s, int (*at)(lexer *, const char *))
{
    if (!at(x, s))
        return 0;
    x->p += strlen(s);
    return 1;
}

static int accept_word(lexer *x, const char *w) { return accept(x, w, at_word); }
static int accept_op(lexer *x, const char *op) { return accept(x, op, at_op); }

static void syntax(lexer *x, const char *what)
{
    skip_ws(x);
    if (x->p < x->end)
        jfail(x->c, "Jinja syntax error: %s near '%.*s'", what,
              (int)(x->end - x->p > 20 ? 20 : x->end - x->p), (const char *)x->p);
    jfail(x->c, "Jinja syntax error: %s near <eof>", what);
}

static void expect_op(lexer *x, const char *op)
{
    if (!accept_op(x, op)) {
        char what[32];
        snprintf(what, sizeof what, "'%s' expected", op);
        syntax(x, what);
    }
}

static jv expr(lexer *x, int limit);

static jv parse_string(lexer *x)
{
    unsigned char q = *x->p++;
    rk_buf b = {0};
    jctx *c = x->c;
    jv r;
    while (x->p < x->end && *x->p != q) {
        unsigned char ch = *x->p++;
        if (ch == '\n')
            break;
        if (ch == '\\' && x->p < x->end) {
            ch = *x->p++;
            switch (ch) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'a': ch = '\a'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'v': ch = '\v'; break;
            case '\\': case '"': case '\'': case '\n': break;
            default:
                if (isdigit(ch)) {
                    unsigned v = (unsigned)(ch - '0');
                    for (int i = 0; i < 2 && x->p < x->end && isdigit(*x->p); i++)
                        v = v * 10 + (unsigned)(*x->p++ - '0');
                    if (v > 255) {
                        rk_buf_free(&b);
                        syntax(x, "escape sequence too large");
                    }
                    ch = (unsigned char)v;
                    break;
                }
                rk_buf_free(&b);
                syntax(x, "invalid escape sequence");
            }
        }
        if (rk_buf_append(&b, &ch, 1)) {
            rk_buf_free(&b);
            joom(c);
        }
    }
    if (x->p >= x->end || *x->p != q) {
        rk_buf_free(&b);
        syntax(x, "unfinished string");
    }
    x->p++;
    r = vstr_dup(c, b.p ? (const char *)b.p : "", b.len);
    rk_buf_free(&b);
    return r;
}

static jv parse_number(lexer *x)
{
    const unsigned char *b = x->p;
    char buf[128];
    if (x->end - b > 1 && b[0] == '0' && (b[1] | 0x20) == 'x') {
        x->p += 2;
        while (x->p < x->end && isxdigit(*x->p))
            x->p++;
    } else {
        while (x->p < x->end && (isdigit(*x->p) || *x->p == '.'))
            x->p++;
        if (x->p < x->end && (*x->p | 0x20) == 'e') {
            x->p++;
            if (x->p < x->end && (*x->p == '+' || *x->p == '-'))
                x->p++;
            while (x->p < x->end && isdigit(*x->p))
                x->p++;
        }
    }
    size_t n = (size_t)(x->p - b);
    if (n >= sizeof buf || (x->p < x->end && ident_char(*x->p)))
        syntax(x, "malformed number");
    memcpy(buf, b, n);
    buf[n] = 0;
    char *e;
    double d = strtod(buf, &e);
    if (*e)
        syntax(x, "malformed number");
    return vnum(d);
}

static jv parse_table(lexer *x)
{
    jtab *t = jalloc(x->c, sizeof *t);
    memset(t, 0, sizeof *t);
    while (!accept_op(x, "}")) {
        skip_ws(x);
        const unsigned char *save = x->p;
        if (x->p < x->end && ident_start(*x->p)) { /* name = value */
            const unsigned char *b = x->p;
            while (x->p < x->end && ident_char(*x->p))
                x->p++;
            size_t n = (size_t)(x->p - b);
            if (accept_op(x, "=") && !at_op(x, "=")) {
                jv v = expr(x, 0);
                tab_set(x->c, t, vstr_dup(x->c, (const char *)b, n).s, v);
                goto sep;
            }
            x->p = save;
        }
        if (at_op(x, "["))
            syntax(x, "[key] fields are not supported");
        jv v = expr(x, 0);
        t->arr = jgrow(x->c, t->arr, t->narr * sizeof *t->arr, (t->narr + 1) * sizeof *t->arr);
        t->arr[t->narr++] = v;
    sep:
        if (!accept_op(x, ",") && !accept_op(x, ";")) {
            expect_op(x, "}");
            break;
        }
    }
    /* a nil at the end is not part of the sequence */
    while (t->narr && t->arr[t->narr - 1].t == V_NIL)
        t->narr--;
    return (jv){.t = V_TAB, .tab = t};
}

static jv primary(lexer *x)
{
    skip_ws(x);
    if (x->p >= x->end)
        syntax(x, "unexpected symbol");
    unsigned char ch = *x->p;
    jv v;
    if (ch == '"' || ch == '\'') {
        v = parse_string(x);
    } else if (isdigit(ch) || (ch == '.' && x->p + 1 < x->end && isdigit(x->p[1]))) {
        v = parse_number(x);
    } else if (ch == '{') {
        x->p++;
        v = parse_table(x);
    } else if (ch == '(') {
        x->p++;
        v = expr(x, 0);
        expect_op(x, ")");
    } else if (accept_word(x, "nil")) {
        v = vnil();
    } else if (accept_word(x, "true")) {
        v = vbool(1);
    } else if (accept_word(x, "false")) {
        v = vbool(0);
    } else if (ident_start(ch)) {
        const unsigned char *b = x->p;
        while (x->p < x->end && ident_char(*x->p))
            x->p++;
        static const char *const reserved[] = {"and", "or", "not", "function", "if", "then", "end",
                                               "in", "do", "for", "local", "return", "while"};
        for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
            if (strlen(reserved[i]) == (size_t)(x->p - b) && memcmp(reserved[i], b, (size_t)(x->p - b)) == 0) {
                x->p = b;
                syntax(x, "unexpected symbol");
            }
        v = x->skip ? vnil() : lookup_name(x->c, x->sc, (const char *)b, (size_t)(x->p - b));
    } else {
        syntax(x, "unexpected symbol");
    }
    /* suffixes: .name [expr]; calls are not supported */
    for (;;) {
        skip_ws(x);
        if (x->p < x->end && *x->p == '.' && !(x->p + 1 < x->end && x->p[1] == '.')) {
            x->p++;
            skip_ws(x);
            const unsigned char *b = x->p;
            while (x->p < x->end && ident_char(*x->p))
                x->p++;
            if (b == x->p || !ident_start(*b))
                syntax(x, "<name> expected");
            v = x->skip ? vnil() : index_value(x->c, v, vstr((const char *)b, (size_t)(x->p - b)));
        } else if (x->p < x->end && *x->p == '[') {
            x->p++;
            jv k = expr(x, 0);
            expect_op(x, "]");
            v = x->skip ? vnil() : index_value(x->c, v, k);
        } else if (x->p < x->end && (*x->p == '(' || *x->p == '"' || *x->p == '\'' || *x->p == '{' ||
                                     *x->p == ':')) {
            jfail(x->c, "Jinja: function calls are not supported");
        } else {
            return v;
        }
    }
}

static int values_equal(jv a, jv b)
{
    int ta = a.t == V_ENV || a.t == V_PATHS ? V_TAB : (int)a.t;
    int tb = b.t == V_ENV || b.t == V_PATHS ? V_TAB : (int)b.t;
    if (ta != tb)
        return 0;
    switch (a.t) {
    case V_NIL:
        return 1;
    case V_BOOL:
        return a.b == b.b;
    case V_NUM:
        return a.n == b.n;
    case V_STR:
        return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
    case V_TAB:
        return a.tab == b.tab;
    default:
        return a.t == b.t;
    }
}

static int less(jctx *c, jv a, jv b, int or_equal)
{
    if (a.t == V_NUM && b.t == V_NUM)
        return or_equal ? a.n <= b.n : a.n < b.n;
    if (a.t == V_STR && b.t == V_STR) {
        size_t n = a.len < b.len ? a.len : b.len;
        int r = memcmp(a.s, b.s, n);
        if (r == 0)
            r = a.len < b.len ? -1 : a.len > b.len;
        return or_equal ? r <= 0 : r < 0;
    }
    if (a.t == b.t)
        jfail(c, "Jinja error: attempt to compare two %s values", type_name(a));
    jfail(c, "Jinja error: attempt to compare %s with %s", type_name(a), type_name(b));
}

static jv concat(jctx *c, jv a, jv b)
{
    if (!((a.t == V_STR || a.t == V_NUM) && (b.t == V_STR || b.t == V_NUM)))
        jfail(c, "Jinja error: attempt to concatenate a %s value",
              type_name(a.t == V_STR || a.t == V_NUM ? b : a));
    a = to_string(c, a);
    b = to_string(c, b);
    char *p = jalloc(c, a.len + b.len + 1);
    memcpy(p, a.s, a.len);
    memcpy(p + a.len, b.s, b.len);
    p[a.len + b.len] = 0;
    return vstr(p, a.len + b.len);
}

static size_t length_of(jctx *c, jv v)
{
    if (v.t == V_STR)
        return v.len;
    if (v.t == V_TAB)
        return v.tab->narr;
    jfail(c, "Jinja error: attempt to get length of a %s value", type_name(v));
}

/* Lua operator precedence, low to high (binary left/right priorities):
 * or 1; and 2; comparisons 3; .. 9 (right 8); + - 10; * / % 11; unary 12;
 * ^ 14 (right 13). */
static jv unary(lexer *x)
{
    jv v;
    if (accept_word(x, "not")) {
        v = expr(x, 12);
        return x->skip ? vnil() : vbool(!truthy(v));
    }
    if (at_op(x, "-") && !at_op(x, "--")) {
        x->p++;
        v = expr(x, 12);
        return x->skip ? vnil() : vnum(-arith_num(x->c, v, "perform arithmetic on"));
    }
    if (accept_op(x, "#")) {
        v = expr(x, 12);
        return x->skip ? vnil() : vnum((double)length_of(x->c, v));
    }
    return primary(x);
}

static jv expr(lexer *x, int limit)
{
    if (++x->depth > 200)
        syntax(x, "chunk has too many syntax levels");
    jv l = unary(x);
    for (;;) {
        static const struct {
            const char *op;
            int left, right, word;
        } ops[] = {{"or", 1, 1, 1},   {"and", 2, 2, 1}, {"==", 3, 3, 0}, {"~=", 3, 3, 0},
                   {"<=", 3, 3, 0},   {">=", 3, 3, 0},  {"<", 3, 3, 0},  {">", 3, 3, 0},
                   {"..", 9, 8, 0},   {"+", 10, 10, 0}, {"-", 10, 10, 0}, {"*", 11, 11, 0},
                   {"/", 11, 11, 0},  {"%", 11, 11, 0}, {"^", 14, 13, 0}};
        size_t i;
        for (i = 0; i < sizeof ops / sizeof *ops; i++)
            if (ops[i].word ? at_word(x, ops[i].op) : at_op(x, ops[i].op))
                break;
        if (i == sizeof ops / sizeof *ops || ops[i].left <= limit) {
            x->depth--;
            return l;
        }
        x->p += strlen(ops[i].op);
        const char *op = ops[i].op;
        if (strcmp(op, "or") == 0 || strcmp(op, "and") == 0) {
            /* Lua evaluates the right side only when the left one does
             * not decide: it is parsed anyway */
            int decided = op[0] == 'o' ? truthy(l) : !truthy(l);
            x->skip += decided;
            jv r = expr(x, ops[i].right);
            x->skip -= decided;
            if (!decided)
                l = r;
            continue;
        }
        jv r = expr(x, ops[i].right);
        jctx *c = x->c;
        if (x->skip)
            l = vnil();
        else if (strcmp(op, "==") == 0)
            l = vbool(values_equal(l, r));
        else if (strcmp(op, "~=") == 0)
            l = vbool(!values_equal(l, r));
        else if (strcmp(op, "<") == 0)
            l = vbool(less(c, l, r, 0));
        else if (strcmp(op, "<=") == 0)
            l = vbool(less(c, l, r, 1));
        else if (strcmp(op, ">") == 0)
            l = vbool(less(c, r, l, 0));
        else if (strcmp(op, ">=") == 0)
            l = vbool(less(c, r, l, 1));
        else if (strcmp(op, "..") == 0)
            l = concat(c, l, r);
        else {
            double a = arith_num(c, l, "perform arithmetic on");
            double b = arith_num(c, r, "perform arithmetic on");
            switch (op[0]) {
            case '+': l = vnum(a + b); break;
            case '-': l = vnum(a - b); break;
            case '*': l = vnum(a * b); break;
            case '/': l = vnum(a / b); break;
            case '%': l = vnum(a - floor(a / b) * b); break;
            default: l = vnum(pow(a, b)); break;
            }
        }
    }
}

/* A whole Lua expression (or, with list, an expression list) in [b, e). */
static size_t eval_list(jctx *c, scope *sc, const unsigned char *b, const unsigned char *e, jv *out,
                        size_t max)
{
    lexer x = {c, sc, b, e, 0, 0};
    size_t n = 0;
    skip_ws(&x);
    while (x.p < x.end) {
        jv v = expr(&x, 0);
        if (n < max)
            out[n] = v;
        n++;
        if (!accept_op(&x, ","))
            break;
        skip_ws(&x);
    }
    skip_ws(&x);
    if (x.p < x.end)
        syntax(&x, "unexpected symbol");
    return n;
}

static jv eval_lua(jctx *c, scope *sc, const unsigned char *b, const unsigned char *e)
{
    jv v;
    lexer x = {c, sc, b, e, 0, 0};
    skip_ws(&x);
    if (x.p == x.end)
        syntax(&x, "unexpected symbol");
    v = expr(&x, 0);
    skip_ws(&x);
    if (x.p < x.end)
        syntax(&x, "unexpected symbol");
    return v;
}

/* --------------------------------------------------------------- filters */

static jv need_string(jctx *c, jv v, const char *filter)
{
    if (v.t == V_NUM)
        return to_string(c, v);
    if (v.t != V_STR)
        jfail(c, "Jinja error: input to filter \"%s\" was %s instead of a string", filter, type_name(v));
    return v;
}

static jv map_chars(jctx *c, jv s, int (*f)(int), int first_only)
{
    char *p = jalloc(c, s.len + 1);
    for (size_t i = 0; i < s.len; i++)
        p[i] = (char)(first_only && i ? tolower((unsigned char)s.s[i]) : f((unsigned char)s.s[i]));
    p[s.len] = 0;
    return vstr(p, s.len);
}

/* FILTERS (those of every lupa Rspamd ships): default(value, default,
 * false_defaults), upper, lower, capitalize, int, float, abs, length,
 * string, join(sep), first, last. */
static jv apply_filter(jctx *c, const char *name, size_t nlen, jv v, const jv *a, size_t na)
{
#define IS(s) (nlen == sizeof(s) - 1 && memcmp(name, s, nlen) == 0)
    if (IS("default")) {
        jv def = na > 0 ? a[0] : vnil();
        if (v.t == V_NIL || (na > 1 && truthy(a[1]) && !truthy(v)))
            return def;
        return v;
    }
    if (IS("upper"))
        return map_chars(c, need_string(c, v, "upper"), toupper, 0);
    if (IS("lower"))
        return map_chars(c, need_string(c, v, "lower"), tolower, 0);
    if (IS("capitalize"))
        return map_chars(c, need_string(c, v, "capitalize"), toupper, 1);
    if (IS("int") || IS("float") || IS("abs")) {
        double d = 0;
        if (v.t == V_NIL || (v.t == V_BOOL && !v.b))
            jfail(c, "Jinja error: input to filter \"%.*s\" was nil instead of a number", (int)nlen, name);
        if (v.t == V_NUM)
            d = v.n;
        else if (v.t == V_STR && !str_num(v, &d))
            d = 0;
        else if (v.t != V_STR && IS("abs"))
            jfail(c, "Jinja error: bad argument to filter \"abs\" (number expected, got %s)", type_name(v));
        return vnum(IS("int") ? floor(d) : IS("abs") ? fabs(d) : d);
    }
    if (IS("length")) {
        if (v.t != V_STR && v.t != V_TAB)
            jfail(c, "Jinja error: input to filter \"length\" was %s instead of a string or table",
                  type_name(v));
        return vnum((double)length_of(c, v));
    }
    if (IS("string"))
        return to_string(c, v);
    if (IS("first") || IS("last")) {
        if (v.t == V_STR)
            return vnil(); /* t[1] of a string */
        if (v.t != V_TAB)
            jfail(c, "Jinja error: input to filter \"%.*s\" was %s instead of a table", (int)nlen, name,
                  type_name(v));
        if (!v.tab->narr)
            return vnil();
        return v.tab->arr[IS("first") ? 0 : v.tab->narr - 1];
    }
    if (IS("join")) {
        if (v.t != V_TAB)
            jfail(c, "Jinja error: input to filter \"join\" was %s instead of a table", type_name(v));
        jv sep = na > 0 && a[0].t != V_NIL ? need_string(c, a[0], "join") : vstr("", 0);
        jv r = vstr("", 0);
        for (size_t i = 0; i < v.tab->narr; i++) {
            if (i)
                r = concat(c, r, sep);
            r = concat(c, r, to_string(c, v.tab->arr[i]));
        }
        return r;
    }
#undef IS
    jfail(c, "Jinja: filter \"%.*s\" is not supported", (int)nlen, name);
}

/* lupa's eval(): the base expression runs to the first '|', then each
 * filter is NAME, NAME(args) or NAME args (a Lua list: NAME "x" works). */
static jv eval(jctx *c, scope *sc, const unsigned char *b, const unsigned char *e)
{
    const unsigned char *bar = memchr(b, '|', (size_t)(e - b));
    jv v = eval_lua(c, sc, b, bar ? bar : e);
    const unsigned char *p = bar ? bar + 1 : e;
    while (bar && p < e) {
        const unsigned char *f = p, *fe;
        while (f < e && lua_space(*f))
            f++;
        const unsigned char *q = f;
        while (q < e && *q != '|' && *q != '(')
            q++;
        if (q < e && *q == '(') { /* balanced parentheses, then up to '|' */
            int depth = 0;
            for (; q < e; q++) {
                depth += *q == '(';
                if (*q == ')' && --depth == 0) {
                    q++;
                    break;
                }
            }
            while (q < e && *q != '|')
                q++;
        }
        fe = q;
        p = q < e ? q + 1 : e;
        /* '^%s*([%w_]+)%(?(.-)%)?%s*$' */
        const unsigned char *n = f;
        while (n < fe && ident_char(*n))
            n++;
        if (n == f)
            jfail(c, "Jinja error: unknown filter \"%.*s\"", (int)(fe - f), (const char *)f);
        const unsigned char *ab = n, *ae = fe;
        while (ae > ab && lua_space(ae[-1]))
            ae--;
        if (ab < ae && *ab == '(') {
            ab++;
            if (ae > ab && ae[-1] == ')')
                ae--;
        } else if (ae > ab && ae[-1] == ')') {
            ae--;
        }
        jv args[4];
        size_t na = eval_list(c, sc, ab, ae, args, 4);
        v = apply_filter(c, (const char *)f, (size_t)(n - f), v, args, na < 4 ? na : 4);
    }
    return v;
}

/* -------------------------------------------------------------- template */

typedef enum { N_TEXT, N_VAR, N_LSTRIP, N_RSTRIP, N_IF, N_FOR, N_SET } ntype;

typedef struct node node;
typedef struct nlist {
    node **v;
    size_t n;
} nlist;

struct node {
    ntype t;
    const unsigned char *b, *e; /* text or expression */
    const unsigned char *at;    /* for error lines */
    /* if: conds[i] with bodies[i]; for: vars in b..e, generator, filter */
    size_t nconds;
    const unsigned char **cb, **ce;
    nlist *bodies;
    nlist els;
    int has_else;
    const unsigned char *gb, *ge, *ib, *ie;
    int lstrip_end; /* {%- endfor %} strips each iteration */
};

typedef struct parser {
    jctx *c;
    const unsigned char *p, *end;
    int depth; /* nested if/for blocks, bounded */
} parser;

static void add_node(jctx *c, nlist *l, node *n)
{
    l->v = jgrow(c, l->v, l->n * sizeof *l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = n;
}

static node *new_node(jctx *c, ntype t, const unsigned char *at)
{
    node *n = jalloc(c, sizeof *n);
    memset(n, 0, sizeof *n);
    n->t = t;
    n->at = at;
    return n;
}

static int entity_start(const unsigned char *p, const unsigned char *end)
{
    return end - p >= 2 && p[0] == '{' && (p[1] == '%' || p[1] == '=' || p[1] == '#');
}

/* After "{%", "{=" or "{#": the optional '-' (an lstrip node in l) or '+',
 * then spaces. */
static void open_delim(parser *ps, nlist *l)
{
    const unsigned char *at = ps->p;
    ps->p += 2;
    if (ps->p < ps->end && *ps->p == '-') {
        add_node(ps->c, l, new_node(ps->c, N_LSTRIP, at));
        ps->p++;
    } else if (ps->p < ps->end && *ps->p == '+') {
        ps->p++;
    }
    while (ps->p < ps->end && lua_space(*ps->p))
        ps->p++;
}

/* Find the end delimiter "K}" from ps->p; *cb..*ce is the content without
 * the trailing spaces and '-'. Adds an rstrip node to l for "-K}". */
static void close_delim(parser *ps, nlist *l, char k, const unsigned char **ce, int nested_braces)
{
    const unsigned char *q = ps->p;
    int depth = 0;
    for (; q + 1 < ps->end; q++) {
        if (nested_braces && *q == '{')
            depth++;
        else if (nested_braces && *q == '}' && depth > 0)
            depth--;
        else if (depth == 0 && q[0] == (unsigned char)k && q[1] == '}')
            break;
    }
    if (q + 1 >= ps->end) {
        ps->c->pos = ps->p;
        jfail(ps->c, "\"%c}\" expected", k);
    }
    const unsigned char *e = q;
    int strip = 0;
    if (e > ps->p && e[-1] == '-') {
        strip = 1;
        e--;
    }
    while (e > ps->p && lua_space(e[-1]))
        e--;
    *ce = e;
    ps->p = q + 2;
    if (strip)
        add_node(ps->c, l, new_node(ps->c, N_RSTRIP, q));
}

/* The keyword of the tag at ps->p ("{%"), without consuming anything. */
static int tag_is(parser *ps, const char *kw)
{
    const unsigned char *p = ps->p + 2;
    if (p < ps->end && (*p == '-' || *p == '+'))
        p++;
    while (p < ps->end && lua_space(*p))
        p++;
    size_t n = strlen(kw);
    return (size_t)(ps->end - p) >= n && memcmp(p, kw, n) == 0 &&
           (p + n == ps->end || !ident_char(p[n]));
}

static int is_tag(parser *ps) { return ps->end - ps->p >= 2 && ps->p[0] == '{' && ps->p[1] == '%'; }

static void parse_body(parser *ps, nlist *l);

/* "{% KW %}" (else, endif, endfor, raw, endraw): its lstrip goes to ls,
 * its rstrip to rs, where lupa's grammar puts them. */
static void simple_tag(parser *ps, nlist *ls, nlist *rs, const char *kw)
{
    const unsigned char *ce;
    open_delim(ps, ls);
    ps->p += strlen(kw);
    const unsigned char *b = ps->p;
    close_delim(ps, rs, '%', &ce, 0);
    if (ce != b) {
        ps->c->pos = b;
        jfail(ps->c, "\"%%}\" expected");
    }
}

/* "{% KW expr %}": the expression in *b..*e. */
static void expr_tag(parser *ps, nlist *ls, nlist *rs, const char *kw, const unsigned char **b,
                     const unsigned char **e)
{
    open_delim(ps, ls);
    ps->p += strlen(kw);
    while (ps->p < ps->end && lua_space(*ps->p))
        ps->p++;
    *b = ps->p;
    close_delim(ps, rs, '%', e, 0);
    if (*e <= *b) {
        ps->c->pos = *b;
        jfail(ps->c, "expression expected");
    }
}

static void end_tag(parser *ps, nlist *outer, const char *kw, node *n)
{
    if (!is_tag(ps) || !tag_is(ps, kw)) {
        ps->c->pos = ps->p < ps->end ? ps->p : n->at;
        jfail(ps->c, "additional tag or \"{%% %s %%}\" expected", kw);
    }
    size_t before = outer->n;
    simple_tag(ps, outer, outer, kw);
    /* lupa: an lstrip right after a for block strips every iteration */
    if (n->t == N_FOR && outer->n > before && outer->v[before]->t == N_LSTRIP)
        n->lstrip_end = 1;
}

static nlist *add_branch(parser *ps, node *n, const unsigned char *b, const unsigned char *e)
{
    size_t k = n->nconds;
    n->cb = jgrow(ps->c, n->cb, k * sizeof *n->cb, (k + 1) * sizeof *n->cb);
    n->ce = jgrow(ps->c, n->ce, k * sizeof *n->ce, (k + 1) * sizeof *n->ce);
    n->bodies = jgrow(ps->c, n->bodies, k * sizeof *n->bodies, (k + 1) * sizeof *n->bodies);
    n->cb[k] = b;
    n->ce[k] = e;
    memset(&n->bodies[k], 0, sizeof n->bodies[k]);
    n->nconds++;
    return &n->bodies[k];
}

static void parse_else(parser *ps, node *n)
{
    if (is_tag(ps) && tag_is(ps, "else")) {
        simple_tag(ps, &n->els, &n->els, "else");
        n->has_else = 1;
        parse_body(ps, &n->els);
    }
}

static void parse_if(parser *ps, nlist *l)
{
    node *n = new_node(ps->c, N_IF, ps->p);
    const unsigned char *b, *e;
    nlist first = {0};
    expr_tag(ps, l, &first, "if", &b, &e);
    add_node(ps->c, l, n);
    *add_branch(ps, n, b, e) = first;
    parse_body(ps, &n->bodies[0]);
    while (is_tag(ps) && tag_is(ps, "elseif")) {
        nlist body = {0};
        expr_tag(ps, &body, &body, "elseif", &b, &e);
        nlist *br = add_branch(ps, n, b, e);
        *br = body;
        parse_body(ps, br);
    }
    parse_else(ps, n);
    end_tag(ps, l, "endif", n);
}

static void parse_for(parser *ps, nlist *l)
{
    node *n = new_node(ps->c, N_FOR, ps->p);
    const unsigned char *b, *e;
    nlist body = {0};
    expr_tag(ps, l, &body, "for", &b, &e);
    add_node(ps->c, l, n);
    /* '^([%w_,%s]+)%s+in%s+()(.+)%s+if%s+(.+)$' (the last " if " splits) */
    const unsigned char *p = b;
    while (p < e && (ident_char(*p) || *p == ',' || lua_space(*p)))
        p++;
    const unsigned char *in = NULL; /* the greedy pattern takes the last " in " */
    for (const unsigned char *q = b; q + 3 < e && q <= p; q++)
        if (lua_space(q[0]) && q[1] == 'i' && q[2] == 'n' && lua_space(q[3]))
            in = q;
    ps->c->pos = b;
    if (!in)
        jfail(ps->c, "Jinja error: invalid for expression");
    n->b = b;
    n->e = in;
    const unsigned char *g = in + 3;
    while (g < e && lua_space(*g))
        g++;
    n->gb = g;
    n->ge = e;
    for (const unsigned char *q = e; q-- > g + 1;)
        if (q + 3 < e && lua_space(q[-1]) && q[0] == 'i' && q[1] == 'f' && lua_space(q[2])) {
            const unsigned char *ge = q - 1;
            while (ge > g && lua_space(ge[-1]))
                ge--;
            if (ge == g)
                break;
            n->ge = ge;
            n->ib = q + 3;
            n->ie = e;
            break;
        }
    *add_branch(ps, n, NULL, NULL) = body;
    parse_body(ps, &n->bodies[0]);
    parse_else(ps, n);
    end_tag(ps, l, "endfor", n);
}

/* Items up to the end of the text or a tag that is not ours. */
static void parse_body(parser *ps, nlist *l)
{
    jctx *c = ps->c;
    if (++ps->depth > 200)
        jfail(c, "Jinja: blocks nested too deeply");
    while (ps->p < ps->end) {
        if (!entity_start(ps->p, ps->end)) {
            const unsigned char *b = ps->p;
            while (ps->p < ps->end && !entity_start(ps->p, ps->end))
                ps->p++;
            node *n = new_node(c, N_TEXT, b);
            n->b = b;
            n->e = ps->p;
            add_node(c, l, n);
            continue;
        }
        const unsigned char *at = ps->p;
        c->pos = at;
        if (ps->p[1] == '#') {
            const unsigned char *ce;
            open_delim(ps, l);
            close_delim(ps, l, '#', &ce, 0);
            continue;
        }
        if (ps->p[1] == '=') {
            node *n = new_node(c, N_VAR, at);
            open_delim(ps, l);
            n->b = ps->p;
            add_node(c, l, n);
            close_delim(ps, l, '=', &n->e, 1);
            /* an rstrip node was added after the variable: right order */
            continue;
        }
        if (tag_is(ps, "if")) {
            parse_if(ps, l);
        } else if (tag_is(ps, "for")) {
            parse_for(ps, l);
        } else if (tag_is(ps, "set")) {
            node *n = new_node(c, N_SET, at);
            nlist rs = {0};
            expr_tag(ps, l, &rs, "set", &n->b, &n->e);
            add_node(c, l, n);
            for (size_t i = 0; i < rs.n; i++)
                add_node(c, l, rs.v[i]);
        } else if (tag_is(ps, "raw")) {
            simple_tag(ps, l, l, "raw");
            const unsigned char *b = ps->p;
            while (ps->p < ps->end && !(is_tag(ps) && tag_is(ps, "endraw")))
                ps->p++;
            if (ps->p >= ps->end) {
                c->pos = at;
                jfail(c, "additional tag or \"{%% endraw %%}\" expected");
            }
            node *n = new_node(c, N_TEXT, b);
            n->b = b;
            n->e = ps->p;
            add_node(c, l, n);
            simple_tag(ps, l, l, "endraw");
        } else if (tag_is(ps, "else") || tag_is(ps, "elseif") || tag_is(ps, "endif") ||
                   tag_is(ps, "endfor")) {
            break; /* the caller's, or an error there */
        } else {
            static const char *const known[] = {"block", "extends", "macro", "call",
                                                "filter", "include", "import", "do"};
            for (size_t i = 0; i < sizeof known / sizeof *known; i++)
                if (tag_is(ps, known[i]))
                    jfail(c, "Jinja statement {%% %s %%} is not supported; run with -T to read "
                             "the file without templates",
                          known[i]);
            jfail(c, "Jinja: unknown or unexpected tag");
        }
    }
    ps->depth--;
}

/* ------------------------------------------------------------ evaluation */

typedef struct out {
    rk_buf b;
    size_t last; /* start of the last chunk, or SIZE_MAX */
} out;

static void put(jctx *c, out *o, const char *s, size_t len)
{
    o->last = o->b.len;
    if (rk_buf_append(&o->b, s, len) || rk_buf_reserve(&o->b, 1))
        joom(c);
}

static void evaluate(jctx *c, scope *sc, const nlist *l, out *o);

/* Append what a block produced (and free it). */
static void append_block(jctx *c, out *o, rk_buf *it)
{
    int bad = it->len && rk_buf_append(&o->b, it->p, it->len);
    rk_buf_free(it);
    if (bad || rk_buf_reserve(&o->b, 1))
        joom(c);
}

static void run_for(jctx *c, scope *sc, const node *n, out *o)
{
    c->pos = n->at;
    /* variable names */
    const char *vars[8];
    size_t vlen[8], nv = 0;
    for (const unsigned char *p = n->b; p < n->e;) {
        while (p < n->e && (lua_space(*p) || *p == ','))
            p++;
        const unsigned char *b = p;
        while (p < n->e && !lua_space(*p) && *p != ',')
            p++;
        if (p == b)
            break;
        if (!ident_start(*b) || (p - b == 4 && memcmp(b, "loop", 4) == 0) || nv == 8)
            jfail(c, "Jinja error: invalid variable name");
        vars[nv] = (const char *)b;
        vlen[nv++] = (size_t)(p - b);
    }
    jv g = eval(c, sc, n->gb, n->ge);
    if (g.t != V_TAB && g.t != V_NIL)
        jfail(c, "Jinja: a for loop can only iterate over a list {...}");
    size_t count = g.t == V_TAB ? g.tab->narr : 0, done = 0;
    scope inner = {.up = sc};
    size_t start = o->b.len;
    for (size_t i = 0; i < count; i++) {
        jv item = g.tab->arr[i];
        if (item.t == V_TAB && nv > 1) {
            for (size_t j = 0; j < nv; j++)
                scope_set(c, &inner, vars[j], vlen[j], index_value(c, item, vnum((double)j + 1)));
        } else {
            scope_set(c, &inner, vars[0], vlen[0], item);
            for (size_t j = 1; j < nv; j++)
                scope_set(c, &inner, vars[j], vlen[j], vnil());
        }
        if (n->ib && !truthy(eval(c, &inner, n->ib, n->ie)))
            continue;
        jtab *lt = jalloc(c, sizeof *lt);
        memset(lt, 0, sizeof *lt);
        double k = (double)done + 1, len = (double)count;
        tab_set(c, lt, "index", vnum(k));
        tab_set(c, lt, "index0", vnum(k - 1));
        tab_set(c, lt, "revindex", vnum(len - (k - 1)));
        tab_set(c, lt, "revindex0", vnum(len - k));
        tab_set(c, lt, "first", vbool(done == 0));
        tab_set(c, lt, "last", vbool(k == len));
        tab_set(c, lt, "length", vnum(len));
        tab_set(c, lt, "depth", vnum(1));
        tab_set(c, lt, "depth0", vnum(0));
        scope_set(c, &inner, "loop", 4, (jv){.t = V_TAB, .tab = lt});
        out it = {.last = SIZE_MAX};
        evaluate(c, &inner, &n->bodies[0], &it);
        if (n->lstrip_end)
            while (it.b.len && lua_space((unsigned char)it.b.p[it.b.len - 1]))
                it.b.len--;
        append_block(c, o, &it.b);
        done++;
    }
    if (done == 0 && n->has_else) {
        out it = {.last = SIZE_MAX};
        evaluate(c, &inner, &n->els, &it);
        append_block(c, o, &it.b);
    }
    o->last = start; /* the whole loop is one chunk */
}

static void evaluate(jctx *c, scope *sc, const nlist *l, out *o)
{
    int rstrip = 0;
    for (size_t i = 0; i < l->n; i++) {
        const node *n = l->v[i];
        c->pos = n->at;
        size_t before = o->b.len;
        switch (n->t) {
        case N_TEXT:
            put(c, o, (const char *)n->b, (size_t)(n->e - n->b));
            break;
        case N_VAR: {
            jv v = eval(c, sc, n->b, n->e);
            if (v.t == V_NIL)
                put(c, o, "", 0);
            else {
                v = to_string(c, v);
                put(c, o, v.s, v.len);
            }
            break;
        }
        case N_IF: {
            const nlist *body = NULL;
            for (size_t k = 0; k < n->nconds && !body; k++)
                if (truthy(eval(c, sc, n->cb[k], n->ce[k])))
                    body = &n->bodies[k];
            if (!body && n->has_else)
                body = &n->els;
            if (body) {
                out it = {.last = SIZE_MAX};
                evaluate(c, sc, body, &it);
                o->last = before;
                append_block(c, o, &it.b);
            }
            break;
        }
        case N_FOR:
            run_for(c, sc, n, o);
            break;
        case N_SET: {
            /* '^([%a_][%w_]*)%s*=%s*(.+)$' */
            const unsigned char *p = n->b;
            while (p < n->e && ident_char(*p))
                p++;
            const unsigned char *q = p;
            while (q < n->e && lua_space(*q))
                q++;
            if (p == n->b || !ident_start(*n->b) || q >= n->e || *q != '=' || q + 1 >= n->e)
                jfail(c, "Jinja error: invalid variable name or expression");
            q++;
            while (q < n->e && lua_space(*q))
                q++;
            jv v = eval(c, sc, q, n->e);
            scope_set(c, sc, (const char *)n->b, (size_t)(p - n->b), v);
            break;
        }
        case N_LSTRIP:
            if (o->last != SIZE_MAX)
                while (o->b.len > o->last && lua_space((unsigned char)o->b.p[o->b.len - 1]))
                    o->b.len--;
            break;
        case N_RSTRIP:
            rstrip = 1;
            continue;
        }
        if (rstrip) {
            /* lupa strips the leading space of its last chunk */
            if (o->last != SIZE_MAX) {
                size_t s = o->last, k = s;
                while (k < o->b.len && lua_space((unsigned char)o->b.p[k]))
                    k++;
                memmove(o->b.p + s, o->b.p + k, o->b.len - k);
                o->b.len -= k - s;
            }
            rstrip = 0;
        }
    }
    if (o->b.p)
        o->b.p[o->b.len] = 0;
}

/* ------------------------------------------------------------------ main */

int rk_ucl_jinja(const rk_ucl_env *env, const char *file, const unsigned char *in, size_t len,
                 unsigned char **outp, size_t *outlen, char *msg, size_t msgsz)
{
    const unsigned char *end = in + len, *p;
    int has_cr = memchr(in, '\r', len) != NULL, has_tag = 0;

    for (p = in; p + 1 < end; p++)
        if (entity_start(p, end)) {
            has_tag = 1;
            break;
        }
    *outp = NULL;
    if (!has_tag && !has_cr)
        return 0;

    /* lupa: "\r?\n" -> "\n" first */
    unsigned char *text = malloc(len + 1);
    size_t tlen = 0;
    if (!text) {
        snprintf(msg, msgsz, "out of memory");
        return -1;
    }
    for (p = in; p < end; p++) {
        if (*p == '\r' && p + 1 < end && p[1] == '\n')
            continue;
        text[tlen++] = *p;
    }
    text[tlen] = 0;
    if (!has_tag) {
        *outp = text;
        *outlen = tlen;
        return 0;
    }

    jctx c = {.env = env, .file = file ? file : "<string>", .text = text, .end = text + tlen,
              .pos = text, .msg = msg, .msgsz = msgsz};
    out o = {.last = SIZE_MAX};
    scope top = {0};
    volatile int rc = -1; /* set after setjmp, read after a longjmp */
    if (setjmp(c.fail) == 0) {
        parser ps = {&c, text, text + tlen, 0};
        nlist l = {0};
        parse_body(&ps, &l);
        if (ps.p < ps.end) { /* an else/endif/endfor without its block */
            c.pos = ps.p;
            jfail(&c, "Jinja: unknown or unexpected tag");
        }
        evaluate(&c, &top, &l, &o);
        if (rk_buf_reserve(&o.b, 1) == 0) {
            o.b.p[o.b.len] = 0;
            *outp = (unsigned char *)o.b.p;
            *outlen = o.b.len;
            o.b.p = NULL;
            rc = 0;
        } else {
            snprintf(msg, msgsz, "out of memory");
        }
    }
    rk_buf_free(&o.b);
    while (c.blocks) {
        blk *b = c.blocks->next;
        free(c.blocks);
        c.blocks = b;
    }
    free(text);
    return rc;
}
