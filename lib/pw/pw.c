/*
 * Controller password hashes, as Rspamd 3.4 makes and checks them
 * ($1$ PBKDF2-BLAKE2b, $2$ Catena-Butterfly).  Every step follows
 * spec/pw.md (A.2 - A.5); the comments name the quirks that matter.
 */
#include "internal.h"
#include "core/base32.h"

#include "transport/sodium_dl.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HLEN 64   /* BLAKE2b-512, the hash under both KDFs */

static const struct pw_kind {
    rk_pw_type type;
    const char *name, *description;
} kinds[] = {
    { RK_PW_PBKDF2, "pbkdf2",
      "PBKDF2-blake2b - standard CPU intensive \"slow\" KDF using blake2b hash function" },
    { RK_PW_CATENA, "catena",
      "Catena-Butterfly - modern CPU and memory intensive KDF" },
};

static const struct pw_kind *kind_of(rk_pw_type type)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].type == type)
            return &kinds[i];
    return NULL;
}

RK_API int rk_pw_type_parse(const char *name, rk_pw_type *type)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(name, kinds[i].name) == 0) {
            *type = kinds[i].type;
            return 0;
        }
    return -1;
}

RK_API const char *rk_pw_type_name(rk_pw_type type)
{
    const struct pw_kind *k = kind_of(type);
    return k ? k->name : NULL;
}

RK_API const char *rk_pw_type_description(rk_pw_type type)
{
    const struct pw_kind *k = kind_of(type);
    return k ? k->description : NULL;
}

RK_API void rk_secret_wipe(void *p, size_t len)
{
    if (p)
        explicit_bzero(p, len);
}

/* ------------------------------------------------------------ PBKDF2 ($1$) */

/*
 * PBKDF2 whose PRF(P, M) is BLAKE2b-512 keyed with P.  A password longer than
 * BLAKE2b's 64-byte key limit is replaced by its unkeyed BLAKE2b-512 first.
 * keylen <= 64: a single block (counter 1), as rspamd only ever asks for 32.
 */
static void pbkdf2_blake2b(const unsigned char *pw, size_t pwlen,
                           const unsigned char *salt, size_t saltlen,
                           unsigned rounds, unsigned char *key, size_t keylen)
{
    unsigned char k[HLEN], u[HLEN], t[HLEN];
    crypto_generichash_state st;
    static const unsigned char block1[4] = { 0, 0, 0, 1 };   /* big-endian counter */

    if (pwlen > HLEN) {
        crypto_generichash(k, HLEN, pw, pwlen, NULL, 0);
        pw = k;
        pwlen = HLEN;
    }
    crypto_generichash_init(&st, pw, pwlen, HLEN);
    crypto_generichash_update(&st, salt, saltlen);
    crypto_generichash_update(&st, block1, sizeof block1);
    crypto_generichash_final(&st, u, HLEN);
    memcpy(t, u, HLEN);
    for (unsigned r = 1; r < rounds; r++) {
        crypto_generichash(u, HLEN, u, HLEN, pw, pwlen);
        for (size_t i = 0; i < HLEN; i++)
            t[i] ^= u[i];
    }
    memcpy(key, t, keylen);
    explicit_bzero(k, sizeof k);
    explicit_bzero(u, sizeof u);
    explicit_bzero(t, sizeof t);
    explicit_bzero(&st, sizeof st);
}

/* ----------------------------------------------------------- Catena ($2$) */

typedef unsigned char cell[HLEN];

/* out = BLAKE2b-512(a || b); out may be a or b. */
static void H2(unsigned char *out, const void *a, size_t alen, const void *b, size_t blen)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, HLEN);
    crypto_generichash_update(&st, a, alen);
    crypto_generichash_update(&st, b, blen);
    crypto_generichash_final(&st, out, HLEN);
}

/* xorshift1024*, seeded from two 64-byte hashes read as little-endian words. */
typedef struct xorshift {
    uint64_t s[16];
    unsigned p;
} xorshift;

