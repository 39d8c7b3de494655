/* Number printing as Rspamd 3.4 does it in `rspamadm configdump`: its printf
 * formats doubles with fpconv, i.e. the shortest digits from the Grisu2
 * algorithm (Florian Loitsch, "Printing floating-point numbers quickly and
 * accurately with integers", PLDI 2010), which are then truncated (not
 * rounded) to the requested number of decimals, or written in scientific
 * notation when the exponent is too large for plain digits.
 *
 * Grisu2 does not always find the shortest digits; reproducing the exact
 * steps (boundaries, cached power selection, digit generation and the final
 * "round_weed"-like adjustment) is what makes the output byte-identical. */
#include "ucl.h"

#include <math.h>
#include <string.h>

typedef struct diyfp {
    uint64_t f;
    int e;
} diyfp;

/* 10^k for k = -348, -340, ..., 340: 64-bit significand rounded to nearest
 * and binary exponent. Generated with exact rational arithmetic:
 *   for k in range(-348, 341, 8):
 *       x = Fraction(10) ** k; pick e with 2**63 <= x / 2**e < 2**64
 *       f = round_half_up(x / 2**e)                                        */
static const diyfp pow10_cache[87] = {
    {0xfa8fd5a0081c0288u, -1220}, {0xbaaee17fa23ebf76u, -1193},
    {0x8b16fb203055ac76u, -1166}, {0xcf42894a5dce35eau, -1140},
    {0x9a6bb0aa55653b2du, -1113}, {0xe61acf033d1a45dfu, -1087},
    {0xab70fe17c79ac6cau, -1060}, {0xff77b1fcbebcdc4fu, -1034},
    {0xbe5691ef416bd60cu, -1007}, {0x8dd01fad907ffc3cu, -980},
    {0xd3515c2831559a83u, -954}, {0x9d71ac8fada6c9b5u, -927},
    {0xea9c227723ee8bcbu, -901}, {0xaecc49914078536du, -874},
    {0x823c12795db6ce57u, -847}, {0xc21094364dfb5637u, -821},
    {0x9096ea6f3848984fu, -794}, {0xd77485cb25823ac7u, -768},
    {0xa086cfcd97bf97f4u, -741}, {0xef340a98172aace5u, -715},
    {0xb23867fb2a35b28eu, -688}, {0x84c8d4dfd2c63f3bu, -661},
    {0xc5dd44271ad3cdbau, -635}, {0x936b9fcebb25c996u, -608},
    {0xdbac6c247d62a584u, -582}, {0xa3ab66580d5fdaf6u, -555},
    {0xf3e2f893dec3f126u, -529}, {0xb5b5ada8aaff80b8u, -502},
    {0x87625f056c7c4a8bu, -475}, {0xc9bcff6034c13053u, -449},
    {0x964e858c91ba2655u, -422}, {0xdff9772470297ebdu, -396},
    {0xa6dfbd9fb8e5b88fu, -369}, {0xf8a95fcf88747d94u, -343},
    {0xb94470938fa89bcfu, -316}, {0x8a08f0f8bf0f156bu, -289},
    {0xcdb02555653131b6u, -263}, {0x993fe2c6d07b7facu, -236},
    {0xe45c10c42a2b3b06u, -210}, {0xaa242499697392d3u, -183},
    {0xfd87b5f28300ca0eu, -157}, {0xbce5086492111aebu, -130},
    {0x8cbccc096f5088ccu, -103}, {0xd1b71758e219652cu, -77},
    {0x9c40000000000000u, -50}, {0xe8d4a51000000000u, -24},
    {0xad78ebc5ac620000u, 3}, {0x813f3978f8940984u, 30},
    {0xc097ce7bc90715b3u, 56}, {0x8f7e32ce7bea5c70u, 83},
    {0xd5d238a4abe98068u, 109}, {0x9f4f2726179a2245u, 136},
    {0xed63a231d4c4fb27u, 162}, {0xb0de65388cc8ada8u, 189},
    {0x83c7088e1aab65dbu, 216}, {0xc45d1df942711d9au, 242},
    {0x924d692ca61be758u, 269}, {0xda01ee641a708deau, 295},
    {0xa26da3999aef774au, 322}, {0xf209787bb47d6b85u, 348},
    {0xb454e4a179dd1877u, 375}, {0x865b86925b9bc5c2u, 402},
    {0xc83553c5c8965d3du, 428}, {0x952ab45cfa97a0b3u, 455},
    {0xde469fbd99a05fe3u, 481}, {0xa59bc234db398c25u, 508},
    {0xf6c69a72a3989f5cu, 534}, {0xb7dcbf5354e9beceu, 561},
    {0x88fcf317f22241e2u, 588}, {0xcc20ce9bd35c78a5u, 614},
    {0x98165af37b2153dfu, 641}, {0xe2a0b5dc971f303au, 667},
    {0xa8d9d1535ce3b396u, 694}, {0xfb9b7cd9a4a7443cu, 720},
    {0xbb764c4ca7a44410u, 747}, {0x8bab8eefb6409c1au, 774},
    {0xd01fef10a657842cu, 800}, {0x9b10a4e5e9913129u, 827},
    {0xe7109bfba19c0c9du, 853}, {0xac2820d9623bf429u, 880},
    {0x80444b5e7aa7cf85u, 907}, {0xbf21e44003acdd2du, 933},
    {0x8e679c2f5e44ff8fu, 960}, {0xd433179d9c8cb841u, 986},
    {0x9e19db92b4e31ba9u, 1013}, {0xeb96bf6ebadf77d9u, 1039},
    {0xaf87023b9bf0ee6bu, 1066},
};
#define POW10_FIRST (-348)
#define POW10_STEP 8
#define ALPHA (-60) /* the scaled exponent must land in [ALPHA, GAMMA] */
#define GAMMA (-32)

