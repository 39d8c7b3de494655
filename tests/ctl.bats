#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# rspamkit-ctl: stat, stat_reset, counters, uptime, actions, add_symbol,
# add_action, against the private Rspamd and against the fixtures of
# spec/rspamc.md (Appendix B F5/F6, exact renderings in Appendix C).

load helpers
bats_require_minimum_version 1.5.0

SYM=HFILTER_HELO_IP_A   # a symbol no test message triggers

setup() {
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    T=$BATS_TEST_TMPDIR
}
teardown() { stop_fake; }

# Restore the settings the add_* tests change (also when they failed).
teardown_file() {
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    rspamkit-ctl -h "$CONTROLLER" add_action reject 15 >/dev/null || true
    rspamkit-ctl -h "$CONTROLLER" add_action add_header 6 >/dev/null || true
    rspamkit-ctl -h "$CONTROLLER" add_action greylist 4 >/dev/null || true
    rspamkit-ctl -h "$CONTROLLER" add_symbol "$SYM" 1 >/dev/null || true
    # wait until the normal worker has reread the dynamic configuration
    for _ in $(seq 50); do
        rspamkit-scan -h "$NORMAL" "$MSGS/ham.eml" | grep -q '^Score: .* / 15.00$' && break
        sleep 0.1
    done
}

F5='[{"symbol":"SHORT","weight":1.5,"frequency":0.05,"frequency_stddev":0.01,"hits":12,"time":0.5},{"symbol":"A_VERY_LONG_SYMBOL_NAME_THAT_EXCEEDS_THE_LIMIT_XYZ","weight":-2.25,"frequency":0.1234,"hits":7,"time":1.5},{"symbol":"MID","weight":10.0,"frequency":0.0,"frequency_stddev":0.0,"hits":0,"time":0.0},{"symbol":"ZZ","weight":0.0,"frequency":1.0,"frequency_stddev":0.5,"hits":123456789,"time":0.1}]'
F6='{"version":"3.4","uptime":100,"scanned":3,"learned":3,"actions":{"reject":2,"no action":1},"scan_times":[0.5,0.25,1],"spam_count":2,"ham_count":1,"connections":5,"control_connections":6,"pools_allocated":1,"pools_freed":2,"bytes_allocated":3,"chunks_allocated":4,"shared_chunks_allocated":5,"chunks_freed":6,"chunks_oversized":7,"fuzzy_hashes":{"local":10,"remote":5},"fuzzy_checked":[1,2,3],"fuzzy_found":[0,1],"statfiles":[{"revision":12,"used":10,"total":100,"size":2048,"symbol":"BAYES_SPAM","type":"redis","languages":0,"users":1,"label":"spam"},{"revision":3,"used":0,"total":0,"size":0,"symbol":"BAYES_HAM","type":"redis","languages":2,"users":0}],"total_learns":15}'

# fake JSON: serve the JSON text $1 from the fake server.
fake() {
    printf '%s' "$1" > "$T/reply.json"
    fake_server json "$T/reply.json"
    FAKE=127.0.0.1:$FAKE_PORT
}

@test "stat of fixture F6 is Appendix C.2 exactly" {
    fake "$F6"
    run rspamkit-ctl -h "$FAKE" stat
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == "Results for command: stat ("*" seconds)" ]]
    expected='Messages scanned: 3
