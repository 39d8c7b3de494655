/* rspamkit-spamc: SpamAssassin's spamc command line and contract, against
 * Rspamd.  See rspamkit-spamc(1) for the mapping and the differences. */
#include "config.h"
#include "common.h"
#include "inputs.h"
#include "lda.h"
#include "transport_opts.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

/* spamc's exit codes beyond common.h's */
#define SC_EX_NOHOST 68
#define SC_EX_OSERR 71
#define SC_EX_CONFIG 78
#define SC_EX_TOOBIG 98
#define SC_MAX_SIZE (256 * 1024 * 1024)

/* ------------------------------------------------------------ options */

static struct {
    char *dest, *socket, *learn, *report, *user, *config, *controller, *password_file;
    char *ssl_cert, *ssl_key, *ssl_ca_file, *ssl_ca_path;
    int port, check, full, full_spam, tests, exitcode, no_fallback, tempfail, ping;
    int fuzzy_flag, randomize, bsmtp, log_stderr, headers, ipv4, ipv6, ssl, help, version, obsolete_f;
    int timeout, connect_timeout, connect_retries, retry_sleep, filter_retries,
        filter_retry_sleep;
    long max_size;
} o = {.timeout = -1, .connect_timeout = -1, .connect_retries = -1, .retry_sleep = -1,
       .filter_retries = -1, .filter_retry_sleep = -1, .max_size = 500 * 1024};

