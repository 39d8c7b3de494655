/*
 * Dead-host memory shared by the processes of one user (--dead-time).
 *
 * In LDA use every message is its own process, so a server that is down
 * would cost every message a failed connect (or a whole connect timeout).
 * A server that failed to connect is written to a small state file with the
 * time until which it counts as dead; later processes try it last.
 *
 * Format: one line per server, "<unix time until> <server>\n".  Updates
 * hold an exclusive flock() and rewrite the file in place; expired lines are
 * dropped.  Every error is ignored: the file only changes the order in which
 * servers are tried, never whether they are tried.
 */
#include "transport/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAX 65536

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* mkdir -p for the directory of a state file we own; 0 or -1. */
static int ensure_dir(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    *slash = 0;
    struct stat st;
    int rc = 0;
    if (stat(path, &st) != 0) {
        rc = ensure_dir(path);
        if (rc == 0 && mkdir(path, 0700) != 0 && errno != EEXIST)
            rc = -1;
    } else if (!S_ISDIR(st.st_mode)) {
        rc = -1;
    }
    *slash = '/';
    return rc;
}

char *rk_hoststate_default_path(void)
{
    const char *env = getenv("RSPAMKIT_STATE_DIR");
    char buf[4096];
    if (env && *env)
        snprintf(buf, sizeof buf, "%s/dead-hosts", env);
    else if ((env = getenv("XDG_RUNTIME_DIR")) && *env && access(env, W_OK) == 0)
        snprintf(buf, sizeof buf, "%s/rspamkit/dead-hosts", env);
    else if ((env = getenv("XDG_CACHE_HOME")) && *env)
        snprintf(buf, sizeof buf, "%s/rspamkit/dead-hosts", env);
    else if ((env = getenv("HOME")) && *env && access(env, W_OK) == 0)
        snprintf(buf, sizeof buf, "%s/.cache/rspamkit/dead-hosts", env);
    else {
        /* a private directory in /tmp, which must be ours */
        snprintf(buf, sizeof buf, "/tmp/rspamkit-%lu", (unsigned long)getuid());
        struct stat st;
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return NULL;
        if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
            (st.st_mode & 077))
            return NULL;
        strcat(buf, "/dead-hosts");
    }
    return strdup(buf);
}

/* Read the whole (small) file from fd into buf; returns its length. */
static size_t slurp(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = pread(fd, buf + n, cap - 1 - n, (off_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    return n;
}

/* Call fn(until, key, keylen, ud) for each well-formed line. */
static void each_line(const char *buf, void (*fn)(double, const char *, size_t, void *), void *ud)
{
    const char *p = buf;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        char *end;
        double until = strtod(p, &end);
        if (end > p && end < p + ll && *end == ' ' && end + 1 < p + ll)
            fn(until, end + 1, (size_t)(p + ll - end - 1), ud);
        p += ll + (eol ? 1 : 0);
    }
}

struct load_ctx {
    const char *const *keys;
    size_t n;
    double *until, now;
};

static void load_one(double until, const char *key, size_t len, void *ud)
{
    struct load_ctx *c = ud;
    if (until <= c->now)
        return;
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->keys[i]) == len && memcmp(c->keys[i], key, len) == 0)
            c->until[i] = until;
}

void rk_hoststate_load(const char *path, const char *const *keys, size_t n, double *until)
{
    for (size_t i = 0; i < n; i++)
        until[i] = 0;
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return;
    static char buf[STATE_MAX];
    flock(fd, LOCK_SH);
    slurp(fd, buf, sizeof buf);
    close(fd);
    struct load_ctx c = {keys, n, until, wall_now()};
    each_line(buf, load_one, &c);
}

struct set_ctx {
    const char *key;
    double now;
    rk_buf out;
};

static void keep_other(double until, const char *key, size_t len, void *ud)
{
    struct set_ctx *c = ud;
    if (until <= c->now || (strlen(c->key) == len && memcmp(c->key, key, len) == 0))
        return;
    rk_buf_printf(&c->out, "%.3f %.*s\n", until, (int)len, key);
}

void rk_hoststate_set(const char *path, const char *key, double until)
{
    if (!path || strchr(key, '\n'))
        return;
    char *dir = strdup(path);
    if (!dir)
        return;
    int ok = ensure_dir(dir) == 0;
    free(dir);
    if (!ok)
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    static char buf[STATE_MAX];
    if (flock(fd, LOCK_EX) == 0) {
        slurp(fd, buf, sizeof buf);
        struct set_ctx c = {key, wall_now(), {0}};
        each_line(buf, keep_other, &c);
        if (until > c.now)
            rk_buf_printf(&c.out, "%.3f %s\n", until, key);
        if (c.out.len < STATE_MAX && ftruncate(fd, 0) == 0 && c.out.len)
            (void)!pwrite(fd, c.out.p, c.out.len, 0);
        rk_buf_free(&c.out);
    }
    close(fd);
}
