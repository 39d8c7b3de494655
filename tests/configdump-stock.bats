#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# rspamkit-configdump on the stock /etc/rspamd of the server's version (the host's
# for 3.4, the version's Debian root for 3.12 and 4, read from outside the root)
# against that version's own `rspamadm configdump -j`, section by section.

load helpers

# Sections of the stock dump that Rspamd fills from Lua rules
# (lua = "$RULESDIR/rspamd.lua" -> rules/regexp/*.lua add config['regexp'][SYMBOL]):
# ours holds a subset of them, with the same values. See rspamkit-configdump(1),
# DIFFERENCES FROM RSPAMADM. Every other section must be equal.
LUA_ONLY="regexp"

setup() {
    T=$BATS_TEST_TMPDIR
    ROOT=${RK_SERVER_ROOT:-}
    [ -f "$ROOT/etc/rspamd/rspamd.conf" ] || skip "no $ROOT/etc/rspamd/rspamd.conf"
    command -v jq >/dev/null || skip "jq is not installed"
    # the version as the version's own rspamadm says it ("Rspamadm 3.12.1")
    VERSION=$(rspamadm --version | awk '{print $2}')
    [ -n "$VERSION" ]
}

# ours ARGS...: rspamkit-configdump as Rspamd $VERSION on the tree in $ROOT, its
# directories moved into $ROOT; the paths in the output are those seen in the root.
ours() {
    local d vars=()
    if [ -n "$ROOT" ]; then
        for d in CONFDIR=/etc/rspamd LOCAL_CONFDIR=/etc/rspamd DBDIR=/var/lib/rspamd \
            RUNDIR=/run/rspamd LOGDIR=/var/log/rspamd SHAREDIR=/usr/share/rspamd \
            PLUGINSDIR=/usr/share/rspamd/plugins RULESDIR=/usr/share/rspamd/rules \
            WWWDIR=/usr/share/rspamd/www; do
            vars+=(--var "${d%%=*}=$ROOT${d#*=}")
        done
    fi
    rspamkit-configdump --rspamd-version "$VERSION" "${vars[@]}" "$@" | {
        if [ -n "$ROOT" ]; then sed "s|$ROOT/|/|g"; else cat; fi
    }
}

@test "stock /etc/rspamd of the server's version: sections equal to its rspamadm -j (95% at least, all but the documented ones)" {
    rspamadm configdump -j >"$T/a.json" 2>/dev/null
    ours -j >"$T/b.json"
    jq -r 'keys[]' "$T/a.json" >"$T/a.keys"
    jq -r 'keys[]' "$T/b.json" >"$T/b.keys"
    diff "$T/a.keys" "$T/b.keys"
    local k bad=0 equal=0 total=0
    while read -r k; do
        total=$((total + 1))
        jq -S --arg k "$k" '.[$k]' "$T/a.json" >"$T/a.sec"
        jq -S --arg k "$k" '.[$k]' "$T/b.json" >"$T/b.sec"
        if cmp -s "$T/a.sec" "$T/b.sec"; then
            equal=$((equal + 1))
            continue
        fi
        case " $LUA_ONLY " in
        *" $k "*)
            # ours is a subset: every key we have, with the same value
            jq -S --arg k "$k" --slurpfile b "$T/b.json" \
                '.[$k] | with_entries(select(.key as $x | $b[0][$k] | has($x)))' \
                "$T/a.json" >"$T/a.sec"
            ;;
        esac
        if ! cmp -s "$T/a.sec" "$T/b.sec"; then
            echo "section $k differs:"
            diff "$T/a.sec" "$T/b.sec" | head -n 20
            bad=1
        fi
    done <"$T/a.keys"
    echo "# Rspamd $VERSION: $equal of $total sections equal" >&3
    [ "$bad" -eq 0 ]
    [ "$total" -gt 30 ]
    [ $((equal * 100)) -ge $((total * 95)) ]
}

@test "the version's variables and Jinja names are those of its rspamadm" {
    # a tree of our own (the version's rspamadm reads it through the root's
    # bind mounts of the host's directories)
    mkdir -p "$T/v"
    cat >"$T/v/rspamd.conf" <<'CONF'
a = "$VERSION ${BRANCH_VERSION} $VERSION_MAJOR";
b = "{= env.version =} {= env.ver_major =} {= env.ver_minor =} {= env.ver_num =} {= env.ver_id =}";
CONF
    rspamadm --var=CONFDIR="$T/v" configdump -c "$T/v/rspamd.conf" a b >"$T/a.out" 2>/dev/null
    rspamkit-configdump --rspamd-version "$VERSION" --var CONFDIR="$T/v" -c "$T/v/rspamd.conf" a b \
        >"$T/b.out"
    diff "$T/a.out" "$T/b.out"
    grep -q "$VERSION" "$T/b.out"
}

@test "fuzzy_check's legacy max_score: renamed to hits_limit from 3.14.3 as the version's rspamadm does, kept before" {
    mkdir -p "$T/f"
    # named rules (an implicit array of them), fuzzy_map entries, a string, false,
    # a hits_limit already there, the section's own max_score
    cat >"$T/f/named.conf" <<'CONF'
fuzzy_check {
  max_score = "20";
  rule "a" {
    max_score = 12.5;
    fuzzy_map { X { max_score = "7"; flag = 1; } Y { flag = 2; max_score = 3.0; } Z { flag = 3; } }
  }
  rule "b" { max_score = "abc"; hits_limit = 4; }
  rule "d" { max_score = false; }
  rule "f" { max_score = 5; hits_limit = 9; }
}
CONF
    # one named rule; an explicit array of rules; unnamed rules (not reached by the rename)
    printf '%s\n' 'fuzzy_check { rule "a" { max_score = 1; fuzzy_map = { X { max_score = 2; } } } }' >"$T/f/one.conf"
    printf '%s\n' 'fuzzy_check { rule = [ { max_score = 1; }, { max_score = 2; } ]; }' >"$T/f/array.conf"
    printf '%s\n' 'fuzzy_check { rule { max_score = 1; } rule { max_score = 2; } }' >"$T/f/unnamed.conf"
    local f
    for f in named one array unnamed; do
        rspamadm configdump -c "$T/f/$f.conf" -j fuzzy_check 2>/dev/null | jq -S . >"$T/a.json"
        rspamkit-configdump --rspamd-version "$VERSION" -c "$T/f/$f.conf" -j fuzzy_check | jq -S . >"$T/b.json"
        grep -q max_score "$T/f/$f.conf" # the input has the legacy name
        [ -s "$T/a.json" ]
        diff "$T/a.json" "$T/b.json" || { echo "$f.conf differs"; false; }
    done
    # rspamkit-configdump, as 3.14.3 and later, renames: the test would not be able to tell otherwise
    rspamkit-configdump --rspamd-version 4.1.5 -c "$T/f/one.conf" -j fuzzy_check | jq -e '.rule.a.hits_limit == 1 and (.rule.a | has("max_score") | not)'
    rspamkit-configdump --rspamd-version 3.14.2 -c "$T/f/one.conf" -j fuzzy_check | jq -e '.rule.a.max_score == 1'
}
