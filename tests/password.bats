#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# Controller passwords for every tool of the shared connection options: -P,
# --password-file, RSPAMKIT_PASSWORD, the terminal prompt, and refusals.
# The private Rspamd trusts no address, so every controller call needs it.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    unset RSPAMKIT_PASSWORD
    T=$BATS_TEST_TMPDIR
    PW=$T/pw
    printf '%s\n' "$RK_PASSWORD" > "$PW"
    chmod 600 "$PW"
}
teardown() { stop_fake; }

@test "a wrong password: 'authentication refused by HOST' and exit 77, for every tool" {
    run rspamkit-ctl -h "$CONTROLLER" -P wrong-secret stat
    [ "$status" -eq 77 ]
    [ "$output" = "rspamkit-ctl: authentication refused by $CONTROLLER" ]
    run rspamkit-learn -h "$CONTROLLER" -P wrong-secret --spam "$MSGS/spam.eml"
    [ "$status" -eq 77 ]
    [ "$output" = "rspamkit-learn: $MSGS/spam.eml: authentication refused by $CONTROLLER" ]
    run rspamkit-fuzzy -h "$CONTROLLER" -P wrong-secret -f 1 add "$MSGS/spam.eml"
    [ "$status" -eq 77 ]
    [[ $output == *"authentication refused by $CONTROLLER" ]]
    run rspamkit-scan -h "$CONTROLLER" -P wrong-secret "$MSGS/ham.eml"
    [ "$status" -eq 77 ]
    [[ $output == *"authentication refused by $CONTROLLER" ]]
    run rspamkit-ctl -h "$CONTROLLER" stat
    [ "$status" -eq 77 ]
}

@test "--password-file (mode 0600): trailing LF or CRLF removed; scan uses it too" {
    run rspamkit-ctl -h "$CONTROLLER" --password-file "$PW" uptime
    [ "$status" -eq 0 ]
    printf '%s\r\n' "$RK_PASSWORD" > "$PW"
    run rspamkit-ctl -h "$CONTROLLER" --password-file "$PW" uptime
    [ "$status" -eq 0 ]
    printf '%s' "$RK_PASSWORD" > "$PW"
    run rspamkit-ctl -h "$CONTROLLER" --password-file="$PW" uptime
    [ "$status" -eq 0 ]
    run rspamkit-scan -h "$CONTROLLER" --password-file "$PW" "$MSGS/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$MSGS/ham.eml")" <<<"$output"
}

@test "a password file open to group or others is refused (77), nothing is sent" {
    fake_server json /dev/null
    for mode in 644 640 604 660 601; do
        chmod "$mode" "$PW"
        run rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" --password-file "$PW" stat
        [ "$status" -eq 77 ]
        [[ $output == "rspamkit-ctl: --password-file: $PW is accessible to group or others (mode 0$mode): chmod 600 it" ]]
        run rspamkit-learn -h "127.0.0.1:$FAKE_PORT" --password-file "$PW" --spam "$MSGS/spam.eml"
        [ "$status" -eq 77 ]
    done
    [ ! -e "$BATS_TEST_TMPDIR/fake.port.req.1" ]
}

@test "a missing or empty password file: an error, never the path as the password" {
    fake_server json /dev/null
    run rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" --password-file "$T/nope" stat
    [ "$status" -eq 66 ]
    [[ $output == *"cannot open $T/nope: No such file or directory" ]]
    : > "$T/empty"
    chmod 600 "$T/empty"
    run rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" --password-file "$T/empty" stat
    [ "$status" -eq 65 ]
    [[ $output == *"the password is empty" ]]
    # rspamc's form -P /path reads the file; a missing one is an error here,
    # where rspamc 3.4 sends the path itself as the password
    run rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" -P "$T/nope" stat
    [ "$status" -eq 66 ]
    [ ! -e "$BATS_TEST_TMPDIR/fake.port.req.1" ]
}

@test "-P /path and -P ./path read the file, as in rspamc" {
    run rspamkit-ctl -h "$CONTROLLER" -P "$PW" uptime
    [ "$status" -eq 0 ]
    cd "$T"
    run rspamkit-ctl -h "$CONTROLLER" -P ./pw uptime
    [ "$status" -eq 0 ]
}

