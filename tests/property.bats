#!/usr/bin/env bats
# No message lost through any door (issue 15): the delivery invariant of
# DESIGN.md as a property over generated cases (tests/property says what a
# case is made of and what is checked), the holes it found kept as tests, and
# 200 deliveries at once against a server that is down, then up (tests/property
# --storm: what it checks is in its storm()).
#
# Rspamd 3.4 only (not marked server-independent): what it tests is rspamkit's
# delivery path, and lda.bats runs the fault table on every version.
# The property test runs RK_PROP_CASES cases (default 2000), starting none after
# RK_PROP_TIME seconds (default 70), RK_PROP_JOBS at a time (default 6), from
# RK_PROP_SEED (default: a new one, printed); a failing case prints the line
# that runs it again:
#   RK_PROP_SEED=S RK_PROP_CASE=I tests/run tests/property.bats
# More on demand: RK_PROP_CASES=20000 RK_PROP_TIME=0 tests/run tests/property.bats

load helpers
bats_require_minimum_version 1.5.0

setup() {
    M="$BATS_TEST_TMPDIR"
    export RSPAMKIT_SYSCONFIG="$M/none" RSPAMKIT_CONFIG="$M/none"
    export OUT="$M/out"
    mkdir -p "$OUT"
    # deliver [EXIT]: stores stdin as $OUT/msg.PID
    printf '#!/bin/sh\ncat > "$OUT/msg.$$"\nexit "${1:-0}"\n' > "$M/deliver"
    chmod +x "$M/deliver"
    printf 'From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: property\n\nHello Bob.\n' > "$M/m.eml"
}
teardown() { stop_fake; }

deliveries() { find "$OUT" -type f | wc -l; }

@test "property: each generated case delivers once with its bytes intact, or nothing with exit 75 (as each door documents)" {
    run python3 "$SRC/tests/property" --cases "${RK_PROP_CASES:-2000}" --time "${RK_PROP_TIME:-70}" \
        --jobs "${RK_PROP_JOBS:-6}" --seed "${RK_PROP_SEED:-random}" ${RK_PROP_CASE:+--case "$RK_PROP_CASE"}
    echo "$output" # shown when the test fails: every failing case, replayable
    printf '# %s\n' "${lines[0]}" "${lines[@]: -1}" >&3
    [ "$status" -eq 0 ]
    # it ran cases, and they reached the doors and outcomes it draws from
    [[ ${lines[-1]} =~ ^([0-9]+)\ case\(s\)\ in\ .*\ 0\ failed ]]
    [ -n "${RK_PROP_CASE:-}" ] || [ "${BASH_REMATCH[1]}" -ge 300 ]
}

@test "property: a build that exits 0 when its delivery failed makes the property test fail" {
    # rspamkit-scan with the bug: 75 (nothing delivered) becomes 0
    mkdir "$M/broken"
    printf '#!/bin/sh\n%q "$@"\nst=$?\n[ $st -eq 75 ] && exit 0\nexit $st\n' "$(command -v rspamkit-scan)" \
        > "$M/broken/rspamkit-scan"
    chmod +x "$M/broken/rspamkit-scan"
    PATH="$M/broken:$PATH" run python3 "$SRC/tests/property" --cases 30 --seed 15 --jobs 4
    [ "$status" -eq 1 ]
    [[ $output == *"FAILED case "*" of seed 15: exit status 0, expected 75"* ]]
    [[ $output == *"replay: RK_PROP_SEED=15 RK_PROP_CASE="* ]]
}

@test "200 deliveries at once against a server that is down, then up, sharing --dead-time's state file: each delivered once, the file never corrupt" {
    run python3 "$SRC/tests/property" --storm 200
    echo "$output"
    printf '# %s\n' "${lines[@]: -1}" >&3
    [ "$status" -eq 0 ]
    # both sides were reached: some found the server down, some up
    [[ ${lines[-1]} =~ ([0-9]+)\ exit\ 75\ retried.*\ ([0-9]+)\ unscanned ]]
    [ "${BASH_REMATCH[1]}" -gt 0 ] && [ "${BASH_REMATCH[2]}" -gt 0 ]
}

