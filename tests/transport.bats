#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# Transport: the start-up budget (what a process maps), zstd, failover over
# several servers with retries and the dead-host memory, separate timeouts,
# and --local-file.  TLS is in tls.bats, HTTPCrypt in httpcrypt.bats.

bats_require_minimum_version 1.5.0
load helpers
load transport_helpers

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
    export RSPAMKIT_STATE_DIR="$BATS_TEST_TMPDIR/state"
}
teardown() {
    stop_fake
    stop_proxies
}

# ------------------------------------------------------------ start-up budget

@test "budget: the library links neither libcurl nor libmagic" {
    lib=$(ls "$RK_BUILDDIR"/lib/.libs/librspamkit.so.* | head -1)
    run ldd "$lib"
    [ "$status" -eq 0 ]
    ! grep -q 'libcurl' <<<"$output"
    ! grep -q 'libmagic' <<<"$output"
}

@test "budget: http:// and UNIX socket scans never load libcurl (LD_DEBUG)" {
    for h in "$NORMAL" "http://$NORMAL" "$RK_NORMAL_SOCK"; do
        run env LD_DEBUG=files rspamkit-scan -h "$h" "$M/ham.eml"
        [ "$status" -eq 0 ]
        grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
        grep -q 'file=libjansson' <<<"$output"     # LD_DEBUG works
        ! grep -q 'file=libcurl' <<<"$output"
    done
    # the same, with HTTPCrypt, zstd and failover on
    run env LD_DEBUG=files rspamkit-scan -h "127.0.0.1:$(closed_port),$NORMAL" --key "$RK_PUBKEY" -z "$M/ham.eml"
    [ "$status" -eq 0 ]
    ! grep -q 'file=libcurl' <<<"$output"
}

@test "budget: libsodium and libzstd are loaded only for --key, -z and password hashes" {
    for h in "$NORMAL" "$RK_NORMAL_SOCK"; do
        run env LD_DEBUG=files rspamkit-scan -h "$h" "$M/ham.eml"
        [ "$status" -eq 0 ]
        grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
        grep -q 'file=libjansson' <<<"$output"     # LD_DEBUG works
        ! grep -q 'file=libsodium' <<<"$output"
        ! grep -q 'file=libzstd' <<<"$output"
    done
    # the same check sees each library when its feature is used, and only then
    run env LD_DEBUG=files rspamkit-scan -h "$NORMAL" --key "$RK_PUBKEY" "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
    grep -q 'file=libsodium' <<<"$output"
    ! grep -q 'file=libzstd' <<<"$output"
    run env LD_DEBUG=files rspamkit-scan -h "$NORMAL" -z "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
    grep -q 'file=libzstd' <<<"$output"
    ! grep -q 'file=libsodium' <<<"$output"
    SECRET=s3cret run env LD_DEBUG=files rspamkit-pw --type pbkdf2 --password-env SECRET
    [ "$status" -eq 0 ]
    grep -q 'file=libsodium' <<<"$output"
}

@test "budget: an https:// server loads libcurl (the same check sees it)" {
    run env LD_DEBUG=files rspamkit-scan -h "https://127.0.0.1:$(closed_port)" --connect-timeout 1 "$M/ham.eml"
    [ "$status" -eq 69 ]
    grep -q 'file=libcurl.so.4' <<<"$output"
    # ... but only when it is contacted: a working plain server first means no libcurl
    run env LD_DEBUG=files rspamkit-scan -h "$NORMAL,https://127.0.0.1:1" "$M/ham.eml"
    [ "$status" -eq 0 ]
    ! grep -q 'file=libcurl' <<<"$output"
}

@test "https:// without a usable libcurl: a clear error, and the next server is used" {
    command -v cc >/dev/null || skip "no C compiler"
    mkdir "$M/lib"
    echo 'int rspamkit_not_curl;' | cc -shared -fPIC -x c -o "$M/lib/libcurl.so.4" -
    LD_LIBRARY_PATH="$M/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" run rspamkit-scan -h "https://127.0.0.1:1" "$M/ham.eml"
    [ "$status" -eq 69 ]
    [[ $output == *"libcurl.so.4 is too old for https://"* ]]
    LD_LIBRARY_PATH="$M/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" run rspamkit-scan -h "https://127.0.0.1:1,$NORMAL" "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
}

