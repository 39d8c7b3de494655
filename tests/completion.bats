#!/usr/bin/env bats
# The shell completions of completions/ (made by completions/generate): bash
# is driven as bash itself does it (COMP_WORDS, COMP_CWORD, the function,
# COMPREPLY), alone and with the bash-completion package loaded; zsh and fish
# are checked for syntax where they are installed.

load helpers

BC=/usr/share/bash-completion/bash_completion

setup() {
    T=$BATS_TEST_TMPDIR
    mkdir -p "$T/cwd/adir" && cd "$T/cwd"
    touch localhost-file name-file pw.txt
    printf '192.0.2.1 rk-test-host\n192.0.2.2 rk-test-other\n' >"$T/hosts"
}

# comp MODE WORD...: what bash completes for the command line WORD... (the
# last word is the one at the cursor), sorted, one per line. MODE: "alone"
# (only our file is sourced) or "bc" (bash-completion first).
comp() {
    local mode=$1
    shift
    local cmd=$1 f
    [ "$cmd" = rspamkit ] && f=rspamkit || f=$cmd
    HOSTFILE="$T/hosts" bash -c '
        [ "$1" = bc ] && { . "$2" || exit 9; declare -F _init_completion >/dev/null || exit 9; }
        . "$3" || exit 8
        shift 3
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        "_${1//-/_}"
        printf "%s\n" "${COMPREPLY[@]}"' comp "$mode" "$BC" "$SRC/completions/bash/$f" "$@" | sort
}

# expect MODE "WANT..." WORD...: the completions are exactly WANT.
expect() {
    local mode=$1 want=$2
    shift 2
    local got
    got=$(comp "$mode" "$@" | paste -sd' ')
    [ "$got" = "$want" ] || { echo "$mode: $*: got '$got', want '$want'"; return 1; }
}

cases() {
    local m=$1
    # options with a fixed set of values
    expect $m "name name:asc score score:asc" rspamkit-scan --sort ""
    expect $m "score score:asc" rspamkit-scan --sort=s
    expect $m "asc" rspamkit-scan --sort score : a
    expect $m "rspamc spamassassin" rspamkit-scan --header-style ""
    expect $m "frequency frequency:asc" rspamkit-ctl --sort fr
    expect $m "catena pbkdf2" rspamkit-pw -t ""
    expect $m "catena pbkdf2" rspamkit-pw --type ""
    expect $m "catena pbkdf2" rspamkit-pw -qt ""
    expect $m "ham spam" rspamkit-spamc -L ""
    expect $m "report revoke" rspamkit-spamc --reporttype ""
    expect $m "CONFDIR=" rspamkit-configdump --var CONFD
    # files for file options, directories for directory options, hosts for servers
    expect $m "pw.txt" rspamkit-scan --password-file p
    expect $m "pw.txt" rspamkit-learn --password-file=p
    expect $m "adir" rspamkit-spamc --ssl-ca-path a
    expect $m "rk-test-host rk-test-other" rspamkit-scan -h rk-
    expect $m "rk-test-host" rspamkit-ctl --connect rk-test-h
    expect $m "rk-test-other" rspamkit-spamc -d rk-test-o
    expect $m "./localhost-file" rspamkit-scan -h ./local
    [ -z "$(comp $m rspamkit-scan -h localhost-)" ] || { echo "$m: -h offers files"; return 1; }
    [ -z "$(comp $m rspamkit-scan --max-requests "")" ] || { echo "$m: -n offers files"; return 1; }
    [ -z "$(comp $m rspamkit-scan --sort n | grep -- -file)" ] || { echo "$m: --sort offers files"; return 1; }
    # command words, also after options and their values
    expect $m "ping" rspamkit-ctl -h host p
    expect $m "actions add_action add_symbol counters ping stat stat_reset uptime" rspamkit-ctl -P secret ""
    expect $m "stat stat_reset" rspamkit-ctl -P st
    expect $m "" rspamkit-ctl stat ""
    expect $m "learn_class: learn_ham learn_spam" rspamkit-learn -n 2 learn_
    expect $m "" rspamkit-fuzzy -f 1 delhash ""
    # the front door: rspamc's words after options; programs as the first word
    expect $m "learn_spam" rspamkit -h H --mime learn_s
    expect $m "learn_spam" rspamkit -h H -t 5 -P learn_s
    expect $m "learn_spam" rspamkit -vt 5 learn_s
    expect $m "stat stat_reset" rspamkit --connect=H st
    expect $m "scan stat stat_reset symbols" rspamkit s
    expect $m "pw.txt" rspamkit -h H learn_spam p
    expect $m "" rspamkit -h H stat ""
    expect $m "ping" rspamkit ctl -h H p
    expect $m "time time:asc" rspamkit ctl --sort t
    expect $m "score score:asc" rspamkit --sort sc
    expect $m "catena pbkdf2" rspamkit pw -t ""
    expect $m "rk-test-host" rspamkit -h rk-test-h
}

