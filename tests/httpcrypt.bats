#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# HTTPCrypt (--key) against the private Rspamd, whose normal worker and
# controller share the keypair whose public key is $RK_PUBKEY.

bats_require_minimum_version 1.5.0
load helpers
load transport_helpers

# A valid curve25519 key that is not the server's (spec/httpcrypt-kat.json).
OTHER_KEY=a9dcsjz377rpt4zk5u1uq76a13tbafmzobfgshqxikts3x94m89y

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
}
teardown() {
    stop_fake
    stop_proxies
}

encrypted_replies() { grep -c 'writing encrypted reply' "$RK_RSPAMD_LOG" || true; }
# wait until the server has logged more encrypted replies than $1
more_encrypted() {
    for _ in $(seq 30); do [ "$(encrypted_replies)" -gt "$1" ] && return 0; sleep 0.1; done
    return 1
}

@test "--key: a scan on the normal worker goes through HTTPCrypt and gives the plain result" {
    run rspamkit-scan -h "$NORMAL" -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    plain=$(jq -c '[.action, .score, (.symbols | keys)]' <<<"$output")
    before=$(encrypted_replies)
    run rspamkit-scan -h "$NORMAL" --key "$RK_PUBKEY" -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.action, .score, (.symbols | keys)]' <<<"$output")" = "$plain" ]
    more_encrypted "$before"
}

@test "--key over the UNIX socket, and from RSPAMKIT_KEY" {
    before=$(encrypted_replies)
    run rspamkit-scan -h "$RK_NORMAL_SOCK" --key "$RK_PUBKEY" "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
    more_encrypted "$before"
    before=$(encrypted_replies)
    RSPAMKIT_KEY=$RK_PUBKEY run rspamkit-scan -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 0 ]
    more_encrypted "$before"
}

@test "--key on the controller: the password travels inside the envelope" {
    # (the controller does not log encrypted replies: the next test looks at the wire)
    run rspamkit-scan -h "$CONTROLLER" --key "$RK_PUBKEY" -P "$RK_PASSWORD" -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -r .action <<<"$output")" = "$(ref .action "$M/spam.eml")" ]
    run rspamkit-scan -h "$CONTROLLER" --key "$RK_PUBKEY" -P wrong-password "$M/spam.eml"
    [ "$status" -eq 77 ]
    [[ $output == *"authentication refused by $CONTROLLER"* ]]
}

@test "the wire carries only the envelope: no message, header or password in clear" {
    start_proxy P pass "$RK_HOST" "$RK_CONTROLLER_PORT"
    run rspamkit-scan -h "127.0.0.1:$P" --key "$RK_PUBKEY" -P "$RK_PASSWORD" \
        --from sender@example.org "$M/spam.eml"
    [ "$status" -eq 0 ]
    req="$BATS_TEST_TMPDIR/P.port.req.1"
    head -c 200 "$req" | grep -q '^POST /post HTTP/1\.[01]'
    grep -qa "^Content-Type: application/octet-stream" "$req"
    grep -qaE "^Key: [a-z0-9]{8}=[a-z0-9]{52}"$'\r'"?$" "$req"
    ! grep -qa "$RK_PASSWORD" "$req"
    ! grep -qa "sender@example.org" "$req"
    ! grep -qaF "$(grep -m1 '^Subject:' "$M/spam.eml")" "$req"
    ! grep -qa "checkv2" "$req"
    # the reply is encrypted too: outer 200 octet-stream
    head -1 "$BATS_TEST_TMPDIR/P.port.resp.1" | grep -q '^HTTP/1.1 200'
    grep -qai '^Content-Type: application/octet-stream' "$BATS_TEST_TMPDIR/P.port.resp.1"
}

@test "a wrong key on the normal worker: a clear error that suggests the key" {
    run rspamkit-scan -h "$NORMAL" --key "$OTHER_KEY" "$M/ham.eml"
    [ "$status" -eq 76 ]
    [[ $output == *"without a reply to the HTTPCrypt request"* ]]
    [[ $output == *"check that --key is the public key"* ]]
    [[ $output == *"$RK_HOST:$RK_NORMAL_PORT"* ]]
    [ "${#lines[@]}" -eq 1 ]
}

@test "a wrong key on the controller (plain 500): a clear error that suggests the key" {
    run rspamkit-scan -h "$CONTROLLER" --key "$OTHER_KEY" -P "$RK_PASSWORD" "$M/ham.eml"
    [ "$status" -eq 76 ]
    [[ $output == *"did not accept the HTTPCrypt request (plain reply HTTP 500"* ]]
    [[ $output == *"--key"* ]]
}

@test "a server without a keypair (plain reply) is an HTTPCrypt error, not a result" {
    fake_server http500
    run --separate-stderr rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --key "$RK_PUBKEY" -j "$M/ham.eml"
    [ "$status" -eq 76 ]
    [[ $(jq -r .error <<<"$output") == *"did not accept the HTTPCrypt request"* ]]
    [ "$(jq -r .action <<<"$output")" = null ]
}

