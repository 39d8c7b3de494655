#!/usr/bin/env bash
# Transport benchmarks, side by side in one run against the same private Rspamd:
#
#  1. per message (hyperfine -N, medians): rspamkit-scan --mime --exec cat,
#     rspamc --mime --exec cat and bench/floor (raw socket, one POST to
#     /checkv2); plain rspamkit-scan, and with --key (HTTPCrypt).
#     Target: rspamkit-scan --mime --exec cat within 1.3x of the floor.
#  2. HTTPCrypt cost per message over plain HTTP: the difference of the
#     medians above, and the client CPU per message of a bulk scan with and
#     without --key.  Target: under 0.3 ms.
#  3. bulk: the whole SpamAssassin public corpus (tests/corpus/fetch, about
#     6,000 messages) with -n 8, rspamkit-scan against rspamc, over TCP and
#     over the UNIX socket: wall time, messages per second, client CPU
#     (user + sys).  Targets: throughput at least rspamc's, CPU at most a
#     fifth of rspamc's.  bench/bulkfloor (connect, post, read to EOF in 8
#     blocking processes, nothing parsed) shows the CPU that no client can
#     go below while the server takes one connection per request.
#
# Usage: bench/transport.sh [RUNS]   (from the build directory; RUNS >= 30, default 100)
#   RK_TEST_DIR=DIR  reuse a running test server (tests/server/start DIR)
#   BULK_ROUNDS=N    bulk scans of the corpus per client (default 2, alternating)
# Installs the build into a temporary prefix first: the installed binaries
# are measured, not the libtool wrappers.
set -eu
runs=${1:-100}
[ "$runs" -ge 30 ] || { echo "transport.sh: use at least 30 runs" >&2; exit 64; }
bulk_rounds=${BULK_ROUNDS:-2}
for t in hyperfine rspamc python3; do
    command -v "$t" >/dev/null || { echo "transport.sh: $t is needed" >&2; exit 69; }
done
. "$(dirname "$0")/lib.sh"
bench_init transport
bench_server
scan="$run $bin/rspamkit-scan"
cc -O2 -o "$work/bulkfloor" "$src/bench/bulkfloor.c"
msg="$src/examples/messages/ham.eml"
$scan -h "$hp" --key "$RK_PUBKEY" "$msg" >/dev/null ||
    { echo "transport.sh: the installed rspamkit-scan cannot scan" >&2; exit 70; }

echo "== 1. per message: $(stat -c %s "$msg")-byte message, $runs runs each, medians" >&2
# rounds of 10 runs of each command, so that a change of load on the machine
# during the benchmark hits all of them alike; medians over all runs
rounds=$(( (runs + 9) / 10 ))
for r in $(seq "$rounds"); do
    hyperfine -N --runs 10 --warmup 2 --export-json "$work/r$r.json" \
        -n floor "$floor $RK_HOST $RK_NORMAL_PORT $msg" \
        -n "rspamkit-scan --mime --exec cat" "$scan -h $hp --mime --exec cat $msg" \
        -n "rspamc --mime --exec cat" "rspamc -h $hp --mime --exec cat $msg" \
        -n "rspamkit-scan" "$scan -h $hp $msg" \
        -n "rspamkit-scan --key" "$scan -h $hp --key $RK_PUBKEY $msg" \
        -n "rspamkit-scan --key --mime --exec cat" "$scan -h $hp --key $RK_PUBKEY --mime --exec cat $msg" \
        -n "rspamc --key" "rspamc -h $hp --key $RK_PUBKEY $msg" >/dev/null 2>&1
done
python3 - "$work"/r*.json >"$work/per-message.txt" <<'PY'
import json, statistics, sys
times, cpu = {}, {}
for f in sys.argv[1:]:
    for x in json.load(open(f))["results"]:
        times.setdefault(x["command"], []).extend(x["times"])
        cpu.setdefault(x["command"], []).append(x["user"] + x["system"])
med = {k: statistics.median(v) for k, v in times.items()}
floor = med["floor"]
print(f"{'command':<40}{'runs':>5}{'median ms':>10}{'p25-p75 ms':>16}{'x floor':>9}{'cpu ms':>8}")
for k, v in times.items():
    q = statistics.quantiles(v, n=4)
    print(f"{k:<40}{len(v):>5}{med[k]*1000:>10.2f}{q[0]*1000:>8.2f}-{q[2]*1000:<7.2f}"
          f"{med[k]/floor:>9.2f}{statistics.mean(cpu[k])*1000:>8.2f}")
