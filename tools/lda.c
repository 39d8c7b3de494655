/* LDA mode of rspamkit-scan: --mime (add X-Spam headers to the message) and
 * --exec (pipe each message to a delivery command), built so that no
 * message is ever lost or delivered twice. See lda.h and rspamkit-scan(1). */
#include "config.h"
#include "lda.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EX_TEMPFAIL_ 75

static struct {
    int keep_existing, tempfail;
    char *header_style, *max_size;
} cli;

struct poptOption lda_table[] = {
    {"keep-existing-headers", 0, POPT_ARG_NONE, &cli.keep_existing, 0,
     "Keep the message's own headers (X-Spam...) as rspamc does; add ours after them", NULL},
    {"header-style", 0, POPT_ARG_STRING, &cli.header_style, 0,
     "Added headers: rspamc (default) or spamassassin (X-Spam-Flag, X-Spam-Status)", "STYLE"},
    {"tempfail", 0, POPT_ARG_NONE, &cli.tempfail, 0,
     "If the scan fails, deliver nothing and exit 75 (default: deliver unscanned)", NULL},
    {"max-size", 0, POPT_ARG_STRING, &cli.max_size, 0,
     "Do not scan messages larger than SIZE (bytes, or with k, m, g); 0 = no limit", "SIZE"},
    POPT_TABLEEND};

/* ======================================================= command splitting */

void lda_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

/* POSIX shell word splitting without expansions: blanks separate words,
 * '...' is literal, "..." keeps \" \\ \$ \` and drops backslash-newline,
 * a backslash outside quotes quotes the next character. */
char **lda_split_command(const char *cmd, char *err, size_t errlen)
{
    size_t cap = 8, n = 0;
    char **v = calloc(cap, sizeof *v);
    char *w = malloc(strlen(cmd) + 1); /* the current word: never longer than cmd */
    size_t wl = 0;
    const char *s = cmd;
    if (!v || !w)
        goto nomem;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        int in_word = 0;
        wl = 0;
        while (*s && !(*s == ' ' || *s == '\t' || *s == '\n')) {
            in_word = 1;
            if (*s == '\'') {
                const char *e = strchr(s + 1, '\'');
                if (!e) {
                    snprintf(err, errlen, "unterminated single quote");
                    goto fail;
                }
                memcpy(w + wl, s + 1, (size_t)(e - s - 1));
                wl += (size_t)(e - s - 1);
                s = e + 1;
            } else if (*s == '"') {
                s++;
                for (;;) {
                    if (!*s) {
                        snprintf(err, errlen, "unterminated double quote");
                        goto fail;
                    }
                    if (*s == '"') {
                        s++;
                        break;
                    }
                    if (*s == '\\' && s[1] && strchr("\"\\$`\n", s[1])) {
                        if (s[1] != '\n')
                            w[wl++] = s[1];
                        s += 2;
                        continue;
                    }
                    w[wl++] = *s++;
                }
            } else if (*s == '\\') {
                if (!s[1]) {
                    snprintf(err, errlen, "backslash at the end");
                    goto fail;
                }
                if (s[1] != '\n')
                    w[wl++] = s[1];
                s += 2;
            } else {
                w[wl++] = *s++;
            }
        }
        if (!in_word)
            continue;
        if (n + 2 > cap) {
            cap *= 2;
            char **q = realloc(v, cap * sizeof *q);
            if (!q)
                goto nomem;
            v = q;
        }
        if (!(v[n] = strndup(w, wl)))
            goto nomem;
        v[++n] = NULL;
    }
    free(w);
    return v;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    free(w);
    lda_argv_free(v);
    return NULL;
}

int lda_split_argv(int argc, const char **argv, const char *const **tail, size_t *n_tail)
{
    *tail = NULL;
    *n_tail = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") != 0)
            continue;
        /* "--exec --" / "-e --": the whole command is the tail; any other
         * "--" ends the options, and the words after it are inputs. */
        if (i > 1 && (strcmp(argv[i - 1], "-e") == 0 || strcmp(argv[i - 1], "--exec") == 0)) {
            *tail = argv + i + 1;
            *n_tail = (size_t)(argc - i - 1);
            return i - 1; /* drop "--exec --" */
        }
        break;
    }
    return argc;
}

