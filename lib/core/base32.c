/* Rspamd's LSB-first z-base-32 (see base32.h). */
#include "base32.h"


static const char alphabet[32] = "ybndrfg8ejkmcpqxot1uwisza345h769";

size_t rk_base32_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;
    unsigned acc = 0, bits = 0;

    for (size_t i = 0; i < len; i++) {
        acc |= (unsigned)in[i] << bits;
        bits += 8;
        while (bits >= 5) {
            out[o++] = alphabet[acc & 31];
            acc >>= 5;
            bits -= 5;
        }
    }
    if (bits)
        out[o++] = alphabet[acc & 31];
    out[o] = '\0';
    return o;
}

static int value_of(unsigned char c)
{
    for (int v = 0; v < 32; v++)
        if ((unsigned char)alphabet[v] == c)
            return v;
    return -1;
}

int rk_base32_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                     rk_base32_mode mode, size_t *outlen)
{
    size_t o = 0;
    unsigned acc = 0, bits = 0;   /* never more than 12 bits pending */

    for (size_t i = 0; i < len; i++) {
        int v = value_of((unsigned char)in[i]);
        if (v < 0)
            return -1;
        if (mode == RK_BASE32_RSPAMD && bits >= 8) {
            /* rspamd: at most one byte out per character, before it */
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)acc;
            acc >>= 8;
            bits -= 8;
        }
        acc |= (unsigned)v << bits;
        bits += 5;
        if (mode == RK_BASE32_EXACT && bits >= 8) {
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    if (mode == RK_BASE32_RSPAMD && bits) {
        if (o >= cap)
            return -1;
        out[o++] = (unsigned char)acc;
    }
    *outlen = o;
    return 0;
}
