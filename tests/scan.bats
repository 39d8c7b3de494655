#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# rspamkit-scan and the rspamkit front door against the private Rspamd.

load helpers

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
}
teardown() { stop_fake; }

@test "scan a file: text report with action, score and symbols" {
    run rspamkit-scan -h "$NORMAL" "$M/spam.eml"
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Results for file: $M/spam.eml ("*" seconds)" ]]
    [ "${lines[1]}" = "[Metric: default]" ]
    # action, spam flag, score and symbols as the same server's rspamc prints them
    theirs=$(rspamc -h "$NORMAL" "$M/spam.eml")
    [ "${lines[2]}" = "$(sed -n 3p <<<"$theirs")" ]
    [ "${lines[3]}" = "$(sed -n 4p <<<"$theirs")" ]
    [ "${lines[4]}" = "$(sed -n 5p <<<"$theirs")" ]
    [[ ${lines[4]} =~ ^Score:\ -?[0-9]+\.[0-9]{2}\ /\ [0-9]+\.[0-9]{2}$ ]]
    diff <(grep '^Symbol: ' <<<"$output" | sort) <(grep '^Symbol: ' <<<"$theirs" | sort)
}

@test "scan over a UNIX socket" {
    run rspamkit-scan -h "$RK_NORMAL_SOCK" "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
}

@test "stdin is scanned with label stdin" {
    run bash -c "rspamkit-scan -h $NORMAL < $M/ham.eml"
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Results for file: stdin ("* ]]
}

@test "-E sends an empty request labelled empty" {
    run rspamkit-scan -h "$NORMAL" -E
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Results for file: empty ("* ]]
    # what an empty message scores depends on the version's rules (0 on 3.4, 15 on 3.12)
    grep -qx "$(rspamc -h "$NORMAL" -E | grep '^Score: ')" <<<"$output"
}

@test "rspamc command words symbols/check/report are accepted, any case" {
    for w in symbols check report SYMBOLS; do
        run rspamkit-scan -h "$NORMAL" "$w" "$M/ham.eml"
        [ "$status" -eq 0 ]
        [[ ${lines[0]} == "Results for file: $M/ham.eml"* ]]
    done
}

@test "front door: rspamkit scan and rspamc grammar run the scanner" {
    run rspamkit scan -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
    run rspamkit -h "$NORMAL" -j symbols "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -r .action <<<"$output")" = "$(ref .action "$M/spam.eml")" ]
    run rspamkit -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 0 ]
    run rspamkit --version
    [ "$status" -eq 0 ]
    [[ $output =~ ^rspamkit\ [0-9] ]]
}

@test "every scan option becomes rspamc's request header" {
    printf '{"score":1.0,"required_score":15.0,"action":"no action","symbols":{}}' >"$M/reply.json"
    fake_server json "$M/reply.json"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" -i 1.2.3.4 -F sender@example.com \
        -r r1@example.org -r r2@example.org --helo helo.example --hostname mx.example \
        -u authuser -d deliver@example.org -p --profile --extended-urls --raw -c bayes \
        -w 5 -f 3 -S FUZZY_DENIED --skip-images --skip-attachments -U myagent \
        --header 'X-Foo: bar' --header X-Eq=val --header X-Empty --queue-id QID1 \
        --log-tag tag1 --settings '{"actions":{"reject":3}}' --settings-id sid "$M/ham.eml"
    [ "$status" -eq 0 ]
    req="$BATS_TEST_TMPDIR/fake.port.req.1"
    for h in 'POST /checkv2 HTTP/1.0' 'Ip: 1.2.3.4' 'From: sender@example.com' \
        'Rcpt: r1@example.org' 'Rcpt: r2@example.org' 'Helo: helo.example' \
        'Hostname: mx.example' 'User: authuser' 'Deliver-To: deliver@example.org' \
        'Flags: pass_all,profile,body_block' 'URL-Format: extended' 'Raw: yes' \
        'Classifier: bayes' 'Weight: 5' 'Flag: 3' 'Symbol: FUZZY_DENIED' 'Skip-Images: true' \
        'Skip-Attachments: true' 'User-Agent: myagent' 'X-Foo:  bar' 'X-Eq: val' 'X-Empty: ' \
        'Queue-Id: QID1' 'Log-Tag: tag1' 'Settings: {"actions":{"reject":3}}' \
        'Settings-Id: sid' "Filename: $M/ham.eml" 'Content-Type: text/plain' \
        "Content-Length: $(stat -c %s "$M/ham.eml")"; do
        grep -qxF "$h"$'\r' "$req" || { echo "missing: $h"; cat "$req"; false; }
    done
    [ "$(grep -c '^Rcpt:' "$req")" -eq 2 ]
    # body is sent byte for byte
    tail -c "$(stat -c %s "$M/ham.eml")" "$req" | cmp - "$M/ham.eml"
}

