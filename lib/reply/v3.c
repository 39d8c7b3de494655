/* /checkv3, rspamc 4.1's --protocol-v3 (Rspamd 4.0 and later).
 *
 * The request is multipart/form-data with a "metadata" part (the SMTP
 * envelope and the options, JSON or msgpack) and a "message" part (the
 * message, zstd-compressed or not).  The reply is multipart/form-data too:
 * a "result" part (the /checkv2 reply, in the encoding of the metadata) and,
 * when a rule rewrote the message, a "body" part.  The layout of both
 * follows rspamc 4.1.5 and Rspamd 4.1.5 (src/client/rspamdclient.c,
 * src/libserver/protocol.c). */
#include "internal.h"
#include "reply/reply.h"
#include "transport/transport.h"
#include "ucl/ucl.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ the request */

/* The metadata fields taken from request headers, in rspamc's order. */
static const struct {
    const char *header, *field;
} scalar_fields[] = {
    {"From", "from"}, {"Rcpt", "rcpt"}, {"Ip", "ip"}, {"Helo", "helo"},
    {"Hostname", "hostname"}, {"User", "user"}, {"Deliver-To", "deliver_to"},
    {"Queue-Id", "queue_id"}, {"Log-Tag", "log_tag"}, {"Settings", "settings"},
    {"Settings-Id", "settings_id"},
};
#define N_SCALAR (sizeof scalar_fields / sizeof *scalar_fields)

static int add_string(rk_ucl *obj, const char *key, const char *s, size_t len)
{
    rk_ucl *v = rk_ucl_new_string(s, len);
    if (!v || rk_ucl_insert(obj, v, key, strlen(key))) {
        rk_ucl_free(v);
        return -1;
    }
    return 0;
}

/* The flags of a Flags header value (comma and blank separated), less
 * body_block: a /checkv3 reply always has the rewritten message. */
static int add_flags(rk_ucl *arr, const char *s, int (*keep)(const char *, size_t))
{
    while (*s) {
        size_t n = strcspn(s, ", \t");
        if (n && keep(s, n) && !(n == 10 && strncasecmp(s, "body_block", 10) == 0)) {
            rk_ucl *v = rk_ucl_new_string(s, n);
            if (!v || rk_ucl_arr_append(arr, v)) {
                rk_ucl_free(v);
                return -1;
            }
        }
        s += n;
        s += strspn(s, ", \t");
    }
    return 0;
}

static int is_known_flag(const char *s, size_t n)
{
    return (n == 8 && strncasecmp(s, "pass_all", 8) == 0) ||
           (n == 8 && strncasecmp(s, "ext_urls", 8) == 0) ||
           (n == 7 && strncasecmp(s, "profile", 7) == 0);
}
static int is_other_flag(const char *s, size_t n) { return !is_known_flag(s, n); }
static int flag_is(const char *s, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp(s, want, n) == 0;
}
static int keep_pass_all(const char *s, size_t n) { return flag_is(s, n, "pass_all"); }
static int keep_ext_urls(const char *s, size_t n) { return flag_is(s, n, "ext_urls"); }
static int keep_profile(const char *s, size_t n) { return flag_is(s, n, "profile"); }

/* Is header i of `base` carried by the metadata (and so not sent as an HTTP
 * header)?  `settings` says whether the Settings value parsed. */
static int in_metadata(const rk_header *h, int settings)
{
    if (strcasecmp(h->name, "Settings") == 0)
        return settings;
    if (strcasecmp(h->name, "URL-Format") == 0)
        return strcasecmp(h->value, "extended") == 0;
    if (strcasecmp(h->name, "Raw") == 0 || strcasecmp(h->name, "Flags") == 0)
        return 1;
    for (size_t i = 0; i < N_SCALAR; i++)
        if (strcasecmp(h->name, scalar_fields[i].header) == 0)
            return 1;
    return 0;
}

/* The metadata object of rspamc 4.1's --protocol-v3 for the request headers
 * `base` and the --metadata-header items.  *settings_ok: a Settings header
 * was parsed into it. */