static void xorshift_seed(xorshift *x, const unsigned char a[HLEN], const unsigned char b[HLEN])
{
    for (int i = 0; i < 16; i++) {
        const unsigned char *w = (i < 8 ? a : b) + 8 * (i % 8);
        x->s[i] = 0;
        for (int k = 7; k >= 0; k--)
            x->s[i] = x->s[i] << 8 | w[k];
    }
    x->p = 0;
}

static uint64_t xorshift_next(xorshift *x)
{
    uint64_t s0 = x->s[x->p];
    x->p = (x->p + 1) & 15;
    uint64_t s1 = x->s[x->p];
    s1 ^= s1 << 31;
    s1 ^= s1 >> 11;
    s0 ^= s0 >> 30;
    x->s[x->p] = s0 ^ s1;
    return x->s[x->p] * UINT64_C(1181783497276652981);
}

static void xor64(unsigned char *restrict out, const unsigned char *a, const unsigned char *b)
{
    for (size_t i = 0; i < HLEN; i++)
        out[i] = a[i] ^ b[i];
}

/* The double butterfly's index permutation σ(g, i, j). */
static size_t sigma(unsigned g, unsigned i, size_t j)
{
    return i < g ? j ^ ((size_t)1 << (g - 1 - i)) : j ^ ((size_t)1 << (i - (g - 1)));
}

/* Row i, column j of a graph that keeps 1.5 rows in c + m cells. */
static size_t idx(unsigned i, size_t j, unsigned co, size_t c, size_t m)
{
    switch ((i + co) % 3) {
    case 0: return j;
    case 1: return j < m ? j + c : j - m;
    default: return j + m;
    }
}

/* One Catena-Butterfly graph of garlic g over x (updated in place); r holds
 * at least 1.5 * 2^g cells. */
static void flap(unsigned char x[HLEN], unsigned lambda, unsigned g,
                 const unsigned char *salt, size_t saltlen, cell *r)
{
    const size_t c = (size_t)1 << g, m = c / 2;
    const unsigned rows = 2 * g;
    unsigned char v1[HLEN], v2[HLEN], tmp[HLEN];
    static const unsigned char b0 = 0, b1 = 1;

    /* initial row */
    H2(v1, &b0, 1, x, HLEN);
    H2(v2, &b1, 1, x, HLEN);
    H2(r[0], v1, HLEN, v2, HLEN);
    H2(r[1], r[0], HLEN, v1, HLEN);
    for (size_t i = 2; i < c; i++)
        H2(r[i], r[i - 1], HLEN, r[i - 2], HLEN);

    /* gamma: salt-dependent random updates */
    xorshift rng;
    crypto_generichash(v1, HLEN, salt, saltlen, NULL, 0);
    crypto_generichash(v2, HLEN, v1, HLEN, NULL, 0);
    xorshift_seed(&rng, v1, v2);
    for (size_t q = (size_t)1 << ((3 * g + 3) / 4); q > 0; q--) {
        size_t j = (size_t)(xorshift_next(&rng) >> (64 - g));
        size_t j2 = (size_t)(xorshift_next(&rng) >> (64 - g));
        H2(r[j], r[j], HLEN, r[j2], HLEN);
    }

    /* lambda double-butterfly layers */
    unsigned co = 0;
    for (unsigned k = 0; k < lambda; k++) {
        for (unsigned i = 1; i < rows; i++) {
            xor64(tmp, r[idx(i - 1, c - 1, co, c, m)], r[idx(i - 1, 0, co, c, m)]);
            H2(tmp, tmp, HLEN, r[idx(i - 1, sigma(g, i - 1, 0), co, c, m)], HLEN);
            H2(r[idx(i, 0, co, c, m)], &b0, 1, tmp, HLEN);
            for (size_t j = 1; j < c; j++) {
                xor64(tmp, r[idx(i, j - 1, co, c, m)], r[idx(i - 1, j, co, c, m)]);
                H2(r[idx(i, j, co, c, m)], tmp, HLEN,
                   r[idx(i - 1, sigma(g, i - 1, j), co, c, m)], HLEN);
            }
        }
        co = (co + rows - 1) % 3;
    }
    memcpy(x, r[idx(0, c - 1, co, c, m)], HLEN);
    explicit_bzero(v1, sizeof v1);
    explicit_bzero(v2, sizeof v2);
    explicit_bzero(tmp, sizeof tmp);
}

