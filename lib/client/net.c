/*
 * The client: many requests in flight in one poll() loop, plain HTTP/1.0
 * spoken directly over TCP and UNIX sockets, https:// through libcurl
 * (loaded only when such a server is contacted), HTTPCrypt and zstd bodies,
 * separate connect and I/O timeouts, failover over the server list with
 * retry rounds and backoff, and a dead-host memory shared across processes.
 *
 * A request goes through attempts, one per server tried:
 *   plan     the order of the servers (configured or random; servers that
 *            failed recently last)
 *   build    the wire request for that server (File header or body, zstd,
 *            HTTPCrypt envelope)
 *   connect / send / read, or one libcurl transfer
 *   finish   outer reply -> authenticate and decrypt -> decompress
 * A transport failure (resolve, connect, send, no reply, timeout) moves on
 * to the next server; an HTTP answer, even an error, is final.
 */
#include "internal.h"
#include "http.h"
#include "transport/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Piece of a streamed HTTPCrypt envelope produced at a time (a multiple of 64). */
#define RK_STREAM_CHUNK 65536
/* Largest decompressed reply accepted. */
#define RK_MAX_REPLY ((size_t)1 << 30)
/* How long a server that failed to connect is tried last within one process
 * when no --dead-time is set. */
#define RK_DEFAULT_DEAD 30.0

struct rk_client {
    rk_addr *addrs;
    size_t n_addrs;
    char **keys;              /* per server: "host:port", socket path or URL */
    double *dead_until;       /* per server, wall clock; tried last until then */
    struct addrinfo **ai;     /* per server, resolved once per client */
    int default_port;
    double connect_timeout, timeout;
    char *password;
    /* HTTPCrypt: one ephemeral client keypair per client object */
    int crypt;
    unsigned char server_pk[RK_HC_KEYLEN], client_sk[RK_HC_KEYLEN], client_pk[RK_HC_KEYLEN];
    unsigned char nm[RK_HC_KEYLEN];
    char key_header[RK_HC_KEY_HEADER_SIZE];
    char key_id[9];
    int compress;
    char *cacert;
    int insecure;
    int retries, random_host;
    double retry_delay, dead_time;
    char *state_path;
    rk_curl *curl;            /* NULL until an https:// server is contacted */
    uint64_t rng;
    void (*on_wait)(void *);  /* rk_client_on_wait */
    void *on_wait_ud;
};

enum job_state { J_IDLE, J_CONNECT, J_WRITE, J_READ, J_CURL, J_BACKOFF };

typedef struct job {
    int used;
    enum job_state state;
    int fd;
    void *token;
    rk_request req;
    size_t *order, pos;       /* servers of this round, next one to try */
    int round;
    int retry_ok;             /* every failure of this round allows another */
    int file_ok;              /* File header + body: the server may read the file */
    int file_refused;         /* ... but it refused: send the body */
    int used_file;            /* this attempt sent File without a body */
    struct addrinfo *ai, *ai_cur;  /* the client's list for this server, next to try */
    const char *method;
    rk_buf path;              /* path of the (outer) request, with the URL prefix */
    rk_buf lines;             /* header lines of the (outer) request */
    rk_buf head;              /* socket: request line, framing and lines */
    rk_buf payload;           /* HTTPCrypt: the inner head (streamed) or the whole envelope */
    int streaming;            /* the envelope is produced while sending (hs, chunk) */
    rk_hc_stream hs;
    unsigned char *chunk;     /* a piece of the envelope: stream bytes [chunk_at, +chunk_len) */
    size_t chunk_at, chunk_len;
    rk_buf zbody;             /* compressed message, kept across attempts */
    int zdone;
    const unsigned char *body;
    size_t body_len, sent;
    rk_buf in;                /* reply bytes */
    double deadline;          /* absolute, 0 = none */
    double t_sent;
    rk_curl_xfer *xfer;
    int curl_done;
    char host[300];           /* current server, for messages */
    char failed[256];         /* earlier failures: "host (phase), ..." */
    int n_failed;
} job;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next_rand(rk_client *c)
{
    /* xorshift64*: only orders servers */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 0x2545F4914F6CDD1DULL;
}

/* ------------------------------------------------------------ the client */

static char *addr_key(const rk_addr *a, int default_port)
{
    char buf[1200];
    int port = rk_addr_port(a, default_port);
    switch (a->kind) {
    case RK_ADDR_UNIX:
        snprintf(buf, sizeof buf, "%s", a->host);
        break;
    case RK_ADDR_HTTPS:
        snprintf(buf, sizeof buf, strchr(a->host, ':') ? "https://[%s]:%d%s" : "https://%s:%d%s",
                 a->host, port, a->prefix);
        break;
    default:
        snprintf(buf, sizeof buf, strchr(a->host, ':') ? "[%s]:%d" : "%s:%d", a->host, port);
        break;
    }
    return strdup(buf);
}

static rk_client *client_fail(rk_client *c)
{
    rk_client_free(c);
    return NULL;
}