@test "budget: /proc/PID/maps of a waiting scan: no libcurl, no libmagic for a mail file" {
    start_fake S stall
    maps=$(maps_during --after S -h "127.0.0.1:$S" -t 5 "$M/ham.eml")
    grep -q 'librspamkit' <<<"$maps"
    ! grep -q 'libcurl' <<<"$maps"
    ! grep -q 'libmagic' <<<"$maps"
    maps=$(maps_during -h "$RK_NORMAL_SOCK,127.0.0.1:$S" -t 5 "$M/ham.eml" "$M/spam.eml" - </dev/null)
    ! grep -q 'libcurl' <<<"$maps"
}

@test "budget: libmagic is mapped only when an input has to be sniffed" {
    start_fake S stall
    printf 'hello, this file does not start like a mail header\n' >"$M/odd.txt"
    maps=$(maps_during --after S -h "127.0.0.1:$S" -t 5 "$M/odd.txt")
    grep -q 'libmagic' <<<"$maps"
    maps=$(maps_during --after S -h "127.0.0.1:$S" -t 5 "$M/ham.eml")
    ! grep -q 'libmagic' <<<"$maps"
}

# ------------------------------------------------------------------- zstd

@test "-z: the body goes compressed with Compression: zstd, the reply comes back compressed and is decoded" {
    start_proxy P pass "$RK_HOST" "$RK_NORMAL_PORT"
    run rspamkit-scan -h "127.0.0.1:$P" -z -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -r .action <<<"$output")" = "$(ref .action "$M/spam.eml")" ]
    req="$BATS_TEST_TMPDIR/P.port.req.1"
    grep -qa $'^Compression: zstd\r$' "$req"
    ! grep -qaF "$(grep -m1 '^Subject:' "$M/spam.eml")" "$req"
    # the body is one zstd frame that decodes to the message
    python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d[d.index(b"\r\n\r\n")+4:])' "$req" >"$M/body.zst"
    zstd -dqc "$M/body.zst" | cmp - "$M/spam.eml"
    grep -qa $'^Compression: zstd\r$' "$BATS_TEST_TMPDIR/P.port.resp.1"
}

@test "-z gives the same result as a plain scan, over TCP and the UNIX socket" {
    run rspamkit-scan -h "$NORMAL" -j "$M/spam.eml"
    plain=$(jq -c '[.action, .score, (.symbols | keys)]' <<<"$output")
    for h in "$NORMAL" "$RK_NORMAL_SOCK"; do
        run rspamkit-scan -h "$h" -z -j "$M/spam.eml"
        [ "$status" -eq 0 ]
        [ "$(jq -c '[.action, .score, (.symbols | keys)]' <<<"$output")" = "$plain" ]
    done
    # NUL bytes and CRLF survive the round trip
    printf 'From: a@example.org\r\nSubject: nul\r\n\r\nx\0y\r\n' >"$M/nul.eml"
    run rspamkit-scan -h "$NORMAL" -z "$M/nul.eml"
    [ "$status" -eq 0 ]
}

@test "a compressed reply is decoded even without -z; a dictionary is refused" {
    printf '{"is_skipped":false,"score":1.5,"required_score":15.0,"action":"no action","symbols":{},"messages":{}}' |
        zstd -qc >"$M/reply.zst"
    { printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCompression: zstd\r\nContent-Length: %d\r\n\r\n' \
        "$(stat -c %s "$M/reply.zst")"; cat "$M/reply.zst"; } >"$M/reply"
    start_fake F raw "$M/reply"
    run rspamkit-scan -h "127.0.0.1:$F" -j "$M/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -r .score <<<"$output")" = 1.5 ]
    sed 's/^Compression: zstd/Dictionary: 4294967295\r\nCompression: zstd/' "$M/reply" >"$M/reply2"
    start_fake G raw "$M/reply2"
    run rspamkit-scan -h "127.0.0.1:$G" "$M/ham.eml"
    [ "$status" -eq 76 ]
    [[ $output == *"zstd dictionary"* ]]
    run rspamkit-scan -h "$NORMAL" -D /dev/null "$M/ham.eml"
    [ "$status" -eq 64 ]
    [[ $output == *"dictionaries are not supported"* ]]
}

# --------------------------------------------------------------- failover

