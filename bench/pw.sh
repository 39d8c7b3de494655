#!/bin/sh
# bench/pw.sh: time per hash of each type, rspamkit-pw against rspamadm pw,
# in one hyperfine run (same machine, same moment, same KDF parameters).
# The --list rows measure start-up alone; "KDF" is hash time minus start-up.
#   RSPAMKIT_PW=path/to/rspamkit-pw  (default: the build's binary, then PATH)
#   RUNS=N  runs per command (default 30)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${RSPAMKIT_PW:-}" ]; then
    pw=$RSPAMKIT_PW
elif [ -x "$here/../tools/.libs/rspamkit-pw" ]; then
    # the build's tools/rspamkit-pw is a libtool wrapper script: time the binary
    pw=$here/../tools/.libs/rspamkit-pw
    LD_LIBRARY_PATH=$here/../lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
else
    pw=$(command -v rspamkit-pw) || { echo "pw.sh: build rspamkit-pw first" >&2; exit 1; }
fi
for t in hyperfine rspamadm python3; do
    command -v "$t" > /dev/null || { echo "pw.sh: $t is not installed" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

hyperfine -N --warmup 3 --runs "${RUNS:-30}" --style basic --export-json "$out/r.json" \
    -n "rspamkit-pw --list" "$pw --list" \
    -n "rspamadm pw --list" "rspamadm pw --list" \
    -n "rspamkit-pw -t pbkdf2" "$pw -t pbkdf2 -p secret" \
    -n "rspamadm pw -t pbkdf2" "rspamadm pw -t pbkdf2 -p secret" \
    -n "rspamkit-pw -t catena" "$pw -t catena -p secret" \
    -n "rspamadm pw -t catena" "rspamadm pw -t catena -p secret" > "$out/log"

python3 - "$out/r.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ms = lambda name: 1000 * r[name]["mean"]
sd = lambda name: 1000 * r[name]["stddev"]
print("| command | mean ms | ± ms | KDF ms (minus start-up) |")
print("|---|---:|---:|---:|")
for tool, start in (("rspamkit-pw", "rspamkit-pw --list"), ("rspamadm pw", "rspamadm pw --list")):
    print(f"| {start} | {ms(start):.1f} | {sd(start):.1f} | |")
for t in ("pbkdf2", "catena"):
    for tool, start in (("rspamkit-pw", "rspamkit-pw --list"), ("rspamadm pw", "rspamadm pw --list")):
        name = f"{tool} -t {t}"
        print(f"| {name} | {ms(name):.1f} | {sd(name):.1f} | {ms(name) - ms(start):.1f} |")
PY
