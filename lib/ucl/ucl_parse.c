/* UCL parser with the behaviour of the libucl bundled in Rspamd 3.4.
 *
 * `rspamadm configdump` prints libucl's tree as it is, so this parser
 * reproduces libucl's state machine closely, quirks included: how a value
 * ends, when a number is a number, what a duplicate key does at each
 * priority and strategy, how macros and their arguments are read, which
 * variables are expanded where, and the exact text, line and column of its
 * error messages. Each quirk kept on purpose is marked "libucl:".
 *
 * Structure: a stack of chunks (the file being read is on top; an .include
 * pushes the included file and parses it into the *current* object), a
 * stack of open containers, and a state machine over the top chunk. */
#include "ucl.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_INCLUDE_DEPTH 16  /* libucl: UCL_MAX_RECURSION */
#define MAX_NESTING 1000      /* ours: open containers (libucl recurses without limit) */
#define MAX_ARGS_DEPTH 8      /* ours: macro arguments inside macro arguments */

/* ------------------------------------------------------- character classes */

static int is_ws(unsigned char c) { return c == ' ' || c == '\t'; }
static int is_wsu(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static int is_key_start(unsigned char c)
{
    return c == '/' || c == '_' || c >= 0x80 || is_digit(c) || is_alpha(c);
}
static int is_key_char(unsigned char c) { return c == '-' || c == '.' || is_key_start(c); }
static int is_key_sep(unsigned char c) { return c == ' ' || c == '\t' || c == ':' || c == '='; }
static int is_value_end(unsigned char c)
{
    return c == 0 || c == '\n' || c == '\r' || c == '#' || c == ',' || c == ';' || c == ']' ||
           c == '}';
}
static int is_escape(unsigned char c) { return c && strchr("\"/\\bfnrtu", c) != NULL; }
static int is_comment(const unsigned char *p, const unsigned char *end)
{
    return end - p >= 2 && ((p[0] == '/' && p[1] == '*') || p[0] == '#');
}

/* ------------------------------------------------------------- structures */

enum state { ST_INIT, ST_KEY, ST_KEY_OBRACE, ST_VALUE, ST_AFTER_VALUE, ST_MACRO_NAME, ST_MACRO,
             ST_ERROR };
enum strategy { DUP_APPEND, DUP_MERGE, DUP_REWRITE, DUP_ERROR };

typedef struct chunk {
    const unsigned char *pos, *end;
    unsigned line, column;
    unsigned prio;         /* as set, the objects keep only the low 4 bits */
    enum strategy strat;
    char *fname;           /* file name for some messages, NULL = "memory" */
    unsigned char *owned;  /* buffer to free with the chunk */
    struct chunk *next;
} chunk;

typedef struct frame {
    rk_ucl *obj;
    unsigned level;
    int obrace;
    unsigned line;
    chunk *ch;
    struct frame *next;
} frame;

typedef struct var {
    char *name, *value;
    size_t nlen, vlen;
    struct var *next;
} var;

typedef struct parser {
    enum state state, prev_state;
    chunk *chunks;
    frame *stack;
    size_t depth;
    rk_ucl *top, *cur;
    var *vars;
    char *cur_file;
    unsigned recursion;
    rk_buf err;            /* first error, libucl wording */
    int has_err;
    int err_has_loc;       /* the message names file and line */
    unsigned mline, mcol;  /* where the macro being run starts */
    rk_ucl **trash;        /* values dropped by priority: they may still be parsed into */
    size_t ntrash, trashcap;
    rk_ucl *includepaths;  /* array set by .include(path=[...]) */
    const rk_ucl_env *env; /* templates and the like; NULL for argument parsers */
    int args_depth;
    size_t copied;         /* values copied by .inherit so far */
    rk_ucl_comments *pending; /* comments not attached yet (libucl's last_comment) */
} parser;

/* ----------------------------------------------------------------- errors */

/* libucl's ucl_create_err: only the first error is kept. Returns 1 when
 * this call set it. */
static int create_err(parser *p, const char *fmt, ...) RK_PRINTF(2, 3);
static int create_err(parser *p, const char *fmt, ...)
{
    if (p->has_err)
        return 0;
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    p->has_err = 1;
    rk_buf_puts(&p->err, tmp);
    return 1;
}

/* An error whose text already says where it is. */
#define create_err_loc(p, ...) ((p)->err_has_loc |= create_err((p), __VA_ARGS__))

/* libucl's ucl_set_err: position of the current chunk, file of the parser. */
static void set_err(parser *p, const char *msg)
{
    chunk *ch = p->chunks;
    const char *fn = p->cur_file ? p->cur_file : "<unknown>";
    if (ch->pos < ch->end) {
        unsigned char c = *ch->pos;
        if (c > 0x20 && c < 0x7f)
            create_err_loc(p, "error while parsing %s: line: %d, column: %d - '%s', character: '%c'", fn,
                       (int)ch->line, (int)ch->column, msg, c);
        else
            create_err_loc(p,
                           "error while parsing %s: line: %d, column: %d - '%s', character: '0x%02x'",
                           fn, (int)ch->line, (int)ch->column, msg, c);
    } else {
        create_err_loc(p, "error while parsing %s: at the end of chunk: %s", fn, msg);
    }
    p->state = ST_ERROR;
}

static void nomem(parser *p)
{
    create_err(p, "cannot allocate memory");
    p->state = ST_ERROR;
}

/* ---------------------------------------------------------------- moving */

static void skip1(chunk *ch)
{
    if (ch->pos == ch->end)
        return;
    if (*ch->pos == '\n') {
        ch->line++;
        ch->column = 0;
    } else {
        ch->column++;
    }
    ch->pos++;
}

/* ---------------------------------------------------------------- comments */

/* Room for `extra` more comments in c. 0, or -1 when out of memory. */
static int comments_reserve(rk_ucl_comments *c, size_t extra)
{
    char **t = realloc(c->text, (c->n + extra) * sizeof *t);
    if (!t)
        return -1;
    c->text = t;
    size_t *l = realloc(c->len, (c->n + extra) * sizeof *l);
    if (!l)
        return -1;
    c->len = l;
    return 0;
}

/* libucl's ucl_save_comment: kept only when asked (rspamadm keeps them for -s) */
static void save_comment(parser *p, const unsigned char *begin, size_t len)
{
    if (!p->env || !p->env->keep_comments || len == 0)
        return;
    rk_ucl_comments *c = p->pending;
    if (!c && !(c = p->pending = calloc(1, sizeof *c))) {
        nomem(p);
        return;
    }
    char *d = malloc(len + 1);
    if (!d || comments_reserve(c, 1)) {
        free(d);
        nomem(p);
        return;
    }
    memcpy(d, begin, len);
    d[len] = 0;
    c->text[c->n] = d;
    c->len[c->n++] = len;
}

/* libucl's ucl_attach_comment: the pending comments go to `obj`, printed
 * before it, or after it when `after` (comments before a closing brace or
 * at the end of a file). A value that has comments gets more at its end. */
static void attach_comments(parser *p, rk_ucl *obj, int after)
{
    rk_ucl_comments *c = p->pending;
    if (!c)
        return;
    p->pending = NULL;
    if (!obj->comments) {
        c->after = after;
        obj->comments = c;
        return;
    }
    rk_ucl_comments *o = obj->comments;
    if (comments_reserve(o, c->n)) {
        rk_ucl_comments_free(c);
        nomem(p);
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        o->text[o->n] = c->text[i];
        o->len[o->n++] = c->len[i];
    }
    c->n = 0;
    rk_ucl_comments_free(c);
}

/* libucl's ucl_skip_comments: '#' lines and nested block comments starting
 * exactly at the current position, repeated. Inside a block comment a '"'
 * not preceded by a backslash toggles a quoted state that hides the end. */
static int skip_comments(parser *p)
{
    chunk *ch = p->chunks;
    int nested = 0, quoted = 0;
    const unsigned char *beg = NULL;
again:
    if (ch->pos < ch->end && *ch->pos == '#') {
        beg = ch->pos;
        while (ch->pos < ch->end) {
            if (*ch->pos == '\n') {
                save_comment(p, beg, (size_t)(ch->pos - beg));
                beg = NULL;
                skip1(ch);
                goto again;
            }
            skip1(ch);
        }
    } else if (ch->end - ch->pos >= 2 && ch->pos[0] == '/' && ch->pos[1] == '*') {
        beg = ch->pos;
        skip1(ch);
        skip1(ch);
        nested++;
        while (ch->pos < ch->end) {
            const unsigned char *c = ch->pos;
            if (*c == '"' && c[-1] != '\\')
                quoted = !quoted;
            if (!quoted) {
                if (*c == '*') {
                    /* libucl: a '*' consumes itself, the next character and
                     * (below) one more, so "**" + "/" does not close */
                    skip1(ch);
                    if (*ch->pos == '/' && --nested == 0) {
                        save_comment(p, beg, (size_t)(ch->pos - beg + 1));
                        beg = NULL;
                        skip1(ch);
                        goto again;
                    }
                    skip1(ch);
                } else if (*c == '/' && ch->end - c >= 2 && c[1] == '*') {
                    nested++;
                    skip1(ch);
                    skip1(ch);
                    continue;
                }
            }
            skip1(ch);
        }
        if (nested) {
            set_err(p, "unfinished multiline comment");
            return -1;
        }
    }
    if (beg && ch->pos > beg)
        save_comment(p, beg, (size_t)(ch->pos - beg));
    return 0;
}

/* ------------------------------------------------------------- variables */

static var *find_var(parser *p, const char *name, size_t nlen)
{
    for (var *v = p->vars; v; v = v->next)
        if (v->nlen == nlen && memcmp(v->name, name, nlen) == 0)
            return v;
    return NULL;
}

/* libucl's ucl_parser_register_variable: replace in place or append. */
static int set_var(parser *p, const char *name, const char *value)
{
    size_t nlen = strlen(name);
    var *v = find_var(p, name, nlen);
    char *val = strdup(value);
    if (!val)
        return -1;
    if (v) {
        free(v->value);
        v->value = val;
        v->vlen = strlen(val);
        return 0;
    }
    v = calloc(1, sizeof *v);
    if (!v || !(v->name = strdup(name))) {
        free(v);
        free(val);
        return -1;
    }
    v->nlen = nlen;
    v->value = val;
    v->vlen = strlen(val);
    var **pp = &p->vars;
    while (*pp)
        pp = &(*pp)->next;
    *pp = v;
    return 0;
}

static var *unlink_var(parser *p, const char *name)
{
    for (var **pp = &p->vars; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->name, name) == 0) {
            var *v = *pp;
            *pp = v->next;
            v->next = NULL;
            return v;
        }
    return NULL;
}

