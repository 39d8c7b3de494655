/* The message layer: what a scan verdict does to a message.
 *
 * One plan serves both outputs: the fields to remove from the header block
 * the message arrived with, the Subject to replace in place, and the block
 * of added fields. rk_message_edits() lists it as edits (what a milter
 * applies); rk_message_rewrite() lays it out as slices of the original
 * bytes around the added text (what a delivery agent writes with writev),
 * so that the body is never copied. See rspamkit.h, "message layer". */
#include "internal.h"
#include "message.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int is_break(unsigned char c) { return c == '\n' || c == '\r'; }

/* Blanks in Rspamd's sense: a line of only these, after a line break, ends
 * the header block. */
static int is_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

/* The start of the lines of only blanks (or empty) that end just before
 * `pos` and follow a line break (the last one may lack its line ending), or
 * pos.  An empty line there is one Rspamd read past (CR-only line endings
 * after folding blanks) and would not once fields follow it. */
static size_t before_blank_lines(const unsigned char *p, size_t pos)
{
    for (;;) {
        size_t i = pos;
        if (i > 0 && p[i - 1] == '\n')
            i--;
        if (i > 0 && p[i - 1] == '\r')
            i--;
        while (i > 0 && is_blank(p[i - 1]))
            i--;
        if (i == pos || i == 0 || !is_break(p[i - 1]))
            return pos; /* the first line never follows a line break */
        pos = i;
    }
}

void rk_find_eoh(const unsigned char *p, size_t len, rk_eoh *out)
{
    memset(out, 0, sizeof *out);
    out->eol = "\n";
    if (len == 0)
        return;
    /* An empty line first: the header block is empty. */
    if (is_break(p[0])) {
        out->found = 1;
        out->eol = p[0] == '\n' ? "\n" : (len > 1 && p[1] == '\n') ? "\r\n" : "\r";
        return;
    }
    long long e = rspamd_eoh(p, len);
    size_t pos = e >= 0 ? (size_t)e : len; /* headers only: add at the end */
    if (e >= 0) {
        /* Never insert in the middle of a line (a blank-only line). */
        while (pos > 0 && !is_break(p[pos - 1]))
            pos--;
        /* Nor between the CR and LF of "\r\r\n" (Rspamd ends the block at
         * its LF): before the CR, the added fields end with the same "\r\r\n". */
        if (pos > 0 && pos < len && p[pos - 1] == '\r' && p[pos] == '\n')
            pos--;
    }
    /* Nor after lines of only blanks: before a field, such a line ends the
     * header block for Rspamd, so the added fields would land in the body. */
    pos = before_blank_lines(p, pos);
    out->pos = pos;
    out->found = e >= 0;
    out->need_eol = pos > 0 && !is_break(p[pos - 1]);
    /* The style of the last line break before pos, else of the first one. */
    size_t k = pos;
    while (k > 0 && !is_break(p[k - 1]))
        k--;
    if (k == 0)
        while (k < len && !is_break(p[k]))
            k++;
    else
        k--;
    if (k < len && p[k] == '\n')
        out->eol = k > 0 && p[k - 1] == '\r' ? "\r\n" : "\n";
    else if (k < len)
        out->eol = k + 1 < len && p[k + 1] == '\n' ? "\r\n" : "\r";
}

/* ========================================================== header fields */

