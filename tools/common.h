/* Shared by the tools: exit codes, connection options, messages. */
#ifndef TK_COMMON_H
#define TK_COMMON_H
#include <popt.h>
#include <stdio.h>
#include "rspamkit.h"
#include "secret.h"

/* Exit codes (sysexits style), documented in rspamkit(1). */
enum {
    TK_EX_OK = 0,
    TK_EX_SPAM = 1,        /* --check: at least one message is spam */
    TK_EX_SKIPPED = 2,     /* learn/fuzzy: the server declined some inputs, none failed */
    TK_EX_PARTIAL = 3,     /* some inputs failed, others succeeded */
    TK_EX_USAGE = 64,
    TK_EX_DATAERR = 65,    /* input is not a mail message, or empty */
    TK_EX_NOINPUT = 66,    /* input missing or unreadable */
    TK_EX_UNAVAILABLE = 69,/* server unreachable: resolve or connect failed */
    TK_EX_SOFTWARE = 70,
    TK_EX_IOERR = 74,      /* local read/write error */
    TK_EX_TEMPFAIL = 75,   /* timeout, server-side error (5xx) */
    TK_EX_PROTOCOL = 76,   /* unreadable reply, unexpected HTTP status */
    TK_EX_NOPERM = 77      /* authentication refused; password file open to others */
};

extern const char *tk_prog;

/* Connection options shared by every tool that talks to a server. */
typedef struct tk_conn {
    char *host;
    double timeout, connect_timeout; /* timeout NAN, connect_timeout 0: not given */
    char *password;          /* -P value; NULL or "" when given without one */
    int password_given;      /* -P was on the command line */
    char *password_file;     /* --password-file */
} tk_conn;

extern tk_conn tk_conn_opts;
extern struct poptOption tk_conn_table[];

/* rspamc's message options, one table: tk_msg_table (the SMTP envelope and
 * client that scan and learn emulate, -p) includes tk_req_table (extra
 * request headers, User-Agent, -b), which fuzzy uses alone. */
typedef struct tk_msg {
    char *ip, *from, *helo, *hostname, *user, *deliver, *user_agent, *bind;
    char **rcpt, **header;
    int pass_all;
} tk_msg;

extern tk_msg tk_msg_opts;
extern struct poptOption tk_msg_table[], tk_req_table[];
/* Set the fields of *mo that the message options give. */
void tk_msg_fill(rk_msg_opts *mo);

/* The toolkit's configuration files (rspamkit.conf(5)), read once on first
 * use; NULL (after printing the error, *code set) when a file is invalid.
 * Command-line options and the environment take precedence over it. */
const rk_settings *tk_settings(int *code);
/* Why the configuration files are invalid (reading them if not done yet),
 * without printing it; NULL when they are valid. */
const char *tk_settings_error(void);

/* Exit code for a library error. */
int tk_exit_for(const rk_error *err);
/* "prog: message" on stderr. */
void tk_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* While f is not NULL, tk_err() writes its message (without the program
 * name or newline) to f instead of stderr. */
void tk_err_capture(FILE *f);
/*
 * Call before popt on the tool's argv.  rspamc's -P takes an optional value
 * and GLib lets it swallow the next word, so `rspamc -P learn_spam f` sends
 * the password "learn_spam".  Here a -P (or --password) followed by one of
 * the command words of `tool` ("learn": tools/commands.c) means "prompt", and
 * the word stays a command word.  Rewrites argv in place.
 */
void tk_password_argv(int argc, char **argv, const char *tool);
/*
 * Call after popt: overwrites the -P value in argv, so that it no longer
 * shows in ps (popt keeps its own copy).  The window before this call remains,
 * as the man pages say.
 */
