#!/usr/bin/env bats
# spamc mode (rspamkit spamc, rspamkit run as spamc) against the real spamc
# (Debian's spamc package) talking to a real spamd (package spamd) that this
# file starts on a free loopback port with a private configuration: local
# tests only (-L: no DNS, razor or pyzor), report_safe 0 (headers only, as
# Rspamd), its own Bayes database. Each test compares the SHAPES of the
# output (lines matched by regular expressions) and the exit codes, never the
# scores: rspamkit's side scans with the suite's private Rspamd, and what
# counts as spam there is read from the real rspamc.

load helpers
bats_require_minimum_version 1.5.0

free_port() { closed_port; }

setup_file() {
    command -v spamc >/dev/null && command -v spamd >/dev/null ||
        PATH="$PATH:/usr/sbin" command -v spamd >/dev/null ||
        { echo "spamc and spamd are needed (Debian packages spamc, spamd)" >&2; return 1; }
    # spamd drops root for nobody: everything it reads or writes must be reachable.
    SA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rk-spamd.XXXXXX")
    chmod 755 "$SA_DIR"
    mkdir -p "$SA_DIR/site" "$SA_DIR/home" "$SA_DIR/bayes"
    cp /etc/spamassassin/*.pre "$SA_DIR/site/"
    cat > "$SA_DIR/site/local.cf" <<EOF
report_safe 0
use_bayes 1
bayes_auto_learn 0
bayes_path $SA_DIR/bayes/bayes
bayes_file_mode 0777
use_razor2 0
use_pyzor 0
skip_rbl_checks 1
dns_available no
EOF
    chmod -R a+rX "$SA_DIR"
    local as=()
    if [ "$(id -u)" = 0 ]; then
        chown -R nobody "$SA_DIR/home" "$SA_DIR/bayes"
        as=(-u nobody)
    fi
    SA_PORT=$(free_port)
    PATH="$PATH:/usr/sbin" setsid spamd -L -x -l "${as[@]}" --siteconfigpath="$SA_DIR/site" \
        -H "$SA_DIR/home" --listen="127.0.0.1:$SA_PORT" --pidfile="$SA_DIR/spamd.pid" \
        --syslog=stderr --min-children=1 --max-children=2 \
        </dev/null >"$SA_DIR/spamd.log" 2>&1 3>&- &
    echo $! > "$SA_DIR/spamd.launch"
    local i
    for i in $(seq 600); do
        spamc -d 127.0.0.1 -p "$SA_PORT" -K 2>/dev/null | grep -q '^SPAMD/' && break
        sleep 0.2
    done
    spamc -d 127.0.0.1 -p "$SA_PORT" -K | grep -q '^SPAMD/' ||
        { cat "$SA_DIR/spamd.log" >&2; return 1; }
    export SA_DIR SA_PORT
}

teardown_file() {
    local pid
    pid=$(cat "$SA_DIR/spamd.pid" 2>/dev/null || cat "$SA_DIR/spamd.launch" 2>/dev/null)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -rf "$SA_DIR"
}

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
}

# The real spamc with spamd, and rspamkit's spamc mode with the private Rspamd.
sa() { spamc -d 127.0.0.1 -p "$SA_PORT" "$@"; }
rk() { rspamkit spamc -d "$RK_HOST" -p "$RK_NORMAL_PORT" "$@"; }
# 1 when the real rspamc's action for FILE is a spam action (X-Spam: yes), else 0.
rspamc_spam() {
    rspamc -h "$NORMAL" "$1" | grep -qE '^Action: (reject|add header|rewrite subject|soft reject)$' &&
        echo 1 || echo 0
}
# 1 when a "score/threshold" line says spam (score >= threshold), else 0.
sa_spam() { awk -F/ '{ print ($1 >= $2) ? 1 : 0; exit }' <<<"$1"; }
# The message without the X-Spam-* header fields and the server's milter headers
# (and their continuation lines).
strip_xspam() { perl -0777 -pe 's/(?:^|(?<=[\r\n]))(?:X-Spam-[-A-Za-z]*|'"$MILTER_FIELDS"'):.*?(?:\r\n|\n|\r)(?:[ \t].*?(?:\r\n|\n|\r))*//g' "$@"; }

SCORE_RE='^-?[0-9]+\.[0-9]/-?[0-9]+\.[0-9]$'

# The SpamAssassin header set of a filtered message ($1) whose verdict is $2 (1 spam).
check_sa_headers() {
    local out=$1 spam=$2
    grep -qE '^X-Spam-Checker-Version: [^ ].* on [^ ]+$' <<<"$out" || { echo "no Checker-Version"; return 1; }
    grep -qE '^X-Spam-Level: \**$' <<<"$out" || { echo "no Level"; return 1; }
    local status
    status=$(grep -E '^X-Spam-Status: ' <<<"$out")
    [[ $status =~ ^X-Spam-Status:\ (Yes|No),\ score=-?[0-9]+\.[0-9]\ required=-?[0-9]+\.[0-9]\ tests=[A-Za-z0-9_,]* ]] ||
        { echo "bad Status: $status"; return 1; }
    if [ "$spam" = 1 ]; then
        [[ $status == "X-Spam-Status: Yes,"* ]] && grep -qx 'X-Spam-Flag: YES' <<<"$out"
    else
        [[ $status == "X-Spam-Status: No,"* ]] && ! grep -q '^X-Spam-Flag:' <<<"$out"
    fi
}

# ------------------------------------------------------------------ -c

@test "-c: score/threshold, exit 1 for spam and 0 for ham, as spamc" {
    n_spam=0
    for m in spam ham; do
        run sa -c < "$M/$m.eml"
        [[ $output =~ $SCORE_RE ]] || { echo "spamc: $output"; false; }
        [ "$status" -eq "$(sa_spam "$output")" ]
        run rk -c < "$M/$m.eml"
        [[ $output =~ $SCORE_RE ]] || { echo "rspamkit: $output"; false; }
        want=$(rspamc_spam "$M/$m.eml")
        [ "$status" -eq "$want" ] || { echo "$m: exit $status, rspamc says spam=$want"; false; }
        n_spam=$((n_spam + want))
    done
    [ "$n_spam" -eq 1 ] # spam.eml is spam and ham.eml is not, or the test proves little
}

# ------------------------------------------------------------------ -R / -r

check_report() { # output of -R/-r: score line, then the details table
    local out=$1
    [[ $(head -n 1 <<<"$out") =~ $SCORE_RE ]] || { echo "no score line"; return 1; }
    grep -qE '^Content analysis details:   \(-?[0-9]+\.[0-9] points, -?[0-9]+\.[0-9] required\)$' <<<"$out" &&
        grep -qx ' pts rule name              description' <<<"$out" &&
        grep -qE '^---- -{22} -+$' <<<"$out" &&
        grep -qE '^ ?-?[0-9]+\.[0-9] [A-Za-z0-9_]+( |$)' <<<"$out"
}

@test "-R: score/threshold line, then the content analysis table, exit 0, as spamc" {
    for m in spam ham; do
        run sa -R < "$M/$m.eml"
        [ "$status" -eq 0 ]
        check_report "$output"
        run rk -R < "$M/$m.eml"
        [ "$status" -eq 0 ]
        check_report "$output"
    done
    # every symbol of the reply has its row
    rspamc -h "$NORMAL" "$M/spam.eml" | sed -n 's/^Symbol: \([^ ]*\) .*/\1/p' | sort > "$M/want"
    [ -s "$M/want" ]
    rk -R < "$M/spam.eml" | sed -nE 's/^ ?-?[0-9]+\.[0-9] ([A-Za-z0-9_]+)( .*)?$/\1/p' | sort > "$M/got"
    diff "$M/want" "$M/got"
}

@test "-r: nothing for ham, the report for spam, exit 0" {
    run sa -r < "$M/ham.eml"
    [ "$status" -eq 0 ] && [ -z "$output" ]
    run rk -r < "$M/ham.eml"
    [ "$status" -eq 0 ] && [ -z "$output" ]
    run sa -r < "$M/spam.eml"
    [ "$status" -eq 0 ]
    grep -q '^Content analysis details:' <<<"$output"
    run rk -r < "$M/spam.eml"
    [ "$status" -eq 0 ]
    check_report "$output" # with spamc(1)'s score line (spamc 4.0.1 leaves it out)
}

# ------------------------------------------------------------------ -y

@test "-y: the symbol names on one line, comma-separated, no newline" {
    for who in sa rk; do
        run $who -y < "$M/spam.eml"
        [ "$status" -eq 0 ]
        [[ $output =~ ^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*$ ]] || { echo "$who: $output"; false; }
        [ "$($who -y < "$M/spam.eml" | tail -c 1 | od -An -c | tr -d ' ')" != '\n' ]
    done
    rspamc -h "$NORMAL" "$M/spam.eml" | sed -n 's/^Symbol: \([^ ]*\) .*/\1/p' | sort > "$M/want"
    rk -y < "$M/spam.eml" | tr , '\n' | sort > "$M/got"
    diff "$M/want" "$M/got"
}

# ------------------------------------------------------------------ filtering

@test "default mode and -f: the message with the SpamAssassin headers, body bytes intact, exit 0" {
    for m in spam ham; do
        for f in "" -f; do
            run sa $f < "$M/$m.eml"
            [ "$status" -eq 0 ]
            check_sa_headers "$output" "$(sa_spam "$(sa -c < "$M/$m.eml")")"
            sa $f < "$M/$m.eml" | strip_xspam > "$M/sa.out"
            cmp "$M/sa.out" "$M/$m.eml"
            run rk $f < "$M/$m.eml"
            [ "$status" -eq 0 ]
            check_sa_headers "$output" "$(rspamc_spam "$M/$m.eml")"
            rk $f < "$M/$m.eml" | strip_xspam > "$M/rk.out"
            cmp "$M/rk.out" "$M/$m.eml"
        done
    done
}

@test "default mode: one X-Spam-Status and X-Spam-Level, as spamc, when the server's milter_headers adds its own" {
    # the test servers' milter_headers has the x-spam-status and x-spam-level routines
    rspamc -h "$NORMAL" -j "$M/spam.eml" |
        jq -e '.milter.add_headers | has("X-Spam-Status") and has("X-Spam-Level")' >/dev/null
    for m in spam ham; do
        for name in X-Spam-Status X-Spam-Level; do
            want=$(sa < "$M/$m.eml" | sed '/^\r\{0,1\}$/q' | grep -c "^$name:")
            got=$(rk < "$M/$m.eml" | sed '/^\r\{0,1\}$/q' | grep -c "^$name:")
            [ "$want" -eq 1 ] && [ "$got" -eq "$want" ] || { echo "$m: $name: spamc $want, rspamkit $got"; false; }
        done
    done
}

@test "default mode: CRLF, no final newline and NUL bytes come back byte for byte" {
    printf 'From: a@example.com\r\nTo: b@example.org\r\nSubject: crlf\r\n\r\nline one\r\nline\0two' > "$M/odd.eml"
    rk < "$M/odd.eml" > "$M/out"
    grep -q $'^X-Spam-Status: .*\r$' "$M/out"
    strip_xspam "$M/out" > "$M/back"
    cmp "$M/back" "$M/odd.eml"
}

@test "an empty message: a failure, as spamc: nothing and 0 (74 with -x), 0/0 with -c, 74 with -L" {
    for who in sa rk; do
        run --separate-stderr $who < /dev/null
        [ "$status" -eq 0 ] && [ -z "$output" ]
        run --separate-stderr $who -x < /dev/null
        [ "$status" -eq 74 ] && [ -z "$output" ]
        run --separate-stderr $who -c < /dev/null
        [ "$status" -eq 0 ] && [ "$output" = 0/0 ]
        run --separate-stderr $who -L spam < /dev/null
        [ "$status" -eq 74 ] && [ -z "$output" ]
    done
}

@test "-B: the message inside a BSMTP envelope, dots unstuffed for the scan and stuffed again" {
    { printf 'HELO client.example.com\nMAIL FROM:<a@example.com>\nRCPT TO:<b@example.org>\nDATA\n'
      sed 's/^\./../' "$M/ham.eml"; printf '..a line with a dot\n.\nQUIT\n'; } > "$M/in.bsmtp"
    for who in sa rk; do
        run --separate-stderr $who -B < "$M/in.bsmtp"
        [ "$status" -eq 0 ]
        grep -q '^X-Spam-Status: ' <<<"$output"
        $who -B < "$M/in.bsmtp" | strip_xspam | cmp - "$M/in.bsmtp"
        # not BSMTP: the input unchanged, or 65 with -x
        run --separate-stderr $who -B < "$M/ham.eml"
        [ "$status" -eq 0 ] && [ "$output" = "$(cat "$M/ham.eml")" ]
        run --separate-stderr $who -B -x < "$M/ham.eml"
        [ "$status" -eq 65 ] && [ -z "$output" ]
    done
}

@test "-E: filters and exits 1 for spam, 0 for ham, as spamc" {
    for m in spam ham; do
        run sa -E < "$M/$m.eml"
        [ "$status" -eq "$(sa_spam "$(sa -c < "$M/$m.eml")")" ]
        grep -q '^X-Spam-Status: ' <<<"$output"
        run rk -E < "$M/$m.eml"
        [ "$status" -eq "$(rspamc_spam "$M/$m.eml")" ]
        grep -q '^X-Spam-Status: ' <<<"$output"
    done
}

@test "-s: a message larger than the limit passes unchanged with exit 0, also with -x" {
    for who in sa rk; do
        for x in "" -x; do
            run --separate-stderr $who $x -s 100 < "$M/ham.eml"
            [ "$status" -eq 0 ]
            [ "$output" = "$(cat "$M/ham.eml")" ]
        done
    done
}

@test "-e: the output goes to the command, whose exit status is spamc's" {
    for who in sa rk; do
        run $who -e /bin/sh -c "cat > '$M/$who.piped'; exit 3" < "$M/ham.eml"
        [ "$status" -eq 3 ]
        grep -q '^X-Spam-Status: ' "$M/$who.piped"
        strip_xspam "$M/$who.piped" | cmp - "$M/ham.eml"
    done
}

# ------------------------------------------------------------------ server down

@test "server down: the message unchanged and exit 0 by default; 69 with -x, 75 with -x -X" {
    port=$(closed_port)
    for who in spamc "rspamkit spamc"; do
        d=(-d 127.0.0.1 -p "$port" --connect-retries=1)
        run --separate-stderr $who "${d[@]}" < "$M/ham.eml"
        [ "$status" -eq 0 ] && [ "$output" = "$(cat "$M/ham.eml")" ]
        run --separate-stderr $who "${d[@]}" -x < "$M/ham.eml"
        [ "$status" -eq 69 ] && [ -z "$output" ]
        run --separate-stderr $who "${d[@]}" -x -X < "$M/ham.eml"
        [ "$status" -eq 75 ] && [ -z "$output" ]
        run --separate-stderr $who "${d[@]}" -E < "$M/ham.eml"
        [ "$status" -eq 0 ] && [ "$output" = "$(cat "$M/ham.eml")" ]
        for o in -c -R; do
            run --separate-stderr $who "${d[@]}" $o < "$M/ham.eml"
            [ "$status" -eq 0 ] && [ "$output" = 0/0 ]
            run --separate-stderr $who "${d[@]}" $o -x < "$M/ham.eml"
            [ "$status" -eq 69 ] && [ "$output" = 0/0 ]
        done
        run --separate-stderr $who "${d[@]}" -y < "$M/ham.eml"
        [ "$status" -eq 0 ] && [ -z "$output" ]
        run --separate-stderr $who "${d[@]}" -K
        [ "$status" -eq 69 ] && [ -z "$output" ]
    done
    # an unknown host: 68 with -x, as spamc
    for who in spamc "rspamkit spamc"; do
        run --separate-stderr $who -d no-such-host.invalid -x < "$M/ham.eml"
        [ "$status" -eq 68 ] && [ -z "$output" ]
    done
}

@test "-K: SPAMD/1.5 0 and exit 0 when the server answers" {
    run sa -K
    [ "$status" -eq 0 ] && [[ $output =~ ^SPAMD/[0-9.]+\ 0$ ]]
    run rk -K
    [ "$status" -eq 0 ] && [[ $output =~ ^SPAMD/[0-9.]+\ 0$ ]]
}

# ------------------------------------------------------------------ -L

@test "-L spam: 'successfully' then 'already', exit 0 both times, as spamc" {
    # a message neither Bayes has seen: its own Message-ID and a fresh token
    tag="spamc-$$-$RANDOM$RANDOM"
    sed -e "s/^Message-I[Dd]: .*/Message-ID: <$tag@example.com>/" "$RK_SRCDIR/tests/server/msgs/spam1.eml" > "$M/new.eml"
    printf '\nReference %s for your prize claim.\n' "$tag" >> "$M/new.eml"
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    for who in sa "rk --controller $CONTROLLER"; do
        run --separate-stderr $who -L spam < "$M/new.eml"
        [ "$status" -eq 0 ] && [ "$output" = "Message successfully un/learned" ] ||
            { echo "$who: $status $output $stderr"; false; }
        run --separate-stderr $who -L spam < "$M/new.eml"
        [ "$status" -eq 0 ] && [ "$output" = "Message was already un/learned" ] ||
            { echo "$who: $status $output $stderr"; false; }
    done
}

@test "-L: a bad learn type is a usage error (64); the controller down gives 69, as spamc" {
    for who in sa rk; do
        run --separate-stderr $who -L bogus < "$M/ham.eml"
        [ "$status" -eq 64 ] && [ -z "$output" ]
        run --separate-stderr $who -L spam -c < "$M/ham.eml"
        [ "$status" -eq 64 ]
    done
    port=$(closed_port)
    run --separate-stderr spamc -d 127.0.0.1 -p "$port" --connect-retries=1 -L spam < "$M/ham.eml"
    [ "$status" -eq 69 ] && [ -z "$output" ]
    run --separate-stderr rspamkit spamc --controller "127.0.0.1:$port" -L spam < "$M/ham.eml"
    [ "$status" -eq 69 ] && [ -z "$output" ]
    [[ $stderr == *"127.0.0.1:$port"* ]]
}

@test "-L forget: Rspamd cannot serve it; a clear error and exit 64" {
    run --separate-stderr rk -L forget < "$M/ham.eml"
    [ "$status" -eq 64 ] && [[ $stderr == *"cannot unlearn"* ]]
}

@test "-C report: learned, 'Unable to report' and exit 0 without a reporting service, as spamc" {
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    for who in sa "rk --controller $CONTROLLER"; do
        run --separate-stderr $who -C report < "$M/spam.eml"
        [ "$status" -eq 0 ] && [ "$output" = "Unable to report/revoke message" ] ||
            { echo "$who: $status $output $stderr"; false; }
        run --separate-stderr $who -C bogus < "$M/spam.eml"
        [ "$status" -eq 64 ] && [ -z "$output" ]
    done
}

@test "-C report/revoke --fuzzy-flag: the fuzzy hashes are added, then deleted" {
    export RSPAMKIT_PASSWORD=$RK_PASSWORD
    tag="spamc-fuzzy-$$-$RANDOM$RANDOM"
    { sed '/^$/q' "$M/ham.eml"; printf 'Unique text %s for the fuzzy storage, long enough to hash.\n' "$tag"; } > "$M/f.eml"
    [[ $(rk -y < "$M/f.eml") != *FUZZY_DENIED* ]]
    run --separate-stderr rk --controller "$CONTROLLER" -C report --fuzzy-flag 1 < "$M/f.eml"
    [ "$status" -eq 0 ] && [ "$output" = "Message successfully reported/revoked" ] ||
        { echo "$status $output $stderr"; false; }
    for _ in $(seq 50); do [[ $(rk -y < "$M/f.eml") == *FUZZY_DENIED* ]] && break; sleep 0.2; done
    [[ $(rk -y < "$M/f.eml") == *FUZZY_DENIED* ]]
    run --separate-stderr rk --controller "$CONTROLLER" -C revoke --fuzzy-flag 1 < "$M/f.eml"
    [ "$status" -eq 0 ] && [ "$output" = "Message successfully reported/revoked" ]
    for _ in $(seq 50); do [[ $(rk -y < "$M/f.eml") != *FUZZY_DENIED* ]] && break; sleep 0.2; done
    [[ $(rk -y < "$M/f.eml") != *FUZZY_DENIED* ]]
}

@test "-L: -d HOST means the controller on HOST's port 11334; -U needs --controller" {
    port=$(closed_port)
    run --separate-stderr rspamkit spamc -d 127.0.0.1 -p "$port" -L ham < "$M/ham.eml"
    [[ $stderr == *"127.0.0.1:11334"* ]]
    run --separate-stderr env RSPAMKIT_CONFIG="$M/none" RSPAMKIT_SYSCONFIG="$M/none" rspamkit spamc -U "$RK_NORMAL_SOCK" -L ham < "$M/ham.eml"
    [ "$status" -eq 64 ] && [[ $stderr == *"--controller"* ]]
}

# ------------------------------------------------------------------ invocation

@test "rspamkit run as spamc (a symlink) is the spamc mode" {
    ln -s "$(command -v rspamkit)" "$M/spamc"
    run "$M/spamc" -d "$RK_HOST" -p "$RK_NORMAL_PORT" -c < "$M/spam.eml"
    [[ $output =~ $SCORE_RE ]]
    [ "$status" -eq "$(rspamc_spam "$M/spam.eml")" ]
    run "$M/spamc" --version
    [[ $output == "rspamkit-spamc "* ]]
}

@test "-F: options from a spamc.conf file, before the command line" {
    printf '# spamc.conf\n-d %s\n\n-p %s\n' "$RK_HOST" "$RK_NORMAL_PORT" > "$M/spamc.conf"
    run rspamkit spamc -F "$M/spamc.conf" -c < "$M/spam.eml"
    [[ $output =~ $SCORE_RE ]]
    printf '%s\n' "-d 127.0.0.1 -p $SA_PORT" > "$M/sa.conf"
    run spamc -F "$M/sa.conf" -c < "$M/spam.eml"
    [[ $output =~ $SCORE_RE ]]
    run --separate-stderr rspamkit spamc -F "$M/missing.conf" -c < "$M/spam.eml"
    [ "$status" -eq 78 ]
    run --separate-stderr spamc -F "$M/missing.conf" -c < "$M/spam.eml"
    [ "$status" -eq 78 ]
}

@test "-U: scans through Rspamd's UNIX socket" {
    [ -S "$RK_NORMAL_SOCK" ] || skip "the private Rspamd has no normal socket"
    run rspamkit spamc -U "$RK_NORMAL_SOCK" -c < "$M/spam.eml"
    [[ $output =~ $SCORE_RE ]]
    [ "$status" -eq "$(rspamc_spam "$M/spam.eml")" ]
}