typedef struct field {
    size_t start, end;    /* the whole field, continuation lines and line ends included */
    size_t name_len;      /* 0: not a header field (e.g. the mbox From_ line) */
    int drop;             /* remove it */
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
        if (n && ascii_space(p[i])) {
            /* continuation line, as Rspamd reads one (any blank, or a stray
             * line break): left after a removal, it would end the block */
            f[n - 1].end = le;
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
            f[n] = (field){i, le, (j < le && p[j] == ':' && nl) ? nl : 0, 0};
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

static int same_name(const unsigned char *p, const field *a, const field *b)
{
    return a->name_len == b->name_len &&
           strncasecmp((const char *)p + a->start, (const char *)p + b->start, a->name_len) == 0;
}

/* Fields each style adds; earlier copies are removed by default. */
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
static void drop_milter(const unsigned char *p, field *f, size_t nf, const rk_milter_remove *rm)
{
    long long k = rm->index;
    size_t count = 0;
    for (size_t i = 0; i < nf; i++)
        count += name_is(p, &f[i], rm->name);
    if (!count)
        return;
    size_t want = 0; /* 1-based; 0 = all */
    if (k > 0)
        want = (size_t)k;
    else if (k < 0 && (long long)count + k + 1 >= 1)
        want = (size_t)((long long)count + k + 1);
    else if (k < 0)
        return;
    size_t seen = 0;
    for (size_t i = 0; i < nf; i++)
        if (name_is(p, &f[i], rm->name)) {
            seen++;
            if (!want || seen == want)
                f[i].drop = 1;
        }
}

/* =============================================================== the plan */

typedef struct line {
    size_t start, name_len, value, value_end; /* offsets in plan.added */
} line;

typedef struct plan {
    const unsigned char *msg;
    size_t len;
    rk_eoh eoh;
    field *f;
    size_t nf;
    size_t replace;     /* 1 + index of the Subject field replaced in place, 0: none */
    rk_buf added;       /* the added fields, each "Name: value" and the line ending */
    line *lines;        /* where each added field is in `added` */
    size_t n_lines, cap_lines;
    rk_buf subject;     /* the new Subject field that replaces f[replace - 1] */
    int oom;
} plan;

static void put(plan *p, rk_buf *b, const void *s, size_t n)
{
    if (!p->oom && rk_buf_append(b, s, n))
        p->oom = 1;
}

static void puts_(plan *p, rk_buf *b, const char *s) { put(p, b, s, strlen(s)); }

static void put_printf(plan *p, rk_buf *b, const char *fmt, ...) RK_PRINTF(3, 4);
static void put_printf(plan *p, rk_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) /* only short numbers are printed */
        p->oom = 1;
    else
        put(p, b, tmp, (size_t)n);
}

/* "Name: " of an added field; field_end() closes it. */
static void field_begin(plan *p, const char *name)
{
    if (p->oom)
        return;
    if (p->n_lines == p->cap_lines) {
        size_t cap = p->cap_lines ? p->cap_lines * 2 : 16;
        line *v = realloc(p->lines, cap * sizeof *v);
        if (!v) {
            p->oom = 1;
            return;
        }
        p->lines = v;
        p->cap_lines = cap;
    }
    line *l = &p->lines[p->n_lines++];
    l->start = p->added.len;
    l->name_len = strlen(name);
    puts_(p, &p->added, name);
    puts_(p, &p->added, ": ");
    l->value = p->added.len;
}

/* The length of b without its last line when that line, after a line break, is blanks
 * only (a fold that nothing followed); b's length otherwise. A field's first line
 * starts with its name, so only a line the field itself folded can be cut. */
static size_t without_blank_line(const rk_buf *b)
{
    size_t i = b->len;
    while (i > 0 && is_blank(b->p[i - 1]))
        i--;
    if (i == 0 || !is_break(b->p[i - 1]))
        return b->len;
    while (i > 0 && is_break(b->p[i - 1]))
        i--;
    return i;
}

static void field_end(plan *p)
{
    if (p->oom)
        return;
    p->added.len = without_blank_line(&p->added);
    p->lines[p->n_lines - 1].value_end = p->added.len;
    puts_(p, &p->added, p->eoh.eol);
}

/* A value on one logical line: a line break inside becomes the message's
 * line ending followed by a blank, so the value cannot start a new field;
 * lines of only blanks are dropped, as one would end the header block for
 * Rspamd (and the value would continue in the body). */
static void put_value(plan *p, rk_buf *b, const char *v)
{
    const char *s = v;
    for (;;) {
        size_t n = strcspn(s, "\r\n");
        put(p, b, s, n);
        s += n;
        size_t w = 0;
        while (is_break((unsigned char)*s)) {
            s += strspn(s, "\r\n");
            for (w = 0; is_blank((unsigned char)s[w]); w++)
                ;
            if (is_break((unsigned char)s[w]))
                s += w;
        }
        if (!s[w])
            return;
        if (without_blank_line(b) == b->len) { /* else: go on on the fold's line */
            puts_(p, b, p->eoh.eol);
            if (*s != ' ' && *s != '\t')
                put(p, b, "\t", 1);
        }
    }
}

static void add_field(plan *p, const char *name, const char *value)
{
    field_begin(p, name);
    put_value(p, &p->added, value);
    field_end(p);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_base64(plan *p, rk_buf *b, const unsigned char *in, size_t n)
{
    if (p->oom || rk_buf_reserve(b, (n + 2) / 3 * 4)) {
        p->oom = 1;
        return;
    }
    unsigned char *q = b->p + b->len;
    for (size_t i = 0; i < n; i += 3, q += 4) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        q[0] = (unsigned char)b64chars[(v >> 18) & 63];
        q[1] = (unsigned char)b64chars[(v >> 12) & 63];
        q[2] = (unsigned char)(i + 1 < n ? b64chars[(v >> 6) & 63] : '=');
        q[3] = (unsigned char)(i + 2 < n ? b64chars[v & 63] : '=');
    }
    b->len = (size_t)(q - b->p);
    b->p[b->len] = 0;
}

/* X-Spam-Result: base64 of the reply in 60-character pieces, each further
 * piece on a continuation line (line ending + TAB), as rspamc writes it. */
static void put_result(plan *p, const rk_result *r, rk_emit_format fmt)
{
    size_t len;
    char *s = rk_emit(r->json, fmt, &len);
    if (!s) {
        p->oom = 1;
        return;
    }
    rk_buf e = {0};
    put_base64(p, &e, (const unsigned char *)s, len);
    free(s);
    field_begin(p, "X-Spam-Result");
    for (size_t i = 0; !p->oom && i < e.len; i += 60) {
        if (i) {
            puts_(p, &p->added, p->eoh.eol);
            put(p, &p->added, "\t", 1);
        }
        put(p, &p->added, e.p + i, e.len - i < 60 ? e.len - i : 60);
    }
    field_end(p);
    rk_buf_free(&e);
}

/* RFC 2047 encoded words (UTF-8, base64) for a value with 8-bit or control
 * bytes; whole UTF-8 sequences per word. */
static void put_encoded_words(plan *p, rk_buf *b, const char *v)
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
            puts_(p, b, p->eoh.eol);
            put(p, b, " ", 1);
        }
        puts_(p, b, "=?UTF-8?B?");
        put_base64(p, b, s + i, k);
        puts_(p, b, "?=");
        i += k;
        first = 0;
    }
}