@test "bash: values, files, hosts and command words, without bash-completion" {
    cases alone
}

@test "bash: the same with bash-completion loaded" {
    [ -f "$BC" ] || skip "bash-completion is not installed ($BC)"
    cases bc
}

@test "bash: every option of --help is offered once, and nothing else" {
    for p in rspamkit-scan rspamkit-learn rspamkit-fuzzy rspamkit-ctl rspamkit-pw \
        rspamkit-configdump rspamkit-spamc rspamkit; do
        for m in alone bc; do
            got=$(comp $m "$p" -)
            [ -n "$got" ] || { echo "$p: nothing offered"; false; }
            dups=$(uniq -d <<<"$got")
            [ -z "$dups" ] || { echo "$p ($m): offered twice: $dups"; false; }
            want=$("$p" --help | grep -oE -- '(^|[ ,])--?[a-zA-Z0-9][a-zA-Z0-9-]*' |
                sed 's/^[ ,]*//' | sort -u)
            [ "$p" != rspamkit ] || want=$(sort -u <<<"$want
$(rspamkit-scan --help | grep -oE -- '(^|[ ,])--?[a-zA-Z0-9][a-zA-Z0-9-]*' | sed 's/^[ ,]*//')")
            # --help lines that continue a description name no option of their own
            diff <(echo "$got") <(echo "$want") >&2 || { echo "$p ($m): differs from --help"; false; }
        done
    done
}

@test "bash: no completion needs the bash-completion package" {
    # its helpers are not called: each file works alone (the first test)
    ! grep -lE '_init_completion|_filedir|_known_hosts|_get_comp_words' "$SRC"/completions/bash/*
}

@test "the completions are what completions/generate makes of the programs" {
    cp -r "$SRC/completions" "$T/gen"
    (cd "$RK_BUILDDIR" && "$T/gen/generate")
    diff -r "$SRC/completions" "$T/gen"
}

# zcomp "LINE": what zsh offers for LINE followed by a TAB, in an interactive
# zsh on a pseudo-terminal whose compadd also writes what it adds to a file.
zcomp() {
    local out=$T/zsh.out
    : >"$out"
    zsh -f -c '
        zmodload zsh/zpty
        zpty z zsh -f -i
        zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
        zpty -w z "compadd() { builtin compadd -O __h \"\$@\"; print -rl -- \"\${__h[@]/#/HIT:}\" >>$2; builtin compadd \"\$@\"; }"
        zpty -w z "bindkey \"^I\" complete-word"
        zpty -w -n z "$3"$'"'"'\t'"'"'
        # wait until the offers stop growing (at most 10 s)
        n=-1
        for i in {1..100}; do
            sleep 0.2
            m=$(grep -c "^HIT:" $2)
            (( m > 0 && m == n )) && break
            n=$m
        done
        zpty -d z' zcomp "$SRC/completions/zsh" "$out" "$1"
    grep '^HIT:' "$out" | sed 's/^HIT://' | sort -u | paste -sd' '
}

@test "zsh completions parse (zsh -n) and offer values and command words" {
    command -v zsh >/dev/null || skip "zsh is not installed: the zsh files are not checked"
    for f in "$SRC"/completions/zsh/_*; do zsh -n "$f"; done
    cd "$T/cwd"
    [ "$(zcomp 'rspamkit-scan --sort ')" = "name name:asc score score:asc" ]
    [ "$(zcomp 'rspamkit-pw -t ')" = "catena pbkdf2" ]
    [ "$(zcomp 'rspamkit-ctl -h H p')" = "ping" ]
    [ "$(zcomp 'rspamkit -h H --mime learn_s')" = "learn_spam" ]
    [ "$(zcomp 'rspamkit ctl --sort t')" = "time time:asc" ]
    [ "$(zcomp 'rspamkit-scan --password-file p')" = "pw.txt" ]
}

@test "fish completions parse (fish -n) and offer values and command words" {
    command -v fish >/dev/null || skip "fish is not installed: the fish files are not checked"
    for f in "$SRC"/completions/fish/*.fish; do fish -n "$f"; done
    fc() { fish -c "set -p fish_complete_path $SRC/completions/fish; complete -C '$1'" | cut -f1 | paste -sd' '; }
    [ "$(fc 'rspamkit-scan --sort ')" = "name name:asc score score:asc" ]
    [ "$(fc 'rspamkit-scan --header-style ')" = "rspamc spamassassin" ]
    [ "$(fc 'rspamkit-pw -t ')" = "catena pbkdf2" ]
    [ "$(fc 'rspamkit-ctl -h H p')" = "ping" ]
    [ "$(fc 'rspamkit -h H --mime learn_s')" = "learn_spam" ]
    [ "$(fc 'rspamkit -P secret -t 5 st')" = "stat stat_reset" ]
    [ "$(fc 'rspamkit ctl --sort t')" = "time time:asc" ]
    [ "$(fc 'rspamkit -h H stat ')" = "" ]
}
