# /etc/dovecot/sieve/report-spam.sieve: run by IMAPSieve (see
# examples/imapsieve.conf) when a message is moved or copied into Junk.
# Hands a copy of it to learn-rspamd, which learns it as spam; the move
# itself is not changed.
require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];

if environment :matches "imap.user" "*" {
    set "username" "${1}";
}

pipe :copy "learn-rspamd" ["learn_spam", "${username}"];
