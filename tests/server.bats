#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# Proves with the real rspamc that the private test rspamd (tests/server/start) works, and that
# tests/fake-server misbehaves as documented. Uses the instance in $RK_TEST_DIR if set (starting
# it there if needed, and leaving it running), else starts and stops one of its own.
# Some tests run tests/server/reset (FLUSHALL of the instance's redis: Bayes, fuzzy hashes).

MSGS=$BATS_TEST_DIRNAME/server/msgs

setup_file() {
  if [ -n "${RK_TEST_DIR:-}" ]; then
    export RK_OWN_DIR=
  else
    RK_OWN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rk-server-bats.XXXXXX")
    chmod 755 "$RK_OWN_DIR"   # rspamd runs as _rspamd when we are root
    export RK_OWN_DIR RK_TEST_DIR=$RK_OWN_DIR
  fi
  "$BATS_TEST_DIRNAME/server/start" "$RK_TEST_DIR" 3>&-
  . "$RK_TEST_DIR/env"
}

teardown_file() {
  if [ -n "$RK_OWN_DIR" ]; then
    "$BATS_TEST_DIRNAME/server/stop" "$RK_OWN_DIR"
    rm -rf "$RK_OWN_DIR"
  fi
}

teardown() {
  if [ -n "${FAKE_PID:-}" ]; then kill "$FAKE_PID"; wait "$FAKE_PID" || true; fi
}

normal() { rspamc -t 5 -h "$RK_HOST:$RK_NORMAL_PORT" "$@"; }
controller() { rspamc -t 5 -h "$RK_HOST:$RK_CONTROLLER_PORT" "$@"; }
learns() { redis-cli -p "$RK_REDIS_PORT" HGET RS "learns_$1"; }
encrypted_replies() { grep -c 'writing encrypted reply' "$RK_RSPAMD_LOG" || true; }

# variant NAME: a copy of msgs/NAME.eml with a new Message-ID and one new line, so it is a
# message the server has never seen (learn cache, fuzzy hashes) even on a reused instance.
variant() {
  local tag f
  tag=$(date +%s%N)-$RANDOM
  f=$BATS_TEST_TMPDIR/$1-$tag.eml
  sed "s/^Message-ID: <\([^@]*\)@/Message-ID: <\1-$tag@/" "$MSGS/$1.eml" > "$f"
  echo "Reference code $tag." >> "$f"
  echo "$f"
}

@test "scan over TCP" {
  run normal "$MSGS/ham1.eml"
  [ "$status" -eq 0 ]
  grep -qE "^Action: (no action|greylist|add header|rewrite subject|soft reject|reject)$" <<<"$output"
}

@test "scan over the UNIX socket (mode 0666)" {
  [ -S "$RK_NORMAL_SOCK" ]
  [ "$(stat -c %a "$RK_NORMAL_SOCK")" = 666 ]
  run rspamc -t 5 -h "$RK_NORMAL_SOCK" "$MSGS/small.eml"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Action:"* ]]
}

@test "start reuses a running instance" {
  pid=$RK_RSPAMD_PID
  "$BATS_TEST_DIRNAME/server/start" "$RK_TEST_DIR" 3>&-
  . "$RK_TEST_DIR/env"
  [ "$RK_RSPAMD_PID" = "$pid" ]
}

@test "controller: no password or a wrong one gives 401 even from loopback" {
  run controller stat
  [ "$status" -eq 1 ]
  [[ "$output" == *"HTTP error: 401"* ]]
  run controller -P wrong-secret stat
  [ "$status" -eq 1 ]
  [[ "$output" == *"HTTP error: 401"* ]]
  run controller learn_spam "$MSGS/spam1.eml"
  [[ "$output" == *"HTTP error: 401"* ]]
}

@test "controller: the test password works" {
  run controller -P "$RK_PASSWORD" stat
  [ "$status" -eq 0 ]
  [[ "$output" == *"Messages scanned:"* ]]
}