static rk_ucl *metadata(const rk_headers *base, const char *const *meta, size_t n_meta,
                        int *settings_ok)
{
    rk_ucl *top = rk_ucl_node(RK_UCL_OBJECT, 0);
    if (!top)
        return NULL;
    *settings_ok = 0;
    for (size_t f = 0; f < N_SCALAR; f++) {
        const char *field = scalar_fields[f].field;
        rk_ucl *arr = NULL;
        for (size_t i = 0; base && i < base->n; i++) {
            const rk_header *h = &base->v[i];
            if (strcasecmp(h->name, scalar_fields[f].header) != 0)
                continue;
            if (strcmp(field, "rcpt") == 0) { /* every Rcpt, as an array */
                if (!arr && (!(arr = rk_ucl_node(RK_UCL_ARRAY, 0)) ||
                             rk_ucl_insert(top, arr, "rcpt", 4))) {
                    rk_ucl_free(arr);
                    goto fail;
                }
                rk_ucl *v = rk_ucl_new_string(h->value, strlen(h->value));
                if (!v || rk_ucl_arr_append(arr, v)) {
                    rk_ucl_free(v);
                    goto fail;
                }
                continue;
            }
            if (strcmp(field, "settings") == 0) {
                /* parsed as UCL, as rspamc does; a value that does not
                 * parse stays the HTTP header Settings */
                rk_ucl *s = NULL;
                if (rk_ucl_parse_buffer(h->value, strlen(h->value), NULL, NULL, &s, NULL) == 0) {
                    if (rk_ucl_insert(top, s, "settings", 8)) {
                        rk_ucl_free(s);
                        goto fail;
                    }
                    *settings_ok = 1;
                }
            } else if (add_string(top, field, h->value, strlen(h->value))) {
                goto fail;
            }
            break; /* the first one counts */
        }
    }
    int raw = 0, ext = 0;
    for (size_t i = 0; base && i < base->n; i++) {
        raw |= strcasecmp(base->v[i].name, "Raw") == 0;
        ext |= strcasecmp(base->v[i].name, "URL-Format") == 0 &&
               strcasecmp(base->v[i].value, "extended") == 0;
    }
    if (raw) {
        rk_ucl *v = rk_ucl_new_bool(1);
        if (!v || rk_ucl_insert(top, v, "raw", 3)) {
            rk_ucl_free(v);
            goto fail;
        }
    }
    /* flags: pass_all, ext_urls, profile in rspamc's order, then the others */
    rk_ucl *flags = rk_ucl_node(RK_UCL_ARRAY, 0);
    if (!flags)
        goto fail;
    int (*const order[])(const char *, size_t) = {keep_pass_all, keep_ext_urls, keep_profile,
                                                  is_other_flag};
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        if (k == 1 && ext && add_flags(flags, "ext_urls", keep_ext_urls))
            goto fail_flags;
        for (size_t i = 0; base && i < base->n; i++)
            if (strcasecmp(base->v[i].name, "Flags") == 0 &&
                add_flags(flags, base->v[i].value, order[k]))
                goto fail_flags;
    }
    if (flags->v.av->n == 0)
        rk_ucl_free(flags);
    else if (rk_ucl_insert(top, flags, "flags", 5))
        goto fail_flags;
    /* --metadata-header K=V or K:V; K alone has an empty value; "" is no key */
    rk_ucl *hdrs = NULL;
    for (size_t i = 0; i < n_meta; i++) {
        const char *s = meta[i];
        size_t k = strcspn(s, ":=");
        if (k == 0)
            continue;
        if (!hdrs && (!(hdrs = rk_ucl_node(RK_UCL_OBJECT, 0)) ||
                      rk_ucl_insert(top, hdrs, "headers", 7))) {
            rk_ucl_free(hdrs);
            goto fail;
        }
        const char *val = s[k] ? s + k + 1 : "";
        rk_ucl *v = rk_ucl_new_string(val, strlen(val));
        if (!v || rk_ucl_insert(hdrs, v, s, k)) {
            rk_ucl_free(v);
            goto fail;
        }
    }
    return top;