RK_API rk_client *rk_client_new_sized(const rk_client_config *caller, size_t cfg_size, rk_error *err)
{
    rk_client_config full = {0}, *cfg = &full;
    if (rk_sized_in(&full, sizeof full, caller, cfg_size, err))
        return NULL;
    rk_client *c = calloc(1, sizeof *c);
    if (!c) {
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (rk_addrs_parse(cfg->hosts ? cfg->hosts : "localhost", &c->addrs, &c->n_addrs, err)) {
        free(c);
        return NULL;
    }
    c->default_port = cfg->default_port ? cfg->default_port : RK_DEFAULT_PORT;
    c->connect_timeout = cfg->connect_timeout > 0 ? cfg->connect_timeout : 5.0;
    c->timeout = cfg->timeout;
    c->compress = cfg->compress;
    c->insecure = cfg->insecure;
    c->retries = cfg->retries > 0 ? cfg->retries : 0;
    c->retry_delay = cfg->retry_delay > 0 ? cfg->retry_delay : 1.0;
    c->random_host = cfg->random_host;
    c->dead_time = cfg->dead_time > 0 ? cfg->dead_time : 0;
    c->keys = calloc(c->n_addrs, sizeof *c->keys);
    c->dead_until = calloc(c->n_addrs, sizeof *c->dead_until);
    c->ai = calloc(c->n_addrs, sizeof *c->ai);
    if (!c->keys || !c->dead_until || !c->ai)
        goto nomem;
    for (size_t i = 0; i < c->n_addrs; i++)
        if (!(c->keys[i] = addr_key(&c->addrs[i], c->default_port)))
            goto nomem;
    if ((cfg->password && !(c->password = strdup(cfg->password))) ||
        (cfg->cacert && !(c->cacert = strdup(cfg->cacert))))
        goto nomem;
    if (c->compress && !rk_zstd_available()) {
        rk_fail(err, RK_ERR_UNSUPPORTED,
                "zstd compression (-z) is not available: rspamkit was built without libzstd");
        return client_fail(c);
    }
    if (cfg->pubkey && *cfg->pubkey) {
        if (rk_hc_parse_pubkey(cfg->pubkey, c->server_pk, err) || rk_hc_init(err))
            return client_fail(c);
        rk_hc_keypair(c->client_sk, c->client_pk, 1);
        if (rk_hc_shared(c->client_sk, c->server_pk, c->nm)) {
            rk_fail(err, RK_ERR_USAGE, "invalid HTTPCrypt key '%s': not a usable curve25519 "
                                       "public key", cfg->pubkey);
            return client_fail(c);
        }
        rk_hc_key_header(c->server_pk, c->client_pk, c->key_header);
        memcpy(c->key_id, c->key_header, 8);
        c->crypt = 1;
    }
    if (c->dead_time > 0) {
        c->state_path = cfg->state_file ? strdup(cfg->state_file) : rk_hoststate_default_path();
        if (c->state_path)
            rk_hoststate_load(c->state_path, (const char *const *)c->keys, c->n_addrs,
                              c->dead_until);
    }
    if (c->random_host && getrandom(&c->rng, sizeof c->rng, GRND_NONBLOCK) != sizeof c->rng)
        c->rng = (uint64_t)(rk_now() * 1e9) ^ ((uint64_t)getpid() << 32);
    if (!c->rng)
        c->rng = 0x9E3779B97F4A7C15ULL;
    return c;
nomem:
    rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return client_fail(c);
}

RK_API void rk_client_free(rk_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->keys && i < c->n_addrs; i++)
        free(c->keys[i]);
    free(c->keys);
    free(c->dead_until);
    for (size_t i = 0; c->ai && i < c->n_addrs; i++)
        if (c->ai[i])
            freeaddrinfo(c->ai[i]);
    free(c->ai);
    rk_addrs_free(c->addrs, c->n_addrs);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    explicit_bzero(c->client_sk, sizeof c->client_sk);
    explicit_bzero(c->nm, sizeof c->nm);
    free(c->cacert);
    free(c->state_path);
    rk_curl_free(c->curl);
    free(c);
}

/* A server failed at connect level: try it last for a while. */
static void mark_dead(rk_client *c, size_t idx)
{
    double until = wall_now() + (c->dead_time > 0 ? c->dead_time : RK_DEFAULT_DEAD);
    c->dead_until[idx] = until;
    if (c->dead_time > 0 && c->state_path)
        rk_hoststate_set(c->state_path, c->keys[idx], until);
}

static void mark_alive(rk_client *c, size_t idx)
{
    if (c->dead_until[idx] == 0)
        return;
    c->dead_until[idx] = 0;
    if (c->dead_time > 0 && c->state_path)
        rk_hoststate_set(c->state_path, c->keys[idx], 0);
}

/* ------------------------------------------------------------ jobs */

static void job_close(job *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    j->ai = j->ai_cur = NULL;
}

/* Empty a buffer for the next job of the slot; a big one is given back. */
static rk_buf keep_buf(rk_buf *b)
{
    rk_buf k = *b;
    if (k.cap > 256 * 1024) {
        rk_buf_free(&k);
    } else {
        if (k.p)
            explicit_bzero(k.p, k.len); /* may hold a password */
        k.len = 0;
    }
    memset(b, 0, sizeof *b);
    return k;
}

/* Reset a slot; its small buffers stay allocated for the next job. */
static void job_reset(job *j)
{
    rk_buf in = keep_buf(&j->in), path = keep_buf(&j->path), lines = keep_buf(&j->lines),
           head = keep_buf(&j->head);
    memset(j, 0, sizeof *j);
    j->fd = -1;
    j->in = in;
    j->path = path;
    j->lines = lines;
    j->head = head;
}

static void job_free(rk_client *c, job *j)
{
    job_close(j);
    if (j->xfer)
        rk_curl_cancel(c->curl, j->xfer);
    j->xfer = NULL;
    free(j->order);
    if (j->payload.p)
        explicit_bzero(j->payload.p, j->payload.len); /* may hold the password */
    rk_buf_free(&j->payload);
    free(j->chunk);
    rk_hc_stream_wipe(&j->hs);
    rk_buf_free(&j->zbody);
    job_reset(j);
}

/* Free what job_reset kept. */
static void job_release(job *j)
{
    rk_buf_free(&j->in);
    rk_buf_free(&j->path);
    rk_buf_free(&j->lines);
    rk_buf_free(&j->head);
}

/* The servers of this round: configured or random order, the ones that
 * failed recently last (those that failed first come first among them). */
static void plan(rk_client *c, job *j)
{
    size_t n = c->n_addrs;
    for (size_t i = 0; i < n; i++)
        j->order[i] = i;
    if (c->random_host)
        for (size_t i = n; i > 1; i--) {
            size_t k = (size_t)(next_rand(c) % i);
            size_t t = j->order[i - 1];
            j->order[i - 1] = j->order[k];
            j->order[k] = t;
        }
    double now = wall_now();
    /* stable insertion sort: alive (0) first, then by dead_until */
    for (size_t i = 1; i < n; i++) {
        size_t v = j->order[i];
        double dv = c->dead_until[v] > now ? c->dead_until[v] : 0;
        size_t k = i;
        while (k > 0) {
            size_t u = j->order[k - 1];
            double du = c->dead_until[u] > now ? c->dead_until[u] : 0;
            if (du <= dv)
                break;
            j->order[k] = u;
            k--;
        }
        j->order[k] = v;
    }
    j->pos = 0;
    j->retry_ok = 1;
}