#define FRAC_MASK 0x000FFFFFFFFFFFFFull
#define EXP_MASK 0x7FF0000000000000ull
#define HIDDEN 0x0010000000000000ull
#define SIGN_MASK 0x8000000000000000ull

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static diyfp diy_of(double d)
{
    uint64_t b = dbits(d);
    diyfp r = {b & FRAC_MASK, (int)((b & EXP_MASK) >> 52)};
    if (r.e) {
        r.f += HIDDEN;
        r.e -= 1075;
    } else {
        r.e = -1074;
    }
    return r;
}

/* Upper and lower boundaries of the rounding interval, with a common exponent. */
static void boundaries(diyfp v, diyfp *lo, diyfp *hi)
{
    hi->f = (v.f << 1) + 1;
    hi->e = v.e - 1;
    while (!(hi->f & (HIDDEN << 1))) {
        hi->f <<= 1;
        hi->e--;
    }
    hi->f <<= 10;
    hi->e -= 10;
    int shift = v.f == HIDDEN ? 2 : 1; /* the gap below a power of two is half as wide */
    lo->f = (v.f << shift) - 1;
    lo->e = v.e - shift;
    lo->f <<= lo->e - hi->e;
    lo->e = hi->e;
}

static diyfp normalized(diyfp v)
{
    while (!(v.f & HIDDEN)) {
        v.f <<= 1;
        v.e--;
    }
    v.f <<= 11;
    v.e -= 11;
    return v;
}

/* High 64 bits of the 128-bit product, rounded. */
static diyfp mul(diyfp a, diyfp b)
{
    const uint64_t M32 = 0xFFFFFFFFu;
    uint64_t ah = a.f >> 32, al = a.f & M32, bh = b.f >> 32, bl = b.f & M32;
    uint64_t hl = ah * bl, lh = al * bh, ll = al * bl, hh = ah * bh;
    uint64_t mid = (hl & M32) + (lh & M32) + (ll >> 32);
    mid += 1u << 31;
    diyfp r = {hh + (hl >> 32) + (lh >> 32) + (mid >> 32), a.e + b.e + 64};
    return r;
}

