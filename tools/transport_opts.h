/* Transport options shared by every tool that talks to a server: HTTPCrypt,
 * zstd, TLS, failover, local files.  Include tk_transport_table next to
 * tk_conn_table; tk_client() applies them (tk_transport_apply). */
#ifndef TK_TRANSPORT_OPTS_H
#define TK_TRANSPORT_OPTS_H
#include <popt.h>
#include <stddef.h>
#include "rspamkit.h"

typedef struct tk_transport {
    char *key;            /* --key, else RSPAMKIT_KEY */
    int compressed;       /* -z */
    char *dictionary;     /* -D: refused */
    char *cacert;
    int insecure;
    int retries;
    double retry_delay;
    int random_host;
    double dead_time;
    int local_file;
} tk_transport;

extern tk_transport tk_transport_opts;
extern struct poptOption tk_transport_table[];

/* Check the options and copy them into cfg.  Prints the error and returns an
 * exit code, or returns 0. */
int tk_transport_apply(rk_client_config *cfg);

/* --local-file: the absolute path of input `label` when it is a regular file
 * holding exactly `len` bytes (so not stdin, nor one message of an mbox),
 * else NULL.  malloc'd. */
char *tk_local_file(const char *label, size_t len);
#endif
