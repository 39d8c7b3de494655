/* rspamkit-spamc's command line and what it writes, apart from its I/O
 * (tools/rspamkit-spamc.c), so that a fuzzer can link them
 * (tests/fuzz/fuzz_spamc_args.c, fuzz_spamc_out.c). */
#include "config.h"
#include "common.h"
#include "spamc.h"
#include "transport_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ options */

sc_opts sc;
static const sc_opts sc_defaults = {.timeout = -1, .connect_timeout = -1, .connect_retries = -1,
                                    .retry_sleep = -1, .filter_retries = -1,
                                    .filter_retry_sleep = -1, .max_size = 500 * 1024};

static struct poptOption spamc_table[] = {
    {"dest", 'd', POPT_ARG_STRING, &sc.dest, 0,
     "Rspamd servers to scan with: host[,host...] (host:port, [v6]:port, http(s)://...)", "HOSTS"},
    {"port", 'p', POPT_ARG_INT, &sc.port, 0,
     "Port of the servers of -d without one (default 11333, Rspamd's normal worker)", "PORT"},
    {"socket", 'U', POPT_ARG_STRING, &sc.socket, 0, "Scan through this UNIX socket instead", "PATH"},
    {"randomize", 'H', POPT_ARG_NONE, &sc.randomize, 0, "Try the servers of -d in random order",
     NULL},
    {"timeout", 't', POPT_ARG_INT, &sc.timeout, 0,
     "I/O timeout in seconds (0 = none; default 10 or the config file's)", "SECONDS"},
    {"connect-timeout", 'n', POPT_ARG_INT, &sc.connect_timeout, 0,
     "Connect timeout in seconds (default -t, else 5)", "SECONDS"},
    {"connect-retries", 0, POPT_ARG_INT, &sc.connect_retries, 0,
     "Attempts over the server list (default 1, or the config file's retries + 1)", "N"},
    {"retry-sleep", 0, POPT_ARG_INT, &sc.retry_sleep, 0,
     "Seconds before the second attempt, doubling after (default 1)", "SECONDS"},
    {"filter-retries", 0, POPT_ARG_INT, &sc.filter_retries, 0,
     "Same as --connect-retries: failed scans are retried as failed connections", "N"},
    {"filter-retry-sleep", 0, POPT_ARG_INT, &sc.filter_retry_sleep, 0,
     "Same as --retry-sleep", "SECONDS"},
    {"max-size", 's', POPT_ARG_LONG, &sc.max_size, 0,
     "Pass larger messages through unscanned (bytes; default 512000, at most 256 MB)", "BYTES"},
    {"username", 'u', POPT_ARG_STRING, &sc.user, 0,
     "Mailbox whose per-user statistics and settings apply (sent as Deliver-To)", "USER"},
    {"learntype", 'L', POPT_ARG_STRING, &sc.learn, 0,
     "Learn the message as spam or ham through Rspamd's controller (forget: not supported)",
     "TYPE"},
    {"reporttype", 'C', POPT_ARG_STRING, &sc.report, 0,
     "report: learn as spam and add fuzzy hashes (--fuzzy-flag); revoke: learn as ham and "
     "delete them",
     "TYPE"},
    {"fuzzy-flag", 0, POPT_ARG_INT, &sc.fuzzy_flag, 0,
     "Fuzzy list (flag of a fuzzy_check rule) that -C reports to", "N"},
    {"check", 'c', POPT_ARG_NONE, &sc.check, 0,
     "Print score/threshold; exit 1 for spam, 0 otherwise", NULL},
    {"tests", 'y', POPT_ARG_NONE, &sc.tests, 0, "Print the names of the symbols hit, comma-separated",
     NULL},
    {"full-spam", 'r', POPT_ARG_NONE, &sc.full_spam, 0, "Print the report, for spam only", NULL},
    {"full", 'R', POPT_ARG_NONE, &sc.full, 0, "Print the report (score/threshold, then symbols)",
     NULL},
    {"headers", 0, POPT_ARG_NONE, &sc.headers, 0,
     "Accepted: only headers are ever rewritten", NULL},
    {"exitcode", 'E', POPT_ARG_NONE, &sc.exitcode, 0, "Exit 1 for spam, 0 otherwise", NULL},
    {"no-safe-fallback", 'x', POPT_ARG_NONE, &sc.no_fallback, 0,
     "On errors print no message and exit with an error code", NULL},
    {"unavailable-tempfail", 'X', POPT_ARG_NONE, &sc.tempfail, 0,
     "With -x, exit 75 instead of 69 when the server is unavailable", NULL},
    {"log-to-stderr", 'l', POPT_ARG_NONE, &sc.log_stderr, 0,
     "Accepted: errors always go to stderr", NULL},
    {"pipe-to", 'e', POPT_ARG_STRING, NULL, 0,
     "Pipe the output to COMMAND ARGS... (the last option: the rest is the command)", "COMMAND"},
    {"config", 'F', POPT_ARG_STRING, &sc.config, 0,
     "Read more options from FILE (spamc.conf syntax) before the command line", "FILE"},
    {"bsmtp", 'B', POPT_ARG_NONE, &sc.bsmtp, 0,
     "The input is one BSMTP message: scan what is between DATA and the lone dot", NULL},
    {"ssl", 'S', POPT_ARG_NONE, &sc.ssl, 0, "Talk HTTPS to the servers of -d (a TLS proxy)", NULL},
    {"ssl-ca-file", 0, POPT_ARG_STRING, &sc.ssl_ca_file, 0,
     "CA certificates to verify the server with (as --cacert)", "FILE"},
    {"ssl-ca-path", 0, POPT_ARG_STRING, &sc.ssl_ca_path, 0, "Not supported: use --ssl-ca-file",
     "DIR"},
    {"ssl-cert", 0, POPT_ARG_STRING, &sc.ssl_cert, 0, "Client certificates: not supported", "FILE"},
    {"ssl-key", 0, POPT_ARG_STRING, &sc.ssl_key, 0, "Client certificates: not supported", "FILE"},
    {"ping", 'K', POPT_ARG_NONE, &sc.ping, 0, "Check that the server answers (Rspamd's /ping)",
     NULL},
    {"compress", 0, POPT_ARG_NONE, &tk_transport_opts.compressed, 0,
     "As -z: compress the message (zstd: Rspamd does not take gzip)", NULL},
    {NULL, '4', POPT_ARG_NONE, &sc.ipv4, 0, "Accepted: every address of a name is tried", NULL},
    {NULL, '6', POPT_ARG_NONE, &sc.ipv6, 0, "Accepted: every address of a name is tried", NULL},
    {NULL, 'f', POPT_ARG_NONE, &sc.obsolete_f, 0, "Accepted (the default)", NULL},
    {"controller", 0, POPT_ARG_STRING, &sc.controller, 0,
     "Controller for -L and -C (default: the hosts of -d on port 11334, or the config "
     "file's)",
     "HOSTS"},
    {"password-file", 0, POPT_ARG_STRING, &sc.password_file, 0,
     "Controller password for -L and -C from FILE (or RSPAMKIT_PASSWORD, or the config file)", "FILE"},
    {"help", 'h', POPT_ARG_NONE, &sc.help, 0, "Print this help and exit", NULL},
    {"version", 'V', POPT_ARG_NONE, &sc.version, 0, "Print the version and exit", NULL},
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
    static int registered;
    if (!registered++)
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

static int check_options(poptContext pc)
{
    int modes = !!sc.check + !!sc.full + !!sc.full_spam + !!sc.tests;
    if (sc.learn && strcmp(sc.learn, "spam") != 0 && strcmp(sc.learn, "ham") != 0) {
        if (strcmp(sc.learn, "forget") == 0)
            return tk_usage_error(pc, "-L forget: Rspamd cannot unlearn a message");
        return tk_usage_error(pc, "Please specify a legal learn type (spam, ham)");
    }
    if (sc.report && strcmp(sc.report, "report") != 0 && strcmp(sc.report, "revoke") != 0)
        return tk_usage_error(pc, "Please specify a legal report type (report, revoke)");
    if ((sc.learn || sc.report) && (modes || sc.ping || (sc.learn && sc.report)))
        return tk_usage_error(pc, "-L and -C exclude -c, -r, -R, -y, -K and each other");
    if (sc.fuzzy_flag && !sc.report)
        return tk_usage_error(pc, "--fuzzy-flag goes with -C");
    if (tk_transport_opts.local_file)
        return tk_usage_error(pc, "--local-file: the message comes from stdin, not a file");
    if (sc.ssl_cert || sc.ssl_key || sc.ssl_ca_path)
        return tk_usage_error(pc, "%s is not supported (use --ssl-ca-file)",
                              sc.ssl_ca_path ? "--ssl-ca-path" : "a client certificate");
    if (sc.tempfail && !sc.no_fallback)
        tk_err("-X has an effect only with -x");
    if (sc.max_size <= 0 || sc.max_size > SC_MAX_SIZE)
        return tk_usage_error(pc, "-s must be between 1 and %d", SC_MAX_SIZE);
    if (sc.port < 0 || sc.port > 65535)
        return tk_usage_error(pc, "-p must be a port number");
    if (sc.socket && sc.dest)
        return tk_usage_error(pc, "give either -d or -U, not both");
    return 0;
}

int sc_parse_args(int argc, char **argv, char ***pipe_argv)
{
    sc = sc_defaults;
    *pipe_argv = split_pipe_to(&argc, argv);
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
        rc = tk_popt_error(pc, rc);
        poptFreeContext(pc);
        free(conf_args);
        return rc;
    }
    if (sc.help || sc.version) {
        if (sc.help)
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
    return -1;
}

/* ------------------------------------------------------------ output */

/* -B: the message between the DATA line and the lone dot, dots unstuffed
 * (malloc'd in *msg), as spamc finds them. 0, or -1 if there is none. */
int sc_bsmtp_parse(const unsigned char *raw, size_t len, unsigned char **msg, size_t *mlen,
                   sc_bsmtp *b)
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
                b->pre_len = (size_t)(start - raw);
                b->post = c;
                b->post_len = left;
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
unsigned char *sc_bsmtp_wrap(const unsigned char *raw, const sc_bsmtp *b, const struct iovec *v,
                             size_t n, size_t *len)
{
    size_t total = b->pre_len + b->post_len + 1;
    for (size_t i = 0; i < n; i++)
        total += v[i].iov_len * 2;
    unsigned char *out = malloc(total), *q = out;
    if (!out)
        return NULL;
    memcpy(q, raw, b->pre_len);
    q += b->pre_len;
    int bol = 1;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < v[i].iov_len; k++) {
            unsigned char c = ((const unsigned char *)v[i].iov_base)[k];
            if (bol && c == '.')
                *q++ = '.';
            *q++ = c;
            bol = c == '\n';
        }
    memcpy(q, b->post, b->post_len);
    *len = (size_t)(q - out) + b->post_len;
    return out;
}

