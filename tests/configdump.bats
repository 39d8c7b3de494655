#!/usr/bin/env bats
# rspamkit-configdump against `rspamadm configdump` (Rspamd 3.4): the same
# bytes on the hand-made trees in tests/configdump/; -m, -g and -d on the
# stock /etc/rspamd tree (its sections: tests/configdump-stock.bats).
#
#   PATH=$PWD/tools:$PATH bats tests/configdump.bats

FIX="$BATS_TEST_DIRNAME/configdump"

setup() {
    command -v rspamkit-configdump >/dev/null || skip "rspamkit-configdump is not in PATH"
    T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/configdump.XXXXXX")
}

teardown() {
    [ -n "${T:-}" ] && rm -rf "$T"
}

need_rspamadm() {
    command -v rspamadm >/dev/null || skip "rspamadm (Rspamd 3.4) is not installed"
}

# both FILE [ARGS...]: run both tools on FILE with CONFDIR and LOCAL_CONFDIR
# set to its directory (rspamadm wants them before the command word).
both() {
    local f=$1 d
    shift
    d=$(cd "$(dirname "$f")" && pwd)
    ra=0 rb=0
    rspamadm --var=CONFDIR="$d" --var=LOCAL_CONFDIR="$d" configdump -c "$f" "$@" \
        >"$T/a.out" 2>"$T/a.err" || ra=$?
    rspamkit-configdump --var CONFDIR="$d" --var LOCAL_CONFDIR="$d" -c "$f" "$@" \
        >"$T/b.out" 2>"$T/b.err" || rb=$?
}

# The text after "failed to load config: " in a stderr file.
load_error() {
    sed -n 's/^.*failed to load config: //p' "$1" | head -n 1
}

# same FILE [ARGS...]: stdout and exit status identical; on failure our
# message starts with rspamadm's (we may add where a macro was).
same() {
    both "$@"
    if ! cmp -s "$T/a.out" "$T/b.out"; then
        echo "stdout differs for $* :"
        diff "$T/a.out" "$T/b.out" | head -n 40
        return 1
    fi
    if [ "$ra" != "$rb" ]; then
        echo "exit status differs for $*: rspamadm $ra, rspamkit $rb"
        cat "$T/b.err"
        return 1
    fi
    local ea eb
    ea=$(load_error "$T/a.err")
    eb=$(load_error "$T/b.err")
    case $eb in
    "$ea"*) ;;
    *)
        echo "error differs for $*:"
        echo "  rspamadm: $ea"
        echo "  rspamkit: $eb"
        return 1
        ;;
    esac
    if [ "$rb" != 0 ]; then # one line, with our prefix
        [ "$(wc -l <"$T/b.err")" -eq 1 ] || { cat "$T/b.err"; return 1; }
        grep -q '^rspamkit-configdump: ' "$T/b.err"
    fi
}

all_formats() {
    local f
    for f in "$@"; do
        same "$f" || return 1
        same "$f" -j || return 1
        same "$f" -C || return 1
    done
}

@test "lexical rules: comments, keys, strings, heredocs, numbers, variables (UCL, JSON, compact)" {
    need_rspamadm
    all_formats "$FIX"/lex/*.conf
}

@test "includes: local.d merge, override.d priority, prefix, key, target=array, glob, rewrite" {
    need_rspamadm
    all_formats "$FIX/tree/main.conf"
}

@test "macros: .load, .inherit, .priority, include paths, duplicate strategies, implicit arrays" {
    need_rspamadm
    all_formats "$FIX"/macros/*.conf
}

@test "-s: comments before and after values, in arrays, includes and merges" {
    need_rspamadm
    local f
    for f in "$FIX"/comments/com.conf "$FIX"/lex/*.conf "$FIX/tree/main.conf" "$FIX"/macros/*.conf; do
        same "$f" -s || return 1
    done
    same "$FIX/comments/com.conf" -s b
    same "$FIX/comments/com.conf" -s obj
    same "$FIX/comments/com.conf" -s -j
}

@test "section paths: objects, scalars, arrays, indexes, implicit arrays, missing ones" {
    need_rspamadm
    local p
    for p in options options.dns options.local_addrs options.opt_scalar mod.rules mod.lst.0 \
        secure_ip arr arr.1 arr.9 glob1 nope nope.x .options.. files; do
        same "$FIX/tree/main.conf" "$p" || return 1
        same "$FIX/tree/main.conf" -j "$p" || return 1
        same "$FIX/tree/main.conf" -C "$p" || return 1
    done
    same "$FIX/tree/main.conf" options mod nope shared
    same "$FIX/macros/multi.conf" worker objs nums empty
}

@test "odd inputs and errors: same output, status and message as rspamadm" {
    need_rspamadm
    local f
    for f in "$FIX"/errors/*.conf; do
        case $f in */e_try_include.conf | */e_glob_none.conf | */e_top_array.conf) continue ;; esac
        same "$f" || return 1
    done
}

