# /etc/dovecot/sieve/report-ham.sieve: run by IMAPSieve (see
# examples/imapsieve.conf) when a message is moved or copied out of Junk.
# Hands a copy of it to learn-rspamd, which learns it as ham, unless it
# goes to the Trash: deleting spam does not make it ham.
require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];

if environment :matches "imap.mailbox" "*" {
    set "mailbox" "${1}";
}
if string "${mailbox}" "Trash" {
    stop;
}

if environment :matches "imap.user" "*" {
    set "username" "${1}";
}

pipe :copy "learn-rspamd" ["learn_ham", "${username}"];
