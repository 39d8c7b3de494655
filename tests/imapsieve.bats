#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# The learning chain of examples/imapsieve.conf, report-spam.sieve,
# report-ham.sieve and learn-rspamd, run for real: a private Dovecot (IMAP
# with IMAPSieve and the Sieve pipe) on a loopback port, and an IMAP client
# that moves messages into and out of Junk. The private Rspamd's Bayes must
# learn them (its learn counts in redis, and "already learned" for the same
# message afterwards); with Rspamd down, stalled or refusing the password
# the moves still succeed, in bounded time, and Dovecot's log says why
# nothing was learned.

load helpers

EX="$SRC/examples"

# The IMAP client: python3 -c "$IMAP_CLIENT" PORT USER OP... with the ops "append FOLDER FILE",
# "move FROM TO" (every message of FROM, with UID MOVE) and "count FOLDER"
# (prints "FOLDER: N"). Every command must succeed.
IMAP_CLIENT='
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=60)
def ok(r):
    if r[0] != "OK":
        sys.exit("IMAP command failed: %r" % (r,))
    return r[1]
ok(m.login(sys.argv[2], "secret"))
ops = sys.argv[3:]
while ops:
    op = ops.pop(0)
    if op == "append":
        folder, path = ops.pop(0), ops.pop(0)
        with open(path, "rb") as f:
            ok(m.append(folder, None, None, f.read()))
    elif op == "move":
        src, dst = ops.pop(0), ops.pop(0)
        ok(m.select(src))
        ok(m.uid("MOVE", "1:*", dst))
        ok(m.close())
    elif op == "count":
        folder = ops.pop(0)
        print("%s: %s" % (folder, ok(m.select(folder, readonly=True))[0].decode()))
    else:
        sys.exit("unknown op " + op)
m.logout()
'
# imap OP...: the client against the private Dovecot, as this test's own
# user (a mailbox of its own); nothing may hang.
imap() { timeout 120 python3 -c "$IMAP_CLIENT" "$(cat "$D/imap.port")" "$IMAP_USER" "$@"; }

learns() { redis-cli -p "$RK_REDIS_PORT" HGET RS "learns_$1" | sed 's/^$/0/'; }

# The mail user: Dovecot runs the user's processes, and so the Sieve pipe,
# as nobody when we are root, else as ourselves.
mail_user() { if [ "$(id -u)" = 0 ]; then echo nobody; else id -un; fi; }

# pipe_to ADDRESS: install examples/learn-rspamd as the pipe program, with
# the controller's address, a password file and the rspamkit under test.
pipe_to() {
    sed -e "s|^RSPAMD=.*|RSPAMD=$1|" -e "s|^PASSWORD_FILE=.*|PASSWORD_FILE=$D/controller.password|" \
        -e "s|/usr/bin/rspamkit|$(command -v rspamkit)|" "$EX/learn-rspamd" > "$D/pipe/learn-rspamd"
    chmod 755 "$D/pipe/learn-rspamd"
}

