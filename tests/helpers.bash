# Shared by the bats files. tests/run exports RK_TEST_DIR (private Rspamd,
# see tests/server/start), RK_SRCDIR, RK_BUILDDIR and puts the built tools
# first on PATH.
if [ -z "${RK_TEST_DIR:-}" ] || [ ! -f "$RK_TEST_DIR/env" ]; then
    echo "run the bats files through tests/run (it starts the private Rspamd)" >&2
    exit 1
fi
# shellcheck disable=SC1091
. "$RK_TEST_DIR/env"
# Each test gets its own empty HOME and XDG directories, so that the dead-host
# state and the configuration lookups never touch anyone's own (tests/run
# already gave the file its own, and left no RSPAMKIT_* variable set).
if [ -n "${BATS_TEST_TMPDIR:-}" ]; then
    export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg/config \
        XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg/cache XDG_DATA_HOME=$BATS_TEST_TMPDIR/xdg/data \
        XDG_STATE_HOME=$BATS_TEST_TMPDIR/xdg/state XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg/run
    mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" \
        "$XDG_RUNTIME_DIR"
    chmod 700 "$XDG_RUNTIME_DIR"
fi
# rspamc and rspamadm are the server's version's own (wrappers into its root, see
# tests/server/start); RK_SERVER is that version (3.4, 3.12 or 4).
[ -z "${RK_REF_BIN:-}" ] || PATH=$RK_REF_BIN:$PATH
RK_SERVER=${RK_SERVER:-3.4}
SRC=${RK_SRCDIR:?}
NORMAL="$RK_HOST:$RK_NORMAL_PORT"
CONTROLLER="$RK_HOST:$RK_CONTROLLER_PORT"
MSGS="$SRC/examples/messages"

# A port on loopback where nothing listens.
closed_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Start tests/fake-server MODE [ARG]; sets FAKE_PORT and FAKE_PID.
fake_server() {
    local pf="$BATS_TEST_TMPDIR/fake.port"
    rm -f "$pf"
    "$SRC/tests/fake-server" "$1" "$pf" "${@:2}" 3>&- &
    FAKE_PID=$!
    for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
    FAKE_PORT=$(cat "$pf")
}
stop_fake() { [ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null || true; }

# The fields the test servers' milter_headers adds to a reply's milter.add_headers
# (tests/server/conf/local.d/milter_headers.conf), as a Perl/ERE alternation: the
# messages rspamkit writes (--mime, spamc mode) carry them on every version.
MILTER_FIELDS='X-Spamd-Bar|X-Spam-Level|X-Spam-Status|Authentication-Results|X-Rspamd-Server'

# Drop the parts of rspamc/rspamkit output that change from run to run.
strip_times() { grep -v -E '"?(time_real|scan_time)"?[ :=]' | sed -E 's/ \([0-9.e+-]+ seconds\)$//'; }

# readable_copy FILE: a copy the server's user (_rspamd) can read, for
# --local-file; in the server's directory, which goes with the server.
readable_copy() {
    local d
    d=$(mktemp -d "$RK_TEST_DIR/local.XXXXXX")
    chmod 755 "$d"
    cp "$1" "$d/" && chmod 644 "$d/$(basename "$1")"
    echo "$d/$(basename "$1")"
}

# ref FILTER FILE [RSPAMC OPTION]...: jq -r FILTER applied to the same server's
# `rspamc -j` verdict on FILE. Tests compare with it instead of hard-coding an
# action, a score or a symbol of one Rspamd version's rules.
ref() { rspamc -t 10 -h "$NORMAL" -j "${@:3}" "$2" | jq -r "$1"; }
# The server's version as the same version's rspamc reads it ("3.4", "3.12.1", ...).
server_version() { rspamc -t 10 -h "$CONTROLLER" -P "$RK_PASSWORD" -j uptime | jq -r .version; }
# server_at_least V: the server's version is V or later (versions compared as numbers).
server_at_least() { [ "$(printf '%s\n' "$1" "$(server_version)" | sort -V | head -n 1)" = "$1" ]; }
