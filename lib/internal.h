/* Private helpers shared by the library's source files. */
#ifndef RK_INTERNAL_H
#define RK_INTERNAL_H

#include "config.h"
#include "rspamkit.h"
#include <stdarg.h>

#if defined(__GNUC__)
#define RK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RK_PRINTF(a, b)
#endif

/* Growable byte buffer. */
typedef struct rk_buf {
    unsigned char *p;
    size_t len, cap;
} rk_buf;

int rk_buf_reserve(rk_buf *b, size_t extra);
int rk_buf_append(rk_buf *b, const void *data, size_t len);
int rk_buf_puts(rk_buf *b, const char *s);
int rk_buf_printf(rk_buf *b, const char *fmt, ...) RK_PRINTF(2, 3);
void rk_buf_free(rk_buf *b);

/* Fill err (if non-NULL) and return -1. */
int rk_fail(rk_error *err, rk_status code, const char *fmt, ...) RK_PRINTF(3, 4);

double rk_now(void);

/* A size-tagged struct as the caller passed it (see rspamkit.h): copy its
 * first `size` bytes over `full` (which holds the defaults for the fields
 * the caller does not know), at most full_size.  -1 (RK_ERR_USAGE) when the
 * caller's struct is larger and sets something this library does not know. */
int rk_sized_in(void *full, size_t full_size, const void *in, size_t size, rk_error *err);

/* Rspamd's catena() in password-hashing mode (lib/pw.c): hashlen <= 64 bytes
 * into out; -1 only if memory runs out.  Internal, for the unit tests. */
int rk_catena(const unsigned char *pw, size_t pwlen, const unsigned char *salt, size_t saltlen,
              const unsigned char *data, size_t datalen, unsigned lambda, unsigned min_garlic,
              unsigned garlic, size_t hashlen, unsigned char *out);

#endif