@test "default headers: User-Agent rspamc (as rspamc), Flags body_block, no Password" {
    printf '{"score":0.0,"required_score":15.0,"action":"no action","symbols":{}}' >"$M/reply.json"
    fake_server json "$M/reply.json"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" "$M/ham.eml"
    [ "$status" -eq 0 ]
    req="$BATS_TEST_TMPDIR/fake.port.req.1"
    grep -qxF $'User-Agent: rspamc\r' "$req"
    grep -qxF $'Flags: body_block\r' "$req"
    ! grep -qi '^Password:' "$req"
    ! grep -qi '^Expect:' "$req"
}

@test "a custom User-Agent header replaces the default" {
    printf '{"score":0.0,"required_score":15.0,"action":"no action","symbols":{}}' >"$M/reply.json"
    fake_server json "$M/reply.json"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --header 'User-Agent: other' "$M/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(grep -ci '^User-Agent:' "$BATS_TEST_TMPDIR/fake.port.req.1")" -eq 1 ]
    grep -qxF $'User-Agent:  other\r' "$BATS_TEST_TMPDIR/fake.port.req.1"
}

@test "directories are walked recursively, dot-files skipped, Maildir tmp/ skipped" {
    mkdir -p "$M/tree/sub" "$M/tree/.hidden" "$M/md/cur" "$M/md/new" "$M/md/tmp"
    cp "$M/ham.eml" "$M/tree/a.eml"; cp "$M/ham.eml" "$M/tree/sub/b.eml"
    cp "$M/ham.eml" "$M/tree/.dot.eml"; cp "$M/ham.eml" "$M/tree/.hidden/c.eml"
    cp "$M/ham.eml" "$M/md/cur/1:2,S"; cp "$M/ham.eml" "$M/md/new/2"; cp "$M/ham.eml" "$M/md/tmp/3"
    run rspamkit-scan -h "$NORMAL" "$M/tree" "$M/md"
    [ "$status" -eq 0 ]
    labels=$(grep '^Results for file:' <<<"$output" | sed -E 's/^Results for file: (.*) \(.*$/\1/' | sort)
    [ "$labels" = "$(printf '%s\n' "$M/md/cur/1:2,S" "$M/md/new/2" "$M/tree/a.eml" "$M/tree/sub/b.eml" | sort)" ]
}

@test "--exclude skips matching directory entries" {
    mkdir -p "$M/tree/sub"
    cp "$M/ham.eml" "$M/tree/a.eml"; cp "$M/ham.eml" "$M/tree/b.txt"; cp "$M/ham.eml" "$M/tree/sub/c.eml"
    run rspamkit-scan -h "$NORMAL" --exclude '*.txt' --exclude "$M/tree/sub" "$M/tree"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^Results for file:' <<<"$output")" -eq 1 ]
    grep -q "^Results for file: $M/tree/a.eml" <<<"$output"
}