@test "learn_spam learns; the same message again is already learned" {
  msg=$(variant spam1)
  before=$(learns spam)
  run controller -P "$RK_PASSWORD" learn_spam "$msg"
  [ "$status" -eq 0 ]
  [[ "$output" == *"success = true"* ]]
  [ "$(learns spam)" -eq $((${before:-0} + 1)) ]
  run controller -P "$RK_PASSWORD" learn_spam "$msg"
  [[ "$output" == *"has been already learned as spam"* ]]
}

@test "reset forgets learns and the learn cache" {
  msg=$(variant ham1)
  controller -P "$RK_PASSWORD" learn_ham "$msg"
  "$BATS_TEST_DIRNAME/server/reset" "$RK_TEST_DIR"
  [ -z "$(learns ham)" ]
  run controller -P "$RK_PASSWORD" learn_ham "$msg"
  [[ "$output" == *"success = true"* ]]
  [ "$(learns ham)" -eq 1 ]
}

@test "Bayes classifies after 5 spam and 5 ham learns" {
  "$BATS_TEST_DIRNAME/server/reset" "$RK_TEST_DIR"
  for i in 1 2 3 4 5; do
    controller -P "$RK_PASSWORD" learn_spam "$(variant spam1)" | grep -q 'success = true'
    controller -P "$RK_PASSWORD" learn_ham "$(variant ham1)" | grep -q 'success = true'
  done
  run normal "$(variant spam1)"
  [[ "$output" == *"Symbol: BAYES_SPAM"* ]]
  run normal "$(variant ham1)"
  [[ "$output" == *"Symbol: BAYES_HAM"* ]]
}

@test "fuzzy_add -f 1 makes the next scans show FUZZY_DENIED" {
  "$BATS_TEST_DIRNAME/server/reset" "$RK_TEST_DIR"   # earlier variants would match by shingles
  msg=$(variant fuzzy1)
  run normal "$msg"
  [[ "$output" != *FUZZY_DENIED* ]]
  run controller -P "$RK_PASSWORD" -f 1 fuzzy_add "$msg"
  [ "$status" -eq 0 ]
  [[ "$output" == *"success = true"* ]]
  for i in $(seq 25); do   # the storage applies updates on its 1 s sync timer
    run normal "$msg"
    [[ "$output" == *"Symbol: FUZZY_DENIED"* ]] && break
    sleep 0.2
  done
  [[ "$output" == *"Symbol: FUZZY_DENIED"* ]]
}

@test "HTTPCrypt: --key scan works and the log shows writing encrypted reply" {
  before=$(encrypted_replies)
  run normal --key "$RK_PUBKEY" "$MSGS/small.eml"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Action:"* ]]
  for i in $(seq 20); do [ "$(encrypted_replies)" -gt "$before" ] && break; sleep 0.1; done
  [ "$(encrypted_replies)" -gt "$before" ]
}

@test "HTTPCrypt: the controller takes --key too; a wrong key is refused" {
  run controller --key "$RK_PUBKEY" -P "$RK_PASSWORD" stat
  [ "$status" -eq 0 ]
  [[ "$output" == *"Messages scanned:"* ]]
  other=$(rspamadm keypair | sed -n 's/^ *pubkey = "\(.*\)";/\1/p')
  run normal --key "$other" "$MSGS/small.eml"
  [ "$status" -eq 1 ]
  [[ "$output" == *"unexpected EOF"* ]]
  run controller --key "$other" -P "$RK_PASSWORD" stat
  [ "$status" -eq 1 ]
  grep -q 'cannot decrypt message' "$RK_RSPAMD_LOG"
}

# --- tests/fake-server ---------------------------------------------------------------