/* -c, -R, -r: the score line (spamc prints both with one decimal). */
void sc_put_score(FILE *f, const rk_result *r)
{
    fprintf(f, "%.1f/%.1f\n", r->has_score ? r->score : 0.0,
            r->has_required ? r->required_score : 0.0);
}

/* -R, -r: SpamAssassin's "Content analysis details" table, from the symbols
 * and their descriptions: "%4.1f %-22s description", wrapped at 78. */
void sc_put_report(FILE *f, const rk_result *r)
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

/* X-Spam-Checker-Version goes before the fields rk_message_rewrite adds
 * (X-Spam-Scanner, X-Spam-Flag, X-Spam-Status, X-Spam-Level). */
int sc_message(const unsigned char *msg, size_t len, const rk_result *r, const char *host,
               rk_rewrite *out, struct iovec **iov, size_t *n_iov, char **checker)
{
    char scanner[64];
    snprintf(scanner, sizeof scanner, "rspamkit %s", PACKAGE_VERSION);
    rk_message_opts mo = {.style = RK_STYLE_SPAMASSASSIN, .scanner = scanner};
    rk_error e;
    rk_error_clear(&e);
    *checker = NULL;
    if (rk_message_rewrite(msg, len, r, &mo, out, &e))
        return -1;
    size_t at = out->n;
    for (size_t i = 0; i < out->n; i++)
        if (out->iov[i].iov_len > 16 && memcmp(out->iov[i].iov_base, "X-Spam-Scanner: ", 16) == 0) {
            at = i;
            break;
        }
    struct iovec *v = calloc(out->n + 1, sizeof *v);
    int n = -1;
    if (v && at < out->n) {
        const char *blk = out->iov[at].iov_base;
        const char *eol = memchr(blk, '\n', out->iov[at].iov_len);
        eol = eol && eol > blk && eol[-1] == '\r' ? "\r\n" : eol ? "\n" : "\r";
        n = asprintf(checker, "X-Spam-Checker-Version: rspamkit %s (Rspamd) on %s%s",
                     PACKAGE_VERSION, host, eol);
    }
    if (!v || (at < out->n && n < 0)) {
        free(v);
        *checker = NULL;
        rk_rewrite_clear(out);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (i == at)
            v[k++] = (struct iovec){*checker, (size_t)n};
        v[k++] = out->iov[i];
    }
    *iov = v;
    *n_iov = k;
    return 0;
}