@test "failover: one of three servers down, every message of a directory is scanned" {
    mkdir "$M/dir"
    for i in $(seq 24); do sed "s/^Subject: .*/Subject: message $i/" "$M/ham.eml" >"$M/dir/$i.eml"; done
    down=$(closed_port)
    for hosts in "127.0.0.1:$down,$NORMAL,$RK_NORMAL_SOCK" "$NORMAL,127.0.0.1:$down,$RK_NORMAL_SOCK" \
                 "$NORMAL,$RK_NORMAL_SOCK,127.0.0.1:$down"; do
        run --separate-stderr rspamkit-scan -h "$hosts" -n 4 --compact "$M/dir"
        [ "$status" -eq 0 ]
        [ "$(grep -c '"action":"' <<<"$output")" -eq 24 ]  # every message has a verdict
    done
}

@test "failover: servers are tried in order; an HTTP error is final, not failed over" {
    start_fake A stall
    run rspamkit-scan -h "$NORMAL,127.0.0.1:$A" "$M/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(requests_of A)" -eq 0 ]
    start_fake H http500
    run rspamkit-scan -h "127.0.0.1:$H,$NORMAL" "$M/ham.eml"
    [ "$status" -eq 75 ]
    [[ $output == *"HTTP error: 500"* ]]
}

@test "failover: all servers down, the error names each server and phase" {
    a=$(closed_port); b=$(closed_port)
    run rspamkit-scan -h "127.0.0.1:$a,127.0.0.1:$b,/nonexistent/rspamd.sock" "$M/ham.eml"
    [ "$status" -eq 69 ]
    [[ $output == *"cannot connect to /nonexistent/rspamd.sock: No such file or directory"* ]]
    [[ $output == *"also failed: 127.0.0.1:$a (connect), 127.0.0.1:$b (connect)"* ]]
    [ "${#lines[@]}" -eq 1 ]
    run rspamkit-scan -h "no-such-host.invalid,127.0.0.1:$a" "$M/ham.eml"
    [ "$status" -eq 69 ]
    [[ $output == *"also failed: no-such-host.invalid:11333 (resolve)"* ]]
}

@test "timeouts: connect timeout and I/O timeout are separate, and both fail over" {
    start_proxy B blackhole
    start_fake S stall
    SECONDS=0
    run rspamkit-scan -h "127.0.0.1:$B" --connect-timeout 0.5 -t 30 "$M/ham.eml"
    [ "$status" -eq 75 ]
    [[ $output == *"cannot connect to 127.0.0.1:$B: connect timed out after 0.5 s"* ]]
    run rspamkit-scan -h "127.0.0.1:$S" --connect-timeout 30 -t 0.5 "$M/ham.eml"
    [ "$status" -eq 75 ]
    [[ $output == *"timed out waiting for a reply from 127.0.0.1:$S after 0.5 s"* ]]
    [ "$SECONDS" -lt 5 ]
    run rspamkit-scan -h "127.0.0.1:$B,127.0.0.1:$S,$NORMAL" --connect-timeout 0.5 -t 0.5 "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
}

@test "--random-host spreads the messages over the servers" {
    printf '{"is_skipped":false,"score":0.0,"required_score":15.0,"action":"no action","symbols":{},"messages":{}}' >"$M/r.json"
    start_fake A json "$M/r.json"
    start_fake B json "$M/r.json"
    mkdir "$M/dir"
    for i in $(seq 30); do cp "$M/ham.eml" "$M/dir/$i.eml"; done
    run rspamkit-scan -h "127.0.0.1:$A,127.0.0.1:$B" -n 2 "$M/dir"
    [ "$status" -eq 0 ]
    [ "$(requests_of A)" -eq 30 ] && [ "$(requests_of B)" -eq 0 ]
    rm -f "$BATS_TEST_TMPDIR"/[AB].port.req.*
    run rspamkit-scan -h "127.0.0.1:$A,127.0.0.1:$B" --random-host -n 2 "$M/dir"
    [ "$status" -eq 0 ]
    [ "$(requests_of A)" -gt 3 ] && [ "$(requests_of B)" -gt 3 ]
    [ $(( $(requests_of A) + $(requests_of B) )) -eq 30 ]
}

@test "--retries: a server that comes up during the backoff is reached" {
    start_proxy L late "$RK_HOST" "$RK_NORMAL_PORT" 1.0
    run rspamkit-scan -h "127.0.0.1:$L" "$M/ham.eml"
    [ "$status" -eq 69 ]
    run rspamkit-scan -h "127.0.0.1:$L" --retries 4 --retry-delay 0.3 "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
}

