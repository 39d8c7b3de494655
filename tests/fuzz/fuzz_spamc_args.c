/*
 * libFuzzer harness for the spamc mode's command line (sc_parse_args in
 * tools/spamc.c): the input is the text of a -F file, then the words of
 * the command line, all separated by NUL bytes; a word CONF names that
 * file.  Checked: the result is "go on" or an exit code of the usage kind,
 * and going on, the options hold what check_options promises.
 */
#include "config.h"
#include "common.h"
#include "spamc.h"
#include "transport_opts.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fd = -1;
static char path[64];
static tk_transport transport0;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("spamc.conf", 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        transport0 = tk_transport_opts;
    }
    if (size > 4096)
        return 0;
    tk_transport_opts = transport0;
    char *buf = malloc(size + 1), *argv[66];
    memcpy(buf, data, size);
    buf[size] = 0;
    size_t conf = strlen(buf);
    if (ftruncate(fd, 0) || pwrite(fd, buf, conf, 0) != (ssize_t)conf)
        abort();
    int argc = 0;
    argv[argc++] = "rspamkit-spamc";
    for (char *p = buf + conf + 1; argc < 65 && p <= buf + size; p += strlen(p) + 1)
        argv[argc++] = strcmp(p, "CONF") ? p : path;
    argv[argc] = NULL;
    char **pipe_argv = NULL;
    int rc = sc_parse_args(argc, argv, &pipe_argv);
    if (rc != -1 && rc != 0 && rc != TK_EX_USAGE && rc != SC_EX_CONFIG)
        abort();
    if (rc == -1 &&
        (sc.max_size <= 0 || sc.max_size > SC_MAX_SIZE || sc.port < 0 || sc.port > 65535 ||
         (sc.socket && sc.dest) || (sc.learn && strcmp(sc.learn, "spam") && strcmp(sc.learn, "ham")) ||
         (sc.report && strcmp(sc.report, "report") && strcmp(sc.report, "revoke")) ||
         (sc.learn && sc.report) || (pipe_argv && !pipe_argv[0])))
        abort();
    /* popt's copies of the values (the tool keeps them until it exits) */
    char **strs[] = {&sc.dest, &sc.socket, &sc.learn, &sc.report, &sc.user, &sc.config,
                     &sc.controller, &sc.password_file, &sc.ssl_cert, &sc.ssl_key,
                     &sc.ssl_ca_file, &sc.ssl_ca_path, &tk_transport_opts.key,
                     &tk_transport_opts.dictionary, &tk_transport_opts.cacert};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    free(buf);
    return 0;
}
