/* Shared by the tools: exit codes, connection options, messages. */
#ifndef TK_COMMON_H
#define TK_COMMON_H
#include <popt.h>
#include "rspamkit.h"

/* Exit codes (sysexits style), documented in rspamkit(1). */
enum {
    TK_EX_OK = 0,
    TK_EX_SPAM = 1,        /* --check: at least one message is spam */
    TK_EX_PARTIAL = 3,     /* some inputs failed, others succeeded */
    TK_EX_USAGE = 64,
    TK_EX_DATAERR = 65,    /* input is not a mail message, or empty */
    TK_EX_NOINPUT = 66,    /* input missing or unreadable */
    TK_EX_UNAVAILABLE = 69,/* server unreachable: resolve or connect failed */
    TK_EX_SOFTWARE = 70,
    TK_EX_IOERR = 74,      /* local read/write error */
    TK_EX_TEMPFAIL = 75,   /* timeout, server-side error (5xx) */
    TK_EX_PROTOCOL = 76,   /* unreadable reply, unexpected HTTP status */
    TK_EX_NOPERM = 77      /* authentication refused */
};

extern const char *tk_prog;

/* Connection options shared by every tool that talks to a server. */
typedef struct tk_conn {
    char *host;
    double timeout, connect_timeout;
    char *password;          /* -P value (or "" when given without one) */
    int password_given;
} tk_conn;

extern tk_conn tk_conn_opts;
extern struct poptOption tk_conn_table[];

/* Exit code for a library error. */
int tk_exit_for(const rk_error *err);
/* "prog: message" on stderr. */
void tk_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Build the client from tk_conn_opts (password from -P or RSPAMKIT_PASSWORD).
 * Prints the error and returns NULL with *code set on failure. */
rk_client *tk_client(int default_port, int *code);
/* Run popt over argv; prints errors; returns 0 or an exit code. */
int tk_popt_error(poptContext pc, int rc);
void tk_print_version(void);
#endif
