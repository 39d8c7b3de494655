#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# rspamc 4.1's command line (issue 13): --files-list, -R/--human, --output-body,
# neural_learn:CLASS, and the /checkv3 options we refuse. Compared with the
# server's own rspamc where it is 4.1 (RK_SERVER=4); checked by structure otherwise.

load helpers

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
}

# rspamc_has OPTION: skip unless this server's rspamc knows OPTION (4.1 does).
rspamc_has() {
    rspamc --help 2>&1 | grep -q -- "$1" || skip "rspamc $RK_SERVER has no $1 (rspamc 4.1 has)"
}

@test "-R: byte for byte rspamc 4.1's human report (example messages, --extended-urls, --sort score)" {
    rspamc_has --human
    for f in "$M"/*.eml; do
        for opt in "" --extended-urls "--sort=score"; do
            rspamc -h "$NORMAL" -R $opt "$f" >"$M/rspamc.out"
            rspamkit -h "$NORMAL" -R $opt "$f" >"$M/rspamkit.out"
            diff -u "$M/rspamc.out" "$M/rspamkit.out"
        done
    done
}

@test "-R: the summary line, the table, the verdict of rspamc -j" {
    f=$M/spam.eml
    run rspamkit-scan -h "$NORMAL" --human "$f"
    [ "$status" -eq 0 ]
    num='-?[0-9]+\.[0-9]{2}'
    [[ ${lines[0]} =~ ^$num/$num/$num/$num,action=([0-5]):(.*),spam=([01]),skipped=0$ ]]
    [ "${BASH_REMATCH[2]}" = "$(ref .action "$f")" ]
    score=$(ref '.score' "$f")
    [[ ${lines[0]} == "$(printf %.2f "$score")/"* ]]
    add=$(cut -d/ -f3 <<<"${lines[0]}") # the add header threshold
    [ "${lines[1]}" = "Content analysis details:   ($(printf %.2f "$score") points, $add required)" ]
    [ "${lines[2]}" = " pts rule name              description" ]
    [[ ${lines[3]} == "---- ---------------------- ----"* ]]
    [[ $output != *"Results for file"* ]]
    # every symbol of the verdict has its line, none is longer than 78 bytes
    for s in $(ref '.symbols | keys[]' "$f"); do
        grep -qE "^ *-?[0-9]+\.[0-9] $s( |\$)" <<<"$output"
    done
    awk '{ if (length($0) > 78) bad = 1 } END { exit bad }' <<<"$output"
}

@test "--files-list is --files-from (scan, and learn's and fuzzy's options)" {
    printf '%s\n' "$M/ham.eml" "$M/spam.eml" >"$M/list"
    rspamkit -h "$NORMAL" --files-from "$M/list" | strip_times >"$M/from.out"
    rspamkit -h "$NORMAL" --files-list "$M/list" | strip_times >"$M/list.out"
    [ "$(grep -c '^Results for file:' "$M/list.out")" -eq 2 ]
    diff -u "$M/from.out" "$M/list.out"
    rspamkit-learn --help | grep -q -- '--files-list=FILE'
    rspamkit-fuzzy --help | grep -q -- '--files-list=FILE'
}

@test "--files-list: the same results as rspamc 4.1's" {
    rspamc_has --files-list
    printf '%s\n' "$M/ham.eml" "$M/spam.eml" >"$M/list"
    rspamc -h "$NORMAL" --files-list "$M/list" | strip_times | sort >"$M/rspamc.out"
    rspamkit -h "$NORMAL" --files-list "$M/list" | strip_times | sort >"$M/rspamkit.out"
    diff -u "$M/rspamc.out" "$M/rspamkit.out"
}

# A reply with a rewritten message after Message-Offset, as a server sends it
# with body_block when a rule rewrote the message.
rewritten_reply() {
    body='{"score":20.0,"required_score":15.0,"action":"rewrite subject","subject":"[SPAM] t","symbols":{"S1":{"name":"S1","score":20.0}}}'
    new=$'From: a@example.com\nSubject: [SPAM] t\n\nnew body\n'
    printf 'HTTP/1.1 200 OK\r\nConnection: close\r\nMessage-Offset: %d\r\nContent-Length: %d\r\n\r\n%s%s' \
        "${#body}" $((${#body} + ${#new})) "$body" "$new" >"$M/raw.http"
    printf %s "$new" >"$M/new.eml"
}

@test "--output-body FILE: the rewritten message goes to FILE, the report says so" {
    rewritten_reply
    fake_server raw "$M/raw.http"
    run rspamkit -h "127.0.0.1:$FAKE_PORT" --output-body "$M/body.out" "$M/ham.eml"
    stop_fake
    [ "$status" -eq 0 ]
    cmp "$M/new.eml" "$M/body.out"
    [ "${lines[-1]}" = "New body saved to: $M/body.out" ]
    [[ $output != *"New body:"* && $output != *"new body"* ]]
    # a file that cannot be written: one error line naming it
    fake_server raw "$M/raw.http"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --output-body "$M/nodir/body.out" "$M/ham.eml"
    stop_fake
    [[ $output == *"nodir/body.out"* ]]
    [[ $output != *"New body saved"* ]]
}

@test "--output-body: the same report and file as rspamc 4.1's" {
    rspamc_has --output-body
    rewritten_reply
    fake_server raw "$M/raw.http"
    rspamc -h "127.0.0.1:$FAKE_PORT" --output-body "$M/rspamc.body" "$M/ham.eml" |
        strip_times | sed "s|$M/rspamc.body|FILE|" >"$M/rspamc.out"
    rspamkit -h "127.0.0.1:$FAKE_PORT" --output-body "$M/rspamkit.body" "$M/ham.eml" |
        strip_times | sed "s|$M/rspamkit.body|FILE|" >"$M/rspamkit.out"
    stop_fake
    diff -u "$M/rspamc.out" "$M/rspamkit.out"
    cmp "$M/rspamc.body" "$M/rspamkit.body"
}

# Method, path and ANN-Train header of each request a fake server saved, in order.
requests() {
    for r in "$@"; do
        head -1 "$r" | cut -d' ' -f1,2
        grep -ai '^ANN-Train:' "$r" | tr -d '\r'
    done
}

@test "neural_learn:CLASS: a scan with ANN-Train: class (lowercased), rspamc 4.1's report" {
    rspamkit -h "$NORMAL" neural_learn:SPAM "$M/spam.eml" >"$M/out" 2>"$M/err"
    mapfile -t lines <"$M/out"
    [[ ${lines[0]} == "Results for file: $M/spam.eml ("*" seconds)" ]]
    [ "${lines[1]}" = "success = true;" ]
    [ "${lines[2]}" = 'method = "scan";' ]
    [ "${lines[3]}" = 'class = "spam";' ]
    # the scan worker has no /plugins/neural/config: scan-based learning, one note
    [[ $(cat "$M/err") == "Note: could not fetch neural config ("*"); using scan-based learning" ]]
    [ "$(wc -l <"$M/err")" -eq 1 ]
    run rspamkit-scan -h "$NORMAL" neural_learn: "$M/spam.eml"
    [ "$status" -eq 64 ]
    printf '{"action":"no action","score":0.0,"required_score":15.0,"symbols":{}}' >"$M/reply.json"
    fake_server json "$M/reply.json"
    rspamkit -h "127.0.0.1:$FAKE_PORT" neural_learn:Ham "$M/ham.eml" >/dev/null
    stop_fake
    requests "$BATS_TEST_TMPDIR"/fake.port.req.* >"$M/rspamkit.req"
    grep -qx 'POST /checkv2' "$M/rspamkit.req"
    grep -qix 'ANN-Train: ham' "$M/rspamkit.req"
}

@test "neural_learn:CLASS: the same report and scan request as rspamc 4.1's" {
    rspamc --commands 2>&1 | grep -q neural_learn || skip "rspamc $RK_SERVER has no neural_learn"
    rspamc -h "$NORMAL" neural_learn:SPAM "$M/spam.eml" 2>/dev/null | strip_times >"$M/rspamc.out"
    rspamkit -h "$NORMAL" neural_learn:SPAM "$M/spam.eml" 2>/dev/null | strip_times >"$M/rspamkit.out"
    diff -u "$M/rspamc.out" "$M/rspamkit.out"
    printf '{"action":"no action","score":0.0,"required_score":15.0,"symbols":{}}' >"$M/reply.json"
    fake_server json "$M/reply.json"
    rspamc -h "127.0.0.1:$FAKE_PORT" neural_learn:Ham "$M/ham.eml" >/dev/null 2>&1
    requests "$BATS_TEST_TMPDIR"/fake.port.req.* >"$M/rspamc.req"
    rm -f "$BATS_TEST_TMPDIR"/fake.port.req.*
    rspamkit -h "127.0.0.1:$FAKE_PORT" neural_learn:Ham "$M/ham.eml" >/dev/null 2>&1
    requests "$BATS_TEST_TMPDIR"/fake.port.req.* >"$M/rspamkit.req"
    stop_fake
    diff -u "$M/rspamc.req" "$M/rspamkit.req"
}

@test "--protocol-v3, --msgpack, --metadata-header: one line naming /checkv3 and Rspamd 4.0, exit 64" {
    for opt in --protocol-v3 --msgpack "--metadata-header=K=V"; do
        run rspamkit -h "$NORMAL" "$opt" "$M/ham.eml"
        [ "$status" -eq 64 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ ${lines[0]} == *"${opt%%=*} is not supported yet"*"/checkv3"*"Rspamd 4.0"* ]]
    done
}

@test "neural_learn:CLASS: a rule that needs no scan goes to learn_message, as with rspamc 4.1" {
    rspamc --commands 2>&1 | grep -q neural_learn || skip "rspamc $RK_SERVER has no neural_learn"
    # one reply for both requests: the config (rule "default" needs no scan)
    # and learn_message's answer
    printf '{"success":true,"data":{"rules":{"default":{"requires_scan":false}}},"stored":42,"key":"rn_k"}' \
        >"$M/reply.json"
    fake_server json "$M/reply.json"
    rspamc -h "127.0.0.1:$FAKE_PORT" neural_learn:spam "$M/spam.eml" 2>&1 | strip_times >"$M/rspamc.out"
    requests "$BATS_TEST_TMPDIR"/fake.port.req.* >"$M/rspamc.req"
    rm -f "$BATS_TEST_TMPDIR"/fake.port.req.*
    rspamkit -h "127.0.0.1:$FAKE_PORT" neural_learn:spam "$M/spam.eml" 2>&1 | strip_times >"$M/rspamkit.out"
    requests "$BATS_TEST_TMPDIR"/fake.port.req.* >"$M/rspamkit.req"
    stop_fake
    grep -qx 'POST /plugins/neural/learn_message' "$M/rspamc.req"
    diff -u "$M/rspamc.req" "$M/rspamkit.req"
    grep -qx 'stored = 42 bytes;' "$M/rspamc.out"
    diff -u "$M/rspamc.out" "$M/rspamkit.out"
}