/*
 * Rspamd's catena() in password-hashing mode (hashlen <= 64).  Rspamd passes
 * the password and salt lengths as uint8_t: only their first (len mod 256)
 * bytes reach the initial hash.  Returns -1 only if memory runs out.
 */
int rk_catena(const unsigned char *pw, size_t pwlen, const unsigned char *salt, size_t saltlen,
              const unsigned char *data, size_t datalen, unsigned lambda, unsigned min_garlic,
              unsigned garlic, size_t hashlen, unsigned char *out)
{
    unsigned char hv[HLEN], hd[HLEN], x[HLEN];
    const unsigned char tweak[4] = { 0 /* password hashing */, (unsigned char)lambda,
                                     (unsigned char)hashlen, (unsigned char)saltlen };
    const size_t cells = ((size_t)1 << garlic) * 3 / 2;
    cell *r = malloc(cells * sizeof *r);
    crypto_generichash_state st;

    if (!r)
        return -1;
    crypto_generichash(hv, HLEN, (const unsigned char *)"Butterfly-Full", 14, NULL, 0);
    crypto_generichash(hd, HLEN, data, datalen, NULL, 0);
    crypto_generichash_init(&st, NULL, 0, HLEN);
    crypto_generichash_update(&st, hv, HLEN);
    crypto_generichash_update(&st, tweak, sizeof tweak);
    crypto_generichash_update(&st, hd, HLEN);
    crypto_generichash_update(&st, pw, pwlen & 0xff);
    crypto_generichash_update(&st, salt, saltlen & 0xff);
    crypto_generichash_final(&st, x, HLEN);

    flap(x, lambda, (min_garlic + 1) / 2, salt, saltlen, r);
    for (unsigned g = min_garlic; g <= garlic; g++) {
        const unsigned char gb = (unsigned char)g;
        flap(x, lambda, g, salt, saltlen, r);
        H2(x, &gb, 1, x, HLEN);
        memset(x + hashlen, 0, HLEN - hashlen);
    }
    memcpy(out, x, hashlen);
    explicit_bzero(r, cells * sizeof *r);
    free(r);
    explicit_bzero(x, sizeof x);
    explicit_bzero(&st, sizeof st);
    return 0;
}

/* ------------------------------------------------------------ public API */

RK_API int rk_pw_derive(rk_pw_type type, const void *pw, size_t len,
                        const unsigned char salt[RK_PW_SALT_LEN],
                        unsigned char key[RK_PW_KEY_LEN], rk_error *err)
{
    if (rk_sodium_load(err))
        return -1;
    switch (type) {
    case RK_PW_PBKDF2:
        pbkdf2_blake2b(pw, len, salt, RK_PW_SALT_LEN, 16000, key, RK_PW_KEY_LEN);
        return 0;
    case RK_PW_CATENA:
        if (rk_catena(pw, len, salt, RK_PW_SALT_LEN, (const unsigned char *)"rspamd", 6,
                   4, 10, 10, RK_PW_KEY_LEN, key))
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
        return 0;
    }
    return rk_fail(err, RK_ERR_USAGE, "unknown password hash type %d", (int)type);
}

RK_API int rk_pw_hash(rk_pw_type type, const void *pw, size_t len,
                      const unsigned char *salt, char out[RK_PW_HASH_LEN + 1],
                      rk_error *err)
{
    unsigned char s[RK_PW_SALT_LEN], key[RK_PW_KEY_LEN];

    if (rk_sodium_load(err))
        return -1;
    if (salt)
        memcpy(s, salt, sizeof s);
    else
        randombytes_buf(s, sizeof s);
    if (rk_pw_derive(type, pw, len, s, key, err))
        return -1;
    out[0] = '$';
    out[1] = (char)('0' + type);
    out[2] = '$';
    size_t n = 3 + rk_base32_encode(s, sizeof s, out + 3);
    out[n++] = '$';
    rk_base32_encode(key, sizeof key, out + n);
    explicit_bzero(key, sizeof key);
    return 0;
}