fail_flags:
    rk_ucl_free(flags);
fail:
    rk_ucl_free(top);
    return NULL;
}

static int random_boundary(char *out, size_t size)
{
    uint64_t r[2];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* no entropy source: still unlikely to be in the message, and checked */
        r[0] = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
        r[1] = (uint64_t)clock() ^ (uintptr_t)out;
    }
    return snprintf(out, size, "rspamkit-v3-%016" PRIx64 "-%016" PRIx64, r[0], r[1]);
}

RK_API int rk_scan_request_v3(rk_request *req, rk_headers *h, const rk_headers *base,
                              const char *const *meta, size_t n_meta, unsigned flags,
                              const unsigned char *msg, size_t len, unsigned char **body,
                              rk_error *err)
{
    *body = NULL;
    int settings_ok = 0, rc = -1;
    rk_buf md = {0}, z = {0}, b = {0};
    rk_ucl *top = metadata(base, meta, n_meta, &settings_ok);
    if (!top)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    /* Rspamd 4.1.5 cannot read an empty msgpack map: an empty metadata goes
     * as JSON (rspamc 4.1.5 sends the map and gets "cannot parse metadata") */
    int msgpack = (flags & RK_V3_MSGPACK) && top->v.ov->n > 0;
    if (msgpack) {
        if (rk_ucl_emit_msgpack(top, &md))
            goto nomem;
    } else {
        size_t n;
        char *s = rk_ucl_emit(top, RK_UCL_FMT_COMPACT, &n);
        if (!s)
            goto nomem;
        md.p = (unsigned char *)s;
        md.len = md.cap = n;
    }
    const unsigned char *part = msg;
    size_t plen = len;
    if ((flags & RK_V3_ZSTD) && len) {
        if (!rk_zstd_available()) {
            rk_fail(err, RK_ERR_UNSUPPORTED,
                    "zstd compression (-z) is not available: rspamkit was built without libzstd");
            goto out;
        }
        if (rk_zstd_compress(msg, len, &z, err))
            goto out;
        part = z.p;
        plen = z.len;
    }
    /* a boundary that occurs in neither part */
    char bd[64];
    for (int tries = 0;; tries++) {
        size_t bl = (size_t)random_boundary(bd, sizeof bd);
        if (!memmem(md.p, md.len, bd, bl) && (!plen || !memmem(part, plen, bd, bl)))
            break;
        if (tries == 16) {
            rk_fail(err, RK_ERR_INPUT, "cannot find a multipart boundary absent from the message");
            goto out;
        }
    }
    if (rk_buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"metadata\"\r\n"
                          "Content-Type: %s\r\n\r\n",
                      bd, msgpack ? "application/msgpack" : "application/json") ||
        rk_buf_append(&b, md.p, md.len) || rk_buf_puts(&b, "\r\n"))
        goto nomem;
    if (plen && (rk_buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"message\"\r\n"
                                   "Content-Type: application/octet-stream\r\n%s\r\n",
                               bd, part == msg ? "" : "Content-Encoding: zstd\r\n") ||
                 rk_buf_append(&b, part, plen) || rk_buf_puts(&b, "\r\n")))
        goto nomem;
    if (rk_buf_printf(&b, "--%s--\r\n", bd))
        goto nomem;
    char ctype[96];
    snprintf(ctype, sizeof ctype, "multipart/form-data; boundary=%s", bd);
    int hr = rk_headers_add(h, "Content-Type", ctype);
    for (size_t i = 0; !hr && base && i < base->n; i++)
        if (!in_metadata(&base->v[i], settings_ok))
            hr = rk_headers_add(h, base->v[i].name, base->v[i].value);
    if (hr || rk_headers_add(h, "Accept", "multipart/form-data") ||
        ((flags & RK_V3_ZSTD) && rk_headers_add(h, "Accept-Encoding", "zstd")))
        goto nomem;
    req->path = "/checkv3";
    req->method = "POST";
    req->body = *body = b.p;
    req->body_len = b.len;
    req->headers = h;
    b.p = NULL;
    rc = 0;
    goto out;
