#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# LDA mode: rspamkit-scan --mime and --exec against the private Rspamd and the
# fake server. The "fault table" tests are the rows of FAULT TABLE in
# rspamkit-scan(1): every row ends with the message delivered exactly once, or
# with exit 75 and nothing delivered.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
    export OUT="$M/out"
    mkdir -p "$OUT"
    # deliver [EXIT]: a delivery agent that stores stdin as $OUT/msg.N
    cat > "$M/deliver" <<'EOF'
#!/bin/sh
n=$(ls "$OUT" | wc -l)
cat > "$OUT/msg.$n"
exit "${1:-0}"
EOF
    chmod +x "$M/deliver"
    printf 'From: Alice <alice@example.com>\nTo: Bob <bob@example.org>\nSubject: Hello there\nMessage-ID: <lda-1@example.com>\n\nHi Bob, see you tomorrow.\n' > "$M/m.eml"
}
teardown() { stop_fake; }

# refute CMD...: fails when CMD succeeds (a plain "! CMD" never fails a bats test).
refute() { if "$@"; then return 1; fi; }
deliveries() { find "$OUT" -type f | wc -l; }
delivered() { cat "$OUT/msg.0"; }
# The delivered message without the header lines rspamkit added (and their
# continuation lines): must give back the original bytes.  Besides its own,
# rspamkit adds the server's milter.add_headers ($MILTER_FIELDS).
strip_added() { perl -0777 -pe 's/(?:^|(?<=[\r\n]))(?:X-Spam[-A-Za-z]*|DKIM-Signature|X-Added|'"$MILTER_FIELDS"'):.*?(?:\r\n|\n|\r)(?:\t.*?(?:\r\n|\n|\r))*//g' "$@"; }
# milter_names FILE: the names of the fields in the server's milter.add_headers
# for FILE (one per value), sorted: the reply's order changes between scans.
milter_names() {
    ref '.milter.add_headers // {} | to_entries[] | .key as $k | .value |
        if type == "array" then .[] | $k else $k end' "$1" | sort
}
lda() { rspamkit-scan -t 5 "$@"; }

# ---------------------------------------------------------------- --mime

@test "--mime: rspamc's header set, order and folding, X-Spam-Scanner rspamkit VERSION" {
    run --separate-stderr lda -h "$NORMAL" --mime "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    ver=$(rspamkit-scan --version | awk '{print $2}')
    grep -qx "X-Spam-Scanner: rspamkit $ver" <<<"$output"
    names=$(sed -n '/^X-Spam-Scanner:/,/^$/p' <<<"$output" | grep -o '^[A-Za-z-]*:' | tr -d ':')
    [ "$(head -n 7 <<<"$names" | tr '\n' ' ')" = "X-Spam-Scanner X-Spam-Scan-Time X-Spam X-Spam-Action X-Spam-Score X-Spam-Level X-Spam-Symbols " ]
    # then the server's milter.add_headers
    [ "$(tail -n +8 <<<"$names" | sort)" = "$(milter_names "$M/spam.eml")" ]
    grep -qx 'X-Spam: yes' <<<"$output"
    grep -qx "X-Spam-Action: $(ref .action "$M/spam.eml")" <<<"$output"
    req=$(printf '%.2f' "$(ref .required_score "$M/spam.eml")")
    grep -qE "^X-Spam-Score: [0-9]+\\.[0-9]{2} / ${req/./\\.}\$" <<<"$output"
    grep -qE '^X-Spam-Level: \*+$' <<<"$output"
    # folded after every comma
    folds=$(awk '/^X-Spam-Symbols:/ { f = 1; next } f && /^\t/ { print; next } { f = 0 }' <<<"$output")
    [ -n "$folds" ]
    refute grep -vqE '^	[A-Z0-9_]+,?$' <<<"$folds"
    # original bytes back
    diff <(strip_added <<<"$output") "$M/spam.eml"
}

@test "--mime: ham gets no X-Spam line, X-Spam-Level from the score" {
    run lda -h "$NORMAL" --mime "$M/ham.eml"
    [ "$status" -eq 0 ]
    refute grep -q '^X-Spam: ' <<<"$output"
    grep -qx "X-Spam-Action: $(ref .action "$M/ham.eml")" <<<"$output"
}