static void append_var(parser *p, var *v)
{
    var **pp = &p->vars;
    while (*pp)
        pp = &(*pp)->next;
    *pp = v;
}

static void free_var(var *v)
{
    if (v) {
        free(v->name);
        free(v->value);
        free(v);
    }
}

/* Expand $NAME, ${NAME} and $$ in s[0..len). Returns a new string in *out
 * (NULL when no known variable occurs: libucl then keeps the string as it
 * is, "$$" included). $NAME takes the first registered variable that is a
 * prefix of the text; ${NAME} needs an exact name; unknown ones stay. */
static int expand_vars(parser *p, const char *s, size_t len, char **out, size_t *outlen)
{
    rk_buf b = {0};
    int found = 0;
    const char *end = s + len;
    *out = NULL;
    for (const char *c = s; c < end;) {
        if (*c != '$' || c + 1 == end) {
            if (rk_buf_append(&b, c++, 1))
                goto oom;
            continue;
        }
        const char *n = c + 1;
        if (*n == '$') {
            if (rk_buf_append(&b, "$", 1))
                goto oom;
            c += 2;
        } else if (*n == '{') {
            const char *close = memchr(n + 1, '}', (size_t)(end - n - 1));
            var *v = close ? find_var(p, n + 1, (size_t)(close - n - 1)) : NULL;
            if (v) {
                if (rk_buf_append(&b, v->value, v->vlen))
                    goto oom;
                found = 1;
                c = close + 1;
            } else {
                if (rk_buf_append(&b, "$", 1))
                    goto oom;
                c++;
            }
        } else {
            var *v;
            for (v = p->vars; v; v = v->next)
                if ((size_t)(end - n) >= v->nlen && memcmp(n, v->name, v->nlen) == 0)
                    break;
            if (v) {
                if (rk_buf_append(&b, v->value, v->vlen))
                    goto oom;
                found = 1;
                c = n + v->nlen;
            } else {
                if (rk_buf_append(&b, "$", 1))
                    goto oom;
                c++;
            }
        }
    }
    if (!found) {
        rk_buf_free(&b);
        return 0;
    }
    if (rk_buf_reserve(&b, 1))
        goto oom;
    *out = (char *)b.p;
    *outlen = b.len;
    return 0;
oom:
    rk_buf_free(&b);
    return -1;
}

