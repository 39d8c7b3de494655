/* libsodium and libzstd through dlopen(): they cost a tenth of a
 * millisecond of start-up each, and a plain scan uses neither (the budget
 * of spec/protocol.md and issue 5). The sonames come from configure. */
#include "config.h"

#define RK_DYNLIB_IMPL
#include "internal.h"
#include "sodium_dl.h"
#ifdef HAVE_ZSTD
#include "zstd_dl.h"
#endif

#include <dlfcn.h>
#include <string.h>

/* Once per library: dlopen `soname` and fill the `n` function pointers
 * `slots` by `names`. *state: 0 not tried, 1 ready, -1 failed (why in
 * *first, repeated to every later caller). */
static int load(int *state, rk_error *first, const char *soname, const char *const *names,
                void **const *slots, size_t n, rk_error *err)
{
    if (*state == 0) {
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        *state = 1;
        if (!h) {
            *state = -1;
            rk_fail(first, RK_ERR_UNSUPPORTED, "cannot load %s: %s", soname, dlerror());
        }
        for (size_t i = 0; h && i < n; i++)
            if (!(*slots[i] = dlsym(h, names[i]))) {
                *state = -1;
                rk_fail(first, RK_ERR_UNSUPPORTED, "%s has no %s", soname, names[i]);
                break;
            }
        /* the handle stays open for the life of the process */
    }
    if (*state < 0) {
        if (err)
            *err = *first;
        return -1;
    }
    return 0;
}

#define RK_NAME(f) #f,

struct rk_sodium_table rk_sodium_;

int rk_sodium_load(rk_error *err)
{
    static int state;
    static rk_error first;
    static const char *const names[] = {RK_SODIUM_FUNCTIONS(RK_NAME)};
#define RK_SLOT(f) (void **)&rk_sodium_.f,
    void **const slots[] = {RK_SODIUM_FUNCTIONS(RK_SLOT)};
#undef RK_SLOT
    int fresh = state == 0;
    if (load(&state, &first, RK_SODIUM_SONAME, names, slots, sizeof names / sizeof *names, err))
        return -1;
    if (fresh && rk_sodium_.sodium_init() < 0) {
        state = -1;
        rk_fail(&first, RK_ERR_CRYPTO, "cannot initialise libsodium");
        if (err)
            *err = first;
        return -1;
    }
    return 0;
}

#ifdef HAVE_ZSTD
struct rk_zstd_table rk_zstd_;

int rk_zstd_load(rk_error *err)
{
    static int state;
    static rk_error first;
    static const char *const names[] = {RK_ZSTD_FUNCTIONS(RK_NAME)};
#define RK_SLOT(f) (void **)&rk_zstd_.f,
    void **const slots[] = {RK_ZSTD_FUNCTIONS(RK_SLOT)};
#undef RK_SLOT
    return load(&state, &first, RK_ZSTD_SONAME, names, slots, sizeof names / sizeof *names, err);
}
#endif
