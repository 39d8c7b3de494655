#!/usr/bin/env bash
# LDA mode, side by side in one run against the same private Rspamd:
#   per-message wall time of  rspamkit-scan --mime --exec cat,
#                             rspamc --mime --exec cat,
#                             bench/floor (raw socket, posts to /checkv2, no delivery)
#   (hyperfine -N, medians of RUNS >= 30 runs), and peak RSS (/usr/bin/time -v)
#   for a 20 MB message, rspamkit-scan against rspamc.
# Usage: bench/lda.sh [RUNS]   (from the build directory; default 100 runs)
# Installs the build into a temporary prefix (no libtool wrappers). Set
# RK_TEST_DIR to reuse a running test server (tests/server/start DIR).
set -eu
runs=${1:-100}
[ "$runs" -ge 30 ] || { echo "lda.sh: use at least 30 runs" >&2; exit 64; }
. "$(dirname "$0")/lib.sh"
bench_init lda
bench_server
ours="$run $bin/rspamkit-scan"
msg="$src/examples/messages/ham.eml"

echo "== per message: $(stat -c %s "$msg")-byte message, $runs runs each, medians" >&2
# hyperfine in rounds of 10 runs of each command, so that a change of load on
# the machine during the benchmark hits all three alike; medians over all runs.
rounds=$(( (runs + 9) / 10 ))
for r in $(seq "$rounds"); do
    hyperfine -N --runs 10 --warmup 2 --export-json "$work/r$r.json" \
        -n floor "$floor $RK_HOST $RK_NORMAL_PORT $msg" \
        -n "rspamkit-scan --mime --exec cat" "$ours -h $hp --mime --exec cat $msg" \
        -n "rspamc --mime --exec cat" "rspamc -h $hp --mime --exec cat $msg" >/dev/null 2>&1
done
python3 - "$work"/r*.json <<'PY'
import json, statistics, sys
times, cpu = {}, {}
for f in sys.argv[1:]:
    for x in json.load(open(f))["results"]:
        times.setdefault(x["command"], []).extend(x["times"])
        cpu.setdefault(x["command"], []).append(x["user"] + x["system"])
med = {k: statistics.median(v) for k, v in times.items()}
floor = med["floor"]
print(f"{'command':<34}{'runs':>5}{'median ms':>10}{'p25-p75 ms':>16}{'x floor':>9}{'cpu ms':>8}")
for k, v in times.items():
    q = statistics.quantiles(v, n=4)
    print(f"{k:<34}{len(v):>5}{med[k]*1000:>10.2f}{q[0]*1000:>8.2f}-{q[2]*1000:<7.2f}"
          f"{med[k]/floor:>9.2f}{statistics.mean(cpu[k])*1000:>8.2f}")
ours = med["rspamkit-scan --mime --exec cat"]
print(f"rspamkit-scan / floor = {ours/floor:.2f} (target <= 1.5); "
      f"rspamc / rspamkit-scan = {med['rspamc --mime --exec cat']/ours:.1f}")
PY

echo "== peak RSS, 20 MB message (median of 3 runs each)" >&2
big="$work/big.eml"
{ cat "$msg"; head -c 15000000 /dev/urandom | base64 -w 76; } | head -c 20000000 > "$big"
size=$(stat -c %s "$big")
rss() { # rss CMD...: peak RSS in kB, median of 3
    for _ in 1 2 3; do
        /usr/bin/time -v "$@" < "$big" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'
    done | sort -n | sed -n 2p
}
ours_exec=$(rss $ours -t 60 -h "$hp" --mime --exec "wc -c")
ours_out=$(rss $ours -t 60 -h "$hp" --mime)
theirs=$(rss rspamc -t 60 -h "$hp" --mime)
limit=$(( size * 12 / 10 / 1024 + 4096 ))
printf '%-44s %8s kB\n' "message size" "$((size / 1024))"
printf '%-44s %8s kB\n' "rspamkit-scan --mime --exec 'wc -c'" "$ours_exec"
printf '%-44s %8s kB\n' "rspamkit-scan --mime > /dev/null" "$ours_out"
printf '%-44s %8s kB\n' "rspamc --mime > /dev/null" "$theirs"
printf '%-44s %8s kB  (1.2 x size + 4 MB)\n' "target" "$limit"
[ "$ours_exec" -le "$limit" ] && [ "$ours_out" -le "$limit" ] && echo "peak RSS within target" ||
    echo "peak RSS OVER target"
