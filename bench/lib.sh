# Set-up shared by the benchmarks; sourced, then `bench_init NAME`:
#   $src   the source tree          $work  a temporary directory (removed on exit)
#   $bin   the build, installed into $work/inst (no libtool wrappers)
#   $run   how to run an installed binary: "$run $bin/rspamkit-scan ..."
#   $floor bench/floor.c, compiled
# and `bench_server`: the private Rspamd of $RK_TEST_DIR when that is set,
# else one started in $work/srv (stopped on exit); its env file is sourced
# and $hp is its normal worker's host:port.
bench_init() {
    src=$(cd "$(dirname "$0")/.." && pwd)
    work=$(mktemp -d "${TMPDIR:-/tmp}/rspamkit-bench-$1.XXXXXX")
    chmod 755 "$work" # the private Rspamd runs as _rspamd
    bench_own_srv=
    trap bench_cleanup EXIT
    make -s install DESTDIR="$work/inst" prefix=/usr/local >"$work/install.log" 2>&1 ||
        { cat "$work/install.log" >&2; exit 1; }
    bin=$work/inst/usr/local/bin
    # The library comes from the temporary prefix through the dynamic
    # loader's --library-path rather than an exported LD_LIBRARY_PATH, which
    # the delivery commands (cat) would inherit and pay for.
    local ldso
    ldso=$(readelf -l "$bin/rspamkit-scan" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
    run="$ldso --library-path $work/inst/usr/local/lib"
    floor=$work/floor
    cc -O2 -o "$floor" "$src/bench/floor.c"
}

bench_server() {
    if [ -n "${RK_TEST_DIR:-}" ] && [ -f "$RK_TEST_DIR/env" ]; then
        . "$RK_TEST_DIR/env"
    else
        bench_own_srv=$work/srv
        "$src/tests/server/start" "$bench_own_srv" >/dev/null
        . "$bench_own_srv/env"
    fi
    hp="$RK_HOST:$RK_NORMAL_PORT"
}

bench_cleanup() {
    [ -n "$bench_own_srv" ] && "$src/tests/server/stop" "$bench_own_srv" >/dev/null 2>&1
    rm -rf "$work"
}