static struct poptOption spamc_table[] = {
    {"dest", 'd', POPT_ARG_STRING, &o.dest, 0,
     "Rspamd servers to scan with: host[,host...] (host:port, [v6]:port, http(s)://...)", "HOSTS"},
    {"port", 'p', POPT_ARG_INT, &o.port, 0,
     "Port of the servers of -d without one (default 11333, Rspamd's normal worker)", "PORT"},
    {"socket", 'U', POPT_ARG_STRING, &o.socket, 0, "Scan through this UNIX socket instead", "PATH"},
    {"randomize", 'H', POPT_ARG_NONE, &o.randomize, 0, "Try the servers of -d in random order",
     NULL},
    {"timeout", 't', POPT_ARG_INT, &o.timeout, 0,
     "I/O timeout in seconds (0 = none; default 10 or the config file's)", "SECONDS"},
    {"connect-timeout", 'n', POPT_ARG_INT, &o.connect_timeout, 0,
     "Connect timeout in seconds (default -t, else 5)", "SECONDS"},
    {"connect-retries", 0, POPT_ARG_INT, &o.connect_retries, 0,
     "Attempts over the server list (default 1, or the config file's retries + 1)", "N"},
    {"retry-sleep", 0, POPT_ARG_INT, &o.retry_sleep, 0,
     "Seconds before the second attempt, doubling after (default 1)", "SECONDS"},
    {"filter-retries", 0, POPT_ARG_INT, &o.filter_retries, 0,
     "Same as --connect-retries: failed scans are retried as failed connections", "N"},
    {"filter-retry-sleep", 0, POPT_ARG_INT, &o.filter_retry_sleep, 0,
     "Same as --retry-sleep", "SECONDS"},
    {"max-size", 's', POPT_ARG_LONG, &o.max_size, 0,
     "Pass larger messages through unscanned (bytes; default 512000, at most 256 MB)", "BYTES"},
    {"username", 'u', POPT_ARG_STRING, &o.user, 0,
     "Mailbox whose per-user statistics and settings apply (sent as Deliver-To)", "USER"},
    {"learntype", 'L', POPT_ARG_STRING, &o.learn, 0,
     "Learn the message as spam or ham through Rspamd's controller (forget: not supported)",
     "TYPE"},
    {"reporttype", 'C', POPT_ARG_STRING, &o.report, 0,
     "report: learn as spam and add fuzzy hashes (--fuzzy-flag); revoke: learn as ham and "
     "delete them",
     "TYPE"},
    {"fuzzy-flag", 0, POPT_ARG_INT, &o.fuzzy_flag, 0,
     "Fuzzy list (flag of a fuzzy_check rule) that -C reports to", "N"},
    {"check", 'c', POPT_ARG_NONE, &o.check, 0,
     "Print score/threshold; exit 1 for spam, 0 otherwise", NULL},
    {"tests", 'y', POPT_ARG_NONE, &o.tests, 0, "Print the names of the symbols hit, comma-separated",
     NULL},
    {"full-spam", 'r', POPT_ARG_NONE, &o.full_spam, 0, "Print the report, for spam only", NULL},
    {"full", 'R', POPT_ARG_NONE, &o.full, 0, "Print the report (score/threshold, then symbols)",
     NULL},
    {"headers", 0, POPT_ARG_NONE, &o.headers, 0,
     "Accepted: only headers are ever rewritten", NULL},
    {"exitcode", 'E', POPT_ARG_NONE, &o.exitcode, 0, "Exit 1 for spam, 0 otherwise", NULL},
    {"no-safe-fallback", 'x', POPT_ARG_NONE, &o.no_fallback, 0,
     "On errors print no message and exit with an error code", NULL},
    {"unavailable-tempfail", 'X', POPT_ARG_NONE, &o.tempfail, 0,
     "With -x, exit 75 instead of 69 when the server is unavailable", NULL},
    {"log-to-stderr", 'l', POPT_ARG_NONE, &o.log_stderr, 0,
     "Accepted: errors always go to stderr", NULL},
    {"pipe-to", 'e', POPT_ARG_STRING, NULL, 0,
     "Pipe the output to COMMAND ARGS... (the last option: the rest is the command)", "COMMAND"},
    {"config", 'F', POPT_ARG_STRING, &o.config, 0,
     "Read more options from FILE (spamc.conf syntax) before the command line", "FILE"},
    {"bsmtp", 'B', POPT_ARG_NONE, &o.bsmtp, 0,
     "The input is one BSMTP message: scan what is between DATA and the lone dot", NULL},
    {"ssl", 'S', POPT_ARG_NONE, &o.ssl, 0, "Talk HTTPS to the servers of -d (a TLS proxy)", NULL},
    {"ssl-ca-file", 0, POPT_ARG_STRING, &o.ssl_ca_file, 0,
     "CA certificates to verify the server with (as --cacert)", "FILE"},
    {"ssl-ca-path", 0, POPT_ARG_STRING, &o.ssl_ca_path, 0, "Not supported: use --ssl-ca-file",
     "DIR"},
    {"ssl-cert", 0, POPT_ARG_STRING, &o.ssl_cert, 0, "Client certificates: not supported", "FILE"},
    {"ssl-key", 0, POPT_ARG_STRING, &o.ssl_key, 0, "Client certificates: not supported", "FILE"},
    {"ping", 'K', POPT_ARG_NONE, &o.ping, 0, "Check that the server answers (Rspamd's /ping)",
     NULL},
    {"compress", 0, POPT_ARG_NONE, &tk_transport_opts.compressed, 0,
     "As -z: compress the message (zstd: Rspamd does not take gzip)", NULL},
    {NULL, '4', POPT_ARG_NONE, &o.ipv4, 0, "Accepted: every address of a name is tried", NULL},
    {NULL, '6', POPT_ARG_NONE, &o.ipv6, 0, "Accepted: every address of a name is tried", NULL},
    {NULL, 'f', POPT_ARG_NONE, &o.obsolete_f, 0, "Accepted (the default)", NULL},
    {"controller", 0, POPT_ARG_STRING, &o.controller, 0,
     "Controller for -L and -C (default: the hosts of -d on port 11334, or the config "
     "file's)",
     "HOSTS"},
    {"password-file", 0, POPT_ARG_STRING, &o.password_file, 0,
     "Controller password for -L and -C from FILE (or RSPAMKIT_PASSWORD, or the config file)", "FILE"},
    {"help", 'h', POPT_ARG_NONE, &o.help, 0, "Print this help and exit", NULL},
    {"version", 'V', POPT_ARG_NONE, &o.version, 0, "Print the version and exit", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_transport_table, 0, "Transport options:", NULL},
    POPT_TABLEEND};

/* ------------------------------------------------------------ argv */

/* -e/--pipe-to: everything after it is the command. Cuts argv there. */
static char **split_pipe_to(int *argc, char **argv)
{
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-e") == 0 || strcmp(a, "--pipe-to") == 0) {
            if (i + 1 >= *argc)
                return NULL; /* popt reports the missing value */
            *argc = i;
            argv[i] = NULL;
            return argv + i + 1;
        }
    }
    return NULL;
}