@test "errors carry file, line and column, also for includes" {
    run rspamkit-configdump -c "$FIX/errors/e_missing_inc.conf" --var CONFDIR="$FIX/errors"
    [ "$status" -eq 1 ]
    [[ $output == *"cannot open file $FIX/errors/nope.conf: No such file or directory (.include at "*"/e_missing_inc.conf:1:0)" ]]
    run rspamkit-configdump -c "$FIX/errors/e_newline_str.conf"
    [[ $output == *"e_newline_str.conf: line: 1, column: 8 - 'unexpected newline'"* ]]
}

@test "bugs of rspamadm 3.4 kept as failures but with a real message" {
    # .try_include of a missing file and a glob without match abort Rspamd
    # with the message "(null)".
    run rspamkit-configdump -c "$FIX/errors/e_try_include.conf" --var CONFDIR="$FIX/errors"
    [ "$status" -eq 1 ]
    [[ $output == "rspamkit-configdump: failed to load config: ucl parser error: cannot include "*".try_include fails on a missing file"* ]]
    run rspamkit-configdump -c "$FIX/errors/e_glob_none.conf" --var CONFDIR="$FIX/errors"
    [ "$status" -eq 1 ]
    [[ $output == *"cannot match any files for pattern $FIX/errors/nope*.conf"* ]]
    if command -v rspamadm >/dev/null; then
        both "$FIX/errors/e_try_include.conf"
        [ "$ra" -eq 1 ] && grep -q 'ucl parser error: (null)' "$T/a.err"
    fi
}

@test "a top-level array is refused like rspamd's rcl stage does" {
    run rspamkit-configdump -c "$FIX/errors/e_top_array.conf"
    [ "$status" -eq 1 ]
    [ "$output" = "rspamkit-configdump: failed to load config: rcl parse error: top configuration must be an object" ]
}

@test "--var defines and overrides variables like rspamadm --var=" {
    need_rspamadm
    local d="$FIX/lex" f="$FIX/lex/vars.conf"
    rspamadm --var=CONFDIR="$d" --var=LOCAL_CONFDIR="$d" --var=NOPE=defined --var=VERSION=9.9 \
        configdump -c "$f" >"$T/a.out" 2>/dev/null
    rspamkit-configdump --var CONFDIR="$d" --var LOCAL_CONFDIR="$d" --var NOPE=defined \
        --var=VERSION=9.9 -c "$f" >"$T/b.out"
    diff "$T/a.out" "$T/b.out"
    grep -q 'i = "defined";' "$T/b.out"
}

@test "Jinja: names, Lua expressions, filters, if/elseif/else, for, set, raw, whitespace control like rspamadm" {
    need_rspamadm
    RSPAMD_FOO=bar same "$FIX/lex/jinja.conf"
    printf 'a = "{= env.FOO =}";\n' >"$T/t.conf"
    RSPAMD_FOO=bar run rspamkit-configdump -c "$T/t.conf"
    [ "$output" = 'a = "bar";' ]
    # every branch: FOO equal to bar, set to something else, unset (an error
    # then, as "nil|upper" is in Rspamd: both fail)
    local foo
    for foo in bar other; do
        RSPAMD_FOO=$foo same "$FIX/jinja/stmts.conf" || return 1
        RSPAMD_FOO=$foo same "$FIX/jinja/stmts.conf" -j || return 1
    done
    grep -q '"cond": "foo is set"' "$T/b.out"
    both "$FIX/jinja/stmts.conf"
    [ "$ra" -eq 1 ] && [ "$rb" -eq 1 ]
    grep -q "stmts.conf:6: Jinja error: input to filter \"upper\" was nil instead of a string" "$T/b.err"
}

