#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# rspamkit-scan against the same version's rspamc, same server, same inputs.

load helpers

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
}

# compare FILTER ARG...: rspamc and rspamkit-scan given the same ARGs print the
# same after the shell pipeline FILTER (times removed).  The order of the
# symbols in a reply is the server's hash order, which can change between two
# scans of one message (often on 4.x): a difference is scanned again with both
# tools, up to 5 times, before it counts (one in formatting never goes away).
compare() {
    local filter=$1 try; shift
    for try in 1 2 3 4 5; do
        rspamc -h "$NORMAL" "$@" | eval "$filter" >"$M/rspamc.out"
        rspamkit-scan -h "$NORMAL" "$@" | eval "$filter" >"$M/rspamkit.out"
        cmp -s "$M/rspamc.out" "$M/rspamkit.out" && return 0
        echo "# try $try: $* differs"
    done
    diff -u "$M/rspamc.out" "$M/rspamkit.out"
}
# Text reports: with --sort score, symbols of equal score keep the order of
# the reply (a stable sort): those runs of lines are compared as sets, the
# order of the scores exactly.
compare_text() { compare "strip_times | score_ties" "$@"; }
score_ties() {
    perl -ne 'sub flush { print sort @run; @run = (); undef $k }
        if (/^Symbol: \S+ \(-?([0-9.]+)\)/) { flush() if defined $k && $1 ne $k; $k = $1; push @run, $_ }
        else { flush(); print } END { flush() }'
}

@test "text report is identical to rspamc's (example messages)" {
    for f in "$M"/*.eml; do compare_text "$f"; done
}

@test "text report with --sort score and --extended-urls is identical" {
    for f in "$M"/*.eml; do
        compare_text --sort score "$f"
        compare_text --extended-urls "$f"
    done
}

@test "-j and --compact output is identical to rspamc's (times aside)" {
    for f in "$M"/*.eml; do
        for mode in -j --compact "-j --compact"; do
            # shellcheck disable=SC2086
            compare strip_times $mode "$f"
        done
    done
}

@test "--ucl output is identical to rspamc's (times aside)" {
    # rspamc 3.12 and later write a key with a space unquoted (`add header = 6.0;`
    # in the thresholds that servers from 3.5 send), which no UCL parser reads back;
    # rspamkit quotes it as rspamc 3.4 does (rspamkit-scan(1), COMPATIBILITY)
    quote_keys=cat
    [ "$RK_SERVER" = 3.4 ] || quote_keys="sed -E 's/^( *)([a-z]+( [a-z]+)+) = /\\1\"\\2\" = /'"
    for f in "$M"/*.eml; do
        compare "strip_times | $quote_keys" --ucl "$f"
    done
}

@test "JSON content equals rspamc's when numbers are compared as values" {
    rspamc -h "$NORMAL" -j "$M/spam.eml" | jq -S 'del(.time_real, .scan_time)' >"$M/a"
    rspamkit-scan -h "$NORMAL" -j "$M/spam.eml" | jq -S 'del(.time_real, .scan_time)' >"$M/b"
    diff -u "$M/a" "$M/b"
}

@test "stdin and -E are labelled like rspamc does" {
    rspamc -h "$NORMAL" -j <"$M/ham.eml" | jq -r .filename >"$M/a"
    rspamkit-scan -h "$NORMAL" -j <"$M/ham.eml" | jq -r .filename >"$M/b"
    diff "$M/a" "$M/b"
    [ "$(rspamc -h "$NORMAL" -E -j | jq -r .filename)" = "$(rspamkit-scan -h "$NORMAL" -E -j | jq -r .filename)" ]
}

# corpus_sample N DIR: the first N messages of the SpamAssassin corpus's spam-2 and of its
# easy-ham-1 (named ham-*) copied into DIR, a new directory.
corpus_sample() {
    local corpus f
    corpus=$("$SRC/tests/corpus/fetch" 2>/dev/null | tail -n 1)
    [ -d "$corpus/spam-2" ] || { echo "corpus not available: $corpus"; return 1; }
    mkdir "$2"
    ls "$corpus/spam-2"/*.txt | head -n "$1" | xargs cp -t "$2"
    for f in $(ls "$corpus/easy-ham-1"/*.txt | head -n "$1"); do cp "$f" "$2/ham-${f##*/}"; done
}

@test "200 SpamAssassin corpus messages: same action, score and symbol set as rspamc" {
    corpus_sample 100 "$M/c"
    [ "$(ls "$M/c" | wc -l)" -eq 200 ]
    # scores as values to 1/100: rspamc 3.12 and later print 7.039999 as 7.04
    summarize='{f: .filename, a: .action, s: (.score * 100 | round), y: (.symbols | keys)}'
    rspamc -h "$NORMAL" -n 8 --compact "$M/c" | jq -c "$summarize" | sort >"$M/rspamc.sum"
    rspamkit-scan -h "$NORMAL" -n 8 --compact "$M/c" | jq -c "$summarize" | sort >"$M/rspamkit.sum"
    [ "$(wc -l <"$M/rspamc.sum")" -eq 200 ]
    diff -u "$M/rspamc.sum" "$M/rspamkit.sum"
}

# mime_compare FILE: rspamkit-scan --mime --keep-existing-headers writes what this
# version's rspamc --mime writes, byte for byte, but for the values of
# X-Spam-Scanner and X-Spam-Scan-Time; with the test servers' milter_headers,
# rspamc 3.14 and later add the reply's milter.add_headers, earlier ones do not.
mime_compare() {
    local try
    for try in 1 2 3 4 5; do
        rspamc -h "$NORMAL" --mime "$1" | sed -E 's/^(X-Spam-Scanner|X-Spam-Scan-Time): [^\r]*/\1: -/' >"$M/rspamc.out"
        rspamkit-scan -h "$NORMAL" --mime --keep-existing-headers "$1" |
            sed -E 's/^(X-Spam-Scanner|X-Spam-Scan-Time): [^\r]*/\1: -/' >"$M/rspamkit.out"
        cmp -s "$M/rspamc.out" "$M/rspamkit.out" && return 0
        echo "# try $try: --mime $1 differs"
    done
    diff -u "$M/rspamc.out" "$M/rspamkit.out"
}

@test "--mime --keep-existing-headers: rspamc's bytes, milter headers as this version's rspamc (30 corpus messages, LF and CRLF)" {
    corpus_sample 15 "$M/c"
    for f in "$M"/*.eml; do
        cp "$f" "$M/c/"
        sed 's/$/\r/' "$f" >"$M/c/crlf-${f##*/}"
    done
    milter=0
    for f in "$M"/c/*; do
        mime_compare "$f"
        # the server sends milter headers (else this shows nothing)
        [ "$(rspamc -h "$NORMAL" -j "$f" | jq '.milter.add_headers // {} | length')" -gt 0 ] && milter=$((milter + 1))
    done
    [ "$milter" -ge 30 ]
}