setup_file() {
    [ -x /usr/lib/dovecot/imap ] || skip "dovecot-imapd not installed"
    [ -f /usr/lib/dovecot/modules/sieve/lib90_sieve_imapsieve_plugin.so ] || skip "dovecot-sieve not installed"
    "$SRC/tests/server/reset" "$RK_TEST_DIR"
    D=$(mktemp -d "${TMPDIR:-/tmp}/rk-imapsieve.XXXXXX")
    export D
    chmod 755 "$D"
    mkdir -p "$D/run" "$D/state" "$D/home" "$D/sieve" "$D/pipe"
    local user group port
    user=$(mail_user)
    group=$(id -gn "$user")
    closed_port > "$D/imap.port"
    port=$(cat "$D/imap.port")
    # The examples, with their Debian paths moved under $D.
    sed -e "s|/etc/dovecot/sieve/|$D/sieve/|" -e "s|/usr/local/lib/dovecot/sieve-pipe|$D/pipe|" \
        "$EX/imapsieve.conf" > "$D/imapsieve.conf"
    cp "$EX/report-spam.sieve" "$EX/report-ham.sieve" "$D/sieve/"
    printf '%s\n' "$RK_PASSWORD" > "$D/controller.password"
    chmod 600 "$D/controller.password"
    cat > "$D/dovecot.conf" <<CONF
# A private Dovecot: IMAP on a loopback port, users of any name with the
# password "secret", all state under $D.
protocols = imap
listen = 127.0.0.1
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
ssl = no
# The pipe program inherits the imap process's address-space limit (256 MB by
# default), which an AddressSanitizer build of rspamkit cannot start under.
default_vsz_limit = 0
disable_plaintext_auth = no
first_valid_uid = 0
default_internal_user = $user
default_internal_group = $group
default_login_user = $user
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=$user gid=$group home=$D/home/%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  mailbox Junk {
    auto = create
    special_use = \\Junk
  }
  mailbox Trash {
    auto = create
    special_use = \\Trash
  }
  mailbox Archive {
    auto = create
  }
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
!include $D/imapsieve.conf
CONF
    # as the admin does after installing the scripts
    sievec -c "$D/dovecot.conf" "$D/sieve/report-spam.sieve"
    sievec -c "$D/dovecot.conf" "$D/sieve/report-ham.sieve"
    pipe_to "$CONTROLLER"
    [ "$(id -u)" = 0 ] && chown -R "$user:$group" "$D/home" "$D/controller.password"
    dovecot -c "$D/dovecot.conf" < /dev/null > "$D/dovecot.out" 2>&1 3>&-
    for _ in $(seq 300); do
        (exec 9<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && return 0
        sleep 0.1
    done
    cat "$D/dovecot.out" "$D/dovecot.log" >&2
    echo "dovecot did not start listening on port $port" >&2
    return 1
}

teardown_file() {
    [ -n "${D:-}" ] || return 0
    local pid
    pid=$(cat "$D/run/master.pid" 2> /dev/null) && kill "$pid" &&
        for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    rm -rf "$D"
    "$SRC/tests/server/reset" "$RK_TEST_DIR"
}

# fresh_message: a copy of a text/plain spam with a fresh Message-ID and one
# line more, which Bayes has never seen; prints its path.
fresh_message() {
    local tag f
    tag=$(date +%s%N)-$RANDOM
    f=$BATS_TEST_TMPDIR/message-$tag.eml
    sed "s/^Message-ID: <\([^@]*\)@/Message-ID: <\1-$tag@/" "$SRC/tests/server/msgs/spam1.eml" > "$f"
    echo "Reference code $tag for this message." >> "$f"
    echo "$f"
}

setup() {
    M=$(fresh_message)
    IMAP_USER=user$BATS_TEST_NUMBER
    pipe_to "$CONTROLLER"
    : > "$D/dovecot.log"
}
teardown() { stop_fake; }

@test "imapsieve: a move into Junk over IMAP learns the message as spam" {
    spam=$(learns spam) ham=$(learns ham)
    run imap append INBOX "$M" move INBOX Junk count INBOX count Junk
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "INBOX: 0" ]
    [ "${lines[1]}" = "Junk: 1" ]
    [ "$(learns spam)" -eq $((spam + 1)) ]
    [ "$(learns ham)" -eq "$ham" ]
    run rspamkit-learn -h "$CONTROLLER" -P "$RK_PASSWORD" --spam "$M"
    [ "$status" -eq 0 ]
    [[ $output == "$M: already learned ("*"has been already learned as spam"*")" ]]
    run grep -i error "$D/dovecot.log"
    [ "$status" -eq 1 ]
}