@test "Jinja: what is not supported is refused with the file and line, -T skips templates" {
    printf 'a = 1;\n{%% macro m() %%}x{%% endmacro %%}\n' >"$T/s.conf"
    run rspamkit-configdump -c "$T/s.conf"
    [ "$status" -eq 1 ]
    [ "$output" = "rspamkit-configdump: failed to load config: ucl parser error: $T/s.conf:2: Jinja statement {% macro %} is not supported; run with -T to read the file without templates" ]
    printf 'a = "{= env.version | replace("a", "b") =}";\n' >"$T/f.conf"
    run rspamkit-configdump -c "$T/f.conf"
    [ "$status" -eq 1 ]
    [[ $output == *"f.conf:1: Jinja: filter \"replace\" is not supported" ]]
    printf 'a = "{= tostring(1) =}";\n' >"$T/c.conf"
    run rspamkit-configdump -c "$T/c.conf"
    [ "$status" -eq 1 ]
    [[ $output == *"c.conf:1: Jinja: function calls are not supported" ]]
    printf 'a = 1;\n{%% if x %%}\n' >"$T/e.conf"
    run rspamkit-configdump -c "$T/e.conf"
    [ "$status" -eq 1 ]
    [[ $output == *'e.conf:2: additional tag or "{% endif %}" expected' ]]
    printf 'a = "{= x =}";\n' >"$T/l.conf"
    run rspamkit-configdump -T -c "$T/l.conf"
    [ "$output" = 'a = "{= x =}";' ]
}

