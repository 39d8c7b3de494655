/* Buffers, errors, headers and small helpers. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

RK_API const char *rk_version(void) { return PACKAGE_VERSION; }

int rk_buf_reserve(rk_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int rk_buf_append(rk_buf *b, const void *data, size_t len)
{
    if (rk_buf_reserve(b, len))
        return -1;
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = 0;
    return 0;
}

int rk_buf_puts(rk_buf *b, const char *s) { return rk_buf_append(b, s, strlen(s)); }

int rk_buf_printf(rk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || rk_buf_reserve(b, (size_t)n))
        return -1;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void rk_buf_free(rk_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int rk_fail(rk_error *err, rk_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int rk_sized_in(void *full, size_t full_size, const void *in, size_t size, rk_error *err)
{
    const unsigned char *b = in;
    for (size_t i = full_size; i < size; i++)
        if (b[i])
            return rk_fail(err, RK_ERR_USAGE,
                           "the program sets an option that librspamkit %s does not know: "
                           "it was built with a newer rspamkit.h",
                           PACKAGE_VERSION);
    memcpy(full, in, size < full_size ? size : full_size);
    return 0;
}

double rk_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

RK_API void rk_error_clear(rk_error *err)
{
    if (err) {
        err->code = RK_OK;
        err->http_status = 0;
        err->msg[0] = 0;
    }
}

RK_API const char *rk_status_name(rk_status code)
{
    static const char *const names[] = {
        "ok", "usage", "nomem", "input", "resolve", "connect", "timeout", "send",
        "recv", "protocol", "http", "auth", "server", "crypto", "unsupported",
    };
    return (unsigned)code < sizeof names / sizeof names[0] ? names[code] : "unknown";
}

RK_API int rk_headers_addn(rk_headers *h, const char *name, size_t nlen,
                           const char *value, size_t vlen)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        rk_header *v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    char *n = strndup(name, nlen), *val = strndup(value, vlen);
    if (!n || !val) {
        free(n);
        free(val);
        return -1;
    }
    h->v[h->n].name = n;
    h->v[h->n].value = val;
    h->n++;
    return 0;
}

RK_API int rk_headers_add(rk_headers *h, const char *name, const char *value)
{
    return rk_headers_addn(h, name, strlen(name), value, strlen(value));
}

RK_API const char *rk_headers_get(const rk_headers *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->v[i].name, name) == 0)
            return h->v[i].value;
    return NULL;
}

RK_API void rk_headers_clear(rk_headers *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].value);
    }
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

RK_API int rk_response_server_version(const rk_response *r)
{
    const char *v = rk_headers_get(&r->headers, "Server");
    int part[3] = {0, 0, 0}, n = 0;
    if (!v || strncasecmp(v, "rspamd/", 7) != 0)
        return 0;
    v += 7;
    while (n < 3 && *v >= '0' && *v <= '9') {
        int x = 0;
        while (*v >= '0' && *v <= '9' && x < 100)
            x = x * 10 + (*v++ - '0');
        if (x >= 100)
            return 0;
        part[n++] = x;
        if (*v != '.')
            break;
        v++;
    }
    return n ? part[0] * 10000 + part[1] * 100 + part[2] : 0;
}

RK_API void rk_response_clear(rk_response *r)
{
    free(r->reason);
    free(r->body);
    free(r->host);
    rk_headers_clear(&r->headers);
    memset(r, 0, sizeof *r);
}