@test "a reply that fails authentication is an error and none of it is used" {
    start_proxy P flip "$RK_HOST" "$RK_NORMAL_PORT"
    run rspamkit-scan -h "127.0.0.1:$P" --key "$RK_PUBKEY" --compact "$M/spam.eml"
    [ "$status" -eq 76 ]
    # the server did answer, with an encrypted 200
    head -1 "$BATS_TEST_TMPDIR/P.port.resp.1" | grep -q '^HTTP/1.1 200'
    [[ $output == *"failed HTTPCrypt authentication and was discarded"* ]]
    # stdout: only the error value, no action, score or symbols
    run --separate-stderr rspamkit-scan -h "127.0.0.1:$P" --key "$RK_PUBKEY" --compact "$M/spam.eml"
    [ "$status" -eq 76 ]
    [ "$(jq -c 'keys' <<<"$output")" = '["error","filename"]' ]
}

@test "an encrypted reply of garbage from a fake server is refused" {
    printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 72\r\n\r\n' >"$M/reply"
    head -c 72 /dev/urandom >>"$M/reply"
    fake_server raw "$M/reply"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --key "$RK_PUBKEY" "$M/ham.eml"
    [ "$status" -eq 76 ]
    [[ $output == *"failed HTTPCrypt authentication"* ]]
    printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n0123456789' >"$M/short"
    stop_fake
    fake_server raw "$M/short"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --key "$RK_PUBKEY" "$M/ham.eml"
    [ "$status" -eq 76 ]
}

@test "key syntax: the id instead of the pubkey, a short key, bad characters" {
    run rspamkit-scan -h "$NORMAL" --key 1escm5obkfq4pa5o481yyi1sppew5mx9zqczi7z39yaxqomrmkhchfybqs7kftoaroyexk3zns4ofequu17j4ndmtf18zi4otb1ki3n "$M/ham.eml"
    [ "$status" -eq 64 ]
    [[ $output == *"looks like the keypair's id, not its pubkey"* ]]
    run rspamkit-scan -h "$NORMAL" --key "${RK_PUBKEY:0:40}" "$M/ham.eml"
    [ "$status" -eq 64 ]
    [[ $output == *"52-character pubkey"* ]]
    run rspamkit-scan -h "$NORMAL" --key "${RK_PUBKEY^^}" "$M/ham.eml"
    [ "$status" -eq 64 ]
}

@test "--key with -z: compressed inside the envelope, same result" {
    run rspamkit-scan -h "$NORMAL" -j "$M/spam.eml"
    plain=$(jq -c '[.action, .score]' <<<"$output")
    before=$(encrypted_replies)
    run rspamkit-scan -h "$NORMAL" --key "$RK_PUBKEY" -z -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.action, .score]' <<<"$output")" = "$plain" ]
    more_encrypted "$before"
}

@test "--key: a 3 MB message and many messages in flight" {
    { cat "$M/ham.eml"; for i in $(seq 30000); do echo "line $i of a long body, padding padding padding padding padding"; done; } >"$M/big.eml"
    run rspamkit-scan -h "$NORMAL" --key "$RK_PUBKEY" -t 30 "$M/big.eml"
    [ "$status" -eq 0 ]
    grep -q '^Action:' <<<"$output"
    mkdir "$M/dir"
    for i in $(seq 40); do sed "s/^Subject: .*/Subject: message $i/" "$M/ham.eml" >"$M/dir/$i.eml"; done
    run rspamkit-scan -h "$NORMAL" --key "$RK_PUBKEY" -n 8 --compact "$M/dir"
    [ "$status" -eq 0 ]
    [ "$(grep -c '"action"' <<<"$output")" -eq 40 ]
}

@test "--key: a 20 MB message is encrypted while it is sent, with no copy of it" {
    { cat "$M/ham.eml"; head -c 15000000 /dev/urandom | base64 -w 76; } >"$M/20m.eml"
    size=$(stat -c %s "$M/20m.eml")
    for opt in "" "--mime --exec cat"; do
        # shellcheck disable=SC2086
        run --separate-stderr /usr/bin/time -f 'maxrss=%M' rspamkit-scan -t 60 -h "$NORMAL" --key "$RK_PUBKEY" $opt "$M/20m.eml"
        [ "$status" -eq 0 ]
        rss_kb=$(grep -o 'maxrss=[0-9]*' <<<"$stderr" | cut -d= -f2)
        echo "# --key $opt: size $size, peak RSS ${rss_kb} kB" >&3
        # AddressSanitizer's shadow memory makes RSS meaningless in that build
        [ -n "${RK_SANITIZERS:-}" ] || [ "$rss_kb" -le $((size * 12 / 10 / 1024 + 4096)) ]
    done
    [ "$(tail -c 200 <<<"$output" | tail -1)" = "$(tail -1 "$M/20m.eml")" ]
}