@test "an mbox with several messages is split; a single message with a From line is not" {
    { printf 'From a@example.com Sat Nov 21 10:00:00 2026\n'; cat "$M/ham.eml"; echo
      printf 'From b@example.com Sat Nov 21 10:01:00 2026\n'; cat "$M/spam.eml"; } >"$M/box.mbox"
    run rspamkit-scan -h "$NORMAL" "$M/box.mbox"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^Results for file:' <<<"$output")" -eq 2 ]
    grep -q "^Results for file: $M/box.mbox#1 " <<<"$output"
    grep -q "^Results for file: $M/box.mbox#2 " <<<"$output"
    { printf 'From a@example.com Sat Nov 21 10:00:00 2026\n'; cat "$M/ham.eml"; } >"$M/one.txt"
    run rspamkit-scan -h "$NORMAL" "$M/one.txt"
    [ "$(grep -c '^Results for file:' <<<"$output")" -eq 1 ]
}

@test "--files-from reads paths from a file and from stdin" {
    printf '%s\n' "$M/ham.eml" "" "$M/spam.eml" >"$M/list"
    run rspamkit-scan -h "$NORMAL" --files-from "$M/list"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^Results for file:' <<<"$output")" -eq 2 ]
    run bash -c "printf '%s\n' $M/ham.eml | rspamkit-scan -h $NORMAL --files-from -"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^Results for file:' <<<"$output")" -eq 1 ]
}

@test "output follows argument order with -n 8; --unordered prints every result" {
    for i in $(seq 1 20); do cp "$M/ham.eml" "$M/m$i.eml"; done
    args=(); for i in $(seq 1 20); do args+=("$M/m$i.eml"); done
    run rspamkit-scan -h "$NORMAL" -n 8 "${args[@]}"
    [ "$status" -eq 0 ]
    got=$(grep '^Results for file:' <<<"$output" | sed -E 's/^Results for file: (.*) \(.*$/\1/')
    [ "$got" = "$(printf '%s\n' "${args[@]}")" ]
    run rspamkit-scan -h "$NORMAL" -n 8 --unordered "${args[@]}"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^Results for file:' <<<"$output")" -eq 20 ]
}

@test "the window keeps -n requests in flight (sliding, not batches)" {
    # A stalling server never answers: with -n 3 and -t 1 exactly three
    # connections are open at once, and all inputs time out.
    fake_server stall
    for i in 1 2 3 4 5; do cp "$M/ham.eml" "$M/s$i.eml"; done
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" -n 3 -t 1 "$M"/s?.eml
    [ "$status" -eq 75 ]
    [ "$(grep -c 'timed out waiting for a reply' <<<"$output")" -eq 5 ]
}

@test "JSON mode: one value per input, failures included, jq reads it all" {
    run rspamkit-scan -h "$NORMAL" -j "$M/ham.eml" /nonexistent "$M/spam.eml"
    [ "$status" -eq 3 ]
    json=$(rspamkit-scan -h "$NORMAL" -j "$M/ham.eml" /nonexistent "$M/spam.eml" 2>/dev/null || true)
    [ "$(jq -s length <<<"$json")" -eq 3 ]
    [ "$(jq -s -r '.[1].filename' <<<"$json")" = /nonexistent ]
    jq -s -e '.[1].error | test("cannot stat")' <<<"$json"
    [ "$(jq -s -r '.[2].action' <<<"$json")" = "$(ref .action "$M/spam.eml")" ]
    run rspamkit-scan -h "$NORMAL" --compact "$M/ham.eml" "$M/spam.eml"
    [ "${#lines[@]}" -eq 2 ]
}

@test "--check prints score/threshold and exits 1 for spam, 0 for ham" {
    req=$(printf '%.1f' "$(ref .required_score "$M/ham.eml")")
    run rspamkit-scan -h "$NORMAL" --check "$M/ham.eml"
    [ "$status" -eq 0 ]
    [[ $output =~ ^-?[0-9]+\.[0-9]/$req$ ]]
    run rspamkit-scan -h "$NORMAL" --check "$M/spam.eml"
    [ "$status" -eq 1 ]
    [[ $output =~ ^[0-9]+\.[0-9]/$req$ ]]
}