static size_t alnum_run(const char *s)
{
    size_t n = 0;
    while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'z') ||
           (s[n] >= 'A' && s[n] <= 'Z'))
        n++;
    return n;
}

/* Decode one base32 field of a hash; it must give exactly `want` bytes. */
static int decode_field(const char *s, size_t n, unsigned char *out, size_t want,
                        const char *what, rk_error *err)
{
    unsigned char buf[RK_BASE32_DECODED_MAX(RK_PW_HASH_LEN)];
    size_t got = 0;

    if (n > RK_PW_HASH_LEN)
        return rk_fail(err, RK_ERR_USAGE, "malformed hash: the %s is too long (%zu characters)",
                       what, n);
    if (rk_base32_decode(s, n, buf, sizeof buf, RK_BASE32_RSPAMD, &got))
        return rk_fail(err, RK_ERR_USAGE, "malformed hash: the %s is not valid base32", what);
    if (got != want)
        return rk_fail(err, RK_ERR_USAGE, "malformed hash: the %s decodes to %zu bytes, %zu expected",
                       what, got, want);
    memcpy(out, buf, want);
    return 0;
}

/* Parse like rspamd's controller (spec/pw.md A.2). */
static int parse_hash(const char *h, rk_pw_type *type, unsigned char salt[RK_PW_SALT_LEN],
                      unsigned char key[RK_PW_KEY_LEN], rk_error *err)
{
    unsigned long id = 0;
    size_t digits = 0;

    if (h[0] == '$')
        for (; h[1 + digits] >= '0' && h[1 + digits] <= '9'; digits++)
            if (id < 1000)   /* saturate: a long number is an unknown id anyway */
                id = id * 10 + (unsigned long)(h[1 + digits] - '0');
    if (!digits || !kind_of((rk_pw_type)id))
        return rk_fail(err, RK_ERR_USAGE, "not a password hash: it must start with $1$ or $2$");
    size_t len = strlen(h);
    if (len < 3 + RK_PW_SALT_LEN + RK_PW_KEY_LEN)
        return rk_fail(err, RK_ERR_USAGE, "malformed hash: too short (%zu characters, a hash has %d)",
                       len, RK_PW_HASH_LEN);
    /* The salt starts at offset 3 whatever follows the digits (rspamd assumes
     * one digit); one separator character, not checked, precedes the key. */
    size_t sn = alnum_run(h + 3);
    size_t kn = 3 + sn < len ? alnum_run(h + 3 + sn + 1) : 0;
    if (decode_field(h + 3, sn, salt, RK_PW_SALT_LEN, "salt", err) ||
        decode_field(h + 3 + sn + 1, kn, key, RK_PW_KEY_LEN, "key", err))
        return -1;
    *type = (rk_pw_type)id;
    return 0;
}

RK_API int rk_pw_hash_type(const char *hash, rk_pw_type *type, rk_error *err)
{
    unsigned char salt[RK_PW_SALT_LEN], key[RK_PW_KEY_LEN];
    return parse_hash(hash, type, salt, key, err);
}

RK_API int rk_pw_verify(const char *hash, const void *pw, size_t len, rk_error *err)
{
    unsigned char salt[RK_PW_SALT_LEN], want[RK_PW_KEY_LEN], got[RK_PW_KEY_LEN];
    rk_pw_type type;

    if (parse_hash(hash, &type, salt, want, err) ||
        rk_pw_derive(type, pw, len, salt, got, err))
        return -1;
    int match = crypto_verify_32(got, want) == 0;
    explicit_bzero(got, sizeof got);
    return match;
}
