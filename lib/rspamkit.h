/*
 * rspamkit.h - client library for the Rspamd spam filter.
 *
 * Conventions:
 *  - Every function that can fail returns 0 on success and -1 on failure and,
 *    when given a non-NULL rk_error, fills it with a code and a one-line
 *    message that names the host or input concerned.
 *  - The library never prints, never exits and never reads the terminal.
 *  - Ownership: objects returned through `out` parameters belong to the caller
 *    and are released with the matching _free or _clear function.  Pointers
 *    inside an rk_result point into that result and live as long as it does.
 *  - Size-tagged structs.  The option structs a program fills in and passes
 *    (rk_client_config, rk_msg_opts, rk_ctl_args, rk_message_opts) and
 *    rk_settings, which the library fills, may gain fields at their end in a
 *    later version of the library.  The functions that take them are macros
 *    that pass the size of the struct as the program was compiled to an
 *    exported function of the same name ending in _sized.  A program built
 *    with an older rspamkit.h keeps working with a newer library: the fields
 *    it does not know are zero (unset).  A program built with a newer header
 *    than the library fails with RK_ERR_USAGE if it sets a field the library
 *    does not know, so zero the whole struct (= {0} or memset) before setting
 *    fields.  Other structs change only with a new symbol version.
 */
#ifndef RSPAMKIT_H
#define RSPAMKIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RK_API __attribute__((visibility("default")))
#else
#define RK_API
#endif

#define RK_DEFAULT_PORT 11333      /* normal worker: scans */
#define RK_CONTROLLER_PORT 11334   /* controller: learn, fuzzy, stat, ... */

RK_API const char *rk_version(void);

/* ------------------------------------------------------------------ errors */

typedef enum rk_status {
    RK_OK = 0,
    RK_ERR_USAGE,     /* invalid argument: address syntax, option value */
    RK_ERR_NOMEM,     /* out of memory */
    RK_ERR_INPUT,     /* cannot read an input */
    RK_ERR_RESOLVE,   /* host name does not resolve */
    RK_ERR_CONNECT,   /* connection refused, no such socket, unreachable */
    RK_ERR_TIMEOUT,   /* connect or I/O timeout */
    RK_ERR_SEND,      /* connection broken while sending the request */
    RK_ERR_RECV,      /* connection broken or closed before a full reply */
    RK_ERR_PROTOCOL,  /* reply is not valid HTTP or its body not valid JSON */
    RK_ERR_HTTP,      /* the server answered with a non-2xx status */
    RK_ERR_AUTH,      /* the server refused the password (401/403) */
    RK_ERR_SERVER,    /* 2xx reply carrying {"error": ...} */
    RK_ERR_CRYPTO,    /* HTTPCrypt key or authentication failure */
    RK_ERR_UNSUPPORTED /* feature not available (e.g. libcurl missing) */
} rk_status;

typedef struct rk_error {
    rk_status code;
    int http_status;   /* HTTP status of the reply, 0 when none was received */
    char msg[512];     /* one line, no trailing newline */
} rk_error;

RK_API void rk_error_clear(rk_error *err);
/* Name of a status code, e.g. "connect". */
RK_API const char *rk_status_name(rk_status code);

/* ---------------------------------------------------------------- addresses */

typedef enum rk_addr_kind {
    RK_ADDR_TCP,    /* host, host:port, [v6]:port, http://host:port */
    RK_ADDR_UNIX,   /* /path/to/socket */
    RK_ADDR_HTTPS   /* https://host[:port][/prefix] (through libcurl) */
} rk_addr_kind;

typedef struct rk_addr {
    rk_addr_kind kind;
    char *host;     /* name or literal without brackets; socket path for UNIX */
    int port;       /* 0 when the text gave none */
    char *prefix;   /* path prefix of an http(s) URL, "" when none, never ending in '/' */
    char *spec;     /* the text this address was parsed from */
} rk_addr;

/*
 * Parse a server list: comma-separated entries, each one of
 *   host  host:port  [v6addr]  [v6addr]:port  /unix/socket
 *   http://host[:port][/prefix]  https://host[:port][/prefix]
 * On success *out is an array of *n addresses owned by the caller
 * (rk_addrs_free).
 */
RK_API int rk_addrs_parse(const char *spec, rk_addr **out, size_t *n, rk_error *err);
RK_API void rk_addrs_free(rk_addr *a, size_t n);
/* Port to use for `a`: its own, or default_port when it has none. */
RK_API int rk_addr_port(const rk_addr *a, int default_port);

/* ------------------------------------------------------------------ headers */

typedef struct rk_header {
    char *name;
    char *value;
} rk_header;

typedef struct rk_headers {
    rk_header *v;
    size_t n, cap;
} rk_headers;

RK_API int rk_headers_add(rk_headers *h, const char *name, const char *value);
RK_API int rk_headers_addn(rk_headers *h, const char *name, size_t nlen,
                           const char *value, size_t vlen);
/* First value of `name` (case-insensitive), or NULL. */
RK_API const char *rk_headers_get(const rk_headers *h, const char *name);
RK_API void rk_headers_clear(rk_headers *h);

/* ------------------------------------------------------- request options */

/* What a scan (or learn / fuzzy) request says about the message. All
 * strings are borrowed; NULL/0 means "not sent". */
typedef struct rk_msg_opts {
    const char *ip, *from, *helo, *hostname, *user, *deliver_to;
    const char *const *rcpt; size_t n_rcpt;
    const char *queue_id, *log_tag, *settings, *settings_id;
    const char *user_agent;        /* default "rspamkit"; "rspamc" makes Rspamd's greylist,
                                      ratelimit, ... skip the request (as the tools do) */
    const char *filename;          /* Filename header (informational label) */
    const char *classifier;        /* learn: Classifier */
    const char *fuzzy_symbol;      /* fuzzy: Symbol */
    int weight, flag;              /* fuzzy: Weight / Flag, sent when != 0 */
    int pass_all, profile, raw, extended_urls, skip_images, skip_attachments;
    const char *const *extra; size_t n_extra; /* "Name: value", "Name=value" or "Name" */
} rk_msg_opts;

/* Append the request headers for `o`, as rspamc names them. */
RK_API int rk_msg_opts_headers_sized(const rk_msg_opts *o, size_t o_size, rk_headers *h,
                                     rk_error *err);
#define rk_msg_opts_headers(o, h, err) rk_msg_opts_headers_sized((o), sizeof(rk_msg_opts), (h), (err))

/* ------------------------------------------------------------- the client */

