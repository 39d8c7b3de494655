#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# rspamkit-scan against the real rspamc 3.4, same server, same inputs.

load helpers

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
}

# Symbol lines may come in a different order only when rspamc's own output
# does (the server's hash order): compare text reports with times removed.
# With --sort score, symbols of equal score keep the order of the reply
# (a stable sort), and that order changes from one scan to the next (4.x
# shows it): those runs of lines are compared as sets, the order of scores
# exactly.
compare_text() {
    local f=$1; shift
    rspamc -h "$NORMAL" "$@" "$f" | strip_times | score_ties >"$M/rspamc.out"
    rspamkit-scan -h "$NORMAL" "$@" "$f" | strip_times | score_ties >"$M/rspamkit.out"
    diff -u "$M/rspamc.out" "$M/rspamkit.out"
}
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
        compare_text "$f" --sort score
        compare_text "$f" --extended-urls
    done
}

@test "-j and --compact output is identical to rspamc's (times aside)" {
    for f in "$M"/*.eml; do
        for mode in -j --compact "-j --compact"; do
            # shellcheck disable=SC2086
            rspamc -h "$NORMAL" $mode "$f" | strip_times >"$M/a"
            # shellcheck disable=SC2086
            rspamkit-scan -h "$NORMAL" $mode "$f" | strip_times >"$M/b"
            diff -u "$M/a" "$M/b"
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
        rspamc -h "$NORMAL" --ucl "$f" | strip_times | eval "$quote_keys" >"$M/a"
        rspamkit-scan -h "$NORMAL" --ucl "$f" | strip_times >"$M/b"
        diff -u "$M/a" "$M/b"
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

@test "200 SpamAssassin corpus messages: same action, score and symbol set as rspamc" {
    corpus=$("$SRC/tests/corpus/fetch" 2>/dev/null | tail -n 1)
    [ -d "$corpus/spam-2" ] || { echo "corpus not available: $corpus"; false; }
    mkdir "$M/c"
    ls "$corpus/spam-2"/*.txt | head -n 100 | xargs cp -t "$M/c"
    for f in $(ls "$corpus/easy-ham-1"/*.txt | head -n 100); do cp "$f" "$M/c/ham-${f##*/}"; done
    [ "$(ls "$M/c" | wc -l)" -eq 200 ]
    # scores as values to 1/100: rspamc 3.12 and later print 7.039999 as 7.04
    summarize='{f: .filename, a: .action, s: (.score * 100 | round), y: (.symbols | keys)}'
    rspamc -h "$NORMAL" -n 8 --compact "$M/c" | jq -c "$summarize" | sort >"$M/rspamc.sum"
    rspamkit-scan -h "$NORMAL" -n 8 --compact "$M/c" | jq -c "$summarize" | sort >"$M/rspamkit.sum"
    [ "$(wc -l <"$M/rspamc.sum")" -eq 200 ]
    diff -u "$M/rspamc.sum" "$M/rspamkit.sum"
}
