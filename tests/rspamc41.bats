#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# rspamc 4.1's command line (issue 13): --files-list, -R/--human, --output-body,
# neural_learn:CLASS, and /checkv3 (--protocol-v3, --msgpack, --metadata-header). Compared with the
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

# v3_compare FILTER ARG...: rspamc and rspamkit-scan, both with --protocol-v3 and
# the same ARGs, print the same after FILTER (times removed).  A difference is
# scanned again up to 5 times, the server's symbol order changing between scans.
v3_compare() {
    local filter=$1 try; shift
    for try in 1 2 3 4 5; do
        rspamc -h "$NORMAL" --protocol-v3 "$@" | eval "$filter" >"$M/rspamc.out"
        rspamkit-scan -h "$NORMAL" --protocol-v3 "$@" | eval "$filter" >"$M/rspamkit.out"
        cmp -s "$M/rspamc.out" "$M/rspamkit.out" && return 0
        echo "# try $try: $* differs"
    done
    diff -u "$M/rspamc.out" "$M/rspamkit.out"
}

# The messages of these tests: the examples and the server's probes.
v3_messages() { cp "$SRC"/tests/server/msgs/*.eml "$M/"; }

@test "--protocol-v3: rspamc 4.1's text and -j output (7 messages)" {
    rspamc_has --protocol-v3
    v3_messages
    for f in "$M"/*.eml; do
        v3_compare strip_times "$f"
        v3_compare strip_times -j "$f"
        v3_compare strip_times -z --compact -i 192.0.2.1 -F alice@example.com -r bob@example.org \
            -r carol@example.org --helo mx.example.com --queue-id Q1 --log-tag t1 --pass-all "$f"
    done
    # inside HTTPCrypt
    v3_compare strip_times --key "$RK_PUBKEY" -j "$M/spam.eml"
    v3_compare strip_times --key "$RK_PUBKEY" -z --msgpack -i 192.0.2.1 "$M/spam.eml"
}

@test "--msgpack, --metadata-header: rspamc 4.1's output (7 messages)" {
    rspamc_has --protocol-v3
    v3_messages
    for f in "$M"/*.eml; do
        v3_compare strip_times --msgpack -i 192.0.2.1 "$f"
        v3_compare strip_times --msgpack -j -F alice@example.com --extended-urls "$f"
        v3_compare strip_times --metadata-header X-A=1 --metadata-header X-B:two -j "$f"
        v3_compare strip_times --msgpack --metadata-header X-A=1 -u someone "$f"
    done
}

@test "--protocol-v3 --mime: rspamc 4.1's message but for X-Spam-Scanner and X-Spam-Scan-Time" {
    rspamc_has --protocol-v3
    v3_messages
    for f in "$M"/*.eml; do
        v3_compare "grep -v -E '^X-Spam-Scan(ner|-Time):'" --mime "$f"
        v3_compare "grep -v -E '^X-Spam-Scan(ner|-Time):'" --mime --msgpack -i 192.0.2.1 "$f"
    done
    # through the front door too
    rspamkit -h "$NORMAL" --protocol-v3 --mime "$M/spam.eml" | grep -q '^X-Spam-Action: '
}

# v3_request FILE: a saved /checkv3 request, its boundary and the framing our
# client and rspamc's differ in (Host, Content-Length) left out, each part's
# headers and content (a zstd part decompressed, a msgpack one in hex).
v3_request() {
    python3 - "$1" <<'PY'
import re, subprocess, sys
data = open(sys.argv[1], "rb").read()
head, _, body = data.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
print(lines[0].rsplit(" ", 1)[0])
hdrs = {}
for l in lines[1:]:
    k, _, v = l.partition(":")
    hdrs[k.strip().lower()] = v.strip()
b = re.search(r'boundary="?([^";]+)', hdrs["content-type"]).group(1)
for k in sorted(hdrs):
    if k not in ("host", "content-length", "connection"):
        print(k + ": " + hdrs[k].replace(b, "BOUNDARY"))
parts = body.split(b"--" + b.encode())
assert parts[-1] == b"--\r\n", "no closing delimiter"
for p in parts[1:-1]:
    ph, _, pd = p[2:-2].partition(b"\r\n\r\n")
    print("part:", ph.decode().replace("\r\n", " | "))
    if b"zstd" in ph:
        pd = subprocess.run(["zstd", "-dcq"], input=pd, capture_output=True, check=True).stdout
    print(pd.hex() if b"msgpack" in ph else pd.decode("latin-1"))
PY
}

@test "--protocol-v3: the request rspamc 4.1 sends (metadata, message, headers)" {
    rspamc_has --protocol-v3
    command -v zstd >/dev/null || skip "no zstd command"
    printf '{"action":"no action","score":0.0,"required_score":15.0,"symbols":{}}' >"$M/reply.json"
    fake_server json "$M/reply.json"
    n=0
    # rspamc 4.1 always compresses: rspamkit with -z
    # (not --msgpack alone: see the last test)
    for opts in "" "--msgpack -i 192.0.2.7" "-i 192.0.2.1 -F a@example.com -r b@example.org -r c@example.org --helo h.example --hostname mx.example -u u1 -d d@example.org --queue-id Q --log-tag L" \
        "--msgpack --settings {\"actions\":{\"reject\":3.5},\"x\":1} -p --raw --extended-urls --profile" \
        "--metadata-header K=V --metadata-header K2:v:2 --metadata-header K=W --metadata-header =x --metadata-header Z" \
        "--msgpack --metadata-header K=V --metadata-header K=W -i 192.0.2.9"; do
        # shellcheck disable=SC2086
        rspamc -h "127.0.0.1:$FAKE_PORT" --protocol-v3 $opts "$M/spam.eml" >/dev/null
        # shellcheck disable=SC2086
        rspamkit -h "127.0.0.1:$FAKE_PORT" -z --protocol-v3 $opts "$M/spam.eml" >/dev/null
        v3_request "$BATS_TEST_TMPDIR/fake.port.req.$((n + 1))" >"$M/rspamc.req"
        v3_request "$BATS_TEST_TMPDIR/fake.port.req.$((n + 2))" >"$M/rspamkit.req"
        n=$((n + 2))
        diff -u "$M/rspamc.req" "$M/rspamkit.req"
    done
    stop_fake
    grep -qx 'POST /checkv3' "$M/rspamkit.req"
    grep -qx 'accept: multipart/form-data' "$M/rspamkit.req"
}

@test "--protocol-v3: without -z the message part is the message as it is" {
    printf '{"action":"no action","score":0.0,"required_score":15.0,"symbols":{}}' >"$M/reply.json"
    fake_server json "$M/reply.json"
    rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --protocol-v3 -i 192.0.2.1 "$M/ham.eml" >/dev/null
    stop_fake
    v3_request "$BATS_TEST_TMPDIR/fake.port.req.1" >"$M/req"
    grep -qx '{"ip":"192.0.2.1"}' "$M/req"
    ! grep -qi 'zstd' "$M/req"
    # the message part, then the closing delimiter
    python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); m=open(sys.argv[2],"rb").read(); assert (b"\r\n\r\n" + m + b"\r\n--") in d' \
        "$BATS_TEST_TMPDIR/fake.port.req.1" "$M/ham.eml"
}

# A /checkv3 reply with a "body" part, as Rspamd 4 sends it when a rule rewrote
# the message (Accept-Encoding not asked: parts not compressed).
v3_rewritten_reply() {
    python3 - "$M" <<'PY'
import sys
d = sys.argv[1]
res = b'{"is_skipped":false,"score":20.0,"required_score":15.0,"action":"rewrite subject","subject":"[SPAM] t","symbols":{"S1":{"name":"S1","score":20.0,"metric_score":20.0}},"messages":{}}'
new = b"From: a@example.com\r\nSubject: [SPAM] t\r\n\r\nnew body\r\n"
b = b"rspamd-v3-0123456789abcdef-0"
body = (b"--" + b + b'\r\nContent-Disposition: form-data; name="result"\r\nContent-Type: application/json\r\n\r\n' + res +
        b"\r\n--" + b + b'\r\nContent-Disposition: form-data; name="body"\r\nContent-Type: application/octet-stream\r\n\r\n' + new +
        b"\r\n--" + b + b"--\r\n")
open(d + "/raw.http", "wb").write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nServer: rspamd/4.1.5\r\n" +
    b'Content-Type: multipart/form-data; boundary="' + b + b'"\r\nContent-Length: ' + str(len(body)).encode() + b"\r\n\r\n" + body)
open(d + "/new.eml", "wb").write(new)
PY
}

@test "--protocol-v3: a rewritten message (the body part): New body, --output-body, --mime" {
    v3_rewritten_reply
    fake_server raw "$M/raw.http"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --protocol-v3 "$M/ham.eml"
    [ "$status" -eq 0 ]
    [[ $output == *"Action: rewrite subject"*"New body:"*"Subject: [SPAM] t"*"new body"* ]]
    rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --protocol-v3 --output-body "$M/body.out" "$M/ham.eml" >"$M/out"
    cmp "$M/new.eml" "$M/body.out"
    rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --protocol-v3 --mime "$M/ham.eml" >"$M/mime.out"
    stop_fake
    grep -q '^X-Spam-Action: rewrite subject' "$M/mime.out"
    grep -q '^new body' "$M/mime.out"
    ! grep -q "^Subject: Minutes" "$M/mime.out"
}

@test "--protocol-v3: a rewritten message gives rspamc 4.1's output" {
    rspamc_has --protocol-v3
    v3_rewritten_reply
    fake_server raw "$M/raw.http"
    for opts in "" "-j" "--output-body=$M/OUT" "--mime"; do
        rspamc -h "127.0.0.1:$FAKE_PORT" --protocol-v3 ${opts/OUT/rspamc.body} "$M/ham.eml" |
            strip_times | grep -v -E '^X-Spam-Scan(ner|-Time):' | sed "s|$M/rspamc.body|FILE|" >"$M/rspamc.out"
        rspamkit -h "127.0.0.1:$FAKE_PORT" --protocol-v3 ${opts/OUT/rspamkit.body} "$M/ham.eml" |
            strip_times | grep -v -E '^X-Spam-Scan(ner|-Time):' | sed "s|$M/rspamkit.body|FILE|" >"$M/rspamkit.out"
        if [ "$opts" = --mime ]; then
            # rspamc 4.1.5 writes the reply past the body part, up to its closing
            # delimiter (it prints the part as a C string): not copied
            [ "$(tail -n 1 "$M/rspamc.out")" = $'--rspamd-v3-0123456789abcdef-0--\r' ]
            head -n -2 "$M/rspamc.out" >"$M/rspamc.cut" && mv "$M/rspamc.cut" "$M/rspamc.out"
        fi
        diff -u "$M/rspamc.out" "$M/rspamkit.out"
    done
    stop_fake
    cmp "$M/rspamc.body" "$M/rspamkit.body"
}

@test "--protocol-v3 on a server before Rspamd 4.0: one line naming /checkv3 and Rspamd 4.0, exit 69" {
    printf '{"error":"invalid command","error_domain":"protocol-error"}' >"$M/err.json"
    FAKE_SERVER_HEADER=rspamd/3.4 fake_server status 500 "$M/err.json"
    run rspamkit-scan -h "127.0.0.1:$FAKE_PORT" --protocol-v3 "$M/ham.eml"
    stop_fake
    [ "$status" -eq 69 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} == *"has no /checkv3 (Rspamd 3.4; --protocol-v3 needs Rspamd 4.0 or later)" ]]
    # the real server, when it is older than 4.0
    server_at_least 4.0 && return 0
    run rspamkit -h "$NORMAL" --protocol-v3 "$M/ham.eml"
    [ "$status" -eq 69 ]
    [[ $output == *"$NORMAL has no /checkv3 (Rspamd "*"; --protocol-v3 needs Rspamd 4.0 or later)"* ]]
    # in delivery mode the message is still delivered, with the error
    run rspamkit-scan -h "$NORMAL" --protocol-v3 --mime "$M/ham.eml"
    [ "$status" -eq 0 ]
    [[ $output == *"X-Spam-Error: $NORMAL has no /checkv3"* ]]
}

@test "--msgpack, --metadata-header without --protocol-v3: a note, then /checkv2 as rspamc does" {
    run rspamkit-scan -h "$NORMAL" --msgpack "$M/ham.eml"
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == *"note: --msgpack has no effect without --protocol-v3"* ]]
    [[ $output == *"Action: "* ]]
    rspamkit-scan -h "$NORMAL" --metadata-header K=V "$M/ham.eml" 2>"$M/err" >/dev/null
    grep -q -- "--metadata-header has no effect without --protocol-v3" "$M/err"
}

@test "--protocol-v3 --msgpack with nothing to put in the metadata: a result (rspamc 4.1.5 fails)" {
    server_at_least 4.0 || skip "no /checkv3 before Rspamd 4.0"
    run rspamkit-scan -h "$NORMAL" --protocol-v3 --msgpack "$M/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(grep '^Action:' <<<"$output")" = "Action: $(ref .action "$M/ham.eml")" ]
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

@test "every option and command word of this server's rspamc is known to rspamkit, with the same short letter" {
    for t in scan learn fuzzy ctl; do "rspamkit-$t" --help; done >"$M/ours" 2>&1
    rspamc --help >"$M/theirs" 2>&1 || true
    # "  -h, --connect  Specify..." and "  --compact ..." lines of GLib's help
    grep -oE '^ +(-[A-Za-z?], )?--[a-z0-9-]+' "$M/theirs" | sed 's/^ *//' | sort -u >"$M/opts"
    [ "$(wc -l <"$M/opts")" -ge 30 ]
    missing=
    while read -r opt; do
        long=${opt##* } short=
        [[ $opt == -?,* ]] && short=${opt%%,*}
        [ "$long" = --help ] && continue
        grep -qE -- "(^| )$long([ =[]|$)" "$M/ours" || missing+=" $long"
        [ -z "$short" ] || grep -qE -- "^ +$short, $long([ =[]|$)" "$M/ours" || missing+=" $short($long)"
    done <"$M/opts"
    [ -z "$missing" ] || { echo "unknown to rspamkit:$missing"; false; }
    # command words: rspamc --commands "  learn_spam (control*) ..."
    rspamc --commands 2>&1 | awk '$2 ~ /^\((normal|control)/ {print $1}' >"$M/words"
    [ "$(wc -l <"$M/words")" -ge 10 ]
    rspamkit --commands >"$M/ourwords"
    while read -r w; do
        grep -qE "^ +$w(:[A-Z]+)? " "$M/ourwords" || missing+=" $w"
    done <"$M/words"
    [ -z "$missing" ] || { echo "command words unknown to rspamkit:$missing"; false; }
}
