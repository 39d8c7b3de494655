/* rspamkit-spamc: SpamAssassin's spamc command line and contract, against
 * Rspamd.  See rspamkit-spamc(1) for the mapping and the differences. */
#include "config.h"
#include "common.h"
#include "inputs.h"
#include "lda.h"
#include "spamc.h"
#include "transport_opts.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------ output */

static char **pipe_argv; /* -e */

/* The input as read, and with -B its envelope around the message. */
static struct {
    const unsigned char *raw;
    size_t raw_len;
    sc_bsmtp bsmtp;
} in;

/* Write the output to stdout, or to the -e command; returns the exit code
 * to use (the command's status with -e), or `code` when all went well. */
static int emit(const struct iovec *iov, size_t n, int code)
{
    int fd = STDOUT_FILENO, pfd[2];
    pid_t pid = -1;
    if (pipe_argv) {
        if (pipe(pfd) != 0) {
            tk_err("pipe: %s", strerror(errno));
            return SC_EX_OSERR;
        }
        fflush(stdout);
        pid = fork();
        if (pid < 0) {
            tk_err("fork: %s", strerror(errno));
            close(pfd[0]);
            close(pfd[1]);
            return SC_EX_OSERR;
        }
        if (pid == 0) {
            dup2(pfd[0], STDIN_FILENO);
            close(pfd[0]);
            close(pfd[1]);
            signal(SIGPIPE, SIG_DFL);
            execvp(pipe_argv[0], pipe_argv);
            fprintf(stderr, "%s: cannot run %s: %s\n", tk_prog, pipe_argv[0], strerror(errno));
            _exit(SC_EX_OSERR);
        }
        close(pfd[0]);
        fd = pfd[1];
    }
    int werr = 0;
    for (size_t i = 0; i < n && !werr; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                werr = errno;
                break;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    if (pid < 0) {
        if (werr) { /* EPIPE too: the reader did not get the message */
            tk_err("error writing output: %s", strerror(werr));
            return TK_EX_IOERR;
        }
        return code;
    }
    close(fd);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    tk_err("%s was killed by signal %d", pipe_argv[0], WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return TK_EX_TEMPFAIL;
}

static int emit_buf(const void *p, size_t n, int code)
{
    struct iovec v = {(void *)p, n};
    return emit(&v, 1, code);
}

/* A text output built in memory. */
static int emit_text(char *s, size_t n, int code)
{
    if (!s) {
        tk_err("out of memory");
        return TK_EX_SOFTWARE;
    }
    code = emit_buf(s, n, code);
    free(s);
    return code;
}

static int is_spam(const rk_result *r) { return rk_action_is_spam(r->action) == 1; }

/* The default (and -E) output: the message with SpamAssassin's headers. */
static int emit_message(const unsigned char *msg, size_t len, const rk_result *r, int code)
{
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    rk_rewrite out;
    struct iovec *v;
    size_t k;
    char *checker;
    if (sc_message(msg, len, r, host, &out, &v, &k, &checker)) {
        tk_err("out of memory");
        return TK_EX_SOFTWARE;
    }
    if (in.bsmtp.post) {
        size_t wlen = 0;
        unsigned char *w = sc_bsmtp_wrap(in.raw, &in.bsmtp, v, k, &wlen);
        code = w ? emit_buf(w, wlen, code) : (tk_err("out of memory"), TK_EX_SOFTWARE);
        free(w);
    } else {
        code = emit(v, k, code);
    }
    free(v);
    free(checker);
    rk_rewrite_clear(&out);
    return code;
}

/* ------------------------------------------------------------ failures */

/* spamc's exit code for a failed request. */
static int fail_code(const rk_error *err)
{
    int code;
    switch (err->code) {
    case RK_ERR_RESOLVE: code = SC_EX_NOHOST; break;
    default: code = tk_exit_for(err);
    }
    if (code == TK_EX_UNAVAILABLE && sc.tempfail && sc.no_fallback)
        code = TK_EX_TEMPFAIL;
    return code;
}

/* The scan failed (or was not done): spamc's safe fallback (the input as
 * it came), or its error output with -x. */
static int scan_failed(int code, int too_big)
{
    int ret = too_big || !sc.no_fallback ? 0 : code;
    if (sc.check || sc.full || sc.full_spam)
        return emit_buf("0/0\n", 4, ret);
    if (sc.tests)
        return emit_buf("\n", 1, ret);
    if (!sc.no_fallback || too_big)
        return emit_buf(in.raw, in.raw_len, ret);
    return ret;
}

/* ------------------------------------------------------------ requests */

/* Point the shared connection options at the scanner or the controller. */
static char *hosts_for(int controller, int *port)
{
    const char *h = controller && sc.controller ? sc.controller : sc.socket && !controller ? sc.socket
                                                                                         : sc.dest;
    *port = controller ? RK_CONTROLLER_PORT : sc.port ? sc.port : RK_DEFAULT_PORT;
    if (!h)
        return NULL; /* the config file's, else localhost */
    if (!sc.ssl || (controller && sc.controller) || (!controller && sc.socket))
        return strdup(h);
    /* -S: https:// before each entry of -d */
    size_t cap = strlen(h) + 10;
    for (const char *c = h; *c; c++)
        cap += (*c == ',') * 10;
    char *s = malloc(cap), *q = s;
    if (!s)
        return NULL;
    while (*h) {
        size_t w = strcspn(h, ",");
        q += sprintf(q, "%s%.*s", q == s ? "https://" : ",https://", (int)w, h);
        h += w + (h[w] == ',');
    }
    return s;
}

static rk_client *client_for(int controller, int *code)
{
    int port;
    char *h = hosts_for(controller, &port);
    free(tk_conn_opts.host);
    tk_conn_opts.host = h;
    if (controller && !h && sc.socket) {
        int c2 = 0;
        const rk_settings *conf = tk_settings(&c2);
        if (conf && !conf->controller) {
            tk_err("-L and -C go to Rspamd's controller, and -U names the scanner's socket: give "
                   "--controller HOSTS (or controller in rspamkit.conf)");
            *code = TK_EX_USAGE;
            return NULL;
        }
    }
    return tk_client(port, code);
}

/* One request: a learn or fuzzy operation to the controller when `op` is an
 * rk_ctl_op, a scan when it is SCAN.  The library knows the paths. */
#define SCAN (-1)
static int request(int op, const unsigned char *msg, size_t len, int flag, rk_response *resp,
                   rk_error *err, int *code)
{
    rk_client *c = client_for(op != SCAN, code);
    if (!c)
        return -1;
    rk_headers base = {0}, h = {0};
    rk_msg_opts mo = {.deliver_to = sc.user, .flag = flag};
    rk_request req = {0};
    int rc = rk_msg_opts_headers(&mo, &base, err);
    if (rc == 0 && op == SCAN) {
        rc = rk_scan_request(&req, &h, &base, NULL, NULL, msg, len);
        if (rc)
            snprintf(err->msg, sizeof err->msg, "out of memory"), err->code = RK_ERR_NOMEM;
    } else if (rc == 0) {
        rk_ctl_request((rk_ctl_op)op, &req);
        req.body = msg;
        req.body_len = len;
        req.headers = &base;
    }
    if (rc == 0)
        rc = rk_client_request(c, &req, resp, err);
    if (rc)
        *code = fail_code(err);
    rk_headers_clear(&h);
    rk_headers_clear(&base);
    rk_client_free(c);
    return rc;
}

static int do_ping(void)
{
    rk_response resp = {0};
    rk_error err;
    rk_error_clear(&err);
    int code = 0;
    rk_client *c = client_for(0, &code);
    if (!c)
        return code;
    if (rk_ctl_ping(c, &resp, &err) == 0) {
        code = emit_buf("SPAMD/1.5 0\n", 12, 0);
    } else {
        tk_err("%s", err.msg);
        code = fail_code(&err);
    }
    rk_response_clear(&resp);
    rk_client_free(c);
    return code;
}

/* A learn or fuzzy request to the controller: its outcome; RK_CTL_FAILED
 * with *code set and the error printed. */
static rk_ctl_outcome tell(rk_ctl_op op, const unsigned char *msg, size_t len, int *code)
{
    rk_response resp = {0};
    rk_error err;
    rk_error_clear(&err);
    int flag = op == RK_FUZZY_ADD || op == RK_FUZZY_DEL ? sc.fuzzy_flag : 0;
    int rc = request(op, msg, len, flag, &resp, &err, code);
    if (rc && !resp.status) {
        if (err.code)
            tk_err("%s", err.msg);
        rk_response_clear(&resp);
        return RK_CTL_FAILED;
    }
    rk_ctl_reply rep;
    rk_ctl_outcome oc = rk_ctl_classify(op, &resp, rc ? &err : NULL, &rep);
    rk_response_clear(&resp);
    if (oc == RK_CTL_FAILED) {
        tk_err("%s", rep.why.msg);
        *code = fail_code(&rep.why);
    } else if (oc == RK_CTL_SKIPPED) {
        tk_err("%s: skipped by the server: %s",
               rk_ctl_op_kind(op) == RK_CTL_LEARN ? "learn" : "fuzzy", rep.why.msg);
    }
    rk_ctl_reply_clear(&rep);
    return oc;
}

/* -L: spamc's answer is "already" whenever nothing was learned. */
static int do_learn(const unsigned char *msg, size_t len)
{
    int code = 0;
    int spam = strcmp(sc.learn, "spam") == 0;
    switch (tell(spam ? RK_LEARN_SPAM : RK_LEARN_HAM, msg, len, &code)) {
    case RK_CTL_FAILED: return code;
    case RK_CTL_DONE: return emit_buf("Message successfully un/learned\n", 32, 0);
    default: return emit_buf("Message was already un/learned\n", 31, 0);
    }
}

/* -C: learn the message, then report it to (or revoke it from) the shared
 * database, Rspamd's fuzzy storage, when --fuzzy-flag names a list; like
 * spamc without a reporting service, "Unable to ..." is not a failure. */
static int do_report(const unsigned char *msg, size_t len)
{
    int code = 0, revoke = strcmp(sc.report, "revoke") == 0;
    if (tell(revoke ? RK_LEARN_HAM : RK_LEARN_SPAM, msg, len, &code) == RK_CTL_FAILED)
        return code;
    rk_ctl_outcome oc = RK_CTL_SKIPPED;
    if (sc.fuzzy_flag)
        oc = tell(revoke ? RK_FUZZY_DEL : RK_FUZZY_ADD, msg, len, &code);
    if (oc == RK_CTL_FAILED)
        return code;
    if (oc == RK_CTL_DONE)
        return emit_buf("Message successfully reported/revoked\n", 38, 0);
    return emit_buf("Unable to report/revoke message\n", 32, 0);
}

static int do_scan(const unsigned char *msg, size_t len)
{
    rk_response resp = {0};
    rk_error err;
    rk_error_clear(&err);
    int code = 0;
    if (request(SCAN, msg, len, 0, &resp, &err, &code)) {
        if (err.code)
            tk_err("%s", err.msg);
        rk_response_clear(&resp);
        return scan_failed(code, 0);
    }
    rk_result r;
    rk_error why;
    int parsed = rk_scan_result(&resp, &err, 0, &r, &why) == 0;
    if (!parsed || r.error) {
        if (parsed)
            tk_err("%s: %s", resp.host ? resp.host : "server", r.error);
        else
            tk_err("%s", why.msg);
        if (parsed)
            rk_result_clear(&r);
        rk_response_clear(&resp);
        return scan_failed(parsed ? TK_EX_PROTOCOL : tk_exit_for(&why), 0);
    }
    int spam = is_spam(&r);
    char *s = NULL;
    size_t n = 0;
    FILE *f = NULL;
    if (sc.check || sc.full || sc.full_spam || sc.tests)
        f = open_memstream(&s, &n);
    if (sc.check) {
        sc_put_score(f, &r);
        code = spam;
    } else if (sc.full || (sc.full_spam && spam)) {
        sc_put_score(f, &r);
        sc_put_report(f, &r);
    } else if (sc.tests) {
        for (size_t i = 0; i < r.n_symbols; i++)
            fprintf(f, "%s%s", i ? "," : "", r.symbols[i].name);
    }
    if (f) {
        fclose(f);
        code = emit_text(s, n, sc.check ? spam : sc.exitcode ? spam : 0);
    } else {
        code = emit_message(msg, len, &r, sc.exitcode ? spam : 0);
    }
    rk_result_clear(&r);
    rk_response_clear(&resp);
    return code;
}

/* ------------------------------------------------------------ main */

static void apply_connection(void)
{
    if (sc.timeout >= 0)
        tk_conn_opts.timeout = sc.timeout;
    if (sc.connect_timeout > 0)
        tk_conn_opts.connect_timeout = sc.connect_timeout;
    else if (sc.timeout > 0)
        tk_conn_opts.connect_timeout = sc.timeout;
    int tries = sc.connect_retries > sc.filter_retries ? sc.connect_retries : sc.filter_retries;
    if (tries > 0)
        tk_transport_opts.retries = tries - 1;
    int sleep = sc.retry_sleep >= 0 ? sc.retry_sleep : sc.filter_retry_sleep;
    if (sleep >= 0)
        tk_transport_opts.retry_delay = sleep;
    if (sc.randomize)
        tk_transport_opts.random_host = 1;
    if (sc.ssl_ca_file)
        tk_transport_opts.cacert = sc.ssl_ca_file;
    /* the controller's password, for -L and -C only: a scan neither sends
     * it nor fails when the file cannot be read (spamc -x would bounce) */
    if (sc.learn || sc.report)
        tk_conn_opts.password_file = sc.password_file;
}

int main(int argc, char **argv)
{
    tk_prog = "rspamkit-spamc";
    signal(SIGPIPE, SIG_IGN);
    int rc = sc_parse_args(argc, argv, &pipe_argv);
    if (rc >= 0)
        return rc;
    apply_connection();

    if (sc.ping)
        return do_ping();

    unsigned char *raw = NULL, *body = NULL;
    size_t raw_len = 0, len = 0;
    if (tk_read_fd(STDIN_FILENO, &raw, &raw_len) != 0) {
        tk_err("cannot read the message from stdin: %s", strerror(errno));
        return TK_EX_IOERR;
    }
    in.raw = raw;
    in.raw_len = raw_len;
    int code, tell = sc.learn || sc.report;
    if (!raw_len) { /* spamc: an I/O error */
        tk_err("the message is empty: not %s", tell ? "learned" : "scanned");
        code = tell ? TK_EX_IOERR : scan_failed(TK_EX_IOERR, 0);
    } else if (raw_len > (size_t)sc.max_size) {
        tk_err("the message (%zu bytes) is larger than -s %ld: not %s", raw_len, sc.max_size,
               tell ? "learned" : "scanned");
        code = tell ? SC_EX_TOOBIG : scan_failed(0, 1);
    } else if (sc.bsmtp && sc_bsmtp_parse(raw, raw_len, &body, &len, &in.bsmtp)) {
        tk_err("-B: the input has no DATA line and lone dot");
        code = tell ? TK_EX_DATAERR : scan_failed(TK_EX_DATAERR, 0);
    } else {
        const unsigned char *msg = body ? body : raw;
        if (!body)
            len = raw_len;
        code = sc.learn    ? do_learn(msg, len)
               : sc.report ? do_report(msg, len)
                          : do_scan(msg, len);
    }
    free(body);
    free(raw);
    return code;
}