@test "-y prints symbol names only" {
    run rspamkit-scan -h "$NORMAL" -y "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [ "$(tr , '\n' <<<"$output" | sort)" = "$(ref '.symbols | keys[]' "$M/spam.eml" | sort)" ]
    ! grep -q ' ' <<<"$output"
}

@test "--sort score orders symbols by absolute score, :asc reverses" {
    run rspamkit-scan -h "$NORMAL" --sort score "$M/spam.eml"
    scores=$(grep '^Symbol:' <<<"$output" | sed -E 's/.*\((-?[0-9.]+)\).*/\1/' | tr -d -)
    [ "$scores" = "$(sort -rn <<<"$scores")" ]
    run rspamkit-scan -h "$NORMAL" --sort name:asc "$M/spam.eml"
    names=$(grep '^Symbol:' <<<"$output" | awk '{print $2}')
    [ "$names" = "$(LC_ALL=C sort -r <<<"$names")" ]
    run rspamkit-scan -h "$NORMAL" --sort bogus "$M/spam.eml"
    [ "$status" -eq 64 ]
}

@test "--headers prints the reply headers" {
    run rspamkit-scan -h "$NORMAL" --headers "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -q '^Server: rspamd/' <<<"$output"
    grep -q '^Content-Type: application/json' <<<"$output"
}

@test "--extended-urls sends URL-Format and prints URLs as objects" {
    run rspamkit-scan -h "$NORMAL" --extended-urls -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    jq -e '.urls[0].url' <<<"$output"
}

@test "--summary counts actions and draws a histogram on stderr" {
    run bash -c "rspamkit-scan -h $NORMAL --summary $M/ham.eml $M/spam.eml $M/malformed.eml 2>&1 >/dev/null"
    [ "$status" -eq 0 ]
    grep -q '^Summary: 3 scanned, 0 failed$' <<<"$output"
    # the actions the same server's rspamc reports, counted
    for f in ham spam malformed; do ref .action "$M/$f.eml"; done | sort | uniq -c >"$M/want"
    while read -r n a; do grep -Eq "^  $a +$n\$" <<<"$output"; done <"$M/want"
    grep -q '^Score histogram:' <<<"$output"
    grep -Eq '\|#+ 1$' <<<"$output"
}

@test "no colours when stdout is not a terminal, nor with NO_COLOR on a terminal" {
    run rspamkit-scan -h "$NORMAL" "$M/spam.eml"
    ! grep -q $'\033' <<<"$output"
    out=$(NO_COLOR=1 script -qec "rspamkit-scan -h $NORMAL $M/spam.eml" /dev/null)
    ! grep -q $'\033\\[' <<<"$out"
    out=$(env -u NO_COLOR script -qec "rspamkit-scan -h $NORMAL $M/spam.eml" /dev/null)
    # the action this server gives, in a 24-bit colour
    grep -qE $'\033'"\\[38;2;[0-9]{3};[0-9]{3};[0-9]{3}m$(ref .action "$M/spam.eml")" <<<"$out"
}

@test "--version on rspamkit-scan" {
    run rspamkit-scan --version
    [ "$status" -eq 0 ]
    [[ $output =~ ^rspamkit-scan\ [0-9]+\.[0-9]+ ]]
}

# ---- bad input: one clear stderr line, documented exit code -------------

@test "missing file: exit 66, one line naming it" {
    run rspamkit-scan -h "$NORMAL" "$M/nope.eml"
    [ "$status" -eq 66 ]
    [ "$output" = "rspamkit-scan: cannot stat file $M/nope.eml: No such file or directory" ]
}