typedef struct rk_client_config {
    const char *hosts;        /* server list (rk_addrs_parse); NULL = "localhost" */
    int default_port;         /* port for entries without one */
    double connect_timeout;   /* seconds; <= 0 means 5 */
    double timeout;           /* I/O timeout in seconds; 0 = wait forever */
    const char *password;     /* sent as Password: when non-NULL */
    /* transport (see the transport section at the end); zero = off */
    const char *pubkey;       /* HTTPCrypt: the server's public key (base32 or hex) */
    int compress;             /* zstd request bodies (Compression: zstd); not a multipart
                                 one (rk_scan_request_v3: RK_V3_ZSTD) */
    const char *cacert;       /* https://: CA certificates file; NULL = system store */
    int insecure;             /* https://: do not verify the server certificate */
    int retries;              /* extra rounds over the server list when all failed */
    double retry_delay;       /* seconds before the first extra round, doubling; <= 0: 1 */
    int random_host;          /* try the servers in random order (per request) */
    double dead_time;         /* remember a server that failed to connect, across
                                 processes, for this many seconds */
    const char *state_file;   /* that memory; NULL = the per-user default */
} rk_client_config;

typedef struct rk_client rk_client;

RK_API rk_client *rk_client_new_sized(const rk_client_config *cfg, size_t cfg_size, rk_error *err);
#define rk_client_new(cfg, err) rk_client_new_sized((cfg), sizeof(rk_client_config), (err))
RK_API void rk_client_free(rk_client *c);

typedef struct rk_request {
    const char *path;              /* "/checkv2" */
    const char *method;            /* NULL: POST with a body, GET without */
    const unsigned char *body;     /* borrowed; may be NULL */
    size_t body_len;
    const rk_headers *headers;     /* borrowed; may be NULL */
} rk_request;

typedef struct rk_response {
    int status;
    char *reason;
    rk_headers headers;
    unsigned char *body;           /* NUL-terminated for convenience */
    size_t body_len;
    double elapsed;                /* seconds from request sent to reply read */
    char *host;                    /* the server that answered ("host:port" or path) */
} rk_response;

RK_API void rk_response_clear(rk_response *r);

/* The version of the Rspamd that sent `r`, read from its Server header
 * ("rspamd/4.1.5"): major * 10000 + minor * 100 + patch (40105 here), or 0
 * when the header is missing or names no version (a site can change it with
 * Rspamd's http.server_hdr).  Where rspamc's behaviour changed between
 * versions, the tools follow the server's version with it. */
RK_API int rk_response_server_version(const rk_response *r);

/* One synchronous request. On failure err says what and which host. Non-2xx
 * replies are failures (RK_ERR_HTTP / RK_ERR_AUTH) but `resp` is still
 * filled so the caller can show the body. */
RK_API int rk_client_request(rk_client *c, const rk_request *req,
                             rk_response *resp, rk_error *err);

/*
 * Many requests with up to `max_inflight` in flight at all times.
 * next(ud, &req, &token) is called whenever a slot is free; it returns 1 and
 * fills req (whose memory must stay valid until done() for it) or returns 0
 * when there is nothing more.  done(ud, token, resp, err) is called once per
 * request: err->code is RK_OK on success.  `resp` is cleared after done()
 * returns unless done() took the fields it wants (set them to NULL).
 * Returns 0, or -1 if `next` or `done` returned -1 (abort).
 */
typedef int (*rk_next_fn)(void *ud, rk_request *req, void **token);
typedef int (*rk_done_fn)(void *ud, void *token, rk_response *resp, const rk_error *err);
RK_API int rk_client_run(rk_client *c, int max_inflight,
                         rk_next_fn next, rk_done_fn done, void *ud);

/* Call fn(ud) whenever rk_client_run() is about to wait with every request
 * in flight already sent: work done there (starting a delivery command,
 * say) overlaps the server's time instead of delaying a request. fn must
 * not call back into the client. NULL removes it. */
RK_API void rk_client_on_wait(rk_client *c, void (*fn)(void *ud), void *ud);

/* ------------------------------------------------------------------ replies */

typedef struct rk_symbol {
    const char *name;
    double score;            /* valid when has_score */
    int has_score;
    double metric_score;
    const char *description; /* NULL when absent */
    const char **options;    /* NULL when absent; has_options distinguishes [] */
    size_t n_options;
    int has_options;
} rk_symbol;

/* A member of the reply's "messages" or "profile" object. */
typedef struct rk_reply_item {
    const char *key;
    const char *text;        /* messages: the string, or another value as compact JSON */
    int is_string;           /* messages: the value was a string */
    double number;           /* profile: the value (microseconds); 0 if not a number */
} rk_reply_item;

typedef struct rk_result {
    json_t *json;            /* the whole reply, with RK_RESULT_TREE; else NULL */
    const char *action;      /* NULL when absent */
    double score, required_score;
    int has_score, has_required;
    int is_skipped;
    const char *subject;
    rk_symbol *symbols;      /* in server order */
    size_t n_symbols;
    const char *message_id, *queue_id;
    const char **dkim;       /* DKIM-Signature values (folded by the server) */
    size_t n_dkim;
    json_t *messages, *urls, *emails, *thresholds, *profile; /* NULL when absent */
    const char *error;       /* "error" key of the reply */
    const unsigned char *rewritten; /* new message after Message-Offset */
    size_t rewritten_len;
    double reject_score;     /* thresholds.reject (Rspamd 3.5+), valid when has_reject */
    int has_reject;
    struct rk_milter_add *milter_add;       /* milter.add_headers, in server order */
    size_t n_milter_add;
    struct rk_milter_remove *milter_remove; /* milter.remove_headers, in server order */
    size_t n_milter_remove;
    rk_reply_item *message_items;           /* "messages", typed, in server order;
                                               NULL when it is absent or not an object */
    size_t n_message_items;
    rk_reply_item *profile_items;           /* "profile", likewise */
    size_t n_profile_items;
    char *strings_;          /* private: the decoded strings */
} rk_result;

/* Parse a /checkv2 reply. `body` must stay valid while the result is used
 * when the reply carries a rewritten message (the result points into it).
 * message_offset is the Message-Offset header value, or 0. Everything the
 * result holds belongs to it (rk_result_clear); ->json, the whole reply as
 * a tree, is built only with RK_RESULT_TREE (for -j and --ucl output). */
#define RK_RESULT_TREE 1u
RK_API int rk_result_parse(const unsigned char *body, size_t len, size_t message_offset,
                           unsigned flags, rk_result *out, rk_error *err);
RK_API void rk_result_clear(rk_result *r);

/* Actions that mean "spam" (X-Spam: yes, Spam: true) and "ham". Returns 1, 0,
 * or -1 for an action that is neither (custom, discard, quarantine). */
RK_API int rk_action_is_spam(const char *action);

