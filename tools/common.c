#include "config.h"
#include "common.h"
#include "commands.h"
#include "inputs.h"
#include "render.h"
#include "transport_opts.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const char *tk_prog = "rspamkit";
tk_conn tk_conn_opts = {.timeout = NAN}; /* NAN: not given */

/* Records that -P was given even without a value. */
static void conn_cb(poptContext con, enum poptCallbackReason reason, const struct poptOption *opt,
                    const char *arg, void *data)
{
    (void)con;
    (void)reason;
    (void)arg;
    (void)data;
    if (opt && opt->val == 'P')
        tk_conn_opts.password_given = 1;
}

struct poptOption tk_conn_table[] = {
    {NULL, 0, POPT_ARG_CALLBACK, (void *)conn_cb, 0, NULL, NULL},
    {"connect", 'h', POPT_ARG_STRING, &tk_conn_opts.host, 0,
     "Server address list: host[:port], [v6]:port, /unix/socket, http://host:port", "HOSTS"},
    {"timeout", 't', POPT_ARG_DOUBLE, &tk_conn_opts.timeout, 0,
     "I/O timeout in seconds (0 = none, default 10)", "SECONDS"},
    {"connect-timeout", 0, POPT_ARG_DOUBLE, &tk_conn_opts.connect_timeout, 0,
     "Connect timeout in seconds (default 5)", "SECONDS"},
    {"password", 'P', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, &tk_conn_opts.password, 'P',
     "Controller password (visible to ps: prefer --password-file or RSPAMKIT_PASSWORD); "
     "without a value, prompt", "PASSWORD"},
    {"password-file", 0, POPT_ARG_STRING, &tk_conn_opts.password_file, 0,
     "Read the controller password from FILE (mode 0600 or stricter)", "FILE"},
    {"rspamc-output", 0, POPT_ARG_NONE | POPT_ARGFLAG_DOC_HIDDEN, &tk_rspamc_output, 0, NULL, NULL},
    POPT_TABLEEND};

tk_msg tk_msg_opts;
int tk_rspamc_output;

struct poptOption tk_req_table[] = {
    {"header", 0, POPT_ARG_ARGV, &tk_msg_opts.header, 0,
     "Extra request header NAME:VALUE (repeatable)", "HEADER"},
    {"user-agent", 'U', POPT_ARG_STRING, &tk_msg_opts.user_agent, 0,
     "User-Agent header (default rspamc: Rspamd then skips greylisting and rate limits, "
     "as for rspamc; any other value, e.g. rspamkit, gets them)", "UA"},
    {"bind", 'b', POPT_ARG_STRING, &tk_msg_opts.bind, 0,
     "Accepted for rspamc compatibility, ignored", "IP"},
    POPT_TABLEEND};

struct poptOption tk_msg_table[] = {
    {"ip", 'i', POPT_ARG_STRING, &tk_msg_opts.ip, 0, "Emulate that the message came from IP",
     "IP"},
    {"from", 'F', POPT_ARG_STRING, &tk_msg_opts.from, 0, "SMTP MAIL FROM address", "ADDR"},
    {"rcpt", 'r', POPT_ARG_ARGV, &tk_msg_opts.rcpt, 0, "SMTP RCPT TO address (repeatable)",
     "ADDR"},
    {"helo", 0, POPT_ARG_STRING, &tk_msg_opts.helo, 0, "SMTP HELO name", "NAME"},
    {"hostname", 0, POPT_ARG_STRING, &tk_msg_opts.hostname, 0,
     "Resolved hostname of the SMTP client", "NAME"},
    {"user", 'u', POPT_ARG_STRING, &tk_msg_opts.user, 0,
     "Emulate an authenticated user (per-user statistics)", "USER"},
    {"deliver", 'd', POPT_ARG_STRING, &tk_msg_opts.deliver, 0,
     "Emulate delivery to USER (Deliver-To, per-user statistics)", "USER"},
    {"pass-all", 'p', POPT_ARG_NONE, &tk_msg_opts.pass_all, 0, "Pass all filters (Flags: pass_all)",
     NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, tk_req_table, 0, NULL, NULL},
    POPT_TABLEEND};

