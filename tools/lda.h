/* LDA mode of rspamkit-scan: --mime and --exec.
 *
 * The message is kept byte for byte, in memory once: the output is a list
 * of slices of the original buffer (or of the server's rewritten message)
 * with the added header lines in between, written with writev(2) to stdout
 * or to the stdin of one delivery command per message.
 *
 * The pieces (command splitting, end-of-headers search, header building)
 * are exported for the unit tests in tests/unit/test_lda.c. */
#ifndef TK_LDA_H
#define TK_LDA_H
#include <stddef.h>
#include <stdio.h>
#include <sys/uio.h>
#include <popt.h>
#include "rspamkit.h"
#include "render.h"
#include "inputs.h"

typedef enum { LDA_STYLE_RSPAMC, LDA_STYLE_SPAMASSASSIN } lda_style;

/* Renders a scan result for --exec without --mime (what stdout would show,
 * without the "Results for file" line). */
typedef void (*lda_render_fn)(FILE *f, const rk_result *r);

typedef struct lda_opts {
    int mime;                     /* --mime */
    const char *exec;             /* --exec CMD, or NULL */
    const char *const *exec_tail; /* words after "--" (appended to CMD) */
    size_t n_exec_tail;
    int exec_from_tail;           /* "--exec --": the whole command is the tail */
    int verbose;                  /* -v: log lines also on stderr */
    tk_outfmt fmt;                /* -j/--compact/--ucl: X-Spam-Result, exec report format */
    lda_render_fn render;         /* text report for --exec without --mime */
} lda_opts;

/* The LDA options of rspamkit-scan (--keep-existing-headers, --header-style,
 * --tempfail, --max-size); their values are read by lda_setup. */
extern struct poptOption lda_table[];

/*
 * Before option parsing: when --exec (or -e) comes before a "--", the words
 * after "--" are the delivery command's own arguments (no quoting needed).
 * Returns the argc to give to popt and sets *tail and *n_tail (NULL, 0 when there
 * is none). "--exec --" (exec immediately followed by "--") means the whole
 * command is the tail: that --exec word is dropped from argv and
 * *exec_from_tail is set.
 */
int lda_split_argv(int argc, const char **argv, const char *const **tail, size_t *n_tail,
                   int *exec_from_tail);

/* Check the options (command syntax, header style, size) and open syslog.
 * Returns 0, or an exit code after printing one line on stderr. */
int lda_setup(const lda_opts *o);

/* Scan every input of `w` with up to `max_inflight` requests in flight and
 * deliver each message, in input order. Returns the exit status (see
 * rspamkit-scan(1), LDA MODE). */
int lda_run(rk_client *c, tk_walker *w, const rk_headers *base, int max_inflight);

/* ---- pieces, exported for the unit tests ---- */

/* Split CMD with shell-like quoting ('...', "...", backslash), no shell:
 * no variables, globbing or redirection. Returns a NULL-terminated vector
 * (lda_argv_free) or NULL with a message in err. */
char **lda_split_command(const char *cmd, char *err, size_t errlen);
void lda_argv_free(char **argv);

/* Where the top-level header block ends. */
typedef struct lda_eoh {
    size_t pos;        /* where added headers go: start of the empty line, or len */
    const char *eol;   /* "\r\n", "\n" or "\r": the message's own line ending there */
    int found;         /* 1: an empty line ends the headers; 0: headers only */
    int need_eol;      /* headers only and the last line has no line ending */
} lda_eoh;
void lda_find_eoh(const unsigned char *p, size_t len, lda_eoh *out);

/* Parse "10", "500k", "20M", "1g" into bytes; -1 on a bad value. */
long long lda_parse_size(const char *s);

typedef struct lda_build_opts {
    lda_style style;
    int keep_existing;
    tk_outfmt result_fmt;   /* TK_OUT_TEXT: no X-Spam-Result (else r->json is needed) */
    const char *scanner;    /* X-Spam-Scanner value */
} lda_build_opts;

/* An output message: iovecs over the original bytes and owned strings. */
typedef struct lda_out {
    struct iovec *iov;
    size_t n, cap;
    char **owned;
    size_t n_owned, cap_owned;
    size_t total;
} lda_out;

/*
 * Build the --mime output for `msg`: r is the scan result (NULL when the
 * scan failed, then `error` says why). elapsed is the scan time in seconds.
 * Returns 0 or -1 (out of memory; `out` is then cleared).
 */
int lda_build(lda_out *out, const unsigned char *msg, size_t len, const rk_result *r,
              const char *error, double elapsed, const lda_build_opts *o);
void lda_out_clear(lda_out *out);
/* Concatenate the output (tests). malloc'd, *len set. */
unsigned char *lda_out_flatten(const lda_out *out, size_t *len);
#endif
