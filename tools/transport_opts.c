#include "config.h"
#include "transport_opts.h"
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOT_GIVEN INT_MIN
tk_transport tk_transport_opts = {.retries = NOT_GIVEN};

struct poptOption tk_transport_table[] = {
    {"key", 0, POPT_ARG_STRING, &tk_transport_opts.key, 0,
     "Encrypt with HTTPCrypt to this server public key (or RSPAMKIT_KEY)", "PUBKEY"},
    {"compressed", 'z', POPT_ARG_NONE, &tk_transport_opts.compressed, 0,
     "Compress requests with zstd", NULL},
    {"dictionary", 'D', POPT_ARG_STRING, &tk_transport_opts.dictionary, 0,
     "zstd dictionary (rspamc compatibility: refused, not supported)", "FILE"},
    {"cacert", 0, POPT_ARG_STRING, &tk_transport_opts.cacert, 0,
     "CA certificates to verify https:// servers with", "FILE"},
    {"insecure", 0, POPT_ARG_NONE, &tk_transport_opts.insecure, 0,
     "Do not verify the certificate of https:// servers", NULL},
    {"retries", 0, POPT_ARG_INT, &tk_transport_opts.retries, 0,
     "Rounds over the server list again after all failed (default 0, or the config file's)", "N"},
    {"retry-delay", 0, POPT_ARG_DOUBLE, &tk_transport_opts.retry_delay, 0,
     "Seconds before the first retry round, doubling (default 1)", "SECONDS"},
    {"random-host", 0, POPT_ARG_NONE, &tk_transport_opts.random_host, 0,
     "Try the servers of -h in random order, to spread the load", NULL},
    {"dead-time", 0, POPT_ARG_DOUBLE, &tk_transport_opts.dead_time, 0,
     "Try a server that failed to connect last for SECONDS, across runs", "SECONDS"},
    {"local-file", 0, POPT_ARG_NONE, &tk_transport_opts.local_file, 0,
     "Let a server on this machine read input files itself (File header; scans only)", NULL},
    POPT_TABLEEND};

int tk_transport_apply(rk_client_config *cfg)
{
    tk_transport *t = &tk_transport_opts;
    if (t->dictionary) {
        tk_err("-D/--dictionary: zstd dictionaries are not supported (use -z without one)");
        return TK_EX_USAGE;
    }
    if (t->compressed && !rk_have_zstd()) {
        tk_err("-z/--compressed: this build of rspamkit has no zstd support");
        return TK_EX_USAGE;
    }
    if (t->retries != NOT_GIVEN && (t->retries < 0 || t->retries > 100)) {
        tk_err("--retries must be between 0 and 100");
        return TK_EX_USAGE;
    }
    if (t->retry_delay < 0 || t->dead_time < 0) {
        tk_err("%s must not be negative", t->dead_time < 0 ? "--dead-time" : "--retry-delay");
        return TK_EX_USAGE;
    }
    if (t->cacert && access(t->cacert, R_OK) != 0) {
        tk_err("cannot read --cacert file %s: %s", t->cacert, strerror(errno));
        return TK_EX_NOINPUT;
    }
    /* --key, else RSPAMKIT_KEY, else the config file (as for the password);
     * --retries, else the config file */
    int code = 0;
    const rk_settings *conf = tk_settings(&code); /* read once, cached */
    if (!conf)
        return code;
    const char *key = t->key;
    if (!key || !*key)
        key = getenv("RSPAMKIT_KEY");
    if (!key || !*key)
        key = conf->key;
    int retries = t->retries != NOT_GIVEN ? t->retries : conf->retries;
    cfg->pubkey = key && *key ? key : NULL;
    cfg->compress = t->compressed;
    cfg->cacert = t->cacert;
    cfg->insecure = t->insecure;
    cfg->retries = retries > 0 ? retries : 0;
    cfg->retry_delay = t->retry_delay;
    cfg->random_host = t->random_host;
    cfg->dead_time = t->dead_time;
    return 0;
}

char *tk_local_file(const char *label, size_t len)
{
    struct stat st;
    if (!label || strcmp(label, "-") == 0 || strcmp(label, "stdin") == 0 ||
        strcmp(label, "empty") == 0 || stat(label, &st) != 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size != len)
        return NULL;
    return realpath(label, NULL);
}