@test "imapsieve: a move of several messages at once learns each of them" {
    M2=$(fresh_message) M3=$(fresh_message)
    spam=$(learns spam)
    run imap append INBOX "$M" append INBOX "$M2" append INBOX "$M3" move INBOX Junk count Junk
    [ "$status" -eq 0 ]
    [ "$output" = "Junk: 3" ]
    [ "$(learns spam)" -eq $((spam + 3)) ]
    run rspamkit-learn -h "$CONTROLLER" -P "$RK_PASSWORD" --spam "$M" "$M2" "$M3"
    [ "$status" -eq 0 ]
    [ "$(grep -c ': already learned (.*has been already learned as spam' <<<"$output")" -eq 3 ]
}

@test "imapsieve: a move out of Junk relearns the message as ham" {
    run imap append INBOX "$M" move INBOX Junk
    [ "$status" -eq 0 ]
    spam=$(learns spam) ham=$(learns ham)
    run imap move Junk INBOX count Junk count INBOX
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "Junk: 0" ]
    [ "${lines[1]}" = "INBOX: 1" ]
    [ "$(learns ham)" -eq $((ham + 1)) ]
    [ "$(learns spam)" -eq $((spam - 1)) ]
    run rspamkit-learn -h "$CONTROLLER" -P "$RK_PASSWORD" --ham "$M"
    [ "$status" -eq 0 ]
    [[ $output == "$M: already learned ("*"has been already learned as ham"*")" ]]
    run grep -i error "$D/dovecot.log"
    [ "$status" -eq 1 ]
}

@test "imapsieve: from Junk into Trash, and between other folders, nothing is learned" {
    spam=$(learns spam) ham=$(learns ham)
    # an APPEND into Junk is not a move (imapsieve_mailbox1_causes = COPY)
    run imap append Junk "$M" move Junk Trash append INBOX "$M" move INBOX Archive count Trash count Archive
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "Trash: 1" ]
    [ "${lines[1]}" = "Archive: 1" ]
    [ "$(learns spam)" -eq "$spam" ]
    [ "$(learns ham)" -eq "$ham" ]
    # Bayes has never seen it
    run rspamkit-learn -h "$CONTROLLER" -P "$RK_PASSWORD" --spam "$M"
    [ "$status" -eq 0 ]
    [ "$output" = "$M: learned as spam" ]
}

@test "imapsieve: Rspamd down, stalled or refusing the password: the moves succeed and the log says why" {
    spam=$(learns spam) ham=$(learns ham)
    pipe_to "127.0.0.1:$(closed_port)"
    run imap append INBOX "$M" move INBOX Junk count Junk
    [ "$status" -eq 0 ]
    [ "$output" = "Junk: 1" ]
    grep -q "learn-rspamd: learn_spam for $IMAP_USER: .*cannot connect to 127.0.0.1:" "$D/dovecot.log"

    # the wrapper's own timeout ends the learn, not Dovecot's
    # sieve_pipe_exec_timeout
    fake_server stall
    pipe_to "127.0.0.1:$FAKE_PORT"
    run imap move Junk INBOX count INBOX
    [ "$status" -eq 0 ]
    [ "$output" = "INBOX: 1" ]
    grep -q "learn-rspamd: learn_ham for $IMAP_USER: .*timed out" "$D/dovecot.log"

    pipe_to "$CONTROLLER"
    echo wrong-password > "$D/controller.password"
    run imap move INBOX Junk count Junk
    echo "$RK_PASSWORD" > "$D/controller.password"
    [ "$status" -eq 0 ]
    [ "$output" = "Junk: 1" ]
    grep -q "learn-rspamd: learn_spam for $IMAP_USER: .*authentication refused" "$D/dovecot.log"
    [ "$(learns spam)" -eq "$spam" ]
    [ "$(learns ham)" -eq "$ham" ]
    # learn-rspamd exited 0 each time: Dovecot saw no failed Sieve action
    run grep "Execution of script" "$D/dovecot.log"
    [ "$status" -eq 1 ]
}