/* The score of `action` ("reject", "add header", "greylist"...: the names
 * the server uses) in the reply's "thresholds" object (Rspamd 3.5 and later
 * send one): 1 with *score set, 0 when the reply gives no number for it. */
RK_API int rk_result_threshold(const rk_result *r, const char *action, double *score);

/* ------------------------------------------------------------------ output */

typedef enum rk_emit_format {
    RK_EMIT_JSON,     /* pretty JSON, 4-space indent (rspamc -j) */
    RK_EMIT_COMPACT,  /* compact JSON (rspamc --compact) */
    RK_EMIT_UCL       /* UCL "config" syntax (rspamc --ucl) */
} rk_emit_format;

/* Serialise `v` the way libucl does (number and string rules of rspamc /
 * rspamadm). Returns a malloc'd NUL-terminated string, or NULL on ENOMEM. */
RK_API char *rk_emit(const json_t *v, rk_emit_format fmt, size_t *len);
/* The member `name` of a result that is kept as JSON ("urls", "emails",
 * "messages", "thresholds", "profile") as rk_emit writes it; NULL when the
 * reply has no such member or for lack of memory. */
RK_API char *rk_result_emit_member(const rk_result *r, const char *name, rk_emit_format fmt,
                                   size_t *len);

/* ---------------------------------------------------------------- messages */

/* mbox: returns 1 if `data` looks like an mbox with more than one message
 * (starts with "From " and has another "\nFrom " line after a blank line). */
RK_API int rk_mbox_is_multi(const unsigned char *data, size_t len);
/* Split an mbox into messages. Each part starts with its "From " line and
 * does not include the blank line that separates it from the next one.
 * The offs and lens arrays are malloc'd arrays of *n entries. */
RK_API int rk_mbox_split(const unsigned char *data, size_t len,
                         size_t **offs, size_t **lens, size_t *n);

/* ---- passwords (rspamkit-pw) ---- */

/*
 * Controller password hashes, compatible with `rspamadm pw` (3.4) and with
 * the `password` / `enable_password` options of Rspamd's controller:
 *
 *   $1$<salt>$<key>   PBKDF2 over keyed BLAKE2b-512, 16000 rounds
 *   $2$<salt>$<key>   Rspamd's Catena-Butterfly (garlic 10, lambda 4), the default
 *
 * salt: 20 random bytes; key: 32 bytes; both in Rspamd's base32, so a hash
 * is always RK_PW_HASH_LEN (88) characters.
 *
 * Quirks kept for compatibility (both are what rspamd computes):
 *  - PBKDF2: a password longer than 64 bytes is replaced by its BLAKE2b-512.
 *  - Catena: only the first (length mod 256) bytes of the password count,
 *    so a 300-byte password is equivalent to its first 44 bytes.
 */
typedef enum rk_pw_type {
    RK_PW_PBKDF2 = 1,
    RK_PW_CATENA = 2
} rk_pw_type;

#define RK_PW_DEFAULT_TYPE RK_PW_CATENA
#define RK_PW_SALT_LEN 20
#define RK_PW_KEY_LEN 32
#define RK_PW_HASH_LEN 88   /* strlen of a hash; buffers need RK_PW_HASH_LEN + 1 */

/* "pbkdf2" or "catena" (case-sensitive, as rspamadm): 0, or -1 if unknown. */
RK_API int rk_pw_type_parse(const char *name, rk_pw_type *type);
/* "pbkdf2" / "catena", or NULL for an unknown type. */
RK_API const char *rk_pw_type_name(rk_pw_type type);
/* rspamadm's one-line description, e.g. "PBKDF2-blake2b - standard CPU ...". */
RK_API const char *rk_pw_type_description(rk_pw_type type);

/* The raw KDF: key = KDF(pw, salt) with rspamd's parameters for `type`. */
RK_API int rk_pw_derive(rk_pw_type type, const void *pw, size_t len,
                        const unsigned char salt[RK_PW_SALT_LEN],
                        unsigned char key[RK_PW_KEY_LEN], rk_error *err);

/*
 * Hash `len` bytes of `pw` into `out` (RK_PW_HASH_LEN + 1 bytes, NUL-terminated).
 * `salt` is RK_PW_SALT_LEN bytes, or NULL for a fresh random one (the normal case).
 */
RK_API int rk_pw_hash(rk_pw_type type, const void *pw, size_t len,
                      const unsigned char *salt, char out[RK_PW_HASH_LEN + 1],
                      rk_error *err);

/*
 * Is `hash` a well-formed hash, as the controller parses it?  0 and its type,
 * or -1 with err (RK_ERR_USAGE) saying what is wrong.  The parse is rspamd's,
 * including its leniency: the id is one digit, the salt starts at offset 3
 * whatever follows the digit, and anything after the key is ignored.
 */
RK_API int rk_pw_hash_type(const char *hash, rk_pw_type *type, rk_error *err);

/*
 * Check `len` bytes of `pw` against `hash` (constant-time comparison).
 * Returns 1 if it matches, 0 if not, -1 on a malformed hash (RK_ERR_USAGE)
 * or another failure.
 */
RK_API int rk_pw_verify(const char *hash, const void *pw, size_t len, rk_error *err);

/* Wipe `len` bytes that held a secret, in a way the compiler keeps. */
RK_API void rk_secret_wipe(void *p, size_t len);

/* ---- transport: HTTPCrypt, zstd, TLS, failover ---- */

/*
 * Addresses.  http:// hosts and UNIX sockets are spoken to directly; an
 * https:// address goes through libcurl, which is loaded with dlopen() the
 * first time such a server is contacted (never otherwise), verified against
 * `cacert` or the system store unless `insecure`.  RK_ERR_UNSUPPORTED when
 * libcurl (7.66 or later) cannot be loaded.
 *
 * HTTPCrypt (`pubkey`).  Every request is encrypted to the server's key with
 * a client key made once per rk_client, and every reply is authenticated
 * before any of it is used.  The real request (method, path, all headers,
 * Password, body) travels inside; outside there is only POST <prefix>/post
 * with the Key header.  rk_response then describes the inner (decrypted)
 * reply.  Failures are RK_ERR_CRYPTO: a server that closes the connection
 * without a reply or answers in plain text (wrong key, no keypair), and a
 * reply that fails authentication (nothing of it is returned).  A key that
 * does not parse is RK_ERR_USAGE from rk_client_new.
 *
 * Compression (`compress`).  Request bodies are sent zstd-compressed with
 * `Compression: zstd` (inside the HTTPCrypt envelope when both are on).  Any
 * reply that says `Compression: zstd` is decompressed, whether or not it was
 * asked for: rk_response.body is always plain.  A reply compressed with a
 * zstd dictionary is RK_ERR_PROTOCOL (dictionaries are not supported).
 *
 * Local files.  A request whose headers carry `File: /absolute/path` AND
 * that also has the message as its body lets a server on this machine (a
 * UNIX socket or a loopback address) read the file itself: the body is not
 * sent.  For other servers, and when the server refuses the file (4xx, or an
 * error about the file), the request is sent again with the body instead
 * and without File.
 *
 * Failover.  The servers of `hosts` are tried in order (or in a random order
 * per request with `random_host`); every address a name resolves to is
 * tried.  A transport failure (resolve, connect, connect timeout, send, no
 * reply, I/O timeout, HTTPCrypt) moves on to the next server; an HTTP reply,
 * even an error, is final.  When every server failed, `retries` further
 * rounds follow, after retry_delay, 2 x retry_delay, ... seconds (+-25%,
 * at most 60 s), except after an HTTPCrypt failure.  The error names the
 * last server and phase, then lists the others ("; also failed: h (phase)").
 * A server that failed to connect is tried last for 30 s within the process;
 * with `dead_time`, for that long across processes, through `state_file`
 * (default $RSPAMKIT_STATE_DIR/dead-hosts, $XDG_RUNTIME_DIR/rspamkit/,
 * ~/.cache/rspamkit/ or a private /tmp/rspamkit-UID/).  A dead server is
 * still tried when all others fail.
 */

