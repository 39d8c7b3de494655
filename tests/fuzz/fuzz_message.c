/*
 * libFuzzer harness for the message layer (lib/message/message.c): any
 * message plus any reply.  Input: one byte of options, the /checkv2 reply
 * (JSON) up to the first NUL byte, then the message.  Options: bit 0 the
 * SpamAssassin style (else rspamc's), bit 1 keep_existing, bit 2
 * X-Spam-Result in the format of bits 3-4, bit 5 the message is the
 * server's rewritten one (after Message-Offset), bit 6 a failed scan whose
 * error text is the reply.  Checked:
 *   - the body of the output (after the end of its header block, found as
 *     Rspamd finds it) is the body of the message, byte for byte;
 *   - the edits a milter would apply to the message's header block give
 *     exactly the header block of the rewritten output, every REMOVE and
 *     CHANGE naming a field that exists, every added name valid, and every
 *     line break in a value followed by a blank.
 */
#include "config.h"
#include "internal.h"
#include "message/message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct fld {
    const unsigned char *p;
    size_t len, name_len; /* name_len 0: not a field */
    unsigned char *own;   /* a changed field */
} fld;

/* A broken property: say which, show the output, abort. */
static void fail(const char *why, const unsigned char *out, size_t n)
{
    fprintf(stderr, "fuzz_message: %s; the output:\n", why);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, out[i] == '\n' ? "\\n\n" : out[i] >= 32 && out[i] < 127 ? "%c" : "\\x%02x",
                out[i]);
    fputc('\n', stderr);
    abort();
}

static int name_char(unsigned char c) { return c > 32 && c < 127 && c != ':'; }

/* The fields of [p, p+n), lines ending with `term`. */
static fld *fields(const unsigned char *p, size_t n, unsigned char term, size_t *nf)
{
    fld *f = calloc(n + 1, sizeof *f);
    size_t k = 0, i = 0;
    while (i < n) {
        const unsigned char *t = memchr(p + i, term, n - i);
        size_t le = t ? (size_t)(t - p) + 1 : n;
        if (k && strchr(" \t\r\n\v\f", p[i]) && p[i]) {
            f[k - 1].len = le - (size_t)(f[k - 1].p - p);
        } else {
            size_t j = i;
            while (j < le && name_char(p[j]))
                j++;
            size_t nl = j - i;
            while (j < le && (p[j] == ' ' || p[j] == '\t'))
                j++;
            f[k++] = (fld){p + i, le - i, j < le && p[j] == ':' ? nl : 0, NULL};
        }
        i = le;
    }
    *nf = k;
    return f;
}

/* The index-th (1-based) field called `name`, or nf. */
static size_t find(const fld *f, size_t nf, const char *name, size_t index)
{
    size_t seen = 0;
    for (size_t i = 0; i < nf; i++)
        if (f[i].name_len == strlen(name) &&
            strncasecmp((const char *)f[i].p, name, f[i].name_len) == 0 && ++seen == index)
            return i;
    return nf;
}

static void check_value(const char *v, const char *eol)
{
    size_t el = strlen(eol);
    for (const char *s = v; *s; s++)
        if (*s == '\r' || *s == '\n') {
            if (strncmp(s, eol, el) != 0 || (s[el] != ' ' && s[el] != '\t'))
                abort();
            s += el - 1;
        }
}

