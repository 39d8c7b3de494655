/* LDA mode of rspamkit-scan: --mime and --exec.
 *
 * The message is kept byte for byte, in memory once: the library's message
 * layer (rk_message_rewrite) gives it as slices of the original buffer (or
 * of the server's rewritten message) around the added header lines, which
 * are written with writev(2) to stdout or to the stdin of one delivery
 * command per message. This file is delivery only: the command, the
 * in-order queue, the exit-status policy, syslog.
 *
 * The option pieces (command splitting, sizes) are exported for the unit
 * tests in tests/unit/test_lda.c. */
#ifndef TK_LDA_H
#define TK_LDA_H
#include <stddef.h>
#include <stdio.h>
#include <popt.h>
#include "rspamkit.h"
#include "render.h"
#include "inputs.h"

/* Renders a scan result for --exec without --mime (what stdout would show,
 * without the "Results for file" line). */
typedef void (*lda_render_fn)(FILE *f, const rk_result *r);

/* --protocol-v3: scan with /checkv3 (rk_scan_request_v3) */
typedef struct lda_v3 {
    int on;
    unsigned flags;               /* RK_V3_MSGPACK, RK_V3_ZSTD */
    const char *const *meta;      /* --metadata-header items */
    size_t n_meta;
} lda_v3;

typedef struct lda_opts {
    int mime;                     /* --mime */
    const char *exec;             /* --exec CMD, or NULL */
    const char *const *exec_tail; /* "--exec -- CMD ARG...": CMD ARG..., or NULL */
    size_t n_exec_tail;
    int verbose;                  /* -v: log lines also on stderr */
    tk_outfmt fmt;                /* -j/--compact/--ucl: X-Spam-Result, exec report format */
    lda_render_fn render;         /* text report for --exec without --mime */
    lda_v3 v3;
} lda_opts;

/* The LDA options of rspamkit-scan (--keep-existing-headers, --header-style,
 * --tempfail, --max-size); their values are read by lda_setup. */
extern struct poptOption lda_table[];

/*
 * Before option parsing: "--exec -- CMD ARG..." (or "-e --") gives the whole
 * delivery command as the words after "--", no quoting needed. Returns the
 * argc to give to popt (without "--exec --" and the command) and sets *tail
 * and *n_tail, or leaves them NULL, 0 when there is no such form. Any other
 * "--" ends the options as usual: the words after it are inputs.
 */
int lda_split_argv(int argc, const char **argv, const char *const **tail, size_t *n_tail);

/* Check the options (command syntax, header style, size) and open syslog.
 * Returns 0, or an exit code after printing one line on stderr. */
int lda_setup(const lda_opts *o);

/* Scan every input of `w` with up to `max_inflight` requests in flight and
 * deliver each message, in input order. Returns the exit status (see
 * rspamkit-scan(1), LDA MODE). With `c` NULL (the configuration files or
 * the connection options are invalid) every message is delivered as not
 * scanned, `no_client` saying why, or not at all with --tempfail. */
int lda_run(rk_client *c, tk_walker *w, const rk_headers *base, int max_inflight,
            const char *no_client);

/* ---- pieces, exported for the unit tests ---- */

/* Split CMD with shell-like quoting ('...', "...", backslash), no shell:
 * no variables, globbing or redirection. Returns a NULL-terminated vector
 * (lda_argv_free) or NULL with a message in err. */
char **lda_split_command(const char *cmd, char *err, size_t errlen);
void lda_argv_free(char **argv);

/* Parse "10", "500k", "20M", "1g" into bytes; -1 on a bad value. */
long long lda_parse_size(const char *s);

#endif