nomem:
    rk_fail(err, RK_ERR_NOMEM, "out of memory");
out:
    rk_ucl_free(top);
    rk_buf_free(&md);
    rk_buf_free(&z);
    rk_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------ multipart */

static const char *ci_find(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++)
        if (strncasecmp(s, word, n) == 0)
            return s;
    return NULL;
}

/* The boundary parameter of a Content-Type value, quoted or not. */
static int get_boundary(const char *ct, char *out, size_t size)
{
    for (const char *p = ct; (p = ci_find(p, "boundary")) != NULL; p += 8) {
        if (p > ct && !strchr("; \t", p[-1]))
            continue;
        const char *v = p + 8;
        v += strspn(v, " \t");
        if (*v != '=')
            continue;
        v++;
        v += strspn(v, " \t");
        size_t n;
        if (*v == '"') {
            v++;
            const char *e = strchr(v, '"');
            if (!e)
                return -1;
            n = (size_t)(e - v);
        } else {
            n = strcspn(v, "; \t");
        }
        /* RFC 2046: 1 to 70 characters */
        if (n == 0 || n > 70 || n >= size)
            return -1;
        memcpy(out, v, n);
        out[n] = 0;
        return 0;
    }
    return -1;
}

/* The value of parameter `name` in a header value (name="x" or name=x). */
static const char *param(const char *v, const char *end, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = v; p + nl < end; p++) {
        if (strncasecmp(p, name, nl) != 0 || (p > v && !strchr("; \t", p[-1])))
            continue;
        const char *q = p + nl;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= end || *q != '=')
            continue;
        q++;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q < end && *q == '"') {
            const char *e = memchr(q + 1, '"', (size_t)(end - q - 1));
            if (!e)
                return NULL;
            *len = (size_t)(e - q - 1);
            return q + 1;
        }
        const char *e = q;
        while (e < end && *e != ';' && *e != ' ' && *e != '\t')
            e++;
        *len = (size_t)(e - q);
        return q;
    }
    return NULL;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

/* The header lines of one part, hs[0..he). */
static void part_headers(const char *hs, const char *he, rk_part *p)
{
    while (hs < he) {
        const char *le = memchr(hs, '\n', (size_t)(he - hs));
        if (!le)
            le = he;
        const char *colon = memchr(hs, ':', (size_t)(le - hs));
        if (colon) {
            const char *ns = hs, *ne = colon, *vs = colon + 1, *ve = le;
            trim(&ns, &ne);
            trim(&vs, &ve);
            size_t nl = (size_t)(ne - ns);
            if (nl == 19 && strncasecmp(ns, "Content-Disposition", nl) == 0) {
                p->name = param(vs, ve, "name", &p->name_len);
            } else if (nl == 12 && strncasecmp(ns, "Content-Type", nl) == 0) {
                const char *te = memchr(vs, ';', (size_t)(ve - vs));
                if (!te)
                    te = ve;
                trim(&vs, &te);
                p->type = vs;
                p->type_len = (size_t)(te - vs);
            } else if (nl == 16 && strncasecmp(ns, "Content-Encoding", nl) == 0) {
                p->encoding = vs;
                p->encoding_len = (size_t)(ve - vs);
            }
        }
        hs = le + 1;
    }
}

/* After a delimiter "--B" at d: the end of its line (past CRLF or LF, blanks
 * before allowed), or NULL when the line does not end there. */
static const unsigned char *line_end(const unsigned char *d, const unsigned char *end)
{
    while (d < end && (*d == ' ' || *d == '\t'))
        d++;
    if (d < end && *d == '\r')
        d++;
    if (d < end && *d == '\n')
        return d + 1;
    return NULL;
}

