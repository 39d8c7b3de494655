/*
 * libFuzzer harness for what the spamc mode writes (tools/spamc.c): the
 * message with SpamAssassin's headers, the -B envelope, the -c/-R report.
 * Input: one byte of options (bit 0: -B), the /checkv2 reply up to the
 * first NUL byte, then spamc's input.  Checked: the output is the message
 * layer's rewrite (SpamAssassin style) with one X-Spam-Checker-Version line
 * before X-Spam-Scanner; with -B, the output read back as BSMTP gives that
 * message again, dot-stuffing undone, in the envelope it came in.
 */
#include "config.h"
#include "spamc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *flat(const struct iovec *v, size_t n, size_t *len)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += v[i].iov_len;
    unsigned char *p = malloc(t + 1), *q = p;
    for (size_t i = 0; i < n; i++) {
        memcpy(q, v[i].iov_base, v[i].iov_len);
        q += v[i].iov_len;
    }
    *len = t;
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    const unsigned char *rep = data + 1, *nul = memchr(rep, 0, size - 1);
    if (!nul)
        return 0;
    const unsigned char *raw = nul + 1, *msg = raw;
    size_t rlen = (size_t)(nul - rep), raw_len = size - (size_t)(raw - data), len = raw_len;
    rk_result r;
    rk_error e;
    if (rk_result_parse(rep, rlen, 0, 0, &r, &e))
        return 0;
    char *s = NULL;
    size_t sn = 0;
    FILE *f = open_memstream(&s, &sn);
    sc_put_score(f, &r);
    sc_put_report(f, &r);
    fclose(f);
    free(s);

    sc_bsmtp b = {0};
    unsigned char *body = NULL;
    if ((data[0] & 1) && sc_bsmtp_parse(raw, raw_len, &body, &len, &b) == 0)
        msg = body;
    rk_rewrite out, plain;
    struct iovec *v;
    size_t n;
    char *checker;
    rk_message_opts mo = {.style = RK_STYLE_SPAMASSASSIN, .scanner = "rspamkit " PACKAGE_VERSION};
    if (sc_message(msg, len, &r, "host", &out, &v, &n, &checker) == 0 &&
        rk_message_rewrite(msg, len, &r, &mo, &plain, &e) == 0) {
        size_t ol, pl;
        unsigned char *o = flat(v, n, &ol), *p = flat(plain.iov, plain.n, &pl);
        size_t cl = strlen(checker), k = 0, i = 0; /* where the added fields start */
        for (; i < plain.n && plain.iov[i].iov_base != plain.added_; i++)
            k += plain.iov[i].iov_len;
        if (i == plain.n || ol != pl + cl || memcmp(o, p, k) || memcmp(o + k, checker, cl) ||
            memcmp(o + k + cl, p + k, pl - k) || strncmp(checker, "X-Spam-Checker-Version: ", 24))
            abort();
        if (body) {
            size_t wl, ml;
            unsigned char *w = sc_bsmtp_wrap(raw, &b, v, n, &wl), *m;
            sc_bsmtp b2;
            if (sc_bsmtp_parse(w, wl, &m, &ml, &b2) || ml != ol || memcmp(m, o, ol) ||
                b2.pre_len != b.pre_len || memcmp(w, raw, b.pre_len) ||
                b2.post_len != b.post_len || memcmp(b2.post, b.post, b.post_len))
                abort();
            free(m);
            free(w);
        }
        free(o);
        free(p);
        free(v);
        free(checker);
        rk_rewrite_clear(&out);
        rk_rewrite_clear(&plain);
    }
    free(body);
    rk_result_clear(&r);
    return 0;
}
