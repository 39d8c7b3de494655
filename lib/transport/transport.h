/*
 * transport.h - private parts of the client transport: HTTPCrypt, zstd,
 * the dlopen'd libcurl module (https://) and the dead-host state file.
 * Nothing here is exported from the shared library.
 */
#ifndef RK_TRANSPORT_H
#define RK_TRANSPORT_H

#include "internal.h"

#include <poll.h>

/* ------------------------------------------------------------- HTTPCrypt */

#define RK_HC_KEYLEN 32
#define RK_HC_NONCELEN 24
#define RK_HC_MACLEN 16
#define RK_HC_OVERHEAD (RK_HC_NONCELEN + RK_HC_MACLEN) /* 40 bytes per message */
/* "<8-char short id>=<52-char client key>" plus NUL */
#define RK_HC_KEY_HEADER_SIZE (8 + 1 + 52 + 1)

/* Start libsodium (idempotent). 0, or -1 with err. */
int rk_hc_init(rk_error *err);

/*
 * Parse a server public key as `rspamadm keypair` prints it (52 characters
 * of Rspamd's base32), or as 64 hex digits.  err explains a near miss (the
 * 103-character key id, a key of the wrong length).
 */
int rk_hc_parse_pubkey(const char *text, unsigned char pk[RK_HC_KEYLEN], rk_error *err);

/* The 8-character short id: base32 of the first 5 bytes of BLAKE2b-512(pk). */
void rk_hc_short_id(const unsigned char pk[RK_HC_KEYLEN], char out[9]);

/* The Key header value for a request from client_pk to server_pk. */
void rk_hc_key_header(const unsigned char server_pk[RK_HC_KEYLEN],
                      const unsigned char client_pk[RK_HC_KEYLEN],
                      char out[RK_HC_KEY_HEADER_SIZE]);

/* Client keypair from a secret key (clamped by X25519), or a fresh one when
 * `sk` is all the caller has to fill: rk_hc_keypair(sk, pk, 1). */
void rk_hc_keypair(unsigned char sk[RK_HC_KEYLEN], unsigned char pk[RK_HC_KEYLEN], int fresh);

/* Shared key nm = HChaCha20(X25519(sk, pk), 0^16). -1 for a degenerate peer key. */
int rk_hc_shared(const unsigned char sk[RK_HC_KEYLEN], const unsigned char pk[RK_HC_KEYLEN],
                 unsigned char nm[RK_HC_KEYLEN]);

/*
 * Encrypt `len` bytes into `out` (len + RK_HC_OVERHEAD bytes):
 * nonce || Poly1305 tag || XChaCha20 ciphertext (keystream from block 1, the
 * Poly1305 key is block 0).  nonce NULL = a random one.  `in` may be
 * out + RK_HC_OVERHEAD: sealed in place.
 */
void rk_hc_seal(const unsigned char nm[RK_HC_KEYLEN], const unsigned char *nonce,
                const unsigned char *in, size_t len, unsigned char *out);

/*
 * The same envelope, streamed: for a plaintext made of two parts (a small
 * head and the message, which is never copied), compute the nonce and tag
 * in one pass, then produce the ciphertext piece by piece while sending.
 * Memory: no copy of the message.
 */
typedef struct rk_hc_stream {
    unsigned char nm[RK_HC_KEYLEN];
    unsigned char env[RK_HC_OVERHEAD];   /* nonce || tag: the first 40 bytes */
    const unsigned char *part[2];
    size_t len[2];
    size_t total;                        /* plaintext (= ciphertext) length */
} rk_hc_stream;

/* nonce NULL = a random one. */
void rk_hc_stream_init(rk_hc_stream *s, const unsigned char nm[RK_HC_KEYLEN],
                       const unsigned char *nonce, const unsigned char *p0, size_t l0,
                       const unsigned char *p1, size_t l1);
