/*
 * libFuzzer harness for what a client does with bytes from the network
 * (tests/fuzz/reply builds and runs it):
 *   - the HTTP reply parser (complete? / parse), as for a plain reply;
 *   - an HTTPCrypt envelope: authentication must fail on anything but a
 *     real seal, and never read out of bounds;
 *   - the inner reply of an envelope that does authenticate (the input is
 *     sealed first, then opened and parsed like a decrypted reply);
 *   - zstd decompression of a body, with a size cap;
 *   - the --key parser;
 *   - the /checkv2 reply reader (lib/reply/result.c): it must accept exactly the
 *     JSON objects jansson accepts (inputs without NUL bytes), and read the
 *     same action and score.
 */
#include "config.h"
#include "internal.h"
#include "client/http.h"
#include "transport/transport.h"

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

static void result(const unsigned char *p, size_t n)
{
    json_t *j = json_loadb((const char *)p, n, 0, NULL);
    int want = j && json_is_object(j);
    rk_result r;
    rk_error e;
    int got = rk_result_parse(p, n, 0, 0, &r, &e) == 0;
    /* jansson's reader drops a NUL byte outside a string ({"a":1<NUL>} is an
     * object to it); ours refuses any: only inputs without NUL compare. */
    if (got != want && !memchr(p, 0, n))
        abort();
    if (got) { /* then want too: ours never accepts a NUL byte */
        json_t *a = json_object_get(j, "action"), *s = json_object_get(j, "score");
        if ((json_is_string(a) ? !r.action || strcmp(r.action, json_string_value(a)) : !!r.action) ||
            (json_is_number(s) ? !r.has_score || r.score != json_number_value(s) : r.has_score))
            abort();
        rk_result_clear(&r);
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    static unsigned char nm[RK_HC_KEYLEN];
    if (!init) {
        if (rk_hc_init(NULL))
            abort();
        memset(nm, 0x5a, sizeof nm);
        init = 1;
    }
    parse(data, size);
    result(data, size);

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