@test "--mime -j: X-Spam-Result is the reply as base64, folded at 60" {
    run lda -h "$NORMAL" --mime -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    b64=$(sed -n '/^X-Spam-Result:/,/^[^\t]/p' <<<"$output" | sed '$d' | sed 's/^X-Spam-Result: //; s/^\t//')
    [ "$(head -1 <<<"$b64" | tr -d '\n' | wc -c)" -eq 60 ]
    [ "$(tr -d '\n' <<<"$b64" | base64 -d | jq -r .action)" = "$(ref .action "$M/spam.eml")" ]
    [ "$(tr -d '\n' <<<"$b64" | base64 -d | jq -r 'has("scan_time")')" = false ]
}

@test "--mime: earlier X-Spam headers are removed by default, kept with --keep-existing-headers" {
    printf 'From: Alice <alice@example.com>\nX-Spam: yes\nX-Spam-Flag: old\nX-Spam-Score: 99\nX-Spam-Level: ****\n  continued\nTo: Bob <bob@example.org>\nSubject: hi\n\nbody\n' > "$M/forged.eml"
    own() { sed '/^X-Spam-Scanner:/,$d' <<<"$output"; }   # the header lines before ours
    run lda -h "$NORMAL" --mime "$M/forged.eml"
    [ "$status" -eq 0 ]
    refute grep -q 'X-Spam-Score: 99' <<<"$output"
    refute grep -q 'continued' <<<"$output"
    # the forged flag, score and level are gone from their place; X-Spam-Flag is
    # not a name we add in rspamc style (nor one the server names)
    [ "$(own)" = $'From: Alice <alice@example.com>\nX-Spam-Flag: old\nTo: Bob <bob@example.org>\nSubject: hi' ]
    [ "$(grep -c '^X-Spam: ' <<<"$output")" -le 1 ]
    sed -n '/^X-Spam-Scanner:/,$p' <<<"$output" | grep -q '^X-Spam-Level: '
    run lda -h "$NORMAL" --mime --keep-existing-headers "$M/forged.eml"
    [ "$status" -eq 0 ]
    [ "$(own)" = "$(sed '/^$/,$d' "$M/forged.eml")" ]
    sed -n '/^X-Spam-Scanner:/,$p' <<<"$output" | grep -q '^X-Spam-Level: \**$'
}

@test "--mime: the server's remove_headers never removes our own X-Spam (spam stays spam)" {
    printf 'From: x@example.net\nX-Spam: no\n' > "$M/s2.eml"
    tail -n +2 "$M/spam.eml" >> "$M/s2.eml"
    run lda -h "$NORMAL" --mime "$M/s2.eml"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^X-Spam:' <<<"$output")" -eq 1 ]
    grep -qx 'X-Spam: yes' <<<"$output"
}

@test "--mime: milter add_headers (string, object, array) and remove_headers from the reply" {
    printf '%s' '{"score":6.4,"required_score":15,"action":"add header","symbols":{"S":{"name":"S","score":6.4}},"milter":{"add_headers":{"X-Added":"yes","X-Obj":{"value":"v","order":0},"X-Arr":["a",{"value":"b"}]},"remove_headers":{"X-Spam":0,"X-Old":1}}}' > "$M/reply.json"
    printf 'From: a@example.com\nX-Old: 1\nX-Old: 2\nX-Added: forged\nX-Spam: maybe\nSubject: t\n\nbody\n' > "$M/in.eml"
    fake_server json "$M/reply.json"
    run lda -h "127.0.0.1:$FAKE_PORT" --mime "$M/in.eml"
    [ "$status" -eq 0 ]
    want=$(printf 'From: a@example.com\nX-Old: 2\nSubject: t\nX-Spam-Scanner: rspamkit %s\n' "$(rspamkit-scan --version | awk '{print $2}')")
    [ "$(head -4 <<<"$output")" = "$want" ]
    sed -n '/^X-Spam-Symbols/,$p' <<<"$output" > "$M/tail"
    diff "$M/tail" <(printf 'X-Spam-Symbols: S\nX-Added: yes\nX-Obj: v\nX-Arr: a\nX-Arr: b\n\nbody\n')
    grep -qx 'X-Spam: yes' <<<"$output"
    [ "$(grep -c '^X-Spam:' <<<"$output")" -eq 1 ]
}