static void put_subject_value(plan *p, rk_buf *b, const char *subject)
{
    int plain = 1;
    for (const unsigned char *s = (const unsigned char *)subject; *s; s++)
        if (*s >= 127 || (*s < 32 && *s != '\t'))
            plain = 0;
    if (plain)
        puts_(p, b, subject);
    else
        put_encoded_words(p, b, subject);
}

static int is_rewrite_subject(const char *a)
{
    return a && (strcasecmp(a, "rewrite subject") == 0 || strcasecmp(a, "rewrite_subject") == 0);
}

static void put_rspamc_set(plan *p, const rk_result *r, double elapsed)
{
    rk_buf *b = &p->added;
    field_begin(p, "X-Spam-Scan-Time");
    put_printf(p, b, "%.3g", elapsed);
    field_end(p);
    if (rk_action_is_spam(r->action) == 1)
        add_field(p, "X-Spam", "yes");
    add_field(p, "X-Spam-Action", r->action ? r->action : "no action");
    field_begin(p, "X-Spam-Score");
    put_printf(p, b, "%.2f / %.2f", r->has_score ? r->score : 0.0,
               r->has_required ? r->required_score : 0.0);
    field_end(p);
    field_begin(p, "X-Spam-Level");
    double sc = r->has_score ? r->score : 0.0;
    if (sc > 32)
        sc = 32;
    for (; sc > 0; sc -= 1.0)
        put(p, b, "*", 1);
    field_end(p);
    field_begin(p, "X-Spam-Symbols");
    for (size_t i = 0; i < r->n_symbols; i++) {
        if (i) {
            put(p, b, ",", 1);
            puts_(p, b, p->eoh.eol);
            put(p, b, "\t", 1);
        }
        put_value(p, b, r->symbols[i].name);
    }
    field_end(p);
}

