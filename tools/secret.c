/* Read a secret from a file, the environment, the terminal or stdin (secret.h). */
#include "config.h"
#include "secret.h"
#include "rspamkit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static secret_status fail(secret *s, secret_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static secret_status fail(secret *s, secret_status st, const char *fmt, ...)
{
    va_list ap;
    rk_secret_wipe(s->buf, sizeof s->buf);
    s->len = 0;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return st;
}

void secret_clear(secret *s)
{
    rk_secret_wipe(s, sizeof *s);
}

static secret_status too_long(secret *s, const char *what)
{
    return fail(s, SECRET_BADDATA, "%s is longer than %d bytes", what, SECRET_MAX);
}

secret_status secret_from_string(secret *s, const char *str)
{
    size_t n = strlen(str);
    secret_clear(s);
    if (n > SECRET_MAX)
        return too_long(s, "the password");
    memcpy(s->buf, str, n + 1);
    s->len = n;
    return SECRET_OK;
}

secret_status secret_from_env(secret *s, const char *name)
{
    const char *v = getenv(name);
    if (!v) {
        secret_clear(s);
        return fail(s, SECRET_NOINPUT, "environment variable %s is not set", name);
    }
    if (secret_from_string(s, v))
        return fail(s, SECRET_BADDATA, "environment variable %s is longer than %d bytes",
                    name, SECRET_MAX);
    return SECRET_OK;
}

/* Drop one "\n" or "\r\n" from the end. */
static void chomp(secret *s)
{
    if (s->len && s->buf[s->len - 1] == '\n')
        s->len--;
    if (s->len && s->buf[s->len - 1] == '\r')
        s->len--;
    s->buf[s->len] = 0;
}

secret_status secret_from_file(secret *s, const char *path)
{
    struct stat st;
    secret_clear(s);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fail(s, SECRET_NOINPUT, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) == 0 && (st.st_mode & 077)) {
        close(fd);
        return fail(s, SECRET_NOPERM,
                    "%s is accessible to group or others (mode %04o): chmod 600 it",
                    path, (unsigned)(st.st_mode & 07777));
    }
    ssize_t r;
    char more;
    for (;;) {   /* read until EOF or the buffer is full */
        r = read(fd, s->buf + s->len, sizeof s->buf - 1 - s->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        s->len += (size_t)r;
        if (s->len == sizeof s->buf - 1) {   /* full: is there more? */
            while ((r = read(fd, &more, 1)) < 0 && errno == EINTR)
                ;
            break;
        }
    }
    int e = errno;
    close(fd);
    if (r < 0)
        return fail(s, SECRET_NOINPUT, "cannot read %s: %s", path, strerror(e));
    chomp(s);
    if (r > 0 || s->len > SECRET_MAX)
        return too_long(s, path);
    return SECRET_OK;
}

static volatile sig_atomic_t caught;   /* signal that interrupted a tty read */

/* Read one line from fd a byte at a time (nothing beyond it is consumed);
 * stop at "\n", or also at "\r" when cr_ends.  s->len counts every byte of
 * the line, even those past the buffer (then it exceeds SECRET_MAX).
 * Returns 1 for a line, 0 at EOF before any byte, -1 on error (errno). */
static int read_line(int fd, secret *s, int cr_ends)
{
    char c = 0;
    int got = 0;
    ssize_t r;

    s->len = 0;
    while ((r = read(fd, &c, 1)) != 0) {
        if (r < 0) {
            if (errno == EINTR && !caught)
                continue;
            break;
        }
        got = 1;
        if (c == '\n' || (cr_ends && c == '\r'))
            break;
        if (s->len < sizeof s->buf - 1)
            s->buf[s->len] = c;
        s->len++;
    }
    rk_secret_wipe(&c, 1);
    if (s->len < sizeof s->buf)
        s->buf[s->len] = 0;
    return r < 0 ? -1 : got;
}