/* The text of the -F file: the words of the new vector point into it, and
 * popt keeps pointers to them until the end, so it is freed at exit. */
static char *conf_text;
static void free_conf_text(void) { free(conf_text); }

/* spamc.conf: words of FILE (blank lines and # lines skipped) before the
 * command line.  Returns the new vector (malloc'd) or NULL after an error. */
static char **with_config(const char *path, int *argc, char **argv)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        tk_err("cannot open config file %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 0;
    char buf[4096];
    for (size_t got; (got = fread(buf, 1, sizeof buf, f)) > 0; len += got) {
        char *g = realloc(conf_text, (cap = len + got + 1));
        if (!g) {
            fclose(f);
            tk_err("out of memory");
            return NULL;
        }
        conf_text = g;
        memcpy(conf_text + len, buf, got);
    }
    fclose(f);
    atexit(free_conf_text);
    size_t words = 0;
    for (size_t i = 0; i < len; i++)
        words += conf_text[i] != ' ' && conf_text[i] != '\t' && conf_text[i] != '\r' &&
                 conf_text[i] != '\n' && (i == 0 || strchr(" \t\r\n", conf_text[i - 1]));
    char **v = malloc((words + (size_t)*argc + 1) * sizeof *v);
    if (!v) {
        tk_err("out of memory");
        return NULL;
    }
    size_t n = 0;
    v[n++] = argv[0];
    if (conf_text) {
        conf_text[len] = '\0';
        char *ls, *ws;
        for (char *line = strtok_r(conf_text, "\n", &ls); line; line = strtok_r(NULL, "\n", &ls)) {
            if (line[0] == '#')
                continue;
            for (char *w = strtok_r(line, " \t\r", &ws); w; w = strtok_r(NULL, " \t\r", &ws))
                v[n++] = w;
        }
    }
    for (int i = 1; i < *argc; i++)
        v[n++] = argv[i];
    v[n] = NULL;
    *argc = (int)n;
    return v;
}

/* ------------------------------------------------------------ output */

static char **pipe_argv; /* -e */

/* The input as read, and with -B its envelope around the message. */
static struct {
    const unsigned char *raw;
    size_t raw_len;
    size_t pre_len;               /* raw[0, pre_len): up to the DATA line */
    const unsigned char *post;    /* the lone dot line and what follows */
    size_t post_len;
} in;

/* -B: the message between the DATA line and the lone dot, dots unstuffed
 * (malloc'd in *msg), as spamc finds them. 0, or -1 if there is none. */
static int bsmtp_parse(const unsigned char *raw, size_t len, unsigned char **msg, size_t *mlen)
{
    const unsigned char *p = raw, *end = raw + len, *start = NULL;
    while (!start && (p = memchr(p, '\n', (size_t)(end - p)))) {
        p++;
        if (end - p >= 5 && strncasecmp((const char *)p, "DATA", 4) == 0) {
            const unsigned char *q = p + 4 + (p[4] == '\r');
            if (q < end && *q == '\n')
                start = q + 1;
        }
    }
    if (!start || !(*msg = malloc((size_t)(end - start) + 1)))
        return -1;
    size_t j = 0;
    for (const unsigned char *c = start; c < end; c++) {
        if ((c == start || c[-1] == '\n') && *c == '.') {
            size_t left = (size_t)(end - c);
            if (left == 1 || c[1] == '\n' || (left > 2 && c[1] == '\r' && c[2] == '\n')) {
                in.pre_len = (size_t)(start - raw);
                in.post = c;
                in.post_len = left;
                *mlen = j;
                return 0;
            }
            if (c[1] == '.')
                continue; /* a stuffed dot */
        }
        (*msg)[j++] = *c;
    }
    free(*msg);
    *msg = NULL;
    return -1;
}

/* -B: the output message, dot-stuffed, back in its envelope (malloc'd). */
static unsigned char *bsmtp_wrap(const struct iovec *v, size_t n, size_t *len)
{
    size_t total = in.pre_len + in.post_len + 1;
    for (size_t i = 0; i < n; i++)
        total += v[i].iov_len * 2;
    unsigned char *out = malloc(total), *q = out;
    if (!out)
        return NULL;
    memcpy(q, in.raw, in.pre_len);
    q += in.pre_len;
    int bol = 1;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < v[i].iov_len; k++) {
            unsigned char c = ((const unsigned char *)v[i].iov_base)[k];
            if (bol && c == '.')
                *q++ = '.';
            *q++ = c;
            bol = c == '\n';
        }
    memcpy(q, in.post, in.post_len);
    *len = (size_t)(q - out) + in.post_len;
    return out;
}

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

