/* LDA mode of rspamkit-scan: --mime (add X-Spam headers to the message) and
 * --exec (pipe each message to a delivery command), built so that no
 * message is ever lost or delivered twice. See lda.h and rspamkit-scan(1). */
#include "config.h"
#include "lda.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EX_TEMPFAIL_ 75

static struct {
    int keep_existing, tempfail;
    char *header_style, *max_size;
} cli;

struct poptOption lda_table[] = {
    {"keep-existing-headers", 0, POPT_ARG_NONE, &cli.keep_existing, 0,
     "Keep the message's own headers (X-Spam...) as rspamc does; add ours after them", NULL},
    {"header-style", 0, POPT_ARG_STRING, &cli.header_style, 0,
     "Added headers: rspamc (default) or spamassassin (X-Spam-Flag, X-Spam-Status)", "STYLE"},
    {"tempfail", 0, POPT_ARG_NONE, &cli.tempfail, 0,
     "If the scan fails, deliver nothing and exit 75 (default: deliver unscanned)", NULL},
    {"max-size", 0, POPT_ARG_STRING, &cli.max_size, 0,
     "Do not scan messages larger than SIZE (bytes, or with k, m, g); 0 = no limit", "SIZE"},
    POPT_TABLEEND};

/* ================================================================ strings */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        sb_putn(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_putn(b, big, (size_t)n);
    free(big);
}

/* ======================================================= command splitting */

void lda_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

/* POSIX shell word splitting without expansions: blanks separate words,
 * '...' is literal, "..." keeps \" \\ \$ \` and drops backslash-newline,
 * a backslash outside quotes quotes the next character. */
char **lda_split_command(const char *cmd, char *err, size_t errlen)
{
    size_t cap = 8, n = 0;
    char **v = calloc(cap, sizeof *v);
    sbuf w = {0};
    const char *s = cmd;
    if (!v)
        goto nomem;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        int in_word = 0;
        w.len = 0;
        sb_putn(&w, "", 0);
        while (*s && !(*s == ' ' || *s == '\t' || *s == '\n')) {
            in_word = 1;
            if (*s == '\'') {
                const char *e = strchr(s + 1, '\'');
                if (!e) {
                    snprintf(err, errlen, "unterminated single quote");
                    goto fail;
                }
                sb_putn(&w, s + 1, (size_t)(e - s - 1));
                s = e + 1;
            } else if (*s == '"') {
                s++;
                for (;;) {
                    if (!*s) {
                        snprintf(err, errlen, "unterminated double quote");
                        goto fail;
                    }
                    if (*s == '"') {
                        s++;
                        break;
                    }
                    if (*s == '\\' && s[1] && strchr("\"\\$`\n", s[1])) {
                        if (s[1] != '\n')
                            sb_putn(&w, s + 1, 1);
                        s += 2;
                        continue;
                    }
                    sb_putn(&w, s++, 1);
                }
            } else if (*s == '\\') {
                if (!s[1]) {
                    snprintf(err, errlen, "backslash at the end");
                    goto fail;
                }
                if (s[1] != '\n')
                    sb_putn(&w, s + 1, 1);
                s += 2;
            } else {
                sb_putn(&w, s++, 1);
            }
        }
        if (!in_word)
            continue;
        if (w.oom)
            goto nomem;
        if (n + 2 > cap) {
            cap *= 2;
            char **q = realloc(v, cap * sizeof *q);
            if (!q)
                goto nomem;
            v = q;
        }
        if (!(v[n] = strdup(w.p)))
            goto nomem;
        v[++n] = NULL;
    }
    free(w.p);
    return v;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    free(w.p);
    lda_argv_free(v);
    return NULL;
}

/* Is `a` an option word that ends with --exec's value still to come? */
static int is_exec_word(const char *a)
{
    if (strcmp(a, "--exec") == 0 || strncmp(a, "--exec=", 7) == 0)
        return 1;
    /* -e, or a bundle of flag letters ending in e (-me) */
    if (a[0] != '-' || a[1] == '-' || !a[1])
        return 0;
    size_t n = strlen(a);
    if (a[n - 1] != 'e')
        return 0;
    for (size_t i = 1; i + 1 < n; i++)
        if (!strchr("pvjmEzy", a[i]))
            return 0;
    return 1;
}

int lda_split_argv(int argc, const char **argv, const char *const **tail, size_t *n_tail,
                   int *exec_from_tail)
{
    *tail = NULL;
    *n_tail = 0;
    *exec_from_tail = 0;
    int exec_at = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            if (exec_at < 0)
                return argc;
            *tail = argv + i + 1;
            *n_tail = (size_t)(argc - i - 1);
            if (exec_at == i - 1 &&
                (strcmp(argv[exec_at], "-e") == 0 || strcmp(argv[exec_at], "--exec") == 0)) {
                /* "--exec --" / "-e --": the whole command is the tail. */
                *exec_from_tail = 1;
                return exec_at; /* drop that word */
            }
            return i;
        }
        if (is_exec_word(argv[i]))
            exec_at = i;
    }
    return argc;
}

long long lda_parse_size(const char *s)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double m = 1;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': m = 1024.0; break;
        case 'm': case 'M': m = 1024.0 * 1024; break;
        case 'g': case 'G': m = 1024.0 * 1024 * 1024; break;
        default: return -1;
        }
        end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (*end)
            return -1;
    }
    v *= m;
    if (v > 9e18)
        return -1;
    return (long long)v;
}

/* ===================================================== end of the headers */

static int ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * The position where Rspamd (and so rspamc) sees the header block end, or
 * -1. Same states as Rspamd's own scanner, so the headers we add land where
 * the server thought the headers ended: "\n\n", "\r\n\r\n", "\r\r", and a
 * line of only blanks after a line break all end the block.
 */
enum { E_TEXT, E_CR, E_LF, E_BREAK, E_BREAK_CR, E_BREAK_LF, E_FWS };