@test "-P with a pipe (<(...), /dev/fd/N, /dev/stdin) sends what comes through it" {
    run rspamkit-ctl -h "$CONTROLLER" -P <(printf '%s\n' "$RK_PASSWORD") uptime
    [ "$status" -eq 0 ]
    run rspamkit -h "$CONTROLLER" -P <(printf '%s\n' "$RK_PASSWORD") uptime
    [ "$status" -eq 0 ] && [[ $output == *"Uptime:"* ]]
    run rspamkit-learn -h "$CONTROLLER" -P /dev/fd/3 --spam "$MSGS/spam.eml" 3< <(printf '%s' "$RK_PASSWORD")
    [ "$status" -eq 0 ]   # learned, or already learned
    run bash -c 'printf "%s\n" "$1" | rspamkit-ctl -h "$2" -P /dev/stdin uptime' _ "$RK_PASSWORD" "$CONTROLLER"
    [ "$status" -eq 0 ]
    # what comes through the pipe counts, not its path: a wrong one is refused
    run rspamkit-ctl -h "$CONTROLLER" -P <(echo wrong-secret) uptime
    [ "$status" -eq 77 ]
}

@test "RSPAMKIT_PASSWORD; -P wins over it; -P and --password-file together are refused" {
    RSPAMKIT_PASSWORD=$RK_PASSWORD run rspamkit-ctl -h "$CONTROLLER" uptime
    [ "$status" -eq 0 ]
    RSPAMKIT_PASSWORD=$RK_PASSWORD run rspamkit-ctl -h "$CONTROLLER" -P wrong uptime
    [ "$status" -eq 77 ]
    RSPAMKIT_PASSWORD=wrong run rspamkit-ctl -h "$CONTROLLER" --password-file "$PW" uptime
    [ "$status" -eq 0 ]
    run rspamkit-ctl -h "$CONTROLLER" -P x --password-file "$PW" uptime
    [ "$status" -eq 64 ]
}

@test "the request carries the password as the Password header" {
    printf '{"version":"3.4","uptime":5}' > "$T/r.json"
    fake_server json "$T/r.json"
    rspamkit-ctl -h "127.0.0.1:$FAKE_PORT" --password-file "$PW" uptime
    grep -q $'^Password: '"$RK_PASSWORD"$'\r$' "$BATS_TEST_TMPDIR/fake.port.req.1"
}

@test "-P without a value and no terminal: a clear error (66), never the next word" {
    run setsid -w rspamkit-ctl -h "$CONTROLLER" -P stat </dev/null
    [ "$status" -eq 66 ]
    [[ $output == *"-P without a value (prompt): no terminal to ask for the password"*"use --password-file or RSPAMKIT_PASSWORD"* ]]
    run setsid -w rspamkit-learn -h "$CONTROLLER" -P learn_spam "$MSGS/spam.eml" </dev/null
    [ "$status" -eq 66 ]
}

# Run a command on a pseudo-terminal, answer the prompt, return its output.
on_tty() {
    python3 - "$@" <<'PY'
import os, pty, sys, time
pw = os.environ["ANSWER"].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
def read_until(marker, limit=10):
    global out
    end = time.time() + limit
    while marker not in out and time.time() < end:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
read_until(b"Enter passphrase: ")
os.write(fd, pw + b"\n")
read_until(b"\x00", 5)   # read to EOF
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(st))
PY
}

@test "-P without a value prompts on the terminal with echo off" {
    ANSWER=$RK_PASSWORD run on_tty rspamkit-ctl -h "$CONTROLLER" -P stat
    [ "$status" -eq 0 ]
    [[ $output == "Enter passphrase: "* ]]
    [[ $output == *"Messages scanned: "* ]]
    [[ $output != *"$RK_PASSWORD"* ]]    # not echoed
    ANSWER=wrong run on_tty rspamkit-ctl -h "$CONTROLLER" stat -P
    [ "$status" -eq 77 ]
    # through the front door, with the word after -P
    ANSWER=$RK_PASSWORD run on_tty rspamkit -h "$CONTROLLER" uptime -P
    [ "$status" -eq 0 ]
    [[ $output == *"Rspamd version: $(server_version)"* ]]
}

@test "a -P value is hidden from ps once the options are read" {
    fake_server stall
    rspamkit-ctl -t 5 -h "127.0.0.1:$FAKE_PORT" -P topsecret-value stat 3>&- &
    pid=$!
    for _ in $(seq 50); do [ -e "$BATS_TEST_TMPDIR/fake.port.req.1" ] && break; sleep 0.1; done
    cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline")
    kill "$pid"
    wait "$pid" || true
    [[ $cmdline == *"-P xxxxxxxxxxxxxxx stat"* ]]
    [[ $cmdline != *topsecret* ]]
}