/* 1 when this build can compress (libzstd), else 0. */
RK_API int rk_have_zstd(void);

/*
 * A new HTTPCrypt keypair for a server, as `rspamadm keypair` makes it: a
 * curve25519 ("kex") key whose fields go into a worker's `keypair` section
 * (type "kex", algorithm "curve25519", encoding "base32").  All three are
 * NUL-terminated strings in Rspamd's base32:
 *   pubkey   the public key, what rk_client_config.pubkey (--key) takes;
 *   privkey  the private key (clamped, as Rspamd stores it): a secret,
 *            rk_secret_wipe() the struct when done;
 *   id       BLAKE2b-512 of the public key (the server's key id).
 * 0, or -1 with err set (RK_ERR_UNSUPPORTED when libsodium cannot be loaded).
 */
#define RK_KEYPAIR_KEY_CHARS 52   /* 32 bytes in base32 */
#define RK_KEYPAIR_ID_CHARS 103   /* 64 bytes in base32 */
typedef struct rk_keypair {
    char pubkey[RK_KEYPAIR_KEY_CHARS + 1];
    char privkey[RK_KEYPAIR_KEY_CHARS + 1];
    char id[RK_KEYPAIR_ID_CHARS + 1];
} rk_keypair;
RK_API int rk_keypair_generate(rk_keypair *kp, rk_error *err);

/* ---- controller: learn, fuzzy, stat, counters, uptime, settings ---- */

/*
 * The controller (RK_CONTROLLER_PORT) is spoken to through these calls: the
 * paths, request headers and reply shapes are the library's business.
 *
 * A learn or fuzzy operation on one message is an rk_ctl_op.  The caller
 * builds its request with rk_ctl_request() (path and method) and
 * rk_ctl_headers() (Class, Hash, Filename), sends it with rk_client_request()
 * or rk_client_run(), and reads the answer with rk_ctl_classify().
 */
typedef enum rk_ctl_op {
    RK_LEARN_SPAM,      /* /learnspam */
    RK_LEARN_HAM,       /* /learnham */
    RK_LEARN_CLASS,     /* /learnclass with Class: NAME (Rspamd 3.13 and later) */
    RK_FUZZY_ADD,       /* /fuzzyadd (Flag or Symbol, Weight) */
    RK_FUZZY_DEL,       /* /fuzzydel */
    RK_FUZZY_DELHASH    /* /fuzzydelhash with one Hash header per hash, no body */
} rk_ctl_op;

typedef enum rk_ctl_kind { RK_CTL_LEARN, RK_CTL_FUZZY } rk_ctl_kind;

/* RK_CTL_LEARN for the learn operations, RK_CTL_FUZZY for the others. */
RK_API rk_ctl_kind rk_ctl_op_kind(rk_ctl_op op);

/* Set req->path and req->method for `op` (body and headers are left alone). */
RK_API void rk_ctl_request(rk_ctl_op op, rk_request *req);

/* What rk_ctl_headers() adds; every field may be NULL/0. */
typedef struct rk_ctl_args {
    const char *cls;                  /* RK_LEARN_CLASS: the class (Class) */
    const char *filename;             /* the input's name (Filename) */
    const char *const *hashes;        /* RK_FUZZY_DELHASH: hashes (Hash, one each) */
    size_t n_hashes;
} rk_ctl_args;

/* Append the headers of `a` that `op` takes (Class, then Hash, then
 * Filename).  RK_ERR_USAGE when a hash is not one (rk_fuzzy_hash_valid). */
RK_API int rk_ctl_headers_sized(rk_ctl_op op, const rk_ctl_args *a, size_t a_size, rk_headers *h,
                                rk_error *err);
#define rk_ctl_headers(op, a, h, err) rk_ctl_headers_sized((op), (a), sizeof(rk_ctl_args), (h), (err))

/* A fuzzy hash as the controller prints and takes it: 128 hex digits. */
#define RK_FUZZY_HASH_HEX 128
/* 1 if `s` is a fuzzy hash (either case), else 0. */
RK_API int rk_fuzzy_hash_valid(const char *s);

/*
 * A controller reply body (a JSON document), parsed.  Rspamd can put `nan`
 * and `inf` where a number belongs (stat's scan_times); they are read as
 * null, so that what is emitted from here is always valid JSON.  Opaque;
 * freed with rk_ctl_doc_free (NULL is fine).
 */
typedef struct rk_ctl_doc rk_ctl_doc;
/* Parse a reply body got some other way; RK_ERR_PROTOCOL when it is not a
 * JSON object or array.  *out belongs to the caller. */
RK_API int rk_ctl_doc_parse(const void *body, size_t len, rk_ctl_doc **out, rk_error *err);
RK_API void rk_ctl_doc_free(rk_ctl_doc *d);

/*
 * `d` as rspamc prints a controller reply, ending with a newline: in JSON
 * (RK_EMIT_JSON, RK_EMIT_COMPACT) or UCL, with "filename" (when non-NULL) and
 * "scan_time" (`t`, seconds) appended to a top-level object.  Returns a
 * malloc'd NUL-terminated string (caller frees) or NULL on ENOMEM.
 */
RK_API char *rk_ctl_doc_emit(const rk_ctl_doc *d, rk_emit_format fmt, const char *filename,
                             double t, size_t *len);

