/* rspamkit-spamc's command line and what it writes (tools/spamc.c), apart
 * from its I/O in tools/rspamkit-spamc.c. */
#ifndef TK_SPAMC_H
#define TK_SPAMC_H
#include <stdio.h>
#include <sys/uio.h>
#include "rspamkit.h"

/* spamc's exit codes beyond common.h's */
#define SC_EX_NOHOST 68
#define SC_EX_OSERR 71
#define SC_EX_CONFIG 78
#define SC_EX_TOOBIG 98
#define SC_MAX_SIZE (256 * 1024 * 1024)

typedef struct sc_opts {
    char *dest, *socket, *learn, *report, *user, *config, *controller, *password_file;
    char *ssl_cert, *ssl_key, *ssl_ca_file, *ssl_ca_path;
    int port, check, full, full_spam, tests, exitcode, no_fallback, tempfail, ping;
    int fuzzy_flag, randomize, bsmtp, log_stderr, headers, ipv4, ipv6, ssl, help, version, obsolete_f;
    int timeout, connect_timeout, connect_retries, retry_sleep, filter_retries,
        filter_retry_sleep;
    long max_size;
} sc_opts;

/* The options, as sc_parse_args set them. */
extern sc_opts sc;

/* Read the command line into `sc` and the shared connection and transport
 * options: -e's command cut off (*pipe_argv, pointing into argv; NULL
 * without -e), -F's file read first.  Returns -1 to go on, or the exit code
 * (0 after --help or --version; errors printed). */
int sc_parse_args(int argc, char **argv, char ***pipe_argv);

/* -B: where the message is in its envelope. */
typedef struct sc_bsmtp {
    size_t pre_len;               /* raw[0, pre_len): up to the DATA line */
    const unsigned char *post;    /* the lone dot line and what follows */
    size_t post_len;
} sc_bsmtp;

/* -B: the message between the DATA line and the lone dot, dots unstuffed
 * (malloc'd in *msg), as spamc finds them; its envelope in *b.  0, or -1
 * if there is none. */
int sc_bsmtp_parse(const unsigned char *raw, size_t len, unsigned char **msg, size_t *mlen,
                   sc_bsmtp *b);
/* -B: the output message, dot-stuffed, back in the envelope of `raw`
 * (malloc'd; NULL when out of memory). */
unsigned char *sc_bsmtp_wrap(const unsigned char *raw, const sc_bsmtp *b, const struct iovec *v,
                             size_t n, size_t *len);

/* -c, -R, -r: the score line; -R, -r: the report. */
void sc_put_score(FILE *f, const rk_result *r);
void sc_put_report(FILE *f, const rk_result *r);

/* The default (and -E) output: the message with SpamAssassin's headers, as
 * *n_iov slices in *iov (malloc'd) over *out (rk_message_rewrite's, to
 * clear) and *checker (malloc'd), the X-Spam-Checker-Version field naming
 * `host`.  0, or -1 when out of memory (nothing to free). */
int sc_message(const unsigned char *msg, size_t len, const rk_result *r, const char *host,
               rk_rewrite *out, struct iovec **iov, size_t *n_iov, char **checker);
#endif