lda = med["rspamkit-scan --mime --exec cat"] / floor
print(f"\nrspamkit-scan --mime --exec cat / floor: {lda:.2f} (target <= 1.3: {'met' if lda <= 1.3 else 'NOT met'})")
print(f"rspamc --mime --exec cat / rspamkit-scan --mime --exec cat: "
      f"{med['rspamc --mime --exec cat'] / med['rspamkit-scan --mime --exec cat']:.1f}x")
d = (med["rspamkit-scan --key"] - med["rspamkit-scan"]) * 1000
print(f"HTTPCrypt, difference of medians (one process per message): {d:.3f} ms")
PY
cat "$work/per-message.txt"

echo >&2
echo "== 2. HTTPCrypt CPU per message, bulk of 1000 messages with -n 8" >&2
corpus=$("$src/tests/corpus/fetch")
find "$corpus" -name '*.txt' | sort >"$work/all.list"
head -1000 "$work/all.list" >"$work/k.list"
cpu_of() { # cpu_of OUTFILE CMD...: wall, user, sys of CMD into OUTFILE
    /usr/bin/time -f "%e %U %S" -o "$1" "${@:2}" >/dev/null 2>"$1.err" || { cat "$1.err" >&2; return 1; }
}
for i in 1 2 3; do
    cpu_of "$work/plain.$i" $scan -h "$hp" -n 8 --files-from "$work/k.list"
    cpu_of "$work/key.$i" $scan -h "$hp" -n 8 --key "$RK_PUBKEY" --files-from "$work/k.list"
done
python3 - "$work" <<'PY'
import statistics, sys
w = sys.argv[1]
def cpu(name):
    v = [sum(map(float, open(f"{w}/{name}.{i}").read().split()[1:3])) for i in (1, 2, 3)]
    return statistics.median(v)
p, k = cpu("plain"), cpu("key")
per = (k - p) / 1000 * 1000
print(f"client CPU for 1000 messages (median of 3): plain {p*1000:.0f} ms, --key {k*1000:.0f} ms")
print(f"HTTPCrypt CPU per message: {per:.3f} ms (target < 0.3 ms: {'met' if per < 0.3 else 'NOT met'})")
PY

echo >&2
n=$(wc -l <"$work/all.list")
echo "== 3. bulk: the whole corpus ($n messages), -n 8, $bulk_rounds rounds alternating" >&2
for r in $(seq "$bulk_rounds"); do
    for via in tcp unix; do
        if [ $via = tcp ]; then to=$hp fl="$RK_HOST $RK_NORMAL_PORT"; else to=$RK_NORMAL_SOCK fl="$RK_NORMAL_SOCK -"; fi
        cpu_of "$work/bulk-rk-$via.$r" $scan -h "$to" -n 8 --files-from "$work/all.list"
        # shellcheck disable=SC2046
        cpu_of "$work/bulk-rc-$via.$r" rspamc -h "$to" -n 8 $(cat "$work/all.list")
        # shellcheck disable=SC2086
        cpu_of "$work/bulk-floor-$via.$r" "$work/bulkfloor" $fl "$work/all.list"
    done
done
python3 - "$work" "$n" "$bulk_rounds" <<'PY'
import statistics, sys
w, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    rows = [list(map(float, open(f"{w}/{name}.{r}").read().split())) for r in range(1, rounds + 1)]
    return (statistics.median(r[0] for r in rows), statistics.median(r[1] + r[2] for r in rows))
print(f"{'client':<30}{'wall s':>9}{'msgs/s':>9}{'cpu s':>8}{'cpu us/msg':>12}")
for via in ("tcp", "unix"):
    rk, rc, fl = load(f"bulk-rk-{via}"), load(f"bulk-rc-{via}"), load(f"bulk-floor-{via}")
    for name, (wall, cpu) in ((f"rspamkit-scan -n 8 ({via})", rk), (f"rspamc -n 8 ({via})", rc),
                              (f"bulkfloor, 8 processes ({via})", fl)):
        print(f"{name:<30}{wall:>9.1f}{n/wall:>9.0f}{cpu:>8.2f}{cpu/n*1e6:>12.0f}")
    print(f"  {via}: throughput rspamkit/rspamc: {rc[0]/rk[0]:.2f} (target >= 1: "
          f"{'met' if rc[0] >= rk[0] else 'NOT met'}); client CPU rspamkit/rspamc: "
          f"{rk[1]/rc[1]:.2f} (target <= 0.2: {'met' if rk[1] <= 0.2 * rc[1] else 'NOT met'}); "
          f"floor/rspamc: {fl[1]/rc[1]:.2f}; rspamkit above the floor: {(rk[1]-fl[1])/n*1e6:.0f} us/msg")
PY
