#include "config.h"
#include "common.h"
#include "transport_opts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tk_prog = "rspamkit";
tk_conn tk_conn_opts = {.timeout = 10.0};

struct poptOption tk_conn_table[] = {
    {"connect", 'h', POPT_ARG_STRING, &tk_conn_opts.host, 0,
     "Server address list: host[:port], [v6]:port, /unix/socket, http://host:port", "HOSTS"},
    {"timeout", 't', POPT_ARG_DOUBLE, &tk_conn_opts.timeout, 0,
     "I/O timeout in seconds (0 = none, default 10)", "SECONDS"},
    {"connect-timeout", 0, POPT_ARG_DOUBLE, &tk_conn_opts.connect_timeout, 0,
     "Connect timeout in seconds (default 5)", "SECONDS"},
    {"password", 'P', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, &tk_conn_opts.password, 'P',
     "Controller password (visible to ps; prefer RSPAMKIT_PASSWORD)", "PASSWORD"},
    POPT_TABLEEND};

void tk_err(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", tk_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int tk_exit_for(const rk_error *err)
{
    switch (err->code) {
    case RK_OK: return TK_EX_OK;
    case RK_ERR_USAGE: return TK_EX_USAGE;
    case RK_ERR_NOMEM: return TK_EX_SOFTWARE;
    case RK_ERR_INPUT: return TK_EX_NOINPUT;
    case RK_ERR_RESOLVE:
    case RK_ERR_CONNECT:
    case RK_ERR_UNSUPPORTED: return TK_EX_UNAVAILABLE;
    case RK_ERR_TIMEOUT:
    case RK_ERR_SEND:
    case RK_ERR_RECV: return TK_EX_TEMPFAIL;
    case RK_ERR_HTTP: return err->http_status >= 500 ? TK_EX_TEMPFAIL : TK_EX_PROTOCOL;
    case RK_ERR_AUTH: return TK_EX_NOPERM;
    case RK_ERR_SERVER:
    case RK_ERR_PROTOCOL:
    case RK_ERR_CRYPTO: return TK_EX_PROTOCOL;
    }
    return TK_EX_SOFTWARE;
}

rk_client *tk_client(int default_port, int *code)
{
    rk_error err;
    rk_error_clear(&err);
    const char *pw = tk_conn_opts.password;
    if (!pw)
        pw = getenv("RSPAMKIT_PASSWORD");
    rk_client_config cfg = {
        .hosts = tk_conn_opts.host,
        .default_port = default_port,
        .connect_timeout = tk_conn_opts.connect_timeout,
        .timeout = tk_conn_opts.timeout,
        .password = pw && *pw ? pw : NULL,
    };
    int tcode = tk_transport_apply(&cfg); /* --key, -z, --retries, ... */
    if (tcode) {
        *code = tcode;
        return NULL;
    }
    rk_client *c = rk_client_new(&cfg, &err);
    if (!c) {
        tk_err("%s", err.msg);
        *code = tk_exit_for(&err);
    }
    return c;
}

int tk_popt_error(poptContext pc, int rc)
{
    tk_err("%s: %s", poptBadOption(pc, POPT_BADOPTION_NOALIAS), poptStrerror(rc));
    return TK_EX_USAGE;
}

void tk_print_version(void)
{
    printf("%s %s\n", tk_prog, PACKAGE_VERSION);
}
