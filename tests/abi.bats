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