/* Cached power c with ALPHA <= e + c.e + 64 <= GAMMA; *k is its decimal exponent. */
static diyfp cached_pow10(int e, int *k)
{
    int approx = (int)(-(e + 87) * 0.30102999566398114);
    int idx = (approx - POW10_FIRST) / POW10_STEP;
    for (;;) {
        int scaled = e + pow10_cache[idx].e + 64;
        if (scaled < ALPHA)
            idx++;
        else if (scaled > GAMMA)
            idx--;
        else
            break;
    }
    *k = POW10_FIRST + idx * POW10_STEP;
    return pow10_cache[idx];
}

static const uint64_t POW10_U64[20] = {
    10000000000000000000ull, 1000000000000000000ull, 100000000000000000ull,
    10000000000000000ull, 1000000000000000ull, 100000000000000ull, 10000000000000ull,
    1000000000000ull, 100000000000ull, 10000000000ull, 1000000000ull, 100000000ull,
    10000000ull, 1000000ull, 100000ull, 10000ull, 1000ull, 100ull, 10ull, 1ull};

/* Move the last digit down while that brings it closer to the real value. */
static void adjust_last(char *digits, int n, uint64_t delta, uint64_t rest, uint64_t ten_kappa,
                        uint64_t wp_w)
{
    while (rest < wp_w && delta - rest >= ten_kappa &&
           (rest + ten_kappa < wp_w || wp_w - rest > rest + ten_kappa - wp_w)) {
        digits[n - 1]--;
        rest += ten_kappa;
    }
}

static int gen_digits(diyfp w, diyfp hi, diyfp lo, char *digits, int *K)
{
    uint64_t wp_w = hi.f - w.f;
    uint64_t delta = hi.f - lo.f;
    int sh = -hi.e;
    uint64_t one = 1ull << sh;
    uint64_t p1 = hi.f >> sh, p2 = hi.f & (one - 1);
    int n = 0, kappa = 10;

    for (const uint64_t *div = POW10_U64 + 10; kappa > 0; div++) {
        unsigned d = (unsigned)(p1 / *div);
        if (d || n)
            digits[n++] = (char)('0' + d);
        p1 -= d * *div;
        kappa--;
        uint64_t rest = (p1 << sh) + p2;
        if (rest <= delta) {
            *K += kappa;
            adjust_last(digits, n, delta, rest, *div << sh, wp_w);
            return n;
        }
    }
    const uint64_t *unit = POW10_U64 + 18;
    for (;;) {
        p2 *= 10;
        delta *= 10;
        kappa--;
        unsigned d = (unsigned)(p2 >> sh);
        if (d || n)
            digits[n++] = (char)('0' + d);
        p2 &= one - 1;
        if (p2 < delta) {
            *K += kappa;
            adjust_last(digits, n, delta, p2, one, wp_w * *unit);
            return n;
        }
        unit--;
    }
}

static int grisu2(double d, char *digits, int *K)
{
    diyfp w = diy_of(d), lo, hi;
    boundaries(w, &lo, &hi);
    w = normalized(w);
    int k;
    diyfp c = cached_pow10(hi.e, &k);
    w = mul(w, c);
    hi = mul(hi, c);
    lo = mul(lo, c);
    lo.f++;
    hi.f--;
    *K = -k;
    return gen_digits(w, hi, lo, digits, K);
}

#define OUT_MAX 32 /* fpconv's buffer size, which bounds some paddings */

static size_t put_scientific(const char *digits, int n, char *o, int K, int neg, int exp)
{
    size_t i = 0;
    if (n > 18 - neg)
        n = 18 - neg;
    o[i++] = digits[0];
    if (n > 1) {
        o[i++] = '.';
        memcpy(o + i, digits + 1, (size_t)n - 1);
        i += (size_t)n - 1;
    }
    o[i++] = 'e';
    o[i++] = K + n - 1 < 0 ? '-' : '+';
    int cent = 0;
    if (exp > 99) {
        cent = exp / 100;
        o[i++] = (char)('0' + cent);
        exp -= cent * 100;
    }
    if (exp > 9) {
        o[i++] = (char)('0' + exp / 10);
        exp %= 10;
    } else if (cent) {
        o[i++] = '0';
    }
    o[i++] = (char)('0' + exp % 10);
    return i;
}