@test "unreadable directory: exit 66" {
    # a world-traversable parent, so that an unprivileged user reaches it
    d=$(mktemp -d /tmp/rspamkit-locked.XXXXXX); chmod 755 "$d"
    mkdir "$d/locked"; cp "$M/ham.eml" "$d/locked/"; chmod 000 "$d/locked"
    if [ "$(id -u)" -eq 0 ]; then
        # root reads anything: run as nobody for this check
        setpriv --reuid=65534 --regid=65534 --clear-groups "$(command -v rspamkit-scan)" --version >/dev/null 2>&1 ||
            skip "nobody cannot run the build in $RK_BUILDDIR"
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$(command -v rspamkit-scan)" -h "$NORMAL" "$d/locked"
    else
        run rspamkit-scan -h "$NORMAL" "$d/locked"
    fi
    chmod 755 "$d/locked"; rm -rf "$d"
    [ "$status" -eq 66 ]
    [ "$output" = "rspamkit-scan: cannot open directory $d/locked: Permission denied" ]
}

@test "binary non-mail file: exit 65 naming it; --raw sends it anyway" {
    head -c 2048 /bin/ls >"$M/bin.dat"
    run rspamkit-scan -h "$NORMAL" "$M/bin.dat"
    [ "$status" -eq 65 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == "rspamkit-scan: $M/bin.dat: not a mail message ("* ]]
    run rspamkit-scan -h "$NORMAL" --raw "$M/bin.dat"
    [ "$status" -eq 0 ]
}

@test "0-byte file: exit 65 naming it" {
    : >"$M/empty.eml"
    run rspamkit-scan -h "$NORMAL" "$M/empty.eml"
    [ "$status" -eq 65 ]
    [ "$output" = "rspamkit-scan: $M/empty.eml: empty input, nothing to scan" ]
}

@test "unknown option: exit 64" {
    run rspamkit-scan --bogus
    [ "$status" -eq 64 ]
    [ "$output" = "rspamkit-scan: --bogus: unknown option" ]
}

@test "unresolvable host: exit 69 naming the host" {
    run rspamkit-scan -h no-such-host.invalid "$M/ham.eml"
    [ "$status" -eq 69 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == *"cannot resolve host no-such-host.invalid"* ]]
}

@test "refused port: exit 69 naming host and port" {
    p=$(closed_port)
    run rspamkit-scan -h "127.0.0.1:$p" "$M/ham.eml"
    [ "$status" -eq 69 ]
    [ "$output" = "rspamkit-scan: $M/ham.eml: cannot connect to 127.0.0.1:$p: Connection refused" ]
}

@test "missing UNIX socket: exit 69 naming the path" {
    run rspamkit-scan -h "$M/no.sock" "$M/ham.eml"
    [ "$status" -eq 69 ]
    [ "$output" = "rspamkit-scan: $M/ham.eml: cannot connect to $M/no.sock: No such file or directory" ]
}

@test "invalid server address: exit 64" {
    run rspamkit-scan -h "127.0.0.1:99999" "$M/ham.eml"
    [ "$status" -eq 64 ]
    [[ $output == *"bad port"* ]]
}

@test "some inputs failed, others scanned: exit 3, never 0" {
    run rspamkit-scan -h "$NORMAL" "$M/ham.eml" "$M/missing.eml"
    [ "$status" -eq 3 ]
}

