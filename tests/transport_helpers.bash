# Helpers of the transport tests (httpcrypt, transport, tls): several proxies
# and fake servers per test, by name.  `load transport_helpers` after helpers.
PROXY_PIDS=()

# start_proxy NAME MODE [UPSTREAM_HOST UPSTREAM_PORT] [ARG]: tests/proxy in front of a
# server; sets $NAME to its port; requests/replies are in $BATS_TEST_TMPDIR/NAME.port.{req,resp}.N
start_proxy() {
    local name=$1 mode=$2 pf="$BATS_TEST_TMPDIR/$1.port"
    shift 2
    [ $# -ge 2 ] || set -- 127.0.0.1 0   # blackhole: no upstream
    rm -f "$pf"*
    "$SRC/tests/proxy" "$mode" "$pf" "$@" 3>&- &
    PROXY_PIDS+=($!)
    for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
    printf -v "$name" '%s' "$(cat "$pf")"
}

# start_fake NAME MODE [ARG...]: tests/fake-server; sets $NAME to its port; requests in
# $BATS_TEST_TMPDIR/NAME.port.req.N
start_fake() {
    local name=$1 pf="$BATS_TEST_TMPDIR/$1.port"
    shift
    rm -f "$pf"*
    "$SRC/tests/fake-server" "$1" "$pf" "${@:2}" 3>&- &
    PROXY_PIDS+=($!)
    for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
    printf -v "$name" '%s' "$(cat "$pf")"
}

# number of requests NAME (a proxy or fake) has received
requests_of() { find "$BATS_TEST_TMPDIR" -maxdepth 1 -name "$1.port.req.*" | wc -l; }

stop_proxies() {
    local p
    for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    PROXY_PIDS=()
    true
}

# The shared objects mapped by a running rspamkit-scan, while it waits for a
# server that never answers: maps_during [--after NAME] ARGS... (prints /proc/PID/maps
# paths).  With --after, they are read once the fake or proxy NAME has received the
# request (so the input has been read and sniffed, however loaded the machine is);
# else after 0.4 s.
maps_during() {
    local pid out=$BATS_TEST_TMPDIR/maps.$RANDOM after= n0
    if [ "$1" = --after ]; then after=$2; shift 2; n0=$(requests_of "$after"); fi
    rspamkit-scan "$@" >/dev/null 2>&1 &
    pid=$!
    if [ -n "$after" ]; then
        for _ in $(seq 200); do [ "$(requests_of "$after")" -gt "$n0" ] && break; sleep 0.05; done
    else
        sleep 0.4
    fi
    awk '$6 ~ /\.so/ {print $6}' "/proc/$pid/maps" | sort -u >"$out"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    cat "$out"
}
