/*
 * https:// through libcurl, opened with dlopen("libcurl.so.4") the first time
 * an https:// server is contacted.  Loading libcurl costs about 4 ms per
 * process (33 shared objects), so the http:// and UNIX socket paths never
 * touch it; only libcurl's headers are used at build time.
 *
 * The pitfalls of spec/protocol.md section 7 are handled here: no
 * `Expect: 100-continue` (Rspamd never answers it), no automatic
 * Content-Encoding (Compression: zstd is handled by the caller), HTTP/1.1
 * only, and a reply that never came is a receive error.
 */
#include "transport.h"

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct curl_api {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
} curl_api;

struct rk_curl_xfer {
    CURL *easy;
    struct curl_slist *hl;
    void *owner;
    rk_buf head, body;
    char errbuf[CURL_ERROR_SIZE];
    char host[300];
    size_t body_len;
    curl_off_t last_ul, last_dl;
    double activity;
    int connected, sent;
    struct rk_curl *cu;
    rk_curl_xfer *prev, *next;
};

struct rk_curl {
    void *dl;
    curl_api f;
    CURLM *multi;
    rk_curl_xfer *xfers;
    int active;
};

#define SYM(field, name)                                                   \
    do {                                                                   \
        *(void **)&cu->f.field = dlsym(cu->dl, name);                      \
        if (!cu->f.field) {                                                \
            missing = name;                                                \
            goto bad;                                                      \
        }                                                                  \
    } while (0)

rk_curl *rk_curl_new(rk_error *err)
{
    const char *missing = NULL;
    rk_curl *cu = calloc(1, sizeof *cu);
    if (!cu) {
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    cu->dl = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!cu->dl) {
        rk_fail(err, RK_ERR_UNSUPPORTED,
                "https:// needs libcurl, which cannot be loaded: %s", dlerror());
        free(cu);
        return NULL;
    }
    SYM(global_init, "curl_global_init");
    SYM(easy_init, "curl_easy_init");
    SYM(easy_setopt, "curl_easy_setopt");
    SYM(easy_getinfo, "curl_easy_getinfo");
    SYM(easy_cleanup, "curl_easy_cleanup");
    SYM(easy_strerror, "curl_easy_strerror");
    SYM(slist_append, "curl_slist_append");
    SYM(slist_free_all, "curl_slist_free_all");
    SYM(multi_init, "curl_multi_init");
    SYM(multi_add_handle, "curl_multi_add_handle");
    SYM(multi_remove_handle, "curl_multi_remove_handle");
    SYM(multi_perform, "curl_multi_perform");
    SYM(multi_poll, "curl_multi_poll"); /* 7.66 */
    SYM(multi_info_read, "curl_multi_info_read");
    SYM(multi_cleanup, "curl_multi_cleanup");
    if (cu->f.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(cu->multi = cu->f.multi_init())) {
        rk_fail(err, RK_ERR_UNSUPPORTED, "cannot initialise libcurl");
        dlclose(cu->dl);
        free(cu);
        return NULL;
    }
    return cu;
bad:
    rk_fail(err, RK_ERR_UNSUPPORTED, "libcurl.so.4 is too old for https:// (no %s; 7.66 or later "
                                     "is needed)", missing);
    dlclose(cu->dl);
    free(cu);
    return NULL;
}

static void xfer_free(rk_curl *cu, rk_curl_xfer *x)
{
    cu->f.multi_remove_handle(cu->multi, x->easy);
    cu->f.easy_cleanup(x->easy);
    cu->f.slist_free_all(x->hl);
    rk_buf_free(&x->head);
    rk_buf_free(&x->body);
    if (x->prev)
        x->prev->next = x->next;
    else
        cu->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    cu->active--;
    free(x);
}

void rk_curl_free(rk_curl *cu)
{
    if (!cu)
        return;
    while (cu->xfers)
        xfer_free(cu, cu->xfers);
    cu->f.multi_cleanup(cu->multi);
    /* libcurl stays mapped: unloading it under OpenSSL's atexit handlers is
     * not safe. */
    free(cu);
}