@test "--mime: a rewritten message from the server (Message-Offset) is used" {
    json='{"score":20.0,"required_score":15.0,"action":"rewrite subject","subject":"[SPAM] t","symbols":{"S1":{"name":"S1","score":20.0}}}'
    newmsg=$'From: a@example.com\nTo: b@example.org\nSubject: [SPAM] t\n\nnew body\n'
    body="$json$newmsg"
    printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMessage-Offset: %d\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
        "${#json}" "${#body}" "$body" > "$M/raw"
    fake_server raw "$M/raw"
    run lda -h "127.0.0.1:$FAKE_PORT" --mime "$M/m.eml"
    [ "$status" -eq 0 ]
    grep -qx 'Subject: \[SPAM\] t' <<<"$output"
    grep -qx 'new body' <<<"$output"
    refute grep -q 'Hello there' <<<"$output"
    [ "$(grep -c '^Subject:' <<<"$output")" -eq 1 ]
}

@test "--mime: rewrite subject from the reply's subject (Rspamd 3.4 sends no new message)" {
    run lda -h "$NORMAL" --mime --header 'Settings={"actions":{"rewrite subject":5,"add header":100,"reject":100}}' "$M/spam.eml"
    [ "$status" -eq 0 ]
    grep -qx 'X-Spam-Action: rewrite subject' <<<"$output"
    grep -qx 'Subject: \*\*\* SPAM \*\*\* YOU HAVE WON $1000000!!!' <<<"$output"
    [ "$(grep -c '^Subject:' <<<"$output")" -eq 1 ]
    # in place: still the third line
    [ "$(sed -n 3p <<<"$output")" = 'Subject: *** SPAM *** YOU HAVE WON $1000000!!!' ]
}

@test "--header-style=spamassassin: X-Spam-Flag, X-Spam-Status, X-Spam-Level rounded down" {
    run lda -h "$NORMAL" --mime --header-style=spamassassin "$M/spam.eml"
    [ "$status" -eq 0 ]
    grep -qx 'X-Spam-Flag: YES' <<<"$output"
    # ours come first; the server's milter_headers may add fields of these names after them
    line=$(grep -m 1 '^X-Spam-Status:' <<<"$output")
    req=$(printf '%.1f' "$(ref .required_score "$M/spam.eml")")
    [[ $line =~ ^X-Spam-Status:\ Yes,\ score=([0-9.]+)\ required=${req/./\\.}\ tests= ]]
    score=${BASH_REMATCH[1]}
    stars=$(grep -m 1 '^X-Spam-Level:' <<<"$output" | sed 's/^X-Spam-Level: //')
    [ "${#stars}" -eq "$(printf '%.0f' "$(echo "$score" | awk '{print int($1)}')")" ]
    refute grep -q '^X-Spam: ' <<<"$output"
    # maildrop / procmail recipes for SpamAssassin match
    grep -qE '^X-Spam-Status: Yes, (hits|score)=([0-9.-]+)\s' <<<"$output"
    run lda -h "$NORMAL" --mime --header-style=spamassassin "$M/ham.eml"
    refute grep -q '^X-Spam-Flag:' <<<"$output"
    grep -q '^X-Spam-Status: No, score=' <<<"$output"
    run lda -h "$NORMAL" --mime --header-style=bogus "$M/ham.eml"
    [ "$status" -eq 64 ]
}

@test "--mime: a leading mbox From line stays first and is sent to the server" {
    { echo "From alice@example.com Sat Nov 21 10:00:00 2026"; cat "$M/m.eml"; } > "$M/mbox1.eml"
    run lda -h "$NORMAL" --mime "$M/mbox1.eml"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "From alice@example.com Sat Nov 21 10:00:00 2026" ]
    diff <(strip_added <<<"$output") "$M/mbox1.eml"
}

@test "--mime: bare CR line ends, mixed endings, 8-bit headers and a 20 kB header line survive" {
    printf 'From: a@example.com\rSubject: cr\r\rbody\rline\r' > "$M/cr.eml"
    run lda -h "$NORMAL" --mime "$M/cr.eml"
    [ "$status" -eq 0 ]
    grep -q $'\rX-Spam-Scanner: rspamkit [^\r]*\rX-Spam-Scan-Time' <<<"$output"
    lda -h "$NORMAL" --mime "$M/cr.eml" | strip_added | cmp - "$M/cr.eml"
    long=$(head -c 20000 /dev/zero | tr '\0' x)
    printf 'From: a@example.com\r\nSubject: caf\xc3\xa9 \xff\xfe\r\nX-Long: %s\nTo: b@example.org\r\n\r\nbody\nmixed\r\n' "$long" > "$M/mixed.eml"
    lda -h "$NORMAL" --mime "$M/mixed.eml" > "$M/mixed.out"
    grep -q $'^X-Spam-Scanner: .*\r$' "$M/mixed.out"
    strip_added "$M/mixed.out" | cmp - "$M/mixed.eml"
}