static void put_sa_set(plan *p, const rk_result *r)
{
    rk_buf *b = &p->added;
    int spam = rk_action_is_spam(r->action) == 1;
    double sc = r->has_score ? r->score : 0.0;
    if (spam)
        add_field(p, "X-Spam-Flag", "YES");
    size_t line0 = b->len;
    field_begin(p, "X-Spam-Status");
    put_printf(p, b, "%s, score=%.1f required=%.1f tests=", spam ? "Yes" : "No", sc,
               r->has_required ? r->required_score : 0.0);
    size_t col = b->len - line0;
    if (!r->n_symbols)
        puts_(p, b, "none");
    for (size_t i = 0; i < r->n_symbols; i++) {
        size_t n = strlen(r->symbols[i].name);
        if (i) {
            put(p, b, ",", 1);
            col++;
            if (col + n > 78) {
                puts_(p, b, p->eoh.eol);
                put(p, b, "\t", 1);
                col = 8;
            }
        }
        put_value(p, b, r->symbols[i].name);
        col += n;
    }
    field_end(p);
    field_begin(p, "X-Spam-Level");
    double stars = floor(sc);
    for (int i = 0; i < 50 && i < stars; i++)
        put(p, b, "*", 1);
    field_end(p);
}

/* rspamc --mime adds the reply's milter.add_headers from Rspamd 3.14 on;
 * `keep_existing` in the rspamc style is its output, so it follows the
 * server's version (unknown: 0, as a current rspamc).  Otherwise they are
 * applied as a milter applies them, whatever the version. */
#define RK_RSPAMC_MILTER_ADD 31400

static int adds_milter_headers(const rk_message_opts *o)
{
    return !o->keep_existing || o->style != RK_STYLE_RSPAMC || !o->server_version ||
           o->server_version >= RK_RSPAMC_MILTER_ADD;
}

static void plan_clear(plan *p)
{
    free(p->f);
    free(p->lines);
    rk_buf_free(&p->added);
    rk_buf_free(&p->subject);
    memset(p, 0, sizeof *p);
}

