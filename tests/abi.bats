#!/usr/bin/env bats
# The ABI of librspamkit.so.0: it exports exactly the functions rspamkit.h
# declares with RK_API, each under the version node RSPAMKIT_0 of
# lib/rspamkit.sym; each is documented in librspamkit(3); and the header
# compiles with nothing but what `pkg-config --cflags rspamkit` gives.
# server-independent: needs no Rspamd.

load helpers

so() { ls "$RK_BUILDDIR"/lib/.libs/librspamkit.so.0 2>/dev/null || skip "no shared library built"; }

# the functions the header declares with RK_API, comments removed
declared() {
    perl -0ne 's{/\*.*?\*/}{}gs; while (/RK_API\b[^;{(]*?\b(rk_\w+)\s*\(/g) { print "$1\n" }' \
        "$SRC/lib/rspamkit.h" | sort -u
}

# the functions the shared library exports, with their version
exported() {
    nm -D --defined-only --with-symbol-versions "$1" | awk '$2 == "T" { print $3 }' | sort -u
}

@test "the library exports exactly the functions rspamkit.h declares, all at RSPAMKIT_0" {
    lib=$(so)
    declared >"$BATS_TEST_TMPDIR/declared"
    exported "$lib" >"$BATS_TEST_TMPDIR/exported"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/declared")" -gt 50 ]
    # every export carries the version node
    run grep -v '@@\?RSPAMKIT_0$' "$BATS_TEST_TMPDIR/exported"
    [ -z "$output" ] || { echo "exported without RSPAMKIT_0: $output"; false; }
    sed 's/@.*//' "$BATS_TEST_TMPDIR/exported" >"$BATS_TEST_TMPDIR/names"
    run diff "$BATS_TEST_TMPDIR/declared" "$BATS_TEST_TMPDIR/names"
    [ "$status" -eq 0 ] || { echo "< declared only, > exported only:"; echo "$output"; false; }
}

@test "the configdump emulation and the UCL parser are not exported" {
    lib=$(so)
    run sh -c "nm -D --defined-only '$lib' | grep -E ' (rk_ucl_|rk_rspamd_)'"
    [ -z "$output" ]
}

@test "every exported function is documented in librspamkit(3)" {
    lib=$(so)
    missing=
    for f in $(exported "$lib" | sed 's/@.*//'); do
        grep -qE "\bF[no] $f( |\$)" "$SRC/man/librspamkit.3" || missing="$missing $f"
    done
    [ -z "$missing" ] || { echo "not documented:$missing"; false; }
}

@test "layering: the library never prints or exits; the tools call no jansson, curl or sodium function" {
    lib=$(so)
    nm -D --undefined-only "$lib" | awk '{ print $2 }' | sed 's/@.*//' >"$BATS_TEST_TMPDIR/lib"
    grep -q '^json_' "$BATS_TEST_TMPDIR/lib" # the listing works
    run grep -xE '(__)?(v?f?printf|puts|putchar|fputs|fputc|fwrite|perror|exit|_exit|_Exit|abort)(_chk)?|stdout|stderr' \
        "$BATS_TEST_TMPDIR/lib"
    [ -z "$output" ] || { echo "the library calls: $output"; false; }
    # the tools' own code (rspamkit-configdump also links the internal library)
    n=0
    for o in "$RK_BUILDDIR"/tools/*.o "$RK_BUILDDIR"/tools/.libs/*.o; do
        [ -f "$o" ] || continue
        n=$((n + 1))
        run sh -c "nm --undefined-only '$o' | awk '{ print \$2 }' | grep -E '^(json_|curl_|sodium_|crypto_|randombytes_|ZSTD_)'"
        [ -z "$output" ] || { echo "$o calls: $output"; false; }
    done
    [ "$n" -ge 14 ] # every tool and tools/libtools was looked at
}

@test "rspamkit.h compiles on its own with the cflags rspamkit.pc gives" {
    pc="$RK_BUILDDIR/lib/rspamkit.pc"
    [ -f "$pc" ]
    # the packages the header includes are the ones Requires names
    run sed -n 's/^Requires: *//p' "$pc"
    [ "$output" = jansson ]
    grep -q '#include <jansson.h>' "$SRC/lib/rspamkit.h"
    printf '#include <rspamkit.h>\nint main(void) { return rk_version() == 0; }\n' >"$BATS_TEST_TMPDIR/t.c"
    # shellcheck disable=SC2086
    run cc $RK_SANITIZERS -Wall -Wextra -Werror -I"$SRC/lib" $(pkg-config --cflags jansson) \
        -o "$BATS_TEST_TMPDIR/t" "$BATS_TEST_TMPDIR/t.c" -L"$RK_BUILDDIR/lib/.libs" -lrspamkit
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    LD_LIBRARY_PATH="$RK_BUILDDIR/lib/.libs" "$BATS_TEST_TMPDIR/t"
}