static int is_loopback(const rk_addr *a)
{
    if (a->kind == RK_ADDR_UNIX)
        return 1;
    if (a->kind != RK_ADDR_TCP)
        return 0;
    if (strcasecmp(a->host, "localhost") == 0 || strcasecmp(a->host, "ip6-localhost") == 0)
        return 1;
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, a->host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, a->host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return 0;
}

static int lines_add(rk_buf *b, const char *name, const char *value)
{
    return rk_buf_printf(b, "%s: %s\r\n", name, value);
}

/* A multipart body (/checkv3) compresses its parts itself. */
static int is_multipart(const rk_headers *h)
{
    const char *ct = h ? rk_headers_get(h, "Content-Type") : NULL;
    return ct && strncasecmp(ct, "multipart/", 10) == 0;
}

/* Build the request for server `a`: method, path, header lines and body,
 * and for sockets the serialised head. */
static int build_request(rk_client *c, job *j, const rk_addr *a, rk_error *err)
{
    const rk_request *r = &j->req;
    const unsigned char *body = r->body;
    size_t blen = r->body_len;
    int compressed = 0, rc = 0;

    j->used_file = j->file_ok && !j->file_refused && is_loopback(a);
    if (j->used_file) {
        body = NULL;
        blen = 0;
    } else if (c->compress && blen && !is_multipart(r->headers)) {
        if (!j->zdone) {
            if (rk_zstd_compress(r->body, r->body_len, &j->zbody, err))
                return -1;
            j->zdone = 1;
        }
        body = j->zbody.p;
        blen = j->zbody.len;
        compressed = 1;
    }
    const char *method = r->method ? r->method : (blen ? "POST" : "GET");
    if (j->used_file && !r->method)
        method = "GET";

    rk_buf *L = &j->lines;
    if (L->p)
        explicit_bzero(L->p, L->len);
    L->len = 0;
    if (blen && !(r->headers && rk_headers_get(r->headers, "Content-Type")))
        rc = lines_add(L, "Content-Type", compressed ? "application/x-compressed" : "text/plain");
    for (size_t i = 0; !rc && r->headers && i < r->headers->n; i++) {
        const rk_header *h = &r->headers->v[i];
        if (!j->used_file && j->file_ok && strcasecmp(h->name, "File") == 0)
            continue; /* the body goes instead */
        rc = lines_add(L, h->name, h->value);
    }
    if (!rc && compressed)
        rc = lines_add(L, "Compression", "zstd");
    if (!rc && c->password)
        rc = lines_add(L, "Password", c->password);
    if (rc)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");

    j->path.len = 0;
    if (c->crypt) {
        /* inner request = the real one; the outer is POST /post */
        rk_buf ih = {0};
        rk_buf *P = &j->payload;
        if (P->p)
            explicit_bzero(P->p, P->len);
        P->len = 0;
        rc = rk_buf_printf(&ih, "%s %s HTTP/1.1\r\nContent-Length: %zu\r\n", method, r->path,
                           blen) ||
             rk_buf_append(&ih, L->p, L->len) || rk_buf_puts(&ih, "\r\n");
        if (!rc && a->kind != RK_ADDR_HTTPS) {
            /* sockets: the envelope is streamed while sending, no copy of
             * the message; the inner head stays in payload */
            rc = rk_buf_append(P, ih.p, ih.len);
            if (!rc && !j->chunk && !(j->chunk = malloc(RK_HC_OVERHEAD + RK_STREAM_CHUNK)))
                rc = -1;
            if (!rc) {
                rk_hc_stream_init(&j->hs, c->nm, NULL, P->p, P->len, body, blen);
                j->streaming = 1;
                j->chunk_at = j->chunk_len = 0;
            }
        } else if (!rc) {
            /* libcurl gets the whole envelope, sealed in place, sized exactly */
            size_t total = RK_HC_OVERHEAD + ih.len + blen;
            if (P->cap < total + 1) {
                free(P->p);
                P->p = malloc(total + 1);
                P->cap = P->p ? total + 1 : 0;
                rc = !P->p;
            }
            if (!rc) {
                memcpy(P->p + RK_HC_OVERHEAD, ih.p, ih.len);
                if (blen)
                    memcpy(P->p + RK_HC_OVERHEAD + ih.len, body, blen);
                rk_hc_seal(c->nm, NULL, P->p + RK_HC_OVERHEAD, ih.len + blen, P->p);
                P->len = total;
            }
            j->streaming = 0;
        }
        if (ih.p)
            explicit_bzero(ih.p, ih.len);
        rk_buf_free(&ih);
        explicit_bzero(L->p, L->len);
        L->len = 0;
        rc = rc || lines_add(L, "Content-Type", "application/octet-stream") ||
             lines_add(L, "Key", c->key_header) ||
             rk_buf_printf(&j->path, "%s/post", a->prefix);
        method = "POST";
        body = j->streaming ? NULL : j->payload.p;
        blen = j->streaming ? RK_HC_OVERHEAD + j->hs.total : j->payload.len;
    } else {
        j->streaming = 0;
        rc = rk_buf_printf(&j->path, "%s%s", a->prefix, r->path);
    }
    if (rc)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    j->method = method;
    j->body = body;
    j->body_len = blen;

    if (a->kind != RK_ADDR_HTTPS) {
        rk_buf *b = &j->head;
        if (b->p)
            explicit_bzero(b->p, b->len);
        b->len = 0;
        rc = rk_buf_printf(b, "%s %s HTTP/1.0\r\nConnection: close\r\nContent-Length: %zu\r\n",
                           method, (const char *)j->path.p, blen);
        if (!rc && a->kind == RK_ADDR_TCP)
            rc = rk_buf_printf(b, strchr(a->host, ':') ? "Host: [%s]:%d\r\n" : "Host: %s:%d\r\n",
                               a->host, rk_addr_port(a, c->default_port));
        rc = rc || rk_buf_append(b, L->p, L->len) || rk_buf_puts(b, "\r\n");
        if (rc)
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* Start a non-blocking connect to the next address of server `a` (all
 * addresses of its name in turn).  0: under way; 1: this server failed (err
 * says why). */
static int start_socket(rk_client *c, job *j, const rk_addr *a, rk_error *err, double now)
{
    if (a->kind == RK_ADDR_UNIX) {
        snprintf(j->host, sizeof j->host, "%s", a->host);
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(a->host) >= sizeof sun.sun_path)
            return rk_fail(err, RK_ERR_CONNECT, "cannot connect to %s: socket path too long",
                           a->host), 1;
        strcpy(sun.sun_path, a->host);
        j->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (j->fd < 0)
            return rk_fail(err, RK_ERR_CONNECT, "cannot create socket: %s", strerror(errno)), 1;
        if (connect(j->fd, (struct sockaddr *)&sun, sizeof sun) == 0 || errno == EINPROGRESS ||
            errno == EAGAIN) {
            j->state = J_CONNECT;
            j->deadline = now + c->connect_timeout;
            return 0;
        }
        rk_fail(err, RK_ERR_CONNECT, "cannot connect to %s: %s", a->host, strerror(errno));
        job_close(j);
        return 1;
    }
    int port = rk_addr_port(a, c->default_port);
    if (!j->ai) {
        /* resolved once per client: AI_ADDRCONFIG alone costs a netlink
         * round trip per call */
        size_t idx = j->order[j->pos];
        snprintf(j->host, sizeof j->host, strchr(a->host, ':') ? "[%s]:%d" : "%s:%d", a->host, port);
        if (!c->ai[idx]) {
            char ps[16];
            snprintf(ps, sizeof ps, "%d", port);
            /* a literal needs no lookup, and no AI_ADDRCONFIG netlink query */
            unsigned char lit[sizeof(struct in6_addr)];
            int numeric = inet_pton(AF_INET, a->host, lit) == 1 || inet_pton(AF_INET6, a->host, lit) == 1;
            struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                                     .ai_flags = numeric ? AI_NUMERICHOST : AI_ADDRCONFIG};
            int g = getaddrinfo(a->host, ps, &hints, &c->ai[idx]);
            if (g == EAI_ADDRFAMILY || g == EAI_NONAME) {
                hints.ai_flags = 0;
                g = getaddrinfo(a->host, ps, &hints, &c->ai[idx]);
            }
            if (g) {
                c->ai[idx] = NULL;
                return rk_fail(err, RK_ERR_RESOLVE, "cannot resolve host %s: %s", a->host,
                               g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g)), 1;
            }
        }
        j->ai = j->ai_cur = c->ai[idx];
    }
    while (j->ai_cur) {
        struct addrinfo *ai = j->ai_cur;
        j->ai_cur = ai->ai_next;
        snprintf(j->host, sizeof j->host, ai->ai_family == AF_INET6 ? "[%s]:%d" : "%s:%d", a->host,
                 port);
        j->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (j->fd < 0) {
            rk_fail(err, RK_ERR_CONNECT, "cannot connect to %s: %s", j->host, strerror(errno));
            continue;
        }
        int one = 1;
        setsockopt(j->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(j->fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            j->state = J_CONNECT;
            j->deadline = now + c->connect_timeout;
            return 0;
        }
        rk_fail(err, RK_ERR_CONNECT, "cannot connect to %s: %s", j->host, strerror(errno));
        close(j->fd);
        j->fd = -1;
    }
    job_close(j);
    return 1;
}