long long lda_parse_size(const char *s)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double m = 1;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': m = 1024.0; break;
        case 'm': case 'M': m = 1024.0 * 1024; break;
        case 'g': case 'G': m = 1024.0 * 1024 * 1024; break;
        default: return -1;
        }
        end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (*end)
            return -1;
    }
    v *= m;
    if (v > 9e18)
        return -1;
    return (long long)v;
}

/* ============================================================= delivery */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* writev everything; returns 0 or -1 with errno (EPIPE: reader went away). */
static int write_all(int fd, struct iovec *iov, size_t n)
{
    while (n && !iov->iov_len) {
        iov++;
        n--;
    }
    while (n) {
        int cnt = n > IOV_MAX ? IOV_MAX : (int)n;
        ssize_t w = writev(fd, iov, cnt);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t left = (size_t)w;
        while (n && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n && left) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

static struct {
    const lda_opts *o;
    int keep_existing, tempfail;
    rk_header_style style;
    long long max_size;
    char **argv;          /* delivery command, NULL: stdout */
    char *path;           /* argv[0] found in PATH once, NULL: let execvp search */
    tk_walker *w;
    const rk_headers *base;
    struct entry **e;
    size_t n, cap, next;
    int status;           /* first non-zero, in input order */
    int in_flight;
    int warm;             /* syslog's time zone and socket are ready */
    const char *no_client; /* why nothing is scanned (lda_run without a client) */
} L;

/* What is delivered: the rewritten message (--mime), the message as it came,
 * or a report (`one`, over `text`). */
typedef struct msg_out {
    struct iovec *iov;
    size_t n, total;
    rk_rewrite rw;
    struct iovec one;
    char *text;
} msg_out;

static void out_one(msg_out *o, const void *p, size_t n)
{
    o->one.iov_base = (void *)p;
    o->one.iov_len = n;
    o->iov = &o->one;
    o->n = 1;
    o->total = n;
}

static void out_clear(msg_out *o)
{
    rk_rewrite_clear(&o->rw);
    free(o->text);
    memset(o, 0, sizeof *o);
}

/* A delivery command, started before its message is ready: the scan and
 * the command's own start-up then overlap. */
typedef struct child {
    pid_t pid;     /* 0: none */
    int wfd;       /* its stdin */
    int exec_err;  /* the command could not be run (errno) */
} child;

static int fd_above_2(int fd)
{
    if (fd > 2 || fd < 0)
        return fd;
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return d;
}

/* In the vfork()ed child, before exec: only system calls, then exec or _exit.
 * A failed exec is reported as its errno on `efd` (close-on-exec). */
static void __attribute__((noreturn)) child_exec(int rfd, int efd, pid_t parent)
{
    struct sigaction dfl;
    sigset_t none;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, NULL); /* we ignore it; the command gets the default */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == parent && dup2(rfd, 0) == 0) {
        if (L.path)
            execv(L.path, L.argv);
        if (!L.path || errno == ENOEXEC)
            execvp(L.argv[0], L.argv); /* not found, or a script without #!: as execvp does */
    }
    int e = errno ? errno : ECHILD;
    if (write(efd, &e, sizeof e) < 0)
        _exit(127);
    _exit(127);
}

/*
 * Start the command with a pipe on its stdin (vfork + exec: no copy of our
 * memory, however big the message). PR_SET_PDEATHSIG(SIGKILL): if we are
 * killed (MTA timeout, admin) before the command has the whole message, it
 * dies with us instead of delivering a truncated or empty message; the
 * caller retries, and nothing is delivered twice. Returns 0, or an errno
 * value (then c->exec_err may say the command cannot be run).
 */
