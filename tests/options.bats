#!/usr/bin/env bats
# Every option that a program's --help lists is in its man page and in its
# bash, zsh and fish completions; every man page is mandoc -Tlint clean.

load helpers

programs() {
    for p in "$RK_BUILDDIR"/tools/rspamkit "$RK_BUILDDIR"/tools/rspamkit-*; do
        [ -x "$p" ] && [ -f "$p" ] && case $p in *.o|*.c) ;; *) basename "$p" ;; esac
    done
}

@test "every program's --help options are in its man page and completions" {
    n=0
    for b in $(programs); do
        n=$((n + 1))
        opts=$("$b" --help | grep -oE -- '--[a-zA-Z][a-zA-Z0-9-]*' | sort -u)
        [ -n "$opts" ] || { echo "$b: no options in --help"; false; }
        page=$(mandoc -Tascii "$SRC/man/$b.1" | col -b)
        for o in $opts; do
            grep -qF -- "$o" <<<"$page" || { echo "$b: $o missing from man/$b.1"; false; }
            grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" "$SRC/completions/bash/$b" ||
                { echo "$b: $o missing from completions/bash/$b"; false; }
            grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" "$SRC/completions/zsh/_$b" ||
                { echo "$b: $o missing from completions/zsh/_$b"; false; }
            grep -qE -- "-l ${o#--}( |$)" "$SRC/completions/fish/$b.fish" ||
                { echo "$b: $o missing from completions/fish/$b.fish"; false; }
        done
    done
    [ "$n" -ge 2 ]
}

@test "man pages are mandoc -Tlint clean (warnings and above)" {
    for m in "$SRC"/man/*.[0-9]; do
        out=$(mandoc -Tlint -W warning "$m" 2>&1 | grep -v 'mandoc.db' || true)
        [ -z "$out" ] || { echo "$out"; false; }
    done
}

@test "completion scripts parse" {
    for f in "$SRC"/completions/bash/*; do bash -n "$f"; done
    if command -v zsh >/dev/null; then for f in "$SRC"/completions/zsh/_*; do zsh -n "$f"; done; fi
    if command -v fish >/dev/null; then for f in "$SRC"/completions/fish/*.fish; do fish -n "$f"; done; fi
}

@test "every program answers --version" {
    for b in $(programs); do
        run "$b" --version
        [ "$status" -eq 0 ] || { echo "$b --version: $status"; false; }
        [[ $output =~ ^$b\ [0-9]+\.[0-9]+ ]] || { echo "$b: $output"; false; }
    done
}