@test "retries from the config file; --retries wins over it" {
    export RSPAMKIT_SYSCONFIG=/nonexistent RSPAMKIT_CONFIG="$BATS_TEST_TMPDIR/config"
    printf 'retries = 2;\n' >"$RSPAMKIT_CONFIG"
    a=$(closed_port)
    run rspamkit-scan -h "127.0.0.1:$a" --retry-delay 0.1 "$M/ham.eml"
    [ "$status" -eq 69 ]
    [[ $output == *"(after 2 retries)"* ]]
    run rspamkit-scan -h "127.0.0.1:$a" --retries 0 "$M/ham.eml"
    [ "$status" -eq 69 ]
    [[ $output != *"retries"* ]]
}

@test "--retries: backoff doubles, and the error counts the retries" {
    a=$(closed_port)
    SECONDS=0
    start=$(date +%s.%N)
    run rspamkit-scan -h "127.0.0.1:$a" --retries 2 --retry-delay 0.4 "$M/ham.eml"
    took=$(echo "$(date +%s.%N) - $start" | bc)
    [ "$status" -eq 69 ]
    [[ $output == *"(after 2 retries)"* ]]
    # 0.4 + 0.8 s, each with +-25% jitter
    [ "$(echo "$took >= 0.9 && $took < 3" | bc)" -eq 1 ]
    run rspamkit-scan -h "$NORMAL" --retries -1 "$M/ham.eml"
    [ "$status" -eq 64 ]
}

@test "--dead-time: a server that failed is skipped by the next processes, then tried again" {
    start_fake S stall
    run rspamkit-scan -h "127.0.0.1:$S,$NORMAL" -t 0.5 --dead-time 60 "$M/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(requests_of S)" -eq 1 ]
    grep -q " 127.0.0.1:$S\$" "$RSPAMKIT_STATE_DIR/dead-hosts"
    [ "$(stat -c %a "$RSPAMKIT_STATE_DIR/dead-hosts")" = 600 ]
    for i in 1 2 3; do
        run rspamkit-scan -h "127.0.0.1:$S,$NORMAL" -t 0.5 --dead-time 60 "$M/ham.eml"
        [ "$status" -eq 0 ]
    done
    [ "$(requests_of S)" -eq 1 ]
    # without --dead-time the memory is not used
    run rspamkit-scan -h "127.0.0.1:$S,$NORMAL" -t 0.5 "$M/ham.eml"
    [ "$(requests_of S)" -eq 2 ]
    # a short dead time: skipped while it lasts, tried again once it expired
    export RSPAMKIT_STATE_DIR="$BATS_TEST_TMPDIR/state2"
    run rspamkit-scan -h "127.0.0.1:$S,$NORMAL" -t 0.5 --dead-time 1.5 "$M/ham.eml"
    [ "$(requests_of S)" -eq 3 ]
    run rspamkit-scan -h "127.0.0.1:$S,$NORMAL" -t 0.5 --dead-time 1.5 "$M/ham.eml"
    [ "$(requests_of S)" -eq 3 ]
    sleep 1.5
    run rspamkit-scan -h "127.0.0.1:$S,$NORMAL" -t 0.5 --dead-time 1.5 "$M/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(requests_of S)" -eq 4 ]
}

@test "--dead-time: a dead server that answers again is forgotten; all dead are still tried" {
    a=$(closed_port)
    run rspamkit-scan -h "127.0.0.1:$a" --dead-time 60 "$M/ham.eml"
    [ "$status" -eq 69 ]
    grep -q " 127.0.0.1:$a\$" "$RSPAMKIT_STATE_DIR/dead-hosts"
    # every server dead: still tried, and the one that works is taken off the list
    run rspamkit-scan -h "$NORMAL" --dead-time 60 "$M/ham.eml"
    [ "$status" -eq 0 ]
    printf '%s %s\n' "$(( $(date +%s) + 60 ))" "$NORMAL" >>"$RSPAMKIT_STATE_DIR/dead-hosts"
    run rspamkit-scan -h "$NORMAL" --dead-time 60 "$M/ham.eml"
    [ "$status" -eq 0 ]
    ! grep -q " $NORMAL\$" "$RSPAMKIT_STATE_DIR/dead-hosts"
    grep -q " 127.0.0.1:$a\$" "$RSPAMKIT_STATE_DIR/dead-hosts"
}

