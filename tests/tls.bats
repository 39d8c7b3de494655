#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# https:// through the dlopen'd libcurl, against a real nginx (Debian's
# nginx-light) started here as a TLS reverse proxy in front of the private
# Rspamd, with a CA and a server certificate made by openssl for this run.

bats_require_minimum_version 1.5.0
load helpers
load transport_helpers

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

setup_file() {
    command -v nginx >/dev/null || skip "nginx is not installed"
    local d=$BATS_FILE_TMPDIR/tls
    mkdir -p "$d"
    (
        cd "$d"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -keyout ca.key -out ca.crt -subj /CN=rspamkit-test-CA
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout server.key -out server.csr -subj /CN=localhost
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -extfile ext -out server.crt
        # a second CA that signed nothing here
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -keyout other.key -out other.crt -subj /CN=another-CA
    ) >"$d/openssl.log" 2>&1
    # a server that never answers, behind /stall/
    "$BATS_TEST_DIRNAME/fake-server" stall "$d/stall.port" 3>&- &
    echo $! >"$d/stall.pid"
    for _ in $(seq 100); do [ -s "$d/stall.port" ] && break; sleep 0.05; done
    TLS_PORT=$(free_port)
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    client_max_body_size 100m;
    client_body_buffer_size 16m;
    proxy_read_timeout 120s;
    server {
        listen 127.0.0.1:$TLS_PORT ssl;
        ssl_certificate $d/server.crt;
        ssl_certificate_key $d/server.key;
        location / { proxy_pass http://$RK_HOST:$RK_NORMAL_PORT; }
        location /rspamd/ { proxy_pass http://$RK_HOST:$RK_NORMAL_PORT/; }
        location /controller/ { proxy_pass http://$RK_HOST:$RK_CONTROLLER_PORT/; }
        location /stall/ { proxy_pass http://127.0.0.1:$(cat "$d/stall.port")/; }
    }
}
EOF
    nginx -e "$d/error.log" -c "$d/nginx.conf" -p "$d" 3>&-
    for _ in $(seq 100); do
        [ -s "$d/nginx.pid" ] && curl -s --cacert "$d/ca.crt" -o /dev/null "https://127.0.0.1:$TLS_PORT/ping" && break
        sleep 0.05
    done
    echo "$TLS_PORT" >"$d/port"
}

teardown_file() {
    local d=$BATS_FILE_TMPDIR/tls
    [ -s "$d/nginx.pid" ] && kill "$(cat "$d/nginx.pid")" 2>/dev/null
    [ -s "$d/stall.pid" ] && kill "$(cat "$d/stall.pid")" 2>/dev/null
    true
}

setup() {
    M="$BATS_TEST_TMPDIR"
    cp "$MSGS"/*.eml "$M/"
    T=$BATS_FILE_TMPDIR/tls
    HTTPS="https://127.0.0.1:$(cat "$T/port")"
    CA=$T/ca.crt
    export RSPAMKIT_STATE_DIR="$BATS_TEST_TMPDIR/state"
}
teardown() { stop_proxies; }

result_of() { jq -c '[.action, .score, (.symbols | keys)]' <<<"$1"; }

@test "https:// with --cacert: the same result as a plain scan, through libcurl" {
    run rspamkit-scan -h "$NORMAL" -j "$M/spam.eml"
    plain=$(result_of "$output")
    run --separate-stderr env LD_DEBUG=files rspamkit-scan -h "$HTTPS" --cacert "$CA" -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(result_of "$output")" = "$plain" ]
    grep -q 'file=libcurl.so.4' <<<"$stderr"
    run rspamkit-scan -h "$HTTPS/rspamd/" --cacert "$CA" "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
}

@test "https:// without the CA: the certificate is refused, with a hint" {
    run rspamkit-scan -h "$HTTPS" "$M/ham.eml"
    [ "$status" -eq 69 ]
    [[ $output == *"TLS handshake with $HTTPS failed"* ]]
    [[ $output == *"--cacert"* ]]
    run rspamkit-scan -h "$HTTPS" --cacert "$T/other.crt" "$M/ham.eml"
    [ "$status" -eq 69 ]
    [[ $output == *"TLS handshake with $HTTPS failed"* ]]
    run rspamkit-scan -h "$HTTPS" --cacert "$T/no-such.crt" "$M/ham.eml"
    [ "$status" -eq 66 ]
    [[ $output == *"cannot read --cacert file"* ]]
}

@test "https:// --insecure skips the verification" {
    run rspamkit-scan -h "$HTTPS" --insecure "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
}

@test "https:// with HTTPCrypt and zstd inside" {
    run rspamkit-scan -h "$NORMAL" -j "$M/spam.eml"
    plain=$(result_of "$output")
    before=$(grep -c 'writing encrypted reply' "$RK_RSPAMD_LOG" || true)
    run rspamkit-scan -h "$HTTPS" --cacert "$CA" --key "$RK_PUBKEY" -z -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(result_of "$output")" = "$plain" ]
    for _ in $(seq 30); do [ "$(grep -c 'writing encrypted reply' "$RK_RSPAMD_LOG")" -gt "$before" ] && break; sleep 0.1; done
    [ "$(grep -c 'writing encrypted reply' "$RK_RSPAMD_LOG")" -gt "$before" ]
    run rspamkit-scan -h "$HTTPS" --cacert "$CA" -z -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    [ "$(result_of "$output")" = "$plain" ]
}

@test "https:// to the controller: password, and a refused one" {
    run rspamkit-scan -h "$HTTPS/controller" --cacert "$CA" -P "$RK_PASSWORD" -j "$M/spam.eml"
    [ "$status" -eq 0 ]
    # the action the same controller gives rspamc (plain HTTP)
    want=$(rspamc -t 10 -h "$CONTROLLER" -P "$RK_PASSWORD" -j "$M/spam.eml" | jq -r .action)
    [ -n "$want" ] && [ "$want" != null ]
    [ "$(jq -r .action <<<"$output")" = "$want" ]
    run rspamkit-scan -h "$HTTPS/controller" --cacert "$CA" -P wrong "$M/spam.eml"
    [ "$status" -eq 77 ]
    [[ $output == *"authentication refused by $HTTPS/controller"* ]]
}

@test "https:// failover: a dead https server, then a live one; plain and https mixed" {
    dead="https://127.0.0.1:$(closed_port)"
    run rspamkit-scan -h "$dead,$HTTPS" --cacert "$CA" "$M/ham.eml"
    [ "$status" -eq 0 ]
    run rspamkit-scan -h "127.0.0.1:$(closed_port),$HTTPS" --cacert "$CA" "$M/ham.eml"
    [ "$status" -eq 0 ]
    run rspamkit-scan -h "$dead" --cacert "$CA" "$M/ham.eml"
    [ "$status" -eq 69 ]
    [[ $output == *"cannot connect to $dead"* ]]
}

@test "https:// timeouts: no reply within -t, and a connect that hangs" {
    SECONDS=0
    run rspamkit-scan -h "$HTTPS/stall" --cacert "$CA" -t 1 "$M/ham.eml"
    [ "$status" -eq 75 ]
    [[ $output == *"timed out waiting for a reply from $HTTPS/stall after 1 s"* ]]
    start_proxy B blackhole
    run rspamkit-scan -h "https://127.0.0.1:$B" --connect-timeout 0.5 "$M/ham.eml"
    [ "$status" -eq 75 ]
    [[ $output == *"cannot connect to https://127.0.0.1:$B: connect timed out"* ]]
    # -t and --connect-timeout were used, not the defaults (10 s + 5 s); the
    # margin is for a loaded machine
    [ "$SECONDS" -lt 13 ]
    # and both fail over
    run rspamkit-scan -h "$HTTPS/stall,https://127.0.0.1:$B,$HTTPS" --cacert "$CA" -t 1 --connect-timeout 0.5 "$M/ham.eml"
    [ "$status" -eq 0 ]
}

@test "https://: many messages in flight, and a 3 MB message without the Expect stall" {
    mkdir "$M/dir"
    for i in $(seq 30); do sed "s/^Subject: .*/Subject: message $i/" "$M/ham.eml" >"$M/dir/$i.eml"; done
    run --separate-stderr rspamkit-scan -h "$HTTPS" --cacert "$CA" -n 8 --compact "$M/dir"
    [ "$status" -eq 0 ]
    [ "$(grep -c '"action":"' <<<"$output")" -eq 30 ]  # every message has a verdict
    { cat "$M/ham.eml"; for i in $(seq 40000); do echo "line $i of a long body, padding padding padding padding"; done; } >"$M/big.eml"
    start=$(date +%s%N)
    run rspamkit-scan -h "$HTTPS" --cacert "$CA" -t 30 "$M/big.eml"
    [ "$status" -eq 0 ]
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "3 MB over https: $ms ms"
    [ "$ms" -lt 3000 ]
}

@test "https:// with --local-file sends the body (the server is not local to it)" {
    run rspamkit-scan -h "$HTTPS" --cacert "$CA" --local-file "$M/ham.eml"
    [ "$status" -eq 0 ]
    grep -qx "Action: $(ref .action "$M/ham.eml")" <<<"$output"
}