@test "--mime without --exec: several inputs are written in input order" {
    run lda -h "$NORMAL" -n 4 --mime "$M/spam.eml" "$M/ham.eml" "$M/m.eml"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^X-Spam-Scanner:' <<<"$output")" -eq 3 ]
    diff <(strip_added <<<"$output") <(cat "$M/spam.eml" "$M/ham.eml" "$M/m.eml")
}

# ---------------------------------------------------------------- --exec

@test "--exec: quoted arguments without a shell, fetchmail's single-quoted %T" {
    run lda -h "$NORMAL" --mime --exec "sh -c 'cat > \"\$0\"' '$OUT/quoted file'" < "$M/m.eml"
    [ "$status" -eq 0 ]
    [ -f "$OUT/quoted file" ]
    grep -q '^X-Spam-Action:' "$OUT/quoted file"
    # no shell: $HOME is passed literally
    run lda -h "$NORMAL" --mime --exec "echo \$HOME" < "$M/m.eml"
    [ "$output" = '$HOME' ]
}

@test "--exec -- CMD ARGS: arguments need no quoting" {
    run lda -h "$NORMAL" --mime --exec -- "$M/deliver" 0 < "$M/m.eml"
    [ "$status" -eq 0 ]
    [ "$(deliveries)" -eq 1 ]
    run lda -h "$NORMAL" --mime --exec -- sh -c 'cat > "$1/x y"' sh "$OUT" < "$M/m.eml"
    [ "$status" -eq 0 ]
    grep -q '^X-Spam-Scanner:' "$OUT/x y"
}

@test "--exec: a command that cannot be parsed is a usage error before anything is read" {
    run --separate-stderr lda -h "$NORMAL" --mime --exec "'unterminated" < "$M/m.eml"
    [ "$status" -eq 64 ]
    [[ $stderr == *"unterminated single quote"* ]]
    run lda -h "$NORMAL" --mime --exec "" < "$M/m.eml"
    [ "$status" -eq 64 ]
}

@test "--exec: a program that cannot be run gives 75, nothing delivered" {
    run --separate-stderr lda -h "$NORMAL" --mime --exec /nonexistent/deliver < "$M/m.eml"
    [ "$status" -eq 75 ]
    [[ $stderr == *"cannot run /nonexistent/deliver"* ]]
}

@test "--exec without --mime: the child gets the report" {
    run lda -h "$NORMAL" --exec cat "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "[Metric: default]" ]
    grep -qx "Action: $(ref .action "$M/spam.eml")" <<<"$output"
    run lda -h "$NORMAL" -j --exec cat "$M/spam.eml"
    [ "$(jq -r .action <<<"$output")" = "$(ref .action "$M/spam.eml")" ]
}

@test "--exec with several inputs: one child per message, status of the first failing one" {
    cat > "$M/pick" <<'EOF'
#!/bin/sh
n=$(ls "$OUT" | wc -l)
cat > "$OUT/msg.$n"
grep -q 'Hello there' "$OUT/msg.$n" && exit 3
grep -q 'planning meeting' "$OUT/msg.$n" && exit 5
exit 0
EOF
    chmod +x "$M/pick"
    run lda -h "$NORMAL" --mime --exec "$M/pick" "$M/spam.eml" "$M/m.eml" "$M/ham.eml"
    [ "$status" -eq 3 ]
    [ "$(deliveries)" -eq 3 ]
    grep -q 'LUCKY WINNER' "$OUT/msg.0"
    grep -q 'Hello there' "$OUT/msg.1"
    run lda -h "$NORMAL" --mime --exec "$M/pick" "$M/ham.eml" "$M/m.eml"
    [ "$status" -eq 5 ]
}

@test "--exec: the child's stdout and stderr are its own" {
    run --separate-stderr lda -h "$NORMAL" --mime --exec -- sh -c 'cat; echo to-stderr >&2' < "$M/m.eml"
    [ "$status" -eq 0 ]
    grep -q '^X-Spam-Scanner:' <<<"$output"
    [ "$stderr" = "to-stderr" ]
}

