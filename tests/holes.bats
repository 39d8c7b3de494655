#!/usr/bin/env bats
# Holes that lost mail or bounced it (issue 12, item 1), one test or more per
# hole; and the exit-status contract of the front door (item 3).

load helpers
bats_require_minimum_version 1.5.0

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
    export RSPAMKIT_SYSCONFIG="$M/none" RSPAMKIT_CONFIG="$M/none"
}

# refute CMD...: fails when CMD succeeds (a plain "! CMD" never fails a bats test).
refute() { if "$@"; then return 1; fi; }

# A directory an unprivileged user can reach, and `other CMD...` runs CMD as a
# user that cannot read the files private() made: as root, nobody (root
# reads anything); as anyone else, that user, with the files at mode 000.
shared_dir() {
    D=$(mktemp -d /tmp/rspamkit-holes.XXXXXX)
    chmod 755 "$D"
    mkdir "$D/home"
    if [ "$(id -u)" -eq 0 ]; then
        chown 65534 "$D/home"
        other rspamkit-scan --version >/dev/null 2>&1 || skip "nobody cannot run the build in $RK_BUILDDIR"
    fi
}
private() { if [ "$(id -u)" -eq 0 ]; then chmod 600 "$@"; else chmod 000 "$@"; fi; }
other() {
    local cmd
    cmd=$(command -v "$1") && shift
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$D/home" XDG_CACHE_HOME="$D/home" \
            XDG_STATE_HOME="$D/home" RSPAMKIT_CONFIG="$D/none" "$cmd" "$@"
    else
        env RSPAMKIT_CONFIG="$D/none" "$cmd" "$@"
    fi
}
teardown() { [ -z "${D:-}" ] || rm -rf "$D"; }

# ---- 2. settings a command does not need do not stop it -----------------

@test "a system config with the password that this user cannot read: --mime still scans (was exit 64)" {
    shared_dir
    printf 'password = "%s";\n' "$RK_PASSWORD" >"$D/config"
    private "$D/config"
    export RSPAMKIT_SYSCONFIG="$D/config"
    run --separate-stderr other rspamkit-scan -h "$NORMAL" --mime <"$M/spam.eml"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    grep -qx "X-Spam-Action: $(ref .action "$M/spam.eml")" <<<"$output"
    run --separate-stderr other rspamkit-scan -h "$NORMAL" <"$M/ham.eml"
    [ "$status" -eq 0 ]
    # a command that needs the password says none was given
    run --separate-stderr other rspamkit-ctl -h "$CONTROLLER" stat
    [ "$status" -eq 77 ]
    [[ $stderr == *"no password was given"* ]]
}

@test "password_file pointing at a root-only file: a scan runs (was exit 66), learn still says why not" {
    shared_dir
    printf '%s\n' "$RK_PASSWORD" >"$D/pw"
    cp "$M/spam.eml" "$D/"; chmod 644 "$D/spam.eml"
    private "$D/pw"
    printf 'password_file = "%s";\n' "$D/pw" >"$D/config"
    chmod 644 "$D/config"
    export RSPAMKIT_SYSCONFIG="$D/config"
    run --separate-stderr other rspamkit-scan -h "$NORMAL" --mime <"$M/ham.eml"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    grep -q '^X-Spam-Action: ' <<<"$output"
    run --separate-stderr other rspamkit-learn -h "$CONTROLLER" --spam "$D/spam.eml"
    [ "$status" -eq 66 ]
    [[ $stderr == *"$D/pw"* ]]
}

@test "a password in a group-readable config: the message says group; a scan is not stopped" {
    printf 'password = "%s";\n' "$RK_PASSWORD" >"$M/config"
    export RSPAMKIT_CONFIG="$M/config"
    chmod 640 "$M/config"
    run --separate-stderr rspamkit-ctl -h "$CONTROLLER" stat
    [ "$status" -eq 77 ]
    [[ $stderr == *"readable by group (mode 640)"* ]]
    chmod 604 "$M/config"
    run --separate-stderr rspamkit-ctl -h "$CONTROLLER" stat
    [ "$status" -eq 77 ]
    [[ $stderr == *"readable by others (mode 604)"* ]]
    chmod 644 "$M/config"
    run --separate-stderr rspamkit-ctl -h "$CONTROLLER" stat
    [[ $stderr == *"readable by group and others (mode 644)"* ]]
    run --separate-stderr rspamkit-scan -h "$NORMAL" --mime <"$M/ham.eml"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    chmod 600 "$M/config"
    run rspamkit-ctl -h "$CONTROLLER" stat
    [ "$status" -eq 0 ]
}

# ---- 3. a configuration problem in delivery mode: the failure policy ---------