@test "LDA: all servers down, the failure policy applies (delivered unscanned, or 75 with --tempfail)" {
    a=$(closed_port); b=$(closed_port)
    run --separate-stderr rspamkit-scan --mime -h "127.0.0.1:$a,127.0.0.1:$b,/nonexistent.sock" --retries 1 \
        --retry-delay 0.1 "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -q '^X-Spam-Error: ' <<<"$output"
    grep -qF "$(grep -m1 '^Subject:' "$M/ham.eml")" <<<"$output"
    run --separate-stderr rspamkit-scan --mime --tempfail -h "127.0.0.1:$a,127.0.0.1:$b" "$M/ham.eml"
    [ "$status" -eq 75 ]
    [ -z "$output" ]
    # one of three down: scanned normally
    run --separate-stderr rspamkit-scan --mime -h "127.0.0.1:$a,$NORMAL,127.0.0.1:$b" "$M/spam.eml"
    [ "$status" -eq 0 ]
    grep -q '^X-Spam: yes' <<<"$output"
    ! grep -q '^X-Spam-Error' <<<"$output"
}

# ------------------------------------------------------------ --local-file

@test "--local-file: the server reads the file itself, no body is sent" {
    f=$(readable_copy "$M/spam.eml")
    run rspamkit-scan -h "$NORMAL" -j "$f"
    plain=$(jq -c '[.action, .score, (.symbols | keys)]' <<<"$output")
    start_proxy P pass "$RK_HOST" "$RK_NORMAL_PORT"
    run rspamkit-scan -h "127.0.0.1:$P" --local-file -j "$f"
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.action, .score, (.symbols | keys)]' <<<"$output")" = "$plain" ]
    [ "$(requests_of P)" -eq 1 ]
    grep -qa "^File: $f"$'\r$' "$BATS_TEST_TMPDIR/P.port.req.1"
    grep -qa $'^Content-Length: 0\r$' "$BATS_TEST_TMPDIR/P.port.req.1"
    ! grep -qaF "$(grep -m1 '^Subject:' "$f")" "$BATS_TEST_TMPDIR/P.port.req.1"
    # over the UNIX socket and inside HTTPCrypt too
    run rspamkit-scan -h "$RK_NORMAL_SOCK" --local-file --key "$RK_PUBKEY" -j "$f"
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.action, .score, (.symbols | keys)]' <<<"$output")" = "$plain" ]
    rm -rf "$(dirname "$f")"
}

@test "--local-file: a file the server cannot read falls back to sending the body" {
    d=$(mktemp -d /tmp/rk-private.XXXXXX)
    chmod 700 "$d"
    cp "$M/spam.eml" "$d/"
    start_proxy P pass "$RK_HOST" "$RK_NORMAL_PORT"
    run rspamkit-scan -h "127.0.0.1:$P" --local-file -j "$d/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -r .action <<<"$output")" = "$(ref .action "$M/spam.eml")" ]
    [ "$(requests_of P)" -eq 2 ]
    grep -qa "^File: " "$BATS_TEST_TMPDIR/P.port.req.1"
    head -1 "$BATS_TEST_TMPDIR/P.port.resp.1" | grep -q '^HTTP/1.1 5'
    ! grep -qa "^File: " "$BATS_TEST_TMPDIR/P.port.req.2"
    grep -qaF "$(grep -m1 '^Subject:' "$M/spam.eml")" "$BATS_TEST_TMPDIR/P.port.req.2"
    rm -rf "$d"
}

@test "--local-file: stdin and mbox parts go as bodies" {
    start_proxy P pass "$RK_HOST" "$RK_NORMAL_PORT"
    run bash -c "rspamkit-scan -h 127.0.0.1:$P --local-file < '$M/ham.eml'"
    [ "$status" -eq 0 ]
    ! grep -qa "^File: " "$BATS_TEST_TMPDIR/P.port.req.1"
    { echo "From a@b Thu Jan  1 00:00:00 2026"; cat "$M/ham.eml"; echo; echo "From c@d Thu Jan  1 00:00:00 2026"; cat "$M/spam.eml"; } >"$M/two.mbox"
    run rspamkit-scan -h "127.0.0.1:$P" --local-file "$M/two.mbox"
    [ "$status" -eq 0 ]
    ! grep -qa "^File: " "$BATS_TEST_TMPDIR"/P.port.req.*
}