static long long rspamd_eoh(const unsigned char *s, size_t len)
{
    size_t i = 0, c = 0;
    int st = E_TEXT;
    while (i < len) {
        unsigned char ch = s[i];
        switch (st) {
        case E_TEXT:
            st = ch == '\r' ? E_CR : ch == '\n' ? E_LF : E_TEXT;
            i++;
            break;
        case E_CR:
            if (ch == '\r') {
                if (i + 1 < len && s[i + 1] == '\n') {
                    i++;
                    st = E_LF;
                } else {
                    return (long long)i;
                }
            } else if (ch == '\n') {
                i++;
                st = E_LF;
            } else if (ascii_space(ch)) {
                c = i++;
                st = E_FWS;
            } else {
                i++;
                st = E_TEXT;
            }
            break;
        case E_LF:
            if (ch == '\n')
                return (long long)i;
            if (ch == '\r') {
                st = E_BREAK;
            } else if (ascii_space(ch)) {
                c = i++;
                st = E_FWS;
            } else {
                i++;
                st = E_TEXT;
            }
            break;
        case E_BREAK: /* at a CR right after a line break */
            c = i++;
            st = E_BREAK_CR;
            break;
        case E_BREAK_CR:
            if (ch == '\r') {
                i++;
            } else if (ch == '\n') {
                i++;
                st = E_BREAK_LF;
            } else if (ascii_space(ch)) {
                c = i++;
                st = E_FWS;
            } else {
                i++;
                st = E_TEXT;
            }
            break;
        case E_BREAK_LF:
            return (long long)c;
        case E_FWS:
            if (ch == ' ' || ch == '\t') {
                i++;
            } else if (ch == '\r') {
                if (len - i <= 2)
                    return (long long)i;
                if (s[i + 1] == '\n' && ascii_space(s[i + 2])) {
                    c = i++;
                    st = E_CR;
                } else if (ascii_space(s[i + 1])) {
                    i++;
                } else {
                    return (long long)c;
                }
            } else if (ch == '\n') {
                if (len - i <= 1)
                    return (long long)i;
                unsigned char n1 = s[i + 1];
                if (n1 == ' ' || n1 == '\t') {
                    c = i++;
                } else if (n1 == '\r' || n1 == '\n') {
                    c = i++;
                    st = E_LF;
                } else {
                    return (long long)c;
                }
            } else {
                i++;
                st = E_TEXT;
            }
            break;
        }
    }
    return st == E_BREAK_LF ? (long long)c : -1;
}

void lda_find_eoh(const unsigned char *p, size_t len, lda_eoh *out)
{
    memset(out, 0, sizeof *out);
    out->eol = "\n";
    if (len == 0)
        return;
    /* An empty line first: the header block is empty. */
    if (p[0] == '\n' || p[0] == '\r') {
        out->found = 1;
        out->eol = p[0] == '\n' ? "\n" : (len > 1 && p[1] == '\n') ? "\r\n" : "\r";
        return;
    }
    long long e = rspamd_eoh(p, len);
    if (e >= 0) {
        size_t pos = (size_t)e;
        /* Never insert in the middle of a line (a blank-only line). */
        while (pos > 0 && p[pos - 1] != '\n' && p[pos - 1] != '\r')
            pos--;
        out->pos = pos;
        out->found = 1;
        if (pos >= 1 && p[pos - 1] == '\n')
            out->eol = pos >= 2 && p[pos - 2] == '\r' ? "\r\n" : "\n";
        else if (pos >= 1 && p[pos - 1] == '\r')
            out->eol = "\r";
        else
            out->eol = "\r\n";
        return;
    }
    /* Headers only: add at the end, in the style of the last line break. */
    out->pos = len;
    for (size_t i = len; i > 0; i--) {
        if (p[i - 1] == '\n') {
            out->eol = i >= 2 && p[i - 2] == '\r' ? "\r\n" : "\n";
            break;
        }
        if (p[i - 1] == '\r') {
            out->eol = "\r";
            break;
        }
    }
    out->need_eol = p[len - 1] != '\n' && p[len - 1] != '\r';
}

/* ============================================================ the output */

static int out_grow(lda_out *o)
{
    if (o->n < o->cap)
        return 0;
    size_t cap = o->cap ? o->cap * 2 : 16;
    struct iovec *v = realloc(o->iov, cap * sizeof *v);
    if (!v)
        return -1;
    o->iov = v;
    o->cap = cap;
    return 0;
}

static int out_slice(lda_out *o, const void *p, size_t n)
{
    if (!n)
        return 0;
    if (out_grow(o))
        return -1;
    o->iov[o->n].iov_base = (void *)p;
    o->iov[o->n++].iov_len = n;
    o->total += n;
    return 0;
}

/* Append an owned string (taken over, freed with the output). */
static int out_owned(lda_out *o, char *s, size_t n)
{
    if (!s)
        return -1;
    if (o->n_owned == o->cap_owned) {
        size_t cap = o->cap_owned ? o->cap_owned * 2 : 4;
        char **v = realloc(o->owned, cap * sizeof *v);
        if (!v) {
            free(s);
            return -1;
        }
        o->owned = v;
        o->cap_owned = cap;
    }
    o->owned[o->n_owned++] = s;
    return out_slice(o, s, n);
}

void lda_out_clear(lda_out *o)
{
    for (size_t i = 0; i < o->n_owned; i++)
        free(o->owned[i]);
    free(o->owned);
    free(o->iov);
    memset(o, 0, sizeof *o);
}

unsigned char *lda_out_flatten(const lda_out *o, size_t *len)
{
    unsigned char *p = malloc(o->total + 1), *q = p;
    if (!p)
        return NULL;
    for (size_t i = 0; i < o->n; i++) {
        memcpy(q, o->iov[i].iov_base, o->iov[i].iov_len);
        q += o->iov[i].iov_len;
    }
    *q = 0;
    *len = o->total;
    return p;
}

/* ======================================================== header fields */

typedef struct field {
    size_t start, end;    /* the whole field, continuation lines and line ends included */
    size_t name_len;      /* 0: not a header field (e.g. the mbox From_ line) */
    int drop;             /* remove it */
    int replace;          /* replace it by the new Subject */
} field;