@test "a typo in the config file: delivery goes on unscanned with X-Spam-Error (was exit 64), 75 with --tempfail" {
    printf 'timeoutt = 5;\n' >"$M/config"
    export RSPAMKIT_CONFIG="$M/config"
    printf '#!/bin/sh\ncat > "$1"\n' >"$M/deliver"
    chmod +x "$M/deliver"
    run --separate-stderr rspamkit-scan -h "$NORMAL" --mime --exec "$M/deliver $M/out" <"$M/ham.eml"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    grep -q "^X-Spam-Error: $M/config: unknown setting 'timeoutt'" "$M/out"
    refute grep -q '^X-Spam-Action:' "$M/out"
    # --mime alone: the message on stdout, unscanned
    run --separate-stderr rspamkit-scan -h "$NORMAL" --mime <"$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -q '^X-Spam-Error: ' <<<"$output"
    grep -q '^Subject: ' <<<"$output"
    # --tempfail: nothing delivered, 75
    rm -f "$M/out"
    run --separate-stderr rspamkit-scan -h "$NORMAL" --tempfail --mime --exec "$M/deliver $M/out" <"$M/ham.eml"
    [ "$status" -eq 75 ]
    [ ! -e "$M/out" ]
    # the front door too
    run --separate-stderr rspamkit -h "$NORMAL" --mime --exec "$M/deliver $M/out" <"$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -q '^X-Spam-Error: ' "$M/out"
    # outside delivery mode it stays an error
    run --separate-stderr rspamkit-scan -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 64 ]
    [[ $stderr == *"unknown setting 'timeoutt'"* ]]
    # a server address in the file that does not parse: the same
    printf 'host = "[::1";\n' >"$M/config"
    rm -f "$M/out"
    run --separate-stderr rspamkit-scan --mime --exec "$M/deliver $M/out" <"$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -q "^X-Spam-Error: invalid server address" "$M/out"
    run --separate-stderr rspamkit-scan "$M/ham.eml"
    [ "$status" -eq 64 ]
}

# ---- 4. a controller command sent to the scanner port --------------------

@test "learn, fuzzy and stat on the scanner port: the error names the controller port, not a temporary failure (was 75)" {
    for cmd in "rspamkit stat" "rspamkit learn_spam $M/spam.eml" "rspamkit-learn --spam $M/spam.eml" \
               "rspamkit-ctl stat" "rspamkit-fuzzy -f 1 add $M/spam.eml"; do
        # shellcheck disable=SC2086
        run --separate-stderr ${cmd%% *} -h "$NORMAL" -P "$RK_PASSWORD" ${cmd#* }
        [ "$status" -ne 75 ]
        [ "$status" -eq 64 ]
        # (rspamc's words print it on stdout, as rspamc does)
        [[ "$output$stderr" == *"$NORMAL is a scanner port"*"controller (port 11334"* ]]
    done
}

@test "a 403 when no password was given says so" {
    run --separate-stderr rspamkit-ctl -h "$CONTROLLER" stat
    [ "$status" -eq 77 ]
    [[ $stderr == *"authentication refused by $CONTROLLER: no password was given"* ]]
    run --separate-stderr rspamkit-ctl -h "$CONTROLLER" -P wrong-password stat
    [ "$status" -eq 77 ]
    [[ $stderr != *"no password"* ]]
}

# ---- 5. a Maildir as the man page scans it --------------------------------

@test "scanning a Maildir skips Dovecot's files; --maildir-folders adds the Maildir++ folders" {
    md="$M/Maildir"
    mkdir -p "$md/cur" "$md/new" "$md/tmp" "$md/.Junk/cur" "$md/.Junk/new" "$md/.Junk/tmp"
    cp "$M/ham.eml" "$md/cur/1.host:2,S"
    cp "$M/spam.eml" "$md/new/2.host"
    cp "$M/spam.eml" "$md/tmp/3.host"
    cp "$M/spam.eml" "$md/.Junk/cur/4.host:2,S"
    printf '3 V1700000000 N3 G0123\n1 :1.host:2,S\n' >"$md/dovecot-uidlist"
    printf 'Junk\nSent\n' >"$md/subscriptions"
    : >"$md/.Junk/maildirfolder"
    printf '3 V1700000000 N5\n' >"$md/.Junk/dovecot-uidlist"
    head -c 2048 /bin/ls >"$md/dovecot.index"
    head -c 2048 /bin/ls >"$md/dovecot.index.log"
    head -c 512 /bin/ls >"$md/dovecot-keywords"
    run --separate-stderr rspamkit-scan -h "$NORMAL" --compact "$md"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$(jq -r .filename <<<"$output" | sort | tr '\n' ' ')" = "$md/cur/1.host:2,S $md/new/2.host " ]
    run --separate-stderr rspamkit-scan -h "$NORMAL" --compact --maildir-folders "$md"
    [ "$status" -eq 0 ]
    [ "$(jq -r .filename <<<"$output" | sort | tr '\n' ' ')" = "$md/.Junk/cur/4.host:2,S $md/cur/1.host:2,S $md/new/2.host " ]
    # the front door, as rspamc's words
    run --separate-stderr rspamkit -h "$NORMAL" --compact symbols "$md"
    [ "$status" -eq 0 ]
    [ "$(jq -r .filename <<<"$output" | wc -l)" -eq 2 ]
}

# ---- 6. -t -1 and --check with several inputs -----------------------------

@test "-t -1 is refused with one line (was replaced by the default), in every tool and the front door" {
    for cmd in rspamkit-scan rspamkit; do
        run --separate-stderr "$cmd" -t -1 -h "$NORMAL" "$M/ham.eml"
        [ "$status" -eq 64 ]
        [ -z "$output" ]
        [ "$stderr" = "rspamkit-scan: invalid -t/--timeout -1: a number of seconds, 0 or more (0 waits forever)" ]
    done
    run --separate-stderr rspamkit-learn -t -2.5 -h "$CONTROLLER" --spam "$M/spam.eml"
    [ "$status" -eq 64 ]
    [[ $stderr == *"invalid -t/--timeout -2.5"* ]]
    run --separate-stderr rspamkit-scan --connect-timeout -1 -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 64 ]
    # delivery mode: the failure policy, the message says why it was not scanned
    run --separate-stderr rspamkit-scan -t -1 -h "$NORMAL" --mime <"$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -q '^X-Spam-Error: invalid -t/--timeout -1' <<<"$output"
    # 0 still means no timeout
    run rspamkit-scan -t 0 -h "$NORMAL" "$M/ham.eml"
    [ "$status" -eq 0 ]
}

