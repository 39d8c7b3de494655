#!/bin/sh
# bench/configdump.sh: rspamkit-configdump against rspamadm configdump on the
# stock /etc/rspamd tree, in one hyperfine run (same machine, same moment).
# Rows: the whole tree as UCL and as JSON, one section, and -m.
#   RSPAMKIT_CONFIGDUMP=path/to/rspamkit-configdump  (default: the build's
#   binary, then PATH)
#   RUNS=N  runs per command (default 20)   CONF=FILE (default /etc/rspamd/rspamd.conf)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${RSPAMKIT_CONFIGDUMP:-}" ]; then
    cd_bin=$RSPAMKIT_CONFIGDUMP
elif [ -x "$here/../tools/.libs/rspamkit-configdump" ]; then
    # the build's tools/rspamkit-configdump is a libtool wrapper: time the binary
    cd_bin=$here/../tools/.libs/rspamkit-configdump
    LD_LIBRARY_PATH=$here/../lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
else
    cd_bin=$(command -v rspamkit-configdump) ||
        { echo "configdump.sh: build rspamkit-configdump first" >&2; exit 1; }
fi
for t in hyperfine rspamadm python3; do
    command -v "$t" >/dev/null || { echo "configdump.sh: $t is not installed" >&2; exit 1; }
done
conf=${CONF:-/etc/rspamd/rspamd.conf}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# rspamadm logs DNS failures etc. on stderr: hyperfine discards the output
hyperfine -N --warmup 2 --runs "${RUNS:-20}" --style basic --export-json "$out/r.json" \
    -n "rspamkit-configdump" "$cd_bin -c $conf" \
    -n "rspamadm configdump" "rspamadm configdump -c $conf" \
    -n "rspamkit-configdump -j" "$cd_bin -j -c $conf" \
    -n "rspamadm configdump -j" "rspamadm configdump -j -c $conf" \
    -n "rspamkit-configdump options" "$cd_bin -c $conf options" \
    -n "rspamadm configdump options" "rspamadm configdump -c $conf options" \
    -n "rspamkit-configdump -m" "$cd_bin -m -c $conf" \
    -n "rspamadm configdump -m" "rspamadm configdump -m -c $conf" >"$out/log"

python3 - "$out/r.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print("| what | rspamkit-configdump ms | rspamadm configdump ms | ratio |")
print("|---|---:|---:|---:|")
for what in ("", " -j", " options", " -m"):
    a, b = r["rspamkit-configdump" + what], r["rspamadm configdump" + what]
    ma, mb = 1000 * a["mean"], 1000 * b["mean"]
    print("| %s | %.1f ± %.1f | %.1f ± %.1f | %.3f |" % (
        (what.strip() or "whole tree"), ma, 1000 * a["stddev"], mb, 1000 * b["stddev"], ma / mb))
PY