# ------------------------------------------- the controller tools over HTTPCrypt

# variant FILE: a copy with a fresh Message-ID and one more line, unknown to
# the learn cache and the fuzzy storage
variant() {
    local tag f
    tag=$(date +%s%N)-$RANDOM
    f=$BATS_TEST_TMPDIR/$(basename "$1" .eml)-$tag.eml
    sed "s/^Message-ID: <\([^@]*\)@/Message-ID: <\1-$tag@/" "$1" >"$f"
    echo "Reference code $tag, keep it for your records please." >>"$f"
    echo "$f"
}

@test "learn over HTTPCrypt: learned, then already learned; nothing in clear on the wire" {
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    m=$(variant "$SRC/tests/server/msgs/spam1.eml")
    start_proxy P pass "$RK_HOST" "$RK_CONTROLLER_PORT"
    run rspamkit-learn -h "127.0.0.1:$P" --key "$RK_PUBKEY" --spam "$m"
    [ "$status" -eq 0 ]
    [ "$output" = "$m: learned as spam" ]
    req="$BATS_TEST_TMPDIR/P.port.req.1"
    head -1 "$req" | grep -q '^POST /post '
    ! grep -qa -e learnspam -e "$RK_PASSWORD" -e "Reference code" "$req"
    run rspamkit-learn -h "$CONTROLLER" --key "$RK_PUBKEY" --spam "$m"
    [ "$status" -eq 0 ]
    [[ $output == "$m: already learned"* ]]
    run rspamkit-learn -h "$CONTROLLER" --key "$OTHER_KEY" --spam "$m"
    [ "$status" -eq 76 ]
    [[ $output == *"--key"* ]]
}

@test "fuzzy add and del over HTTPCrypt change what the next scan shows" {
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    m=$(variant "$SRC/tests/server/msgs/fuzzy1.eml")
    shows() {
        for _ in $(seq 30); do
            if rspamkit-scan -h "$NORMAL" --key "$RK_PUBKEY" "$1" | grep -q "^Symbol: $2 "; then
                [ "$3" = yes ] && return 0
            else
                [ "$3" = no ] && return 0
            fi
            sleep 0.2
        done
        return 1
    }
    run rspamkit-fuzzy -h "$CONTROLLER" --key "$RK_PUBKEY" -f 1 add "$m"
    [ "$status" -eq 0 ]
    [ "$output" = "$m: added (1 hash)" ]
    shows "$m" FUZZY_DENIED yes
    run rspamkit-fuzzy -h "$CONTROLLER" --key "$RK_PUBKEY" -f 1 del "$m"
    [ "$status" -eq 0 ]
    shows "$m" FUZZY_DENIED no
}

@test "stat, counters and uptime over HTTPCrypt" {
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    run rspamkit-ctl -h "$CONTROLLER" --key "$RK_PUBKEY" stat
    [ "$status" -eq 0 ]
    grep -q '^Messages scanned: ' <<<"$output"
    run rspamkit-ctl -h "$CONTROLLER" --key "$RK_PUBKEY" -j counters
    [ "$status" -eq 0 ]
    jq -e 'length > 0' <<<"$output" >/dev/null
    run rspamkit-ctl -h "$CONTROLLER" --key "$RK_PUBKEY" uptime
    [ "$status" -eq 0 ]
    grep -qx "Rspamd version: $(server_version)" <<<"$output"
    run rspamkit-ctl -h "$CONTROLLER" --key "$OTHER_KEY" stat
    [ "$status" -eq 76 ]
    [[ $output == *"did not accept the HTTPCrypt request"* ]]
    RSPAMKIT_KEY=$RK_PUBKEY run rspamkit-ctl -h "$CONTROLLER" -P wrong stat
    [ "$status" -eq 77 ]
}

@test "the key from the config file; RSPAMKIT_KEY and --key win over it" {
    export RSPAMKIT_SYSCONFIG=/nonexistent RSPAMKIT_CONFIG="$BATS_TEST_TMPDIR/config"
    printf 'key = "%s";\n' "$RK_PUBKEY" >"$RSPAMKIT_CONFIG"
    before=$(encrypted_replies)
    run rspamkit-scan -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 0 ]
    more_encrypted "$before"
    printf 'key = "%s";\n' "$OTHER_KEY" >"$RSPAMKIT_CONFIG"
    run rspamkit-scan -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 76 ]
    RSPAMKIT_KEY=$RK_PUBKEY run rspamkit-scan -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 0 ]
    run rspamkit-scan -h "$NORMAL" --key "$RK_PUBKEY" "$M/ham.eml"
    [ "$status" -eq 0 ]
    printf 'key = 12;\n' >"$RSPAMKIT_CONFIG"
    run rspamkit-scan -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 64 ]
}