static int child_start(child *c, size_t size)
{
    int p[2], ep[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return errno;
    if (pipe2(ep, O_CLOEXEC) < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return e;
    }
    p[0] = fd_above_2(p[0]); /* so that dup2 onto 0 is a real copy */
    p[1] = fd_above_2(p[1]);
    ep[1] = fd_above_2(ep[1]);
    if (p[0] < 0 || p[1] < 0 || ep[1] < 0) {
        int e = errno;
        close(p[0]), close(p[1]), close(ep[0]), close(ep[1]);
        return e;
    }
    if (size > 65536)
        fcntl(p[1], F_SETPIPE_SZ, 1 << 20); /* fewer wake-ups for big messages */
    pid_t parent = getpid();
    pid_t pid = vfork();
    if (pid == 0)
        child_exec(p[0], ep[1], parent);
    int e = pid < 0 ? errno : 0;
    close(p[0]);
    close(ep[1]);
    if (pid > 0) {
        /* vfork returns once the child has exec'd (EOF here) or failed
         * (its errno here); the same holds where vfork is a plain fork. */
        int ee = 0;
        ssize_t r;
        while ((r = read(ep[0], &ee, sizeof ee)) < 0 && errno == EINTR)
            ;
        if (r == (ssize_t)sizeof ee) {
            int st;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            e = ee;
            c->exec_err = ee;
            pid = -1;
        }
    }
    close(ep[0]);
    if (pid < 0) {
        close(p[1]);
        return e;
    }
    c->pid = pid;
    c->wfd = p[1];
    return 0;
}

static int child_wait(pid_t pid, int *st)
{
    while (waitpid(pid, st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* Give the started command its message and wait for it. Returns its exit
 * status (75 if it was killed or could not be run); *how describes it. */
static int child_finish(child *c, msg_out *out, char *how, size_t howlen, int *not_delivered)
{
    int st;
    *not_delivered = 0;
    int werr = write_all(c->wfd, out->iov, out->n) ? errno : 0;
    close(c->wfd);
    pid_t pid = c->pid;
    c->pid = 0;
    if (child_wait(pid, &st)) {
        snprintf(how, howlen, "cannot wait for %s: %s", L.argv[0], strerror(errno));
        return EX_TEMPFAIL_;
    }
    if (WIFSIGNALED(st)) {
        snprintf(how, howlen, "%s killed by signal %d (%s)", L.argv[0], WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
        return EX_TEMPFAIL_;
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : EX_TEMPFAIL_;
    snprintf(how, howlen, "piped to %s, exit %d%s%s", L.argv[0], code,
             werr ? ", it stopped reading: " : "", werr ? strerror(werr) : "");
    return code;
}

static int run_child(child *c, msg_out *out, char *how, size_t howlen, int *not_delivered)
{
    int e = c->exec_err;
    if (!c->pid && !e)
        e = child_start(c, out->total);
    if (e) {
        snprintf(how, howlen, "cannot %s %s: %s", c->exec_err ? "run" : "start", L.argv[0],
                 strerror(e));
        *not_delivered = 1;
        return EX_TEMPFAIL_;
    }
    return child_finish(c, out, how, howlen, not_delivered);
}

static int to_stdout(msg_out *out, char *how, size_t howlen, int *not_delivered)
{
    *not_delivered = 0;
    if (write_all(STDOUT_FILENO, out->iov, out->n)) {
        snprintf(how, howlen, "cannot write to stdout: %s", strerror(errno));
        *not_delivered = 1;
        return EX_TEMPFAIL_;
    }
    snprintf(how, howlen, "written to stdout");
    return 0;
}

typedef struct entry {
    int ready;
    tk_input in;
    unsigned char *body;  /* the reply body, kept when it holds a rewritten message */
    rk_result r;
    char *error;          /* why the message was not scanned */
    int input_status;     /* input error: no message, this exit status */
    int no_scan;          /* empty input: delivered as it is */
    double t0, elapsed;
    int server_version;   /* of the reply (rk_response_server_version) */
    rk_headers headers;
    unsigned char *v3_body; /* the /checkv3 request body */
    child ch;             /* its delivery command, when started early */
} entry;

static void entry_free(entry *e)
{
    if (!e)
        return;
    if (e->ch.pid) { /* started early but not given a message: it must not deliver */
        int st;
        kill(e->ch.pid, SIGKILL);
        close(e->ch.wfd);
        child_wait(e->ch.pid, &st);
    }
    tk_input_clear(&e->in);
    free(e->body);
    rk_result_clear(&e->r);
    free(e->error);
    rk_headers_clear(&e->headers);
    free(e->v3_body);
    free(e);
}

static void note_status(int st)
{
    if (st && !L.status)
        L.status = st;
}

static void say_undelivered(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say_undelivered(const char *fmt, ...)
{
    char line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    syslog(LOG_MAIL | LOG_ERR, "%s", line);
    if (!L.o->verbose) /* -v: syslog already copies it to stderr */
        tk_err("%s", line);
}

static void deliver(entry *e)
{
    const char *label = e->in.label ? e->in.label : "stdin";
    if (e->input_status) {
        say_undelivered("%s", e->in.error ? e->in.error : "cannot read the input");
        note_status(e->input_status);
        return;
    }
    if (e->error && L.tempfail && !e->no_scan) {
        say_undelivered("%s: not scanned (%s); not delivered (--tempfail), exit 75", label,
                        e->error);
        note_status(EX_TEMPFAIL_);
        return;
    }
    const unsigned char *msg = e->r.rewritten ? e->r.rewritten : e->in.data;
    size_t len = e->r.rewritten ? e->r.rewritten_len : e->in.len;
    msg_out out;
    memset(&out, 0, sizeof out);
    int built = 0;
    if (!L.o->mime) {
        char *buf = NULL;
        size_t blen = 0;
        FILE *f = open_memstream(&buf, &blen);
        if (f) {
            if (e->no_scan || e->error) {
                const char *why = e->no_scan ? "empty message, not scanned" : e->error;
                if (L.o->fmt != TK_OUT_TEXT) { /* one JSON value per input, errors too */
                    char *js = rk_emit_error(L.o->fmt == TK_OUT_COMPACT ? RK_EMIT_COMPACT
                                                                         : RK_EMIT_JSON,
                                             label, why, NULL);
                    if (js)
                        fputs(js, f);
                    free(js);
                } else {
                    fprintf(f, "%s: %s\n", label, why);
                }
            } else if (L.o->fmt != TK_OUT_TEXT) {
                char *s = rk_emit(e->r.json, tk_emit_format(L.o->fmt), NULL);
                if (s)
                    fputs(s, f);
                free(s);
            } else if (L.o->render) {
                L.o->render(f, &e->r);
            }
            if (fclose(f) == 0 && buf) {
                out.text = buf;
                out_one(&out, buf, blen);
                built = 1;
            } else {
                free(buf);
            }
        }
    } else if (e->no_scan) {
        out_one(&out, msg, len);
        built = 1;
    } else {
        rk_message_opts mo = {L.style, L.keep_existing, NULL, e->elapsed, e->error,
                              L.o->fmt != TK_OUT_TEXT, tk_emit_format(L.o->fmt),
                              e->server_version};
        built = rk_message_rewrite(e->in.data, e->in.len, e->error ? NULL : &e->r, &mo, &out.rw,
                                   NULL) == 0;
        out.iov = out.rw.iov;
        out.n = out.rw.n;
        out.total = out.rw.total;
    }
    if (!built) {
        /* Out of memory for a few header lines: deliver the message as it came. */
        out_clear(&out);
        out_one(&out, msg, len);
        syslog(LOG_MAIL | LOG_WARNING, "%s: out of memory, delivering without added headers",
               label);
    }
    char how[600];
    int nd = 0;
    int st = L.argv ? run_child(&e->ch, &out, how, sizeof how, &nd)
                    : to_stdout(&out, how, sizeof how, &nd);
    out_clear(&out);
    char what[700];
    if (e->no_scan)
        snprintf(what, sizeof what, "empty message, not scanned");
    else if (e->error)
        snprintf(what, sizeof what, "not scanned (%.600s)", e->error);
    else
        snprintf(what, sizeof what, "%s, score %.2f / %.2f", e->r.action ? e->r.action : "no action",
                 e->r.score, e->r.required_score);
    if (nd)
        say_undelivered("%s: %s; %s: not delivered, exit 75", label, what, how);
    else
        syslog(LOG_MAIL | (e->error || st ? LOG_WARNING : LOG_INFO), "%s: %s; %s%s", label, what,
               e->error ? "delivered unscanned, " : "", how);
    note_status(st);
}

static int push_entry(entry *e)
{
    if (L.n == L.cap) {
        size_t cap = L.cap ? L.cap * 2 : 16;
        entry **v = realloc(L.e, cap * sizeof *v);
        if (!v)
            return -1;
        L.e = v;
        L.cap = cap;
    }
    L.e[L.n++] = e;
    return 0;
}

/* Start the delivery command of the next message to deliver while its scan
 * runs (not with --tempfail: the message may then not be delivered at all). */
static void prestart(void)
{
    if (!L.argv || L.tempfail || L.next >= L.n)
        return;
    entry *e = L.e[L.next];
    if (e && !e->ready && !e->ch.pid && !e->ch.exec_err && child_start(&e->ch, e->in.len))
        e->ch.pid = 0; /* try again when delivering (or report exec_err) */
}

/* -v: syslog copies every line to stderr too */
static int log_options(void)
{
    return LOG_PID | (L.o->verbose ? LOG_PERROR : 0);
}

/* While the server scans: start the next delivery command, and get
 * syslog's time zone and socket ready, so that neither waits after the
 * reply. */
static void on_wait(void *ud)
{
    (void)ud;
    if (!L.warm) {
        L.warm = 1;
        tzset();
        openlog("rspamkit-scan", log_options() | LOG_NDELAY, LOG_MAIL);
    }
    prestart();
}

static void flush(void)
{
    while (L.next < L.n && L.e[L.next] && L.e[L.next]->ready) {
        entry *e = L.e[L.next];
        deliver(e);
        entry_free(e);
        L.e[L.next++] = NULL;
    }
    prestart();
}

static void set_error(entry *e, const char *msg);

static int next_cb(void *ud, rk_request *req, void **token)
{
    (void)ud;
    for (;;) {
        entry *e = calloc(1, sizeof *e);
        if (!e)
            return -1;
        if (!tk_walker_next(L.w, &e->in)) {
            free(e);
            return 0;
        }
        if (push_entry(e)) {
            entry_free(e);
            return -1;
        }
        if (e->in.error) {
            e->input_status = e->in.exit_code == TK_EX_IOERR ? EX_TEMPFAIL_ : e->in.exit_code;
            e->ready = 1;
        } else if (e->in.len == 0) { /* nothing to scan, with a client or not */
            e->no_scan = 1;
            e->ready = 1;
        } else if (!req) { /* no client */
            set_error(e, L.no_client);
            e->ready = 1;
        } else if (L.max_size > 0 && (long long)e->in.len > L.max_size) {
            char m[200];
            snprintf(m, sizeof m, "message size %zu exceeds --max-size %lld", e->in.len, L.max_size);
            e->error = strdup(m);
            e->ready = 1;
        }
        if (e->ready) {
            flush();
            continue;
        }
        rk_error err;
        if (L.o->v3.on ? rk_scan_request_v3(req, &e->headers, L.base, L.o->v3.meta, L.o->v3.n_meta,
                                            L.o->v3.flags, e->in.data, e->in.len, &e->v3_body,
                                            &err)
                       : rk_scan_request(req, &e->headers, L.base,
                                         e->in.label ? e->in.label : "stdin", NULL, e->in.data,
                                         e->in.len)) {
            set_error(e, L.o->v3.on ? err.msg : "out of memory");
            e->ready = 1;
            flush();
            continue;
        }
        e->t0 = now_s();
        *token = e;
        L.in_flight++;
        return 1;
    }
}

static void set_error(entry *e, const char *msg)
{
    free(e->error);
    /* one line: it becomes a header value */
    e->error = strdup(msg);
    if (!e->error)
        e->error = strdup("scan failed");
    for (char *s = e->error; s && *s; s++)
        if (*s == '\r' || *s == '\n' || *s == '\t')
            *s = ' ';
}

static int done_cb(void *ud, void *token, rk_response *resp, const rk_error *err)
{
    (void)ud;
    entry *e = token;
    L.in_flight--;
    e->elapsed = err->code == RK_OK ? resp->elapsed : now_s() - e->t0;
    e->server_version = rk_response_server_version(resp);
    rk_error why;
    if (rk_scan_result(resp, err, (L.o->fmt != TK_OUT_TEXT ? RK_RESULT_TREE : 0) |
                                      (L.o->v3.on ? RK_RESULT_V3 : 0), &e->r, &why)) {
        set_error(e, why.msg);
    } else if (!e->r.action && e->r.error) {
        char m[800];
        snprintf(m, sizeof m, "server error: %.700s", e->r.error);
        set_error(e, m);
        rk_result_clear(&e->r);
    } else if (e->r.rewritten) {
        /* Keep the new message, drop the original: one copy in memory. */
        e->body = resp->body;
        resp->body = NULL;
        free(e->in.data);
        e->in.data = NULL;
    }
    rk_headers_clear(&e->headers);
    e->ready = 1;
    flush();
    return 0;
}

/* The program execvp would run, looked up once (not in every child, where
 * each miss along a long PATH would be a failed execve while we wait). */
static char *find_in_path(const char *name)
{
    if (strchr(name, '/'))
        return NULL;
    const char *path = getenv("PATH");
    if (!path || !*path)
        return NULL;
    size_t nl = strlen(name);
    while (*path) {
        size_t dl = strcspn(path, ":");
        char *full = malloc(dl + nl + 3);
        if (!full)
            return NULL;
        if (dl)
            memcpy(full, path, dl);
        else
            full[0] = '.', dl = 1;
        full[dl] = '/';
        memcpy(full + dl + 1, name, nl + 1);
        struct stat sb;
        if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode) && access(full, X_OK) == 0)
            return full;
        free(full);
        path += strcspn(path, ":");
        if (*path == ':')
            path++;
    }
    return NULL;
}

int lda_setup(const lda_opts *o)
{
    memset(&L, 0, sizeof L);
    L.o = o;
    L.keep_existing = cli.keep_existing;
    /* the command line wins; then rspamkit.conf's tempfail and header_style.
     * An invalid configuration file does not stop delivery: lda_run then
     * treats every message as not scanned (the failure policy). */
    int code = 0;
    const rk_settings *conf = tk_settings_error() ? NULL : tk_settings(&code);
    L.tempfail = cli.tempfail || (conf && conf->failure == RK_FAILURE_TEMPFAIL);
    if (!cli.header_style && conf)
        cli.header_style = conf->header_style;
    if (!cli.header_style || strcmp(cli.header_style, "rspamc") == 0)
        L.style = RK_STYLE_RSPAMC;
    else if (strcmp(cli.header_style, "spamassassin") == 0 || strcmp(cli.header_style, "sa") == 0)
        L.style = RK_STYLE_SPAMASSASSIN;
    else {
        tk_err("invalid --header-style '%s' (rspamc, spamassassin)", cli.header_style);
        return TK_EX_USAGE;
    }
    L.max_size = lda_parse_size(cli.max_size);
    if (L.max_size < 0) {
        tk_err("invalid --max-size '%s' (bytes, or a number with k, m or g)", cli.max_size);
        return TK_EX_USAGE;
    }
    if (o->exec || o->exec_tail) {
        char err[200] = "";
        char **v = NULL;
        if (o->exec_tail) {
            v = calloc(1, sizeof *v);
        } else {
            v = lda_split_command(o->exec, err, sizeof err);
            if (!v) {
                tk_err("--exec '%s': %s", o->exec, err);
                return TK_EX_USAGE;
            }
        }
        size_t n = 0;
        while (v && v[n])
            n++;
        char **all = v ? realloc(v, (n + o->n_exec_tail + 1) * sizeof *all) : NULL;
        if (!all) {
            lda_argv_free(v);
            tk_err("out of memory");
            return TK_EX_SOFTWARE;
        }
        for (size_t i = 0; i < o->n_exec_tail; i++)
            all[n++] = strdup(o->exec_tail[i]);
        all[n] = NULL;
        if (!n) {
            lda_argv_free(all);
            tk_err("--exec: empty command");
            return TK_EX_USAGE;
        }
        L.argv = all;
        L.path = find_in_path(all[0]);
    }
    openlog("rspamkit-scan", log_options(), LOG_MAIL);
    return 0;
}

int lda_run(rk_client *c, tk_walker *w, const rk_headers *base, int max_inflight,
            const char *no_client)
{
    L.w = w;
    L.base = base;
    L.no_client = no_client;
    int rc = 0;
    if (c) {
        rk_client_on_wait(c, on_wait, NULL);
        rc = rk_client_run(c, max_inflight, next_cb, done_cb, NULL);
        rk_client_on_wait(c, NULL, NULL);
    } else {
        void *token;
        rc = next_cb(NULL, NULL, &token) < 0; /* delivers every input unscanned */
    }
    /* After an internal failure, whatever was read still gets delivered. */
    for (size_t i = L.next; i < L.n; i++)
        if (L.e[i] && !L.e[i]->ready) {
            set_error(L.e[i], "internal error while scanning");
            L.e[i]->ready = 1;
        }
    flush();
    if (rc) {
        say_undelivered("internal error: remaining inputs were not delivered");
        note_status(EX_TEMPFAIL_);
    }
    free(L.e);
    lda_argv_free(L.argv);
    free(L.path);
    closelog();
    int st = L.status;
    memset(&L, 0, sizeof L);
    return st;
}