Messages with action reject: 2, 66.67%
Messages with action no action: 1, 33.33%
Messages treated as spam: 2, 66.67%
Messages treated as ham: 1, 33.33%
Messages learned: 3
Connections count: 5
Control connections count: 6
Average scan time: 0.583 sec
Pools allocated: 1
Pools freed: 2
Bytes allocated: 3
Memory chunks allocated: 4
Shared chunks allocated: 5
Chunks freed: 6
Oversized chunks: 7
Fuzzy hashes in storage "local": 10
Fuzzy hashes in storage "remote": 5
Fuzzy hashes stored: 15
Fuzzy hashes checked: 1 2 3 
Fuzzy hashes found: 0 1 
Statfile: BAYES_SPAM <spam> type: redis; length: 2048; free blocks: 90; total blocks: 100; free: 90.00%; learned: 12; users: 1; languages: 0
Statfile: BAYES_HAM type: redis; length: 0; free blocks: 0; total blocks: 0; free: 0.00%; learned: 3; users: 0; languages: 2
Total learns: 15
'
    rspamkit-ctl -h "$FAKE" stat | tail -n +2 > "$T/ours"
    diff "$T/ours" <(printf '%s\n' "$expected")
    head -n 1 "$BATS_TEST_TMPDIR/fake.port.req.1" | grep -q '^GET /stat HTTP'
}

@test "counters of fixture F5 is Appendix C.1 exactly" {
    fake "$F5"
    d=' --------------------------------------------------------------------------------- '
    expected="Symbols cache
$d
| Pri  | Symbol                                | Weight  |   Frequency   |  Hits   |
$d
|      |                                       |         |   hits/min    |         |
$d
| 0    | A_VERY_LONG_SYMBOL_NAME_THAT_EXCEE... |  -2.2   | 7.404 (0.000) |    7    |
$d
| 1    | MID                                   |  10.0   | 0.000 (0.000) |    0    |
$d
| 2    | SHORT                                 |   1.5   | 3.000 (0.600) |   12    |
$d
| 3    | ZZ                                    |   0.0   | 60.000(30.000) | 123456789 |
$d
"
    rspamkit-ctl -h "$FAKE" counters | tail -n +2 > "$T/ours"
    diff "$T/ours" <(printf '%s\n' "$expected")
}

@test "counters: the \"avg (stddev)\" row of rspamc 4.x for a 4.x server, from its Server header" {
    avg='|      |                                       |         | avg (stddev)  |         |'
    for server in rspamd/4.1.5:1 rspamd/4.0.0:1 rspamd/3.12.1:0 rspamd/3.4:0 other/5.0:0 rspamd/:0; do
        FAKE_SERVER_HEADER=${server%:*} fake "$F5"
        run rspamkit-ctl -h "$FAKE" counters
        [ "$status" -eq 0 ]
        [ "$(grep -cxF -- "$avg" <<<"$output")" -eq "${server##*:}" ] || { echo "$server"; false; }
        # the row comes right before the hits/min one
        [ "${server##*:}" = 0 ] || [ "${lines[5]}" = "$avg" ]
        grep -q '| *hits/min *|' <<<"$output"
        stop_fake
    done
}

@test "fixtures: every format and --sort equal rspamc's" {
    # the fake server names the private server's version: rspamkit follows it
    export FAKE_SERVER_HEADER=rspamd/$(server_version)
    fake "$F5"
    for args in "" "--sort weight" "--sort hits:asc" "--sort frequency" "--sort time" "--sort name:asc" \
        -j --compact --ucl; do
        diff <(rspamkit-ctl -h "$FAKE" $args counters | strip_times) \
             <(rspamc -h "$FAKE" $args counters | strip_times)
    done
    stop_fake
    fake "$F6"
    for c in stat stat_reset; do
        for args in "" -j --compact --ucl; do
            diff <(rspamkit-ctl -h "$FAKE" $args $c | strip_times) <(rspamc -h "$FAKE" $args $c | strip_times)
        done
    done
    grep -q '^GET /statreset HTTP' "$BATS_TEST_TMPDIR"/fake.port.req.*
}

@test "stat without scans prints no per-action lines; missing keys print 0" {
    fake '{"scanned":0,"actions":{"reject":0}}'
    run rspamkit-ctl -h "$FAKE" stat
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Messages scanned: 0" ]
    [ "${lines[2]}" = "Messages learned: 0" ]
    ! grep -q 'Average scan time\|Fuzzy\|Statfile' <<<"$output"
    [ "${lines[-1]}" = "Total learns: 0" ]
    diff <(rspamkit-ctl -h "$FAKE" stat | strip_times) <(rspamc -h "$FAKE" stat | strip_times)
}

