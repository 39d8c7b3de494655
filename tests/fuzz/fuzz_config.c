/*
 * libFuzzer harness for the reader of rspamkit.conf (rk_config_load_file):
 * the input is the file (in memory, read through /proc/self/fd).  Checked:
 * it is read (1) or refused with a message (-1), and what it sets is in
 * range: seconds >= 0 or unset, retries 0..1000 or unset, a failure policy
 * that exists; a second read over the first keeps that true.
 */
#include "config.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fd = -1;
static char path[64];

static void sane(const rk_settings *s)
{
    if ((s->timeout < 0 && s->timeout != -1) || (s->connect_timeout < 0 && s->connect_timeout != -1) ||
        s->retries < -1 || s->retries > 1000 ||
        (s->failure != RK_FAILURE_UNSET && s->failure != RK_FAILURE_TEMPFAIL &&
         s->failure != RK_FAILURE_PASS))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("rspamkit.conf", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (size > 65536 || ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    rk_settings s;
    rk_error e;
    rk_settings_init(&s);
    for (int round = 0; round < 2; round++) {
        rk_error_clear(&e);
        int rc = rk_config_load_file(&s, path, 1, &e);
        if ((rc != 1 && rc != -1) || (rc == -1 && !e.msg[0]))
            abort();
        sane(&s);
        if (rc != 1)
            break;
    }
    rk_settings_clear(&s);
    return 0;
}