@test "Lua transform (metric, several groups): same values as rspamadm, key order aside" {
    need_rspamadm
    command -v jq >/dev/null || skip "jq is not installed"
    local f d
    for f in "$FIX"/lua/*.conf; do
        both "$f" -j
        [ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] || { echo "$f: status $ra/$rb"; cat "$T/b.err"; return 1; }
        jq -S . "$T/a.out" >"$T/a.s"
        jq -S . "$T/b.out" >"$T/b.s"
        diff -u "$T/a.s" "$T/b.s" || { echo "in $f"; return 1; }
    done
    # in UCL syntax only the order differs: every value keeps its key
    both "$FIX/lua/implicit_keys.conf"
    diff <(sort "$T/a.out") <(sort "$T/b.out")
    # the transform does not take: the tree stays as parsed, byte for byte
    all_formats "$FIX/lua/actions_bad_order.conf" "$FIX/lua/lua_error.conf"
}

# The stock tree's sections against rspamadm -j: tests/configdump-stock.bats
# (on every server version).

@test "stock /etc/rspamd: -m gives rspamadm's six lines with the same modules in each" {
    need_rspamadm
    [ -f /etc/rspamd/rspamd.conf ] || skip "no /etc/rspamd/rspamd.conf"
    rspamadm configdump -m 2>/dev/null >"$T/a.m"
    rspamkit-configdump -m >"$T/b.m"
    # rspamadm prints each line in Lua's hash order: compare as sorted sets
    norm() { sed 's/: /:\n/; s/, /\n/g' "$1" | awk '/:$/ {h=$0; next} {print h, $0}' | sort; }
    diff <(norm "$T/a.m") <(norm "$T/b.m")
    [ "$(wc -l <"$T/b.m")" -eq 6 ]
}

@test "stock /etc/rspamd: -g and -d agree with rspamadm on everything the files define" {
    need_rspamadm
    command -v jq >/dev/null || skip "jq is not installed"
    [ -f /etc/rspamd/rspamd.conf ] || skip "no /etc/rspamd/rspamd.conf"
    rspamadm configdump -g -j 2>/dev/null >"$T/a.g"
    rspamkit-configdump -g -j >"$T/b.g"
    # every group we know is there with the same settings; every symbol we
    # know has the same values, except groups that Lua plugins add
    # (the rbl plugin puts its symbols in "rbl" too)
    jq -e -n --slurpfile a "$T/a.g" --slurpfile b "$T/b.g" '
        $b[0] | to_entries | all(.key as $g | .value as $v | $a[0][$g] as $w |
            ($w != null) and
            (($v | del(.symbols)) == ($w | del(.symbols))) and
            ($v.symbols | to_entries | all(.key as $s | .value as $x | $w.symbols[$s] as $y |
                ($y != null) and (($x | del(.extra_groups)) == ($y | del(.extra_groups))) and
                ($x.extra_groups - $y.extra_groups == []))))'
    [ "$(jq 'length' "$T/b.g")" -ge 30 ]
    rspamadm configdump -d -j 2>/dev/null >"$T/a.d"
    rspamkit-configdump -d -j >"$T/b.d"
    jq -e -n --slurpfile a "$T/a.d" --slurpfile b "$T/b.d" '
        $b[0].symbols | to_entries | all(.key as $s | .value as $x | $a[0].symbols[$s] as $y |
            ($y != null) and (($x | del(.groups)) == ($y | del(.groups, .type))) and
            (($x.groups // []) - ($y.groups // []) == []))'
    [ "$(jq '.symbols | length' "$T/b.d")" -ge 200 ]
}

@test "-m on a hand-made tree: filters, explicit modules, sections, groups" {
    local d="$T/m"
    mkdir -p "$d/plugins"
    for p in alpha beta gamma delta greylist; do : >"$d/plugins/$p.lua"; done
    cat >"$d/rspamd.conf" <<'CONF'
options { filters = "dkim,regexp"; explicit_modules = ["delta"]; }
modules { path = "$CONFDIR/plugins"; }
dkim { }
alpha { enabled = false; }
beta { x = 1; }
group "beta" { disabled = true; }
greylist { }
CONF
    run rspamkit-configdump --var CONFDIR="$d" -c "$d/rspamd.conf" -m
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "Modules enabled: delta, dkim, regexp" ]
    [ "${lines[1]}" = "Modules disabled (explicitly): alpha, beta" ]
    [ "${lines[2]}" = "Modules disabled (unconfigured): gamma, regexp" ]
    [ "${lines[3]}" = "Modules disabled (no Redis): greylist" ]
    [ "${lines[4]}" = "Modules disabled (experimental): " ]
    [ "${lines[5]}" = "Modules disabled (failed): " ]
    if command -v rspamadm >/dev/null; then
        rspamadm --var=CONFDIR="$d" configdump -c "$d/rspamd.conf" -m 2>/dev/null >"$T/a.m"
        # rspamadm cannot load the empty plugins: they count as failed there
        grep -q '^Modules disabled (explicitly): ' "$T/a.m"
    fi
}

@test "stock /etc/rspamd: the parsed tree without Lua transform is what Rspamd parses" {
    [ -f /etc/rspamd/rspamd.conf ] || skip "no /etc/rspamd/rspamd.conf"
    run rspamkit-configdump --no-transform -j group
    [ "$status" -eq 0 ]
    # several group blocks stay an implicit array, printed once per value
    [ "$(printf '%s\n' "$output" | grep -c '^{')" -gt 10 ]
    run rspamkit-configdump -j surbl
    [ "$output" = "[]" ]
}

@test "options: --help lists every option, --version, bad options exit 64" {
    run rspamkit-configdump --help
    [ "$status" -eq 0 ]
    local o
    for o in --config --json --compact --var --skip-template --show-comments --modules-state --groups \
        --symbol-details --no-transform --version; do
        [[ $output == *"$o"* ]] || { echo "missing $o"; return 1; }
    done
    run rspamkit-configdump --version
    [ "$status" -eq 0 ]
    [[ $output == "rspamkit-configdump "* ]]
    run rspamkit-configdump --bogus
    [ "$status" -eq 64 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} == "rspamkit-configdump: "* ]]
    run rspamkit-configdump --var novalue
    [ "$status" -eq 64 ]
    [[ $output == "rspamkit-configdump: --var: expected NAME=VALUE"* ]]
}

@test "a missing or empty config file: exit 1 with rspamadm's message" {
    run rspamkit-configdump -c "$T/none.conf"
    [ "$status" -eq 1 ]
    [ "$output" = "rspamkit-configdump: failed to load config: cannot open $T/none.conf: No such file or directory" ]
    : >"$T/empty.conf"
    run rspamkit-configdump -c "$T/empty.conf"
    [ "$status" -eq 1 ]
    [ "$output" = "rspamkit-configdump: failed to load config: cannot mmap $T/empty.conf: Invalid argument" ]
}

@test "a write error is reported and gives exit 74" {
    [ -w /dev/full ] || skip "no /dev/full"
    run bash -c "rspamkit-configdump -c '$FIX/tree/main.conf' --var CONFDIR='$FIX/tree' --var LOCAL_CONFDIR='$FIX/tree' >/dev/full"
    [ "$status" -eq 74 ]
    [[ $output == "rspamkit-configdump: cannot write the output: "* ]]
}