/*
 * What the controller made of a learn or fuzzy request.  Rspamd reports this
 * through the status and an {"error": ...} body that differ between
 * versions; rk_ctl_classify() reads both:
 *
 *   DONE     200 {"success":true}: learned; fuzzy hashes added or deleted.
 *   ALREADY  learn only: 208 "<id> has been already learned as spam"
 *            (and the 404 of older servers with the same text).
 *   SKIPPED  the server declined without failing: 204 "all learn conditions
 *            denied", "contains less tokens than required" (204 on 3.4, 4xx
 *            on some versions), any other 2xx with an error; fuzzy: "No
 *            content to generate fuzzy", or a success with no hashes.
 *   FAILED   no reply, 401/403, other 4xx/5xx, a reply that is not JSON;
 *            for RK_LEARN_CLASS, a 404 "Not found" says that the server has
 *            no /learnclass (before Rspamd 3.13).
 */
typedef enum rk_ctl_outcome {
    RK_CTL_DONE = 0,
    RK_CTL_ALREADY,
    RK_CTL_SKIPPED,
    RK_CTL_FAILED
} rk_ctl_outcome;

typedef struct rk_ctl_reply {
    rk_ctl_outcome outcome;
    rk_error why;          /* the server's message for ALREADY and SKIPPED (code
                              RK_OK), the error for FAILED, "" for DONE;
                              why.http_status is the reply status or 0 */
    double elapsed;        /* seconds the request took, 0 without a reply */
    const char **hashes;   /* fuzzy: the reply's "hashes" (the strings of it) */
    size_t n_hashes;
    rk_ctl_doc *doc;       /* the body when it is a JSON object, else NULL */
} rk_ctl_reply;

/*
 * Classify `resp` and `err` as rk_client_request() or the done callback of
 * rk_client_run() returned them (resp may be NULL) into `out`, which the
 * caller releases with rk_ctl_reply_clear (everything in it belongs to it).
 * Returns out->outcome.  rk_ctl_reply_fail() fills `out` for a request that
 * was never sent (an unreadable input): FAILED with `why`.
 */
RK_API rk_ctl_outcome rk_ctl_classify(rk_ctl_op op, const rk_response *resp,
                                      const rk_error *err, rk_ctl_reply *out);
RK_API void rk_ctl_reply_fail(rk_ctl_reply *out, const rk_error *why);
RK_API void rk_ctl_reply_clear(rk_ctl_reply *r);
/* "learned"/"done", "already learned", "skipped", "failed". */
RK_API const char *rk_ctl_outcome_name(rk_ctl_kind kind, rk_ctl_outcome o);

/*
 * One compact JSON object for a reply, as rspamkit-learn and rspamkit-fuzzy
 * print with --json, keys in this order: "filename" (when non-NULL),
 * "outcome" (the word given), "class" (when non-NULL), "status" (HTTP status
 * or null), "hashes" (when with_hashes), "message" (unless DONE), "time".
 * No newline.  Returns a malloc'd string (caller frees) or NULL on ENOMEM.
 */
RK_API char *rk_ctl_reply_json(const rk_ctl_reply *r, const char *filename, const char *outcome,
                               const char *cls, int with_hashes);

/*
 * Commands without a message.  rk_ctl_query() sends one and checks the shape
 * of the reply (an object, or an array for COUNTERS, ACTIONS and SYMBOLS:
 * else RK_ERR_PROTOCOL).  `resp` (its headers, elapsed) is filled whenever a
 * reply came (rk_response_clear); *out is the body, owned by the caller.
 * An {"error": ...} body of a non-2xx reply is quoted in the error.
 */
typedef enum rk_ctl_query {
    RK_CTL_STAT,        /* /stat */
    RK_CTL_STAT_RESET,  /* /statreset: the statistics, then zeroed */
    RK_CTL_COUNTERS,    /* /counters */
    RK_CTL_UPTIME,      /* /auth: version and uptime */
    RK_CTL_ACTIONS,     /* /actions */
    RK_CTL_SYMBOLS      /* /symbols */
} rk_ctl_query;

RK_API int rk_ctl_query_run(rk_client *c, rk_ctl_query q, rk_response *resp, rk_ctl_doc **out,
                            rk_error *err);

/*
 * Is the server up?  GET /ping, which a scanner and a controller both
 * answer with "pong" (no password needed).  0 when the answer is "pong";
 * else -1 with err: the transport's error, RK_ERR_HTTP/RK_ERR_AUTH for a
 * non-2xx reply, RK_ERR_PROTOCOL for any other body.  `resp` is filled
 * whenever a reply came; the caller clears it (rk_response_clear).
 */
RK_API int rk_ctl_ping(rk_client *c, rk_response *resp, rk_error *err);

/*
 * Typed views of a reply.  Strings point into the document and live as long
 * as it does; the arrays belong to the struct (the matching _clear).  Numbers
 * missing from the reply read as 0; integers given as reals are truncated.
 */
typedef struct rk_ctl_count {
    const char *name;
    int64_t count;
} rk_ctl_count;

typedef struct rk_statfile {
    const char *symbol, *type;   /* "" when absent */
    const char *label;           /* NULL when absent */
    int64_t revision, used, total, size, users, languages;
} rk_statfile;

typedef struct rk_stat {
    int64_t scanned, learned, spam_count, ham_count, connections, control_connections;
    rk_ctl_count *actions;       /* messages per action, in reply order */
    size_t n_actions;
    double *scan_times;          /* the numbers of scan_times (nan and null left out) */
    size_t n_scan_times;
    int has_scan_times;          /* scan_times is an array */
    int64_t pools_allocated, pools_freed, bytes_allocated, chunks_allocated,
            shared_chunks_allocated, chunks_freed, chunks_oversized;
    rk_ctl_count *fuzzy_hashes;  /* hashes per fuzzy storage */
    size_t n_fuzzy_hashes;
    int has_fuzzy_hashes;
    int64_t *fuzzy_checked, *fuzzy_found;
    size_t n_fuzzy_checked, n_fuzzy_found;
    int has_fuzzy_checked, has_fuzzy_found;
    rk_statfile *statfiles;
    size_t n_statfiles;
    int64_t total_learns;
} rk_stat;

/* A STAT or STAT_RESET reply. */
RK_API int rk_ctl_stat(const rk_ctl_doc *d, rk_stat *out, rk_error *err);
RK_API void rk_stat_clear(rk_stat *s);

typedef struct rk_counter {
    const char *symbol;          /* NULL when absent */
    double weight, frequency, frequency_stddev, time;
    int64_t hits;
    int complete;                /* symbol, weight, frequency and hits are all there */
} rk_counter;

/* A COUNTERS reply: *out is a malloc'd array of *n (caller frees). */
RK_API int rk_ctl_counters(const rk_ctl_doc *d, rk_counter **out, size_t *n, rk_error *err);

