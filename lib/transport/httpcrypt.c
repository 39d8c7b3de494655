/*
 * HTTPCrypt, Rspamd's encrypted HTTP (spec/protocol.md section 3):
 *
 *   nm   = HChaCha20(key = X25519(client_sk, server_pk), input = 16 zero bytes)
 *   wire = nonce(24) || Poly1305(key = XChaCha20 block 0 [0..32), ciphertext)(16)
 *          || plaintext XOR XChaCha20 keystream from block 1
 *
 * This is neither crypto_box_easy nor secretbox (those start the message at
 * byte 32 of block 0), so it is assembled from libsodium's primitives.
 */
#include "transport.h"
#include "core/base32.h"

#include "sodium_dl.h"
#include <string.h>

int rk_hc_init(rk_error *err)
{
    return rk_sodium_load(err);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int rk_hc_parse_pubkey(const char *text, unsigned char pk[RK_HC_KEYLEN], rk_error *err)
{
    static const char hint[] = "expected the server's public key: the 52-character pubkey "
                               "that `rspamadm keypair` printed for the worker's keypair";
    size_t len = text ? strlen(text) : 0;
    if (len == 0)
        return rk_fail(err, RK_ERR_USAGE, "empty HTTPCrypt key: %s", hint);
    if (len == 64) {
        size_t i;
        for (i = 0; i < 64; i++) {
            int hi = hexval((unsigned char)text[i]);
            if (hi < 0)
                break;
            if (i % 2 == 0)
                pk[i / 2] = (unsigned char)(hi << 4);
            else
                pk[i / 2] |= (unsigned char)hi;
        }
        if (i == 64)
            return 0;
    }
    if (len == 103 || len == 128)
        return rk_fail(err, RK_ERR_USAGE,
                       "invalid HTTPCrypt key '%.20s...': this looks like the keypair's id, "
                       "not its pubkey; %s", text, hint);
    unsigned char buf[RK_BASE32_DECODED_MAX(52)];
    size_t n = 0;
    if (len != 52 || rk_base32_decode(text, len, buf, sizeof buf, RK_BASE32_EXACT, &n) || n != 32)
        return rk_fail(err, RK_ERR_USAGE, "invalid HTTPCrypt key '%.60s%s': %s", text,
                       len > 60 ? "..." : "", hint);
    memcpy(pk, buf, RK_HC_KEYLEN);
    return 0;
}

void rk_hc_short_id(const unsigned char pk[RK_HC_KEYLEN], char out[9])
{
    unsigned char id[crypto_generichash_blake2b_BYTES_MAX];
    crypto_generichash_blake2b(id, sizeof id, pk, RK_HC_KEYLEN, NULL, 0);
    rk_base32_encode(id, 5, out);
}

void rk_hc_key_header(const unsigned char server_pk[RK_HC_KEYLEN],
                      const unsigned char client_pk[RK_HC_KEYLEN],
                      char out[RK_HC_KEY_HEADER_SIZE])
{
    rk_hc_short_id(server_pk, out);
    out[8] = '=';
    rk_base32_encode(client_pk, RK_HC_KEYLEN, out + 9);
}

void rk_hc_keypair(unsigned char sk[RK_HC_KEYLEN], unsigned char pk[RK_HC_KEYLEN], int fresh)
{
    if (fresh)
        randombytes_buf(sk, RK_HC_KEYLEN);
    crypto_scalarmult_curve25519_base(pk, sk);
}

RK_API int rk_keypair_generate(rk_keypair *kp, rk_error *err)
{
    unsigned char sk[RK_HC_KEYLEN], pk[RK_HC_KEYLEN], id[crypto_generichash_blake2b_BYTES_MAX];
    if (rk_hc_init(err))
        return -1;
    randombytes_buf(sk, sizeof sk);
    /* clamped as Rspamd's rspamd_cryptobox_keypair() stores it */
    sk[0] &= 248;
    sk[31] &= 127;
    sk[31] |= 64;
    rk_hc_keypair(sk, pk, 0);
    crypto_generichash_blake2b(id, sizeof id, pk, sizeof pk, NULL, 0);
    rk_base32_encode(pk, sizeof pk, kp->pubkey);
    rk_base32_encode(sk, sizeof sk, kp->privkey);
    rk_base32_encode(id, sizeof id, kp->id);
    explicit_bzero(sk, sizeof sk);
    return 0;
}

int rk_hc_shared(const unsigned char sk[RK_HC_KEYLEN], const unsigned char pk[RK_HC_KEYLEN],
                 unsigned char nm[RK_HC_KEYLEN])
{
    static const unsigned char zero16[16];
    unsigned char point[32];
    if (crypto_scalarmult_curve25519(point, sk, pk) != 0) {
        explicit_bzero(point, sizeof point);
        return -1;
    }
    crypto_core_hchacha20(nm, zero16, point, NULL);
    explicit_bzero(point, sizeof point);
    return 0;
}

void rk_hc_seal(const unsigned char nm[RK_HC_KEYLEN], const unsigned char *nonce,
                const unsigned char *in, size_t len, unsigned char *out)
{
    unsigned char block0[64];
    if (nonce)
        memmove(out, nonce, RK_HC_NONCELEN);
    else
        randombytes_buf(out, RK_HC_NONCELEN);
    crypto_stream_xchacha20(block0, sizeof block0, out, nm);
    crypto_stream_xchacha20_xor_ic(out + RK_HC_OVERHEAD, in, len, out, 1, nm);
    crypto_onetimeauth_poly1305(out + RK_HC_NONCELEN, out + RK_HC_OVERHEAD, len, block0);
    explicit_bzero(block0, sizeof block0);
}

/* Plaintext bytes [off, off + len) of the two parts into out. */
static void gather(const rk_hc_stream *s, size_t off, unsigned char *out, size_t len)
{
    while (len) {
        int k = off < s->len[0] ? 0 : 1;
        size_t at = k ? off - s->len[0] : off;
        size_t n = s->len[k] - at < len ? s->len[k] - at : len;
        memcpy(out, s->part[k] + at, n);
        out += n;
        off += n;
        len -= n;
    }
}

void rk_hc_stream_read(const rk_hc_stream *s, size_t off, unsigned char *out, size_t len)
{
    gather(s, off, out, len);
    /* keystream block 1 + off/64 is where byte `off` of the ciphertext starts */
    crypto_stream_xchacha20_xor_ic(out, out, len, s->env, 1 + off / 64, s->nm);
}

void rk_hc_stream_init(rk_hc_stream *s, const unsigned char nm[RK_HC_KEYLEN],
                       const unsigned char *nonce, const unsigned char *p0, size_t l0,
                       const unsigned char *p1, size_t l1)
{
    unsigned char block0[64], buf[16384];
    memcpy(s->nm, nm, RK_HC_KEYLEN);
    if (nonce)
        memcpy(s->env, nonce, RK_HC_NONCELEN);
    else
        randombytes_buf(s->env, RK_HC_NONCELEN);
    s->part[0] = p0;
    s->len[0] = l0;
    s->part[1] = p1;
    s->len[1] = l1;
    s->total = l0 + l1;
    crypto_stream_xchacha20(block0, sizeof block0, s->env, nm);
    crypto_onetimeauth_poly1305_state st;
    crypto_onetimeauth_poly1305_init(&st, block0);
    for (size_t off = 0; off < s->total; off += sizeof buf) {
        size_t n = s->total - off < sizeof buf ? s->total - off : sizeof buf;
        rk_hc_stream_read(s, off, buf, n);
        crypto_onetimeauth_poly1305_update(&st, buf, n);
    }
    crypto_onetimeauth_poly1305_final(&st, s->env + RK_HC_NONCELEN);
    explicit_bzero(block0, sizeof block0);
    explicit_bzero(buf, sizeof buf);
    explicit_bzero(&st, sizeof st);
}

void rk_hc_stream_wipe(rk_hc_stream *s)
{
    explicit_bzero(s, sizeof *s);
}

int rk_hc_open(const unsigned char nm[RK_HC_KEYLEN], const unsigned char *in, size_t len,
               unsigned char *out)
{
    unsigned char block0[64];
    if (len < RK_HC_OVERHEAD)
        return -1;
    crypto_stream_xchacha20(block0, sizeof block0, in, nm);
    int bad = crypto_onetimeauth_poly1305_verify(in + RK_HC_NONCELEN, in + RK_HC_OVERHEAD,
                                                 len - RK_HC_OVERHEAD, block0);
    explicit_bzero(block0, sizeof block0);
    if (bad)
        return -1;
    crypto_stream_xchacha20_xor_ic(out, in + RK_HC_OVERHEAD, len - RK_HC_OVERHEAD, in, 1, nm);
    return 0;
}