void tk_password_hide(int argc, char **argv);
/*
 * The password, from the first of: -P VALUE (a value starting with '/' or '.'
 * names a file, as in rspamc), --password-file FILE, -P without a value (a
 * prompt on the terminal, echo off), RSPAMKIT_PASSWORD.  A file must not be
 * accessible to group or others.  NULL when none is given.  On failure
 * prints the error, sets *code and returns NULL with *failed = 1.  The
 * configuration file's password (or password_file) comes last and only
 * fails when `needed` (controller commands); otherwise a password that
 * cannot be used there is left out (a scan needs none).
 * The result is static storage; tk_password_wipe() clears it.
 */
const char *tk_password(int needed, int *failed, int *code);
void tk_password_wipe(void);
/* Build the client from tk_conn_opts (password as tk_password()).
 * Prints the error and returns NULL with *code set on failure. The password
 * is wiped once the client has its copy, unless tk_password_keep is set (a
 * program that builds two clients): then the caller calls tk_password_wipe(). */
rk_client *tk_client(int default_port, int *code);
extern int tk_password_keep;

/*
 * Progress line on stderr for bulk work: "\r" + the line ("done/total
 * (percent), counts, rate, ETA" when the total is known), redrawn at most
 * ten times a second; tk_progress_clear() erases it before other output.
 */
typedef struct tk_progress {
    int on;                  /* show it */
    int always;              /* --progress: also for a single input */
    int drawn;               /* a line is on the screen */
    double t0, last;         /* start, last redraw */
    size_t total;            /* expected inputs, 0 = unknown */
} tk_progress;
struct tk_walk_opts;
/* Start the clock; the line is shown when stderr is a terminal or `always`
 * (--progress), never when `never` (--no-progress), and for a single input
 * only when `always`.  The total is counted from the inputs of `wo` when
 * shown. */
void tk_progress_start(tk_progress *p, int always, int never, const struct tk_walk_opts *wo);
/* done: finished inputs; `counts` is a short text such as "3 failed". */
void tk_progress_draw(tk_progress *p, size_t done, const char *counts, int force);
void tk_progress_clear(tk_progress *p);
/* Seconds since tk_progress_start (also when not shown). */
double tk_progress_elapsed(const tk_progress *p);
/* Format a duration as "1:02:03", "2:03" or "4.1 s". */
void tk_format_duration(char *buf, size_t len, double secs);

/*
 * Output in input order, for the tools that keep several requests in flight
 * (scan, learn, fuzzy): each input gets a slot (by its sequence number) that
 * is filled when its request is done; finished slots at the head are written
 * in order: stdout text, then the stderr line after the program name, the
 * progress line erased first when either is written.
 */
typedef struct tk_slot {
    int done;
    char *out;        /* stdout text (malloc'd), out_len bytes */
    size_t out_len;
    char *errline;    /* stderr line without the program name (malloc'd) */
} tk_slot;
typedef struct tk_order {
    tk_slot *slots;   /* slots[i] is input first + i */
    size_t first, n, cap;
} tk_order;
/* The slot of input `seq` (not yet flushed); NULL when memory runs out. */
tk_slot *tk_order_slot(tk_order *q, size_t seq);
/* Write a slot now (--unordered) and empty it; 1 if the progress line was erased. */
int tk_slot_emit(tk_slot *s, tk_progress *prog);
/* Write the finished slots at the head, in order; 1 if the progress line was erased. */
int tk_order_flush(tk_order *q, tk_progress *prog);
/* Write what is left, finished or not, and free the queue. */
void tk_order_free(tk_order *q, tk_progress *prog);

/*
 * Bulk learn/fuzzy requests: one request per input of a walker, up to
 * max_requests in flight, output in input order, a progress line, counts per
 * outcome.  Auth refusal or an unreachable server stops issuing requests.
 */
struct tk_walker;
typedef void (*tk_render_fn)(FILE *f, char **errline, const char *label,
                             const rk_response *resp, const rk_ctl_reply *r);