static int start_curl(rk_client *c, job *j, const rk_addr *a, size_t idx, rk_error *err,
                      double now)
{
    snprintf(j->host, sizeof j->host, "%s", c->keys[idx]);
    if (!c->curl && !(c->curl = rk_curl_new(err)))
        return 1; /* no usable libcurl: this server cannot be reached, others may */
    char url[1400];
    int port = rk_addr_port(a, 443);
    snprintf(url, sizeof url, strchr(a->host, ':') ? "https://[%s]:%d%s" : "https://%s:%d%s",
             a->host, port, (const char *)j->path.p);
    rk_curl_req r = {
        .url = url, .method = j->method, .lines = &j->lines, .body = j->body,
        .body_len = j->body_len, .connect_timeout = c->connect_timeout, .cacert = c->cacert,
        .insecure = c->insecure, .host = j->host,
    };
    j->xfer = rk_curl_start(c->curl, &r, j, err);
    if (!j->xfer)
        return -1;
    j->state = J_CURL;
    j->curl_done = 0;
    j->deadline = 0;
    j->t_sent = now;
    return 0;
}

/* Short name of the phase that failed, for the list of earlier failures. */
static const char *phase_of(const rk_error *err, enum job_state st)
{
    switch (err->code) {
    case RK_ERR_RESOLVE: return "resolve";
    case RK_ERR_CONNECT: return strncmp(err->msg, "TLS", 3) == 0 ? "tls" : "connect";
    case RK_ERR_TIMEOUT:
        return st == J_CONNECT || strncmp(err->msg, "cannot connect", 14) == 0 ? "connect timeout"
                                                                                : "timeout";
    case RK_ERR_SEND: return "send";
    case RK_ERR_RECV: return "no reply";
    case RK_ERR_CRYPTO: return "httpcrypt";
    default: return rk_status_name(err->code);
    }
}

static int attempt(rk_client *c, job *j, rk_error *err, double now);

/* The attempt on the current server failed at transport level (err says
 * how): remember it and go on with the next server.  Returns what attempt()
 * returns. */