@test "--check with several inputs labels each line with its file; one input stays unlabelled" {
    run --separate-stderr rspamkit-scan --check -h "$NORMAL" "$M/ham.eml" "$M/spam.eml"
    want_ham=$(printf '%.1f/%.1f' "$(ref .score "$M/ham.eml")" "$(ref .required_score "$M/ham.eml")")
    want_spam=$(printf '%.1f/%.1f' "$(ref .score "$M/spam.eml")" "$(ref .required_score "$M/spam.eml")")
    [ "${lines[0]}" = "$M/ham.eml: $want_ham" ]
    [ "${lines[1]}" = "$M/spam.eml: $want_spam" ]
    [ "${#lines[@]}" -eq 2 ]
    mkdir "$M/dir" && cp "$M/ham.eml" "$M/dir/"
    run --separate-stderr rspamkit-scan --check -h "$NORMAL" "$M/dir"
    [ "$output" = "$M/dir/ham.eml: $want_ham" ]
    run --separate-stderr rspamkit-scan --check -h "$NORMAL" "$M/ham.eml"
    [ "$output" = "$want_ham" ]
    run --separate-stderr rspamkit-scan --check -h "$NORMAL" <"$M/ham.eml"
    [ "$output" = "$want_ham" ]
}

# ---- item 3: the exit-status contract through the front door -------------

# rspamc_like DIR: DIR/rspamc is rspamkit under rspamc's name
rspamc_like() {
    mkdir -p "$1"
    ln -sf "$(command -v rspamkit)" "$1/rspamc"
}

@test "rspamc's words: already learned and a learn the server skips exit 0 like rspamc 3.4; rspamkit-learn keeps 2" {
    rspamc_like "$M/bin"
    printf 'From: a@example.com\nTo: b@example.org\nSubject: hi\nMessage-ID: <few-%s@example.com>\n\nhello there\n' \
        "$BATS_TEST_NUMBER" >"$M/few.eml"
    # too few tokens: the server skips the learn
    run rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" learn_ham "$M/few.eml"
    ref_status=$status
    [ "$ref_status" -eq 0 ]
    for prog in rspamkit "$M/bin/rspamc"; do
        run --separate-stderr "$prog" -h "$CONTROLLER" -P "$RK_PASSWORD" learn_ham "$M/few.eml"
        [ "$status" -eq "$ref_status" ]
        [[ ${lines[0]} == "Results for file: $M/few.eml ("* ]]
    done
    run rspamkit-learn -h "$CONTROLLER" -P "$RK_PASSWORD" --ham "$M/few.eml"
    [ "$status" -eq 2 ]
    # already learned: learn once, then again
    rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" learn_spam "$M/spam.eml" >/dev/null || true
    run rspamc -h "$CONTROLLER" -P "$RK_PASSWORD" learn_spam "$M/spam.eml"
    ref_status=$status
    for prog in rspamkit "$M/bin/rspamc"; do
        run --separate-stderr "$prog" -h "$CONTROLLER" -P "$RK_PASSWORD" learn_spam "$M/spam.eml"
        [ "$status" -eq "$ref_status" ]
        [ "$status" -eq 0 ]
    done
    # rspamkit-learn: already learned is 0 there too
    run rspamkit-learn -h "$CONTROLLER" -P "$RK_PASSWORD" --spam "$M/spam.eml"
    [ "$status" -eq 0 ]
    [[ $output == *"already learned"* ]]
}