@test "-v: the syslog line is copied to stderr; without -v nothing" {
    run --separate-stderr lda -h "$NORMAL" --mime --exec "$M/deliver" < "$M/m.eml"
    [ -z "$stderr" ]
    run --separate-stderr lda -v -h "$NORMAL" --mime --exec "$M/deliver" < "$M/m.eml"
    [ "$status" -eq 0 ]
    [[ $stderr == *"rspamkit-scan["*"]: stdin: "*"piped to $M/deliver, exit 0"* ]]
}

@test "--exec CMD -- FILE: -- ends the options, FILE is delivered, not stdin" {
    for prog in rspamkit-scan rspamkit; do
        rm -f "$OUT"/*
        run --separate-stderr "$prog" -t 5 -h "$NORMAL" --mime --exec "$M/deliver" -- "$M/m.eml" < /dev/null
        [ "$status" -eq 0 ]
        [ "$(deliveries)" -eq 1 ]
        strip_added "$OUT/msg.0" | cmp - "$M/m.eml"
        grep -q '^X-Spam-Scanner: ' "$OUT/msg.0"
        # a file that is not there: nothing delivered, and not a success
        rm -f "$OUT"/*
        run --separate-stderr "$prog" -t 5 -h "$NORMAL" --mime --exec "$M/deliver" -- "$M/nonexistent.eml" < /dev/null
        [ "$status" -ne 0 ]
        [ "$(deliveries)" -eq 0 ]
    done
}

@test "front door: -- as rspamc 3.4 reads it (GLib keeps it as an input when a word after it starts with -)" {
    run --separate-stderr rspamkit -h "$NORMAL" -j -- "$M/m.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -r .filename <<<"$output")" = "$M/m.eml" ]
    run --separate-stderr rspamkit -h "$NORMAL" -- -j "$M/m.eml"
    [ "$status" -ne 0 ]
    [[ $stderr == *"--"* ]]
    run --separate-stderr rspamc -h "$NORMAL" -- -j "$M/m.eml"
    [ "$status" -ne 0 ]
    [[ $stderr == *"cannot stat file --"* ]]
}

@test "front door: rspamkit --mime --exec -- CMD ARGS runs the scanner in LDA mode" {
    run rspamkit -h "$NORMAL" --mime --exec -- "$M/deliver" 3 < "$M/m.eml"
    [ "$status" -eq 3 ]
    [ "$(deliveries)" -eq 1 ]
    grep -q '^X-Spam-Scanner: rspamkit ' "$OUT/msg.0"
}

@test "--exec -j without --mime: a failed scan is one JSON value for the child" {
    run lda -h "127.0.0.1:$(closed_port)" -j --exec cat "$M/m.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -r .filename <<<"$output")" = "$M/m.eml" ]
    [[ $(jq -r .error <<<"$output") == "cannot connect to"* ]]
}

# ---------------------------------------------------------------- failure policy

# fault ROW SERVER [OPTION...]: the scan fails; by default the message is
# delivered once with X-Spam-Error and the child's status; --tempfail: 75,
# nothing delivered; without --exec the message goes to stdout, exit 0.
scan_fails() {
    local server=$1; shift
    run --separate-stderr lda -h "$server" "$@" --mime --exec "$M/deliver" < "$M/m.eml"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$(deliveries)" -eq 1 ]
    grep -q '^X-Spam-Error: ' "$OUT/msg.0"
    refute grep -q '^X-Spam-Action: ' "$OUT/msg.0"
    strip_added "$OUT/msg.0" | cmp - "$M/m.eml"
    run lda -h "$server" "$@" --mime --exec "$M/deliver 74" < "$M/m.eml"
    [ "$status" -eq 74 ]
    [ "$(deliveries)" -eq 2 ]
    run --separate-stderr lda -h "$server" "$@" --tempfail --mime --exec "$M/deliver" < "$M/m.eml"
    [ "$status" -eq 75 ]
    [ "$(deliveries)" -eq 2 ]
    [[ $stderr == *"not delivered (--tempfail)"* ]]
    run --separate-stderr lda -h "$server" "$@" --mime < "$M/m.eml"
    [ "$status" -eq 0 ]
    grep -q '^X-Spam-Error: ' <<<"$output"
    run lda -h "$server" "$@" --tempfail --mime < "$M/m.eml"
    [ "$status" -eq 75 ]
}

@test "fault table: server down (UNIX socket missing)" {
    scan_fails "$M/no-such-rspamd.sock"
    grep -q '^X-Spam-Error: cannot connect to' "$OUT/msg.0"
}

@test "fault table: port refused" {
    scan_fails "127.0.0.1:$(closed_port)"
    grep -q '^X-Spam-Error: cannot connect to 127.0.0.1:.*refused' "$OUT/msg.0"
}

@test "fault table: server stalls past the timeout" {
    fake_server stall
    start=$SECONDS
    scan_fails "127.0.0.1:$FAKE_PORT" -t 1
    grep -q '^X-Spam-Error: timed out waiting for a reply' "$OUT/msg.0"
    [ $((SECONDS - start)) -lt 30 ]
}

@test "fault table: HTTP 500" {
    fake_server http500
    scan_fails "127.0.0.1:$FAKE_PORT"
    grep -q '^X-Spam-Error: HTTP error: 500' "$OUT/msg.0"
}

@test "fault table: garbage reply" {
    fake_server garbage
    scan_fails "127.0.0.1:$FAKE_PORT"
}

@test "fault table: connection reset mid-reply" {
    fake_server reset-mid
    scan_fails "127.0.0.1:$FAKE_PORT"
}

@test "fault table: HTTPCrypt failure (a --key the server does not have)" {
    [ -n "${RK_PUBKEY:-}" ] || skip "the test server has no keypair"
    bad=${RK_PUBKEY:0:10}$([ "${RK_PUBKEY:10:1}" = a ] && echo b || echo a)${RK_PUBKEY:11}
    scan_fails "$NORMAL" --key "$bad"
    grep -q '^X-Spam-Error: .*HTTPCrypt' "$OUT/msg.0"
}

@test "fault table: message over --max-size" {
    scan_fails "$NORMAL" --max-size 100
    grep -q '^X-Spam-Error: message size [0-9]* exceeds --max-size 100' "$OUT/msg.0"
}

@test "fault table: child exits 0, 1, 74, 75 (status passed through)" {
    for code in 0 1 74 75; do
        rm -f "$OUT"/*
        run --separate-stderr lda -h "$NORMAL" --mime --exec "$M/deliver $code" < "$M/m.eml"
        [ "$status" -eq "$code" ]
        [ -z "$stderr" ]
        [ "$(deliveries)" -eq 1 ]
        grep -q '^X-Spam-Action: ' "$OUT/msg.0"
    done
}

@test "fault table: child killed by a signal gives 75" {
    run lda -h "$NORMAL" --mime --exec -- sh -c 'cat > /dev/null; kill -9 $$' < "$M/m.eml"
    [ "$status" -eq 75 ]
    run lda -h "$NORMAL" --mime --exec -- sh -c 'kill -TERM $$' < "$M/m.eml"
    [ "$status" -eq 75 ]
}

@test "fault table: child writes 1 MB to stdout" {
    run timeout 30 rspamkit-scan -t 5 -h "$NORMAL" --mime --exec -- sh -c 'cat >/dev/null; head -c 1048576 /dev/zero | tr "\0" x' < "$M/m.eml"
    [ "$status" -eq 0 ]
    [ "${#output}" -eq 1048576 ]
}

@test "fault table: child never reads stdin" {
    head -c 3000000 /dev/zero | tr '\0' 'y' | fold -w 70 > "$M/body"
    cat "$M/m.eml" "$M/body" > "$M/big.eml"
    run timeout 30 rspamkit-scan -t 20 -h "$NORMAL" --mime --exec -- sh -c 'exit 0' < "$M/big.eml"
    [ "$status" -eq 0 ]
    run timeout 30 rspamkit-scan -t 20 -h "$NORMAL" --mime --exec -- sh -c 'exit 75' < "$M/big.eml"
    [ "$status" -eq 75 ]
    run timeout 30 rspamkit-scan -t 20 -h "$NORMAL" --mime --exec -- sh -c 'head -c 10 >/dev/null; sleep 0.2; exit 0' < "$M/big.eml"
    [ "$status" -eq 0 ]
}

@test "fault table: rspamkit-scan killed while scanning: the early-started command dies too" {
    cat > "$M/atomic" <<'EOF'
#!/bin/sh
# deliver as into a Maildir: write a temporary file, sync, rename it into place
cat > "$OUT/.tmp.$$" && sleep 0.3 && mv "$OUT/.tmp.$$" "$OUT/msg.$$"
EOF
    chmod +x "$M/atomic"
    fake_server stall
    rspamkit-scan -t 30 -h "127.0.0.1:$FAKE_PORT" --mime --exec "$M/atomic" < "$M/m.eml" 3>&- &
    pid=$!
    for _ in $(seq 100); do [ -n "$(ls -A "$OUT")" ] && break; sleep 0.05; done
    [ -n "$(ls -A "$OUT")" ]      # the command runs, waiting for the message
    kill -9 "$pid"
    wait "$pid" || true
    sleep 1
    [ -z "$(find "$OUT" -name 'msg.*')" ]
    # --tempfail: no command is started before the scan succeeded
    rm -f "$OUT"/.tmp.*
    run rspamkit-scan -t 1 -h "127.0.0.1:$FAKE_PORT" --tempfail --mime --exec "$M/atomic" < "$M/m.eml"
    [ "$status" -eq 75 ]
    [ -z "$(ls -A "$OUT")" ]
}

@test "fault table: headers only (no empty line): headers added at the end, nothing lost" {
    printf 'From: a@example.com\nSubject: headers only\n' > "$M/h.eml"
    run lda -h "$NORMAL" --mime --exec "$M/deliver" < "$M/h.eml"
    [ "$status" -eq 0 ]
    [ "$(deliveries)" -eq 1 ]
    [ "$(head -2 "$OUT/msg.0")" = "$(cat "$M/h.eml")" ]
    grep -q '^X-Spam-Action: ' "$OUT/msg.0"
    strip_added "$OUT/msg.0" | cmp - "$M/h.eml"
    printf 'From: a@example.com\nSubject: no final newline' > "$M/h2.eml"
    run lda -h "$NORMAL" --mime < "$M/h2.eml"
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Subject: no final newline" ]
    [[ ${lines[2]} == "X-Spam-Scanner: "* ]]
}

@test "fault table: empty input is delivered as it is (0 bytes), not scanned" {
    run lda -h "$NORMAL" --mime --exec "$M/deliver" < /dev/null
    [ "$status" -eq 0 ]
    [ "$(deliveries)" -eq 1 ]
    [ ! -s "$OUT/msg.0" ]
    run lda -h "$NORMAL" --mime --tempfail --exec "$M/deliver" < /dev/null
    [ "$status" -eq 0 ]
    [ "$(deliveries)" -eq 2 ]
    run lda -h "127.0.0.1:$(closed_port)" --mime < /dev/null
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "fault table: NUL bytes in headers and body are kept" {
    printf 'From: a@example.com\nSubject: nul\0here\nTo: b@example.org\n\nbody \0 with\0nuls\n' > "$M/nul.eml"
    run lda -h "$NORMAL" --mime --exec "$M/deliver" < "$M/nul.eml"
    [ "$status" -eq 0 ]
    [ "$(deliveries)" -eq 1 ]
    grep -qa '^X-Spam-Action: ' "$OUT/msg.0"
    strip_added "$OUT/msg.0" | cmp - "$M/nul.eml"
}

@test "fault table: CRLF message gets CRLF headers, body untouched" {
    printf 'From: a@example.com\r\nSubject: crlf\r\nTo: b@example.org\r\n\r\nbody line 1\r\nbody line 2\r\n' > "$M/crlf.eml"
    run lda -h "$NORMAL" --mime --exec "$M/deliver" < "$M/crlf.eml"
    [ "$status" -eq 0 ]
    [ "$(deliveries)" -eq 1 ]
    refute grep -q -v $'\r$' <(sed -n $'1,/^\r$/p' "$OUT/msg.0")
    grep -q $'^X-Spam-Symbols: [^\r]*,\r$' "$OUT/msg.0"
    strip_added "$OUT/msg.0" | cmp - "$M/crlf.eml"
}

@test "fault table: a 50 MB message: delivered once, byte for byte, memory near its size" {
    { cat "$M/m.eml"; head -c 37500000 /dev/urandom | base64 -w 76; } > "$M/50m.eml"
    size=$(stat -c %s "$M/50m.eml")
    run /usr/bin/time -f 'maxrss=%M' rspamkit-scan -t 60 -h "$NORMAL" --mime --exec "$M/deliver" < "$M/50m.eml"
    [ "$status" -eq 0 ]
    [ "$(deliveries)" -eq 1 ]
    strip_added "$OUT/msg.0" | cmp - "$M/50m.eml"
    rss_kb=$(grep -o 'maxrss=[0-9]*' <<<"$output" | cut -d= -f2)
    echo "# size $size, peak RSS ${rss_kb} kB" >&3
    # AddressSanitizer's shadow memory makes RSS meaningless in that build
    [ -n "${RK_SANITIZERS:-}" ] || [ "$rss_kb" -le $((size * 12 / 10 / 1024 + 4096)) ]
}

# ---------------------------------------------------------------- compatibility

@test "compat: --keep-existing-headers output equals rspamc --mime on 200 corpus messages" {
    command -v rspamc || skip "rspamc not installed"
    corpus=$("$SRC/tests/corpus/fetch" 2>/dev/null) || skip "corpus not available"
    list="$M/list"
    for g in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
        find "$corpus/$g" -name '*.txt' | sort | head -40
    done > "$list"
    [ "$(wc -l < "$list")" -eq 200 ]
    # The corpus has neither NUL bytes nor header-only messages: add one of each,
    # made from its first message, to show where rspamc loses data and we do not.
    first=$(head -1 "$list")
    perl -0777 -pe 's/\n\n/\n\nNUL\0byte /' "$first" > "$M/corpus-with-nul.txt"
    perl -0777 -pe 's/\n\n.*//s; $_ .= "\n"' "$first" > "$M/corpus-headers-only.txt"
    printf '%s\n' "$M/corpus-with-nul.txt" "$M/corpus-headers-only.txt" >> "$list"
    python3 - "$list" "$NORMAL" "$M" "$MILTER_FIELDS" <<'EOF' >&3
import os, re, subprocess, sys
listfile, server, tmp, milter = sys.argv[1:5]
# the server's milter headers come after ours (rspamc 3.14 and later add them too)
added_line = re.compile(rb'X-Spam|\t|(?:' + milter.encode() + rb'):')
paths = open(listfile).read().split()
def added_block(out):
    """The added fields in order (X-Spam-Symbols as a set); the rest of the message."""
    m = re.search(rb'X-Spam-Scanner: [^\r\n]*(\r?\n)', out)
    if not m:
        return None
    eol = m.group(1)
    start = m.start()
    lines = out[start:].split(eol)
    hdr, i = [], 0
    while i < len(lines) and added_line.match(lines[i]):
        hdr.append(lines[i]); i += 1
    rest = eol.join(lines[i:])
    fields = []
    for l in hdr:
        if l.startswith(b'\t'):
            fields[-1][1] += l
        else:
            fields.append([l.split(b':', 1)[0], l])
    fields = [f for f in fields if f[0] not in (b'X-Spam-Scanner', b'X-Spam-Scan-Time')]
    for f in fields:
        if f[0] == b'X-Spam-Symbols':
            f[1] = sorted(re.split(rb',\s*', f[1].split(b':', 1)[1].strip()))
    return out[:start], fields, rest
same = nul = nosep = 0
bad = []
for p in paths:
    data = open(p, 'rb').read()
    ours = subprocess.run(['rspamkit-scan', '-t', '10', '-h', server, '--mime', '--keep-existing-headers', p],
                          capture_output=True).stdout
    theirs = subprocess.run(['rspamc', '-t', '10', '-h', server, '--mime', p], capture_output=True).stdout
    a = added_block(ours)
    if a is None:
        bad.append((p, 'no headers added by rspamkit')); continue
    if b'\0' in data:
        nul += 1   # rspamc cuts the body at the first NUL: check we did not
        if a[0] + a[2] != data:
            bad.append((p, 'NUL message changed'))
        print(f'# NUL bytes, rspamc loses data: {os.path.basename(p)}')
        continue
    b = added_block(theirs)
    if b is None:
        nosep += 1  # rspamc prints nothing without an empty line after the headers
        print(f'# no end of headers, rspamc loses the message: {os.path.basename(p)}')
        if a[0] + a[2] != data:
            bad.append((p, 'header-only message changed'))
        continue
    if a == b:
        same += 1
    else:
        # the scan itself may differ by a symbol whose options depend on time: rescan once
        ours = subprocess.run(['rspamkit-scan', '-t', '10', '-h', server, '--mime', '--keep-existing-headers', p],
                              capture_output=True).stdout
        theirs = subprocess.run(['rspamc', '-t', '10', '-h', server, '--mime', p], capture_output=True).stdout
        if added_block(ours) == added_block(theirs):
            same += 1
        else:
            bad.append((p, 'differs'))
print(f'# identical: {same}, NUL (rspamc truncates): {nul}, no header end (rspamc drops): {nosep}, different: {len(bad)}')
for p, why in bad:
    print(f'# {why}: {p}')
sys.exit(1 if bad or same < 190 or nul != 1 or nosep != 1 else 0)
EOF
}
