/*
 * secret.h - read a password (or another secret) for a tool.
 *
 * Sources: a file (refused when group or others have any access to it), an
 * environment variable, a literal (e.g. an option value), the terminal
 * (/dev/tty, echo off, optional confirmation), or one line of stdin.
 *
 * Nothing here prints except the prompts, which go to /dev/tty.  On failure
 * a function returns a secret_status and leaves a one-line message (without
 * the program name) in s->err for the caller to print.  The secret lives in
 * the struct itself; secret_clear() wipes it.  Every function starts by
 * clearing `s`, so a struct can be reused.
 */
#ifndef TK_SECRET_H
#define TK_SECRET_H

#include <stddef.h>

#define SECRET_MAX 8191   /* bytes; rspamadm keeps at most this many */

typedef enum secret_status {
    SECRET_OK = 0,
    SECRET_NOINPUT,   /* no such file, unreadable, no terminal, end of input, unset variable */
    SECRET_NOPERM,    /* the file is accessible to group or others (mode & 077) */
    SECRET_BADDATA    /* longer than SECRET_MAX, or the confirmation did not match */
} secret_status;

typedef struct secret {
    size_t len;
    char buf[SECRET_MAX + 3];   /* NUL-terminated; room to see a line ending */
    char err[320];              /* message of the last failure */
} secret;

/* The whole file, minus one trailing "\n" or "\r\n".  The mode is checked on
 * the open descriptor. */
secret_status secret_from_file(secret *s, const char *path);
/* The value of environment variable `name`. */
secret_status secret_from_env(secret *s, const char *name);
/* A copy of `str` (an option value: the caller should wipe the original). */
secret_status secret_from_string(secret *s, const char *str);
/* Prompt on /dev/tty with echo off and read up to "\n" or "\r".  If `confirm`
 * is non-NULL, ask again with that prompt and fail if the two differ.
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT restore the terminal before they act. */
secret_status secret_from_tty(secret *s, const char *prompt, const char *confirm);
/* One line of stdin, read unbuffered (so that stdin can hold more lines for
 * the caller); the "\n" or "\r\n" is removed. */
secret_status secret_from_stdin(secret *s);
/* Wipe the secret and the message. */
void secret_clear(secret *s);

#endif
