#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# rspamkit-fuzzy against the private Rspamd (fuzzy storage on redis, sync 1 s).

load helpers
bats_require_minimum_version 1.5.0

# Fuzzy hashes match similar texts: start from an empty storage, so that
# hashes left by earlier runs on a reused server cannot match our variants.
setup_file() {
    "$SRC/tests/server/reset" "$RK_TEST_DIR"
}
teardown_file() {
    "$SRC/tests/server/reset" "$RK_TEST_DIR"
}

setup() {
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    T=$BATS_TEST_TMPDIR
    FZ=$SRC/tests/server/msgs/fuzzy1.eml
}
teardown() { stop_fake; }

# A copy of fuzzy1.eml with new text, so its hashes are not in the storage.
variant() {
    local tag f
    tag=$(date +%s%N)-$RANDOM
    f=$T/fuzzy-$tag.eml
    sed "s/^Message-ID: <\([^@]*\)@/Message-ID: <\1-$tag@/" "$FZ" > "$f"
    echo "Order reference $tag, keep it for your records please." >> "$f"
    echo "$f"
}

# shows FILE SYMBOL yes|no: wait up to 6 s for the next scans of FILE to
# show (or not show) SYMBOL; the storage applies updates once a second.
shows() {
    for _ in $(seq 30); do
        if rspamkit-scan -h "$NORMAL" "$1" | grep -q "^Symbol: $2 "; then
            [ "$3" = yes ] && return 0
        else
            [ "$3" = no ] && return 0
        fi
        sleep 0.2
    done
    return 1
}

@test "add makes the next scan show FUZZY_DENIED; del removes it" {
    m=$(variant)
    shows "$m" FUZZY_DENIED no
    run rspamkit-fuzzy -h "$CONTROLLER" -f 1 add "$m"
    [ "$status" -eq 0 ]
    [ "$output" = "$m: added (1 hash)" ]
    shows "$m" FUZZY_DENIED yes
    run rspamkit-fuzzy -h "$CONTROLLER" -f 1 del "$m"
    [ "$status" -eq 0 ]
    [ "$output" = "$m: deleted (1 hash)" ]
    shows "$m" FUZZY_DENIED no
}

@test "-S chooses the list by symbol, -w the weight" {
    m=$(variant)
    run rspamkit-fuzzy -h "$CONTROLLER" -S FUZZY_PROB -w 5 add "$m"
    [ "$status" -eq 0 ]
    shows "$m" FUZZY_PROB yes
    rspamkit-fuzzy -q -h "$CONTROLLER" -S FUZZY_PROB del "$m"
    shows "$m" FUZZY_PROB no
}

@test "delhash deletes by the hash that add printed (also from stdin)" {
    m=$(variant)
    h=$(rspamkit-fuzzy -j -h "$CONTROLLER" -f 1 add "$m" | jq -r '.hashes[0]')
    [[ $h =~ ^[0-9a-f]{128}$ ]]
    shows "$m" FUZZY_DENIED yes
    run rspamkit-fuzzy -h "$CONTROLLER" -f 1 delhash "$h"
    [ "$status" -eq 0 ]
    [ "$output" = "$h: deleted" ]
    shows "$m" FUZZY_DENIED no
    rspamkit-fuzzy -q -h "$CONTROLLER" -f 1 add "$m"
    shows "$m" FUZZY_DENIED yes
    run bash -c "echo $h | rspamkit-fuzzy -j -h $CONTROLLER -f 1 delhash -"
    [ "$status" -eq 0 ]
    [ "$(jq -r .outcome <<<"$output")" = deleted ]
    shows "$m" FUZZY_DENIED no
}

@test "--json: one value per input with the hashes; -v prints them in text" {
    a=$(variant)
    run --separate-stderr rspamkit-fuzzy -j -h "$CONTROLLER" -f 1 add "$a" "$T/missing.eml"
    [ "$status" -eq 3 ]
    [ "${#lines[@]}" -eq 2 ]
    [ "$(jq -r .outcome <<<"${lines[0]}")" = added ]
    [ "$(jq -r '.hashes | length' <<<"${lines[0]}")" -eq 1 ]
    [ "$(jq -r .outcome <<<"${lines[1]}")" = failed ]
    run rspamkit-fuzzy -v -h "$CONTROLLER" -f 1 del "$a"
    [ "$status" -eq 0 ]
    [[ ${lines[1]} =~ ^\ \ [0-9a-f]{128}$ ]]
}