static void check(const unsigned char *msg, size_t len, const rk_result *r,
                  const rk_message_opts *o)
{
    rk_rewrite rw;
    rk_edits ed;
    rk_error e;
    if (rk_message_rewrite(msg, len, r, o, &rw, &e))
        return;
    if (rk_message_edits(msg, len, r, o, &ed, &e)) {
        rk_rewrite_clear(&rw);
        return;
    }
    if (r && r->rewritten) {
        msg = r->rewritten;
        len = r->rewritten_len;
    }
    unsigned char *out = malloc(rw.total + 1), *q = out;
    for (size_t i = 0; i < rw.n; i++) {
        memcpy(q, rw.iov[i].iov_base, rw.iov[i].iov_len);
        q += rw.iov[i].iov_len;
    }
    if ((size_t)(q - out) != rw.total)
        abort();

    /* the body */
    rk_eoh in, ou;
    rk_find_eoh(msg, len, &in);
    rk_find_eoh(out, rw.total, &ou);
    size_t body = len - in.pos;
    if (rw.total - ou.pos != body || memcmp(out + ou.pos, msg + in.pos, body) != 0)
        fail("the body changed", out, rw.total);
    if (strcmp(ed.eol, in.eol) != 0)
        fail("the edits' line ending is not the message's", out, rw.total);

    /* the edits, applied to the header block, give the output's */
    size_t nf;
    fld *f = fields(msg, in.pos, strcmp(in.eol, "\r") == 0 ? '\r' : '\n', &nf);
    rk_buf hb = {0};
    size_t i = 0;
    for (; i < ed.n && ed.v[i].kind == RK_EDIT_REMOVE; i++) {
        size_t k = find(f, nf, ed.v[i].name, ed.v[i].index);
        if (k == nf || ed.v[i].value)
            abort();
        memmove(f + k, f + k + 1, (nf - k - 1) * sizeof *f);
        nf--;
    }
    for (; i < ed.n && ed.v[i].kind == RK_EDIT_CHANGE; i++) {
        size_t k = find(f, nf, ed.v[i].name, ed.v[i].index);
        if (k == nf || f[k].own)
            abort();
        check_value(ed.v[i].value, ed.eol);
        size_t n = strlen(ed.v[i].name) + 2 + strlen(ed.v[i].value) + strlen(ed.eol);
        f[k].own = malloc(n + 1);
        snprintf((char *)f[k].own, n + 1, "%s: %s%s", ed.v[i].name, ed.v[i].value, ed.eol);
        f[k].p = f[k].own;
        f[k].len = n;
    }
    for (size_t k = 0; k < nf; k++)
        rk_buf_append(&hb, f[k].p, f[k].len);
    if (hb.len && hb.p[hb.len - 1] != '\n' && hb.p[hb.len - 1] != '\r' && i < ed.n)
        rk_buf_append(&hb, ed.eol, strlen(ed.eol)); /* headers only, no final line break */
    for (; i < ed.n; i++) {
        if (ed.v[i].kind != RK_EDIT_ADD || !*ed.v[i].name)
            abort();
        for (const char *c = ed.v[i].name; *c; c++)
            if (!name_char((unsigned char)*c))
                abort();
        check_value(ed.v[i].value, ed.eol);
        rk_buf_append(&hb, ed.v[i].name, strlen(ed.v[i].name));
        rk_buf_append(&hb, ": ", 2);
        rk_buf_append(&hb, ed.v[i].value, strlen(ed.v[i].value));
        rk_buf_append(&hb, ed.eol, strlen(ed.eol));
    }
    if (hb.len != rw.total - body || memcmp(hb.p, out, hb.len) != 0)
        fail("the edits do not give the output's header block", out, rw.total);

    for (size_t k = 0; k < nf; k++)
        free(f[k].own);
    free(f);
    rk_buf_free(&hb);
    free(out);
    rk_edits_clear(&ed);
    rk_rewrite_clear(&rw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    unsigned fl = data[0];
    const unsigned char *rep = data + 1, *nul = memchr(rep, 0, size - 1);
    size_t rlen = nul ? (size_t)(nul - rep) : 0;
    const unsigned char *msg = nul ? nul + 1 : rep;
    size_t len = size - (size_t)(msg - data);

    rk_message_opts o = {.style = fl & 1 ? RK_STYLE_SPAMASSASSIN : RK_STYLE_RSPAMC,
                         .keep_existing = !!(fl & 2),
                         .result = !!(fl & 4),
                         .result_format = (rk_emit_format)((fl >> 3) % 3),
                         .elapsed = 0.25};
    rk_result r;
    rk_error e;
    int have = 0;
    unsigned char *buf = NULL;
    if (fl & 64) {
        char *err = malloc(rlen + 1);
        memcpy(err, rep, rlen);
        err[rlen] = 0;
        o.error = err;
        check(msg, len, NULL, &o);
        free(err);
        return 0;
    }
    if (rlen && (fl & 32)) { /* the reply, then the rewritten message */
        buf = malloc(size);
        memcpy(buf, rep, rlen);
        memcpy(buf + rlen, msg, len);
        have = rk_result_parse(buf, rlen + len, rlen, RK_RESULT_TREE, &r, &e) == 0;
        if (have && r.rewritten)
            msg = NULL, len = 0;
    } else if (rlen) {
        have = rk_result_parse(rep, rlen, 0, RK_RESULT_TREE, &r, &e) == 0;
    }
    check(msg, len, have ? &r : NULL, &o);
    if (have)
        rk_result_clear(&r);
    free(buf);
    return 0;
}