int rk_curl_active(const rk_curl *cu) { return cu ? cu->active : 0; }

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    rk_curl_xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
        x->head.len = 0; /* a new response (after an interim 1xx) */
    return rk_buf_append(&x->head, p, len) ? 0 : len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    rk_curl_xfer *x = ud;
    size_t len = size * n;
    return rk_buf_append(&x->body, p, len) ? 0 : len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    rk_curl_xfer *x = ud;
    (void)dltotal, (void)ultotal;
    if (!x->connected) {
        /* connected (and TLS done) once the transfer proper has begun */
        curl_off_t t = 0;
        if (x->cu->f.easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &t) == CURLE_OK && t > 0) {
            x->connected = 1;
            x->activity = rk_now();
        }
    }
    if (ulnow != x->last_ul || dlnow != x->last_dl) {
        x->last_ul = ulnow;
        x->last_dl = dlnow;
        x->activity = rk_now();
        x->connected = 1;
    }
    if (x->connected && (size_t)ulnow >= x->body_len)
        x->sent = 1;
    return 0;
}

double rk_curl_activity(const rk_curl_xfer *x) { return x->activity; }
int rk_curl_sent(const rk_curl_xfer *x) { return x->sent; }

#define SET(opt, val)                                                      \
    do {                                                                   \
        if (cu->f.easy_setopt(x->easy, opt, val) != CURLE_OK) {            \
            what = #opt;                                                   \
            goto bad;                                                      \
        }                                                                  \
    } while (0)

rk_curl_xfer *rk_curl_start(rk_curl *cu, const rk_curl_req *r, void *owner, rk_error *err)
{
    const char *what = "curl_easy_init";
    rk_curl_xfer *x = calloc(1, sizeof *x);
    if (!x) {
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    x->cu = cu;
    x->owner = owner;
    x->body_len = r->body_len;
    snprintf(x->host, sizeof x->host, "%s", r->host);
    if (!(x->easy = cu->f.easy_init()))
        goto bad;
    /* header lines: everything but the framing, which libcurl owns */
    const char *p = r->lines ? (const char *)r->lines->p : NULL;
    size_t left = r->lines ? r->lines->len : 0;
    while (left) {
        const char *eol = memchr(p, '\n', left);
        size_t ll = eol ? (size_t)(eol - p) : left;
        size_t l2 = ll && p[ll - 1] == '\r' ? ll - 1 : ll;
        if (l2 && strncasecmp(p, "Content-Length:", 15) != 0 && strncasecmp(p, "Connection:", 11) != 0 &&
            strncasecmp(p, "Host:", 5) != 0) {
            char *line = strndup(p, l2);
            struct curl_slist *n = line ? cu->f.slist_append(x->hl, line) : NULL;
            free(line);
            if (!n) {
                what = "curl_slist_append";
                goto bad;
            }
            x->hl = n;
        }
        p += ll + (eol ? 1 : 0);
        left -= ll + (eol ? 1 : 0);
    }
    struct curl_slist *n = cu->f.slist_append(x->hl, "Expect:");
    if (!n) {
        what = "curl_slist_append";
        goto bad;
    }
    x->hl = n;
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_HTTPHEADER, x->hl);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PRIVATE, (void *)x);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)x);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)x);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, (void *)x);
    SET(CURLOPT_NOPROGRESS, 0L);
    /* only https:// (7.85+; older libcurl keeps its default) */
    cu->f.easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(r->connect_timeout * 1000 + 0.5));
    if (r->cacert)
        SET(CURLOPT_CAINFO, r->cacert);
    if (r->insecure) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (r->body_len || strcmp(r->method, "POST") == 0) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        SET(CURLOPT_POSTFIELDS, r->body_len ? (const char *)r->body : "");
        if (strcmp(r->method, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, r->method);
    } else {
        SET(CURLOPT_HTTPGET, 1L);
        if (strcmp(r->method, "GET") != 0)
            SET(CURLOPT_CUSTOMREQUEST, r->method);
    }
    if (cu->f.multi_add_handle(cu->multi, x->easy) != CURLM_OK) {
        what = "curl_multi_add_handle";
        goto bad;
    }
    x->next = cu->xfers;
    if (cu->xfers)
        cu->xfers->prev = x;
    cu->xfers = x;
    cu->active++;
    return x;
