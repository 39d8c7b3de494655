#!/usr/bin/env bats
# rspamkit-pw against rspamadm pw (3.4), in both directions, and against a
# live controller.  rspamkit-pw comes from PATH (tests/run puts the build's
# tools/ first).  rspamadm reads passwords from /dev/tty only, so it is
# driven through a pseudo-terminal (ptydrive.py, written by setup_file).

bats_require_minimum_version 1.5.0

setup_file() {
    export SRC=${RK_SRCDIR:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
    export PTY=$BATS_FILE_TMPDIR/ptydrive.py
    # ptydrive.py [PROMPT ANSWER]... -- CMD ARG...: run CMD on a new pseudo-terminal
    # (its stdin, stdout, stderr and /dev/tty), type each ANSWER and a newline
    # once its PROMPT has appeared, print the transcript, exit with CMD's status.
    cat > "$PTY" <<'PY'
import os, pty, select, sys, time
a = sys.argv[1:]
cut = a.index("--")
answers = [(a[i].encode(), a[i + 1].encode()) for i in range(0, cut, 2)]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(a[cut + 1], a[cut + 1:])
out, seen, deadline = b"", 0, time.time() + 60
while time.time() < deadline:
    if not select.select([fd], [], [], 1)[0]:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    while answers and answers[0][0] in out[seen:]:
        prompt, answer = answers.pop(0)
        seen = out.index(prompt, seen) + len(prompt)
        os.write(fd, answer + b"\n")
# never wait forever: a program still running at the deadline is killed
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if time.time() >= deadline:
        os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        out += b"\n[ptydrive: killed at the deadline, %d prompts unanswered]\n" % len(answers)
        break
    time.sleep(0.05)
sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

setup() {
    command -v rspamkit-pw > /dev/null || skip "rspamkit-pw is not on PATH"
    P100=$(printf 'x%.0s' $(seq 100))
    P300=$(printf 'ab%.0s' $(seq 150))
    GOOD='$2$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b'
}

needs_rspamadm() { command -v rspamadm > /dev/null || skip "rspamadm is not installed"; }

teardown() {
    if [ -n "${KP_SERVER:-}" ]; then
        "$SRC/tests/server/stop" "$KP_SERVER" 3>&-
        rm -rf "$KP_SERVER"
    fi
}

# pwfile CONTENT: a mode-600 file holding CONTENT exactly; prints its name.
pwfile() {
    local f
    f=$(mktemp "$BATS_TEST_TMPDIR/pw.XXXXXX")
    chmod 600 "$f"
    printf '%s' "$1" > "$f"
    echo "$f"
}

# ---------------------------------------------------------------- options

@test "--version prints the name and version" {
    run rspamkit-pw --version
    [ "$status" -eq 0 ]
    [[ $output =~ ^rspamkit-pw\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "--list and -l print what rspamadm pw --list prints" {
    needs_rspamadm
    want=$(rspamadm pw --list)
    run rspamkit-pw --list
    [ "$status" -eq 0 ]
    [ "$output" = "$want" ]
    run rspamkit-pw -l -c -t nonsense
    [ "$status" -eq 0 ]
    [ "$output" = "$want" ]
}

@test "--help lists every option and exits 0" {
    run rspamkit-pw --help
    [ "$status" -eq 0 ]
    for o in --encrypt --check --type --list --password --password-file --password-env \
             --quiet --version --help --usage; do
        [[ $output == *"$o"* ]] || { echo "missing $o"; false; }
    done
}

@test "every long option of --help is in the man page and the completions" {
    opts=$(rspamkit-pw --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
    [ -n "$opts" ]
    for o in $opts; do
        grep -qE -- "Fl Fl ${o#--}([^a-z-]|$)" "$SRC/man/rspamkit-pw.1" || { echo "man: $o"; false; }
        for c in bash/rspamkit-pw zsh/_rspamkit-pw fish/rspamkit-pw.fish; do
            grep -qE -- "(--|-l )${o#--}([^a-z-]|$)" "$SRC/completions/$c" || { echo "$c: $o"; false; }
        done
    done
}

@test "the man page is mandoc -Tlint clean" {
    command -v mandoc > /dev/null || skip "mandoc is not installed"
    run mandoc -Tlint -Wwarning "$SRC/man/rspamkit-pw.1"
    [ "$status" -eq 0 ]
}

@test "usage errors exit 64 with one line on stderr" {
    for args in "--bogus" "-x" "-t Catena -p x" "-t md5 -p x" "-e -c $GOOD" "-p x extra" \
                "-p x --password-env HOME" "--password-file /dev/null --password-env HOME" \
                "-c -p $GOOD $GOOD" "-c $GOOD $GOOD" "--type"; do
        run --separate-stderr rspamkit-pw $args
        [ "$status" -eq 64 ] || { echo "args: $args -> $status"; false; }
        [ -z "$output" ]
        [ "${#stderr_lines[@]}" -eq 1 ]
        [[ $stderr == "rspamkit-pw: "* ]]
    done
    run --separate-stderr rspamkit-pw -t Catena -p x
    [ "$stderr" = "rspamkit-pw: unknown hash type 'Catena' (use catena or pbkdf2)" ]
}

# --------------------------------------------------------------- hashing

@test "makes catena hashes by default, pbkdf2 with -t, fresh salt each time" {
    run rspamkit-pw -p secret
    [ "$status" -eq 0 ]
    [[ $output =~ ^\$2\$[ybndrfg8ejkmcpqxot1uwisza345h769]{32}\$[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$ ]]
    first=$output
    run rspamkit-pw --encrypt --type catena --password secret
    [ "$status" -eq 0 ] && [ "$output" != "$first" ] && [ "${#output}" -eq 88 ]
    run rspamkit-pw -t pbkdf2 -p secret
    [ "$status" -eq 0 ]
    [[ $output =~ ^\$1\$[a-z0-9]{32}\$[a-z0-9]{52}$ ]]
}

@test "rspamadm-made hashes of both types pass --check (6 to 300 bytes)" {
    needs_rspamadm
    for t in pbkdf2 catena; do
        for pw in secret 'p@ss w0rd' "$P100" "$P300"; do
            h=$(rspamadm pw -t "$t" -p "$pw")
            run rspamkit-pw --check --password-file "$(pwfile "$pw")" "$h"
            [ "$status" -eq 0 ] && [ "$output" = "password correct" ] ||
                { echo "$t ${#pw}: $status $output"; false; }
            run rspamkit-pw -c "$h" <<< "${pw}X"
            [ "$status" -eq 1 ] && [ "$output" = "password incorrect" ] ||
                { echo "$t ${#pw} wrong: $status $output"; false; }
        done
    done
}

@test "rspamkit-made hashes pass rspamadm pw --check, driven through a pty" {
    needs_rspamadm
    for t in pbkdf2 catena; do
        for pw in secret 'p@ss w0rd' "$P100" "$P300"; do
            h=$(rspamkit-pw -q -t "$t" -p "$pw")
            run python3 "$PTY" 'Enter passphrase: ' "$pw" -- rspamadm pw --check -p "$h"
            [ "$status" -eq 0 ] && [[ $output == *"password correct"* ]] ||
                { echo "$t ${#pw}: $status $output"; false; }
            run python3 "$PTY" 'Enter passphrase: ' "${pw}X" -- rspamadm pw --check -p "$h"
            [ "$status" -eq 1 ] && [[ $output == *"password incorrect"* ]] ||
                { echo "$t ${#pw} wrong: $status $output"; false; }
        done
    done
}

@test "the catena length quirk matches rspamadm and draws a warning" {
    needs_rspamadm
    run --separate-stderr rspamkit-pw -t catena -p "$P300"
    [ "$status" -eq 0 ]
    [[ $stderr == "rspamkit-pw: warning: catena hashes only the first 44 bytes of this 300-byte password"* ]]
    # Equivalent to its first 44 bytes, as rspamadm computes it.
    h=$(rspamadm pw -t catena -p "$P300")
    run rspamkit-pw -c "$h" <<< "${P300:0:44}"
    [ "$status" -eq 0 ]
    run --separate-stderr rspamkit-pw -q -t catena -p "$P300"
    [ "$status" -eq 0 ] && [ -z "$stderr" ]
    run --separate-stderr rspamkit-pw -t pbkdf2 -p "$P300"
    [ "$status" -eq 0 ] && [ -z "$stderr" ]
}

# -------------------------------------------------------------- checking

@test "--check: known answers, -q, exit 0 and 1" {
    run rspamkit-pw -c "$GOOD" <<< secret
    [ "$status" -eq 0 ] && [ "$output" = "password correct" ]
    run rspamkit-pw -c -q "$GOOD" <<< secret
    [ "$status" -eq 0 ] && [ -z "$output" ]
    run rspamkit-pw -c '$1$yeyroboyfobqyrrbkanaogabxyrnbjcn$1mpt11p6qbhbczuesc8ehp3s9ec9djn8y6a5t3skmgit99fpz68y' <<< secret
    [ "$status" -eq 0 ]
    run rspamkit-pw -c "$GOOD" <<< Secret
    [ "$status" -eq 1 ] && [ "$output" = "password incorrect" ]
    run rspamkit-pw --check --quiet "$GOOD" <<< Secret
    [ "$status" -eq 1 ] && [ -z "$output" ]
}

@test "--check: the hash as -p (rspamadm's spelling) or as the first line of stdin" {
    run rspamkit-pw -c -p "$GOOD" --password-file "$(pwfile secret)"
    [ "$status" -eq 0 ] && [ "$output" = "password correct" ]
    run rspamkit-pw -c < <(printf '%s\n%s\n' "$GOOD" secret)
    [ "$status" -eq 0 ] && [ "$output" = "password correct" ]
    run rspamkit-pw -c < <(printf '%s\r\n%s\r\n' "$GOOD" secret)
    [ "$status" -eq 0 ]
    run rspamkit-pw -c --password-env PW <<< "$GOOD"
    [ "$status" -eq 66 ]
    PW=secret run rspamkit-pw -c --password-env PW <<< "$GOOD"
    [ "$status" -eq 0 ]
}

@test "--check: malformed hashes exit 65 with a clear message, before any password is read" {
    for h in '' secret '$' '$3$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b' \
             '$12$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b' \
             '$2$yeyroboyfobqyrrbkanaogabxyrnbjcn' \
             '$2$YEYROBOYFOBQYRRBKANAOGABXYRNBJCN$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b' \
             '$2$yeyroboyfobqyrrbkanaogabxyrnbjc$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b' \
             '$2$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt4'; do
        run --separate-stderr rspamkit-pw -c "$h" < /dev/null
        [ "$status" -eq 65 ] || { echo "$h -> $status $stderr"; false; }
        [ "${#stderr_lines[@]}" -eq 1 ]
        [[ $stderr == "rspamkit-pw: "*hash* ]]
    done
    run --separate-stderr rspamkit-pw -c 'nohash' < /dev/null
    [ "$stderr" = 'rspamkit-pw: not a password hash: it must start with $1$ or $2$' ]
    run --separate-stderr rspamkit-pw -c '$2$yeyroboyfobqyrrbkanaogabxyrnbjc$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b' < /dev/null
    [ "$stderr" = 'rspamkit-pw: malformed hash: the salt decodes to 19 bytes, 20 expected' ]
}

@test "--check: \$01\$ (which crashes rspamadm 3.4) is a malformed hash" {
    run --separate-stderr rspamkit-pw -c '$01$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b' <<< secret
    [ "$status" -eq 65 ]
    [ "$stderr" = "rspamkit-pw: malformed hash: the salt decodes to 0 bytes, 20 expected" ]
}

@test "--check: what rspamd accepts is accepted (trailing junk, unchecked separators)" {
    needs_rspamadm
    for h in "$GOOD\$junk" '$2x'"${GOOD:3}" "${GOOD:0:35}-${GOOD:36}"; do
        run rspamkit-pw -c "$h" <<< secret
        [ "$status" -eq 0 ] || { echo "$h: $status $output"; false; }
        run python3 "$PTY" 'Enter passphrase: ' secret -- rspamadm pw --check -p "$h"
        [ "$status" -eq 0 ] || { echo "rspamadm $h: $status $output"; false; }
    done
}

# -------------------------------------------------------- password sources

@test "--password-file: mode 600 works, group/other access exits 77, missing exits 66" {
    f=$(pwfile secret)
    run rspamkit-pw -c "$GOOD" --password-file "$f"
    [ "$status" -eq 0 ]
    for m in 644 640 604 660 620 601; do
        chmod "$m" "$f"
        run --separate-stderr rspamkit-pw -c "$GOOD" --password-file "$f"
        [ "$status" -eq 77 ] || { echo "mode $m -> $status"; false; }
        [ -z "$output" ]
    done
    chmod 644 "$f"
    run --separate-stderr rspamkit-pw --password-file "$f"
    [ "$status" -eq 77 ]
    [ "$stderr" = "rspamkit-pw: $f is accessible to group or others (mode 0644): chmod 600 it" ]
    run --separate-stderr rspamkit-pw --password-file "$BATS_TEST_TMPDIR/nonexistent"
    [ "$status" -eq 66 ]
    [ "$stderr" = "rspamkit-pw: cannot open $BATS_TEST_TMPDIR/nonexistent: No such file or directory" ]
    mkdir -m 700 "$BATS_TEST_TMPDIR/dir"
    run --separate-stderr rspamkit-pw --password-file "$BATS_TEST_TMPDIR/dir"
    [ "$status" -eq 66 ] && [[ $stderr == *"Is a directory" ]]
}

@test "--password-file: one trailing LF or CRLF is dropped, the rest is kept; pipes work" {
    run rspamkit-pw -c "$GOOD" --password-file "$(pwfile $'secret\n')"
    [ "$status" -eq 0 ]
    run rspamkit-pw -c "$GOOD" --password-file "$(pwfile $'secret\r\n')"
    [ "$status" -eq 0 ]
    run rspamkit-pw -c "$GOOD" --password-file "$(pwfile $'secret\n\n')"
    [ "$status" -eq 1 ]
    run rspamkit-pw -c "$GOOD" --password-file "$(pwfile ' secret')"
    [ "$status" -eq 1 ]
    # a pipe (mode 600) works too
    run rspamkit-pw -c "$GOOD" --password-file <(echo secret)
    [ "$status" -eq 0 ]
    # a made hash checks against the same file
    f=$(pwfile $'p@ss w0rd\n')
    h=$(rspamkit-pw -t pbkdf2 --password-file "$f")
    run rspamkit-pw -c "$h" <<< 'p@ss w0rd'
    [ "$status" -eq 0 ]
}

@test "stdin: one line when it is not a terminal; empty or missing input is refused" {
    h=$(printf 'secret\nsecond line\n' | rspamkit-pw)
    run rspamkit-pw -c "$h" <<< secret
    [ "$status" -eq 0 ]
    h=$(printf 'secret' | rspamkit-pw -t pbkdf2)
    run rspamkit-pw -c "$h" <<< secret
    [ "$status" -eq 0 ]
    run --separate-stderr rspamkit-pw < /dev/null
    [ "$status" -eq 66 ] && [ "$stderr" = "rspamkit-pw: nothing to read on standard input" ]
    run --separate-stderr rspamkit-pw <<< ''
    [ "$status" -eq 65 ] && [ "$stderr" = "rspamkit-pw: empty password" ]
    run --separate-stderr rspamkit-pw -p ''
    [ "$status" -eq 65 ]
    run --separate-stderr rspamkit-pw < <(head -c 9000 /dev/zero | tr '\0' a)
    [ "$status" -eq 65 ] && [[ $stderr == *"longer than 8191 bytes" ]]
    # files: 8191 bytes and a CRLF pass; one byte more, or anything after, does not
    f=$(pwfile "$(head -c 8191 /dev/zero | tr '\0' a)")
    printf '\r\n' >> "$f"
    run rspamkit-pw -t pbkdf2 --password-file "$f"
    [ "$status" -eq 0 ]
    printf 'b' >> "$f"
    run --separate-stderr rspamkit-pw -t pbkdf2 --password-file "$f"
    [ "$status" -eq 65 ] && [ "$stderr" = "rspamkit-pw: $f is longer than 8191 bytes" ]
}

@test "--password-env: the variable's value; unset exits 66" {
    h=$(PW=secret rspamkit-pw --password-env PW)
    run rspamkit-pw -c "$h" <<< secret
    [ "$status" -eq 0 ]
    run --separate-stderr env -u PW rspamkit-pw --password-env PW
    [ "$status" -eq 66 ] && [ "$stderr" = "rspamkit-pw: environment variable PW is not set" ]
}

@test "terminal: prompt twice with echo off, then the hash" {
    run python3 "$PTY" 'Enter passphrase: ' 'tty s3cret' 'Repeat passphrase: ' 'tty s3cret' -- rspamkit-pw
    [ "$status" -eq 0 ]
    [[ $output != *s3cret* ]]      # never echoed
    h=$(grep -oE '\$2\$[a-z0-9]{32}\$[a-z0-9]{52}' <<< "$output")
    run rspamkit-pw -c "$h" <<< 'tty s3cret'
    [ "$status" -eq 0 ]
}

@test "terminal: different answers exit 65" {
    run python3 "$PTY" 'Enter passphrase: ' one 'Repeat passphrase: ' two -- rspamkit-pw
    [ "$status" -eq 65 ]
    [[ $output == *"rspamkit-pw: the passwords do not match"* ]]
    [[ $output != *'$2$'* ]]
}

@test "terminal: --check asks once, and -c -p HASH works as with rspamadm" {
    run python3 "$PTY" 'Enter passphrase: ' secret -- rspamkit-pw -c -p "$GOOD"
    [ "$status" -eq 0 ] && [[ $output == *"password correct"* ]] && [[ $output != *"Repeat"* ]]
    run python3 "$PTY" 'Enter passphrase: ' wrong -- rspamkit-pw --check "$GOOD"
    [ "$status" -eq 1 ] && [[ $output == *"password incorrect"* ]]
    run python3 "$PTY" 'Enter hash: ' "$GOOD" 'Enter passphrase: ' secret -- rspamkit-pw -c
    [ "$status" -eq 0 ] && [[ $output == *"password correct"* ]]
}

@test "terminal: SIGINT at the prompt restores echo" {
    run python3 - "$PTY" <<'PY'
import os, pty, signal, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    # as from a terminal: a runner started in the background (sh -c '... &')
    # would pass SIGINT on ignored
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execvp("rspamkit-pw", ["rspamkit-pw"])
out = b""
while b"Enter passphrase: " not in out:
    out += os.read(fd, 1024)
os.kill(pid, signal.SIGINT)
_, st = os.waitpid(pid, 0)
echo = termios.tcgetattr(fd)[3] & termios.ECHO
print("signal", os.WTERMSIG(st) if os.WIFSIGNALED(st) else None, "echo", bool(echo))
PY
    [ "$output" = "signal 2 echo True" ]
}

@test "output errors exit 74" {
    [ -w /dev/full ] || skip "no /dev/full"
    run --separate-stderr bash -c 'rspamkit-pw -p secret > /dev/full'
    [ "$status" -eq 74 ]
    [[ $stderr == "rspamkit-pw: cannot write to standard output: No space left on device" ]]
}

@test "rspamkit pw dispatches to rspamkit-pw" {
    command -v rspamkit > /dev/null || skip "the rspamkit front door is not built"
    run rspamkit pw -l
    [ "$status" -eq 0 ] && [[ $output == "pbkdf2: "* ]]
    run rspamkit pw -c "$GOOD" <<< secret
    [ "$status" -eq 0 ] && [ "$output" = "password correct" ]
    run rspamkit pw keypair
    [ "$status" -eq 0 ] && [ "${lines[0]}" = "keypair {" ] && [[ $output == *'type = "kex";'* ]]
}

@test "installer forms of rspamadm pw: one line on stdout, the same hash type, rspamadm checks it" {
    command -v rspamkit > /dev/null || skip "the rspamkit front door is not built"
    needs_rspamadm
    pw='inst@ller pw'
    for form in "-e -p" "--quiet --encrypt --type pbkdf2 --password" "-q -p" "-p" \
                "--encrypt --type=catena -p" "-q -t pbkdf2 -e -p"; do
        want=$(rspamadm pw $form "$pw")
        [ "$(wc -l <<<"$want")" -eq 1 ]
        for tool in "rspamkit pw" rspamkit-pw; do
            run --separate-stderr $tool $form "$pw"
            [ "$status" -eq 0 ] && [ -z "$stderr" ] && [ "${#lines[@]}" -eq 1 ] ||
                { echo "$tool $form: $status '$stderr' $output"; false; }
            [ "${output:0:3}" = "${want:0:3}" ] && [ "${#output}" -eq "${#want}" ]
            h=$output
            run python3 "$PTY" 'Enter passphrase: ' "$pw" -- rspamadm pw --check -p "$h"
            [ "$status" -eq 0 ] && [[ $output == *"password correct"* ]] ||
                { echo "$tool $form: rspamadm --check: $status $output"; false; }
        done
    done
    # $(...) in a script, and the default type is catena ($2$) as in rspamadm
    h=$(rspamkit pw -q -p "$pw")
    [[ $h == '$2$'* ]]
    [[ $(rspamadm pw -q -p "$pw") == '$2$'* ]]
}

@test "the password piped in (rspamadm reads only the terminal): rspamkit pw and rspamkit-pw" {
    command -v rspamkit > /dev/null || skip "the rspamkit front door is not built"
    pw='piped pw'
    for tool in "rspamkit pw" rspamkit-pw; do
        for form in "" "-e" "-q -e" "--quiet --encrypt --type pbkdf2"; do
            run --separate-stderr bash -c 'printf "%s\n" "$1" | $2 $3' _ "$pw" "$tool" "$form"
            [ "$status" -eq 0 ] && [ -z "$stderr" ] && [ "${#lines[@]}" -eq 1 ] ||
                { echo "$tool $form: $status '$stderr' $output"; false; }
            if [[ $form == *pbkdf2* ]]; then [[ $output == '$1$'* ]]; else [[ $output == '$2$'* ]]; fi
            run rspamkit-pw -c "$output" <<<"$pw"
            [ "$status" -eq 0 ]
        done
    done
    # a wrong one does not check
    h=$(printf '%s\n' "$pw" | rspamkit pw -q)
    run rspamkit pw -c -q "$h" <<<"${pw}x"
    [ "$status" -eq 1 ] && [ -z "$output" ]
}

# ------------------------------------------------------ the live controller

# A private Rspamd whose controller has `password` = a pbkdf2 hash and
# `enable_password` = a catena hash, both made by rspamkit-pw, of two fresh
# random passwords.  It needs tests/server/start to take the hashes (and the
# plain enable password, for its readiness check) from the environment.
@test "controller: rspamkit-pw hashes let a learn through, wrong passwords do not" {
    start=${RK_SERVER_START:-$SRC/tests/server/start}
    grep -q RK_SERVER_ENABLE_PASSWORD_HASH "$start" ||
        skip "tests/server/start cannot take controller hashes (RK_SERVER_PASSWORD, RK_SERVER_PASSWORD_HASH, RK_SERVER_ENABLE_PASSWORD_HASH)"
    command -v curl > /dev/null || skip "curl is not installed"
    ro=$(head -c 12 /dev/urandom | base64 | tr '/+' '_-')
    en=$(head -c 12 /dev/urandom | base64 | tr '/+' '_-')
    export RK_SERVER_PASSWORD=$en
    RK_SERVER_PASSWORD_HASH=$(printf '%s\n' "$ro" | rspamkit-pw -t pbkdf2)
    RK_SERVER_ENABLE_PASSWORD_HASH=$(printf '%s\n' "$en" | rspamkit-pw -t catena)
    export RK_SERVER_PASSWORD_HASH RK_SERVER_ENABLE_PASSWORD_HASH
    dir=$(mktemp -d /tmp/rspamkit-pw-server.XXXXXX)
    chmod 755 "$dir"
    "$start" "$dir" 3>&- || { "${start%/*}/stop" "$dir"; rm -rf "$dir"; false; }
    . "$dir/env"
    url=http://$RK_HOST:$RK_CONTROLLER_PORT
    msg=$BATS_TEST_TMPDIR/m.eml
    {
        printf 'From: a@example.org\nTo: b@example.org\nSubject: pw test %s\n\n' "$en"
        for i in $(seq 40); do printf 'word%s %s ' "$i" "$RANDOM"; done
        echo
    } > "$msg"
    code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
    learn_en=$(code -H "Password: $en" --data-binary @"$msg" "$url/learnspam")
    learn_ro=$(code -H "Password: $ro" --data-binary @"$msg" "$url/learnspam")
    learn_bad=$(code -H "Password: ${en}x" --data-binary @"$msg" "$url/learnspam")
    stat_ro=$(code -H "Password: $ro" "$url/stat")
    stat_bad=$(code -H "Password: ${ro}x" "$url/stat")
    "${start%/*}/stop" "$dir"
    rm -rf "$dir"
    echo "learn: enable=$learn_en ro=$learn_ro wrong=$learn_bad; stat: ro=$stat_ro wrong=$stat_bad"
    [ "$learn_en" = 200 ]
    [ "$learn_ro" = 401 ] || [ "$learn_ro" = 403 ]
    [ "$learn_bad" = 401 ] || [ "$learn_bad" = 403 ]
    [ "$stat_ro" = 200 ]
    [ "$stat_bad" = 401 ] || [ "$stat_bad" = 403 ]
}

# ------------------------------------------------------ HTTPCrypt keypairs

# keypair_field NAME: the value of NAME in the keypair block on stdin
keypair_field() { sed -n "s/^    $1 = \"\\(.*\\)\";\$/\\1/p"; }
# id_check PUBKEY ID: "32 True" when PUBKEY decodes to 32 bytes and ID is
# base32(BLAKE2b-512(them)), Rspamd's base32 being LSB first
id_check() {
    python3 - "$1" "$2" <<'PY'
import hashlib, sys
A = "ybndrfg8ejkmcpqxot1uwisza345h769"
def dec(s):
    n = sum(A.index(c) << (5 * i) for i, c in enumerate(s))
    return n.to_bytes(len(s) * 5 // 8 + 1, "little")[: len(s) * 5 // 8]
def enc(b):
    n, bits = int.from_bytes(b, "little"), len(b) * 8
    return "".join(A[(n >> i) & 31] for i in range(0, bits, 5))
pk = dec(sys.argv[1])
print(len(pk), enc(hashlib.blake2b(pk, digest_size=64).digest()) == sys.argv[2])
PY
}

@test "keypair: the section rspamadm keypair prints, with a fresh key each time" {
    run --separate-stderr rspamkit-pw keypair
    [ "$status" -eq 0 ] && [ -z "$stderr" ]
    kp=$output
    [ "${lines[0]}" = "keypair {" ] && [ "${lines[-1]}" = "}" ]
    b32='[ybndrfg8ejkmcpqxot1uwisza345h769]'
    [[ $(keypair_field pubkey <<<"$kp") =~ ^$b32{52}$ ]]
    [[ $(keypair_field privkey <<<"$kp") =~ ^$b32{52}$ ]]
    [[ $(keypair_field id <<<"$kp") =~ ^$b32{103}$ ]]
    # the same fields, values and layout as rspamadm's (which orders them at random)
    if command -v rspamadm > /dev/null; then
        shape() { sed -E 's/"[ybndrfg8ejkmcpqxot1uwisza345h769]{52,103}"/"B32"/' | sort; }
        [ "$(shape <<<"$kp")" = "$(rspamadm keypair | shape)" ]
    fi
    [ "$(rspamkit-pw keypair | keypair_field pubkey)" != "$(keypair_field pubkey <<<"$kp")" ]
    # the id is BLAKE2b-512 of the public key, in Rspamd's base32 (LSB first),
    # as in rspamadm's keypairs
    run id_check "$(keypair_field pubkey <<<"$kp")" "$(keypair_field id <<<"$kp")"
    [ "$output" = "32 True" ]
    if command -v rspamadm > /dev/null; then
        ref=$(rspamadm keypair)
        run id_check "$(keypair_field pubkey <<<"$ref")" "$(keypair_field id <<<"$ref")"
        [ "$output" = "32 True" ]
    fi
}

@test "keypair: extra arguments or password options exit 64" {
    for args in "keypair x" "keypair -p x" "-e keypair" "keypair -t pbkdf2" "keypair --password-env HOME"; do
        run --separate-stderr rspamkit-pw $args
        [ "$status" -eq 64 ] || { echo "args: $args -> $status"; false; }
        [ -z "$output" ]
        [ "$stderr" = "rspamkit-pw: keypair takes no arguments and no password options" ]
    done
}

# A private Rspamd whose workers have a keypair made by rspamkit-pw keypair
# (tests/server/start with an overlay local.d/keypair.inc); teardown stops it.
@test "keypair: a real Rspamd takes it, and --key with its pubkey scans" {
    start=${RK_SERVER_START:-$SRC/tests/server/start}
    grep -q RK_SERVER_OVERLAY "$start" || skip "tests/server/start takes no RK_SERVER_OVERLAY"
    mkdir -p "$BATS_TEST_TMPDIR/overlay/local.d"
    rspamkit-pw keypair > "$BATS_TEST_TMPDIR/overlay/local.d/keypair.inc"
    pub=$(keypair_field pubkey < "$BATS_TEST_TMPDIR/overlay/local.d/keypair.inc")
    KP_SERVER=$(mktemp -d /tmp/rspamkit-kp-server.XXXXXX)
    chmod 755 "$KP_SERVER"
    RK_SERVER_OVERLAY=$BATS_TEST_TMPDIR/overlay "$start" "$KP_SERVER" 3>&-
    . "$KP_SERVER/env"
    [ "$RK_PUBKEY" = "$pub" ]
    msg=$SRC/examples/messages/spam.eml
    normal=$RK_HOST:$RK_NORMAL_PORT
    enc() { grep -c 'writing encrypted reply' "$RK_RSPAMD_LOG" || true; }
    plain=$(rspamkit-scan -h "$normal" -j "$msg" | jq -c '[.action, .score]')
    [ "$plain" != '[null,null]' ]
    before=$(enc)
    run rspamkit-scan -h "$normal" --key "$pub" -j "$msg"
    [ "$status" -eq 0 ]
    [ "$(jq -c '[.action, .score]' <<<"$output")" = "$plain" ]
    for _ in $(seq 30); do [ "$(enc)" -gt "$before" ] && break; sleep 0.1; done
    [ "$(enc)" -gt "$before" ]
    # the controller has it too
    run rspamkit-ctl -h "$RK_HOST:$RK_CONTROLLER_PORT" --key "$pub" -P "$RK_PASSWORD" uptime
    [ "$status" -eq 0 ]
    # rspamc --key agrees; the usual test server's key is refused
    [ "$("$RK_RSPAMC" -h "$normal" --key "$pub" -j "$msg" | jq -c '[.action, .score]')" = "$plain" ]
    other=$(sed -n 's/^ *pubkey = "\(.*\)";/\1/p' "$SRC/tests/server/conf/local.d/keypair.inc")
    [ "$other" != "$pub" ]
    run rspamkit-scan -h "$normal" --key "$other" "$msg"
    [ "$status" -eq 76 ]
}