/* -c, -R, -r: the score line (spamc prints both with one decimal). */
static void put_score(FILE *f, const rk_result *r)
{
    fprintf(f, "%.1f/%.1f\n", r->has_score ? r->score : 0.0,
            r->has_required ? r->required_score : 0.0);
}

/* -R, -r: SpamAssassin's "Content analysis details" table, from the symbols
 * and their descriptions: "%4.1f %-22s description", wrapped at 78. */
static void put_report(FILE *f, const rk_result *r)
{
    fprintf(f, "\nContent analysis details:   (%.1f points, %.1f required)\n\n",
            r->has_score ? r->score : 0.0, r->has_required ? r->required_score : 0.0);
    fputs(" pts rule name              description\n"
          "---- ---------------------- --------------------------------------------------\n",
          f);
    for (size_t i = 0; i < r->n_symbols; i++) {
        const rk_symbol *s = &r->symbols[i];
        const char *d = s->description ? s->description : "";
        int col = fprintf(f, *d ? "%4.1f %-22s" : "%4.1f %s", s->has_score ? s->score : 0.0,
                          s->name);
        /* words of the description, wrapped under the description column */
        int first = 1;
        while (*d) {
            size_t w = strcspn(d, " \t\r\n");
            if (!first && col + 1 + (int)w > 78) {
                fputs("\n                           ", f);
                col = 27;
            }
            fputc(' ', f);
            fwrite(d, 1, w, f);
            col += 1 + (int)w;
            first = 0;
            d += w;
            d += strspn(d, " \t\r\n");
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

/* The default (and -E) output: the message with SpamAssassin's headers.
 * rk_message_rewrite writes X-Spam-Scanner, X-Spam-Flag, X-Spam-Status and
 * X-Spam-Level; X-Spam-Checker-Version goes before them. */
static int emit_message(const unsigned char *msg, size_t len, const rk_result *r, int code)
{
    char scanner[64], host[256] = "localhost", *checker = NULL;
    snprintf(scanner, sizeof scanner, "rspamkit %s", PACKAGE_VERSION);
    rk_message_opts mo = {.style = RK_STYLE_SPAMASSASSIN, .scanner = scanner};
    rk_rewrite out = {0};
    rk_error e;
    rk_error_clear(&e);
    if (rk_message_rewrite(msg, len, r, &mo, &out, &e)) {
        tk_err("out of memory");
        return TK_EX_SOFTWARE;
    }
    gethostname(host, sizeof host - 1);
    size_t at = out.n;
    for (size_t i = 0; i < out.n; i++)
        if (out.iov[i].iov_len > 16 && memcmp(out.iov[i].iov_base, "X-Spam-Scanner: ", 16) == 0) {
            at = i;
            break;
        }
    struct iovec *v = calloc(out.n + 1, sizeof *v);
    int n = -1;
    if (v && at < out.n) {
        const char *blk = out.iov[at].iov_base;
        const char *eol = memchr(blk, '\n', out.iov[at].iov_len);
        eol = eol && eol > blk && eol[-1] == '\r' ? "\r\n" : eol ? "\n" : "\r";
        n = asprintf(&checker, "X-Spam-Checker-Version: rspamkit %s (Rspamd) on %s%s",
                     PACKAGE_VERSION, host, eol);
    }
    if (!v || (at < out.n && n < 0)) {
        free(v);
        rk_rewrite_clear(&out);
        tk_err("out of memory");
        return TK_EX_SOFTWARE;
    }
    size_t k = 0;
    for (size_t i = 0; i < out.n; i++) {
        if (i == at)
            v[k++] = (struct iovec){checker, (size_t)n};
        v[k++] = out.iov[i];
    }
    if (in.post) {
        size_t wlen = 0;
        unsigned char *w = bsmtp_wrap(v, k, &wlen);
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
    if (code == TK_EX_UNAVAILABLE && o.tempfail && o.no_fallback)
        code = TK_EX_TEMPFAIL;
    return code;
}

/* The scan failed (or was not done): spamc's safe fallback (the input as
 * it came), or its error output with -x. */
static int scan_failed(int code, int too_big)
{
    int ret = too_big || !o.no_fallback ? 0 : code;
    if (o.check || o.full || o.full_spam)
        return emit_buf("0/0\n", 4, ret);
    if (o.tests)
        return emit_buf("\n", 1, ret);
    if (!o.no_fallback || too_big)
        return emit_buf(in.raw, in.raw_len, ret);
    return ret;
}

/* ------------------------------------------------------------ requests */

/* Point the shared connection options at the scanner or the controller. */
static char *hosts_for(int controller, int *port)
{
    const char *h = controller && o.controller ? o.controller : o.socket && !controller ? o.socket
                                                                                         : o.dest;
    *port = controller ? RK_CONTROLLER_PORT : o.port ? o.port : RK_DEFAULT_PORT;
    if (!h)
        return NULL; /* the config file's, else localhost */
    if (!o.ssl || (controller && o.controller) || (!controller && o.socket))
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
    if (controller && !h && o.socket) {
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
    rk_msg_opts mo = {.deliver_to = o.user, .flag = flag};
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
    int flag = op == RK_FUZZY_ADD || op == RK_FUZZY_DEL ? o.fuzzy_flag : 0;
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
    int spam = strcmp(o.learn, "spam") == 0;
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
    int code = 0, revoke = strcmp(o.report, "revoke") == 0;
    if (tell(revoke ? RK_LEARN_HAM : RK_LEARN_SPAM, msg, len, &code) == RK_CTL_FAILED)
        return code;
    rk_ctl_outcome oc = RK_CTL_SKIPPED;
    if (o.fuzzy_flag)
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
    if (o.check || o.full || o.full_spam || o.tests)
        f = open_memstream(&s, &n);
    if (o.check) {
        put_score(f, &r);
        code = spam;
    } else if (o.full || (o.full_spam && spam)) {
        put_score(f, &r);
        put_report(f, &r);
    } else if (o.tests) {
        for (size_t i = 0; i < r.n_symbols; i++)
            fprintf(f, "%s%s", i ? "," : "", r.symbols[i].name);
    }
    if (f) {
        fclose(f);
        code = emit_text(s, n, o.check ? spam : o.exitcode ? spam : 0);
    } else {
        code = emit_message(msg, len, &r, o.exitcode ? spam : 0);
    }
    rk_result_clear(&r);
    rk_response_clear(&resp);
    return code;
}

/* ------------------------------------------------------------ main */

static int check_options(poptContext pc)
{
    int modes = !!o.check + !!o.full + !!o.full_spam + !!o.tests;
    if (o.learn && strcmp(o.learn, "spam") != 0 && strcmp(o.learn, "ham") != 0) {
        if (strcmp(o.learn, "forget") == 0)
            return tk_usage_error(pc, "-L forget: Rspamd cannot unlearn a message");
        return tk_usage_error(pc, "Please specify a legal learn type (spam, ham)");
    }
    if (o.report && strcmp(o.report, "report") != 0 && strcmp(o.report, "revoke") != 0)
        return tk_usage_error(pc, "Please specify a legal report type (report, revoke)");
    if ((o.learn || o.report) && (modes || o.ping || (o.learn && o.report)))
        return tk_usage_error(pc, "-L and -C exclude -c, -r, -R, -y, -K and each other");
    if (o.fuzzy_flag && !o.report)
        return tk_usage_error(pc, "--fuzzy-flag goes with -C");
    if (tk_transport_opts.local_file)
        return tk_usage_error(pc, "--local-file: the message comes from stdin, not a file");
    if (o.ssl_cert || o.ssl_key || o.ssl_ca_path)
        return tk_usage_error(pc, "%s is not supported (use --ssl-ca-file)",
                              o.ssl_ca_path ? "--ssl-ca-path" : "a client certificate");
    if (o.tempfail && !o.no_fallback)
        tk_err("-X has an effect only with -x");
    if (o.max_size <= 0 || o.max_size > SC_MAX_SIZE)
        return tk_usage_error(pc, "-s must be between 1 and %d", SC_MAX_SIZE);
    if (o.port < 0 || o.port > 65535)
        return tk_usage_error(pc, "-p must be a port number");
    if (o.socket && o.dest)
        return tk_usage_error(pc, "give either -d or -U, not both");
    return 0;
}

static void apply_connection(void)
{
    if (o.timeout >= 0)
        tk_conn_opts.timeout = o.timeout;
    if (o.connect_timeout > 0)
        tk_conn_opts.connect_timeout = o.connect_timeout;
    else if (o.timeout > 0)
        tk_conn_opts.connect_timeout = o.timeout;
    int tries = o.connect_retries > o.filter_retries ? o.connect_retries : o.filter_retries;
    if (tries > 0)
        tk_transport_opts.retries = tries - 1;
    int sleep = o.retry_sleep >= 0 ? o.retry_sleep : o.filter_retry_sleep;
    if (sleep >= 0)
        tk_transport_opts.retry_delay = sleep;
    if (o.randomize)
        tk_transport_opts.random_host = 1;
    if (o.ssl_ca_file)
        tk_transport_opts.cacert = o.ssl_ca_file;
    /* the controller's password, for -L and -C only: a scan neither sends
     * it nor fails when the file cannot be read (spamc -x would bounce) */
    if (o.learn || o.report)
        tk_conn_opts.password_file = o.password_file;
}

int main(int argc, char **argv)
{
    tk_prog = "rspamkit-spamc";
    signal(SIGPIPE, SIG_IGN);
    pipe_argv = split_pipe_to(&argc, argv);
    char **args = argv, **conf_args = NULL;
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if ((strcmp(argv[i], "-F") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path) {
            if (!(args = conf_args = with_config(path, &argc, argv)))
                return SC_EX_CONFIG;
            break;
        }
    }
    poptContext pc = poptGetContext("rspamkit-spamc", argc, (const char **)args, spamc_table, 0);
    poptSetOtherOptionHelp(pc, "[OPTION...] < MESSAGE");
    int rc;
    while ((rc = poptGetNextOpt(pc)) > 0)
        ;
    if (rc < -1) {
        free(conf_args);
        return tk_popt_error(pc, rc);
    }
    if (o.help || o.version) {
        if (o.help)
            poptPrintHelp(pc, stdout, 0);
        else
            tk_print_version();
        poptFreeContext(pc);
        free(conf_args);
        return 0;
    }
    if (poptPeekArg(pc)) {
        free(conf_args);
        return tk_usage_error(pc, "unexpected argument '%s': the message is read from stdin",
                              poptPeekArg(pc));
    }
    if ((rc = check_options(pc)) != 0) {
        free(conf_args);
        return rc;
    }
    poptFreeContext(pc);
    free(conf_args);
    apply_connection();

    if (o.ping)
        return do_ping();

    unsigned char *raw = NULL, *body = NULL;
    size_t raw_len = 0, len = 0;
    if (tk_read_fd(STDIN_FILENO, &raw, &raw_len) != 0) {
        tk_err("cannot read the message from stdin: %s", strerror(errno));
        return TK_EX_IOERR;
    }
    in.raw = raw;
    in.raw_len = raw_len;
    int code, tell = o.learn || o.report;
    if (!raw_len) { /* spamc: an I/O error */
        tk_err("the message is empty: not %s", tell ? "learned" : "scanned");
        code = tell ? TK_EX_IOERR : scan_failed(TK_EX_IOERR, 0);
    } else if (raw_len > (size_t)o.max_size) {
        tk_err("the message (%zu bytes) is larger than -s %ld: not %s", raw_len, o.max_size,
               tell ? "learned" : "scanned");
        code = tell ? SC_EX_TOOBIG : scan_failed(0, 1);
    } else if (o.bsmtp && bsmtp_parse(raw, raw_len, &body, &len)) {
        tk_err("-B: the input has no DATA line and lone dot");
        code = tell ? TK_EX_DATAERR : scan_failed(TK_EX_DATAERR, 0);
    } else {
        const unsigned char *msg = body ? body : raw;
        if (!body)
            len = raw_len;
        code = o.learn    ? do_learn(msg, len)
               : o.report ? do_report(msg, len)
                          : do_scan(msg, len);
    }
    free(body);
    free(raw);
    return code;
}