@test "no flag and no symbol: refused before sending (64); a bad hash too" {
    run rspamkit-fuzzy -h "$RK_HOST:$(closed_port)" add "$FZ"
    [ "$status" -eq 64 ]
    [[ $output == *"-f FLAG or -S SYMBOL"* ]]
    run rspamkit-fuzzy -h "$RK_HOST:$(closed_port)" -f 1 delhash abc
    [ "$status" -eq 64 ]
    [[ $output == *"'abc' is not a fuzzy hash"* ]]
    run rspamkit-fuzzy -h "$CONTROLLER" -f 1
    [ "$status" -eq 64 ]
    run rspamkit-fuzzy -h "$CONTROLLER" -f 1 frobnicate "$FZ"
    [ "$status" -eq 64 ]
}

@test "an unknown flag is the server's error (76); nothing to hash is skipped (2)" {
    run rspamkit-fuzzy -h "$CONTROLLER" -f 9 add "$(variant)"
    [ "$status" -eq 76 ]
    [[ $output == *"HTTP error: 404, No fuzzy rules matched for flag 9" ]]
    printf 'From: a@example.com\nSubject: x\n\n' > "$T/empty-body.eml"
    run rspamkit-fuzzy -h "$CONTROLLER" -f 1 add "$T/empty-body.eml"
    [ "$status" -eq 2 ]
    [[ $output == *"skipped by the server: No content to generate fuzzy for flag 1" ]]
}

@test "a success without hashes stored nothing: skipped" {
    printf '{"success":true,"hashes":[]}' > "$T/r.json"
    fake_server json "$T/r.json"
    run rspamkit-fuzzy -h "127.0.0.1:$FAKE_PORT" -f 1 add "$FZ"
    [ "$status" -eq 2 ]
    [[ $output == *"skipped by the server: the server made no hashes of it" ]]
}

@test "the request headers: Flag, Weight, Symbol, Skip-Images, Skip-Attachments" {
    printf '{"success":true,"hashes":["00"]}' > "$T/r.json"
    fake_server json "$T/r.json"
    run rspamkit-fuzzy -h "127.0.0.1:$FAKE_PORT" -f 2 -w 7 -S FUZZY_PROB --skip-images \
        --skip-attachments add "$FZ"
    [ "$status" -eq 0 ]
    req=$BATS_TEST_TMPDIR/fake.port.req.1
    head -n 1 "$req" | grep -q '^POST /fuzzyadd HTTP'
    grep -q $'^Flag: 2\r$' "$req"
    grep -q $'^Weight: 7\r$' "$req"
    grep -q $'^Symbol: FUZZY_PROB\r$' "$req"
    grep -q $'^Skip-Images: true\r$' "$req"
    grep -q $'^Skip-Attachments: true\r$' "$req"
    grep -q "^Password: $RK_PASSWORD" "$req"
    run rspamkit-fuzzy -h "127.0.0.1:$FAKE_PORT" -f 2 -w 7 del "$FZ"
    req=$BATS_TEST_TMPDIR/fake.port.req.2
    head -n 1 "$req" | grep -q '^POST /fuzzydel HTTP'
    ! grep -q '^Weight:' "$req"
}