static int attempt_failed(rk_client *c, job *j, rk_error *err, double now)
{
    size_t idx = j->order[j->pos];
    enum job_state st = j->state;
    job_close(j);
    if (j->xfer) {
        rk_curl_cancel(c->curl, j->xfer);
        j->xfer = NULL;
    }
    /* down, unreachable or hanging: try it last for a while (a server that
     * merely closed the connection may have refused only this request) */
    if (err->code == RK_ERR_RESOLVE || err->code == RK_ERR_CONNECT || err->code == RK_ERR_TIMEOUT)
        mark_dead(c, idx);
    if (err->code == RK_ERR_CRYPTO)
        j->retry_ok = 0; /* a key mismatch does not go away by waiting */
    size_t fl = strlen(j->failed);
    char item[340];
    snprintf(item, sizeof item, "%s (%s)", j->host, phase_of(err, st));
    if (!strstr(j->failed, item) && fl + strlen(item) + 3 < sizeof j->failed)
        snprintf(j->failed + fl, sizeof j->failed - fl, "%s%s", fl ? ", " : "", item);
    j->n_failed++;
    j->pos++;
    j->state = J_IDLE;
    return attempt(c, j, err, now);
}

/* Start (or continue) the attempts of a job.  Returns 0 while an operation
 * is under way, 1 when the job is finished with the error in err. */
static int attempt(rk_client *c, job *j, rk_error *err, double now)
{
    for (;;) {
        if (j->pos >= c->n_addrs) {
            if (j->retry_ok && j->round < c->retries) {
                /* all servers failed: wait, then another round */
                double d = c->retry_delay;
                for (int k = 0; k < j->round && d < 60; k++)
                    d *= 2;
                if (d > 60)
                    d = 60;
                d *= 0.75 + (double)(next_rand(c) % 1000) / 2000.0; /* jitter 0.75 .. 1.25 */
                j->round++;
                plan(c, j);
                j->state = J_BACKOFF;
                j->deadline = now + d;
                return 0;
            }
            /* final: the last error, and what else failed */
            if (j->n_failed > 1 || j->round) {
                char others[300] = "", tmp[sizeof j->failed];
                size_t hl = strlen(j->host);
                snprintf(tmp, sizeof tmp, "%s", j->failed);
                char *save = NULL;
                for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                    while (*t == ' ')
                        t++;
                    if (strncmp(t, j->host, hl) == 0 && t[hl] == ' ')
                        continue; /* the server the message is about */
                    size_t ol = strlen(others);
                    snprintf(others + ol, sizeof others - ol, "%s%s", ol ? ", " : "", t);
                }
                size_t ml = strlen(err->msg);
                if (others[0])
                    snprintf(err->msg + ml, sizeof err->msg - ml, "; also failed: %s", others);
                ml = strlen(err->msg);
                if (j->round)
                    snprintf(err->msg + ml, sizeof err->msg - ml, " (after %d %s)", j->round,
                             j->round == 1 ? "retry" : "retries");
            }
            return 1;
        }
        size_t idx = j->order[j->pos];
        const rk_addr *a = &c->addrs[idx];
        if (build_request(c, j, a, err))
            return 1;
        j->sent = 0;
        j->in.len = 0;
        int r = a->kind == RK_ADDR_HTTPS ? start_curl(c, j, a, idx, err, now)
                                         : start_socket(c, j, a, err, now);
        if (r == 0)
            return 0;
        if (r < 0)
            return 1; /* cannot even try (no libcurl, out of memory) */
        j->state = J_CONNECT;
        return attempt_failed(c, j, err, now);
    }
}

static void io_deadline(rk_client *c, job *j, double now)
{
    j->deadline = c->timeout > 0 ? now + c->timeout : 0;
}

/* Produce the piece of the streamed envelope that holds byte `off`: the
 * 40-byte nonce and tag with the first RK_STREAM_CHUNK bytes of ciphertext,
 * then RK_STREAM_CHUNK bytes at a time (so each starts on a 64-byte block). */
static void fill_chunk(job *j, size_t off)
{
    size_t total = j->hs.total;
    if (off < RK_HC_OVERHEAD + RK_STREAM_CHUNK) {
        size_t n = total < RK_STREAM_CHUNK ? total : RK_STREAM_CHUNK;
        memcpy(j->chunk, j->hs.env, RK_HC_OVERHEAD);
        rk_hc_stream_read(&j->hs, 0, j->chunk + RK_HC_OVERHEAD, n);
        j->chunk_at = 0;
        j->chunk_len = RK_HC_OVERHEAD + n;
    } else {
        size_t ct = (off - RK_HC_OVERHEAD) / RK_STREAM_CHUNK * RK_STREAM_CHUNK;
        size_t n = total - ct < RK_STREAM_CHUNK ? total - ct : RK_STREAM_CHUNK;
        rk_hc_stream_read(&j->hs, ct, j->chunk, n);
        j->chunk_at = RK_HC_OVERHEAD + ct;
        j->chunk_len = n;
    }
}

/* Progress a socket job after poll() said its fd is ready.  Returns 1 when
 * the exchange is over (reply complete, EOF, or a failure in err), 0 to keep
 * waiting, -1 when the connect failed (err set). */