@test "uptime: the version and correct plurals, not 3.4's %s" {
    for pair in "0:0 second" "1:1 second" "59:59 seconds" "60:0 hour 1 minute 0 second" \
        "3599:0 hour 59 minutes 59 seconds" "3661:1 hour 1 minute 1 second" \
        "7199:1 hour 59 minutes 59 seconds" "7200:0 day 2 hours 0 minute" \
        "90061:1 day 1 hour 1 minute" "200000:2 days 7 hours 33 minutes"; do
        fake "{\"version\":\"3.4\",\"auth\":\"ok\",\"uptime\":${pair%%:*}}"
        run rspamkit-ctl -h "$FAKE" uptime
        [ "$status" -eq 0 ]
        [ "${lines[1]}" = "Rspamd version: 3.4" ]
        [ "${lines[2]}" = "Uptime: ${pair#*:}" ] || { echo "${pair}: ${lines[2]}"; false; }
        head -n 1 "$BATS_TEST_TMPDIR/fake.port.req.1" | grep -q '^GET /auth HTTP'
        # rspamc 3.4 agrees except for its two bugs
        theirs=$(rspamc -h "$FAKE" uptime | sed -n 3p | sed 's/second%s/seconds/')
        [ "$theirs" = "Uptime: ${pair#*:}" ] || [[ ${pair%%:*} -lt 2 ]]
        stop_fake
    done
}