/* Work out the edits. Returns 0, or -1 (out of memory; p is cleared). */
static int plan_build(plan *p, const unsigned char *msg, size_t len, const rk_result *r,
                      const rk_message_opts *o)
{
    memset(p, 0, sizeof *p);
    if (r && r->rewritten) {
        msg = r->rewritten;
        len = r->rewritten_len;
    }
    p->msg = msg;
    p->len = len;
    rk_find_eoh(msg, len, &p->eoh);
    if (p->eoh.pos &&
        !(p->f = parse_fields(msg, p->eoh.pos, strcmp(p->eoh.eol, "\r") == 0 ? '\r' : '\n', &p->nf)))
        return -1;
    const char *new_subject = NULL;
    if (!o->keep_existing) {
        const char *const *own = o->style == RK_STYLE_SPAMASSASSIN ? sa_names : rspamc_names;
        for (const char *const *n = own; *n; n++)
            drop_named(msg, p->f, p->nf, *n);
        if (r) {
            for (size_t i = 0; i < r->n_milter_add; i++)
                if (valid_header_name(r->milter_add[i].name) &&
                    !in_list(r->milter_add[i].name, keep_names))
                    drop_named(msg, p->f, p->nf, r->milter_add[i].name);
            for (size_t i = 0; i < r->n_milter_remove; i++)
                drop_milter(msg, p->f, p->nf, &r->milter_remove[i]);
            if (r->subject && !r->rewritten && is_rewrite_subject(r->action)) {
                new_subject = r->subject;
                for (size_t i = 0; i < p->nf && !p->replace; i++)
                    if (!p->f[i].drop && name_is(msg, &p->f[i], "Subject"))
                        p->replace = i + 1;
            }
        }
    }

    /* The added block. */
    add_field(p, "X-Spam-Scanner", o->scanner ? o->scanner : "rspamkit " PACKAGE_VERSION);
    if (r) {
        if (o->style == RK_STYLE_SPAMASSASSIN)
            put_sa_set(p, r);
        else
            put_rspamc_set(p, r, o->elapsed);
        for (size_t i = 0; i < r->n_dkim; i++)
            add_field(p, "DKIM-Signature", r->dkim[i]);
        /* In the spamassassin style, the server's X-Spam-Status or X-Spam-Level (its
         * milter_headers routines) would be a second copy of ours: spamc gives one. */
        for (size_t i = 0; adds_milter_headers(o) && i < r->n_milter_add; i++)
            if (valid_header_name(r->milter_add[i].name) &&
                !(o->style == RK_STYLE_SPAMASSASSIN && in_list(r->milter_add[i].name, sa_names)))
                add_field(p, r->milter_add[i].name, r->milter_add[i].value);
        if (new_subject && !p->replace) {
            field_begin(p, "Subject");
            put_subject_value(p, &p->added, new_subject);
            field_end(p);
        }
        if (o->result && r->json)
            put_result(p, r, o->result_format);
    } else {
        field_begin(p, "X-Spam-Scan-Time");
        put_printf(p, &p->added, "%.3f", o->elapsed);
        field_end(p);
        add_field(p, "X-Spam-Error", o->error ? o->error : "scan failed");
    }
    if (p->replace) {
        puts_(p, &p->subject, "Subject: ");
        put_subject_value(p, &p->subject, new_subject);
        puts_(p, &p->subject, p->eoh.eol);
    }
    if (p->oom) {
        plan_clear(p);
        return -1;
    }
    return 0;
}

/* ================================================================ edits */

RK_API void rk_edits_clear(rk_edits *e)
{
    if (!e)
        return;
    free(e->v);
    free(e->strings_);
    memset(e, 0, sizeof *e);
}

/* 1-based position of f[i] among the fields of its name (only among those
 * not removed, with `kept`). */
static size_t field_index(const plan *p, size_t i, int kept)
{
    size_t k = 0;
    for (size_t j = 0; j <= i; j++)
        k += same_name(p->msg, &p->f[j], &p->f[i]) && !(kept && p->f[j].drop);
    return k;
}

static char *copy_str(char **arena, const void *s, size_t n)
{
    char *d = *arena;
    memcpy(d, s, n);
    d[n] = 0;
    *arena += n + 1;
    return d;
}