secret_status secret_from_stdin(secret *s)
{
    secret_clear(s);
    int r = read_line(0, s, 0);
    if (r < 0)
        return fail(s, SECRET_NOINPUT, "cannot read standard input: %s", strerror(errno));
    if (r == 0)
        return fail(s, SECRET_NOINPUT, "nothing to read on standard input");
    if (s->len && s->len < sizeof s->buf && s->buf[s->len - 1] == '\r')
        s->buf[--s->len] = 0;
    if (s->len > SECRET_MAX)
        return too_long(s, "the line on standard input");
    return SECRET_OK;
}

/* ------------------------------------------------------------- terminal */

static void on_signal(int sig) { caught = sig; }
static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_TTY_SIGNALS (sizeof tty_signals / sizeof tty_signals[0])

/* One prompt and answer with echo off. 0, or -1 with errno.
 * The terminal signals are blocked from before the prompt until input is
 * there; ppoll() unblocks them atomically while it waits, so a Ctrl-C that
 * comes right after the prompt cannot be lost before the read. */
static int tty_ask(int fd, const char *prompt, secret *s, int *got)
{
    struct termios saved, quiet;
    struct sigaction sa = { .sa_handler = on_signal }, old[N_TTY_SIGNALS];
    sigset_t block, oldmask;
    int have_tc = tcgetattr(fd, &saved) == 0, r = -1, e = 0;

    caught = 0;
    sigemptyset(&block);
    for (size_t i = 0; i < N_TTY_SIGNALS; i++)
        sigaddset(&block, tty_signals[i]);
    sigprocmask(SIG_BLOCK, &block, &oldmask);
    sigemptyset(&sa.sa_mask);   /* no SA_RESTART: a signal interrupts the wait */
    for (size_t i = 0; i < N_TTY_SIGNALS; i++) {
        sigaction(tty_signals[i], &sa, &old[i]);
        if (old[i].sa_handler == SIG_IGN)   /* leave ignored signals ignored */
            sigaction(tty_signals[i], &old[i], NULL);
    }
    if (have_tc) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
        quiet.c_lflag |= ECHONL | ICANON;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* no way to show the prompt; reading may still work */
    }
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int pr = ppoll(&p, 1, NULL, &oldmask);
        if (pr < 0 && errno == EINTR && !caught)
            continue;
        if (pr < 0)
            e = errno;
        break;
    }
    if (!caught && !e) {
        r = read_line(fd, s, 1);
        e = errno;
    }
    if (have_tc)
        tcsetattr(fd, TCSANOW, &saved);
    for (size_t i = 0; i < N_TTY_SIGNALS; i++)
        sigaction(tty_signals[i], &old[i], NULL);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    if (caught) {
        secret_clear(s);
        raise(caught);   /* the old disposition acts now that the terminal is sane */
        errno = EINTR;
        return -1;
    }
    *got = r > 0;
    errno = e;
    return r < 0 ? -1 : 0;
}

secret_status secret_from_tty(secret *s, const char *prompt, const char *confirm)
{
    int got = 0;
    secret_clear(s);
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fail(s, SECRET_NOINPUT, "no terminal to ask for the password (%s)", strerror(errno));
    secret_status st = SECRET_OK;
    if (tty_ask(fd, prompt, s, &got) < 0)
        st = fail(s, SECRET_NOINPUT, "cannot read the terminal: %s", strerror(errno));
    else if (!got)
        st = fail(s, SECRET_NOINPUT, "no password entered");
    else if (s->len > SECRET_MAX)
        st = too_long(s, "the password");
    else if (confirm) {
        secret again;
        secret_clear(&again);
        if (tty_ask(fd, confirm, &again, &got) < 0)
            st = fail(s, SECRET_NOINPUT, "cannot read the terminal: %s", strerror(errno));
        else if (!got || again.len != s->len || memcmp(again.buf, s->buf, s->len) != 0)
            st = fail(s, SECRET_BADDATA, "the passwords do not match");
        secret_clear(&again);
    }
    close(fd);
    return st;
}