static int set_filevars(parser *p, const char *path)
{
    char *copy = strdup(path), *dir = strdup(path);
    if (!copy || !dir) {
        free(copy);
        free(dir);
        return -1;
    }
    free(p->cur_file);
    p->cur_file = copy;
    /* dirname(3) semantics without touching `path` */
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    int rc = set_var(p, "FILENAME", path) || set_var(p, "CURDIR", dir);
    free(dir);
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------- string values */

/* libucl's ucl_unescape_json_string, quirks included (a short \u escape
 * yields 'u' and swallows the next character). Returns the new length. */
static size_t unescape_json(char *str, size_t len)
{
    char *t = str, *h = str;
    if (len <= 1)
        return len;
    while (len) {
        if (*h == '\\') {
            h++;
            if (len == 1) {
                len--;
                *t++ = '\\';
                continue;
            }
            switch (*h) {
            case 'n': *t++ = '\n'; break;
            case 'r': *t++ = '\r'; break;
            case 'b': *t++ = '\b'; break;
            case 't': *t++ = '\t'; break;
            case 'f': *t++ = '\f'; break;
            case '\\': *t++ = '\\'; break;
            case '"': *t++ = '"'; break;
            case 'u': {
                int uval = 0;
                h++;
                len--;
                if (len > 3) {
                    for (int i = 0; i < 4; i++) {
                        char c = h[i];
                        uval <<= 4;
                        if (c >= '0' && c <= '9')
                            uval += c - '0';
                        else if (c >= 'a' && c <= 'f')
                            uval += c - 'a' + 10;
                        else if (c >= 'A' && c <= 'F')
                            uval += c - 'A' + 10;
                        else
                            break;
                    }
                    if (uval < 0x80) {
                        *t++ = (char)uval;
                    } else if (uval < 0x800) {
                        *t++ = (char)(0xC0 + ((uval & 0x7C0) >> 6));
                        *t++ = (char)(0x80 + (uval & 0x3F));
                    } else {
                        *t++ = (char)(0xE0 + ((uval & 0xF000) >> 12));
                        *t++ = (char)(0x80 + ((uval & 0xFC0) >> 6));
                        *t++ = (char)(0x80 + (uval & 0x3F));
                    }
                    h += 4;
                    len -= 4;
                    if (len > 0)
                        len--;
                    continue;
                }
                *t++ = 'u';
                break;
            }
            default:
                *t++ = *h;
                break;
            }
            h++;
            len--;
        } else {
            *t++ = *h++;
        }
        if (len > 0)
            len--;
    }
    *t = 0;
    return (size_t)(t - str);
}

/* libucl's ucl_unescape_squoted_string: \' and line continuations only. */
static size_t unescape_squoted(char *str, size_t len)
{
    char *t = str, *h = str;
    if (len <= 1)
        return len;
    while (len) {
        if (*h == '\\') {
            h++;
            if (len == 1) {
                len--;
                *t++ = '\\';
                continue;
            }
            switch (*h) {
            case '\'':
                *t++ = '\'';
                break;
            case '\n':
                break;
            case '\r':
                if (len > 1 && h[1] == '\n') {
                    h++;
                    len--;
                }
                break;
            default:
                *t++ = '\\';
                *t++ = *h;
                break;
            }
            h++;
            len--;
        } else {
            *t++ = *h++;
        }
        if (len > 0)
            len--;
    }
    *t = 0;
    return (size_t)(t - str);
}

enum { SV_UNESCAPE = 1, SV_SQUOTE = 2, SV_EXPAND = 4 };

/* Copy src into a new string, unescaping and expanding as asked
 * (libucl's ucl_copy_or_store_ptr). */
static int make_string(parser *p, const unsigned char *src, size_t len, unsigned how, char **out,
                       size_t *outlen)
{
    char *s = malloc(len + 1);
    if (!s) {
        nomem(p);
        return -1;
    }
    if (len)
        memcpy(s, src, len);
    s[len] = 0;
    if (how & SV_UNESCAPE)
        len = (how & SV_SQUOTE) ? unescape_squoted(s, len) : unescape_json(s, len);
    if (how & SV_EXPAND) {
        char *e;
        size_t elen;
        if (expand_vars(p, s, len, &e, &elen)) {
            free(s);
            nomem(p);
            return -1;
        }
        if (e) {
            free(s);
            s = e;
            len = elen;
        }
    }
    *out = s;
    *outlen = len;
    return 0;
}

static void set_string(rk_ucl *obj, char *s, size_t len)
{
    rk_ucl_clear_value(obj);
    obj->type = RK_UCL_STRING;
    obj->v.sv = s;
    obj->len = len;
}

/* ----------------------------------------------------------------- lexers */

/* Scan a "..." string from the current position (just after the quote).
 * Sets *unescape when there are escapes, *unsafe when the content needs
 * quoting as a key, *expand when it has a '$'. */
static int lex_json_string(parser *p, int *unescape, int *unsafe, int *expand)
{
    chunk *ch = p->chunks;
    while (ch->pos < ch->end) {
        unsigned char c = *ch->pos;
        if (c < 0x1F) {
            set_err(p, c == '\n' ? "unexpected newline" : "unexpected control character");
            return -1;
        } else if (c == '\\') {
            skip1(ch);
            if (ch->pos >= ch->end) {
                set_err(p, "unfinished escape character");
                return -1;
            }
            c = *ch->pos;
            if (is_escape(c)) {
                if (c == 'u') {
                    skip1(ch);
                    for (int i = 0; i < 4 && ch->pos < ch->end; i++) {
                        if (!isxdigit(*ch->pos)) {
                            set_err(p, "invalid utf escape");
                            return -1;
                        }
                        skip1(ch);
                    }
                    if (ch->pos >= ch->end) {
                        set_err(p, "unfinished escape character");
                        return -1;
                    }
                } else {
                    skip1(ch);
                }
            }
            *unescape = 1;
            *unsafe = 1;
            continue;
        } else if (c == '"') {
            skip1(ch);
            return 0;
        } else if (rk_ucl_key_unsafe(c)) {
            *unsafe = 1;
        } else if (c == '$') {
            *expand = 1;
        }
        skip1(ch);
    }
    set_err(p, "no quote at the end of json string");
    return -1;
}

static int lex_squoted_string(parser *p, int *unescape)
{
    chunk *ch = p->chunks;
    while (ch->pos < ch->end) {
        unsigned char c = *ch->pos;
        if (c == '\\') {
            skip1(ch);
            if (ch->pos >= ch->end) {
                set_err(p, "unfinished escape character");
                return -1;
            }
            skip1(ch);
            *unescape = 1;
            continue;
        } else if (c == '\'') {
            skip1(ch);
            return 0;
        }
        skip1(ch);
    }
    set_err(p, "no quote at the end of single quoted string");
    return -1;
}

/* ----------------------------------------------------------------- numbers */

static long size_mult(unsigned char c, int bytes)
{
    switch (c | 0x20) {
    case 'k': return bytes ? 1024L : 1000L;
    case 'm': return bytes ? 1024L * 1024 : 1000L * 1000;
    case 'g': return bytes ? 1024L * 1024 * 1024 : 1000L * 1000 * 1000;
    default: return 1;
    }
}

static double time_mult(unsigned char c)
{
    switch (c | 0x20) {
    case 'm': return 60;
    case 'h': return 60 * 60;
    case 'd': return 60 * 60 * 24;
    case 'w': return 60 * 60 * 24 * 7;
    case 'y': return 60 * 60 * 24 * 365;
    default: return 1;
    }
}

/* C leaves these undefined; libucl relies on what x86-64 does. */
static int64_t to_int64(double d)
{
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return (int64_t)d;
    return INT64_MIN; /* cvttsd2si's "integer indefinite" */
}

static int64_t wrap_mul(int64_t a, long b) { return (int64_t)((uint64_t)a * (uint64_t)b); }

/* libucl's ucl_maybe_parse_number with allow_double, !number_bytes and
 * allow_time, kept step by step: it decides what is a number and what is a
 * string (`1.2.3`, `10 k`, `12x5` = 5 ...). Returns 0 and sets obj (may be
 * NULL) and *pos, EINVAL for "not a number" or ERANGE. */
int rk_ucl_parse_number(rk_ucl *obj, const unsigned char *start, const unsigned char *end,
                        const unsigned char **pos)
{
    const unsigned char *p = start, *c = start;
    int got_dot = 0, got_exp = 0, need_double = 0, is_time = 0, valid_start = 0, is_hex = 0,
        is_neg = 0, allow_double = 1;
    double dv = 0;
    int64_t lv = 0;
    char *endptr;

    if (*p == '-') {
        is_neg = 1;
        c++;
        p++;
    }
    while (p < end) {
        if (is_hex && isxdigit(*p)) {
            p++;
        } else if (is_digit(*p)) {
            valid_start = 1;
            p++;
        } else if (!is_hex && (*p == 'x' || *p == 'X')) {
            is_hex = 1;
            allow_double = 0;
            c = p + 1;
        } else if (allow_double) {
            if (p == c) {
                *pos = start;
                return EINVAL;
            } else if (*p == '.') {
                if (got_dot) {
                    *pos = start;
                    return EINVAL;
                }
                got_dot = need_double = 1;
                p++;
            } else if (*p == 'e' || *p == 'E') {
                if (got_exp) {
                    *pos = start;
                    return EINVAL;
                }
                got_exp = need_double = 1;
                p++;
                if (p >= end || (!is_digit(*p) && *p != '+' && *p != '-')) {
                    *pos = start;
                    return EINVAL;
                }
                p++;
            } else {
                break;
            }
        } else {
            break;
        }
    }
    if (!valid_start) {
        *pos = start;
        return EINVAL;
    }

    errno = 0;
    if (need_double)
        dv = strtod((const char *)c, &endptr);
    else
        lv = strtoimax((const char *)c, &endptr, is_hex ? 16 : 10);
    if (errno == ERANGE) {
        *pos = start;
        return ERANGE;
    }
    const unsigned char *ep = (const unsigned char *)endptr;

    if (is_value_end(*ep)) {
        p = ep;
        goto set_obj;
    }
    if (ep < end && ep != start) {
        p = ep;
        switch (*p) {
        case 'm': case 'M': case 'g': case 'G': case 'k': case 'K':
            if (end - p >= 2) {
                if (p[1] == 's' || p[1] == 'S') {
                    if (!need_double) {
                        need_double = 1;
                        dv = (double)lv;
                    }
                    is_time = 1;
                    if (p[0] == 'm' || p[0] == 'M')
                        dv /= 1000.;
                    else
                        dv *= (double)size_mult(*p, 0);
                    p += 2;
                    if (end - p > 0 && !is_value_end(*p)) {
                        *pos = start;
                        return EINVAL;
                    }
                    goto set_obj;
                } else if (p[1] == 'b' || p[1] == 'B') {
                    if (need_double) {
                        need_double = 0;
                        lv = to_int64(dv);
                    }
                    lv = wrap_mul(lv, size_mult(*p, 1));
                    p += 2;
                    if (end - p > 0 && !is_value_end(*p)) {
                        *pos = start;
                        return EINVAL;
                    }
                    goto set_obj;
                } else if (is_value_end(p[1])) {
                    if (need_double)
                        dv *= (double)size_mult(*p, 0);
                    else
                        lv = wrap_mul(lv, size_mult(*p, 0));
                    p++;
                    goto set_obj;
                } else if (end - p >= 3) {
                    if ((p[0] | 0x20) == 'm' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'n') {
                        if (!need_double) {
                            need_double = 1;
                            dv = (double)lv;
                        }
                        is_time = 1;
                        dv *= 60.;
                        p += 3;
                        if (end - p > 0 && !is_value_end(*p)) {
                            *pos = start;
                            return EINVAL;
                        }
                        goto set_obj;
                    }
                }
            } else {
                if (need_double)
                    dv *= (double)size_mult(*p, 0);
                else
                    lv = wrap_mul(lv, size_mult(*p, 0));
                p++;
                if (end - p > 0 && !is_value_end(*p)) {
                    *pos = start;
                    return EINVAL;
                }
                goto set_obj;
            }
            break;
        case 's': case 'S':
            if (p == end - 1 || is_value_end(p[1])) {
                if (!need_double) {
                    need_double = 1;
                    dv = (double)lv;
                }
                p++;
                is_time = 1;
                goto set_obj;
            }
            break;
        case 'h': case 'H': case 'd': case 'D': case 'w': case 'W': case 'y': case 'Y':
            if (p == end - 1 || is_value_end(p[1])) {
                if (!need_double) {
                    need_double = 1;
                    dv = (double)lv;
                }
                is_time = 1;
                dv *= time_mult(*p);
                p++;
                goto set_obj;
            }
            break;
        case '\t': case ' ':
            while (p < end && is_ws(*p))
                p++;
            if (is_value_end(*p))
                goto set_obj;
            break;
        }
    } else if (ep == end) {
        p = ep;
        goto set_obj;
    }
    *pos = c;
    return EINVAL;

set_obj:
    if (obj) {
        rk_ucl_clear_value(obj);
        if (allow_double && (need_double || is_time)) {
            obj->type = is_time ? RK_UCL_TIME : RK_UCL_FLOAT;
            obj->v.dv = is_neg ? -dv : dv;
        } else {
            obj->type = RK_UCL_INT;
            /* libucl: plain signed negation (wraps for INT64_MIN) */
            obj->v.iv = is_neg ? (int64_t)(0 - (uint64_t)lv) : lv;
        }
    }
    *pos = p;
    return 0;
}

static int lex_number(parser *p, rk_ucl *obj)
{
    chunk *ch = p->chunks;
    const unsigned char *pos;
    int rc = rk_ucl_parse_number(obj, ch->pos, ch->end, &pos);
    if (rc == 0) {
        ch->column += (unsigned)(pos - ch->pos);
        ch->pos = pos;
        return 1;
    }
    if (rc == ERANGE)
        set_err(p, "numeric value out of range");
    return 0;
}

int rk_ucl_bool_word(const char *s, size_t len)
{
    static const struct {
        const char *w;
        int v;
    } words[] = {{"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0}, {"on", 1}, {"off", 0}};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strlen(words[i].w) == len && strncasecmp(s, words[i].w, len) == 0)
            return words[i].v;
    return -1;
}

static int parse_bool(rk_ucl *obj, const unsigned char *s, size_t len)
{
    int v = rk_ucl_bool_word((const char *)s, len);
    if (v < 0)
        return 0;
    rk_ucl_clear_value(obj);
    obj->type = RK_UCL_BOOLEAN;
    obj->v.bv = v;
    return 1;
}

/* -------------------------------------------------------------- containers */

static int trash_add(parser *p, rk_ucl *u)
{
    if (p->ntrash == p->trashcap) {
        size_t cap = p->trashcap ? p->trashcap * 2 : 16;
        rk_ucl **t = realloc(p->trash, cap * sizeof *t);
        if (!t)
            return -1;
        p->trash = t;
        p->trashcap = cap;
    }
    p->trash[p->ntrash++] = u;
    return 0;
}

/* libucl's ucl_parser_add_container: make `obj` (or a new top value) an
 * object or array and push it. */
static rk_ucl *add_container(parser *p, rk_ucl *obj, int is_array, unsigned level, int obrace)
{
    rk_ucl_type want = is_array ? RK_UCL_ARRAY : RK_UCL_OBJECT;
    rk_ucl *nobj = obj;
    if (!obj) {
        nobj = rk_ucl_node(want, p->chunks->prio);
        if (!nobj) {
            nomem(p);
            return NULL;
        }
    } else {
        if (obj->type == (is_array ? RK_UCL_OBJECT : RK_UCL_ARRAY)) {
            set_err(p, "cannot merge an object with an array");
            return NULL;
        }
        if (obj->type != want && rk_ucl_make_container(obj, want)) {
            nomem(p);
            return NULL;
        }
    }
    p->state = is_array ? ST_VALUE : ST_KEY;
    if (level >= UINT16_MAX) {
        set_err(p, "objects are nesting too deep (over 65535 limit)");
        if (!obj)
            rk_ucl_free(nobj);
        return NULL;
    }
    if (p->depth >= MAX_NESTING) {
        set_err(p, "objects are nesting too deep (over 1000 levels)");
        if (!obj)
            rk_ucl_free(nobj);
        return NULL;
    }
    frame *f = calloc(1, sizeof *f);
    if (!f) {
        if (!obj)
            rk_ucl_free(nobj);
        nomem(p);
        return NULL;
    }
    f->obj = nobj;
    f->level = level;
    f->line = p->chunks->line;
    f->ch = p->chunks;
    f->obrace = obrace;
    f->next = p->stack;
    p->stack = f;
    p->depth++;
    p->cur = nobj;
    return nobj;
}

static void pop_frame(parser *p)
{
    frame *f = p->stack;
    p->stack = f->next;
    p->depth--;
    free(f);
}

/* The value slot for the next value: a new element when the container is an
 * array, else the object created by the key. */
static rk_ucl *get_container(parser *p)
{
    if (!p->stack || !p->stack->obj)
        return NULL;
    if (p->stack->obj->type == RK_UCL_ARRAY) {
        rk_ucl *obj = rk_ucl_node(RK_UCL_NULL, p->chunks->prio);
        if (!obj || rk_ucl_arr_append(p->stack->obj, obj)) {
            rk_ucl_free(obj);
            nomem(p);
            return NULL;
        }
        p->cur = obj;
        attach_comments(p, obj, 0);
        return obj;
    }
    return p->cur;
}

/* ------------------------------------------------------------- duplicates */

static void append_elt(parser *p, rk_ucl *head, rk_ucl *elt)
{
    while (head->next)
        head = head->next;
    head->next = elt;
    p->stack->obj->len++;
}

/* libucl's ucl_parser_process_object_element: insert the new key `nobj`
 * into the current object according to priorities and the chunk strategy.
 * On return p->cur is the value to parse into (possibly an existing object
 * for "merge", or a dropped value kept in the trash). */
static int process_element(parser *p, rk_ucl *nobj)
{
    rk_ucl *container = p->stack->obj, *tobj = NULL;
    /* libucl looks the key up in the current object and in the values that
     * follow it in its implicit array. */
    for (rk_ucl *cur = container; cur && !tobj; cur = cur->next)
        if (cur->type == RK_UCL_OBJECT) {
            tobj = rk_ucl_find(cur, nobj->key, nobj->keylen);
            if (tobj)
                container = cur;
        }

    if (!tobj) {
        if (rk_ucl_obj_append(p->stack->obj, nobj)) {
            rk_ucl_free(nobj);
            nomem(p);
            return -1;
        }
        p->stack->obj->len++;
        p->cur = nobj;
        attach_comments(p, nobj, 0);
        return 0;
    }

    unsigned priold = tobj->prio, prinew = nobj->prio;
    switch (p->chunks->strat) {
    case DUP_APPEND:
        if (tobj->flags & RK_UCLF_INHERITED)
            prinew = priold + 1;
        if (priold == prinew) {
            append_elt(p, tobj, nobj);
        } else if (priold > prinew) {
            if (trash_add(p, nobj)) {
                rk_ucl_free(nobj);
                nomem(p);
                return -1;
            }
        } else {
            rk_ucl_obj_replace(container, tobj, nobj);
            rk_ucl_free(tobj);
        }
        break;
    case DUP_REWRITE:
        rk_ucl_obj_replace(container, tobj, nobj);
        rk_ucl_free(tobj);
        break;
    case DUP_ERROR: {
        char msg[320];
        snprintf(msg, sizeof msg, "duplicate element for key '%s' found", nobj->key);
        rk_ucl_free(nobj);
        set_err(p, msg);
        return -1;
    }
    case DUP_MERGE:
        if (tobj->type == RK_UCL_OBJECT || tobj->type == RK_UCL_ARRAY) {
            rk_ucl_free(nobj);
            nobj = tobj;
        } else if (priold == prinew) {
            append_elt(p, tobj, nobj);
        } else if (priold > prinew) {
            if (trash_add(p, nobj)) {
                rk_ucl_free(nobj);
                nomem(p);
                return -1;
            }
        } else {
            rk_ucl_obj_replace(container, tobj, nobj);
            rk_ucl_free(tobj);
        }
        break;
    }
    p->cur = nobj;
    attach_comments(p, nobj, 0);
    return 0;
}

/* ------------------------------------------------------------------- keys */

/* libucl's ucl_parse_key. */
static int parse_key(parser *p, int *next_key, int *end_of_object)
{
    chunk *ch = p->chunks;
    const unsigned char *c = NULL, *end = NULL;
    int got_quote = 0, got_eq = 0, got_semicolon = 0, unescape = 0, unsafe = 0, expand = 0,
        got_content = 0;

    if (*ch->pos == '.') {
        skip1(ch);
        p->prev_state = p->state;
        p->state = ST_MACRO_NAME;
        *end_of_object = 0;
        return 0;
    }
    while (ch->pos < ch->end) {
        const unsigned char *s = ch->pos;
        if (!c) {
            if (is_comment(s, ch->end)) {
                if (skip_comments(p))
                    return -1;
            } else if (is_wsu(*s)) {
                skip1(ch);
            } else if (is_key_start(*s)) {
                c = s;
                skip1(ch);
                got_content = 1;
            } else if (*s == '"') {
                c = s + 1;
                got_quote = got_content = 1;
                skip1(ch);
            } else if (*s == '}') {
                *end_of_object = 1;
                return 0;
            } else if (*s == '.') {
                skip1(ch);
                p->prev_state = p->state;
                p->state = ST_MACRO_NAME;
                return 0;
            } else {
                set_err(p, "key must begin with a letter");
                return -1;
            }
        } else if (!got_quote) {
            if (is_key_char(*s)) {
                got_content = 1;
                skip1(ch);
            } else if (is_key_sep(*s)) {
                end = s;
                break;
            } else {
                set_err(p, "invalid character in a key");
                return -1;
            }
        } else {
            if (lex_json_string(p, &unescape, &unsafe, &expand))
                return -1;
            end = ch->pos - 1;
            break;
        }
    }
    if (ch->pos >= ch->end && got_content) {
        set_err(p, "unfinished key");
        return -1;
    } else if (!got_content) {
        return 0;
    }
    *end_of_object = 0;

    while (ch->pos < ch->end) {
        const unsigned char *s = ch->pos;
        if (is_ws(*s)) {
            skip1(ch);
        } else if (*s == '=') {
            if (got_eq || got_semicolon) {
                set_err(p, "unexpected '=' character");
                return -1;
            }
            skip1(ch);
            got_eq = 1;
        } else if (*s == ':') {
            if (got_eq || got_semicolon) {
                set_err(p, "unexpected ':' character");
                return -1;
            }
            skip1(ch);
            got_semicolon = 1;
        } else if (is_comment(s, ch->end)) {
            if (skip_comments(p))
                return -1;
        } else {
            break;
        }
    }
    if (ch->pos >= ch->end && got_content) {
        set_err(p, "unfinished key");
        return -1;
    }

    if (!got_eq && !got_semicolon) {
        /* key1 key2 ... { } nests objects; "key value" is a plain value */
        const unsigned char *t = ch->pos;
        *next_key = 0;
        while (is_ws(*t))
            t++;
        if (*t != '{' && *t != '[') {
            while (t < ch->end) {
                if (*t == ',' || *t == ';' || *t == '\n' || *t == '\r')
                    break;
                if (*t == '{' || *t == '[') {
                    *next_key = 1;
                    break;
                }
                t++;
            }
        }
    }

    rk_ucl *nobj = rk_ucl_node(RK_UCL_NULL, p->chunks->prio);
    char *key;
    size_t keylen;
    if (!nobj) {
        nomem(p);
        return -1;
    }
    if (make_string(p, c, (size_t)(end - c), unescape ? SV_UNESCAPE : 0, &key, &keylen)) {
        rk_ucl_free(nobj);
        return -1;
    }
    if (keylen == 0) {
        free(key);
        rk_ucl_free(nobj);
        set_err(p, "empty keys are not allowed");
        return -1;
    }
    nobj->key = key;
    nobj->keylen = keylen;
    if (unsafe)
        nobj->flags |= RK_UCLF_KEY_ESCAPE;
    return process_element(p, nobj);
}

/* --------------------------------------------------------------- values */

/* Unquoted value: up to a value end or a comment, skipping balanced
 * {} and [] pairs and backslash escapes. */
static void scan_plain_value(parser *p, int *expand, int *unescape)
{
    chunk *ch = p->chunks;
    int fig_open = 0, fig_close = 0, sq_open = 0, sq_close = 0;
    while (ch->pos < ch->end) {
        unsigned char c = *ch->pos;
        if (c == '{') {
            fig_open++;
        } else if (c == '}') {
            if (++fig_close <= fig_open) {
                skip1(ch);
                continue;
            }
        } else if (c == '[') {
            sq_open++;
        } else if (c == ']') {
            if (++sq_close <= sq_open) {
                skip1(ch);
                continue;
            }
        } else if (c == '$') {
            *expand = 1;
        } else if (c == '\\') {
            *unescape = 1;
            skip1(ch);
            if (ch->pos < ch->end)
                skip1(ch);
            continue;
        }
        if (is_value_end(c) || is_comment(ch->pos, ch->end))
            break;
        skip1(ch);
    }
}

/* Heredoc body up to "\nTERM" followed by '\n', ';' or ','. Returns the
 * length including the final newline, 0 when unterminated. */
static size_t scan_heredoc(parser *p, const unsigned char *term, size_t tlen,
                           const unsigned char **beg, int *expand)
{
    chunk *ch = p->chunks;
    const unsigned char *c = ch->pos;
    int newline = 0;
    while (ch->pos < ch->end) {
        const unsigned char *s = ch->pos;
        if (newline) {
            if ((size_t)(ch->end - s) < tlen)
                return 0;
            if (memcmp(s, term, tlen) == 0) {
                unsigned char t = s[tlen];  /* the buffer is NUL-terminated */
                if (t != '\n' && t != ';' && t != ',') {
                    skip1(ch);
                    continue;
                }
                ch->pos = s + tlen;
                ch->column = (unsigned)tlen;
                *beg = c;
                return (size_t)(s - c);
            }
        }
        if (*s == '\n') {
            newline = 1;
        } else {
            if (*s == '$')
                *expand = 1;
            newline = 0;
        }
        skip1(ch);
    }
    return 0;
}

/* libucl's ucl_parse_value. */
static int parse_value(parser *p)
{
    chunk *ch = p->chunks;
    rk_ucl *obj = NULL;
    int unescape = 0, unsafe = 0, expand = 0;

    if (is_wsu(*ch->pos) || is_comment(ch->pos, ch->end)) {
        while (ch->pos < ch->end && is_wsu(*ch->pos))
            skip1(ch);
        if (skip_comments(p))
            return -1;
    }
    if (ch->pos >= ch->end)
        return 0;

    const unsigned char *c = ch->pos, *probe = ch->pos;
    char *s;
    size_t slen;
    switch (*c) {
    case '"':
        skip1(ch);
        if (lex_json_string(p, &unescape, &unsafe, &expand))
            return -1;
        if (!(obj = get_container(p)))
            return -1;
        if (make_string(p, c + 1, (size_t)(ch->pos - c - 2),
                        (unescape ? SV_UNESCAPE : 0) | (expand ? SV_EXPAND : 0), &s, &slen))
            return -1;
        set_string(obj, s, slen);
        p->state = ST_AFTER_VALUE;
        return 0;
    case '\'':
        skip1(ch);
        if (lex_squoted_string(p, &unescape))
            return -1;
        if (!(obj = get_container(p)))
            return -1;
        if (make_string(p, c + 1, (size_t)(ch->pos - c - 2),
                        unescape ? (SV_UNESCAPE | SV_SQUOTE) : 0, &s, &slen))
            return -1;
        set_string(obj, s, slen);
        obj->flags |= RK_UCLF_SQUOTED;
        p->state = ST_AFTER_VALUE;
        return 0;
    case '{':
    case '[':
        if (!(obj = get_container(p)) || !p->stack)
            return -1;
        if (!add_container(p, obj, *c == '[', p->stack->level, 1))
            return -1;
        skip1(ch);
        return 0;
    case ']':
        if (p->stack && p->stack->obj->type == RK_UCL_ARRAY) {
            p->state = ST_AFTER_VALUE;
            return 0;
        }
        break;
    case '<':
        obj = get_container(p);
        if (!obj)
            return -1;
        if (ch->end - c > 3 && c[1] == '<') {
            probe = c + 2;
            while (probe < ch->end && *probe >= 'A' && *probe <= 'Z')
                probe++;
            if (probe == ch->end) {
                set_err(p, "unterminated multiline value");
                return -1;
            }
            if (*probe == '\n') {
                const unsigned char *term = c + 2, *beg = NULL;
                size_t tlen = (size_t)(probe - term);
                ch->pos = probe + 1;
                ch->column = 0;
                ch->line++;
                size_t len = scan_heredoc(p, term, tlen, &beg, &expand);
                if (len == 0) {
                    set_err(p, "unterminated multiline value");
                    return -1;
                }
                if (make_string(p, beg, len - 1, expand ? SV_EXPAND : 0, &s, &slen))
                    return -1;
                set_string(obj, s, slen);
                obj->flags |= RK_UCLF_MULTILINE;
                p->state = ST_AFTER_VALUE;
                return 0;
            }
        }
        break;
    default:
        break;
    }

    /* atoms: numbers, keywords, unquoted strings */
    if (!obj && !(obj = get_container(p)))
        return -1;
    /* libucl tests the digit class on its probe pointer, which a failed
     * heredoc attempt has moved; the number lexer itself reads from pos. */
    if (*probe == '-' || is_digit(*probe)) {
        if (lex_number(p, obj)) {
            p->state = ST_AFTER_VALUE;
            return 0;
        }
        if (p->state == ST_ERROR)
            return -1;
    }
    scan_plain_value(p, &expand, &unescape);
    size_t stripped = 0;
    while (ch->pos - 1 - stripped >= c && is_ws(*(ch->pos - 1 - stripped)))
        stripped++;
    long len = (long)(ch->pos - c) - (long)stripped;
    if (len <= 0) {
        set_err(p, "string value must not be empty");
        return -1;
    } else if (len == 4 && memcmp(c, "null", 4) == 0) {
        rk_ucl_clear_value(obj);
        obj->type = RK_UCL_NULL;
        obj->len = 0;
    } else if (len == 3 && memcmp(c, "nan", 3) == 0) {
        rk_ucl_clear_value(obj);
        obj->type = RK_UCL_FLOAT;
        obj->v.dv = NAN;
        obj->len = 0;
    } else if (len == 3 && memcmp(c, "inf", 3) == 0) {
        rk_ucl_clear_value(obj);
        obj->type = RK_UCL_FLOAT;
        obj->v.dv = INFINITY;
        obj->len = 0;
    } else if (!parse_bool(obj, c, (size_t)len)) {
        if (make_string(p, c, (size_t)len,
                        (unescape ? SV_UNESCAPE : 0) | (expand ? SV_EXPAND : 0), &s, &slen))
            return -1;
        set_string(obj, s, slen);
    }
    p->state = ST_AFTER_VALUE;
    return 0;
}

/* libucl's ucl_parse_after_value: separators and closing braces. */
static int parse_after_value(parser *p)
{
    chunk *ch = p->chunks;
    int got_sep = 0;
    while (ch->pos < ch->end) {
        unsigned char c = *ch->pos;
        if (is_ws(c)) {
            skip1(ch);
        } else if (is_comment(ch->pos, ch->end)) {
            if (skip_comments(p))
                return -1;
            got_sep = 1;
        } else if (is_value_end(c)) {
            if (c == '}' || c == ']') {
                if (!p->stack) {
                    set_err(p, "end of array or object detected without corresponding start");
                    return -1;
                }
                if ((c == '}' && p->stack->obj->type == RK_UCL_OBJECT) ||
                    (c == ']' && p->stack->obj->type == RK_UCL_ARRAY)) {
                    if (!p->stack->obrace) {
                        create_err_loc(p, "%s:%d object closed with } is not opened with { at line %d",
                                   ch->fname ? ch->fname : "memory", (int)ch->line,
                                   (int)p->stack->line);
                        p->state = ST_ERROR;
                        return -1;
                    }
                    pop_frame(p);
                    if (p->cur)
                        attach_comments(p, p->cur, 1);
                    while (p->stack && p->stack->next &&
                           p->stack->next->level != p->stack->level) {
                        p->cur = p->stack->obj;
                        pop_frame(p);
                    }
                } else {
                    set_err(p, "unexpected terminating symbol detected");
                    return -1;
                }
                if (!p->stack)
                    return 0; /* everything after the top object is ignored */
                skip1(ch);
                got_sep = 1;
            } else {
                got_sep = 1;
                skip1(ch);
            }
        } else {
            if (!got_sep) {
                set_err(p, "delimiter is missing");
                return -1;
            }
            return 0;
        }
    }
    return 0;
}

/* ----------------------------------------------------------------- macros */

typedef int (*macro_fn)(parser *p, const unsigned char *data, size_t len, const rk_ucl *args);

static int macro_include(parser *p, const unsigned char *d, size_t len, const rk_ucl *args);
static int macro_try_include(parser *p, const unsigned char *d, size_t len, const rk_ucl *args);
static int macro_includes(parser *p, const unsigned char *d, size_t len, const rk_ucl *args);
static int macro_priority(parser *p, const unsigned char *d, size_t len, const rk_ucl *args);
static int macro_load(parser *p, const unsigned char *d, size_t len, const rk_ucl *args);
static int macro_inherit(parser *p, const unsigned char *d, size_t len, const rk_ucl *args);
static int macro_include_map(parser *p, const unsigned char *d, size_t len, const rk_ucl *args);

static macro_fn find_macro(const parser *p, const unsigned char *name, size_t len)
{
    static const struct {
        const char *name;
        macro_fn fn;
        int rspamd;
    } macros[] = {
        {"include", macro_include, 0},       {"try_include", macro_try_include, 0},
        {"includes", macro_includes, 0},     {"priority", macro_priority, 0},
        {"load", macro_load, 0},             {"inherit", macro_inherit, 0},
        {"include_map", macro_include_map, 1},
    };
    for (size_t i = 0; i < sizeof macros / sizeof *macros; i++)
        if (strlen(macros[i].name) == len && memcmp(macros[i].name, name, len) == 0 &&
            (!macros[i].rspamd || (p->env && p->env->rspamd_macros)))
            return macros[i].fn;
    return NULL;
}

static int skip_spaces_comments(parser *p)
{
    chunk *ch = p->chunks;
    while (ch->pos < ch->end) {
        if (!is_wsu(*ch->pos)) {
            if (is_comment(ch->pos, ch->end) && skip_comments(p))
                return -1;
            break;
        }
        skip1(ch);
    }
    return 0;
}

/* The macro argument: "quoted" (not unescaped), {block} or a bare atom. */
static int macro_value(parser *p, const unsigned char **start, size_t *len)
{
    chunk *ch = p->chunks;
    const unsigned char *c = ch->pos;
    int unused_unescape = 0, unused_unsafe = 0, unused_expand = 0; /* raw: not unescaped */
    if (*c == '"') {
        skip1(ch);
        if (lex_json_string(p, &unused_unescape, &unused_unsafe, &unused_expand))
            return -1;
        *start = c + 1;
        *len = (size_t)(ch->pos - c - 2);
    } else if (*c == '{') {
        skip1(ch);
        while (ch->pos < ch->end && is_wsu(*ch->pos))
            skip1(ch);
        c = ch->pos;
        while (ch->pos < ch->end && *ch->pos != '}')
            skip1(ch);
        *start = c;
        *len = (size_t)(ch->pos - c);
        skip1(ch);
    } else {
        while (ch->pos < ch->end && !is_value_end(*ch->pos))
            skip1(ch);
        *start = c;
        *len = (size_t)(ch->pos - c);
    }
    while (ch->pos < ch->end && (is_wsu(*ch->pos) || *ch->pos == ';'))
        skip1(ch);
    return 0;
}

static int parse_chunk(parser *p, const unsigned char *data, size_t len, unsigned prio,
                       enum strategy strat, unsigned char *owned);
static void parser_clear(parser *p);

/* Macro arguments "(...)": parsed as UCL by a fresh parser that knows only
 * $FILENAME ("undef") and $CURDIR (the working directory), as in libucl.
 * Returns the object, NULL when there were no usable arguments. */
static rk_ucl *macro_args(parser *p)
{
    chunk *ch = p->chunks;
    int open = 1, close = 0, state = 0;
    size_t args_len = 0;

    if (*ch->pos != '(' || ch->end - ch->pos < 2)
        return NULL;
    skip1(ch);
    const unsigned char *c = ch->pos;
    while (ch->pos < ch->end) {
        unsigned char x = *ch->pos;
        if (state == 0) {
            if (x == '(')
                open++;
            else if (x == ')')
                close++;
            else if (x == '"')
                state = 1;
            if (open == close)
                state = 99;
            else
                args_len++;
            skip1(ch);
        } else if (state == 1) {
            if (x == '"' && ch->pos[-1] != '\\')
                state = 0;
            args_len++;
            skip1(ch);
        } else {
            if (p->args_depth >= MAX_ARGS_DEPTH) {
                set_err(p, "macro arguments parsing error");
                return NULL;
            }
            parser sub;
            rk_ucl_env subenv; /* no variables, templates or Rspamd macros there */
            memset(&sub, 0, sizeof sub);
            memset(&subenv, 0, sizeof subenv);
            subenv.include_root = p->env ? p->env->include_root : NULL;
            subenv.keep_comments = p->env ? p->env->keep_comments : 0;
            sub.env = &subenv;
            sub.args_depth = p->args_depth + 1;
            char cwd[PATH_MAX];
            rk_ucl *res = NULL;
            if (set_var(&sub, "FILENAME", "undef") ||
                set_var(&sub, "CURDIR", getcwd(cwd, sizeof cwd) ? cwd : "")) {
                parser_clear(&sub);
                nomem(p);
                return NULL;
            }
            if (parse_chunk(&sub, c, args_len, 0, DUP_APPEND, NULL) == 0) {
                res = sub.top;
                sub.top = NULL;
            } else {
                set_err(p, "macro arguments parsing error");
            }
            parser_clear(&sub);
            return res;
        }
    }
    return NULL; /* no closing parenthesis: libucl leaves the position there */
}

/* --------------------------------------------------------- state machine */

static int state_machine(parser *p)
{
    chunk *ch = p->chunks;
    const unsigned char *macro_start = NULL;
    const unsigned char *name = NULL, *mname = NULL;
    size_t mlen = 0, mname_len = 0;
    macro_fn macro = NULL;
    int next_key = 0, end_of_object = 0;

    if (!p->top)
        p->state = ST_INIT;

    while (ch->pos < ch->end) {
        switch (p->state) {
        case ST_INIT: {
            if (skip_comments(p)) {
                p->prev_state = p->state;
                p->state = ST_ERROR;
                return -1;
            }
            int obrace = 0;
            while (ch->pos < ch->end && is_wsu(*ch->pos))
                skip1(ch);
            if (ch->pos < ch->end) {
                if (*ch->pos == '[') {
                    p->state = ST_VALUE;
                    skip1(ch);
                    obrace = 1;
                } else if (*ch->pos == '{') {
                    skip1(ch);
                    p->state = ST_KEY_OBRACE;
                    obrace = 1;
                } else {
                    p->state = ST_KEY;
                }
            }
            if (!p->top) {
                /* add_container sets the state: KEY for an object, VALUE for an array */
                rk_ucl *obj = add_container(p, NULL, p->state == ST_VALUE, 0, obrace);
                if (!obj)
                    return -1;
                p->top = p->cur = obj;
            }
            break;
        }
        case ST_KEY:
        case ST_KEY_OBRACE:
            while (ch->pos < ch->end && is_wsu(*ch->pos))
                skip1(ch);
            if (ch->pos == ch->end || *ch->pos == '}') {
                p->state = ST_AFTER_VALUE;
                continue;
            }
            if (!p->stack) {
                set_err(p, "top object is finished but the parser expects a key");
                p->prev_state = p->state;
                p->state = ST_ERROR;
                return -1;
            }
            /* libucl: both flags live for the whole chunk and parse_key
             * resets next_key only for keys without '=' or ':', so after
             * "a b {" ... "c = x" nests "c" too ("a b = x" is an error) */
            if (parse_key(p, &next_key, &end_of_object)) {
                p->prev_state = p->state;
                p->state = ST_ERROR;
                return -1;
            }
            if (end_of_object) {
                p->state = ST_AFTER_VALUE;
                continue;
            } else if (p->state != ST_MACRO_NAME) {
                if (next_key && p->stack->obj->type == RK_UCL_OBJECT) {
                    if (!add_container(p, p->cur, 0, p->stack->level + 1,
                                       p->state == ST_KEY_OBRACE))
                        return -1;
                } else {
                    p->state = ST_VALUE;
                }
            } else {
                name = ch->pos;
                p->mline = ch->line;
                p->mcol = ch->column ? ch->column - 1 : 0;
            }
            break;
        case ST_VALUE:
            if (!p->cur || parse_value(p)) {
                if (!p->has_err)
                    set_err(p, "internal error: no object to parse a value into");
                p->prev_state = p->state;
                p->state = ST_ERROR;
                return -1;
            }
            break;
        case ST_AFTER_VALUE:
            if (parse_after_value(p)) {
                p->prev_state = p->state;
                p->state = ST_ERROR;
                return -1;
            }
            if (p->stack) {
                p->state = p->stack->obj->type == RK_UCL_OBJECT ? ST_KEY : ST_VALUE;
            } else {
                return 0; /* the rest of the chunk is ignored */
            }
            break;
        case ST_MACRO_NAME:
            if (!is_wsu(*ch->pos) && *ch->pos != '(') {
                skip1(ch);
            } else {
                if (!name || ch->pos == name) {
                    create_err_loc(p, "error at %s:%d at column %d: invalid macro name",
                               ch->fname ? ch->fname : "memory", (int)ch->line, (int)ch->column);
                    p->state = ST_ERROR;
                    return -1;
                }
                mlen = (size_t)(ch->pos - name);
                mname = name;
                mname_len = mlen;
                macro = find_macro(p, name, mlen);
                if (!macro) {
                    create_err_loc(p,
                               "error at %s:%d at column %d: unknown macro: '%.*s', character: "
                               "'%c'",
                               ch->fname ? ch->fname : "memory", (int)ch->line, (int)ch->column,
                               (int)mlen, (const char *)name, *ch->pos);
                    p->state = ST_ERROR;
                    return -1;
                }
                if (skip_spaces_comments(p))
                    return -1;
                p->state = ST_MACRO;
            }
            break;
        case ST_MACRO: {
            rk_ucl *args = NULL;
            if (*ch->pos == '(') {
                args = macro_args(p);
                if (args && skip_spaces_comments(p)) {
                    rk_ucl_free(args);
                    return -1;
                }
            }
            if (macro_value(p, &macro_start, &mlen)) {
                rk_ucl_free(args);
                p->prev_state = p->state;
                p->state = ST_ERROR;
                return -1;
            }
            char *expanded;
            size_t elen;
            if (expand_vars(p, (const char *)macro_start, mlen, &expanded, &elen)) {
                rk_ucl_free(args);
                nomem(p);
                return -1;
            }
            /* libucl: an error in the arguments is forgotten here */
            p->state = p->prev_state;
            char where[PATH_MAX + 96];
            snprintf(where, sizeof where, ".%.*s at %s:%u:%u", (int)mname_len, (const char *)mname,
                     p->cur_file ? p->cur_file : "<unknown>", p->mline, p->mcol);
            int rc = expanded ? macro(p, (unsigned char *)expanded, elen, args)
                              : macro(p, macro_start, mlen, args);
            free(expanded);
            rk_ucl_free(args);
            ch = p->chunks;
            if (rc) {
                /* libucl's messages for macros say neither file nor line */
                if (!p->has_err)
                    create_err(p, "macro failed");
                if (!p->err_has_loc) {
                    rk_buf_printf(&p->err, " (%s)", where);
                    p->err_has_loc = 1;
                }
                return -1;
            }
            break;
        }
        default:
            set_err(p, "internal error: parser is in an unknown state");
            return -1;
        }
    }

    if (p->pending) {
        if (p->cur)
            attach_comments(p, p->cur, 1);
        else if (p->stack && p->stack->obj)
            attach_comments(p, p->stack->obj, 1);
        else if (p->top)
            attach_comments(p, p->top, 1);
    }

    /* unclosed braces opened in this chunk */
    if (p->stack && p->state != ST_ERROR) {
        int bad = 0;
        for (frame *f = p->stack; f; f = f->next) {
            if (f->ch != p->chunks)
                break;
            if (f->obrace) {
                char tmp[PATH_MAX + 64];
                snprintf(tmp, sizeof tmp, "%s:%d unmatched open brace at %d; ",
                         ch->fname ? ch->fname : "memory", (int)p->chunks->line, (int)f->line);
                rk_buf_puts(&p->err, tmp);
                p->has_err = 1;
                bad = 1;
            }
        }
        if (bad)
            return -1;
    }
    return 0;
}

static void free_chunk(chunk *ch)
{
    free(ch->fname);
    free(ch->owned);
    free(ch);
}

/* libucl's ucl_parser_add_chunk_full: push a chunk, run the template stage
 * and the state machine over it. The chunk stays pushed; the caller pops it.
 * `owned` (may be NULL) is freed with the chunk. */
static int parse_chunk(parser *p, const unsigned char *data, size_t len, unsigned prio,
                       enum strategy strat, unsigned char *owned)
{
    if (p->state == ST_ERROR) {
        free(owned);
        create_err(p, "a parser is in an invalid state");
        return -1;
    }
    chunk *ch = calloc(1, sizeof *ch);
    if (!ch) {
        free(owned);
        nomem(p);
        return -1;
    }
    ch->owned = owned;
    if (p->env && p->env->template_fn && len > 0) {
        unsigned char *out = NULL;
        size_t outlen = 0;
        char msg[1024];
        int rc = p->env->template_fn(p->env, p->cur_file, data, len, &out, &outlen, msg, sizeof msg);
        if (rc < 0) {
            free_chunk(ch);
            create_err_loc(p, "%s", msg);
            p->state = ST_ERROR;
            return -1;
        }
        if (out) {
            free(ch->owned);
            ch->owned = out;
            data = out;
            len = outlen;
        }
    }
    ch->pos = data;
    ch->end = data + len;
    ch->line = 1;
    ch->prio = prio;
    ch->strat = strat;
    if (p->cur_file && !(ch->fname = strdup(p->cur_file))) {
        free_chunk(ch);
        nomem(p);
        return -1;
    }
    ch->next = p->chunks;
    p->chunks = ch;
    p->recursion++;
    if (p->recursion > MAX_INCLUDE_DEPTH) {
        create_err(p, "maximum include nesting limit is reached: %d", (int)p->recursion);
        return -1;
    }
    if (len > 0)
        return state_machine(p);
    if (!p->top) {
        p->top = rk_ucl_node(RK_UCL_OBJECT, prio);
        if (!p->top) {
            nomem(p);
            return -1;
        }
    }
    return 0;
}

static void pop_chunk(parser *p)
{
    chunk *ch = p->chunks;
    if (ch) {
        p->chunks = ch->next;
        free_chunk(ch);
        p->recursion--;
    }
}

/* ---------------------------------------------------------------- includes */

typedef struct include_params {
    int check_signature, must_exist, soft_fail, allow_glob, use_prefix;
    unsigned prio;
    enum strategy strat;
    char *prefix;          /* owned */
    const char *target;
} include_params;

/* Whole file into a NUL-terminated buffer, with libucl's messages
 * (ucl_fetch_file): some errors only count when the file must exist. */
static int fetch_file(parser *p, const char *path, unsigned char **buf, size_t *len,
                      int must_exist)
{
    rk_slurp_step step;
    if (rk_ucl_slurp(path, buf, len, &step) == 0)
        return 0;
    switch (step) {
    case RK_SLURP_OPEN:
        create_err(p, "cannot open file %s: %s", path, strerror(errno));
        break;
    case RK_SLURP_STAT:
        if (must_exist || errno == EPERM)
            create_err(p, "cannot stat file %s: %s", path, strerror(errno));
        break;
    case RK_SLURP_NOTREG:
        if (must_exist)
            create_err(p, "file %s is not a regular file", path);
        break;
    case RK_SLURP_READ:
        create_err(p, "cannot read file %s: %s", path, strerror(errno));
        break;
    case RK_SLURP_NOMEM:
        nomem(p);
        break;
    }
    return -1;
}

/* The environment may confine file access (the fuzzer does). */
static int outside_root(parser *p, const char *real)
{
    const char *root = p->env ? p->env->include_root : NULL;
    size_t n = root ? strlen(root) : 0;
    if (!root || (strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == 0)))
        return 0;
    create_err(p, "cannot open file %s: outside of %s", real, root);
    return 1;
}

static int include_single(parser *p, const char *fname, include_params *ip)
{
    char real[PATH_MAX];
    unsigned char *buf = NULL;
    size_t buflen = 0;

    if (!realpath(fname, real)) {
        if (ip->soft_fail)
            return -1;
        if (!ip->must_exist && errno != EPERM)
            return 0;
        create_err(p, "cannot open file %s: %s", fname, strerror(errno));
        return -1;
    }
    if (p->cur_file && strcmp(real, p->cur_file) == 0) {
        if (ip->soft_fail)
            return -1;
        create_err(p, "trying to include the file %s from itself", real);
        return -1;
    }
    if (outside_root(p, real))
        return -1;
    if (fetch_file(p, real, &buf, &buflen, ip->must_exist)) {
        if (ip->soft_fail || ip->must_exist || p->has_err)
            return -1;
        return 0;
    }
    if (ip->check_signature) {
        char sig[PATH_MAX + 8];
        unsigned char *sbuf = NULL;
        size_t slen = 0;
        snprintf(sig, sizeof sig, "%s.sig", real);
        if (fetch_file(p, sig, &sbuf, &slen, 1)) {
            free(buf);
            return -1;
        }
        free(sbuf);
        free(buf);
        /* Rspamd registers no public keys, so no signature can verify */
        create_err(p, "cannot verify file %s: no public key to check signatures with", sig);
        return -1;
    }

    char *old_file = p->cur_file;
    p->cur_file = NULL;
    var *old_curdir = unlink_var(p, "CURDIR");
    var *old_filename = unlink_var(p, "FILENAME");
    if (set_filevars(p, real)) {
        free(buf);
        p->cur_file = old_file;
        free_var(old_curdir);
        free_var(old_filename);
        nomem(p);
        return -1;
    }
    enum state prev_state = p->state;
    p->state = ST_INIT;

    frame *pushed = NULL;
    if (ip->use_prefix && !ip->prefix) {
        const char *base = strrchr(real, '/');
        base = base ? base + 1 : real;
        ip->prefix = strdup(base);
        if (!ip->prefix)
            goto oom;
        char *ext = strrchr(ip->prefix, '.');
        if (ext && (strcmp(ext, ".conf") == 0 || strcmp(ext, ".ucl") == 0))
            *ext = 0;
    }
    if (ip->prefix) {
        rk_ucl *container = p->stack->obj;
        size_t plen = strlen(ip->prefix);
        rk_ucl *old = rk_ucl_find(container, ip->prefix, plen), *nest = NULL;
        if (strcasecmp(ip->target, "array") == 0) {
            nest = rk_ucl_node(RK_UCL_OBJECT, ip->prio);
            if (!nest)
                goto oom;
            if (!old) {
                rk_ucl *arr = rk_ucl_node(RK_UCL_ARRAY, ip->prio);
                if (!arr || rk_ucl_set_key(arr, ip->prefix, plen) ||
                    rk_ucl_obj_append(container, arr)) {
                    rk_ucl_free(arr);
                    rk_ucl_free(nest);
                    goto oom;
                }
                container->len++;
                if (rk_ucl_arr_append(arr, nest)) {
                    rk_ucl_free(nest);
                    goto oom;
                }
            } else if (old->type == RK_UCL_ARRAY) {
                if (rk_ucl_arr_append(old, nest)) {
                    rk_ucl_free(nest);
                    goto oom;
                }
            } else {
                /* the existing value becomes the first element of an array */
                rk_ucl *arr = rk_ucl_node(RK_UCL_ARRAY, 0);
                if (!arr || rk_ucl_set_key(arr, old->key, old->keylen)) {
                    rk_ucl_free(arr);
                    rk_ucl_free(nest);
                    goto oom;
                }
                rk_ucl_obj_replace(container, old, arr);
                if (rk_ucl_arr_append(arr, old) || rk_ucl_arr_append(arr, nest)) {
                    rk_ucl_free(nest);
                    goto oom;
                }
            }
        } else if (!old) {
            nest = rk_ucl_node(RK_UCL_OBJECT, ip->prio);
            if (!nest || rk_ucl_set_key(nest, ip->prefix, plen) ||
                rk_ucl_obj_append(container, nest)) {
                rk_ucl_free(nest);
                goto oom;
            }
            container->len++;
        } else if (old->type == RK_UCL_OBJECT) {
            nest = old;
        } else {
            static const char *const names[] = {"object", "array",  "integer", "number",
                                                "number", "string", "boolean", "null"};
            create_err(p, "Conflicting type for key: %s, asked %s, has %s", ip->prefix, ip->target,
                       names[old->type]);
            free(buf);
            free(old_file);
            free_var(old_curdir);
            free_var(old_filename);
            return -1;
        }
        frame *f = calloc(1, sizeof *f);
        if (!f)
            goto oom;
        f->obj = nest;
        f->level = p->stack->level;
        f->obrace = p->stack->obrace;
        f->line = p->stack->line;
        f->ch = p->chunks;
        f->next = p->stack;
        p->stack = f;
        p->depth++;
        p->cur = nest;
        pushed = f;
    }

    if (parse_chunk(p, buf, buflen, ip->prio, ip->strat, buf)) {
        /* as in libucl, nothing is restored: the whole parse fails */
        free(old_file);
        free_var(old_curdir);
        free_var(old_filename);
        return -1;
    }
    if (pushed && p->stack == pushed)
        pop_frame(p);
    pop_chunk(p);
    free(p->cur_file);
    p->cur_file = old_file;
    if (old_curdir)
        free_var(unlink_var(p, "CURDIR"));
    if (old_filename)
        free_var(unlink_var(p, "FILENAME"));
    if (old_filename)
        append_var(p, old_filename);
    if (old_curdir)
        append_var(p, old_curdir);
    p->state = prev_state;
    return 0;
oom:
    free(buf);
    free(old_file);
    free_var(old_curdir);
    free_var(old_filename);
    nomem(p);
    return -1;
}

static int glob_err(const char *epath, int eerrno)
{
    (void)epath;
    (void)eerrno;
    return 0;
}

static int include_file(parser *p, const char *fname, include_params *ip)
{
    if (!ip->allow_glob || !strpbrk(fname, "*?"))
        return include_single(p, fname, ip);
    glob_t g;
    memset(&g, 0, sizeof g);
    if (glob(fname, 0, glob_err, &g) != 0) {
        globfree(&g);
        if (ip->must_exist) {
            /* libucl fails here without a message ("(null)" in rspamadm) */
            create_err(p, "cannot match any files for pattern %s", fname);
            return -1;
        }
        return 0;
    }
    int cnt = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        include_params one = *ip;
        one.prefix = ip->prefix ? strdup(ip->prefix) : NULL;
        if (ip->prefix && !one.prefix) {
            globfree(&g);
            nomem(p);
            return -1;
        }
        int rc = include_single(p, g.gl_pathv[i], &one);
        free(one.prefix);
        if (rc) {
            if (ip->soft_fail)
                continue;
            globfree(&g);
            return -1;
        }
        cnt++;
    }
    globfree(&g);
    if (cnt == 0 && ip->must_exist) {
        create_err(p, "cannot match any files for pattern %s", fname);
        return -1;
    }
    return 0;
}

/* Does the argument key `k` name parameter `name`? libucl compares only the
 * first keylen characters, so any prefix of the name matches ("t" = try). */
static int param_is(const rk_ucl *k, const char *name)
{
    return strncmp(k->key, name, k->keylen) == 0;
}

static int include_common(parser *p, const unsigned char *data, size_t len, const rk_ucl *args,
                          int default_try, int default_sign)
{
    include_params ip = {.soft_fail = default_try,
                         .check_signature = default_sign,
                         .must_exist = !default_try,
                         .target = "object",
                         .strat = DUP_APPEND};
    int allow_url = 0, rc;
    char fname[PATH_MAX];

    if (args && args->type == RK_UCL_OBJECT) {
        for (size_t i = 0; i < args->v.ov->n; i++) {
            const rk_ucl *a = args->v.ov->v[i];
            if (!a)
                continue;
            if (a->type == RK_UCL_BOOLEAN) {
                if (param_is(a, "try"))
                    ip.must_exist = !a->v.bv;
                else if (param_is(a, "sign"))
                    ip.check_signature = a->v.bv;
                else if (param_is(a, "glob"))
                    ip.allow_glob = a->v.bv;
                else if (param_is(a, "url"))
                    allow_url = a->v.bv;
                else if (param_is(a, "prefix"))
                    ip.use_prefix = a->v.bv;
            } else if (a->type == RK_UCL_STRING) {
                if (param_is(a, "key")) {
                    free(ip.prefix);
                    if (!(ip.prefix = strdup(a->v.sv))) {
                        nomem(p);
                        return -1;
                    }
                } else if (param_is(a, "target")) {
                    ip.target = a->v.sv;
                } else if (param_is(a, "duplicate")) {
                    if (strcmp(a->v.sv, "append") == 0)
                        ip.strat = DUP_APPEND;
                    else if (strcmp(a->v.sv, "merge") == 0)
                        ip.strat = DUP_MERGE;
                    else if (strcmp(a->v.sv, "rewrite") == 0)
                        ip.strat = DUP_REWRITE;
                    else if (strcmp(a->v.sv, "error") == 0)
                        ip.strat = DUP_ERROR;
                }
            } else if (a->type == RK_UCL_ARRAY) {
                if (param_is(a, "path")) {
                    rk_ucl *copy = rk_ucl_copy_one(a);
                    if (!copy) {
                        free(ip.prefix);
                        nomem(p);
                        return -1;
                    }
                    rk_ucl_free(p->includepaths);
                    p->includepaths = copy;
                }
            } else if (a->type == RK_UCL_INT) {
                if (param_is(a, "priority"))
                    ip.prio = (unsigned)a->v.iv;
            }
        }
    }

    int is_url = allow_url && len >= 3 && memmem(data, len, "://", 3) != NULL;
    if (is_url) {
        create_err(p, "cannot include %.*s: URL includes are not supported", (int)len,
                   (const char *)data);
        free(ip.prefix);
        return -1;
    }
    if (!p->includepaths) {
        snprintf(fname, sizeof fname, "%.*s", (int)len, (const char *)data);
        rc = include_file(p, fname, &ip);
        free(ip.prefix);
        return rc;
    }
    /* libucl: the first path that works wins, but with glob=true every path
     * is tried and only the last one decides */
    int found = 0;
    for (size_t i = 0; i < p->includepaths->v.av->n; i++) {
        const rk_ucl *dir = p->includepaths->v.av->v[i];
        if (dir->type != RK_UCL_STRING)
            continue;
        snprintf(fname, sizeof fname, "%s/%.*s", dir->v.sv, (int)len, (const char *)data);
        include_params one = ip;
        one.prefix = ip.prefix ? strdup(ip.prefix) : NULL;
        found = include_file(p, fname, &one) == 0;
        free(one.prefix);
        if (found && !ip.allow_glob)
            break;
    }
    free(ip.prefix);
    if (found)
        return 0;
    create_err(p, "cannot find file: %.*s in search path", (int)len, (const char *)data);
    return -1;
}

static int macro_include(parser *p, const unsigned char *d, size_t len, const rk_ucl *args)
{
    return include_common(p, d, len, args, 0, 0);
}

static int macro_try_include(parser *p, const unsigned char *d, size_t len, const rk_ucl *args)
{
    int rc = include_common(p, d, len, args, 1, 0);
    if (rc && !p->has_err) {
        /* libucl's soft failure aborts the parse with no message ("(null)") */
        create_err(p, "cannot include %.*s: .try_include fails on a missing file in Rspamd 3.4, "
                      "use .include(try=true)",
                   (int)len, (const char *)d);
    }
    return rc;
}

static int macro_includes(parser *p, const unsigned char *d, size_t len, const rk_ucl *args)
{
    return include_common(p, d, len, args, 0, 1);
}

static int macro_priority(parser *p, const unsigned char *d, size_t len, const rk_ucl *args)
{
    unsigned prio = 255;
    int found = 0;
    if (args && args->type == RK_UCL_OBJECT) {
        for (size_t i = 0; i < args->v.ov->n; i++) {
            const rk_ucl *a = args->v.ov->v[i];
            if (a && a->type == RK_UCL_INT && param_is(a, "priority")) {
                prio = (unsigned)a->v.iv;
                found = 1;
            }
        }
    }
    if (len > 0) {
        char *val = malloc(len + 1), *left;
        if (!val) {
            nomem(p);
            return -1;
        }
        snprintf(val, len + 1, "%.*s", (int)len, (const char *)d);
        prio = (unsigned)strtol(val, &left, 10);
        if (*left) {
            create_err(p, "Invalid priority value in macro: %s", val);
            free(val);
            return -1;
        }
        free(val);
        found = 1;
    }
    if (!found) {
        create_err(p, "Unable to parse priority macro");
        return -1;
    }
    p->chunks->prio = prio;
    return 0;
}

static int macro_load(parser *p, const unsigned char *d, size_t len, const rk_ucl *args)
{
    int try_load = 0, multiline = 0, escape = 0, trim = 0;
    const char *target = "string", *key = NULL;
    unsigned prio = 0;

    if (args && args->type == RK_UCL_OBJECT) {
        for (size_t i = 0; i < args->v.ov->n; i++) {
            const rk_ucl *a = args->v.ov->v[i];
            if (!a)
                continue;
            if (a->type == RK_UCL_BOOLEAN) {
                if (param_is(a, "try"))
                    try_load = a->v.bv;
                else if (param_is(a, "multiline"))
                    multiline = a->v.bv;
                else if (param_is(a, "escape"))
                    escape = escape || a->v.bv;
                else if (param_is(a, "trim"))
                    trim = trim || a->v.bv;
            } else if (a->type == RK_UCL_STRING) {
                if (param_is(a, "key"))
                    key = a->v.sv;
                else if (param_is(a, "target"))
                    target = a->v.sv;
            } else if (a->type == RK_UCL_INT) {
                if (param_is(a, "priority"))
                    prio = (unsigned)a->v.iv;
            }
        }
    }
    if (!key || !*key) {
        create_err(p, "No Key specified in load macro");
        return -1;
    }
    if (len == 0) {
        create_err(p, "Unable to parse load macro");
        return -1;
    }
    char fname[PATH_MAX];
    unsigned char *buf = NULL;
    size_t buflen = 0;
    snprintf(fname, sizeof fname, "%.*s", (int)len, (const char *)d);
    char real[PATH_MAX];
    if (p->env && p->env->include_root && (!realpath(fname, real) || outside_root(p, real))) {
        if (!p->has_err)
            create_err(p, "cannot open file %s: %s", fname, strerror(errno));
        return -1;
    }
    if (fetch_file(p, fname, &buf, &buflen, !try_load)) {
        if (try_load) {
            /* libucl: the open error was recorded but the parse goes on */
            return 0;
        }
        return -1;
    }
    rk_ucl *container = p->stack->obj;
    if (rk_ucl_find(container, key, strlen(key))) {
        create_err(p, "Key %s already exists", key);
        free(buf);
        return -1;
    }
    rk_ucl *obj = NULL;
    if (strcasecmp(target, "string") == 0) {
        if (buflen == 0) {
            /* libucl makes no string of an empty file: nothing is inserted */
            free(buf);
            return 0;
        }
        const unsigned char *s = buf, *e = buf + buflen;
        if (trim) {
            while (s < e && is_wsu(*s))
                s++;
            while (e - 1 > s && is_wsu(e[-1]))
                e--;
        }
        if (escape) {
            rk_buf b = {0};
            for (const unsigned char *c = s; c < e; c++) {
                const char *rep = NULL;
                switch (*c) {
                case '\n': rep = "\\n"; break;
                case '\r': rep = "\\r"; break;
                case '\b': rep = "\\b"; break;
                case '\t': rep = "\\t"; break;
                case '\f': rep = "\\f"; break;
                case 0: rep = "\\u0000"; break;
                case '\v': rep = "\\u000B"; break;
                case '\\': rep = "\\\\"; break;
                case '"': rep = "\\\""; break;
                default: break;
                }
                if (rep ? rk_buf_puts(&b, rep) : rk_buf_append(&b, c, 1)) {
                    rk_buf_free(&b);
                    free(buf);
                    nomem(p);
                    return -1;
                }
            }
            obj = rk_ucl_new_string(b.p ? (const char *)b.p : "", b.len);
            rk_buf_free(&b);
        } else {
            obj = rk_ucl_new_string((const char *)s, (size_t)(e - s));
        }
        if (obj && multiline)
            obj->flags |= RK_UCLF_MULTILINE;
    } else if (strcasecmp(target, "int") == 0) {
        obj = rk_ucl_new_int(strtoll((const char *)buf, NULL, 10));
    } else {
        free(buf);
        return 0;
    }
    free(buf);
    if (!obj) {
        nomem(p);
        return -1;
    }
    obj->prio = prio & 15u;
    if (rk_ucl_insert(container, obj, key, strlen(key))) {
        rk_ucl_free(obj);
        nomem(p);
        return -1;
    }
    return 0;
}

#define MAX_INHERITED (1u << 16) /* ours: .inherit of an object into itself doubles it */

static size_t count_values(const rk_ucl *u)
{
    size_t n = 0;
    for (; u; u = u->next) {
        n++;
        if (u->type == RK_UCL_OBJECT)
            for (size_t i = 0; i < u->v.ov->n; i++)
                n += u->v.ov->v[i] ? count_values(u->v.ov->v[i]) : 0;
        else if (u->type == RK_UCL_ARRAY)
            for (size_t i = 0; i < u->v.av->n; i++)
                n += count_values(u->v.av->v[i]);
    }
    return n;
}

static int macro_inherit(parser *p, const unsigned char *d, size_t len, const rk_ucl *args)
{
    const rk_ucl *parent = rk_ucl_find(p->top, (const char *)d, len);
    int replace = 0;
    if (!parent || parent->type != RK_UCL_OBJECT) {
        create_err(p, "Unable to find inherited object %.*s", (int)len, (const char *)d);
        return -1;
    }
    if (!p->stack || !p->stack->obj || p->stack->obj->type != RK_UCL_OBJECT) {
        create_err(p, "Invalid inherit context");
        return -1;
    }
    rk_ucl *target = p->stack->obj;
    const rk_ucl *r = args ? rk_ucl_find(args, "replace", 7) : NULL;
    if (r)
        replace = r->type == RK_UCL_BOOLEAN && r->v.bv;
    size_t n = parent->v.ov->n;
    for (size_t i = 0; i < n; i++) {
        const rk_ucl *cur = parent->v.ov->v[i];
        if (!cur)
            continue;
        if (!replace && rk_ucl_find(target, cur->key, cur->keylen))
            continue;
        p->copied += count_values(cur);
        if (p->copied > MAX_INHERITED) {
            create_err(p, "Unable to inherit %.*s: the configuration grows over %u copied values",
                       (int)len, (const char *)d, MAX_INHERITED);
            return -1;
        }
        rk_ucl *copy = rk_ucl_copy(cur);
        if (!copy) {
            nomem(p);
            return -1;
        }
        if (!replace)
            copy->flags |= RK_UCLF_INHERITED;
        if (rk_ucl_insert(target, copy, cur->key, cur->keylen)) {
            rk_ucl_free(copy);
            nomem(p);
            return -1;
        }
    }
    return 0;
}

static int macro_include_map(parser *p, const unsigned char *d, size_t len, const rk_ucl *args)
{
    /* Rspamd registers a map whose content is merged at run time: nothing
     * of it reaches the dump. */
    (void)p;
    (void)d;
    (void)len;
    (void)args;
    return 0;
}

/* ----------------------------------------------------------------- driver */

static void parser_clear(parser *p)
{
    while (p->chunks)
        pop_chunk(p);
    while (p->stack)
        pop_frame(p);
    for (var *v = p->vars, *n; v; v = n) {
        n = v->next;
        free_var(v);
    }
    p->vars = NULL;
    for (size_t i = 0; i < p->ntrash; i++)
        rk_ucl_free(p->trash[i]);
    free(p->trash);
    p->trash = NULL;
    p->ntrash = 0;
    rk_ucl_free(p->top);
    p->top = NULL;
    rk_ucl_free(p->includepaths);
    p->includepaths = NULL;
    rk_ucl_comments_free(p->pending);
    p->pending = NULL;
    free(p->cur_file);
    p->cur_file = NULL;
    rk_buf_free(&p->err);
}

static int parser_init(parser *p, const rk_ucl_env *env, const char *file)
{
    char cwd[PATH_MAX];
    memset(p, 0, sizeof *p);
    p->env = env;
    if (set_var(p, "FILENAME", "undef") || set_var(p, "CURDIR", getcwd(cwd, sizeof cwd) ? cwd : ""))
        return -1;
    for (size_t i = 0; env && i < env->n_vars; i++)
        if (set_var(p, env->vars[i].name, env->vars[i].value))
            return -1;
    if (file && set_filevars(p, file))
        return -1;
    return 0;
}

int rk_ucl_parse_env(const void *data, size_t len, const char *file, const rk_ucl_env *env,
                     rk_ucl **out, rk_error *err)
{
    parser p;
    *out = NULL;
    if (parser_init(&p, env, file)) {
        parser_clear(&p);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    unsigned char *copy = malloc(len + 1);
    if (!copy) {
        parser_clear(&p);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    if (len)
        memcpy(copy, data, len);
    copy[len] = 0;
    if (parse_chunk(&p, copy, len, 0, DUP_APPEND, copy)) {
        /* one line: libucl quotes the offending character raw */
        rk_buf line = {0};
        for (size_t i = 0; i < p.err.len; i++) {
            unsigned char c = p.err.p[i];
            if (c == '\n')
                rk_buf_puts(&line, "\\n");
            else if (c < 0x20 || c == 0x7f)
                rk_buf_printf(&line, "\\x%02x", c);
            else
                rk_buf_append(&line, &c, 1);
        }
        rk_fail(err, RK_ERR_INPUT, "%s", line.p ? (const char *)line.p : "parse error");
        rk_buf_free(&line);
        parser_clear(&p);
        return -1;
    }
    *out = p.top;
    p.top = NULL;
    parser_clear(&p);
    return 0;
}