void tk_msg_fill(rk_msg_opts *mo)
{
    const tk_msg *m = &tk_msg_opts;
    size_t n_rcpt = 0, n_hdr = 0;
    while (m->rcpt && m->rcpt[n_rcpt])
        n_rcpt++;
    while (m->header && m->header[n_hdr])
        n_hdr++;
    mo->ip = m->ip;
    mo->from = m->from;
    mo->helo = m->helo;
    mo->hostname = m->hostname;
    mo->user = m->user;
    mo->deliver_to = m->deliver;
    mo->rcpt = (const char *const *)m->rcpt;
    mo->n_rcpt = n_rcpt;
    /* rspamc's User-Agent: Rspamd's greylist, ratelimit, reputation and
     * neural modules skip a request that says "rspamc" (a local check), so
     * the same message gets the same action as with rspamc. */
    mo->user_agent = m->user_agent ? m->user_agent : "rspamc";
    mo->pass_all = m->pass_all;
    mo->extra = (const char *const *)m->header;
    mo->n_extra = n_hdr;
}

static FILE *err_capture; /* tk_err_capture() */

void tk_err_capture(FILE *f)
{
    err_capture = f;
}

static void verr(const char *fmt, va_list ap)
{
    if (err_capture) {
        vfprintf(err_capture, fmt, ap);
        return;
    }
    fprintf(stderr, "%s: ", tk_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tk_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(fmt, ap);
    va_end(ap);
}

int tk_exit_for(const rk_error *err)
{
    switch (err->code) {
    case RK_OK: return TK_EX_OK;
    case RK_ERR_USAGE: return TK_EX_USAGE;
    case RK_ERR_NOMEM: return TK_EX_SOFTWARE;
    case RK_ERR_INPUT: return TK_EX_NOINPUT;
    case RK_ERR_RESOLVE:
    case RK_ERR_CONNECT:
    case RK_ERR_UNSUPPORTED: return TK_EX_UNAVAILABLE;
    case RK_ERR_TIMEOUT:
    case RK_ERR_SEND:
    case RK_ERR_RECV: return TK_EX_TEMPFAIL;
    case RK_ERR_HTTP: return err->http_status >= 500 ? TK_EX_TEMPFAIL : TK_EX_PROTOCOL;
    case RK_ERR_AUTH: return TK_EX_NOPERM;
    case RK_ERR_SERVER:
    case RK_ERR_PROTOCOL:
    case RK_ERR_CRYPTO: return TK_EX_PROTOCOL;
    }
    return TK_EX_SOFTWARE;
}

/* ------------------------------------------------------------ passwords */

void tk_password_argv(int argc, char **argv, const char *tool)
{
    static char empty_pw[] = "--password=";
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if ((strcmp(argv[i], "-P") == 0 || strcmp(argv[i], "--password") == 0) &&
            tk_command_of(argv[i + 1], tool))
            argv[i] = empty_pw;
    }
}

void tk_password_hide(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *v = NULL;
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--password=", 11) == 0)
            v = a + 11;
        else if (strncmp(a, "-P", 2) == 0 && a[2])
            v = a + 2;
        else if ((strcmp(a, "-P") == 0 || strcmp(a, "--password") == 0) && i + 1 < argc &&
                 tk_conn_opts.password && strcmp(argv[i + 1], tk_conn_opts.password) == 0)
            v = argv[++i];
        if (v && *v)
            memset(v, 'x', strlen(v));
    }
}

static secret the_pw;

void tk_password_wipe(void)
{
    secret_clear(&the_pw);
    if (tk_conn_opts.password)
        rk_secret_wipe(tk_conn_opts.password, strlen(tk_conn_opts.password));
}

int tk_secret_code(secret_status st)
{
    switch (st) {
    case SECRET_OK: return TK_EX_OK;
    case SECRET_NOINPUT: return TK_EX_NOINPUT;
    case SECRET_NOPERM: return TK_EX_NOPERM;
    case SECRET_BADDATA: return TK_EX_DATAERR;
    }
    return TK_EX_SOFTWARE;
}