static int valid_name_char(unsigned char c) { return c > 32 && c < 127 && c != ':'; }

/* Split [0, end) into fields; lines end with `term`. */
static field *parse_fields(const unsigned char *p, size_t end, unsigned char term, size_t *nf)
{
    size_t cap = 32, n = 0;
    field *f = malloc(cap * sizeof *f);
    if (!f)
        return NULL;
    size_t i = 0;
    while (i < end) {
        const unsigned char *t = memchr(p + i, term, end - i);
        size_t le = t ? (size_t)(t - p) + 1 : end;
        if (n && (p[i] == ' ' || p[i] == '\t')) {
            f[n - 1].end = le; /* continuation line */
        } else {
            if (n == cap) {
                cap *= 2;
                field *g = realloc(f, cap * sizeof *g);
                if (!g) {
                    free(f);
                    return NULL;
                }
                f = g;
            }
            size_t j = i;
            while (j < le && valid_name_char(p[j]))
                j++;
            size_t nl = j - i;
            while (j < le && (p[j] == ' ' || p[j] == '\t'))
                j++;
            f[n] = (field){i, le, (j < le && p[j] == ':' && nl) ? nl : 0, 0, 0};
            n++;
        }
        i = le;
    }
    *nf = n;
    return f;
}

static int name_is(const unsigned char *p, const field *f, const char *name)
{
    return f->name_len && strlen(name) == f->name_len &&
           strncasecmp((const char *)p + f->start, name, f->name_len) == 0;
}

/* Headers we add, per style; earlier copies are removed by default. */
static const char *const rspamc_names[] = {
    "X-Spam-Scanner", "X-Spam-Scan-Time", "X-Spam", "X-Spam-Action", "X-Spam-Score",
    "X-Spam-Level", "X-Spam-Symbols", "X-Spam-Result", "X-Spam-Error", NULL};
static const char *const sa_names[] = {
    "X-Spam-Scanner", "X-Spam-Scan-Time", "X-Spam-Flag", "X-Spam-Status", "X-Spam-Level",
    "X-Spam-Result", "X-Spam-Error", NULL};
/* Never removed because the server adds one: signatures and trace fields. */
static const char *const keep_names[] = {
    "DKIM-Signature", "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
    "Received", NULL};

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcasecmp(name, *list) == 0)
            return 1;
    return 0;
}

static int valid_header_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!valid_name_char((unsigned char)*s))
            return 0;
    return 1;
}

static void drop_named(const unsigned char *p, field *f, size_t nf, const char *name)
{
    for (size_t i = 0; i < nf; i++)
        if (name_is(p, &f[i], name))
            f[i].drop = 1;
}

/* milter.remove_headers {"Name": N}: 0 all copies, N the Nth, -N the Nth from the end. */
static void drop_milter(const unsigned char *p, field *f, size_t nf, const json_t *rm)
{
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)rm, name, v) {
        if (!json_is_integer(v))
            continue;
        json_int_t k = json_integer_value(v);
        size_t count = 0;
        for (size_t i = 0; i < nf; i++)
            count += name_is(p, &f[i], name);
        if (!count)
            continue;
        size_t want = 0; /* 1-based; 0 = all */
        if (k > 0)
            want = (size_t)k;
        else if (k < 0 && (json_int_t)count + k + 1 >= 1)
            want = (size_t)((json_int_t)count + k + 1);
        else if (k < 0)
            continue;
        size_t seen = 0;
        for (size_t i = 0; i < nf; i++)
            if (name_is(p, &f[i], name)) {
                seen++;
                if (!want || seen == want)
                    f[i].drop = 1;
            }
    }
}

/* ====================================================== added header text */

/* A header value on one logical line: line breaks inside become `eol`
 * followed by a blank, so the value cannot start a new field. */
static void put_value(sbuf *b, const char *v, const char *eol)
{
    const char *s = v;
    while (*s) {
        size_t n = strcspn(s, "\r\n");
        sb_putn(b, s, n);
        s += n;
        if (!*s)
            break;
        if (*s == '\r' && s[1] == '\n')
            s += 2;
        else
            s++;
        if (!*s || strspn(s, "\r\n") == strlen(s))
            break;
        if (*s == '\r' || *s == '\n')
            continue;
        sb_puts(b, eol);
        if (*s != ' ' && *s != '\t')
            sb_putn(b, "\t", 1);
    }
}

static void put_header(sbuf *b, const char *name, const char *value, const char *eol)
{
    sb_puts(b, name);
    sb_puts(b, ": ");
    put_value(b, value, eol);
    sb_puts(b, eol);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_base64(sbuf *b, const unsigned char *in, size_t n)
{
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        q[0] = b64chars[(v >> 18) & 63];
        q[1] = b64chars[(v >> 12) & 63];
        q[2] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? b64chars[v & 63] : '=';
        sb_putn(b, q, 4);
    }
}

/* X-Spam-Result: base64 of the reply in 60-character pieces, each further
 * piece on a continuation line (eol + TAB), as rspamc writes it. */
static void put_result(sbuf *b, const rk_result *r, tk_outfmt fmt, const char *eol)
{
    rk_emit_format ef = fmt == TK_OUT_COMPACT ? RK_EMIT_COMPACT : fmt == TK_OUT_UCL ? RK_EMIT_UCL
                                                                                     : RK_EMIT_JSON;
    size_t len;
    char *s = rk_emit(r->json, ef, &len);
    if (!s) {
        b->oom = 1;
        return;
    }
    sbuf e = {0};
    put_base64(&e, (const unsigned char *)s, len);
    free(s);
    if (e.oom) {
        b->oom = 1;
        return;
    }
    sb_puts(b, "X-Spam-Result: ");
    for (size_t i = 0; i < e.len; i += 60) {
        if (i) {
            sb_puts(b, eol);
            sb_putn(b, "\t", 1);
        }
        sb_putn(b, e.p + i, e.len - i < 60 ? e.len - i : 60);
    }
    sb_puts(b, eol);
    free(e.p);
}

