/* Private to lib/reply/: what result.c and v3.c share, and what the unit
 * tests reach (tests/unit/test_v3.c). */
#ifndef RK_REPLY_H
#define RK_REPLY_H

#include "internal.h"

/* rk_result_parse() of the JSON reply json[0..jlen), with `message` (the
 * rewritten message, may be NULL) copied into the result: out->rewritten
 * then points into the result itself, not into the caller's buffers. */
int rk_result_parse_copy(const unsigned char *json, size_t jlen, const unsigned char *message,
                         size_t mlen, unsigned flags, rk_result *res, rk_error *err);

/* One part of a multipart body; pointers into that body. */
typedef struct rk_part {
    const char *name;            /* Content-Disposition's name, NULL when none */
    size_t name_len;
    const char *type;            /* Content-Type without parameters, NULL when none */
    size_t type_len;
    const char *encoding;        /* Content-Encoding, NULL when none */
    size_t encoding_len;
    const unsigned char *data;
    size_t len;
} rk_part;

#define RK_MAX_PARTS 8

/*
 * Split a multipart body (RFC 2046, as Rspamd 4 writes its /checkv3 reply)
 * whose Content-Type header is `content_type` into at most RK_MAX_PARTS
 * parts (*n of them in `parts`).  Header lines end with CRLF or LF.  Fails
 * (RK_ERR_PROTOCOL, one line) when the type has no boundary, the body no
 * delimiter line, a part's headers or data are cut off before the next
 * delimiter, the closing delimiter is missing, or there are more parts.
 */
int rk_multipart_parse(const unsigned char *body, size_t len, const char *content_type,
                       rk_part *parts, size_t *n, rk_error *err);

/* The part named `name`, or NULL. */
const rk_part *rk_multipart_find(const rk_part *parts, size_t n, const char *name);

/*
 * One msgpack value (the whole of in[0..len)) as JSON text appended to out:
 * maps with string (or binary) keys, arrays, strings and binaries as JSON
 * strings, integers, floats with 17 significant digits (so that they read
 * back as the same double, and always with a '.' or an exponent), nil, true,
 * false; an extension type is null.  Fails (RK_ERR_PROTOCOL) on truncated
 * data, a non-string key, trailing bytes, nesting deeper than 2048 levels.
 */
int rk_msgpack_to_json(const unsigned char *in, size_t len, rk_buf *out, rk_error *err);

/* rk_scan_result() for a 2xx reply whose Content-Type is multipart/ (the
 * /checkv3 reply: its "result" part, and its "body" part as the rewritten
 * message) or msgpack; parts compressed with zstd are decompressed. */
int rk_v3_result(const rk_response *resp, const char *content_type, unsigned flags,
                 rk_result *out, rk_error *err);

#endif