const char *tk_password(int needed, int *failed, int *code)
{
    const tk_conn *o = &tk_conn_opts;
    const char *pw = o->password;
    secret_status st = SECRET_OK;
    const char *what = NULL;
    *failed = 0;
    if (o->password_given && pw && *pw && o->password_file) {
        tk_err("give the password either with -P or with --password-file, not both");
        *code = TK_EX_USAGE;
        *failed = 1;
        return NULL;
    }
    if (o->password_given && pw && *pw) {
        if (pw[0] == '/' || pw[0] == '.') {
            /* rspamc: -P /path reads the file. Unlike rspamc, a file that cannot
             * be read is an error, never sent as the password itself. */
            st = secret_from_file(&the_pw, pw);
            what = "-P";
        } else {
            st = secret_from_string(&the_pw, pw);
        }
    } else if (o->password_file) {
        st = secret_from_file(&the_pw, o->password_file);
        what = "--password-file";
    } else if (o->password_given) {
        st = secret_from_tty(&the_pw, "Enter passphrase: ", NULL);
        what = "-P without a value (prompt)";
        if (st == SECRET_NOINPUT) {
            tk_err("%s: %s; use --password-file or RSPAMKIT_PASSWORD without a terminal", what,
                   the_pw.err);
            *code = TK_EX_NOINPUT;
            *failed = 1;
            secret_clear(&the_pw);
            return NULL;
        }
    } else if (getenv("RSPAMKIT_PASSWORD") && *getenv("RSPAMKIT_PASSWORD")) {
        st = secret_from_env(&the_pw, "RSPAMKIT_PASSWORD");
    } else {
        const rk_settings *conf = tk_settings(code);
        if (!conf) {
            *failed = 1;
            return NULL;
        }
        /* the configuration file's password, for the commands that need one:
         * a scan goes on without it when it cannot be used */
        if (conf->password && conf->password_error) {
            if (!needed)
                return NULL;
            tk_err("%s", conf->password_error);
            *code = TK_EX_NOPERM;
            *failed = 1;
            return NULL;
        }
        if (conf->password) {
            st = secret_from_string(&the_pw, conf->password);
            what = "password in the configuration file";
        } else if (conf->password_file) {
            st = secret_from_file(&the_pw, conf->password_file);
            what = "password_file in the configuration file";
        } else {
            return NULL;
        }
        if (st != SECRET_OK && !needed) {
            secret_clear(&the_pw);
            return NULL;
        }
    }
    if (st != SECRET_OK) {
        tk_err("%s%s%s", what ? what : "", what ? ": " : "", the_pw.err);
        *code = tk_secret_code(st);
        *failed = 1;
        secret_clear(&the_pw);
        return NULL;
    }
    if (the_pw.len == 0) {
        tk_err("%s: the password is empty", what ? what : "RSPAMKIT_PASSWORD");
        *code = TK_EX_DATAERR;
        *failed = 1;
        return NULL;
    }
    if (strlen(the_pw.buf) != the_pw.len || strcspn(the_pw.buf, "\r\n") != the_pw.len) {
        tk_err("%s: the password contains a NUL or line break, which cannot be sent in a header",
               what ? what : "the password");
        *code = TK_EX_DATAERR;
        *failed = 1;
        secret_clear(&the_pw);
        return NULL;
    }
    return the_pw.buf;
}

static rk_settings the_conf; /* lives as long as the process */
static int conf_state;   /* 0 not read, 1 read, -1 invalid */
static rk_error conf_err;

static void settings_read(void)
{
    if (conf_state == 0)
        conf_state = rk_config_load(&the_conf, &conf_err) ? -1 : 1;
}

const rk_settings *tk_settings(int *code)
{
    static int told;
    settings_read();
    if (conf_state < 0) {
        if (!told++)
            tk_err("%s", conf_err.msg);
        *code = TK_EX_USAGE;
        return NULL;
    }
    return &the_conf;
}

const char *tk_settings_error(void)
{
    settings_read();
    return conf_state < 0 ? conf_err.msg : NULL;
}

int tk_password_keep;