@test "a directory in bulk, with a summary" {
    mkdir -p "$T/d"
    for i in 1 2 3 4 5; do cp "$(variant)" "$T/d/$i.eml"; done
    run rspamkit-fuzzy -n 3 -h "$CONTROLLER" -f 3 add "$T/d"
    [ "$status" -eq 0 ]
    [ "$(grep -c ': added (1 hash)$' <<<"$output")" -eq 5 ]
    grep -q '^Summary: 5 added, 0 skipped by the server, 0 failed; 5 inputs' <<<"$output"
    run rspamkit-fuzzy -q -n 3 -h "$CONTROLLER" -f 3 del "$T/d"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "rspamc words through rspamkit: the same output as rspamc" {
    m=$(variant)
    for fmt in "" -j --compact --ucl; do
        run rspamkit -h "$CONTROLLER" -f 1 -w 3 $fmt fuzzy_add "$m"
        [ "$status" -eq 0 ]
        ours=$(strip_times <<<"$output")
        theirs=$(rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" -f 1 -w 3 $fmt fuzzy_add "$m" | strip_times)
        [ "$ours" = "$theirs" ]
        run rspamkit -h "$CONTROLLER" -f 1 $fmt fuzzy_del "$m"
        [ "$status" -eq 0 ]
        ours=$(strip_times <<<"$output")
        theirs=$(rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" -f 1 $fmt fuzzy_del "$m" | strip_times)
        [ "$ours" = "$theirs" ]
    done
    h=$(rspamkit-fuzzy -j -h "$CONTROLLER" -f 1 add "$m" | jq -r '.hashes[0]')
    run rspamkit -h "$CONTROLLER" -f 1 fuzzy_delhash "$h"
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Results for command: fuzzy_delhash ("*" seconds)" ]]
    ours=$(strip_times <<<"$output")
    theirs=$(rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" -f 1 fuzzy_delhash "$h" | strip_times)
    [ "$ours" = "$theirs" ]
}

@test "front door: rspamkit fuzzy add" {
    m=$(variant)
    run rspamkit fuzzy -h "$CONTROLLER" -f 1 add "$m"
    [ "$status" -eq 0 ]
    [ "$output" = "$m: added (1 hash)" ]
    rspamkit fuzzy -q -h "$CONTROLLER" -f 1 del "$m"
}

# ------------------------------------------------------------ --local-file

@test "--local-file is refused before anything is sent (64), also for the rspamc words" {
    m=$(variant)
    for cmd in "rspamkit-fuzzy -f 1 add" "rspamkit-fuzzy -f 1 del" "rspamkit-fuzzy -f 1 fuzzy_add" "rspamkit fuzzy_del -f 1"; do
        # a closed port: had anything been sent, this would be exit 69
        run --separate-stderr $cmd -h "127.0.0.1:$(closed_port)" --local-file "$m"
        [ "$status" -eq 64 ]
        [[ $stderr == *"--local-file is not supported for fuzzy hashes"* ]]
        [ -z "$output" ]
    done
}

# Why rspamkit-fuzzy refuses --local-file: Rspamd 3.4's controller refuses
# /fuzzyadd and /fuzzydel without a body, and with a body it ignores File and
# hashes the body.  /fuzzydel of hashes nobody added changes nothing.
@test "why --local-file is refused: the 3.4 controller ignores File for fuzzy and hashes the body" {
    [ "$RK_SERVER" = 3.4 ] || skip "what Rspamd 3.4's controller does with File (this is $RK_SERVER)"
    f=$(readable_copy "$(variant)")
    other=$(variant)
    of_file=$(rspamkit-fuzzy -h "$CONTROLLER" -f 1 -j del "$f" | jq -c .hashes)
    of_other=$(rspamkit-fuzzy -h "$CONTROLLER" -f 1 -j del "$other" | jq -c .hashes)
    [ "$(jq length <<<"$of_file")" -eq 1 ]
    [ "$of_file" != "$of_other" ]
    # File names a message the server can read; the body is another one
    run curl -sS -X POST -H "Password: $RK_PASSWORD" -H "Flag: 1" -H "File: $f" \
        --data-binary "@$other" "http://$CONTROLLER/fuzzydel"
    [ "$status" -eq 0 ]
    [ "$(jq -c .hashes <<<"$output")" = "$of_other" ]
    # File alone
    run curl -sS -i -X POST -H "Password: $RK_PASSWORD" -H "Flag: 1" -H "File: $f" \
        "http://$CONTROLLER/fuzzyadd"
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "HTTP/1.1 400 Empty body is not permitted"* ]]
    rm -rf "$(dirname "$f")"
}