bad:
    rk_fail(err, RK_ERR_UNSUPPORTED, "cannot set up the https:// request to %s: %s failed",
            r->host, what);
    if (x->easy)
        cu->f.easy_cleanup(x->easy);
    if (x->hl)
        cu->f.slist_free_all(x->hl);
    free(x);
    return NULL;
}

void rk_curl_cancel(rk_curl *cu, rk_curl_xfer *x)
{
    if (cu && x)
        xfer_free(cu, x);
}

int rk_curl_wait(rk_curl *cu, struct pollfd *fds, size_t n, int timeout_ms)
{
    struct curl_waitfd *w = n ? calloc(n, sizeof *w) : NULL;
    if (n && !w)
        return -1;
    for (size_t i = 0; i < n; i++) {
        w[i].fd = fds[i].fd;
        w[i].events = (short)(((fds[i].events & POLLIN) ? CURL_WAIT_POLLIN : 0) |
                              ((fds[i].events & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
    }
    int num = 0;
    CURLMcode mc = cu->f.multi_poll(cu->multi, w, (unsigned)n, timeout_ms < 0 ? 1000 : timeout_ms, &num);
    int ready = 0;
    for (size_t i = 0; i < n; i++) {
        fds[i].revents = (short)(((w[i].revents & CURL_WAIT_POLLIN) ? POLLIN : 0) |
                                 ((w[i].revents & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
        ready += fds[i].revents != 0;
    }
    free(w);
    return mc == CURLM_OK ? ready : -1;
}

/* Our status and message for a failed transfer: which host, which phase. */
static void map_error(rk_curl_xfer *x, CURLcode rc, rk_error *err)
{
    const char *detail = x->errbuf[0] ? x->errbuf : x->cu->f.easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        rk_fail(err, RK_ERR_RESOLVE, "cannot resolve host %s: %s", x->host, detail);
        break;
    case CURLE_COULDNT_CONNECT:
        rk_fail(err, RK_ERR_CONNECT, "cannot connect to %s: %s", x->host, detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        if (!x->connected)
            rk_fail(err, RK_ERR_TIMEOUT, "cannot connect to %s: connect timed out (%s)", x->host,
                    detail);
        else
            rk_fail(err, RK_ERR_TIMEOUT, "timed out talking to %s: %s", x->host, detail);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
        rk_fail(err, RK_ERR_CONNECT, "TLS handshake with %s failed: %s%s", x->host, detail,
                rc == CURLE_PEER_FAILED_VERIFICATION ? " (--cacert FILE names the CA to trust)" : "");
        break;
    case CURLE_SEND_ERROR:
        rk_fail(err, RK_ERR_SEND, "connection to %s broken while sending: %s", x->host, detail);
        break;
    case CURLE_GOT_NOTHING:
        rk_fail(err, RK_ERR_RECV, "connection closed by %s without a reply", x->host);
        break;
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        rk_fail(err, RK_ERR_RECV, "connection to %s failed while reading the reply: %s", x->host,
                detail);
        break;
    case CURLE_OUT_OF_MEMORY:
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
        break;
    default:
        rk_fail(err, RK_ERR_PROTOCOL, "https:// request to %s failed: %s", x->host, detail);
        break;
    }
}

void rk_curl_perform(rk_curl *cu, rk_curl_done_fn done, void *ud)
{
    int running = 0, left = 0;
    cu->f.multi_perform(cu->multi, &running);
    CURLMsg *m;
    while ((m = cu->f.multi_info_read(cu->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        rk_curl_xfer *x = NULL;
        cu->f.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (!x)
            continue;
        CURLcode rc = m->data.result;
        rk_error e;
        rk_error_clear(&e);
        rk_buf raw = {0};
        if (rc != CURLE_OK) {
            map_error(x, rc, &e);
        } else if (!x->head.len) {
            rk_fail(&e, RK_ERR_RECV, "connection closed by %s without a reply", x->host);
        } else {
            raw = x->head;
            memset(&x->head, 0, sizeof x->head);
            if (rk_buf_append(&raw, x->body.p ? x->body.p : (unsigned char *)"", x->body.len))
                rk_fail(&e, RK_ERR_NOMEM, "out of memory");
        }
        void *owner = x->owner;
        xfer_free(cu, x);
        done(ud, owner, &raw, &e);
        rk_buf_free(&raw);
    }
}
