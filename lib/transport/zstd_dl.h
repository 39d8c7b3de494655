/* libzstd, opened with dlopen() the first time a body is compressed or a
 * compressed reply arrives (-z): a plain scan never maps it. Include this
 * instead of <zstd.h>, and call rk_zstd_load() before the functions. */
#ifndef RK_ZSTD_DL_H
#define RK_ZSTD_DL_H

#include <zstd.h>

#include "rspamkit.h"

#define RK_ZSTD_FUNCTIONS(X)                                                                       \
    X(ZSTD_compressBound)                                                                          \
    X(ZSTD_compress)                                                                               \
    X(ZSTD_isError)                                                                                \
    X(ZSTD_getErrorName)                                                                           \
    X(ZSTD_createDStream)                                                                          \
    X(ZSTD_initDStream)                                                                            \
    X(ZSTD_getFrameContentSize)                                                                    \
    X(ZSTD_decompressStream)                                                                       \
    X(ZSTD_freeDStream)

struct rk_zstd_table {
#define RK_ZSTD_MEMBER(f) __typeof__(&f) f;
    RK_ZSTD_FUNCTIONS(RK_ZSTD_MEMBER)
#undef RK_ZSTD_MEMBER
};
extern struct rk_zstd_table rk_zstd_;

/* Open libzstd once. 0, or -1 with err set. */
int rk_zstd_load(rk_error *err);

#ifndef RK_DYNLIB_IMPL
#define ZSTD_compressBound (rk_zstd_.ZSTD_compressBound)
#define ZSTD_compress (rk_zstd_.ZSTD_compress)
#define ZSTD_isError (rk_zstd_.ZSTD_isError)
#define ZSTD_getErrorName (rk_zstd_.ZSTD_getErrorName)
#define ZSTD_createDStream (rk_zstd_.ZSTD_createDStream)
#define ZSTD_initDStream (rk_zstd_.ZSTD_initDStream)
#define ZSTD_getFrameContentSize (rk_zstd_.ZSTD_getFrameContentSize)
#define ZSTD_decompressStream (rk_zstd_.ZSTD_decompressStream)
#define ZSTD_freeDStream (rk_zstd_.ZSTD_freeDStream)
#endif

#endif
