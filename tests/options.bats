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

# The rspamc command words, from the one table (tools/commands.c) as
# --commands prints it: "WORD PROGRAM ARGS...", one a line.
commands() {
    rspamkit --commands | awk '/^  [a-z]/ {
        for (i = 2; i <= NF && $i !~ /^rspamkit-/; i++) args = args " " $i
        print $1, $i, args; args = "" }'
}

@test "--commands lists the command table, the same through rspamkit and rspamkit-scan" {
    run rspamkit --commands
    [ "$status" -eq 0 ]
    [ "$output" = "$(rspamkit-scan --commands)" ]
    # rspamc's words, all of them (spec/rspamc.md), each once
    for w in symbols check report learn_spam learn_ham fuzzy_add fuzzy_del fuzzy_delhash \
        stat stat_reset counters uptime add_symbol add_action; do
        [ "$(commands | awk -v w="$w" '$1 == w' | wc -l)" -eq 1 ] || { echo "$w"; false; }
    done
}

@test "every command word is in rspamkit(1), its program's page and the completions" {
    n=0
    while read -r word prog _; do
        n=$((n + 1))
        re="(^|[^a-z_])$word([^a-z_]|\$)"
        [ "${word%%:*}" = "$word" ] || re="(^|[^a-z_])${word%%:*}:" # learn_class:NAME
        for page in rspamkit "$prog"; do
            mandoc -Tascii "$SRC/man/$page.1" | col -b | grep -qE -- "$re" ||
                { echo "$word: missing from man/$page.1"; false; }
        done
        for c in bash/rspamkit zsh/_rspamkit fish/rspamkit.fish; do
            grep -qE -- "$re" "$SRC/completions/$c" || { echo "$word: missing from completions/$c"; false; }
        done
    done < <(commands)
    [ "$n" -ge 14 ]
}

@test "the front door runs each command word's program, which accepts the word" {
    port=$(closed_port)
    n=0
    while read -r word prog args; do
        n=$((n + 1))
        word=${word/:NAME/:x}
        run rspamkit "$word" --version
        [[ ${lines[0]} == "$prog "[0-9]* ]] || { echo "rspamkit $word: $output"; false; }
        # the program gets past its command line to the (unreachable) server
        case $args in
        "") set -- ;;
        "HASH...") set -- "$(printf '%0128d' 0)" ;;
        "SYMBOL WEIGHT") set -- RK_NO_SUCH_SYMBOL 1 ;;
        "ACTION SCORE") set -- reject 100 ;;
        *FILE*) set -- "$MSGS/ham.eml" ;;
        *) echo "$word: no sample arguments for '$args'"; false ;;
        esac
        if [ "$prog" = rspamkit-fuzzy ]; then set -- -f 1 "$@"; fi # a fuzzy list is required
        run rspamkit -h "127.0.0.1:$port" "$word" "$@"
        [ "$status" -eq 69 ] || { echo "rspamkit $word $*: $status: $output"; false; }
        # neural_learn first asks for the neural rules, as rspamc 4.1, and notes the failure
        [[ $word != neural_learn:* ]] || output=${output#Note: could not fetch neural config*$'\n'}
        # (rspamc's words print a failed request on stdout, as rspamc)
        [[ $output == "$prog: "* || $output == "Results for "*": "*"cannot connect to 127.0.0.1:$port"* ]] ||
            { echo "rspamkit $word $*: $output"; false; }
    done < <(commands)
    [ "$n" -ge 14 ]
}

# help_options PROGRAM: "-x --long" or "--long" per option of PROGRAM's --help
# that takes a value (popt writes --opt=ARG, or --opt ARG when repeatable;
# --opt[=ARG], an optional value, is left out).
help_options() {
    "$1" --help | sed -n -E 's/^ +(-([^ ,]), )?--([a-zA-Z0-9-]+)(=| [A-Z]).*/-\2 --\3/p' | sed 's/^- //'
}

@test "every value-taking option of every program reaches it through the front door" {
    # The value given is another program's command word: if the front door
    # took it for the command word, the wrong program would answer.
    n=0
    while read -r tool word other; do
        [ "$word" = - ] && pre=("$tool") word= || pre=()
        opts=$(help_options "rspamkit-$tool")
        [ -n "$opts" ] || { echo "rspamkit-$tool: no value-taking options in --help"; false; }
        for o in $opts; do
            n=$((n + 1))
            run rspamkit "${pre[@]}" "$o" "$other" $word --version
            [[ ${lines[0]} == "rspamkit-$tool"[:\ ]* ]] ||
                { echo "rspamkit ${pre[*]} $o $other $word --version: $output"; false; }
        done
    done <<<"scan check stat
learn learn_spam stat
fuzzy fuzzy_add learn_ham
ctl stat learn_spam
pw - stat
configdump - stat"
    [ "$n" -ge 60 ]
}

@test "the front door reads short-option clusters and -P as popt does" {
    run rspamkit -vt 5 stat --version # -t takes the next word
    [ "${lines[0]%% *}" = rspamkit-ctl ]
    run rspamkit -vt5 learn_spam --version # the value glued on
    [ "${lines[0]%% *}" = rspamkit-learn ]
    run rspamkit -P stat --version # a command word is never -P's value
    [ "${lines[0]%% *}" = rspamkit-ctl ]
    run rspamkit -P secret stat --version
    [ "${lines[0]%% *}" = rspamkit-ctl ]
    run rspamkit -v --version --exec -- cat stat # after --exec --: the command line
    [ "${lines[0]%% *}" = rspamkit-scan ]
}