int rk_multipart_parse(const unsigned char *body, size_t len, const char *content_type,
                       rk_part *parts, size_t *n, rk_error *err)
{
    char bd[80], delim[84];
    *n = 0;
    if (!content_type || get_boundary(content_type, bd, sizeof bd))
        return rk_fail(err, RK_ERR_PROTOCOL, "multipart reply without a valid boundary");
    size_t dl = (size_t)snprintf(delim, sizeof delim, "--%s", bd);
    const unsigned char *end = body + len, *p = body;
    /* the first delimiter starts the body or a line */
    for (;;) {
        p = memmem(p, (size_t)(end - p), delim, dl);
        if (!p)
            return rk_fail(err, RK_ERR_PROTOCOL, "multipart reply without its boundary line");
        if (p == body || p[-1] == '\n')
            break;
        p++;
    }
    for (;;) {
        const unsigned char *d = p + dl;
        if (end - d >= 2 && d[0] == '-' && d[1] == '-')
            return *n ? 0 : rk_fail(err, RK_ERR_PROTOCOL, "multipart reply without parts");
        const unsigned char *start = line_end(d, end);
        if (!start)
            return rk_fail(err, RK_ERR_PROTOCOL, d == end ? "truncated multipart reply"
                                                          : "bad boundary line in multipart reply");
        if (*n == RK_MAX_PARTS)
            return rk_fail(err, RK_ERR_PROTOCOL, "multipart reply with more than %d parts",
                           RK_MAX_PARTS);
        /* the part ends before the next delimiter line, "\n--B" followed by
         * "--" or the end of the line (its CRLF or LF excluded) */
        const unsigned char *q = start, *next = NULL;
        while ((q = memmem(q, (size_t)(end - q), delim, dl)) != NULL) {
            const unsigned char *d2 = q + dl;
            if (q > start && q[-1] == '\n' &&
                ((end - d2 >= 2 && d2[0] == '-' && d2[1] == '-') || line_end(d2, end))) {
                next = q;
                break;
            }
            q++;
        }
        if (!next)
            return rk_fail(err, RK_ERR_PROTOCOL, "truncated multipart reply: part %zu has no "
                                                 "closing boundary", *n + 1);
        const unsigned char *pe = next - 1;
        if (pe > start && pe[-1] == '\r')
            pe--;
        rk_part *pt = &parts[*n];
        memset(pt, 0, sizeof *pt);
        /* headers end at the first empty line */
        const unsigned char *he = NULL, *ds = NULL;
        if (start < next && (*start == '\n' || (*start == '\r' && start + 1 < next && start[1] == '\n'))) {
            he = start;
            ds = start + (*start == '\r' ? 2 : 1);
        }
        for (const unsigned char *s = start; !he && s < next; s++) {
            const unsigned char *e = memchr(s, '\n', (size_t)(next - s));
            if (!e)
                break;
            if (e + 1 < next && e[1] == '\n') {
                he = e + 1;
                ds = e + 2;
            } else if (e + 2 < next && e[1] == '\r' && e[2] == '\n') {
                he = e + 1;
                ds = e + 3;
            }
            s = e;
        }
        if (!he || ds > next)
            return rk_fail(err, RK_ERR_PROTOCOL, "part %zu of the multipart reply has no end of "
                                                 "headers", *n + 1);
        part_headers((const char *)start, (const char *)he, pt);
        pt->data = ds;
        pt->len = pe > ds ? (size_t)(pe - ds) : 0;
        (*n)++;
        p = next;
    }
}

const rk_part *rk_multipart_find(const rk_part *parts, size_t n, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (parts[i].name && parts[i].name_len == nl && memcmp(parts[i].name, name, nl) == 0)
            return &parts[i];
    return NULL;
}

/* ------------------------------------------------------------ msgpack */

typedef struct mp {
    const unsigned char *p, *end;
    rk_buf *out;
    int depth;
    const char *why;
} mp;

static int need(mp *m, size_t n)
{
    if ((size_t)(m->end - m->p) < n) {
        m->why = "truncated msgpack data";
        return -1;
    }
    return 0;
}

static uint64_t be(mp *m, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | m->p[i];
    m->p += n;
    return v;
}

static int mp_put(mp *m, int rc)
{
    if (rc && !m->why)
        m->why = "out of memory";
    return rc;
}

static int mp_json(mp *m, int key);

static int str_out(mp *m, size_t n)
{
    if (need(m, n))
        return -1;
    int rc = mp_put(m, rk_emit_json_string(m->out, (const char *)m->p, n));
    m->p += n;
    return rc;
}

