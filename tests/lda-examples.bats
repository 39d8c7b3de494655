#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# The examples/ snippets, run for real: procmail, maildrop, dovecot-lda with
# Sieve (from Postfix's mailbox_command and from fetchmail's mda) deliver
# through rspamkit-scan into a temporary Maildir. Spam lands in Junk, ham in
# INBOX, and with the server down the message still lands in INBOX.

load helpers

EX="$SRC/examples"

setup() {
    D=$(mktemp -d "${TMPDIR:-/tmp}/rk-lda-examples.XXXXXX")
    chmod 755 "$D"
    cp "$MSGS/spam.eml" "$MSGS/ham.eml" "$D/"
    DOWN="127.0.0.1:$(closed_port)"
}
teardown() { rm -rf "$D"; }

# count DIR: messages in a Maildir folder (new/ and cur/)
count() { find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l; }
# the one message in a Maildir folder
only() { find "$1/new" "$1/cur" -type f; }

@test "procmail: examples/procmailrc files spam into .Junk/, ham and unscanned mail into INBOX" {
    command -v procmail >/dev/null || skip "procmail not installed"
    mkdir -p "$D/Maildir"
    rc() {
        { echo "PATH=$PATH"; sed -e "s|^MAILDIR=.*|MAILDIR=$D/Maildir/|" -e "s|^RSPAMD=.*|RSPAMD=$1|" \
            "$EX/procmailrc"; } > "$D/procmailrc"
    }
    rc "$NORMAL"
    run procmail -m "$D/procmailrc" < "$D/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir/.Junk")" -eq 1 ]
    grep -q '^X-Spam: yes$' "$(only "$D/Maildir/.Junk")"
    run procmail -m "$D/procmailrc" < "$D/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir")" -eq 1 ]
    grep -qx "X-Spam-Action: $(ref .action "$D/ham.eml")" "$(only "$D/Maildir")"
    rc "$DOWN"
    run procmail -m "$D/procmailrc" < "$D/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir")" -eq 2 ]
    [ "$(count "$D/Maildir/.Junk")" -eq 1 ]
    grep -l '^X-Spam-Error: cannot connect' "$D"/Maildir/new/* | grep -q .
}

@test "maildrop: examples/mailfilter files spam into .Junk/, ham and unscanned mail into INBOX" {
    command -v maildrop >/dev/null || skip "maildrop not installed"
    maildirmake "$D/Maildir"
    maildirmake -f Junk "$D/Maildir"
    rc() {
        { echo "PATH=\"$PATH\""; sed -e "s|^MAILDIR=.*|MAILDIR=\"$D/Maildir\"|" \
            -e "s|^RSPAMD=.*|RSPAMD=\"$1\"|" "$EX/mailfilter"; } > "$D/mailfilter"
        chmod 600 "$D/mailfilter"
    }
    rc "$NORMAL"
    run maildrop "$D/mailfilter" < "$D/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir/.Junk")" -eq 1 ]
    run maildrop "$D/mailfilter" < "$D/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir")" -eq 1 ]
    rc "$DOWN"
    run maildrop "$D/mailfilter" < "$D/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir")" -eq 2 ]
    [ "$(count "$D/Maildir/.Junk")" -eq 1 ]
}

# A dovecot-lda for the test: examples/dovecot-lda.conf plus a Maildir under
# $D, run as the delivery user (nobody when we are root, as dovecot-lda -d
# would switch to that user; without an auth service it cannot look one up).
dovecot_setup() {
    [ -x /usr/lib/dovecot/dovecot-lda ] || skip "dovecot-lda not installed"
    mkdir -p "$D/Maildir"
    cp "$EX/spam.sieve" "$D/.dovecot.sieve"
    cat > "$D/dovecot.conf" <<CONF
mail_location = maildir:~/Maildir
first_valid_uid = 0
log_path = $D/dovecot.log
!include $EX/dovecot-lda.conf
CONF
    cat > "$D/dovecot-lda" <<WRAP
#!/bin/sh
# drop -d USER: we deliver as the test user
args=""
while [ \$# -gt 0 ]; do
    if [ "\$1" = -d ]; then shift 2; continue; fi
    args="\$args '\$1'"; shift
done
if [ "\$(id -u)" = 0 ]; then
    eval exec setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=$D USER=nobody \
        /usr/lib/dovecot/dovecot-lda -c $D/dovecot.conf \$args
fi
eval exec env HOME=$D /usr/lib/dovecot/dovecot-lda -c $D/dovecot.conf \$args
WRAP
    chmod 755 "$D/dovecot-lda"
    [ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$D"
    return 0
}

@test "dovecot-lda + Sieve from Postfix's mailbox_command (examples/postfix-main.cf)" {
    dovecot_setup
    cmd=$(sed -n 's/^mailbox_command = //p' "$EX/postfix-main.cf")
    [ -n "$cmd" ]
    deliver() {
        local c=${cmd//\/usr\/bin\/rspamkit-scan -h localhost:11333/rspamkit-scan -h $1}
        c=${c//\/usr\/lib\/dovecot\/dovecot-lda/$D/dovecot-lda}
        SENDER=sender@example.com RECIPIENT=nobody@example.org sh -c "$c"
    }
    run deliver "$NORMAL" < "$D/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir/.Junk")" -eq 1 ]
    grep -q '^X-Spam: yes$' "$(only "$D/Maildir/.Junk")"
    run deliver "$NORMAL" < "$D/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir")" -eq 1 ]
    run deliver "$DOWN" < "$D/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir")" -eq 2 ]
    [ "$(count "$D/Maildir/.Junk")" -eq 1 ]
    grep -l '^X-Spam-Error: ' "$D"/Maildir/new/* | grep -q .
}

@test "dovecot-lda + Sieve from fetchmail's mda (examples/fetchmailrc, %T single-quoted)" {
    dovecot_setup
    for mda in "$(sed -n 's/^ *mda "\(.*\)"$/\1/p' "$EX/fetchmailrc")" \
               "$(sed -n 's/^#   mda "\(.*\)"$/\1/p' "$EX/fetchmailrc")"; do
        [ -n "$mda" ]
        # fetchmail puts the local name in single quotes for %T and runs sh -c
        c=${mda//%T/\'nobody\'}
        c=${c//\/usr\/bin\/rspamkit-scan -h localhost:11333/\/usr\/bin\/rspamkit-scan}
        c=${c//\/usr\/bin\/rspamkit-scan/rspamkit-scan -h $NORMAL}
        c=${c//\/usr\/lib\/dovecot\/dovecot-lda/$D/dovecot-lda}
        [[ $c == *"rspamkit-scan -h $NORMAL"* ]]
        run sh -c "$c" < "$D/spam.eml"
        [ "$status" -eq 0 ]
    done
    [ "$(count "$D/Maildir/.Junk")" -eq 2 ]
    run sh -c "${c//-h $NORMAL/-h $DOWN}" < "$D/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(count "$D/Maildir")" -eq 1 ]
}

@test "dovecot-lda fails temporarily: its 75 comes back unchanged, --tempfail with the server down gives 75" {
    dovecot_setup
    chmod 000 "$D/Maildir"
    [ "$(id -u)" = 0 ] && chown root "$D/Maildir"
    run rspamkit-scan -h "$NORMAL" --mime --exec "$D/dovecot-lda" < "$D/ham.eml"
    [ "$status" -eq 75 ]
    chmod 755 "$D/Maildir"
    [ "$(id -u)" = 0 ] && chown nobody "$D/Maildir"
    run rspamkit-scan -h "$DOWN" --tempfail --mime --exec "$D/dovecot-lda" < "$D/ham.eml"
    [ "$status" -eq 75 ]
    [ "$(count "$D/Maildir")" -eq 0 ]
}