@test "server faults: HTTP 500 → 75, garbage → 76, reset → 75, empty 200 → 76, timeout → 75" {
    fake_server http500
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" "$M/ham.eml"
    [ "$status" -eq 75 ]; [[ $output == *"HTTP error: 500"* ]]; stop_fake
    fake_server garbage
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" "$M/ham.eml"
    [ "$status" -eq 76 ]; [[ $output == *"not an HTTP reply"* ]]; stop_fake
    fake_server reset
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" "$M/ham.eml"
    [ "$status" -eq 75 ]; stop_fake
    fake_server reset-mid
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" "$M/ham.eml"
    [ "$status" -eq 75 ]; stop_fake
    fake_server empty200
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" "$M/ham.eml"
    [ "$status" -eq 76 ]; [[ $output == *"empty reply body"* ]]; stop_fake
    fake_server eof
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" "$M/ham.eml"
    [ "$status" -eq 75 ]; [[ $output == *"without a reply"* ]]; stop_fake
    fake_server stall
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" -t 0.5 "$M/ham.eml"
    [ "$status" -eq 75 ]; [[ $output == *"timed out waiting for a reply from 127.0.0.1:$FAKE_PORT"* ]]
}

@test "a {\"error\":...} reply with a 4xx status shows the server's text" {
    printf '{"error":"invalid command"}' >"$M/err.json"
    fake_server status 404 "$M/err.json"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" "$M/ham.eml"
    [ "$status" -eq 76 ]
    [[ $output == *"HTTP error: 404, "* ]]
}