static size_t put_digits(const char *digits, int n, char *o, int K, int neg, unsigned prec)
{
    int exp = abs(K + n - 1);
    size_t i = 0;

    if (K >= 0 && exp < n + 7) { /* plain integer */
        memcpy(o, digits, (size_t)n);
        i = (size_t)n;
        memset(o + i, '0', (size_t)K);
        i += (size_t)K;
        if (prec > (unsigned)(OUT_MAX - (n + K + 1)))
            prec = (unsigned)(OUT_MAX - (n + K + 1));
        if (prec) {
            o[i++] = '.';
            memset(o + i, '0', prec);
            i += prec;
        }
        return i;
    }
    if (K < 0) {
        int intdigits = n + K; /* digits before the decimal point */
        if (intdigits <= 0) {  /* |v| < 1 */
            int zeros = -intdigits, to_print;
            if (prec) {
                if (zeros >= (int)prec) {
                    o[0] = '0';
                    o[1] = '.';
                    memset(o + 2, '0', prec);
                    return prec + 2;
                }
                to_print = n + zeros > (int)prec ? n + zeros : (int)prec;
            } else {
                to_print = n + zeros;
            }
            if (to_print <= OUT_MAX - 3) {
                o[0] = '0';
                o[1] = '.';
                memset(o + 2, '0', (size_t)zeros);
                i = 2 + (size_t)zeros;
                if (prec) {
                    unsigned left = prec - (unsigned)zeros;
                    if (left <= (unsigned)n) {
                        memcpy(o + i, digits, left);
                        return i + left;
                    }
                    memcpy(o + i, digits, (size_t)n);
                    i += (size_t)n;
                    memset(o + i, '0', left - (unsigned)n);
                    return i + left - (unsigned)n;
                }
                memcpy(o + i, digits, (size_t)n);
                return i + (size_t)n;
            }
        } else if (n <= OUT_MAX - 3) { /* |v| >= 1 with a fraction */
            memcpy(o, digits, (size_t)intdigits);
            i = (size_t)intdigits;
            o[i++] = '.';
            int frac = n - intdigits;
            if (prec) {
                if (frac >= (int)prec) {
                    memcpy(o + i, digits + intdigits, prec);
                    i += prec;
                } else {
                    memcpy(o + i, digits + intdigits, (size_t)frac);
                    i += (size_t)frac;
                    size_t pad = prec - (unsigned)frac;
                    if (i + pad > OUT_MAX)
                        pad = OUT_MAX - i;
                    memset(o + i, '0', pad);
                    i += pad;
                }
            } else {
                memcpy(o + i, digits + intdigits, (size_t)frac);
                i += (size_t)frac;
            }
            return i;
        }
    }
    return put_scientific(digits, n, o, K, neg, exp);
}

size_t rk_fpconv(double v, unsigned prec, char *out)
{
    size_t i = 0;
    if (prec > OUT_MAX - 5)
        prec = OUT_MAX - 5;
    uint64_t b = dbits(v);
    if (v == 0.0) {
        if (b & SIGN_MASK)
            out[i++] = '-';
        out[i++] = '0';
        if (prec) {
            out[i++] = '.';
            memset(out + i, '0', prec);
            i += prec;
        }
        out[i] = 0;
        return i;
    }
    if ((b & EXP_MASK) == EXP_MASK) {
        const char *s = (b & FRAC_MASK) ? "nan" : (b & SIGN_MASK) ? "-inf" : "inf";
        strcpy(out, s);
        return strlen(s);
    }
    int neg = (b & SIGN_MASK) != 0;
    if (neg)
        out[i++] = '-';
    char digits[24];
    int K = 0;
    int n = grisu2(v, digits, &K);
    i += put_digits(digits, n, out + i, K, neg, prec);
    out[i] = 0;
    return i;
}

size_t rk_ucl_format_double(double v, char *out)
{
    if (!isfinite(v)) {
        strcpy(out, "null");
        return 4;
    }
    /* (int)v as x86 computes it: out of range gives INT_MIN */
    int iv = (v > -2147483649.0 && v < 2147483648.0) ? (int)v : (-2147483647 - 1);
    return rk_fpconv(v, v == (double)iv ? 1 : 6, out);
}
