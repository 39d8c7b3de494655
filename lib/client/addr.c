/* Server address lists: host, host:port, [v6]:port, /socket, http(s)://... */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_port(const char *s, size_t len, int *port)
{
    if (len == 0 || len > 5)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

/* Parse one entry [s, s+len) into a. */
static int parse_one(const char *s, size_t len, rk_addr *a, rk_error *err)
{
    memset(a, 0, sizeof *a);
    a->spec = strndup(s, len);
    if (!a->spec)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    a->kind = RK_ADDR_TCP;
    const char *p = s, *end = s + len;
    int is_url = 0;

    if (len >= 7 && strncasecmp(s, "http://", 7) == 0) {
        p += 7;
        is_url = 1;
    } else if (len >= 8 && strncasecmp(s, "https://", 8) == 0) {
        p += 8;
        is_url = 1;
        a->kind = RK_ADDR_HTTPS;
    } else if (len > 0 && s[0] == '/') {
        a->kind = RK_ADDR_UNIX;
        a->host = strndup(s, len);
        a->prefix = strdup("");
        if (!a->host || !a->prefix)
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
        return 0;
    }

    const char *hend = end;
    if (is_url) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (slash) {
            hend = slash;
            const char *pe = end;
            while (pe > slash && pe[-1] == '/')
                pe--;
            a->prefix = strndup(slash, (size_t)(pe - slash));
        }
    }
    if (!a->prefix)
        a->prefix = strdup("");
    if (!a->prefix)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");

    const char *hs = p, *he = hend, *port = NULL;
    if (p < hend && *p == '[') {
        const char *rb = NULL;
        for (const char *q = hend; q > p; q--)
            if (q[-1] == ']') {
                rb = q - 1;
                break;
            }
        if (!rb)
            return rk_fail(err, RK_ERR_USAGE, "invalid server address '%s': missing ']'", a->spec);
        hs = p + 1;
        he = rb;
        if (rb + 1 < hend) {
            if (rb[1] != ':')
                return rk_fail(err, RK_ERR_USAGE, "invalid server address '%s'", a->spec);
            port = rb + 2;
        }
    } else {
        const char *c1 = memchr(p, ':', (size_t)(hend - p));
        const char *cl = NULL;
        for (const char *q = hend; q > p; q--)
            if (q[-1] == ':') {
                cl = q - 1;
                break;
            }
        /* More than one colon without brackets: a bare IPv6 literal. */
        if (c1 && c1 == cl) {
            he = c1;
            port = c1 + 1;
        }
    }
    if (he <= hs)
        return rk_fail(err, RK_ERR_USAGE, "invalid server address '%s': empty host", a->spec);
    if (port && parse_port(port, (size_t)(hend - port), &a->port))
        return rk_fail(err, RK_ERR_USAGE, "invalid server address '%s': bad port", a->spec);
    if (a->kind == RK_ADDR_HTTPS && a->port == 0)
        a->port = 443;
    a->host = strndup(hs, (size_t)(he - hs));
    if (!a->host)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return 0;
}

RK_API void rk_addrs_free(rk_addr *a, size_t n)
{
    if (!a)
        return;
    for (size_t i = 0; i < n; i++) {
        free(a[i].host);
        free(a[i].prefix);
        free(a[i].spec);
    }
    free(a);
}

RK_API int rk_addrs_parse(const char *spec, rk_addr **out, size_t *n, rk_error *err)
{
    *out = NULL;
    *n = 0;
    if (!spec || !*spec)
        return rk_fail(err, RK_ERR_USAGE, "empty server address");
    size_t cnt = 1;
    for (const char *p = spec; *p; p++)
        cnt += *p == ',';
    rk_addr *v = calloc(cnt, sizeof *v);
    if (!v)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    size_t k = 0;
    const char *p = spec;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0) {
            rk_addrs_free(v, k);
            return rk_fail(err, RK_ERR_USAGE, "invalid server list '%s': empty entry", spec);
        }
        if (parse_one(p, len, &v[k], err)) {
            rk_addrs_free(v, k + 1);
            return -1;
        }
        k++;
        if (!e)
            break;
        p = e + 1;
    }
    *out = v;
    *n = k;
    return 0;
}

RK_API int rk_addr_port(const rk_addr *a, int default_port)
{
    return a->port ? a->port : default_port;
}
