/* The client: plain HTTP/1.0 over TCP and UNIX sockets, many requests in
 * flight in one poll() loop, separate connect and I/O timeouts. */
#include "internal.h"
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

struct rk_client {
    rk_addr *addrs;
    size_t n_addrs;
    int default_port;
    double connect_timeout, timeout;
    char *password;
};

enum job_state { J_CONNECT, J_WRITE, J_READ };

typedef struct job {
    int used;
    enum job_state state;
    int fd;
    void *token;
    rk_request req;
    size_t addr_idx;          /* which server of the list */
    struct addrinfo *ai, *ai_cur;
    rk_buf head;              /* request line and headers */
    size_t sent;              /* bytes of head+body written */
    rk_buf in;                /* reply bytes */
    double deadline;          /* absolute, 0 = none */
    double t_sent;            /* when the request was fully written */
    char host[300];           /* current server, for messages */
} job;

RK_API rk_client *rk_client_new(const rk_client_config *cfg, rk_error *err)
{
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
    if (cfg->password && !(c->password = strdup(cfg->password))) {
        rk_client_free(c);
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return c;
}

RK_API void rk_client_free(rk_client *c)
{
    if (!c)
        return;
    rk_addrs_free(c->addrs, c->n_addrs);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    free(c);
}

static void job_close(job *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    if (j->ai)
        freeaddrinfo(j->ai);
    j->ai = j->ai_cur = NULL;
}

static void job_free(job *j)
{
    job_close(j);
    rk_buf_free(&j->head);
    rk_buf_free(&j->in);
    j->used = 0;
}

static int build_head(rk_client *c, job *j, rk_error *err)
{
    const rk_request *r = &j->req;
    const rk_addr *a = &c->addrs[j->addr_idx];
    const char *method = r->method ? r->method : (r->body_len ? "POST" : "GET");
    rk_buf *b = &j->head;
    b->len = 0;
    int rc = rk_buf_printf(b, "%s %s%s HTTP/1.0\r\nConnection: close\r\nContent-Length: %zu\r\n",
                           method, a->prefix, r->path, r->body_len);
    if (!rc && r->body_len && !(r->headers && rk_headers_get(r->headers, "Content-Type")))
        rc = rk_buf_puts(b, "Content-Type: text/plain\r\n");
    for (size_t i = 0; !rc && r->headers && i < r->headers->n; i++)
        rc = rk_buf_printf(b, "%s: %s\r\n", r->headers->v[i].name, r->headers->v[i].value);
    if (!rc && c->password)
        rc = rk_buf_printf(b, "Password: %s\r\n", c->password);
    if (!rc)
        rc = rk_buf_puts(b, "\r\n");
    return rc ? rk_fail(err, RK_ERR_NOMEM, "out of memory") : 0;
}

/* Start a non-blocking connect to the next candidate. Returns 0 when a
 * connect is under way (or done), -1 with err when nothing is left. */
static int start_connect(rk_client *c, job *j, rk_error *err, double now)
{
    for (;;) {
        if (j->addr_idx >= c->n_addrs)
            return -1; /* err already set by the last failure */
        const rk_addr *a = &c->addrs[j->addr_idx];
        if (a->kind == RK_ADDR_HTTPS)
            return rk_fail(err, RK_ERR_UNSUPPORTED,
                           "cannot connect to %s: https:// is not supported yet", a->spec);
        if (a->kind == RK_ADDR_UNIX) {
            snprintf(j->host, sizeof j->host, "%s", a->host);
            struct sockaddr_un sun = {.sun_family = AF_UNIX};
            if (strlen(a->host) >= sizeof sun.sun_path) {
                rk_fail(err, RK_ERR_CONNECT, "cannot connect to %s: socket path too long", a->host);
                j->addr_idx++;
                continue;
            }
            strcpy(sun.sun_path, a->host);
            j->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (j->fd < 0)
                return rk_fail(err, RK_ERR_CONNECT, "cannot create socket: %s", strerror(errno));
            if (connect(j->fd, (struct sockaddr *)&sun, sizeof sun) == 0 || errno == EINPROGRESS ||
                errno == EAGAIN) {
                j->state = J_CONNECT;
                j->deadline = now + c->connect_timeout;
                return 0;
            }
            rk_fail(err, RK_ERR_CONNECT, "cannot connect to %s: %s", a->host, strerror(errno));
            job_close(j);
            j->addr_idx++;
            continue;
        }
        if (!j->ai) {
            char port[16];
            snprintf(port, sizeof port, "%d", rk_addr_port(a, c->default_port));
            struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
            int g = getaddrinfo(a->host, port, &hints, &j->ai);
            if (g == EAI_ADDRFAMILY || g == EAI_NONAME) {
                hints.ai_flags = 0;
                g = getaddrinfo(a->host, port, &hints, &j->ai);
            }
            if (g) {
                rk_fail(err, RK_ERR_RESOLVE, "cannot resolve host %s: %s", a->host,
                        g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
                j->ai = NULL;
                j->addr_idx++;
                continue;
            }
            j->ai_cur = j->ai;
        }
        while (j->ai_cur) {
            struct addrinfo *ai = j->ai_cur;
            j->ai_cur = ai->ai_next;
            if (ai->ai_family == AF_INET6)
                snprintf(j->host, sizeof j->host, "[%s]:%d", a->host, rk_addr_port(a, c->default_port));
            else
                snprintf(j->host, sizeof j->host, "%s:%d", a->host, rk_addr_port(a, c->default_port));
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
        freeaddrinfo(j->ai);
        j->ai = j->ai_cur = NULL;
        j->addr_idx++;
    }
}

static void io_deadline(rk_client *c, job *j, double now)
{
    j->deadline = c->timeout > 0 ? now + c->timeout : 0;
}

/* Called after a connect failure: try the next candidate address. */
static int retry_connect(rk_client *c, job *j, rk_error *err, double now)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    if (!j->ai_cur && j->ai) {
        freeaddrinfo(j->ai);
        j->ai = NULL;
        j->addr_idx++;
    }
    if (start_connect(c, j, err, now))
        return -1;
    return build_head(c, j, err);
}

/* Progress one job after poll() said its fd is ready. Returns 1 when the job
 * is finished (err tells how), 0 to keep waiting. */
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
            return retry_connect(c, j, err, now) ? 1 : 0;
        }
    }
    if (j->state == J_WRITE) {
        size_t total = j->head.len + j->req.body_len;
        while (j->sent < total) {
            struct iovec iov[2];
            int n = 0;
            if (j->sent < j->head.len) {
                iov[n].iov_base = j->head.p + j->sent;
                iov[n++].iov_len = j->head.len - j->sent;
            }
            if (j->req.body_len) {
                size_t off = j->sent > j->head.len ? j->sent - j->head.len : 0;
                iov[n].iov_base = (void *)(j->req.body + off);
                iov[n++].iov_len = j->req.body_len - off;
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
        if (r == 0) {
            if (j->in.len == 0 && err->code == RK_ERR_SEND)
                return 1;
            return 1; /* EOF: parse what we have */
        }
        j->in.len += (size_t)r;
        io_deadline(c, j, now);
        if (rk_http_complete(j->in.p, j->in.len))
            return 1;
    }
}

/* Turn the collected reply bytes into resp/err. */
static void job_finish(job *j, rk_response *resp, rk_error *err, double now)
{
    memset(resp, 0, sizeof *resp);
    resp->host = strdup(j->host);
    if (err->code != RK_OK && j->in.len == 0)
        return;
    if (j->in.len == 0) {
        rk_fail(err, RK_ERR_RECV, "connection closed by %s without a reply", j->host);
        return;
    }
    rk_error_clear(err);
    resp->elapsed = now - j->t_sent;
    if (rk_http_parse_response(j->in.p, j->in.len, resp, err)) {
        char tmp[sizeof err->msg];
        snprintf(tmp, sizeof tmp, "%s", err->msg);
        rk_fail(err, err->code, "bad reply from %s: %s", j->host, tmp);
        return;
    }
    err->http_status = resp->status;
    if (resp->status == 401 || resp->status == 403) {
        rk_fail(err, RK_ERR_AUTH, "authentication refused by %s", j->host);
        err->http_status = resp->status;
    } else if (resp->status < 200 || resp->status > 299) {
        rk_fail(err, RK_ERR_HTTP, "HTTP error: %d, %s", resp->status,
                resp->reason && *resp->reason ? resp->reason : "(no reason)");
        err->http_status = resp->status;
    }
}

RK_API int rk_client_run(rk_client *c, int max_inflight, rk_next_fn next, rk_done_fn done, void *ud)
{
    if (max_inflight < 1)
        max_inflight = 1;
    job *jobs = calloc((size_t)max_inflight, sizeof *jobs);
    rk_error *errs = calloc((size_t)max_inflight, sizeof *errs);
    struct pollfd *pfd = calloc((size_t)max_inflight, sizeof *pfd);
    int *map = calloc((size_t)max_inflight, sizeof *map);
    int rc = 0, more = 1, active = 0;
    if (!jobs || !errs || !pfd || !map) {
        free(jobs);
        free(errs);
        free(pfd);
        free(map);
        return -1;
    }
    for (int i = 0; i < max_inflight; i++)
        jobs[i].fd = -1;

    while (rc == 0 && (more || active)) {
        double now = rk_now();
        /* fill free slots */
        for (int i = 0; more && i < max_inflight && rc == 0; i++) {
            if (jobs[i].used)
                continue;
            job *j = &jobs[i];
            memset(j, 0, sizeof *j);
            j->fd = -1;
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
            if (start_connect(c, j, &errs[i], now) || build_head(c, j, &errs[i])) {
                rk_response resp;
                memset(&resp, 0, sizeof resp);
                resp.host = j->host[0] ? strdup(j->host) : NULL;
                if (done(ud, j->token, &resp, &errs[i]) < 0)
                    rc = -1;
                rk_response_clear(&resp);
                job_free(j);
                active--;
                i--; /* refill this slot */
            }
        }
        if (rc || !active)
            continue;
        /* poll */
        int n = 0;
        double wait = -1;
        for (int i = 0; i < max_inflight; i++) {
            job *j = &jobs[i];
            if (!j->used)
                continue;
            pfd[n].fd = j->fd;
            pfd[n].events = j->state == J_READ ? POLLIN : POLLOUT;
            pfd[n].revents = 0;
            map[n++] = i;
            if (j->deadline > 0) {
                double left = j->deadline - now;
                if (wait < 0 || left < wait)
                    wait = left < 0 ? 0 : left;
            }
        }
        int ms = wait < 0 ? -1 : (int)(wait * 1000) + 1;
        int pr = poll(pfd, (nfds_t)n, ms);
        if (pr < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        now = rk_now();
        for (int k = 0; k < n && rc == 0; k++) {
            int i = map[k];
            job *j = &jobs[i];
            int finished = 0;
            if (pr > 0 && pfd[k].revents) {
                finished = job_step(c, j, pfd[k].revents, &errs[i], now);
            } else if (j->deadline > 0 && now >= j->deadline) {
                if (j->state == J_CONNECT) {
                    rk_fail(&errs[i], RK_ERR_TIMEOUT, "cannot connect to %s: connect timed out",
                            j->host);
                    finished = retry_connect(c, j, &errs[i], now) ? 1 : 0;
                    if (finished)
                        rk_fail(&errs[i], RK_ERR_TIMEOUT,
                                "cannot connect to %s: connect timed out", j->host);
                } else {
                    rk_fail(&errs[i], RK_ERR_TIMEOUT, "timed out %s %s after %g s", 
                            j->state == J_WRITE ? "sending to" : "waiting for a reply from",
                            j->host, c->timeout);
                    finished = 1;
                    j->in.len = 0;
                }
            }
            if (finished) {
                rk_response resp;
                job_finish(j, &resp, &errs[i], now);
                if (done(ud, j->token, &resp, &errs[i]) < 0)
                    rc = -1;
                rk_response_clear(&resp);
                job_free(j);
                active--;
            }
        }
    }
    for (int i = 0; i < max_inflight; i++)
        if (jobs[i].used)
            job_free(&jobs[i]);
    free(jobs);
    free(errs);
    free(pfd);
    free(map);
    return rc;
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