rk_client *tk_client(int default_port, int *code)
{
    rk_error err;
    rk_error_clear(&err);
    /* rspamc gives a negative -t no meaning of its own: refuse it rather
     * than put the default in its place */
    if (tk_conn_opts.timeout < 0 || tk_conn_opts.connect_timeout < 0) {
        int t = tk_conn_opts.timeout < 0;
        tk_err("invalid %s %g: a number of seconds, 0 or more%s",
               t ? "-t/--timeout" : "--connect-timeout",
               t ? tk_conn_opts.timeout : tk_conn_opts.connect_timeout,
               t ? " (0 waits forever)" : " (0 = the default)");
        *code = TK_EX_USAGE;
        return NULL;
    }
    int failed;
    const char *pw = tk_password(default_port == RK_CONTROLLER_PORT, &failed, code);
    if (failed)
        return NULL;
    const rk_settings *conf = tk_settings(code);
    if (!conf) {
        tk_password_wipe();
        return NULL;
    }
    /* command line, then the configuration files, then the defaults */
    const char *hosts = tk_conn_opts.host;
    if (!hosts)
        hosts = default_port == RK_CONTROLLER_PORT ? conf->controller : conf->host;
    double timeout = !isnan(tk_conn_opts.timeout) ? tk_conn_opts.timeout
                     : conf->timeout >= 0      ? conf->timeout
                                               : 10.0;
    double ctimeout = tk_conn_opts.connect_timeout > 0 ? tk_conn_opts.connect_timeout
                      : conf->connect_timeout > 0      ? conf->connect_timeout
                                                       : 0;
    rk_client_config cfg = {
        .hosts = hosts,
        .default_port = default_port,
        .connect_timeout = ctimeout,
        .timeout = timeout,
        .password = pw,
    };
    int tcode = tk_transport_apply(&cfg); /* --key, -z, --retries, ... */
    if (tcode) {
        tk_password_wipe();
        *code = tcode;
        return NULL;
    }
    rk_client *c = rk_client_new(&cfg, &err);
    if (!tk_password_keep)
        tk_password_wipe(); /* the client keeps its own copy */
    if (!c) {
        tk_err("%s", err.msg);
        *code = tk_exit_for(&err);
    }
    return c;
}

/* ------------------------------------------------------------ progress */

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tk_progress_start(tk_progress *p, int always, int never, const tk_walk_opts *wo)
{
    memset(p, 0, sizeof *p);
    p->on = !never && (always || isatty(STDERR_FILENO));
    p->always = always;
    p->total = p->on ? tk_count_inputs(wo) : 0;
    p->t0 = now_mono();
}

double tk_progress_elapsed(const tk_progress *p)
{
    return now_mono() - p->t0;
}

void tk_format_duration(char *buf, size_t len, double secs)
{
    if (secs < 0)
        secs = 0;
    if (secs < 10) {
        snprintf(buf, len, "%.1f s", secs);
        return;
    }
    unsigned long s = (unsigned long)(secs + 0.5);
    if (s >= 3600)
        snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
}

void tk_progress_draw(tk_progress *p, size_t done, const char *counts, int force)
{
    /* one input (an mbox counts as one until its second message is done) */
    if (!p->on || (!p->always && p->total < 2 && done < 2))
        return;
    double now = now_mono();
    if (!force && p->drawn && now - p->last < 0.1)
        return;
    p->last = now;
    double el = now - p->t0;
    double rate = el > 0 ? (double)done / el : 0;
    size_t total = p->total;
    if (total && done > total)
        total = 0; /* the estimate was short (mboxes): no ETA */
    char line[256], eta[32];
    int n;
    if (total)
        n = snprintf(line, sizeof line, "%zu/%zu (%zu%%)", done, total, done * 100 / total);
    else
        n = snprintf(line, sizeof line, "%zu", done);
    if (n > 0 && (size_t)n < sizeof line && counts && *counts)
        n += snprintf(line + n, sizeof line - (size_t)n, ", %s", counts);
    if (n > 0 && (size_t)n < sizeof line && el >= 0.5)
        n += snprintf(line + n, sizeof line - (size_t)n, ", %.1f/s", rate);
    if (n > 0 && (size_t)n < sizeof line && total && rate > 0 && el >= 1) {
        tk_format_duration(eta, sizeof eta, (double)(total - done) / rate);
        snprintf(line + n, sizeof line - (size_t)n, ", ETA %s", eta);
    }
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->drawn = 1;
}