/* RFC 2047 encoded words (UTF-8, base64) for a value with 8-bit or control
 * bytes; whole UTF-8 sequences per word. */
static void put_encoded_words(sbuf *b, const char *v, const char *eol)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t n = strlen(v), i = 0;
    int first = 1;
    while (i < n) {
        size_t k = n - i < 45 ? n - i : 45;
        while (k > 0 && i + k < n && (s[i + k] & 0xC0) == 0x80)
            k--;
        if (!k)
            k = n - i < 45 ? n - i : 45;
        if (!first) {
            sb_puts(b, eol);
            sb_putn(b, " ", 1);
        }
        sb_puts(b, "=?UTF-8?B?");
        put_base64(b, s + i, k);
        sb_puts(b, "?=");
        i += k;
        first = 0;
    }
}

static void put_subject(sbuf *b, const char *subject, const char *eol)
{
    int plain = 1;
    for (const unsigned char *s = (const unsigned char *)subject; *s; s++)
        if (*s >= 127 || (*s < 32 && *s != '\t'))
            plain = 0;
    sb_puts(b, "Subject: ");
    if (plain)
        sb_puts(b, subject);
    else
        put_encoded_words(b, subject, eol);
    sb_puts(b, eol);
}

static int is_rewrite_subject(const char *a)
{
    return a && (strcasecmp(a, "rewrite subject") == 0 || strcasecmp(a, "rewrite_subject") == 0);
}

/* Each name/value of milter.add_headers (string, {value}, or an array of either). */
typedef void (*milter_add_fn)(void *ud, const char *name, const char *value);

static void each_milter_add(const json_t *milter, milter_add_fn fn, void *ud)
{
    json_t *add = json_object_get(milter, "add_headers");
    const char *name;
    json_t *v;
    if (!json_is_object(add))
        return;
    json_object_foreach(add, name, v) {
        if (!valid_header_name(name))
            continue;
        size_t n = json_is_array(v) ? json_array_size(v) : 1;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
            if (json_is_object(e))
                e = json_object_get(e, "value");
            if (json_is_string(e))
                fn(ud, name, json_string_value(e));
        }
    }
}

struct add_ctx {
    sbuf *b;
    const char *eol;
    const unsigned char *p;
    field *f;
    size_t nf;
};

static void add_milter_cb(void *ud, const char *name, const char *value)
{
    struct add_ctx *c = ud;
    put_header(c->b, name, value, c->eol);
}

static void drop_milter_cb(void *ud, const char *name, const char *value)
{
    struct add_ctx *c = ud;
    (void)value;
    if (!in_list(name, keep_names))
        drop_named(c->p, c->f, c->nf, name);
}

static void put_rspamc_set(sbuf *b, const rk_result *r, double elapsed, const char *eol)
{
    sb_printf(b, "X-Spam-Scan-Time: %.3g%s", elapsed, eol);
    if (rk_action_is_spam(r->action) == 1)
        sb_printf(b, "X-Spam: yes%s", eol);
    sb_puts(b, "X-Spam-Action: ");
    put_value(b, r->action ? r->action : "no action", eol);
    sb_puts(b, eol);
    sb_printf(b, "X-Spam-Score: %.2f / %.2f%s", r->has_score ? r->score : 0.0,
              r->has_required ? r->required_score : 0.0, eol);
    sb_puts(b, "X-Spam-Level: ");
    double sc = r->has_score ? r->score : 0.0;
    if (sc > 32)
        sc = 32;
    for (; sc > 0; sc -= 1.0)
        sb_putn(b, "*", 1);
    sb_puts(b, eol);
    sb_puts(b, "X-Spam-Symbols: ");
    for (size_t i = 0; i < r->n_symbols; i++) {
        if (i) {
            sb_putn(b, ",", 1);
            sb_puts(b, eol);
            sb_putn(b, "\t", 1);
        }
        put_value(b, r->symbols[i].name, eol);
    }
    sb_puts(b, eol);
}

static void put_sa_set(sbuf *b, const rk_result *r, const char *eol)
{
    int spam = rk_action_is_spam(r->action) == 1;
    double sc = r->has_score ? r->score : 0.0;
    if (spam)
        sb_printf(b, "X-Spam-Flag: YES%s", eol);
    size_t line0 = b->len;
    sb_printf(b, "X-Spam-Status: %s, score=%.1f required=%.1f tests=", spam ? "Yes" : "No", sc,
              r->has_required ? r->required_score : 0.0);
    size_t col = b->len - line0;
    if (!r->n_symbols)
        sb_puts(b, "none");
    for (size_t i = 0; i < r->n_symbols; i++) {
        size_t n = strlen(r->symbols[i].name);
        if (i) {
            sb_putn(b, ",", 1);
            col++;
            if (col + n > 78) {
                sb_puts(b, eol);
                sb_putn(b, "\t", 1);
                col = 8;
            }
        }
        put_value(b, r->symbols[i].name, eol);
        col += n;
    }
    sb_puts(b, eol);
    sb_puts(b, "X-Spam-Level: ");
    double stars = floor(sc);
    for (int i = 0; i < 50 && i < stars; i++)
        sb_putn(b, "*", 1);
    sb_puts(b, eol);
}