typedef struct rk_uptime {
    const char *version;         /* NULL when absent, "" when not a string */
    int64_t uptime;              /* seconds, valid when has_uptime */
    int has_uptime;
} rk_uptime;

/* An UPTIME reply. */
RK_API int rk_ctl_uptime(const rk_ctl_doc *d, rk_uptime *out, rk_error *err);

typedef struct rk_action_score {
    const char *name;            /* as the server spells it */
    double score;                /* NAN when the action is disabled */
} rk_action_score;

/* An ACTIONS reply (entries without a name left out): *out is a malloc'd
 * array of *n (caller frees). */
RK_API int rk_ctl_actions(const rk_ctl_doc *d, rk_action_score **out, size_t *n,
                          rk_error *err);

/* neural_learn (Rspamd 4.1): given the reply of GET /plugins/neural/config,
 * does the neural rule `rule` (NULL: "default") learn from a scan (1), or
 * from the controller's /plugins/neural/learn_message (0)?  As rspamc 4.1,
 * 0 only when the reply lists the rule with "requires_scan" other than true;
 * 1 for anything else, an error reply included. */
RK_API int rk_ctl_neural_requires_scan(const rk_ctl_doc *d, const char *rule);

/*
 * Canonical name of an action ("add_header", "Add-Header" -> "add header").
 * Returns 0 and sets *canon to a static string, or -1 if unknown.
 */
RK_API int rk_action_name_canon(const char *name, const char **canon);
/* 1 if Rspamd 3.4's controller can set the score of action `name` (reject,
 * rewrite subject, add header, greylist, in any spelling), else 0. */
RK_API int rk_ctl_action_settable(const char *name);

/*
 * Change a symbol's weight (rk_ctl_set_symbol) or an action's score
 * (rk_ctl_set_action), as the controller of Rspamd 3.4 allows it:
 *
 *  1. read the current value (/symbols, /actions); an unknown symbol is
 *     RK_ERR_USAGE;
 *  2. when it differs, POST the change (/savesymbols, /saveactions);
 *  3. read it back until the controller reports it (it applies its dynamic
 *     configuration when it rereads the file, normally at once; up to 1 s):
 *     still the old value is RK_ERR_PROTOCOL.
 *
 * `out` gets the canonical name, the value before and whether anything was
 * sent; `resp` the reply to the POST (empty when unchanged; the caller clears
 * it, also after a failure); *reply its body, or {"success":true,"note":
 * "unchanged"} when nothing was sent (caller frees; NULL after a failure).
 * The server writes the change to its dynamic configuration file
 * (options.dynamic_conf), so it survives a restart.
 */
typedef struct rk_ctl_change {
    const char *name;            /* the symbol, or the canonical action name */
    double before;               /* NAN when the action was disabled */
    int unchanged;               /* it had that value already: nothing was sent */
} rk_ctl_change;

RK_API int rk_ctl_set_symbol(rk_client *c, const char *symbol, double weight,
                             rk_ctl_change *out, rk_response *resp, rk_ctl_doc **reply,
                             rk_error *err);
RK_API int rk_ctl_set_action(rk_client *c, const char *action, double score,
                             rk_ctl_change *out, rk_response *resp, rk_ctl_doc **reply,
                             rk_error *err);

/*
 * The request bodies of the two settings endpoints (Rspamd 3.4):
 *
 * rk_saveactions_body: POST /saveactions takes a JSON array of exactly four
 * scores, [reject, rewrite subject, add header, greylist], and replaces all
 * four at once.  Given the current actions (rk_ctl_actions), this returns
 * that array with `action` set to `score` and the others unchanged (a
 * disabled one as null).  NAN sends null for `action` too, but 3.4 only
 * stores a null score: it never applies it ("action ... has no threshold
 * being set"), so an action cannot be disabled this way.  Other actions (soft
 * reject, no action, ...) cannot be set: RK_ERR_USAGE.
 *
 * rk_savesymbols_body: POST /savesymbols takes [{"name": S, "value": W}];
 * an unknown symbol gets "404 No symbols to save".
 *
 * Both return a malloc'd NUL-terminated string (caller frees), or NULL with err.
 */
RK_API char *rk_saveactions_body(const rk_action_score *actions, size_t n, const char *action,
                                 double score, rk_error *err);
RK_API char *rk_savesymbols_body(const char *symbol, double weight, rk_error *err);

/*
 * The toolkit's own configuration file, rspamkit.conf(5): UCL read with the
 * parser above from the system file, then the user file, the user file
 * winning key by key.
 *   system: $RSPAMKIT_SYSCONFIG, else /etc/rspamkit/config
 *   user:   $RSPAMKIT_CONFIG, else $XDG_CONFIG_HOME/rspamkit/config,
 *           else ~/.config/rspamkit/config
 * A missing file is not an error; an unreadable or invalid one is.
 * Strings are malloc'd and owned by the settings (rk_settings_clear).
 * Fields not set by any file keep the "unset" value given below, so the
 * caller can apply its own precedence (command line > environment > files).
 */
typedef enum rk_failure_policy {
    RK_FAILURE_UNSET = 0,
    RK_FAILURE_TEMPFAIL,   /* exit 75 so the MTA keeps the message and retries */
    RK_FAILURE_PASS        /* deliver unscanned */
} rk_failure_policy;

typedef struct rk_settings {
    char *host;               /* scan server list (rk_addrs_parse syntax), NULL = unset */
    char *controller;         /* controller server list, NULL = unset */
    char *password;           /* controller password, NULL = unset */
    char *password_file;      /* file holding the password, NULL = unset */
    char *key;                /* HTTPCrypt public key of the server (base32), NULL = unset */
    double connect_timeout;   /* seconds, < 0 = unset */
    double timeout;           /* seconds (0 = none), < 0 = unset */
    int retries;              /* < 0 = unset */
    char *header_style;       /* "rspamc", "spamassassin", ... as given; NULL = unset */
    rk_failure_policy failure;
    char *files[2];           /* files that were read (system, user), NULL when absent */
    char *password_error;     /* why `password` must not be used (its file is readable by
                               * group or others), NULL when it may */
} rk_settings;

RK_API void rk_settings_init_sized(rk_settings *s, size_t s_size);
RK_API void rk_settings_clear_sized(rk_settings *s, size_t s_size);
#define rk_settings_init(s) rk_settings_init_sized((s), sizeof(rk_settings))
#define rk_settings_clear(s) rk_settings_clear_sized((s), sizeof(rk_settings))
/* Read the system then the user file into `out` (initialised here). */
RK_API int rk_config_load_sized(rk_settings *out, size_t out_size, rk_error *err);
#define rk_config_load(out, err) rk_config_load_sized((out), sizeof(rk_settings), (err))
/* Read one file into `s`, overriding what it sets. Returns 1 when the file
 * was read, 0 when it does not exist or this user may not read it (and
 * must_exist is 0), -1 on error. A file that sets `password` must not be
 * readable by group or others: when it is, s->password_error says so and
 * the password must not be used (the other settings may). */