RK_API int rk_message_edits_sized(const unsigned char *msg, size_t len, const rk_result *r,
                                  const rk_message_opts *caller, size_t o_size, rk_edits *out,
                                  rk_error *err)
{
    memset(out, 0, sizeof *out);
    rk_message_opts o = {0};
    if (rk_sized_in(&o, sizeof o, caller, o_size, err))
        return -1;
    plan p;
    if (plan_build(&p, msg, len, r, &o))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    size_t n = p.n_lines + (p.replace ? 1 : 0), bytes = p.added.len + p.subject.len + 2 * n;
    for (size_t i = 0; i < p.nf; i++)
        if (p.f[i].drop) {
            n++;
            bytes += p.f[i].name_len + 1;
        }
    out->eol = p.eoh.eol;
    out->v = calloc(n ? n : 1, sizeof *out->v);
    out->strings_ = malloc(bytes + 1);
    if (!out->v || !out->strings_) {
        plan_clear(&p);
        rk_edits_clear(out);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    char *a = out->strings_;
    for (size_t i = p.nf; i-- > 0;)
        if (p.f[i].drop)
            out->v[out->n++] = (rk_edit){RK_EDIT_REMOVE,
                                         copy_str(&a, p.msg + p.f[i].start, p.f[i].name_len),
                                         field_index(&p, i, 0), NULL};
    if (p.replace) {
        const char *s = (const char *)p.subject.p;
        size_t vlen = p.subject.len - strlen("Subject: ") - strlen(p.eoh.eol);
        out->v[out->n].kind = RK_EDIT_CHANGE;
        out->v[out->n].index = field_index(&p, p.replace - 1, 1);
        out->v[out->n].name = copy_str(&a, s, strlen("Subject"));
        out->v[out->n++].value = copy_str(&a, s + strlen("Subject: "), vlen);
    }
    for (size_t i = 0; i < p.n_lines; i++) {
        const line *l = &p.lines[i];
        const char *s = (const char *)p.added.p;
        out->v[out->n].kind = RK_EDIT_ADD;
        out->v[out->n].index = 0;
        out->v[out->n].name = copy_str(&a, s + l->start, l->name_len);
        out->v[out->n++].value = copy_str(&a, s + l->value, l->value_end - l->value);
    }
    plan_clear(&p);
    return 0;
}

/* ============================================================== rewrite */

RK_API void rk_rewrite_clear(rk_rewrite *o)
{
    if (!o)
        return;
    free(o->iov);
    free(o->added_);
    free(o->subject_);
    memset(o, 0, sizeof *o);
}

static int slice(rk_rewrite *o, const void *p, size_t n)
{
    if (!n)
        return 0;
    if (o->n == o->cap_) {
        size_t cap = o->cap_ ? o->cap_ * 2 : 16;
        struct iovec *v = realloc(o->iov, cap * sizeof *v);
        if (!v)
            return -1;
        o->iov = v;
        o->cap_ = cap;
    }
    o->iov[o->n].iov_base = (void *)p;
    o->iov[o->n++].iov_len = n;
    o->total += n;
    return 0;
}

RK_API int rk_message_rewrite_sized(const unsigned char *msg, size_t len, const rk_result *r,
                                    const rk_message_opts *caller, size_t o_size, rk_rewrite *out,
                                    rk_error *err)
{
    memset(out, 0, sizeof *out);
    rk_message_opts o = {0};
    if (rk_sized_in(&o, sizeof o, caller, o_size, err))
        return -1;
    plan p;
    if (plan_build(&p, msg, len, r, &o))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    /* Kept header bytes, the added block, the rest untouched. */
    size_t cur = 0;
    int rc = 0;
    for (size_t i = 0; i < p.nf; i++) {
        if (!p.f[i].drop && p.replace != i + 1)
            continue;
        rc |= slice(out, p.msg + cur, p.f[i].start - cur);
        if (p.replace == i + 1)
            rc |= slice(out, p.subject.p, p.subject.len);
        cur = p.f[i].end;
    }
    rc |= slice(out, p.msg + cur, p.eoh.pos - cur);
    /* the last line lacks its line ending only if it is kept as it was
     * (removed or replaced, what comes before it ends with one) */
    if (p.eoh.need_eol && cur < p.eoh.pos)
        rc |= slice(out, p.eoh.eol, strlen(p.eoh.eol));
    rc |= slice(out, p.added.p, p.added.len);
    rc |= slice(out, p.msg + p.eoh.pos, p.len - p.eoh.pos);
    out->added_ = (char *)p.added.p;
    out->subject_ = (char *)p.subject.p;
    p.added.p = p.subject.p = NULL;
    plan_clear(&p);
    if (rc) {
        rk_rewrite_clear(out);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    return 0;
}