@test "rspamc's words: a failed learn is printed on stdout as rspamc prints it, and is not a success" {
    rspamc_like "$M/bin"
    for host in "$NORMAL" "127.0.0.1:$(closed_port)"; do
        run --separate-stderr rspamc -h "$host" -P "$RK_PASSWORD" learn_spam "$M/spam.eml"
        [ "$status" -ne 0 ]
        [[ ${lines[0]} == "Results for file: $M/spam.eml ("* ]]
        [ -n "${lines[1]}" ]
        for prog in rspamkit "$M/bin/rspamc"; do
            run --separate-stderr "$prog" -h "$host" -P "$RK_PASSWORD" learn_spam "$M/spam.eml"
            [ "$status" -ne 0 ]
            [[ ${lines[0]} == "Results for file: $M/spam.eml ("* ]]
            [ -n "${lines[1]}" ]
            [ -z "$stderr" ]
        done
    done
    # on the scanner port the line starts as rspamc's does
    run --separate-stderr rspamkit -h "$NORMAL" -P "$RK_PASSWORD" learn_spam "$M/spam.eml"
    [[ ${lines[1]} == "HTTP error: 500, invalid command"* ]]
    # rspamkit-learn's own options keep errors on stderr
    run --separate-stderr rspamkit-learn -h "$NORMAL" -P "$RK_PASSWORD" --spam "$M/spam.eml"
    [ -z "$output" ]
    [[ $stderr == *"HTTP error: 500, invalid command"* ]]
}

@test "rspamc's grammar: a failed scan or stat is printed on stdout as rspamc prints it" {
    rspamc_like "$M/bin"
    dead="127.0.0.1:$(closed_port)"
    fake_server http500
    for host in "$dead" "127.0.0.1:$FAKE_PORT"; do
        for args in "$M/spam.eml" "symbols $M/spam.eml" stat; do
            # shellcheck disable=SC2086
            run --separate-stderr /usr/bin/rspamc -h "$host" $args
            [ "$status" -ne 0 ]
            ref0=${lines[0]%%(*} ref_n=${#lines[@]}
            for prog in rspamkit "$M/bin/rspamc"; do
                # shellcheck disable=SC2086
                run --separate-stderr "$prog" -h "$host" $args
                [ "$status" -ne 0 ]
                [ "${lines[0]%%(*}" = "$ref0" ] || { echo "$prog $args: '${lines[0]}' vs '$ref0'"; false; }
                [ -n "${lines[1]}" ]
                [ "${#lines[@]}" -eq "$ref_n" ]
                [ -z "$stderr" ]
            done
        done
    done
    # with -j, a JSON error value on stdout (and the line on stderr)
    run --separate-stderr rspamkit -h "$dead" -j "$M/spam.eml"
    [ "$status" -ne 0 ]
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["error"], d' "$output"
    [ -n "$stderr" ]
    # rspamkit-scan and rspamkit-ctl on their own keep errors on stderr
    run --separate-stderr rspamkit-scan -h "$dead" "$M/spam.eml"
    [ -z "$output" ] && [ -n "$stderr" ]
    run --separate-stderr rspamkit-ctl -h "$dead" stat
    [ -z "$output" ] && [ -n "$stderr" ]
}

@test "a full disk on stdout: scan, learn and ctl exit 74 with one line" {
    [ -w /dev/full ] || skip "no /dev/full"
    for cmd in "rspamkit-scan -h $NORMAL $M/ham.eml" "rspamkit-scan -h $NORMAL -j $M/ham.eml" \
        "rspamkit-learn -h $CONTROLLER -P $RK_PASSWORD --ham $M/ham.eml" \
        "rspamkit-ctl -h $CONTROLLER -P $RK_PASSWORD stat"; do
        run --separate-stderr bash -c "$cmd >/dev/full"
        [ "$status" -eq 74 ] || { echo "$cmd: exit $status"; false; }
        [ "$stderr" = "${cmd%% *}: error writing output: No space left on device" ] ||
            { echo "$cmd: $stderr"; false; }
        # and the same command to a pipe that is closed: no message (the reader left), no 74
        run --separate-stderr bash -c "$cmd | true"
        [ -z "$stderr" ] || { echo "$cmd | true: $stderr"; false; }
    done
}