@test "a rewritten message (Message-Offset) is printed after New body:" {
    body='{"score":20.0,"required_score":15.0,"action":"rewrite subject","subject":"[SPAM] t","symbols":{"S1":{"name":"S1","score":20.0}}}'
    printf 'HTTP/1.1 200 OK\r\nConnection: close\r\nMessage-Offset: %d\r\nContent-Length: %d\r\n\r\n%sFrom: a@example.com\nSubject: [SPAM] t\n\nnew body\n' \
        "${#body}" $((${#body} + 47)) "$body" >"$M/raw.http"
    fake_server raw "$M/raw.http"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -q '^Subject: \[SPAM\] t$' <<<"$output"
    grep -qx 'New body:' <<<"$output"
    grep -qx 'new body' <<<"$output"
}

@test "--files-from works together with file arguments" {
    printf '%s\n' "$M/ham.eml" >"$M/list"
    run rspamkit-scan -h "$NORMAL" --files-from "$M/list" "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^Results for file:' <<<"$output")" -eq 2 ]
}

@test "front door: -P VALUE before the command word routes to the command" {
    run rspamkit -h "$CONTROLLER" -P "$RK_PASSWORD" stat
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Results for command: stat ("* ]]
    run rspamkit -P "$RK_PASSWORD" -h "$CONTROLLER" uptime
    [ "$status" -eq 0 ]
    grep -q '^Uptime: ' <<<"$output"
}

# ---- rspamkit.conf: the configuration files ------------------------------

@test "config file: host, timeout and controller password; the command line wins" {
    export RSPAMKIT_SYSCONFIG="$M/none" RSPAMKIT_CONFIG="$M/config"
    printf 'host = "%s";\ncontroller = "%s";\ntimeout = 1s;\n' "$NORMAL" "$CONTROLLER" >"$M/config"
    run rspamkit-scan "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
    # -h beats the file
    p=$(closed_port)
    run rspamkit-scan -h "127.0.0.1:$p" "$M/ham.eml"
    [ "$status" -eq 69 ]
    # the file's timeout applies to a stalling server
    fake_server stall
    printf 'host = "127.0.0.1:%s";\ntimeout = 0.5;\n' "$FAKE_PORT" >"$M/config"
    run rspamkit-scan "$M/ham.eml"
    [ "$status" -eq 75 ]
    [[ $output == *"after 0.5 s"* ]]
    # a password for the controller tools, from a mode-600 file
    printf 'controller = "%s";\npassword = "%s";\n' "$CONTROLLER" "$RK_PASSWORD" >"$M/config"
    chmod 600 "$M/config"
    run rspamkit-ctl stat
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Results for command: stat ("* ]]
}

@test "config file: an invalid file is a one-line usage error" {
    export RSPAMKIT_SYSCONFIG="$M/none" RSPAMKIT_CONFIG="$M/config"
    printf 'no_such_setting = 1;\n' >"$M/config"
    run rspamkit-scan -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 64 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == *"$M/config"* ]]
}

@test "config file: tempfail = yes and header_style apply to --mime --exec" {
    export RSPAMKIT_SYSCONFIG="$M/none" RSPAMKIT_CONFIG="$M/config"
    p=$(closed_port)
    printf 'host = "127.0.0.1:%s";\ntempfail = yes;\n' "$p" >"$M/config"
    run rspamkit-scan --mime --exec "tee $M/out" <"$M/ham.eml"
    [ "$status" -eq 75 ]
    [ ! -e "$M/out" ]
    printf 'host = "%s";\nheader_style = "spamassassin";\n' "$NORMAL" >"$M/config"
    run rspamkit-scan --mime <"$M/spam.eml"
    [ "$status" -eq 0 ]
    grep -q '^X-Spam-Flag: YES' <<<"$output"
}

@test "--progress: the bulk progress line has the total, as rspamkit-learn's; --no-progress and a pipe show none" {
    mkdir "$M/many"
    for i in $(seq 12); do cp "$M/ham.eml" "$M/many/$i.eml"; done
    run --separate-stderr rspamkit-scan --progress -n 2 -h "$NORMAL" "$M/many"
    [ "$status" -eq 0 ]
    grep -q $'\r\033\[K12/12 (100%), 12 scanned, 0 failed' <<<"$stderr"
    [[ $stderr == *$'\r\033[K'[0-9]"/12 ("*"%), "*" scanned, 0 failed"* ]]
    [ "$(grep -c '^Results for file:' <<<"$output")" -eq 12 ]
    # a failure is an error line of its own, the progress line comes back after it
    run --separate-stderr rspamkit-scan --progress -h "$RK_HOST:$(closed_port)" "$M/many"
    [ "$status" -eq 69 ]
    grep -q $'\r\033\[K12/12 (100%), 0 scanned, 12 failed' <<<"$stderr"
    [ "$(grep -c "rspamkit-scan: $M/many/.*cannot connect" <<<"$stderr")" -eq 12 ]
    # stderr is not a terminal: no progress line unless asked for
    for opt in "" --no-progress "--progress --no-progress"; do
        run --separate-stderr rspamkit-scan $opt -h "$NORMAL" "$M/many"
        [ "$status" -eq 0 ]
        [[ $stderr != *$'\r'* ]] || { echo "$opt: $stderr"; false; }
    done
    # on a terminal (script(1) gives one): no line for one input, but an
    # mbox (counted as one input) shows one from its second message on
    tty() { script -qec "$*" /dev/null; }
    run tty rspamkit-scan -h "$NORMAL" "$M/ham.eml" "2>&1 >/dev/null"
    [ "$status" -eq 0 ]
    [[ $output != *"scanned"* ]]
    { printf 'From a@example.com Sat Nov 21 10:00:00 2026\n'; cat "$M/ham.eml"; echo
      printf 'From b@example.com Sat Nov 21 10:01:00 2026\n'; cat "$M/spam.eml"; } >"$M/box.mbox"
    run tty rspamkit-scan -h "$NORMAL" "$M/box.mbox" "2>&1 >/dev/null"
    [ "$status" -eq 0 ]
    [[ $output == *$'\r\033[K2, 2 scanned, 0 failed'* ]]
    run tty rspamkit-scan --no-progress -h "$NORMAL" "$M/many" "2>&1 >/dev/null"
    [[ $output != *"scanned"* ]]
    # results on the same terminal start on a line of their own
    run tty rspamkit-scan -n 2 -h "$NORMAL" "$M/many"
    [ "$status" -eq 0 ]
    [[ $output == *"12/12 (100%), 12 scanned, 0 failed"* ]]
    [ "$(grep -c 'Results for file: ' <<<"$output")" -eq 12 ]
    [ "$(grep -cE '(^|\[K)Results for file: ' <<<"$output")" -eq 12 ]
}