RK_API int rk_config_load_file_sized(rk_settings *s, size_t s_size, const char *path, int must_exist,
                                     rk_error *err);
#define rk_config_load_file(s, path, must_exist, err) \
    rk_config_load_file_sized((s), sizeof(rk_settings), (path), (must_exist), (err))


/* ==================================================== message layer (scan) */

/*
 * What a scan verdict does to a message, for a milter, an MTA plugin or a
 * delivery agent, and the scan request and reply around it.
 *
 * The scan request.  rk_scan_request() fills `req` for one message: POST
 * /checkv2 with the message as body, the headers of `base` (for example from
 * rk_msg_opts_headers) copied into `h`, then Filename: `filename` and, when
 * `local_file` is non-NULL, File: `local_file` (see "Local files" in the
 * transport section).  `req` borrows `h` and `msg`: both must stay valid
 * until the request is done; `h` belongs to the caller (rk_headers_clear).
 *
 * The reply.  rk_scan_result() reads what rk_client_request() or the done
 * callback of rk_client_run() returned for such a request: the JSON reply
 * into `out` (flags as rk_result_parse: RK_RESULT_TREE), and the rewritten
 * message the server appends after Message-Offset into out->rewritten.  It
 * returns 0 when `out` holds a result (which may still carry an "error"
 * key), or -1 with `why` filled: the transport or HTTP error of `err` (for
 * an HTTP error whose body is {"error": TEXT}, "HTTP error: STATUS, TEXT"),
 * or "bad reply from HOST: ..." (RK_ERR_PROTOCOL, RK_ERR_NOMEM).  `out`
 * points into resp->body when it has a rewritten message: keep the body as
 * long as the result.
 */
RK_API int rk_scan_request(rk_request *req, rk_headers *h, const rk_headers *base,
                           const char *filename, const char *local_file,
                           const unsigned char *msg, size_t len);
RK_API int rk_scan_result(const rk_response *resp, const rk_error *err, unsigned flags,
                          rk_result *out, rk_error *why);

/*
 * The same scan over /checkv3, rspamc 4.1's --protocol-v3 (Rspamd 4.0 and
 * later).  rk_scan_request_v3() fills `req` for POST /checkv3 with a
 * multipart/form-data body of two parts, as rspamc 4.1.5 builds it:
 *
 *  - "metadata", JSON (or msgpack with RK_V3_MSGPACK), made from the headers
 *    of `base` (as for /checkv2, e.g. from rk_msg_opts_headers) in rspamc's
 *    order: From -> from, every Rcpt -> rcpt [...], Ip -> ip, Helo, Hostname,
 *    User, Deliver-To -> deliver_to, Queue-Id -> queue_id, Log-Tag ->
 *    log_tag, Settings -> settings (read as UCL; a value that does not parse
 *    stays an HTTP header), Settings-Id -> settings_id, Raw -> raw: true,
 *    Flags and URL-Format: extended -> flags [...] (pass_all, ext_urls,
 *    profile, then the others; body_block is left out: the reply carries a
 *    rewritten message anyway), then "headers" from `meta` (n_meta items
 *    "K=V" or "K:V", rspamc's --metadata-header: K alone has an empty value,
 *    an empty K is skipped, a K given again becomes an array in JSON and
 *    keeps its first value in msgpack, as with rspamc).  The other headers
 *    of `base` (User-Agent, custom ones) go as HTTP headers, which Rspamd 4
 *    still gives to its rules; Filename and File are not sent.  Empty
 *    metadata goes as JSON even with RK_V3_MSGPACK: Rspamd 4.1.5 cannot
 *    read an empty msgpack map.
 *  - "message", the message (none when len is 0), zstd-compressed with
 *    RK_V3_ZSTD (which also asks for a compressed reply: Accept-Encoding).
 *
 * The client sends a multipart request as it is (rk_client_config.compress
 * does not apply to it).  *body gets the malloc'd request body that req
 * points to: free it once the request is done.  `h` as for rk_scan_request.
 * Fails for lack of memory, or without zstd support for RK_V3_ZSTD.
 *
 * The reply: rk_scan_result() reads it with RK_RESULT_V3 added to the
 * flags: the multipart reply's "result" part (JSON, or msgpack when the
 * metadata was), and its "body" part, the rewritten message, into
 * out->rewritten (a copy that belongs to the result); parts may be zstd
 * compressed.  A reply that has no boundary, is cut short, or has no
 * "result" part is "bad reply from HOST: ..." (RK_ERR_PROTOCOL).  A server
 * before Rspamd 4.0 (its Server header, or its "invalid command" status) is
 * RK_ERR_UNSUPPORTED: "HOST has no /checkv3 (Rspamd X.Y; --protocol-v3
 * needs Rspamd 4.0 or later)".  rk_scan_result() also reads a /checkv2
 * reply in msgpack (Content-Type application/msgpack).
 */
#define RK_V3_MSGPACK 0x1u
#define RK_V3_ZSTD 0x2u
#define RK_RESULT_V3 0x2u
RK_API int rk_scan_request_v3(rk_request *req, rk_headers *h, const rk_headers *base,
                              const char *const *meta, size_t n_meta, unsigned flags,
                              const unsigned char *msg, size_t len, unsigned char **body,
                              rk_error *err);

/* The server's milter block, typed: milter.add_headers entries (a string, a
 * {"value": ...} object, or an array of either; one entry per value) and
 * milter.remove_headers entries (an integer, or an array of them as Rspamd 4.x
 * sends; one entry per position).  Strings belong to the result. */
typedef struct rk_milter_add {
    const char *name;
    const char *value;
} rk_milter_add;

typedef struct rk_milter_remove {
    const char *name;
    long long index;   /* 0: every copy; N > 0: the Nth; -N: the Nth from the end */
} rk_milter_remove;

