/* HTTP/1.x response parsing. The server always closes the connection and
 * always sends Content-Length; chunked replies are not produced by Rspamd. */
#include "internal.h"
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Length of the header block including its terminating empty line, or 0. */
static size_t head_len(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n')
            return i + 2;
        if (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static long long content_length(const unsigned char *p, size_t hl)
{
    size_t i = 0;
    while (i < hl) {
        const unsigned char *eol = memchr(p + i, '\n', hl - i);
        size_t ll = eol ? (size_t)(eol - (p + i)) : hl - i;
        if (ll > 15 && strncasecmp((const char *)p + i, "Content-Length:", 15) == 0) {
            long long v = 0;
            size_t k = i + 15;
            while (k < i + ll && (p[k] == ' ' || p[k] == '\t'))
                k++;
            if (k >= i + ll || p[k] < '0' || p[k] > '9')
                return -2;
            for (; k < i + ll && p[k] >= '0' && p[k] <= '9'; k++) {
                v = v * 10 + (p[k] - '0');
                if (v > (1LL << 40))
                    return -2;
            }
            return v;
        }
        i += ll + 1;
    }
    return -1;
}

int rk_http_complete(const unsigned char *p, size_t len)
{
    size_t hl = head_len(p, len);
    if (!hl)
        return 0;
    long long cl = content_length(p, hl);
    return cl >= 0 && len - hl >= (size_t)cl;
}

int rk_http_parse_response(const unsigned char *p, size_t len, rk_response *resp, rk_error *err)
{
    size_t hl = head_len(p, len);
    if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || p[9] < '1' || p[9] > '5' ||
        p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return rk_fail(err, RK_ERR_PROTOCOL, "not an HTTP reply");
    if (!hl)
        return rk_fail(err, RK_ERR_RECV, "reply headers incomplete (connection closed)");
    resp->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    const unsigned char *eol = memchr(p, '\n', hl);
    size_t sl = (size_t)(eol - p);
    if (sl && p[sl - 1] == '\r')
        sl--;
    size_t rs = sl > 12 ? 13 : sl;
    resp->reason = strndup((const char *)p + rs, sl - rs);
    if (!resp->reason)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    size_t i = (size_t)(eol - p) + 1;
    while (i < hl) {
        const unsigned char *e = memchr(p + i, '\n', hl - i);
        size_t ll = (size_t)(e - (p + i));
        size_t l2 = ll && p[i + ll - 1] == '\r' ? ll - 1 : ll;
        if (l2 == 0)
            break;
        const unsigned char *colon = memchr(p + i, ':', l2);
        if (!colon)
            return rk_fail(err, RK_ERR_PROTOCOL, "malformed reply header line");
        size_t nl = (size_t)(colon - (p + i));
        size_t vs = nl + 1;
        while (vs < l2 && (p[i + vs] == ' ' || p[i + vs] == '\t'))
            vs++;
        if (rk_headers_addn(&resp->headers, (const char *)p + i, nl, (const char *)p + i + vs,
                            l2 - vs))
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
        i += ll + 1;
    }
    long long cl = content_length(p, hl);
    if (cl == -2)
        return rk_fail(err, RK_ERR_PROTOCOL, "invalid Content-Length");
    size_t blen = len - hl;
    if (cl >= 0) {
        if ((size_t)cl > blen)
            return rk_fail(err, RK_ERR_RECV, "reply truncated: %zu of %lld body bytes", blen, cl);
        blen = (size_t)cl;
    }
    resp->body = malloc(blen + 1);
    if (!resp->body)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    memcpy(resp->body, p + hl, blen);
    resp->body[blen] = 0;
    resp->body_len = blen;
    return 0;
}