# ---- the holes it found, one case each --------------------------------

@test "front door: --mime --exec CMD -- - delivers standard input once, with the command's status (was exit 66 after delivering)" {
    mkdir "$M/bin"
    ln -s "$(command -v rspamkit)" "$M/bin/rspamc"
    for prog in rspamkit "$M/bin/rspamc"; do
        rm -f "$OUT"/*
        run --separate-stderr "$prog" -t 10 -h "$NORMAL" --mime --exec "$M/deliver 3" -- - < "$M/m.eml"
        [ "$status" -eq 3 ]
        [ -z "$stderr" ]
        [ "$(deliveries)" -eq 1 ]
        grep -q '^X-Spam-Action: ' "$OUT"/msg.*
        # the command word after -- still goes (rspamc's grammar)
        rm -f "$OUT"/*
        run --separate-stderr "$prog" -t 10 -h "$NORMAL" --mime --exec "$M/deliver" -- symbols - < "$M/m.eml"
        [ "$status" -eq 0 ]
        [ "$(deliveries)" -eq 1 ]
    done
    # a word that starts with - and is not - alone still makes -- an input, as rspamc has it
    run --separate-stderr rspamkit -h "$NORMAL" -- -j "$M/m.eml"
    [ "$status" -ne 0 ]
}

@test "an empty input with an invalid configuration is delivered as it is, also with --tempfail (was X-Spam-Error added, or 75)" {
    printf 'timeoutt = 5;\n' > "$M/config"
    export RSPAMKIT_CONFIG="$M/config"
    for tf in "" --tempfail; do
        rm -f "$OUT"/*
        run --separate-stderr rspamkit-scan -h "$NORMAL" $tf --mime --exec "$M/deliver" < /dev/null
        [ "$status" -eq 0 ]
        [ "$(deliveries)" -eq 1 ]
        [ ! -s "$OUT"/msg.* ]
        run --separate-stderr rspamkit-scan -h "$NORMAL" $tf --mime < /dev/null
        [ "$status" -eq 0 ]
        [ -z "$output" ]
    done
    # a message that is not empty still follows the failure policy
    run --separate-stderr rspamkit-scan -h "$NORMAL" --tempfail --mime --exec "$M/deliver" < "$M/m.eml"
    [ "$status" -eq 75 ]
}

@test "spamc mode: output that cannot be written exits 74, also when the reader has gone (was 0, nothing delivered)" {
    cat > "$M/unwritable.py" <<'EOF'
# unwritable.py closed|full CMD...: CMD with its stdout a pipe nobody reads, or /dev/full
import os, subprocess, sys
how, argv = sys.argv[1], sys.argv[2:]
if how == "closed":
    r, w = os.pipe()
    os.close(r)
else:
    w = os.open("/dev/full", os.O_WRONLY)
sys.exit(subprocess.run(argv, stdout=w).returncode)
EOF
    for how in closed full; do
        for x in "" -x; do
            run --separate-stderr python3 "$M/unwritable.py" "$how" rspamkit spamc $x -d "$NORMAL" -t 10 < "$M/m.eml"
            [ "$status" -eq 74 ]
            [[ $stderr == *"error writing output: "* ]]
        done
    done
}

@test "spamc mode: a --password-file the scanning user cannot read does not stop a scan (was 66 with -x, unscanned without)" {
    for x in "" -x "-x -X"; do
        run --separate-stderr rspamkit spamc $x -d "$NORMAL" -t 10 --password-file "$M/no-such-password" < "$M/m.eml"
        [ "$status" -eq 0 ]
        grep -q '^X-Spam-Status: ' <<<"$output"
    done
    # -L needs it, and says why not
    run --separate-stderr rspamkit spamc -L spam --controller "$CONTROLLER" --password-file "$M/no-such-password" < "$M/m.eml"
    [ "$status" -eq 66 ]
    [[ $stderr == *"$M/no-such-password"* ]]
}
