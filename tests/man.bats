#!/usr/bin/env bats
# Every man page renders with groff, as Debian's man(1) formats it (tbl, then
# groff -man, which reads mdoc too): no warnings, no line wider than the page,
# the same words as mandoc renders (so no words run together), and none of the
# breakages groff has shown before. Every page has groff write ASCII quotes,
# dashes and bullets and not hyphenate (a .tr and a .nr after .Os), so that a
# line is as many bytes as characters: width is checked in both.
# tests/options.bats keeps the mandoc lint.

load helpers

pages() { ls "$SRC"/man/*.[0-9]; }

# groff_page PAGE WIDTH: the page as plain text, groff's warnings on stderr
groff_page() {
    tbl "$1" | groff -man -Tutf8 -ww -rLL="$2"n | col -bx
}

# words: the words of a rendered page, one per line, sorted; the header and
# footer lines are dropped, hyphenation at line ends is undone, and
# typographic differences between groff and mandoc (dashes, quotes, bullets,
# no-break spaces) are flattened
words() {
    sed '/^$/d' | sed '1d;$d' |
        perl -CSD -0777 -pe 's/\x{a0}/ /g; s/[\x{2013}\x{2014}]/-/g; s/[\x{2018}\x{2019}]/\x27/g;
            s/[\x{201c}\x{201d}]/"/g; s/^(\s*)\x{2022}(?=\s)/$1o/mg;
            s/(\S)\x{2010}\n\s*/$1/g; s/(\w-)\n\s*(?=\w)/$1/g' |
        tr -s ' \n' '\n\n' | sed '/^$/d' | sort -u
}

wide_lines() { # wide_lines WIDTH: the lines of stdin longer than WIDTH characters or bytes
    perl -ne 'chomp; print "$.: $_\n" if length > '"$1" # bytes
    perl -CSD -ne 'chomp; print "$.: $_\n" if length > '"$1"
}

@test "groff renders every page without warnings at 80 and 120 columns" {
    for m in $(pages); do
        for w in 80 120; do
            err=$(groff_page "$m" "$w" 2>&1 >/dev/null)
            [ -z "$err" ] || { echo "${m##*/} at $w columns: $err"; false; }
        done
    done
}

@test "no rendered line is wider than the page, at 80 and 120 columns, in characters and bytes" {
    for m in $(pages); do
        for w in 80 120; do
            wide=$(groff_page "$m" "$w" 2>/dev/null | wide_lines "$w")
            [ -z "$wide" ] || { echo "${m##*/} at $w columns:"; echo "$wide"; false; }
        done
    done
}

@test "man -l at MANWIDTH=80 renders every page without warnings or lines over 80 bytes" {
    command -v man >/dev/null || skip "man is not installed"
    for m in $(pages); do
        err=$(MANWIDTH=80 MANPAGER=cat man -l "$m" 2>&1 >/dev/null)
        [ -z "$err" ] || { echo "${m##*/}: $err"; false; }
        wide=$(MANWIDTH=80 MANPAGER=cat man -l "$m" 2>/dev/null | col -bx | wide_lines 80)
        [ -z "$wide" ] || { echo "${m##*/}:"; echo "$wide"; false; }
    done
}

@test "groff and mandoc render the same words (nothing runs together)" {
    for m in $(pages); do
        diff=$(comm -3 <(groff_page "$m" 80 2>/dev/null | words) \
            <(mandoc -Tutf8 "$m" | col -bx | words))
        [ -z "$diff" ] || { echo "${m##*/}: groff | mandoc"; echo "$diff"; false; }
    done
}

@test "every page has groff render ASCII only" {
    for m in $(pages); do
        bad=$(groff_page "$m" 80 2>/dev/null | grep -nP '[^\x00-\x7f]' || true)
        [ -z "$bad" ] || { echo "${m##*/}:"; echo "$bad"; false; }
    done
}

@test "no known groff breakage: nested quotes, run-together words, glued shell tests" {
    for m in $(pages); do
        # with groff's typographic quotes (the page's .tr left out), so that
        # a quote opened inside another shows
        out=$(sed '/^\.tr /d' "$m" | tbl | groff -man -Tutf8 -ww -rLL=80n 2>/dev/null | col -bx)
        # a quote opened inside another (an enclosing macro that ran on)
        bad=$(grep -nE '‘[^’]*‘|“[^”]*“' <<<"$out" || true)
        # words seen run together in the past
        bad+=$(grep -nF -e 'add_actionrspamkit' <<<"$out" || true)
        # a shell test whose brackets lost their spaces: '[$? -le 2]'
        bad+=$(grep -nE '\[[$"][^ ]* -(eq|ne|lt|le|gt|ge|[defnrxz]) | -(eq|ne|lt|le|gt|ge) [^ ]+\]' <<<"$out" || true)
        [ -z "$bad" ] || { echo "${m##*/}:"; echo "$bad"; false; }
    done
}

@test "the known pastable examples render as written" {
    out=$(groff_page "$SRC/man/rspamkit-learn.1" 80 2>/dev/null)
    grep -qF 'rspamkit-learn -q --spam; [ $? -le 2 ]' <<<"$out"
    grep -qF "'*' also matches '/'" <<<"$out"
}