/* Ciphertext bytes [off, off + len) into out; off must be a multiple of 64. */
void rk_hc_stream_read(const rk_hc_stream *s, size_t off, unsigned char *out, size_t len);
void rk_hc_stream_wipe(rk_hc_stream *s);

/* Verify and decrypt a wire body into `out` (len - RK_HC_OVERHEAD bytes).
 * -1 (and nothing written) when it is too short or fails authentication. */
int rk_hc_open(const unsigned char nm[RK_HC_KEYLEN], const unsigned char *in, size_t len,
               unsigned char *out);

/* ------------------------------------------------------------------ zstd */

/* 1 when built with libzstd. */
int rk_zstd_available(void);
/* Compress `len` bytes into out (replacing its contents). */
int rk_zstd_compress(const unsigned char *in, size_t len, rk_buf *out, rk_error *err);
/* Decompress one or more frames into out; refuse more than `max` bytes. */
int rk_zstd_decompress(const unsigned char *in, size_t len, rk_buf *out, size_t max,
                       rk_error *err);

/* --------------------------------------------------- libcurl (https://) */

typedef struct rk_curl rk_curl;
typedef struct rk_curl_xfer rk_curl_xfer;

typedef struct rk_curl_req {
    const char *url;
    const char *method;               /* "GET", "POST", ... */
    const rk_buf *lines;              /* "Name: value\r\n" header lines */
    const unsigned char *body;
    size_t body_len;
    double connect_timeout;           /* seconds, covers the TLS handshake */
    const char *cacert;               /* NULL: libcurl's default CA store */
    int insecure;
    const char *host;                 /* for messages */
} rk_curl_req;

/* dlopen("libcurl.so.4") and make a multi handle. NULL with err
 * (RK_ERR_UNSUPPORTED) when libcurl cannot be loaded. */
rk_curl *rk_curl_new(rk_error *err);
void rk_curl_free(rk_curl *cu);
/* Number of transfers in progress. */
int rk_curl_active(const rk_curl *cu);

rk_curl_xfer *rk_curl_start(rk_curl *cu, const rk_curl_req *r, void *owner, rk_error *err);
/* Abort and free a transfer that has not completed. */
void rk_curl_cancel(rk_curl *cu, rk_curl_xfer *x);
/* Wall time of the last byte moved (0 before the request started to go out). */
double rk_curl_activity(const rk_curl_xfer *x);
/* 1 once the whole request has been sent. */
int rk_curl_sent(const rk_curl_xfer *x);

/* Wait like poll() on our own descriptors and libcurl's at once; fds[].revents
 * are filled as poll() does. */
int rk_curl_wait(rk_curl *cu, struct pollfd *fds, size_t n, int timeout_ms);

/* Progress all transfers; for each one that finished, done(ud, owner, raw,
 * err) is called with the reply re-assembled as HTTP/1.1 bytes (status
 * line, headers, decoded body) in `raw`, which done may take; err->code is
 * RK_OK on success.  The transfer is freed afterwards. */
typedef void (*rk_curl_done_fn)(void *ud, void *owner, rk_buf *raw, const rk_error *err);
void rk_curl_perform(rk_curl *cu, rk_curl_done_fn done, void *ud);

/* ----------------------------------------------- dead-host state file */

/* Default per-user path: $XDG_RUNTIME_DIR/rspamkit/dead-hosts, else
 * ~/.cache/rspamkit/dead-hosts, else /tmp/rspamkit-UID/dead-hosts.
 * malloc'd, NULL if none can be made. */
char *rk_hoststate_default_path(void);
/* For each key, the wall-clock time until which it counts as dead (0 = not
 * dead).  Missing or unreadable file: all 0. */
void rk_hoststate_load(const char *path, const char *const *keys, size_t n, double *until);
/* Record key as dead until `until` (wall clock), or alive when until is 0.
 * Best effort: errors are ignored (the state only orders the servers). */
void rk_hoststate_set(const char *path, const char *key, double until);

#endif