/*
 * The header sets a verdict adds.
 *
 * RK_STYLE_RSPAMC (rspamc --mime): X-Spam-Scanner, X-Spam-Scan-Time, X-Spam
 * (spam only), X-Spam-Action, X-Spam-Score, X-Spam-Level (one star per
 * point, at most 32), X-Spam-Symbols (one per line).
 * RK_STYLE_SPAMASSASSIN: X-Spam-Scanner, X-Spam-Flag (spam only),
 * X-Spam-Status (symbols folded before column 79), X-Spam-Level.
 * Both then add the server's DKIM-Signature values and milter.add_headers,
 * the rewritten Subject (when it could not replace one in place) and, with
 * `result`, X-Spam-Result: the reply in `result_format`, base64 in lines of
 * 60 characters.  A failed scan (result NULL) adds X-Spam-Scanner,
 * X-Spam-Scan-Time and X-Spam-Error.
 *
 * With `keep_existing` and RK_STYLE_RSPAMC the added fields are those of
 * the rspamc of the server's version (`server_version`): rspamc adds the
 * reply's milter.add_headers from 3.14 on, so a reply of an earlier server
 * gets none (an unknown version, 0, counts as 3.14 or later).
 *
 * Unless `keep_existing`, fields the message came with are removed first:
 * earlier copies of the style's own fields, fields named by
 * milter.add_headers (except DKIM-Signature, ARC-* and Received), and those
 * milter.remove_headers names; and a "rewrite subject" verdict replaces the
 * first Subject in place.  The removals apply to the message as it arrived,
 * before anything is added, so they never remove an added field (the 3.4
 * server always sends remove_headers {"X-Spam": 0}: removing after adding
 * would delete our own X-Spam: yes).
 *
 * Values are folded with the message's own line ending (that of the line
 * before the end of its header block), a value with 8-bit or control bytes
 * in Subject becomes RFC 2047 encoded words (UTF-8, base64).
 */
typedef enum rk_header_style {
    RK_STYLE_RSPAMC = 0,
    RK_STYLE_SPAMASSASSIN
} rk_header_style;

typedef struct rk_message_opts {
    rk_header_style style;
    int keep_existing;              /* remove nothing (rspamc's behaviour) */
    const char *scanner;            /* X-Spam-Scanner value; NULL: "rspamkit VERSION" */
    double elapsed;                 /* scan time in seconds, for X-Spam-Scan-Time */
    const char *error;              /* the scan failed (result NULL): X-Spam-Error;
                                       NULL: "scan failed" */
    int result;                     /* add X-Spam-Result (the result needs RK_RESULT_TREE) */
    rk_emit_format result_format;
    int server_version;             /* of the reply (rk_response_server_version); 0: unknown */
} rk_message_opts;

/*
 * The header edits, in the order to apply them, as a milter applies them:
 * first every REMOVE (from the last field of the header block to the
 * first, so that each index stays valid while they are applied in order),
 * then at most one CHANGE (the Subject), then every ADD, to be appended
 * after the existing fields.
 *
 * index: 1-based among the fields of that name (any case): for a REMOVE in
 * the message as it is, for the CHANGE among those left after the removals.
 * value: the text after "Name: ", without the final line ending;
 * continuation lines are joined with the message's line ending (`eol`)
 * followed by a blank.
 */
typedef enum rk_edit_kind { RK_EDIT_REMOVE, RK_EDIT_CHANGE, RK_EDIT_ADD } rk_edit_kind;

typedef struct rk_edit {
    rk_edit_kind kind;
    const char *name;
    size_t index;                   /* REMOVE, CHANGE; 0 for ADD */
    const char *value;              /* CHANGE, ADD; NULL for REMOVE */
} rk_edit;

typedef struct rk_edits {
    rk_edit *v;
    size_t n;
    const char *eol;                /* "\r\n", "\n" or "\r" (static) */
    char *strings_;                 /* private */
} rk_edits;

/*
 * The edits for `msg` (len bytes) given `r` (NULL when the scan failed).
 * When r carries a rewritten message (r->rewritten), that message is the
 * one edited, and msg may be NULL.  `out` belongs to the caller
 * (rk_edits_clear).  Fails only for lack of memory (RK_ERR_NOMEM).
 */
RK_API int rk_message_edits_sized(const unsigned char *msg, size_t len, const rk_result *r,
                                  const rk_message_opts *o, size_t o_size, rk_edits *out,
                                  rk_error *err);
#define rk_message_edits(msg, len, r, o, out, err) \
    rk_message_edits_sized((msg), (len), (r), (o), sizeof(rk_message_opts), (out), (err))
RK_API void rk_edits_clear(rk_edits *e);

/*
 * The new message with the edits applied, as a list of slices ready for
 * writev(2): every byte of the message is kept in order (NULs, CR, LF, mixed
 * line endings, a leading mbox "From " line, 8-bit data), except the fields
 * removed; the added fields go where the header block ends (before the empty
 * line, or at the end of a message that has no body, after a line ending
 * added when its last line has none).  The body is never copied: slices
 * point into msg (or r->rewritten), which must stay valid while `out` is
 * used.  `out` belongs to the caller (rk_rewrite_clear; iov may be changed
 * by a partial writev).  Fails only for lack of memory (RK_ERR_NOMEM).
 */
typedef struct rk_rewrite {
    struct iovec *iov;
    size_t n;
    size_t total;                   /* bytes in all slices */
    size_t cap_;                    /* private */
    char *added_, *subject_;        /* private */
} rk_rewrite;

RK_API int rk_message_rewrite_sized(const unsigned char *msg, size_t len, const rk_result *r,
                                    const rk_message_opts *o, size_t o_size, rk_rewrite *out,
                                    rk_error *err);
#define rk_message_rewrite(msg, len, r, o, out, err) \
    rk_message_rewrite_sized((msg), (len), (r), (o), sizeof(rk_message_opts), (out), (err))
RK_API void rk_rewrite_clear(rk_rewrite *out);

/*
 * -j, --compact and --ucl output of a scan, as rspamc prints it: the reply
 * tree (rk_result.json, needs RK_RESULT_TREE) with "filename" (when
 * non-NULL) and "scan_time" appended; a failure as {"filename": F,
 * "error": MSG}.  Malloc'd NUL-terminated strings without a final newline
 * (*len set when len is non-NULL), or NULL for lack of memory.
 */
RK_API char *rk_emit_reply(const json_t *reply, rk_emit_format fmt, const char *filename,
                           double scan_time, size_t *len);
RK_API char *rk_emit_error(rk_emit_format fmt, const char *filename, const char *msg,
                           size_t *len);

/*
 * neural_learn's report as rspamc 4.1 prints it, for a result parsed with
 * RK_RESULT_TREE: for a scan reply "success = true;" and "method = "scan";",
 * else the reply's "success" read as UCL reads a boolean; then "filename",
 * "scan_time", "class" (`cls`), "stored" and "key", each on its own line
 * ending with ";" and only when the reply has it (class always).  Malloc'd
 * NUL-terminated string ending with a newline (*len set when len is
 * non-NULL), or NULL for lack of memory.
 */
RK_API char *rk_emit_neural(const rk_result *r, const char *cls, size_t *len);

/* ============================================== end of the message layer */

#ifdef __cplusplus
}
#endif
#endif
