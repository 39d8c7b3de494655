#!/usr/bin/env bash
# Two builds of rspamkit side by side in one run, against the same private Rspamd:
# git revision REV (built here in a temporary clone) and this build.
#   1. LDA start-up: wall time of  rspamkit-scan --mime --exec cat MSG  per message
#      (hyperfine -N in alternating rounds of 10 runs each, medians)
#   2. bulk CPU per message: user+system CPU of  rspamkit-scan -n 8  over N
#      SpamAssassin corpus messages (tests/corpus/fetch), divided by N, median of
#      ROUNDS alternating runs
#   3. instructions: callgrind's total for one  --mime --exec cat  run (repeatable)
# Usage: bench/versions.sh REV [RUNS] [N] [ROUNDS]
#        (from the build directory; defaults 50 runs, 1000 messages, 5 rounds)
# Set RK_TEST_DIR to reuse a running test server (tests/server/start DIR).
set -eu
rev=${1:?usage: bench/versions.sh REV [RUNS] [N] [ROUNDS]}
runs=${2:-50} count=${3:-1000} rounds=${4:-5}
. "$(dirname "$0")/lib.sh"
bench_init versions
new_run=$run new_bin=$bin

# the old build, installed beside the new one
git -C "$src" rev-parse --verify -q "$rev^{commit}" >/dev/null || { echo "versions.sh: no revision $rev" >&2; exit 64; }
old_rev=$(git -C "$src" rev-parse --short "$rev")
git clone -q "$src" "$work/old"
git -C "$work/old" checkout -q "$old_rev"
(cd "$work/old" && ./bootstrap && ./configure -q && make -s -j2 && make -s install DESTDIR="$work/oldinst" prefix=/usr/local) \
    >"$work/old.log" 2>&1 || { tail -n 30 "$work/old.log" >&2; exit 1; }
old_bin=$work/oldinst/usr/local/bin
old_run="${run%%--library-path*}--library-path $work/oldinst/usr/local/lib"
bench_server
msg="$src/examples/messages/ham.eml"
new_name="this build ($(git -C "$src" describe --always --dirty))"
old_name="$old_rev"

echo "== 1. LDA start-up: $(stat -c %s "$msg")-byte message, $runs runs each, medians" >&2
for r in $(seq $(((runs + 9) / 10))); do
    hyperfine -N --runs 10 --warmup 2 --export-json "$work/r$r.json" \
        -n "$old_name" "$old_run $old_bin/rspamkit-scan -h $hp --mime --exec cat $msg" \
        -n "$new_name" "$new_run $new_bin/rspamkit-scan -h $hp --mime --exec cat $msg" >/dev/null 2>&1
done
python3 - "$work"/r*.json <<'PY'
import json, statistics, sys
times = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
for name, t in times.items():
    print(f"  {name:40s} median {statistics.median(t) * 1000:7.2f} ms  ({len(t)} runs)")
PY

corpus=$("$src/tests/corpus/fetch")
find "$corpus" -name '*.txt' | sort | head -n "$count" >"$work/list"
n=$(wc -l <"$work/list")
echo "== 2. bulk: $n corpus messages, -n 8, CPU per message, median of $rounds rounds" >&2
for r in $(seq "$rounds"); do
    for which in old new; do
        eval "r_run=\$${which}_run r_bin=\$${which}_bin"
        /usr/bin/time -f "%U %S" -o "$work/t.$which.$r" \
            $r_run "$r_bin/rspamkit-scan" -h "$hp" -n 8 --files-from "$work/list" >/dev/null 2>&1 || true
    done
done
for which in old new; do
    eval "label=\$${which}_name"
    for r in $(seq "$rounds"); do awk '{ print ($1 + $2) }' "$work/t.$which.$r"; done |
        sort -n | awk -v n="$n" -v l="$label" '{ v[NR] = $1 } END {
            printf "  %-40s median %7.3f ms CPU per message\n", l, v[int((NR + 1) / 2)] * 1000 / n }'
done

echo "== 3. instructions of one --mime --exec cat run (callgrind)" >&2
for which in old new; do
    eval "r_run=\$${which}_run r_bin=\$${which}_bin label=\$${which}_name"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.$which" \
        $r_run "$r_bin/rspamkit-scan" -h "$hp" --mime --exec cat "$msg" >/dev/null 2>"$work/cg.$which.err" || true
    ir=$(sed -n 's/^summary: *//p' "$work/cg.$which")
    printf "  %-40s %'12d instructions\n" "$label" "$ir"
done