static int job_step(rk_client *c, job *j, short revents, rk_error *err, double now)
{
    if (j->state == J_CONNECT) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr == 0 && (revents & POLLOUT)) {
            j->state = J_WRITE;
            io_deadline(c, j, now);
        } else {
            rk_fail(err, RK_ERR_CONNECT, "cannot connect to %s: %s", j->host,
                    strerror(soerr ? soerr : ECONNREFUSED));
            return -1;
        }
    }
    if (j->state == J_WRITE) {
        size_t total = j->head.len + j->body_len;
        while (j->sent < total) {
            struct iovec iov[2];
            int n = 0;
            if (j->sent < j->head.len) {
                iov[n].iov_base = j->head.p + j->sent;
                iov[n++].iov_len = j->head.len - j->sent;
            }
            if (j->body_len) {
                size_t off = j->sent > j->head.len ? j->sent - j->head.len : 0;
                if (j->streaming) {
                    if (off < j->chunk_at || off >= j->chunk_at + j->chunk_len)
                        fill_chunk(j, off);
                    iov[n].iov_base = j->chunk + (off - j->chunk_at);
                    iov[n++].iov_len = j->chunk_len - (off - j->chunk_at);
                } else {
                    iov[n].iov_base = (void *)(j->body + off);
                    iov[n++].iov_len = j->body_len - off;
                }
            }
            struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
            ssize_t w = sendmsg(j->fd, &mh, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    return 0;
                /* The server may have answered (and closed) early, e.g. an
                 * oversized request: read what it sent before giving up. */
                if (errno == EPIPE || errno == ECONNRESET) {
                    j->state = J_READ;
                    j->t_sent = now;
                    rk_fail(err, RK_ERR_SEND, "connection to %s broken while sending: %s",
                            j->host, strerror(errno));
                    shutdown(j->fd, SHUT_WR);
                    return 0;
                }
                rk_fail(err, RK_ERR_SEND, "cannot send to %s: %s", j->host, strerror(errno));
                return 1;
            }
            j->sent += (size_t)w;
            io_deadline(c, j, now);
        }
        j->state = J_READ;
        j->t_sent = now;
        return 0;
    }
    /* J_READ */
    for (;;) {
        if (rk_buf_reserve(&j->in, 65536)) {
            rk_fail(err, RK_ERR_NOMEM, "out of memory");
            return 1;
        }
        ssize_t r = recv(j->fd, j->in.p + j->in.len, j->in.cap - j->in.len - 1, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            if (j->in.len == 0 && err->code == RK_ERR_SEND)
                return 1;
            rk_fail(err, RK_ERR_RECV, "connection to %s failed while reading the reply: %s",
                    j->host, strerror(errno));
            return 1;
        }
        if (r == 0)
            return 1; /* EOF: parse what we have */
        j->in.len += (size_t)r;
        io_deadline(c, j, now);
        if (rk_http_complete(j->in.p, j->in.len))
            return 1;
    }
}

/* Is this reply the server refusing to read the File we named? */
static int file_refused(const rk_response *r)
{
    if (r->status == 400 || r->status == 403)
        return 1;
    if (r->status < 500)
        return 0;
    const char *reason = r->reason ? r->reason : "";
    return strcasestr(reason, "file") != NULL ||
           (r->body && strcasestr((const char *)r->body, "file") != NULL);
}

static void key_hint(rk_client *c, char *buf, size_t len)
{
    snprintf(buf, len, "check that --key is the public key of this worker's keypair "
                       "(key id %s)", c->key_id);
}

/* Turn the collected reply bytes into resp/err.  Returns 0 when the request
 * is finished (success or an HTTP-level answer), 1 on a transport failure
 * (err set: fail over), 2 to send it again to the same server (File refused). */
static int finish_reply(rk_client *c, job *j, rk_response *resp, rk_error *err, double now)
{
    char hint[200];
    memset(resp, 0, sizeof *resp);
    if (j->in.len == 0) {
        if (err->code == RK_OK || err->code == RK_ERR_SEND)
            rk_fail(err, RK_ERR_RECV, "connection closed by %s without a reply", j->host);
        if (c->crypt && err->code == RK_ERR_RECV) {
            key_hint(c, hint, sizeof hint);
            rk_fail(err, RK_ERR_CRYPTO, "connection closed by %s without a reply to the HTTPCrypt "
                                        "request: %s (or the message exceeds the server's "
                                        "max_message)", j->host, hint);
        }
        return 1;
    }
    rk_error_clear(err);
    resp->elapsed = now - j->t_sent;
    if (rk_http_parse_response(j->in.p, j->in.len, resp, err)) {
        char tmp[sizeof err->msg];
        snprintf(tmp, sizeof tmp, "%s", err->msg);
        rk_fail(err, err->code, "bad reply from %s: %s", j->host, tmp);
        rk_response_clear(resp);
        return err->code == RK_ERR_RECV ? 1 : 0;
    }
    if (c->crypt) {
        const char *ct = rk_headers_get(&resp->headers, "Content-Type");
        if (resp->status != 200 || !ct || strncasecmp(ct, "application/octet-stream", 24) != 0) {
            key_hint(c, hint, sizeof hint);
            rk_fail(err, RK_ERR_CRYPTO, "%s did not accept the HTTPCrypt request (plain reply "
                                        "HTTP %d %.80s): %s, and that the worker has a keypair",
                    j->host, resp->status, resp->reason ? resp->reason : "", hint);
            rk_response_clear(resp); /* not an answer to what we asked */
            return 1;
        }
        size_t plen = resp->body_len >= RK_HC_OVERHEAD ? resp->body_len - RK_HC_OVERHEAD : 0;
        unsigned char *plain = malloc(plen + 1);
        if (!plain)
            return rk_fail(err, RK_ERR_NOMEM, "out of memory"), 0;
        if (rk_hc_open(c->nm, resp->body, resp->body_len, plain)) {
            free(plain);
            rk_response_clear(resp);
            rk_fail(err, RK_ERR_CRYPTO, "the reply from %s failed HTTPCrypt authentication "
                                        "and was discarded", j->host);
            return 1;
        }
        rk_response inner;
        memset(&inner, 0, sizeof inner);
        int bad = rk_http_parse_response(plain, plen, &inner, err);
        free(plain);
        if (bad) {
            char tmp[sizeof err->msg];
            snprintf(tmp, sizeof tmp, "%s", err->msg);
            rk_fail(err, RK_ERR_PROTOCOL, "bad encrypted reply from %s: %s", j->host, tmp);
            rk_response_clear(&inner);
            rk_response_clear(resp);
            return 0;
        }
        inner.elapsed = resp->elapsed;
        rk_response_clear(resp);
        *resp = inner;
    }
    if (rk_headers_get(&resp->headers, "Dictionary")) {
        rk_fail(err, RK_ERR_PROTOCOL, "%s compressed its reply with a zstd dictionary, which "
                                      "rspamkit does not support", j->host);
        return 0;
    }
    const char *comp = rk_headers_get(&resp->headers, "Compression");
    if (comp && resp->body_len) {
        if (strcasecmp(comp, "zstd") != 0) {
            rk_fail(err, RK_ERR_PROTOCOL, "%s sent a reply with unknown compression '%.40s'",
                    j->host, comp);
            return 0;
        }
        rk_buf out = {0};
        if (rk_zstd_decompress(resp->body, resp->body_len, &out, RK_MAX_REPLY, err)) {
            char tmp[sizeof err->msg];
            snprintf(tmp, sizeof tmp, "%s", err->msg);
            rk_fail(err, err->code, "bad reply from %s: %s", j->host, tmp);
            rk_buf_free(&out);
            return 0;
        }
        if (!out.p && rk_buf_reserve(&out, 1)) {
            rk_fail(err, RK_ERR_NOMEM, "out of memory");
            return 0;
        }
        out.p[out.len] = 0;
        free(resp->body);
        resp->body = out.p;
        resp->body_len = out.len;
    }
    if (j->used_file && file_refused(resp)) {
        rk_response_clear(resp);
        return 2;
    }
    mark_alive(c, j->order[j->pos]);
    err->http_status = resp->status;
    if (resp->status == 401 || resp->status == 403) {
        rk_fail(err, RK_ERR_AUTH, "authentication refused by %s%s", j->host,
                c->password ? "" : ": no password was given");
        err->http_status = resp->status;
    } else if (resp->status < 200 || resp->status > 299) {
        rk_fail(err, RK_ERR_HTTP, "HTTP error: %d, %s", resp->status,
                resp->reason && *resp->reason ? resp->reason : "(no reason)");
        err->http_status = resp->status;
    }
    return 0;
}