@test "the real server: stat and counters as rspamc prints them; uptime" {
    norm() { strip_times | sed -E 's/[0-9]+(\.[0-9]+)?/N/g'; }
    for c in stat counters; do
        run rspamkit-ctl -h "$CONTROLLER" "$c"
        [ "$status" -eq 0 ]
        ours=$(norm <<<"$output")
        theirs=$(rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" "$c" | norm)
        [ "$ours" = "$theirs" ] || { diff <(echo "$ours") <(echo "$theirs"); false; }
    done
    run rspamkit-ctl -h "$CONTROLLER" uptime
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Rspamd version: $(server_version)" ]
    [[ ${lines[2]} =~ ^Uptime:\ [0-9]+\ (second|hour|day) ]]
    run rspamkit-ctl -j -h "$CONTROLLER" stat
    [ "$(jq -r .version <<<"$output")" = "$(server_version)" ]
    jq -e '.scan_time >= 0' <<<"$output" >/dev/null
}

@test "front door: rspamkit stat / counters / uptime, and -P with the tool" {
    run rspamkit -h "$CONTROLLER" stat
    [ "$status" -eq 0 ]
    grep -q '^Messages scanned: [0-9]*$' <<<"$output"
    run rspamkit -h "$CONTROLLER" --sort hits counters
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Symbols cache" ]
    run rspamkit ctl -h "$CONTROLLER" UPTIME
    [ "$status" -eq 0 ]
    unset RSPAMKIT_PASSWORD
    run rspamkit -h "$CONTROLLER" uptime -P "$RK_PASSWORD"
    [ "$status" -eq 0 ]
    run rspamkit-ctl -h "$CONTROLLER" -P "$RK_PASSWORD" uptime
    [ "$status" -eq 0 ]
}

@test "actions lists the thresholds" {
    run rspamkit-ctl -h "$CONTROLLER" actions
    [ "$status" -eq 0 ]
    grep -q '^reject: 15.00$' <<<"$output"
    grep -q '^add header: 6.00$' <<<"$output"
    grep -q '^soft reject: disabled$' <<<"$output"
}

@test "add_action changes a threshold the scans then use; unchanged sends nothing" {
    run rspamkit-ctl -h "$CONTROLLER" add_action reject 18.5
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Action reject: score 18.50 (was 15.00)" ]
    rspamkit-ctl -h "$CONTROLLER" actions | grep -q '^reject: 18.50$'
    rspamkit-ctl -h "$CONTROLLER" actions | grep -q '^add header: 6.00$'
    for _ in $(seq 50); do
        rspamkit-scan -h "$NORMAL" "$MSGS/ham.eml" | grep -q '^Score: .* / 18.50$' && break
        sleep 0.1
    done
    rspamkit-scan -h "$NORMAL" "$MSGS/ham.eml" | grep -q '^Score: .* / 18.50$'
    run rspamkit-ctl -h "$CONTROLLER" add_action Add-Header 7
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Action add header: score 7.00 (was 6.00)" ]
    run rspamkit-ctl -h "$CONTROLLER" add_action reject 18.5
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Action reject: score already 18.50, nothing changed" ]
    run rspamkit-ctl -h "$CONTROLLER" add_action reject 15
    [ "$status" -eq 0 ]
    run rspamkit-ctl -h "$CONTROLLER" add_action add_header 6
    [ "$status" -eq 0 ]
}

@test "add_action: what 3.4 cannot do is refused with the reason" {
    run rspamkit-ctl -h "$CONTROLLER" add_action "soft reject" 10
    [ "$status" -eq 64 ]
    [[ $output == *"sets only reject, rewrite_subject, add_header and greylist"* ]]
    run rspamkit-ctl -h "$CONTROLLER" add_action greylist off
    [ "$status" -eq 64 ]
    [[ $output == *"never applies it"* ]]
    run rspamkit-ctl -h "$CONTROLLER" add_action reject
    [ "$status" -eq 64 ]
}

@test "add_action sends the four scores of /saveactions in 3.4's order" {
    printf '[{"action":"greylist","value":4.0},{"action":"add header","value":6.0},{"action":"reject","value":15.0},{"action":"rewrite subject","value":null}]' > "$T/a.json"
    fake_server json "$T/a.json"
    # the fake answers every request with /actions; the read-back then fails
    run rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" add_action greylist 5
    [ "$status" -eq 76 ]
    [[ $output == *"the server answered success, but still reports greylist at 4.00"* ]]
    req=$BATS_TEST_TMPDIR/fake.port.req.2
    head -n 1 "$req" | grep -q '^POST /saveactions HTTP'
    [ "$(sed -n '$p' "$req")" = '[15.0,null,6.0,5.0]' ]
}

@test "add_symbol changes a weight, refuses an unknown symbol" {
    run rspamkit-ctl -h "$CONTROLLER" add_symbol "$SYM" 2.5
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Symbol $SYM: weight 2.50 (was 1.00)" ]
    w=$(curl -s -H "Password: $RK_PASSWORD" "http://$CONTROLLER/symbols" |
        jq --arg s "$SYM" '.[].rules[] | select(.symbol == $s) | .weight')
    [ "$w" = 2.5 ]
    run rspamkit-ctl -h "$CONTROLLER" add_symbol "$SYM" 2.5
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Symbol $SYM: weight already 2.50, nothing changed" ]
    run rspamkit-ctl -h "$CONTROLLER" add_symbol "$SYM" 1
    [ "$status" -eq 0 ]
    run rspamkit-ctl -h "$CONTROLLER" add_symbol NO_SUCH_SYMBOL_XYZ 1
    [ "$status" -eq 64 ]
    [[ $output == *"the server has no symbol 'NO_SUCH_SYMBOL_XYZ'"* ]]
    run rspamkit-ctl -h "$CONTROLLER" add_symbol "$SYM" heavy
    [ "$status" -eq 64 ]
}

@test "usage errors and the rspamc words rspamc 3.4 cannot run" {
    run rspamkit-ctl -h "$CONTROLLER"
    [ "$status" -eq 64 ]
    run rspamkit-ctl -h "$CONTROLLER" stat extra
    [ "$status" -eq 64 ]
    run rspamkit-ctl -h "$CONTROLLER" bogus
    [ "$status" -eq 64 ]
    run rspamkit-ctl --sort bogus -h "$CONTROLLER" counters
    [ "$status" -eq 64 ]
    # rspamc 3.4 takes the word for a file name
    run rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" add_symbol "$SYM" 1
    [ "$status" -eq 1 ]
    [[ $output == *"cannot stat file add_symbol"* ]]
    run rspamkit -h "$CONTROLLER" add_symbol "$SYM" 1
    [ "$status" -eq 0 ]
}

@test "server errors: unreachable 69, 5xx 75, garbage 76, not an object 76" {
    run rspamkit-ctl -h "$RK_HOST:$(closed_port)" stat
    [ "$status" -eq 69 ]
    fake_server http500
    run rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" stat
    [ "$status" -eq 75 ]
    stop_fake
    fake_server garbage
    run rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" stat
    [ "$status" -eq 76 ]
    stop_fake
    fake '[1,2]'
    run rspamkit-ctl -h "$FAKE" stat
    [ "$status" -eq 76 ]
    [[ $output == *"not a JSON object"* ]]
}

@test "stat with nan and inf in scan_times: -j and --compact are valid JSON (null), text averages the numbers" {
    fake '{"version":"3.4","scanned":2,"scan_times":[0.5,nan,-nan,inf,1],"actions":{"reject":1},"note":"nan"}'
    for tool in rspamkit-ctl rspamkit; do   # the front door takes rspamc's command line
        for f in -j --compact; do
            run $tool -h "$FAKE" $f stat
            [ "$status" -eq 0 ]
            jq -e '.scan_times == [0.5,null,null,null,1] and .note == "nan"' <<<"$output"
        done
    done
    # rspamc 3.4 passes the nan on: its JSON does not parse
    if [ "$RK_SERVER" = 3.4 ]; then
        run bash -c 'rspamc -h "$1" --compact stat | jq . >/dev/null 2>&1' _ "$FAKE"
        [ "$status" -ne 0 ]
    fi
    run rspamkit-ctl -h "$FAKE" stat
    [ "$status" -eq 0 ]
    grep -qx 'Average scan time: 0.750 sec' <<<"$output"
}

@test "ping: pong and exit 0 from the controller, the scanner and its socket, no password needed" {
    for h in "$CONTROLLER" "$NORMAL" "$RK_NORMAL_SOCK"; do
        RSPAMKIT_PASSWORD=wrong run --separate-stderr rspamkit-ctl -h "$h" ping
        [ "$status" -eq 0 ] || { echo "$h: $status $stderr"; false; }
        [ "$output" = pong ]
        [ -z "$stderr" ]
    done
    # the server's own answer, for comparison
    [ "$(curl -s "http://$CONTROLLER/ping" | tr -d '\r')" = pong ]
    run rspamkit ctl -h "$CONTROLLER" ping
    [ "$status" -eq 0 ]
    [ "$output" = pong ]
    run rspamkit-ctl -h "$CONTROLLER" ping extra
    [ "$status" -eq 64 ]
}

@test "ping: one error line and the failure's exit code when nothing or something else answers" {
    run --separate-stderr rspamkit-ctl -h "$RK_HOST:$(closed_port)" ping
    [ "$status" -eq 69 ]
    [ -z "$output" ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == "rspamkit-ctl: "*"$RK_HOST:"* ]]
    fake_server http500
    run rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" ping
    [ "$status" -eq 75 ]
    stop_fake
    fake_server empty200
    run --separate-stderr rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" ping
    [ "$status" -eq 76 ]
    [[ $stderr == *"/ping"*"empty body"* ]]
    stop_fake
    fake '{"pong": true}'
    run --separate-stderr rspamkit-ctl -h "$FAKE" ping
    [ "$status" -eq 76 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == *"not \"pong\""* ]]
    [ -z "$output" ]
}