static int seq(mp *m, uint64_t n, int map)
{
    if (++m->depth > 2048) {
        m->why = "msgpack data nested too deep";
        return -1;
    }
    if (mp_put(m, rk_buf_puts(m->out, map ? "{" : "[")))
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        if (i && mp_put(m, rk_buf_puts(m->out, ",")))
            return -1;
        if (map && (mp_json(m, 1) || mp_put(m, rk_buf_puts(m->out, ":"))))
            return -1;
        if (mp_json(m, 0))
            return -1;
    }
    m->depth--;
    return mp_put(m, rk_buf_puts(m->out, map ? "}" : "]"));
}

static int real_out(mp *m, double d)
{
    if (!isfinite(d))
        return mp_put(m, rk_buf_puts(m->out, "null"));
    char num[40];
    snprintf(num, sizeof num, "%.17g", d);
    if (!strpbrk(num, ".eE"))
        strcat(num, ".0");
    return mp_put(m, rk_buf_puts(m->out, num));
}

static int mp_json(mp *m, int key)
{
    if (need(m, 1))
        return -1;
    unsigned c = *m->p++;
    uint64_t n;
    if ((c >= 0xa0 && c <= 0xbf) || c == 0xd9 || c == 0xda || c == 0xdb || c == 0xc4 ||
        c == 0xc5 || c == 0xc6) {
        unsigned w = c <= 0xbf ? 0 : (c == 0xd9 || c == 0xc4) ? 1 : (c == 0xda || c == 0xc5) ? 2 : 4;
        if (need(m, w))
            return -1;
        n = w ? be(m, w) : (c & 0x1f);
        return str_out(m, (size_t)n);
    }
    if (key) {
        m->why = "msgpack map key is not a string";
        return -1;
    }
    if (c <= 0x7f)
        return mp_put(m, rk_buf_printf(m->out, "%u", c));
    if (c >= 0xe0)
        return mp_put(m, rk_buf_printf(m->out, "%d", (int)c - 256));
    if (c >= 0x80 && c <= 0x8f)
        return seq(m, c & 0xf, 1);
    if (c >= 0x90 && c <= 0x9f)
        return seq(m, c & 0xf, 0);
    switch (c) {
    case 0xc0:
        return mp_put(m, rk_buf_puts(m->out, "null"));
    case 0xc2:
        return mp_put(m, rk_buf_puts(m->out, "false"));
    case 0xc3:
        return mp_put(m, rk_buf_puts(m->out, "true"));
    case 0xcc: case 0xcd: case 0xce: case 0xcf: {
        unsigned w = 1u << (c - 0xcc);
        if (need(m, w))
            return -1;
        return mp_put(m, rk_buf_printf(m->out, "%" PRIu64, be(m, w)));
    }
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        unsigned w = 1u << (c - 0xd0);
        if (need(m, w))
            return -1;
        uint64_t u = be(m, w);
        int64_t v = w == 8 ? (int64_t)u : (int64_t)(u ^ (1ull << (8 * w - 1))) - (int64_t)(1ull << (8 * w - 1));
        return mp_put(m, rk_buf_printf(m->out, "%" PRId64, v));
    }
    case 0xca: {
        if (need(m, 4))
            return -1;
        uint32_t u = (uint32_t)be(m, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        return real_out(m, f);
    }
    case 0xcb: {
        if (need(m, 8))
            return -1;
        uint64_t u = be(m, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        return real_out(m, d);
    }
    case 0xdc: case 0xdd: case 0xde: case 0xdf: {
        unsigned w = (c == 0xdc || c == 0xde) ? 2 : 4;
        if (need(m, w))
            return -1;
        n = be(m, w);
        /* each element takes at least a byte: refuse a count the data cannot hold */
        if (n > (uint64_t)(m->end - m->p)) {
            m->why = "truncated msgpack data";
            return -1;
        }
        return seq(m, n, c >= 0xde);
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: /* fixext: type + 1..16 bytes */
        n = 1 + (1u << (c - 0xd4));
        if (need(m, n))
            return -1;
        m->p += n;
        return mp_put(m, rk_buf_puts(m->out, "null"));
    case 0xc7: case 0xc8: case 0xc9: { /* ext 8/16/32: length, type, data */
        unsigned w = c == 0xc7 ? 1 : c == 0xc8 ? 2 : 4;
        if (need(m, w))
            return -1;
        n = be(m, w);
        if (need(m, 1) || (size_t)(m->end - m->p - 1) < n) {
            m->why = "truncated msgpack data";
            return -1;
        }
        m->p += 1 + n;
        return mp_put(m, rk_buf_puts(m->out, "null"));
    }
    }
    m->why = "invalid msgpack type byte";
    return -1;
}

int rk_msgpack_to_json(const unsigned char *in, size_t len, rk_buf *out, rk_error *err)
{
    mp m = {in, in + len, out, 0, NULL};
    if (mp_json(&m, 0) == 0 && m.p != m.end)
        m.why = "trailing bytes after the msgpack value";
    if (!m.why)
        return 0;
    return rk_fail(err, strcmp(m.why, "out of memory") == 0 ? RK_ERR_NOMEM : RK_ERR_PROTOCOL,
                   "%s at byte %zu", m.why, (size_t)(m.p - in));
}

/* ------------------------------------------------------------ the reply */

static int is_type(const char *s, size_t n, const char *word)
{
    for (size_t i = 0; s && i + strlen(word) <= n; i++)
        if (strncasecmp(s + i, word, strlen(word)) == 0)
            return 1;
    return 0;
}

/* One part's data, decompressed when its Content-Encoding is zstd: either
 * p itself (*own unused) or in *own. */
static int part_data(const rk_part *p, const char *what, rk_buf *own, const unsigned char **data,
                     size_t *len, rk_error *err)
{
    *data = p->data;
    *len = p->len;
    if (!p->encoding)
        return 0;
    if (p->encoding_len != 4 || strncasecmp(p->encoding, "zstd", 4) != 0)
        return rk_fail(err, RK_ERR_PROTOCOL, "the %s part has an unknown encoding '%.*s'", what,
                       (int)(p->encoding_len > 40 ? 40 : p->encoding_len), p->encoding);
    rk_error e;
    if (rk_zstd_decompress(p->data, p->len, own, (size_t)1 << 30, &e))
        return rk_fail(err, e.code, "the %s part: %s", what, e.msg);
    *data = own->p;
    *len = own->len;
    return 0;
}

int rk_v3_result(const rk_response *resp, const char *content_type, unsigned flags,
                 rk_result *out, rk_error *err)
{
    rk_buf rz = {0}, bz = {0}, js = {0};
    const unsigned char *res = resp->body, *msg = NULL;
    size_t rlen = resp->body_len, mlen = 0;
    int msgpack = is_type(content_type, strlen(content_type), "msgpack"), rc = -1;
    memset(out, 0, sizeof *out);
    if (strncasecmp(content_type, "multipart/", 10) == 0) {
        rk_part parts[RK_MAX_PARTS];
        size_t n;
        if (rk_multipart_parse(resp->body, resp->body_len, content_type, parts, &n, err))
            return -1;
        const rk_part *r = rk_multipart_find(parts, n, "result");
        const rk_part *b = rk_multipart_find(parts, n, "body");
        if (!r)
            return rk_fail(err, RK_ERR_PROTOCOL, "no 'result' part in the multipart reply");
        msgpack = is_type(r->type, r->type_len, "msgpack");
        if (part_data(r, "result", &rz, &res, &rlen, err) ||
            (b && part_data(b, "body", &bz, &msg, &mlen, err)))
            goto out;
    }
    if (msgpack) {
        if (rk_msgpack_to_json(res, rlen, &js, err))
            goto out;
        res = js.p;
        rlen = js.len;
    }
    rc = rk_result_parse_copy(res, rlen, msg, mlen, flags, out, err);
out:
    rk_buf_free(&rz);
    rk_buf_free(&bz);
    rk_buf_free(&js);
    return rc;
}