int lda_build(lda_out *out, const unsigned char *msg, size_t len, const rk_result *r,
              const char *error, double elapsed, const lda_build_opts *o)
{
    memset(out, 0, sizeof *out);
    lda_eoh eoh;
    lda_find_eoh(msg, len, &eoh);
    const char *eol = eoh.eol;
    size_t nf = 0;
    field *f = NULL;
    if (eoh.pos) {
        f = parse_fields(msg, eoh.pos, strcmp(eol, "\r") == 0 ? '\r' : '\n', &nf);
        if (!f)
            return -1;
    }
    const char *new_subject = NULL;
    struct add_ctx ac = {NULL, eol, msg, f, nf};
    if (!o->keep_existing) {
        const char *const *own = o->style == LDA_STYLE_SPAMASSASSIN ? sa_names : rspamc_names;
        for (const char *const *n = own; *n; n++)
            drop_named(msg, f, nf, *n);
        if (r) {
            each_milter_add(r->milter, drop_milter_cb, &ac);
            json_t *rm = json_object_get(r->milter, "remove_headers");
            if (json_is_object(rm))
                drop_milter(msg, f, nf, rm);
            if (r->subject && !r->rewritten && is_rewrite_subject(r->action)) {
                new_subject = r->subject;
                for (size_t i = 0; i < nf; i++)
                    if (!f[i].drop && name_is(msg, &f[i], "Subject")) {
                        f[i].replace = 1;
                        break;
                    }
            }
        }
    }

    /* The added block. */
    sbuf b = {0};
    ac.b = &b;
    sb_printf(&b, "X-Spam-Scanner: %s%s", o->scanner, eol);
    if (r) {
        if (o->style == LDA_STYLE_SPAMASSASSIN)
            put_sa_set(&b, r, eol);
        else
            put_rspamc_set(&b, r, elapsed, eol);
        for (size_t i = 0; i < r->n_dkim; i++)
            put_header(&b, "DKIM-Signature", r->dkim[i], eol);
        each_milter_add(r->milter, add_milter_cb, &ac);
        int replaced = 0;
        for (size_t i = 0; i < nf; i++)
            replaced |= f[i].replace;
        if (new_subject && !replaced)
            put_subject(&b, new_subject, eol);
        if (o->result_fmt != TK_OUT_TEXT && r->json)
            put_result(&b, r, o->result_fmt, eol);
    } else {
        sb_printf(&b, "X-Spam-Scan-Time: %.3f%s", elapsed, eol);
        put_header(&b, "X-Spam-Error", error ? error : "scan failed", eol);
    }
    sbuf subj = {0};
    if (new_subject)
        put_subject(&subj, new_subject, eol);
    if (b.oom || subj.oom || !b.p)
        goto nomem;

    /* Assemble: kept header bytes, the added block, the rest untouched. */
    size_t cur = 0;
    int rc = 0;
    for (size_t i = 0; i < nf && !rc; i++) {
        if (!f[i].drop && !f[i].replace)
            continue;
        rc |= out_slice(out, msg + cur, f[i].start - cur);
        if (f[i].replace && !f[i].drop) {
            rc |= out_owned(out, subj.p, subj.len);
            subj.p = NULL;
        }
        cur = f[i].end;
    }
    rc |= out_slice(out, msg + cur, eoh.pos - cur);
    if (eoh.need_eol)
        rc |= out_slice(out, eol, strlen(eol));
    size_t blen = b.len;
    rc |= out_owned(out, b.p, blen);
    b.p = NULL;
    rc |= out_slice(out, msg + eoh.pos, len - eoh.pos);
    free(subj.p);
    free(f);
    if (rc) {
        lda_out_clear(out);
        return -1;
    }
    return 0;
nomem:
    free(b.p);
    free(subj.p);
    free(f);
    lda_out_clear(out);
    return -1;
}

/* ============================================================= delivery */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* writev everything; returns 0 or -1 with errno (EPIPE: reader went away). */
static int write_all(int fd, struct iovec *iov, size_t n)
{
    while (n && !iov->iov_len) {
        iov++;
        n--;
    }
    while (n) {
        int cnt = n > IOV_MAX ? IOV_MAX : (int)n;
        ssize_t w = writev(fd, iov, cnt);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t left = (size_t)w;
        while (n && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n && left) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

static struct {
    const lda_opts *o;
    int keep_existing, tempfail;
    lda_style style;
    long long max_size;
    char **argv;          /* delivery command, NULL: stdout */
    char *path;           /* argv[0] found in PATH once, NULL: let execvp search */
    char scanner[64];
    tk_walker *w;
    const rk_headers *base;
    struct entry **e;
    size_t n, cap, next;
    int status;           /* first non-zero, in input order */
    int in_flight;
    int warm;             /* syslog's time zone and socket are ready */
} L;

/* A delivery command, started before its message is ready: the scan and
 * the command's own start-up then overlap. */
typedef struct child {
    pid_t pid;     /* 0: none */
    int wfd;       /* its stdin */
    int exec_err;  /* the command could not be run (errno) */
} child;

static int fd_above_2(int fd)
{
    if (fd > 2 || fd < 0)
        return fd;
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return d;
}

/* In the vfork()ed child, before exec: only system calls, then exec or _exit.
 * A failed exec is reported as its errno on `efd` (close-on-exec). */
static void __attribute__((noreturn)) child_exec(int rfd, int efd, pid_t parent)
{
    struct sigaction dfl;
    sigset_t none;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, NULL); /* we ignore it; the command gets the default */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == parent && dup2(rfd, 0) == 0) {
        if (L.path)
            execv(L.path, L.argv);
        if (!L.path || errno == ENOEXEC)
            execvp(L.argv[0], L.argv); /* not found, or a script without #!: as execvp does */
    }
    int e = errno ? errno : ECHILD;
    if (write(efd, &e, sizeof e) < 0)
        _exit(127);
    _exit(127);
}

/*
 * Start the command with a pipe on its stdin (vfork + exec: no copy of our
 * memory, however big the message). PR_SET_PDEATHSIG(SIGKILL): if we are
 * killed (MTA timeout, admin) before the command has the whole message, it
 * dies with us instead of delivering a truncated or empty message; the
 * caller retries, and nothing is delivered twice. Returns 0, or an errno
 * value (then c->exec_err may say the command cannot be run).
 */
