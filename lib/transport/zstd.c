/* zstd bodies (spec/protocol.md section 4): `Compression: zstd`, one frame,
 * no dictionaries.  Optional at configure time (HAVE_ZSTD). */
#include "transport.h"

#ifdef HAVE_ZSTD
#include "zstd_dl.h"

int rk_zstd_available(void) { return 1; }

int rk_zstd_compress(const unsigned char *in, size_t len, rk_buf *out, rk_error *err)
{
    if (rk_zstd_load(err))
        return -1;
    size_t bound = ZSTD_compressBound(len);
    out->len = 0;
    if (rk_buf_reserve(out, bound))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    /* Level 1: the cheapest; the body only crosses a socket once. */
    size_t n = ZSTD_compress(out->p, bound, in, len, 1);
    if (ZSTD_isError(n))
        return rk_fail(err, RK_ERR_INPUT, "zstd compression failed: %s", ZSTD_getErrorName(n));
    out->len = n;
    out->p[n] = 0;
    return 0;
}

int rk_zstd_decompress(const unsigned char *in, size_t len, rk_buf *out, size_t max,
                       rk_error *err)
{
    if (rk_zstd_load(err))
        return -1;
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds)
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    ZSTD_initDStream(ds);
    out->len = 0;
    unsigned long long hint = ZSTD_getFrameContentSize(in, len);
    size_t want = hint != ZSTD_CONTENTSIZE_UNKNOWN && hint != ZSTD_CONTENTSIZE_ERROR &&
                          hint < max ? (size_t)hint + 64 : len * 4 + 4096;
    ZSTD_inBuffer ib = {in, len, 0};
    size_t r = 1;
    int rc = 0;
    while (ib.pos < ib.size || r != 0) {
        if (rk_buf_reserve(out, want)) {
            rc = rk_fail(err, RK_ERR_NOMEM, "out of memory");
            break;
        }
        ZSTD_outBuffer ob = {out->p + out->len, out->cap - out->len - 1, 0};
        size_t before_in = ib.pos;
        r = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(r)) {
            rc = rk_fail(err, RK_ERR_PROTOCOL, "cannot decompress the zstd reply: %s",
                         ZSTD_getErrorName(r));
            break;
        }
        out->len += ob.pos;
        if (out->len > max) {
            rc = rk_fail(err, RK_ERR_PROTOCOL, "zstd reply larger than %zu bytes", max);
            break;
        }
        if (ib.pos == ib.size && r != 0 && ob.pos == 0 && before_in == ib.pos) {
            rc = rk_fail(err, RK_ERR_PROTOCOL, "cannot decompress the zstd reply: truncated frame");
            break;
        }
        want = 65536;
    }
    ZSTD_freeDStream(ds);
    if (rc == 0 && out->p)
        out->p[out->len] = 0;
    return rc;
}

#else

int rk_zstd_available(void) { return 0; }

int rk_zstd_compress(const unsigned char *in, size_t len, rk_buf *out, rk_error *err)
{
    (void)in, (void)len, (void)out;
    return rk_fail(err, RK_ERR_UNSUPPORTED, "zstd compression is not available: "
                                            "rspamkit was built without libzstd");
}

int rk_zstd_decompress(const unsigned char *in, size_t len, rk_buf *out, size_t max,
                       rk_error *err)
{
    (void)in, (void)len, (void)out, (void)max;
    return rk_fail(err, RK_ERR_UNSUPPORTED, "the server sent a zstd-compressed reply, but "
                                            "rspamkit was built without libzstd");
}

#endif

RK_API int rk_have_zstd(void) { return rk_zstd_available(); }