/* ------------------------------------------------------------ the loop */

typedef struct run_ctx {
    rk_client *c;
    job *jobs;
    rk_error *errs;
    int n;
} run_ctx;

static void curl_done_cb(void *ud, void *owner, rk_buf *raw, const rk_error *err)
{
    run_ctx *rc = ud;
    job *j = owner;
    int i = (int)(j - rc->jobs);
    j->xfer = NULL; /* freed by curl.c */
    j->curl_done = 1;
    rk_buf_free(&j->in);
    j->in = *raw;
    memset(raw, 0, sizeof *raw);
    rc->errs[i] = *err;
}

/* Deliver the outcome of a finished job. */
static int complete(rk_client *c, job *j, rk_response *resp, rk_error *err, rk_done_fn done,
                    void *ud)
{
    if (!resp->host && j->host[0])
        resp->host = strdup(j->host);
    int r = done(ud, j->token, resp, err);
    rk_response_clear(resp);
    job_free(c, j);
    return r < 0 ? -1 : 0;
}

/* The exchange of job j is over (reply bytes in j->in, or err): finish it,
 * fail over, or resend.  Returns 1 when the job is finished (resp/err
 * filled), 0 when it goes on. */
static int exchange_over(rk_client *c, job *j, rk_response *resp, rk_error *err, double now)
{
    enum job_state st = j->state;
    job_close(j);
    int r = finish_reply(c, j, resp, err, now);
    if (r == 0)
        return 1;
    if (r == 2) {
        /* the server will not read the file: send the body, same server */
        j->file_refused = 1;
        rk_error_clear(err);
        size_t idx = j->order[j->pos];
        if (build_request(c, j, &c->addrs[idx], err))
            return 1;
        j->sent = 0;
        j->in.len = 0;
        int s = c->addrs[idx].kind == RK_ADDR_HTTPS ? start_curl(c, j, &c->addrs[idx], idx, err, now)
                                                    : start_socket(c, j, &c->addrs[idx], err, now);
        if (s == 0)
            return 0;
        if (s < 0)
            return 1;
        j->state = J_CONNECT;
        return attempt_failed(c, j, err, now);
    }
    j->state = st;
    return attempt_failed(c, j, err, now);
}

/* Every request in flight has been sent: only replies (or a retry's back-off)
 * are awaited, so the caller's own work cannot delay a request. */
static int all_sent(const job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (jobs[i].used && (jobs[i].state == J_CONNECT || jobs[i].state == J_WRITE ||
                             (jobs[i].state == J_CURL && (!jobs[i].xfer || !rk_curl_sent(jobs[i].xfer)))))
            return 0;
    return 1;
}