void tk_progress_clear(tk_progress *p)
{
    if (p->on && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = 0;
}

int tk_popt_error(poptContext pc, int rc)
{
    tk_err("%s: %s", poptBadOption(pc, POPT_BADOPTION_NOALIAS), poptStrerror(rc));
    return TK_EX_USAGE;
}

int tk_usage_error(poptContext pc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(fmt, ap);
    va_end(ap);
    poptFreeContext(pc);
    return TK_EX_USAGE;
}

void tk_print_version(void)
{
    printf("%s %s\n", tk_prog, PACKAGE_VERSION);
}

int tk_parse_args(poptContext pc, const int *version, const char ***rest, size_t *n_rest)
{
    int rc;
    while ((rc = poptGetNextOpt(pc)) > 0)
        ;
    if (rc < -1)
        return tk_popt_error(pc, rc);
    if (*version) {
        tk_print_version();
        return 0;
    }
    *rest = poptGetArgs(pc);
    *n_rest = 0;
    while (*rest && (*rest)[*n_rest])
        (*n_rest)++;
    return -1;
}

/* ------------------------------------------------------------ bulk requests */

tk_slot *tk_order_slot(tk_order *q, size_t seq)
{
    size_t i = seq - q->first;
    if (i >= q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        while (cap <= i)
            cap *= 2;
        tk_slot *s = realloc(q->slots, cap * sizeof *s);
        if (!s)
            return NULL;
        memset(s + q->cap, 0, (cap - q->cap) * sizeof *s);
        q->slots = s;
        q->cap = cap;
    }
    if (i >= q->n)
        q->n = i + 1;
    return &q->slots[i];
}

/* errno of the first failed write to stdout here: a later call (isatty...)
 * may have changed errno by the time tk_flush_stdout() reports it */
static int out_errno;

static void flush_out(void)
{
    if (fflush(stdout) != 0 && !out_errno)
        out_errno = errno;
}

int tk_slot_emit(tk_slot *s, tk_progress *prog)
{
    int cleared = 0;
    if ((s->errline || s->out_len) && prog->drawn) {
        flush_out();
        tk_progress_clear(prog);
        cleared = 1;
    }
    if (s->out_len && fwrite(s->out, 1, s->out_len, stdout) != s->out_len && !out_errno)
        out_errno = errno;
    if (s->errline) {
        flush_out();
        fprintf(stderr, "%s: %s\n", tk_prog, s->errline);
    }
    free(s->out);
    free(s->errline);
    s->out = s->errline = NULL;
    s->out_len = 0;
    return cleared;
}

int tk_order_flush(tk_order *q, tk_progress *prog)
{
    size_t k = 0;
    int cleared = 0;
    while (k < q->n && q->slots[k].done)
        cleared |= tk_slot_emit(&q->slots[k++], prog);
    if (k) {
        memmove(q->slots, q->slots + k, (q->n - k) * sizeof *q->slots);
        memset(q->slots + q->n - k, 0, k * sizeof *q->slots);
        q->n -= k;
        q->first += k;
    }
    flush_out();
    return cleared;
}

void tk_order_free(tk_order *q, tk_progress *prog)
{
    for (size_t i = 0; i < q->n; i++)
        tk_slot_emit(&q->slots[i], prog);
    flush_out();
    free(q->slots);
    memset(q, 0, sizeof *q);
}

typedef struct bulk_job {
    size_t seq;
    tk_input in;
    rk_headers headers;
} bulk_job;

typedef struct bulk_priv {
    tk_order order;
    int unsent;        /* inputs were left when the run stopped */
} bulk_priv;

static void bulk_flush(tk_bulk *b)
{
    bulk_priv *p = b->priv;
    int cleared = tk_order_flush(&p->order, &b->prog);
    char counts[200];
    if (rk_ctl_op_kind(b->op) == RK_CTL_LEARN)
        snprintf(counts, sizeof counts, "%zu learned, %zu already, %zu skipped, %zu failed",
                 b->count[RK_CTL_DONE], b->count[RK_CTL_ALREADY], b->count[RK_CTL_SKIPPED],
                 b->count[RK_CTL_FAILED]);
    else
        snprintf(counts, sizeof counts, "%zu %s, %zu skipped, %zu failed", b->count[RK_CTL_DONE],
                 b->done_word ? b->done_word : "done", b->count[RK_CTL_SKIPPED],
                 b->count[RK_CTL_FAILED]);
    tk_progress_draw(&b->prog,
                     b->count[0] + b->count[1] + b->count[2] + b->count[3], counts, cleared);
}

static int bulk_finish(tk_bulk *b, size_t seq, const char *label, const rk_response *resp,
                       const rk_ctl_reply *r, int code, const char *errline)
{
    rk_ctl_outcome oc = r->outcome;
    tk_slot *s = tk_order_slot(&((bulk_priv *)b->priv)->order, seq);
    if (!s)
        return -1;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -1;
    b->count[oc]++;
    if (oc == RK_CTL_FAILED && !b->first_fail_code)
        b->first_fail_code = code;
    b->render(f, &s->errline, label, resp, r);
    fclose(f);
    if (errline) {
        free(s->errline);
        s->errline = strdup(errline);
    }
    s->out = buf;
    s->out_len = len;
    s->done = 1;
    return 0;
}

static int bulk_next(void *ud, rk_request *req, void **token)
{
    tk_bulk *b = ud;
    for (;;) {
        if (b->stop_code) {
            bulk_priv *p = b->priv;
            tk_input in;
            if (!p->unsent && tk_walker_next(b->walker, &in)) {
                p->unsent = 1;
                tk_input_clear(&in);
            }
            return 0;
        }
        bulk_job *j = calloc(1, sizeof *j);
        if (!j)
            return -1;
        if (!tk_walker_next(b->walker, &j->in)) {
            free(j);
            return 0;
        }
        j->seq = b->n_inputs++;
        if (!tk_order_slot(&((bulk_priv *)b->priv)->order, j->seq)) {
            tk_input_clear(&j->in);
            free(j);
            return -1;
        }
        if (j->in.error) {
            rk_error why;
            rk_ctl_reply r;
            rk_error_clear(&why);
            why.code = RK_ERR_INPUT;
            snprintf(why.msg, sizeof why.msg, "%s", j->in.error);
            rk_ctl_reply_fail(&r, &why);
            int rc = bulk_finish(b, j->seq, j->in.label ? j->in.label : "", NULL, &r,
                                 j->in.exit_code, j->in.error);
            tk_input_clear(&j->in);
            free(j);
            if (rc)
                return -1;
            bulk_flush(b);
            continue;
        }
        for (size_t i = 0; b->base && i < b->base->n; i++)
            rk_headers_add(&j->headers, b->base->v[i].name, b->base->v[i].value);
        rk_ctl_args a = {.filename = j->in.label};
        rk_ctl_headers(b->op, &a, &j->headers, NULL);
        rk_ctl_request(b->op, req);
        req->body = j->in.data;
        req->body_len = j->in.len;
        req->headers = &j->headers;
        *token = j;
        return 1;
    }
}

static int bulk_done(void *ud, void *token, rk_response *resp, const rk_error *err)
{
    tk_bulk *b = ud;
    bulk_job *j = token;
    rk_ctl_reply r;
    rk_ctl_outcome oc = rk_ctl_classify(b->op, resp, err, &r);
    int code = oc == RK_CTL_FAILED ? tk_exit_for(&r.why) : 0;
    rk_status why = r.why.code;
    /* Every further request would fail the same way: stop issuing them. */
    if (oc == RK_CTL_FAILED && !b->stop_code &&
        (why == RK_ERR_AUTH || why == RK_ERR_CONNECT || why == RK_ERR_RESOLVE))
        b->stop_code = code;
    int rc = bulk_finish(b, j->seq, j->in.label, resp, &r, code, NULL);
    rk_ctl_reply_clear(&r);
    tk_input_clear(&j->in);
    rk_headers_clear(&j->headers);
    free(j);
    if (rc)
        return -1;
    bulk_flush(b);
    return 0;
}

int tk_bulk_run(rk_client *c, tk_bulk *b)
{
    bulk_priv p;
    int code = 0;
    memset(&p, 0, sizeof p);
    b->priv = &p;
    if (rk_client_run(c, b->max_requests, bulk_next, bulk_done, b)) {
        tk_err("internal error while running requests (out of memory?)");
        code = TK_EX_SOFTWARE;
    }
    bulk_flush(b);
    if (b->prog.on) { /* redraw with the final counts, then clear */
        b->prog.last = 0;
        bulk_flush(b);
    }
    tk_progress_clear(&b->prog);
    tk_order_free(&p.order, &b->prog);
    b->priv = NULL;
    if (b->stop_code && p.unsent)
        tk_err("stopped after %zu input%s: the remaining inputs were not sent", b->n_inputs,
               b->n_inputs == 1 ? "" : "s");
    return code;
}

void tk_ctl_error(FILE *f, char **errline, int fmt, const char *kind, const char *label,
                  const rk_response *resp, const char *msg)
{
    if (!resp) { /* the input could not be read: stderr, as rspamc */
        *errline = tk_line(label, "", msg);
        if (fmt != TK_OUT_TEXT && fmt != TK_OUT_UCL)
            tk_dump_error(f, fmt, label, msg);
        return;
    }
    if (fmt == TK_OUT_TEXT || fmt == TK_OUT_UCL) {
        tk_heading(f, fmt, kind, label, resp->elapsed);
        fprintf(f, "%s\n\n", msg);
        return;
    }
    tk_dump_error(f, fmt, label, msg);
    *errline = tk_line(label, "", msg);
}

void tk_ctl_dump(FILE *f, int fmt, int headers, const char *kind, const char *name,
                 const char *filename, const rk_response *resp, const rk_ctl_doc *doc)
{
    size_t len;
    tk_heading(f, fmt, kind, name, resp->elapsed);
    if (headers)
        tk_print_headers(f, resp);
    char *s = rk_ctl_doc_emit(doc, fmt == TK_OUT_JSON      ? RK_EMIT_JSON
                                   : fmt == TK_OUT_COMPACT ? RK_EMIT_COMPACT
                                                           : RK_EMIT_UCL,
                              filename, resp->elapsed, &len);
    if (s)
        fwrite(s, 1, len, f);
    free(s);
}

int tk_bulk_exit_code(const tk_bulk *b, int rspamc)
{
    size_t ok = b->count[RK_CTL_DONE] + b->count[RK_CTL_ALREADY] + b->count[RK_CTL_SKIPPED];
    if (b->stop_code)
        return b->stop_code;
    if (b->count[RK_CTL_FAILED])
        return ok ? TK_EX_PARTIAL : b->first_fail_code;
    if (b->count[RK_CTL_SKIPPED] && !rspamc)
        return TK_EX_SKIPPED;
    return TK_EX_OK;
}

int tk_parse_sort(const char *s, int *key, int *asc)
{
    /* by index: TK_SORT_NAME ... TK_SORT_HITS; "score" is rspamc's other word for weight */
    static const char *const keys[] = {"name", "weight", "frequency", "time", "hits", "score"};
    *key = TK_SORT_NAME;
    *asc = 0;
    if (!s)
        return 0;
    size_t n = strcspn(s, ":");
    if (s[n] && strcmp(s + n + 1, "asc") != 0)
        return -1;
    *asc = s[n] != 0;
    for (int i = 0; i < 6; i++)
        if (strlen(keys[i]) == n && strncmp(s, keys[i], n) == 0) {
            *key = i == 5 ? TK_SORT_WEIGHT : i;
            return 0;
        }
    return -1;
}

int tk_flush_stdout(int code)
{
    flush_out();
    if (out_errno || ferror(stdout)) {
        if (out_errno != EPIPE)
            tk_err("error writing output: %s", out_errno ? strerror(out_errno) : "write error");
        if (!code)
            code = TK_EX_IOERR;
    }
    return code;
}
