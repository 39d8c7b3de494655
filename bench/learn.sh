#!/usr/bin/env bash
# Bulk learning, side by side in one run: rspamkit-learn -n 8 --spam vs
# rspamc -n 8 learn_spam, on the same 1,000 SpamAssassin corpus messages and
# the same private Rspamd; redis (Bayes + learn cache) is reset before each run.
# Usage: bench/learn.sh [ROUNDS [N]]   (from the build directory; default 3
# rounds of 1000 messages). RK_TEST_DIR=DIR reuses a server from
# tests/server/start instead of starting one.
set -eu
rounds=${1:-3}
count=${2:-1000}
. "$(dirname "$0")/lib.sh"
bench_init learn
bench_server
export LD_LIBRARY_PATH="$work/inst/usr/local/lib" # one process per run: no delivery command inherits it
corpus=$("$src/tests/corpus/fetch")
# The first $count spam messages, copied into one directory (rspamc skips
# symbolic links inside directories).
mkdir "$work/msgs"
find "$corpus"/spam-1 "$corpus"/spam-2 -name '*.txt' | sort | head -n "$count" |
    while read -r f; do cp "$f" "$work/msgs/"; done
n=$(find "$work/msgs" -type f | wc -l)
hp="$RK_HOST:$RK_CONTROLLER_PORT"
export RSPAMKIT_PASSWORD=$RK_PASSWORD
echo "learning $n messages ($(du -sh "$work/msgs" | cut -f1)) as spam, -n 8, $rounds rounds" >&2
python3 - "$rounds" "$n" "$work" "$bin/rspamkit-learn" "$hp" "$RK_PASSWORD" "$src/tests/server/reset" \
    "$RK_TEST_DIR" "$RK_REDIS_PORT" <<'PY'
import os, resource, statistics, subprocess, sys, time
rounds, n, work, learn, hp, pw, reset, tdir, redis = sys.argv[1:]
rounds, n = int(rounds), int(n)
msgs = f"{work}/msgs"
tools = {
    "rspamkit-learn": [learn, "-q", "--progress", "-n", "8", "-h", hp, "--spam", msgs],
    "rspamc": ["rspamc", "-n", "8", "-h", hp, "-P", pw, "learn_spam", msgs],
}
res = {k: [] for k in tools}
learned = {k: [] for k in tools}
cpu = {k: [] for k in tools}
last_progress = ""
for r in range(rounds):
    order = list(tools) if r % 2 == 0 else list(reversed(tools))
    for name in order:
        subprocess.run([reset, tdir], check=True)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.run(tools[name], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        t = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name].append((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime))
        res[name].append(t)
        got = subprocess.run(["redis-cli", "-p", redis, "HGET", "RS", "learns_spam"],
                             capture_output=True, text=True).stdout.strip()
        learned[name].append(int(got or 0))
        if name == "rspamkit-learn":
            err = p.stderr.decode(errors="replace")
            frames = [x for x in err.replace("\x1b[K", "").split("\r") if x.strip()]
            last_progress = frames[-1].strip() if frames else ""
            summary = [l for l in err.splitlines() if "Summary" in l]
        print(f"round {r + 1}: {name:<15} {t:6.2f} s  exit {p.returncode}  learned {learned[name][-1]}",
              file=sys.stderr)
subprocess.run([reset, tdir], check=True)
print(f"{'client':<16}{'median s':>9}{'msgs/s':>9}{'client cpu s':>14}{'learned':>9}")
for name in tools:
    m = statistics.median(res[name])
    print(f"{name:<16}{m:>9.2f}{n / m:>9.1f}{statistics.median(cpu[name]):>14.3f}{statistics.median(learned[name]):>9.0f}")
a, b = statistics.median(res["rspamkit-learn"]), statistics.median(res["rspamc"])
print(f"rspamkit-learn throughput = {b / a:.2f} x rspamc")
print(f"last progress frame: {last_progress}")
PY