RK_API int rk_client_run(rk_client *c, int max_inflight, rk_next_fn next, rk_done_fn done, void *ud)
{
    if (max_inflight < 1)
        max_inflight = 1;
    size_t n = (size_t)max_inflight;
    job *jobs = calloc(n, sizeof *jobs);
    rk_error *errs = calloc(n, sizeof *errs);
    struct pollfd *pfd = calloc(n, sizeof *pfd);
    int *pidx = calloc(n, sizeof *pidx);
    int rc = 0, more = 1, active = 0;
    if (!jobs || !errs || !pfd || !pidx) {
        free(jobs);
        free(errs);
        free(pfd);
        free(pidx);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        jobs[i].fd = -1;
    run_ctx ctx = {c, jobs, errs, max_inflight};

    while (rc == 0 && (more || active)) {
        double now = rk_now();
        /* fill free slots */
        for (size_t i = 0; more && i < n && rc == 0; i++) {
            job *j = &jobs[i];
            if (j->used)
                continue;
            job_reset(j);
            int g = next(ud, &j->req, &j->token);
            if (g < 0) {
                rc = -1;
                break;
            }
            if (g == 0) {
                more = 0;
                break;
            }
            j->used = 1;
            active++;
            rk_error_clear(&errs[i]);
            j->file_ok = j->req.body_len && j->req.headers &&
                         rk_headers_get(j->req.headers, "File") != NULL;
            j->order = malloc(c->n_addrs * sizeof *j->order);
            int fin;
            if (!j->order) {
                rk_fail(&errs[i], RK_ERR_NOMEM, "out of memory");
                fin = 1;
            } else {
                plan(c, j);
                fin = attempt(c, j, &errs[i], now);
            }
            if (fin) {
                rk_response resp;
                memset(&resp, 0, sizeof resp);
                if (complete(c, j, &resp, &errs[i], done, ud) < 0)
                    rc = -1;
                active--;
                i--; /* refill this slot */
            }
        }
        if (rc || !active)
            continue;
        /* wait */
        nfds_t np = 0;
        double wait = -1;
        for (size_t i = 0; i < n; i++) {
            job *j = &jobs[i];
            pidx[i] = -1;
            if (!j->used)
                continue;
            if (j->fd >= 0 && (j->state == J_CONNECT || j->state == J_WRITE || j->state == J_READ)) {
                pfd[np].fd = j->fd;
                pfd[np].events = j->state == J_READ ? POLLIN : POLLOUT;
                pfd[np].revents = 0;
                pidx[i] = (int)np++;
            }
            if (j->state == J_CURL && j->xfer && c->timeout > 0) {
                double act = rk_curl_activity(j->xfer);
                j->deadline = act > 0 ? act + c->timeout : 0;
            }
            if (j->deadline > 0) {
                double left = j->deadline - now;
                if (wait < 0 || left < wait)
                    wait = left < 0 ? 0 : left;
            }
        }
        int ms = wait < 0 ? -1 : (int)(wait * 1000) + 1;
        if (c->on_wait && all_sent(jobs, n))
            c->on_wait(c->on_wait_ud);
        int pr;
        if (rk_curl_active(c->curl)) {
            pr = rk_curl_wait(c->curl, pfd, np, ms);
            rk_curl_perform(c->curl, curl_done_cb, &ctx);
        } else {
            pr = poll(pfd, np, ms);
        }
        if (pr < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        now = rk_now();
        for (size_t i = 0; i < n && rc == 0; i++) {
            job *j = &jobs[i];
            if (!j->used)
                continue;
            rk_error *err = &errs[i];
            rk_response resp;
            memset(&resp, 0, sizeof resp);
            int finished = 0;
            short rev = pidx[i] >= 0 && pr > 0 ? pfd[pidx[i]].revents : 0;
            if (j->state == J_CURL && j->curl_done) {
                finished = exchange_over(c, j, &resp, err, now);
            } else if (rev && j->fd >= 0) {
                int s = job_step(c, j, rev, err, now);
                if (s < 0) {
                    /* connect failed: the next address of this name, or the next server */
                    close(j->fd);
                    j->fd = -1;
                    const rk_addr *a = &c->addrs[j->order[j->pos]];
                    int r2 = a->kind == RK_ADDR_TCP && j->ai_cur ? start_socket(c, j, a, err, now) : 1;
                    if (r2 == 1)
                        finished = attempt_failed(c, j, err, now);
                    else
                        rk_error_clear(err);
                } else if (s == 1) {
                    finished = exchange_over(c, j, &resp, err, now);
                }
            } else if (j->deadline > 0 && now >= j->deadline) {
                switch (j->state) {
                case J_BACKOFF:
                    rk_error_clear(err);
                    j->failed[0] = 0;
                    finished = attempt(c, j, err, now);
                    break;
                case J_CONNECT: {
                    rk_fail(err, RK_ERR_TIMEOUT, "cannot connect to %s: connect timed out after %g s",
                            j->host, c->connect_timeout);
                    close(j->fd);
                    j->fd = -1;
                    const rk_addr *a = &c->addrs[j->order[j->pos]];
                    int r2 = a->kind == RK_ADDR_TCP && j->ai_cur ? start_socket(c, j, a, err, now) : 1;
                    if (r2 == 1) {
                        rk_fail(err, RK_ERR_TIMEOUT, "cannot connect to %s: connect timed out "
                                                     "after %g s", j->host, c->connect_timeout);
                        finished = attempt_failed(c, j, err, now);
                    } else {
                        rk_error_clear(err);
                    }
                    break;
                }
                case J_CURL:
                    rk_fail(err, RK_ERR_TIMEOUT, "timed out %s %s after %g s",
                            j->xfer && rk_curl_sent(j->xfer) ? "waiting for a reply from"
                                                             : "sending to",
                            j->host, c->timeout);
                    finished = attempt_failed(c, j, err, now);
                    break;
                default:
                    rk_fail(err, RK_ERR_TIMEOUT, "timed out %s %s after %g s",
                            j->state == J_WRITE ? "sending to" : "waiting for a reply from",
                            j->host, c->timeout);
                    finished = attempt_failed(c, j, err, now);
                    break;
                }
            }
            if (finished) {
                if (complete(c, j, &resp, err, done, ud) < 0)
                    rc = -1;
                active--;
            } else {
                rk_response_clear(&resp);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].used)
            job_free(c, &jobs[i]);
        job_release(&jobs[i]);
    }
    free(jobs);
    free(errs);
    free(pfd);
    free(pidx);
    return rc;
}

RK_API void rk_client_on_wait(rk_client *c, void (*fn)(void *ud), void *ud)
{
    c->on_wait = fn;
    c->on_wait_ud = ud;
}

struct one_ctx {
    const rk_request *req;
    rk_response *resp;
    rk_error *err;
    int given;
};

static int one_next(void *ud, rk_request *req, void **token)
{
    struct one_ctx *o = ud;
    (void)token;
    if (o->given)
        return 0;
    o->given = 1;
    *req = *o->req;
    return 1;
}

static int one_done(void *ud, void *token, rk_response *resp, const rk_error *err)
{
    struct one_ctx *o = ud;
    (void)token;
    *o->resp = *resp;
    memset(resp, 0, sizeof *resp);
    if (o->err)
        *o->err = *err;
    return 0;
}

RK_API int rk_client_request(rk_client *c, const rk_request *req, rk_response *resp, rk_error *err)
{
    rk_error local;
    struct one_ctx o = {req, resp, err ? err : &local, 0};
    rk_error_clear(o.err);
    memset(resp, 0, sizeof *resp);
    if (rk_client_run(c, 1, one_next, one_done, &o))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return o.err->code == RK_OK ? 0 : -1;
}
