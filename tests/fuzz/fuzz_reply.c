/*
 * libFuzzer harness for what a client does with bytes from the network
 * (tests/fuzz/reply builds and runs it):
 *   - the HTTP reply parser (complete? / parse), as for a plain reply;
 *   - an HTTPCrypt envelope: authentication must fail on anything but a
 *     real seal, and never read out of bounds;
 *   - the inner reply of an envelope that does authenticate (the input is
 *     sealed first, then opened and parsed like a decrypted reply);
 *   - zstd decompression of a body, with a size cap;
 *   - the --key parser.
 */
#include "config.h"
#include "internal.h"
#include "http.h"
#include "transport.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void parse(const unsigned char *p, size_t n)
{
    rk_response r;
    rk_error e;
    memset(&r, 0, sizeof r);
    (void)rk_http_complete(p, n);
    (void)rk_http_parse_response(p, n, &r, &e);
    rk_response_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    static unsigned char nm[RK_HC_KEYLEN];
    if (!init) {
        if (sodium_init() < 0)
            abort();
        memset(nm, 0x5a, sizeof nm);
        init = 1;
    }
    parse(data, size);

    unsigned char *out = malloc(size + RK_HC_OVERHEAD + 1);
    if (!out)
        return 0;
    if (size >= RK_HC_OVERHEAD && rk_hc_open(nm, data, size, out) == 0)
        abort(); /* a forgery: impossible without the key */
    unsigned char *wire = malloc(size + RK_HC_OVERHEAD);
    if (wire) {
        static const unsigned char nonce[RK_HC_NONCELEN];
        rk_hc_seal(nm, nonce, data, size, wire);
        if (rk_hc_open(nm, wire, size + RK_HC_OVERHEAD, out) != 0 || memcmp(out, data, size) != 0)
            abort();
        parse(out, size);
        free(wire);
    }
    free(out);

    rk_buf z = {0};
    rk_error e;
    (void)rk_zstd_decompress(data, size, &z, 1 << 20, &e);
    rk_buf_free(&z);

    if (size < 200) {
        char key[201];
        unsigned char pk[RK_HC_KEYLEN];
        memcpy(key, data, size);
        key[size] = 0;
        (void)rk_hc_parse_pubkey(key, pk, &e);
    }
    return 0;
}
