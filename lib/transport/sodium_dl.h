/* libsodium, opened with dlopen() the first time it is needed (HTTPCrypt,
 * password hashes): a plain scan never maps it. Include this instead of
 * <sodium.h>; the calls below then go through the table that
 * rk_sodium_load() fills, and must come after it succeeded. */
#ifndef RK_SODIUM_DL_H
#define RK_SODIUM_DL_H

#include <sodium.h>

#include "rspamkit.h"

#define RK_SODIUM_FUNCTIONS(X)                                                                     \
    X(sodium_init)                                                                                 \
    X(randombytes_buf)                                                                             \
    X(crypto_generichash)                                                                          \
    X(crypto_generichash_init)                                                                     \
    X(crypto_generichash_update)                                                                   \
    X(crypto_generichash_final)                                                                    \
    X(crypto_generichash_blake2b)                                                                  \
    X(crypto_scalarmult_curve25519)                                                                \
    X(crypto_scalarmult_curve25519_base)                                                           \
    X(crypto_core_hchacha20)                                                                       \
    X(crypto_stream_xchacha20)                                                                     \
    X(crypto_stream_xchacha20_xor_ic)                                                              \
    X(crypto_onetimeauth_poly1305)                                                                 \
    X(crypto_onetimeauth_poly1305_init)                                                            \
    X(crypto_onetimeauth_poly1305_update)                                                          \
    X(crypto_onetimeauth_poly1305_final)                                                           \
    X(crypto_onetimeauth_poly1305_verify)                                                          \
    X(crypto_verify_32)

struct rk_sodium_table {
#define RK_SODIUM_MEMBER(f) __typeof__(&f) f;
    RK_SODIUM_FUNCTIONS(RK_SODIUM_MEMBER)
#undef RK_SODIUM_MEMBER
};
extern struct rk_sodium_table rk_sodium_;

/* Open libsodium and call sodium_init() once. 0, or -1 with err set. */
int rk_sodium_load(rk_error *err);

#ifndef RK_DYNLIB_IMPL
#define sodium_init (rk_sodium_.sodium_init)
#define randombytes_buf (rk_sodium_.randombytes_buf)
#define crypto_generichash (rk_sodium_.crypto_generichash)
#define crypto_generichash_init (rk_sodium_.crypto_generichash_init)
#define crypto_generichash_update (rk_sodium_.crypto_generichash_update)
#define crypto_generichash_final (rk_sodium_.crypto_generichash_final)
#define crypto_generichash_blake2b (rk_sodium_.crypto_generichash_blake2b)
#define crypto_scalarmult_curve25519 (rk_sodium_.crypto_scalarmult_curve25519)
#define crypto_scalarmult_curve25519_base (rk_sodium_.crypto_scalarmult_curve25519_base)
#define crypto_core_hchacha20 (rk_sodium_.crypto_core_hchacha20)
#define crypto_stream_xchacha20 (rk_sodium_.crypto_stream_xchacha20)
#define crypto_stream_xchacha20_xor_ic (rk_sodium_.crypto_stream_xchacha20_xor_ic)
#define crypto_onetimeauth_poly1305 (rk_sodium_.crypto_onetimeauth_poly1305)
#define crypto_onetimeauth_poly1305_init (rk_sodium_.crypto_onetimeauth_poly1305_init)
#define crypto_onetimeauth_poly1305_update (rk_sodium_.crypto_onetimeauth_poly1305_update)
#define crypto_onetimeauth_poly1305_final (rk_sodium_.crypto_onetimeauth_poly1305_final)
#define crypto_onetimeauth_poly1305_verify (rk_sodium_.crypto_onetimeauth_poly1305_verify)
#define crypto_verify_32 (rk_sodium_.crypto_verify_32)
#endif

#endif
