#!/usr/bin/env bash
# Per-message start-up + scan cost, side by side in one run:
#   rspamkit-scan, rspamc, curl, and bench/floor (a raw-socket client).
# Usage: bench/scan.sh [RUNS]   (from the build directory; default 50 runs)
# Installs the build into a temporary prefix (no libtool wrappers), starts a
# private Rspamd, and prints hyperfine's table with medians.
set -eu
runs=${1:-50}
. "$(dirname "$0")/lib.sh"
bench_init scan
bench_server
msg="$src/examples/messages/ham.eml"
hyperfine -N --runs "$runs" --warmup 5 --export-markdown "$work/table.md" \
    -n floor "$floor $RK_HOST $RK_NORMAL_PORT $msg" \
    -n rspamkit-scan "$run $bin/rspamkit-scan -h $hp $msg" \
    -n rspamc "rspamc -h $hp $msg" \
    -n curl "curl -s -o /dev/null --data-binary @$msg http://$hp/checkv2" >&2
# medians (hyperfine's markdown has means; compute medians from JSON)
hyperfine -N --runs "$runs" --warmup 5 --export-json "$work/r.json" \
    -n floor "$floor $RK_HOST $RK_NORMAL_PORT $msg" \
    -n rspamkit-scan "$run $bin/rspamkit-scan -h $hp $msg" \
    -n rspamc "rspamc -h $hp $msg" \
    -n curl "curl -s -o /dev/null --data-binary @$msg http://$hp/checkv2" >/dev/null 2>&1
python3 - "$work/r.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
floor = statistics.median(r[0]["times"])
print(f"{'command':<16}{'median ms':>10}{'x floor':>9}{'user+sys ms':>13}")
for x in r:
    m = statistics.median(x["times"])
    print(f"{x['command']:<16}{m*1000:>10.2f}{m/floor:>9.2f}{(x['user']+x['system'])*1000:>13.2f}")
PY
