/* The part of Rspamd's Jinja stage (lupa, with delimiters {% %}, {= =} and
 * {# #}) that a configuration dump can honour without a Lua interpreter:
 *
 *  - CR LF line ends become LF (lupa normalises every template);
 *  - {# comments #} are removed;
 *  - {= name =}, {= env.name =}, {= paths.NAME =} are replaced by their value
 *    (an unknown name gives an empty string, as in lupa);
 *  - a '-' just inside a delimiter strips the whitespace on that side;
 *  - everything else ({% statements %}, filters, operators, literals) is
 *    refused with a message that names the file and line, rather than
 *    silently producing a different configuration than Rspamd would.
 *
 * "{{ }}" is not a delimiter in Rspamd and stays as it is. */
#include "rspamd/rspamd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lua_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static unsigned line_of(const unsigned char *begin, const unsigned char *p)
{
    unsigned n = 1;
    for (; begin < p; begin++)
        n += *begin == '\n';
    return n;
}

static const char *lookup(const rk_ucl_kv *kv, size_t n, const char *name, size_t len)
{
    for (size_t i = n; i-- > 0;) /* later entries override earlier ones */
        if (strlen(kv[i].name) == len && memcmp(kv[i].name, name, len) == 0)
            return kv[i].value;
    return NULL;
}

static int ident_start(unsigned char c) { return c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }
static int ident_char(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

/* Evaluate "a.b.c". Returns 0 with *val (NULL = nil), -1 when unsupported,
 * -2 when indexing nil (lupa's runtime error). */
static int eval_path(const rk_ucl_env *env, const unsigned char *s, size_t len, const char **val,
                     char *what, size_t whatsz)
{
    enum { NIL, TABLE_ENV, TABLE_PATHS, STRING } kind;
    const char *str = NULL;
    size_t i = 0;
    int first = 1;
    kind = NIL;
    if (len == 0)
        return -1;
    while (i < len) {
        if (!first) {
            if (s[i] != '.')
                return -1;
            i++;
        }
        size_t b = i;
        if (i >= len || !ident_start(s[i]))
            return -1;
        while (i < len && ident_char(s[i]))
            i++;
        const char *name = (const char *)s + b;
        size_t nlen = i - b;
        if (first) {
            if (nlen == 3 && memcmp(name, "env", 3) == 0) {
                kind = TABLE_ENV;
            } else if (nlen == 5 && memcmp(name, "paths", 5) == 0) {
                kind = TABLE_PATHS;
            } else {
                str = lookup(env->tpl_env, env->n_tpl_env, name, nlen);
                kind = str ? STRING : NIL;
            }
            first = 0;
            continue;
        }
        switch (kind) {
        case NIL:
            snprintf(what, whatsz, "attempt to index field '%.*s' (a nil value)", (int)nlen, name);
            return -2;
        case TABLE_ENV:
            str = lookup(env->tpl_env, env->n_tpl_env, name, nlen);
            kind = str ? STRING : NIL;
            break;
        case TABLE_PATHS:
            str = lookup(env->tpl_paths, env->n_tpl_paths, name, nlen);
            kind = str ? STRING : NIL;
            break;
        case STRING: /* a Lua string indexed by a name: a string method or nil */
            str = NULL;
            kind = NIL;
            break;
        }
    }
    if (kind == TABLE_ENV || kind == TABLE_PATHS)
        return -1; /* printing a table: not something a config wants */
    *val = kind == STRING ? str : NULL;
    return 0;
}

static void rstrip(rk_buf *b)
{
    while (b->len && lua_space(b->p[b->len - 1]))
        b->len--;
}

int rk_ucl_jinja(const rk_ucl_env *env, const char *file, const unsigned char *in, size_t len,
                 unsigned char **out, size_t *outlen, char *msg, size_t msgsz)
{
    const unsigned char *end = in + len, *p;
    int has_cr = memchr(in, '\r', len) != NULL, has_tag = 0;
    const char *fname = file ? file : "<string>";

    for (p = in; p + 1 < end; p++)
        if (p[0] == '{' && (p[1] == '%' || p[1] == '=' || p[1] == '#')) {
            has_tag = 1;
            break;
        }
    *out = NULL;
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
        *out = text;
        *outlen = tlen;
        return 0;
    }

    rk_buf b = {0};
    int strip_next = 0;
    const unsigned char *t = text, *tend = text + tlen;
    while (t < tend) {
        const unsigned char *q = t;
        while (q + 1 < tend && !(q[0] == '{' && (q[1] == '%' || q[1] == '=' || q[1] == '#')))
            q++;
        if (q + 1 >= tend)
            q = tend;
        const unsigned char *seg = t;
        if (strip_next) {
            while (seg < q && lua_space(*seg))
                seg++;
            strip_next = 0;
        }
        if (rk_buf_append(&b, seg, (size_t)(q - seg)))
            goto oom;
        if (q == tend)
            break;

        char kind = (char)q[1];
        const unsigned char *s = q + 2;
        if (s < tend && *s == '-') {
            rstrip(&b);
            s++;
        } else if (s < tend && *s == '+') {
            s++;
        }
        while (s < tend && lua_space(*s))
            s++;
        char closer[3] = {kind, '}', 0};
        const unsigned char *close = NULL;
        for (const unsigned char *c = s; c + 1 < tend; c++)
            if (c[0] == (unsigned char)closer[0] && c[1] == '}') {
                close = c;
                break;
            }
        unsigned line = line_of(text, q);
        if (kind == '%') {
            snprintf(msg, msgsz,
                     "%s:%u: Jinja statements ({%% ... %%}) are not supported; "
                     "run with -T to read the file without templates",
                     fname, line);
            goto fail;
        }
        if (!close) {
            snprintf(msg, msgsz, "%s:%u: \"%s\" expected", fname, line, closer);
            goto fail;
        }
        const unsigned char *e = close;
        if (e > s && e[-1] == '-') {
            strip_next = 1;
            e--;
        }
        while (e > s && lua_space(e[-1]))
            e--;
        if (kind == '=') {
            const char *val = NULL;
            char what[160];
            int rc = eval_path(env, s, (size_t)(e - s), &val, what, sizeof what);
            if (rc == -1) {
                snprintf(msg, msgsz,
                         "%s:%u: unsupported Jinja expression '{= %.*s =}': only names such as "
                         "env.NAME and paths.NAME are supported; run with -T to skip templates",
                         fname, line, (int)(e - s), (const char *)s);
                goto fail;
            }
            if (rc == -2) {
                snprintf(msg, msgsz, "%s:%u: Jinja error: %s", fname, line, what);
                goto fail;
            }
            if (val && rk_buf_puts(&b, val))
                goto oom;
        }
        t = close + 2;
    }
    free(text);
    if (rk_buf_reserve(&b, 1))
        goto oom_nofree;
    b.p[b.len] = 0;
    *out = b.p;
    *outlen = b.len;
    return 0;
oom:
    free(text);
oom_nofree:
    rk_buf_free(&b);
    snprintf(msg, msgsz, "out of memory");
    return -1;
fail:
    free(text);
    rk_buf_free(&b);
    return -1;
}
