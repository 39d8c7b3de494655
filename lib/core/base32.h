/*
 * base32.h - Rspamd's base32 (internal to librspamkit).
 *
 * Rspamd encodes password hashes (pw) and HTTPCrypt keys with the z-base-32
 * alphabet "ybndrfg8ejkmcpqxot1uwisza345h769" but takes the bits LEAST
 * significant first: the input is a little-endian bit stream (bit 0 is the
 * low bit of byte 0), and each character holds the next 5 bits, its own bit 0
 * being the lowest pending bit.  A final group of fewer than 5 bits becomes
 * one more character, zero-padded at the top.  There is no padding, so n
 * bytes give ceil(8n/5) characters: 20 -> 32, 32 -> 52.
 *
 * This is neither RFC 4648 base32 nor Zimmermann's z-base-32 (both MSB
 * first).  Known answers: 00 -> "yy", 0102030405 -> "boygynwy".
 */
#ifndef RK_BASE32_H
#define RK_BASE32_H

#include <stddef.h>

/* Characters needed for `n` bytes (not counting the NUL). */
#define RK_BASE32_ENCODED_LEN(n) (((n) * 8 + 4) / 5)
/* Bytes any decode of `n` characters may produce (both modes). */
#define RK_BASE32_DECODED_MAX(n) ((n) * 5 / 8 + 1)

/*
 * Encode `len` bytes into `out`, which must hold RK_BASE32_ENCODED_LEN(len) + 1
 * bytes.  The result is NUL-terminated; returns its length.
 */
size_t rk_base32_encode(const unsigned char *in, size_t len, char *out);

typedef enum rk_base32_mode {
    /*
     * Keys (HTTPCrypt): n characters give floor(5n/8) bytes; the bits left
     * over at the end are dropped.  52 characters -> 32 bytes.
     */
    RK_BASE32_EXACT,
    /*
     * Password hashes: rspamd's own decoder, which emits a byte lazily
     * (before consuming a character, if 8 bits are pending) and after the
     * last character emits ONE more byte when any bits are pending, even if
     * more than 8 are.  32 -> 20 bytes and 52 -> 32 bytes as expected, but
     * 51 characters also give 32 bytes (the last one missing its top bit),
     * and the length is otherwise not always floor(5n/8).  This is what the
     * controller and `rspamadm pw` accept, so pw must use it.
     */
    RK_BASE32_RSPAMD
} rk_base32_mode;

/*
 * Decode `len` characters of `in` (only the 32 lowercase alphabet characters
 * are valid: no upper case, padding or white space) into `out` of `cap`
 * bytes.  Non-zero padding bits are not rejected (neither does rspamd).
 * Returns 0 and sets *outlen, or -1 if a character is invalid or the result
 * does not fit in `cap` (RK_BASE32_DECODED_MAX(len) always fits).
 */
int rk_base32_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                     rk_base32_mode mode, size_t *outlen);

#endif
