# Sieve (Dovecot Pigeonhole): file what Rspamd calls spam into Junk.
# rspamkit-scan --mime writes "X-Spam: yes" for the actions reject,
# soft reject, rewrite subject and add header; any earlier X-Spam header
# of the message was removed, so it cannot be forged by the sender.
require ["fileinto", "mailbox"];

if header :is "X-Spam" "yes" {
    fileinto :create "Junk";
    stop;
}