typedef struct tk_bulk {
    /* set by the caller */
    rk_ctl_op op;              /* what to do with each input */
    const rk_headers *base;    /* headers of every request; Filename is added */
    struct tk_walker *walker;
    int max_requests;
    tk_progress prog;          /* tk_progress_start()ed by the caller */
    const char *done_word;     /* "learned", "added", ... for the progress counts */
    /* Render one finished input: stdout text into f; *errline (malloc'd, no
     * program name) goes to stderr.  resp is NULL for an input that could not
     * be read (r->why.code RK_ERR_INPUT); its errline is the walker's message. */
    tk_render_fn render;
    /* results */
    size_t n_inputs, count[4]; /* count[rk_ctl_outcome] */
    int first_fail_code;       /* exit code of the first failure */
    int stop_code;             /* exit code of the failure that stopped the run, or 0 */
    /* private */
    void *priv;
} tk_bulk;
/* 0, or TK_EX_SOFTWARE after an internal error (printed). */
int tk_bulk_run(rk_client *c, tk_bulk *b);
/* rspamc's rendering of a controller reply: "Results for KIND: NAME" (text
 * and UCL), the reply's headers when `headers`, then `doc` in JSON or UCL
 * (UCL for text: rspamc has no text renderer for these) with "filename"
 * (when non-NULL) and "scan_time" added.  fmt is a tk_outfmt. */
void tk_ctl_dump(FILE *f, int fmt, int headers, const char *kind, const char *name,
                 const char *filename, const rk_response *resp, const rk_ctl_doc *doc);
/* rspamc's words (render functions): an input that failed is printed on f,
 * stdout, as rspamc prints it there ("Results for file: LABEL (T seconds)",
 * the error, an empty line) in text and UCL; in JSON, one error value on f
 * and *errline (malloc'd) for stderr.  An input that could not be read
 * (resp NULL) goes to stderr, as with rspamc. */
void tk_ctl_error(FILE *f, char **errline, int fmt, const char *kind, const char *label,
                  const rk_response *resp, const char *msg);
/* Set by the hidden option --rspamc-output, which the front door (rspamkit
 * with rspamc's grammar, or run as rspamc) passes to the program it runs: a
 * failed scan or controller command is printed as rspamc prints it, on
 * stdout (tk_ctl_error), since scripts read it there. */
extern int tk_rspamc_output;
/* 0: all done or already; TK_EX_SKIPPED: some skipped, none failed (0 with
 * `rspamc`: the exit status of rspamc's words, where a learn the server
 * skips is no failure); TK_EX_PARTIAL: some failed, some not; else the
 * failure's code. */
int tk_bulk_exit_code(const tk_bulk *b, int rspamc);

/* Run popt over argv; prints errors; returns 0 or an exit code. */
int tk_popt_error(poptContext pc, int rc);
/* Print "prog: message", free the popt context, return TK_EX_USAGE. */
int tk_usage_error(poptContext pc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tk_print_version(void);
/* Run popt over the whole command line and handle --version (`*version` is
 * read after parsing). Returns -1 to go on, with the positional arguments in
 * *rest / *n_rest, or an exit code (0 after --version, 64 on a usage error). */
int tk_parse_args(poptContext pc, const int *version, const char ***rest, size_t *n_rest);

/* rspamc's --sort KEY[:asc]: name, weight (or score), frequency, time, hits
 * (scan reports use only name and weight).  Sets *key to a TK_SORT_ value and
 * *asc (1 with ":asc"); NULL `s`: name, *asc 0.  -1 for an unknown key. */
enum { TK_SORT_NAME, TK_SORT_WEIGHT, TK_SORT_FREQUENCY, TK_SORT_TIME, TK_SORT_HITS };
int tk_parse_sort(const char *s, int *key, int *asc);
/* The exit code for a secret_status: TK_EX_OK, _NOINPUT, _NOPERM, _DATAERR. */
int tk_secret_code(secret_status st);
/* Flush stdout at the end of a run: `code`, or TK_EX_IOERR when it was 0 and
 * the output could not be written (said on stderr unless the reader left:
 * EPIPE). */
int tk_flush_stdout(int code);
#endif