static int child_start(child *c, size_t size)
{
    int p[2], ep[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return errno;
    if (pipe2(ep, O_CLOEXEC) < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return e;
    }
    p[0] = fd_above_2(p[0]); /* so that dup2 onto 0 is a real copy */
    p[1] = fd_above_2(p[1]);
    ep[1] = fd_above_2(ep[1]);
    if (p[0] < 0 || p[1] < 0 || ep[1] < 0) {
        int e = errno;
        close(p[0]), close(p[1]), close(ep[0]), close(ep[1]);
        return e;
    }
    if (size > 65536)
        fcntl(p[1], F_SETPIPE_SZ, 1 << 20); /* fewer wake-ups for big messages */
    pid_t parent = getpid();
    pid_t pid = vfork();
    if (pid == 0)
        child_exec(p[0], ep[1], parent);
    int e = pid < 0 ? errno : 0;
    close(p[0]);
    close(ep[1]);
    if (pid > 0) {
        /* vfork returns once the child has exec'd (EOF here) or failed
         * (its errno here); the same holds where vfork is a plain fork. */
        int ee = 0;
        ssize_t r;
        while ((r = read(ep[0], &ee, sizeof ee)) < 0 && errno == EINTR)
            ;
        if (r == (ssize_t)sizeof ee) {
            int st;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            e = ee;
            c->exec_err = ee;
            pid = -1;
        }
    }
    close(ep[0]);
    if (pid < 0) {
        close(p[1]);
        return e;
    }
    c->pid = pid;
    c->wfd = p[1];
    return 0;
}

static int child_wait(pid_t pid, int *st)
{
    while (waitpid(pid, st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* Give the started command its message and wait for it. Returns its exit
 * status (75 if it was killed or could not be run); *how describes it. */
static int child_finish(child *c, lda_out *out, char *how, size_t howlen, int *not_delivered)
{
    int st;
    *not_delivered = 0;
    int werr = write_all(c->wfd, out->iov, out->n) ? errno : 0;
    close(c->wfd);
    pid_t pid = c->pid;
    c->pid = 0;
    if (child_wait(pid, &st)) {
        snprintf(how, howlen, "cannot wait for %s: %s", L.argv[0], strerror(errno));
        return EX_TEMPFAIL_;
    }
    if (WIFSIGNALED(st)) {
        snprintf(how, howlen, "%s killed by signal %d (%s)", L.argv[0], WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
        return EX_TEMPFAIL_;
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : EX_TEMPFAIL_;
    snprintf(how, howlen, "piped to %s, exit %d%s%s", L.argv[0], code,
             werr ? ", it stopped reading: " : "", werr ? strerror(werr) : "");
    return code;
}

static int run_child(child *c, lda_out *out, char *how, size_t howlen, int *not_delivered)
{
    int e = c->exec_err;
    if (!c->pid && !e)
        e = child_start(c, out->total);
    if (e) {
        snprintf(how, howlen, "cannot %s %s: %s", c->exec_err ? "run" : "start", L.argv[0],
                 strerror(e));
        *not_delivered = 1;
        return EX_TEMPFAIL_;
    }
    return child_finish(c, out, how, howlen, not_delivered);
}

static int to_stdout(lda_out *out, char *how, size_t howlen, int *not_delivered)
{
    *not_delivered = 0;
    if (write_all(STDOUT_FILENO, out->iov, out->n)) {
        snprintf(how, howlen, "cannot write to stdout: %s", strerror(errno));
        *not_delivered = 1;
        return EX_TEMPFAIL_;
    }
    snprintf(how, howlen, "written to stdout");
    return 0;
}

typedef struct entry {
    int ready;
    tk_input in;
    unsigned char *body;  /* the reply body, kept when it holds a rewritten message */
    rk_result r;
    char *error;          /* why the message was not scanned */
    int input_status;     /* input error: no message, this exit status */
    int no_scan;          /* empty input: delivered as it is */
    double t0, elapsed;
    rk_headers headers;
    child ch;             /* its delivery command, when started early */
} entry;

static void entry_free(entry *e)
{
    if (!e)
        return;
    if (e->ch.pid) { /* started early but not given a message: it must not deliver */
        int st;
        kill(e->ch.pid, SIGKILL);
        close(e->ch.wfd);
        child_wait(e->ch.pid, &st);
    }
    tk_input_clear(&e->in);
    free(e->body);
    rk_result_clear(&e->r);
    free(e->error);
    rk_headers_clear(&e->headers);
    free(e);
}

static void note_status(int st)
{
    if (st && !L.status)
        L.status = st;
}

static void say_undelivered(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say_undelivered(const char *fmt, ...)
{
    char line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    syslog(LOG_MAIL | LOG_ERR, "%s", line);
    if (!L.o->verbose) /* -v: syslog already copies it to stderr */
        tk_err("%s", line);
}

static void deliver(entry *e)
{
    const char *label = e->in.label ? e->in.label : "stdin";
    if (e->input_status) {
        say_undelivered("%s", e->in.error ? e->in.error : "cannot read the input");
        note_status(e->input_status);
        return;
    }
    if (e->error && L.tempfail && !e->no_scan) {
        say_undelivered("%s: not scanned (%s); not delivered (--tempfail), exit 75", label,
                        e->error);
        note_status(EX_TEMPFAIL_);
        return;
    }
    const unsigned char *msg = e->r.rewritten ? e->r.rewritten : e->in.data;
    size_t len = e->r.rewritten ? e->r.rewritten_len : e->in.len;
    lda_out out;
    memset(&out, 0, sizeof out);
    int built = 0;
    if (!L.o->mime) {
        char *buf = NULL;
        size_t blen = 0;
        FILE *f = open_memstream(&buf, &blen);
        if (f) {
            if (e->no_scan || e->error) {
                const char *why = e->no_scan ? "empty message, not scanned" : e->error;
                if (L.o->fmt != TK_OUT_TEXT) { /* one JSON value per input, errors too */
                    json_t *o = json_pack("{s:s, s:s}", "filename", label, "error", why);
                    char *js = o ? rk_emit(o, L.o->fmt == TK_OUT_COMPACT ? RK_EMIT_COMPACT
                                                                          : RK_EMIT_JSON, NULL)
                                 : NULL;
                    if (js)
                        fputs(js, f);
                    free(js);
                    json_decref(o);
                } else {
                    fprintf(f, "%s: %s\n", label, why);
                }
            } else if (L.o->fmt != TK_OUT_TEXT) {
                rk_emit_format ef = L.o->fmt == TK_OUT_COMPACT ? RK_EMIT_COMPACT
                                    : L.o->fmt == TK_OUT_UCL  ? RK_EMIT_UCL
                                                              : RK_EMIT_JSON;
                char *s = rk_emit(e->r.json, ef, NULL);
                if (s)
                    fputs(s, f);
                free(s);
            } else if (L.o->render) {
                L.o->render(f, &e->r);
            }
            if (fclose(f) == 0 && buf)
                built = out_owned(&out, buf, blen) == 0;
            else
                free(buf);
        }
    } else if (e->no_scan) {
        built = out_slice(&out, msg, len) == 0;
    } else {
        lda_build_opts bo = {L.style, L.keep_existing, L.o->fmt, L.scanner};
        built = lda_build(&out, msg, len, e->error ? NULL : &e->r, e->error, e->elapsed, &bo) == 0;
    }
    if (!built) {
        /* Out of memory for a few header lines: deliver the message as it came. */
        lda_out_clear(&out);
        if (out_slice(&out, msg, len)) {
            say_undelivered("%s: out of memory; not delivered, exit 75", label);
            note_status(EX_TEMPFAIL_);
            return;
        }
        syslog(LOG_MAIL | LOG_WARNING, "%s: out of memory, delivering without added headers",
               label);
    }
    char how[600];
    int nd = 0;
    int st = L.argv ? run_child(&e->ch, &out, how, sizeof how, &nd)
                    : to_stdout(&out, how, sizeof how, &nd);
    lda_out_clear(&out);
    char what[700];
    if (e->no_scan)
        snprintf(what, sizeof what, "empty message, not scanned");
    else if (e->error)
        snprintf(what, sizeof what, "not scanned (%.600s)", e->error);
    else
        snprintf(what, sizeof what, "%s, score %.2f / %.2f", e->r.action ? e->r.action : "no action",
                 e->r.score, e->r.required_score);
    if (nd)
        say_undelivered("%s: %s; %s: not delivered, exit 75", label, what, how);
    else
        syslog(LOG_MAIL | (e->error || st ? LOG_WARNING : LOG_INFO), "%s: %s; %s%s", label, what,
               e->error ? "delivered unscanned, " : "", how);
    note_status(st);
}

static int push_entry(entry *e)
{
    if (L.n == L.cap) {
        size_t cap = L.cap ? L.cap * 2 : 16;
        entry **v = realloc(L.e, cap * sizeof *v);
        if (!v)
            return -1;
        L.e = v;
        L.cap = cap;
    }
    L.e[L.n++] = e;
    return 0;
}

/* Start the delivery command of the next message to deliver while its scan
 * runs (not with --tempfail: the message may then not be delivered at all). */
static void prestart(void)
{
    if (!L.argv || L.tempfail || L.next >= L.n)
        return;
    entry *e = L.e[L.next];
    if (e && !e->ready && !e->ch.pid && !e->ch.exec_err && child_start(&e->ch, e->in.len))
        e->ch.pid = 0; /* try again when delivering (or report exec_err) */
}

/* -v: syslog copies every line to stderr too */
static int log_options(void)
{
    return LOG_PID | (L.o->verbose ? LOG_PERROR : 0);
}

/* While the server scans: start the next delivery command, and get
 * syslog's time zone and socket ready, so that neither waits after the
 * reply. */
static void on_wait(void *ud)
{
    (void)ud;
    if (!L.warm) {
        L.warm = 1;
        tzset();
        openlog("rspamkit-scan", log_options() | LOG_NDELAY, LOG_MAIL);
    }
    prestart();
}

static void flush(void)
{
    while (L.next < L.n && L.e[L.next] && L.e[L.next]->ready) {
        entry *e = L.e[L.next];
        deliver(e);
        entry_free(e);
        L.e[L.next++] = NULL;
    }
    prestart();
}

static int next_cb(void *ud, rk_request *req, void **token)
{
    (void)ud;
    for (;;) {
        entry *e = calloc(1, sizeof *e);
        if (!e)
            return -1;
        if (!tk_walker_next(L.w, &e->in)) {
            free(e);
            return 0;
        }
        if (push_entry(e)) {
            entry_free(e);
            return -1;
        }
        if (e->in.error) {
            e->input_status = e->in.exit_code == TK_EX_IOERR ? EX_TEMPFAIL_ : e->in.exit_code;
            e->ready = 1;
        } else if (e->in.len == 0) {
            e->no_scan = 1;
            e->ready = 1;
        } else if (L.max_size > 0 && (long long)e->in.len > L.max_size) {
            char m[200];
            snprintf(m, sizeof m, "message size %zu exceeds --max-size %lld", e->in.len, L.max_size);
            e->error = strdup(m);
            e->ready = 1;
        }
        if (e->ready) {
            flush();
            continue;
        }
        for (size_t i = 0; L.base && i < L.base->n; i++)
            rk_headers_add(&e->headers, L.base->v[i].name, L.base->v[i].value);
        rk_headers_add(&e->headers, "Filename", e->in.label ? e->in.label : "stdin");
        req->path = "/checkv2";
        req->method = NULL;
        req->body = e->in.data;
        req->body_len = e->in.len;
        req->headers = &e->headers;
        e->t0 = now_s();
        *token = e;
        L.in_flight++;
        return 1;
    }
}

static void set_error(entry *e, const char *msg)
{
    free(e->error);
    /* one line: it becomes a header value */
    e->error = strdup(msg);
    if (!e->error)
        e->error = strdup("scan failed");
    for (char *s = e->error; s && *s; s++)
        if (*s == '\r' || *s == '\n' || *s == '\t')
            *s = ' ';
}

static int done_cb(void *ud, void *token, rk_response *resp, const rk_error *err)
{
    (void)ud;
    entry *e = token;
    L.in_flight--;
    e->elapsed = err->code == RK_OK ? resp->elapsed : now_s() - e->t0;
    if (err->code == RK_OK) {
        const char *mo = rk_headers_get(&resp->headers, "Message-Offset");
        size_t off = mo ? strtoul(mo, NULL, 10) : 0;
        rk_error pe;
        rk_error_clear(&pe);
        if (rk_result_parse(resp->body, resp->body_len, off,
                            L.o->fmt != TK_OUT_TEXT ? RK_RESULT_TREE : 0, &e->r, &pe)) {
            char m[800];
            snprintf(m, sizeof m, "bad reply from %.200s: %.500s", resp->host ? resp->host : "server",
                     pe.msg);
            set_error(e, m);
        } else if (!e->r.action && e->r.error) {
            char m[800];
            snprintf(m, sizeof m, "server error: %.700s", e->r.error);
            set_error(e, m);
            rk_result_clear(&e->r);
        } else if (e->r.rewritten) {
            /* Keep the new message, drop the original: one copy in memory. */
            e->body = resp->body;
            resp->body = NULL;
            free(e->in.data);
            e->in.data = NULL;
        }
    } else {
        char m[800];
        snprintf(m, sizeof m, "%s", err->msg);
        if (err->code == RK_ERR_HTTP && resp->body_len) {
            json_t *jb = json_loadb((const char *)resp->body, resp->body_len, 0, NULL);
            const char *je = json_string_value(json_object_get(jb, "error"));
            if (je && (!resp->reason || strcmp(je, resp->reason) != 0))
                snprintf(m, sizeof m, "HTTP error: %d, %.700s", resp->status, je);
            json_decref(jb);
        }
        set_error(e, m);
    }
    rk_headers_clear(&e->headers);
    e->ready = 1;
    flush();
    return 0;
}

/* The program execvp would run, looked up once (not in every child, where
 * each miss along a long PATH would be a failed execve while we wait). */
static char *find_in_path(const char *name)
{
    if (strchr(name, '/'))
        return NULL;
    const char *path = getenv("PATH");
    if (!path || !*path)
        return NULL;
    size_t nl = strlen(name);
    while (*path) {
        size_t dl = strcspn(path, ":");
        char *full = malloc(dl + nl + 3);
        if (!full)
            return NULL;
        if (dl)
            memcpy(full, path, dl);
        else
            full[0] = '.', dl = 1;
        full[dl] = '/';
        memcpy(full + dl + 1, name, nl + 1);
        struct stat sb;
        if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode) && access(full, X_OK) == 0)
            return full;
        free(full);
        path += strcspn(path, ":");
        if (*path == ':')
            path++;
    }
    return NULL;
}

int lda_setup(const lda_opts *o)
{
    memset(&L, 0, sizeof L);
    L.o = o;
    snprintf(L.scanner, sizeof L.scanner, "rspamkit %s", PACKAGE_VERSION);
    L.keep_existing = cli.keep_existing;
    /* the command line wins; then rspamkit.conf's tempfail and header_style */
    int code = 0;
    const rk_settings *conf = tk_settings(&code);
    if (!conf)
        return code;
    L.tempfail = cli.tempfail || conf->failure == RK_FAILURE_TEMPFAIL;
    if (!cli.header_style)
        cli.header_style = conf->header_style;
    if (!cli.header_style || strcmp(cli.header_style, "rspamc") == 0)
        L.style = LDA_STYLE_RSPAMC;
    else if (strcmp(cli.header_style, "spamassassin") == 0 || strcmp(cli.header_style, "sa") == 0)
        L.style = LDA_STYLE_SPAMASSASSIN;
    else {
        tk_err("invalid --header-style '%s' (rspamc, spamassassin)", cli.header_style);
        return TK_EX_USAGE;
    }
    L.max_size = lda_parse_size(cli.max_size);
    if (L.max_size < 0) {
        tk_err("invalid --max-size '%s' (bytes, or a number with k, m or g)", cli.max_size);
        return TK_EX_USAGE;
    }
    if (o->exec || o->exec_from_tail) {
        char err[200] = "";
        char **v = NULL;
        if (o->exec_from_tail || !o->exec) {
            v = calloc(1, sizeof *v);
        } else {
            v = lda_split_command(o->exec, err, sizeof err);
            if (!v) {
                tk_err("--exec '%s': %s", o->exec, err);
                return TK_EX_USAGE;
            }
        }
        size_t n = 0;
        while (v && v[n])
            n++;
        char **all = v ? realloc(v, (n + o->n_exec_tail + 1) * sizeof *all) : NULL;
        if (!all) {
            lda_argv_free(v);
            tk_err("out of memory");
            return TK_EX_SOFTWARE;
        }
        for (size_t i = 0; i < o->n_exec_tail; i++)
            all[n++] = strdup(o->exec_tail[i]);
        all[n] = NULL;
        if (!n) {
            lda_argv_free(all);
            tk_err("--exec: empty command");
            return TK_EX_USAGE;
        }
        L.argv = all;
        L.path = find_in_path(all[0]);
    }
    openlog("rspamkit-scan", log_options(), LOG_MAIL);
    return 0;
}

int lda_run(rk_client *c, tk_walker *w, const rk_headers *base, int max_inflight)
{
    L.w = w;
    L.base = base;
    rk_client_on_wait(c, on_wait, NULL);
    int rc = rk_client_run(c, max_inflight, next_cb, done_cb, NULL);
    rk_client_on_wait(c, NULL, NULL);
    /* After an internal failure, whatever was read still gets delivered. */
    for (size_t i = L.next; i < L.n; i++)
        if (L.e[i] && !L.e[i]->ready) {
            set_error(L.e[i], "internal error while scanning");
            L.e[i]->ready = 1;
        }
    flush();
    if (rc) {
        say_undelivered("internal error: remaining inputs were not delivered");
        note_status(EX_TEMPFAIL_);
    }
    free(L.e);
    lda_argv_free(L.argv);
    free(L.path);
    closelog();
    int st = L.status;
    memset(&L, 0, sizeof L);
    return st;
}