# fake MODE [ARG...]: start tests/fake-server, wait for its port; sets FAKE_PF and FAKE_URL.
fake() {
  FAKE_PF=$BATS_TEST_TMPDIR/fake.port
  "$BATS_TEST_DIRNAME/fake-server" "$1" "$FAKE_PF" "${@:2}" > "$BATS_TEST_TMPDIR/fake.log" 2>&1 3>&- &
  FAKE_PID=$!
  for i in $(seq 50); do [ -s "$FAKE_PF" ] && break; sleep 0.1; done
  FAKE_URL=http://127.0.0.1:$(cat "$FAKE_PF")/checkv2
}
# post: curl POST small.eml to the fake server; status = curl's exit code, output = HTTP status,
# body in $BODY, curl's complaint in $BATS_TEST_TMPDIR/curl.err.
BODY=$BATS_TEST_TMPDIR/body
post() {
  curl -sS -m 1 -o "$BODY" -w '%{http_code}' --data-binary "@$MSGS/small.eml" "$FAKE_URL" \
    2> "$BATS_TEST_TMPDIR/curl.err"
}

@test "fake-server stall: reads and saves the request, never answers" {
  fake stall
  run post
  [ "$status" -eq 28 ]
  grep -q '^POST /checkv2 HTTP/1.1' "$FAKE_PF.req.1"
  grep -q 'readiness probe' "$FAKE_PF.req.1"
}

@test "fake-server stall-accept: never reads" {
  fake stall-accept
  run post
  [ "$status" -eq 28 ]
  [ ! -e "$FAKE_PF.req.1" ]
}

@test "fake-server http500: 500 with a JSON error body (rspamc sees it too)" {
  fake http500
  run post
  [ "$output" = 500 ]
  jq -e .error "$BODY"
  run rspamc -t 2 -h "127.0.0.1:$(cat "$FAKE_PF")" "$MSGS/small.eml"
  [ "$status" -eq 1 ]
  [[ "$output" == *"HTTP error: 500"* ]]
  [ -e "$FAKE_PF.req.2" ]
}

@test "fake-server garbage: not HTTP" {
  fake garbage
  run post
  [ "$status" -ne 0 ]
  [ "$output" = 000 ]
}

@test "fake-server reset: connection reset after the request" {
  fake reset
  run post
  [ "$status" -eq 56 ]
  [ -s "$FAKE_PF.req.1" ]
}

@test "fake-server reset-mid: headers and half the body, then reset" {
  fake reset-mid
  run post
  [ "$status" -eq 56 ] || [ "$status" -eq 18 ]
  [ "$output" = 200 ]
}

@test "fake-server empty200: 200 with an empty body" {
  fake empty200
  run post
  [ "$status" -eq 0 ]
  [ "$output" = 200 ]
  [ ! -s "$BODY" ]
}

@test "fake-server json FILE: 200 with the file as body" {
  echo '{"action":"reject","score":99.0}' > "$BATS_TEST_TMPDIR/reply.json"
  fake json "$BATS_TEST_TMPDIR/reply.json"
  run post
  [ "$output" = 200 ]
  cmp "$BODY" "$BATS_TEST_TMPDIR/reply.json"
}

@test "fake-server raw FILE: the file is the whole response" {
  printf 'HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno' > "$BATS_TEST_TMPDIR/raw"
  fake raw "$BATS_TEST_TMPDIR/raw"
  run post
  [ "$output" = 403 ]
  [ "$(cat "$BODY")" = no ]
}

@test "fake-server status CODE FILE: that status with the file as body" {
  echo '{"error":"Not found"}' > "$BATS_TEST_TMPDIR/err.json"
  fake status 404 "$BATS_TEST_TMPDIR/err.json"
  run post
  [ "$output" = 404 ]
  cmp "$BODY" "$BATS_TEST_TMPDIR/err.json"
}

@test "fake-server eof: closes without answering" {
  fake eof
  run post
  [ "$status" -eq 52 ]
  [ -s "$FAKE_PF.req.1" ]
}
