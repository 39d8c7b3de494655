#!/usr/bin/env bats
# server-independent: runs against every tested Rspamd version (tests/run, RK_SERVER).
# Same verdicts as rspamc on an Rspamd with greylisting on (issue 12, item 2).
# Rspamd's greylist, ratelimit, reputation and neural modules leave a request
# alone when its User-Agent is "rspamc" or it carries a Password
# (lua_util.is_rspamc_or_controller). This file starts a second private Rspamd
# (tests/server/start with the tests/server/greylist overlay: greylisting on
# redis, every message short of reject at the greylist action), where a
# mail server's request for a message not seen before gets "soft reject".

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
    GREY=$(mktemp -d /tmp/rspamkit-grey.XXXXXX)
    chmod 755 "$GREY"
    export GREY
    RK_SERVER_OVERLAY=$SRC/tests/server/greylist "$SRC/tests/server/start" "$GREY" 3>&- ||
        { "$SRC/tests/server/stop" "$GREY"; rm -rf "$GREY"; false; }
}
teardown_file() {
    "$SRC/tests/server/stop" "$GREY" 3>&-
    rm -rf "$GREY"
}

setup() {
    # the greylisting server's address and its version's rspamc
    GREY_HOST=$(. "$GREY/env" && echo "$RK_HOST:$RK_NORMAL_PORT")
    GREY_RSPAMC=$(. "$GREY/env" && echo "$RK_RSPAMC")
    M=$BATS_TEST_TMPDIR
    cp "$MSGS"/*.eml "$M/"
}

# action TOOL ARG...: the action TOOL reports for a JSON scan on the greylisting server
action() { "$1" -t 10 -h "$GREY_HOST" -j "${@:2}" | jq -r .action; }

@test "the same message gets the same action from rspamc, rspamkit-scan and the front door" {
    for f in ham spam; do
        # scanned by the other clients first and after, so a greylisting
        # record (if one were made) would show in either order
        want=$(action "$GREY_RSPAMC" "$M/$f.eml")
        [ -n "$want" ] && [ "$want" != null ]
        [ "$(action rspamkit-scan "$M/$f.eml")" = "$want" ]
        [ "$(action rspamkit "$M/$f.eml")" = "$want" ]
        [ "$(action "$GREY_RSPAMC" "$M/$f.eml")" = "$want" ]
        # the LDA form: the X-Spam-Action header rspamc --mime writes
        want=$("$GREY_RSPAMC" -h "$GREY_HOST" --mime "$M/$f.eml" | grep '^X-Spam-Action:')
        [ "$(rspamkit -h "$GREY_HOST" --mime "$M/$f.eml" | grep '^X-Spam-Action:')" = "$want" ]
        [ "$(rspamkit-scan -h "$GREY_HOST" --mime "$M/$f.eml" | grep '^X-Spam-Action:')" = "$want" ]
    done
}

@test "identified as rspamkit (-U rspamkit), a scan is greylisted as rspamc -U rspamkit's is" {
    rspamc_action=$(action "$GREY_RSPAMC" "$M/ham.eml")
    # the server greylists a client that is not rspamc: the action differs
    want=$(action "$GREY_RSPAMC" -U rspamkit "$M/ham.eml")
    [ "$want" = "soft reject" ]      # the overlay's greylist action
    [ "$want" != "$rspamc_action" ]
    run rspamkit-scan -t 10 -h "$GREY_HOST" -U rspamkit -j "$M/ham.eml"
    [ "$status" -eq 0 ]
    [ "$(jq -r .action <<<"$output")" = "$want" ]
    jq -e '.symbols.GREYLIST.options[0] == "greylisted"' <<<"$output"
    [ "$(action rspamkit -U rspamkit "$M/ham.eml")" = "$want" ]
    [ "$(action rspamkit-scan --header 'User-Agent: rspamkit' "$M/ham.eml")" = "$want" ]
    # while the default still gets rspamc's action
    [ "$(action rspamkit-scan "$M/ham.eml")" = "$rspamc_action" ]
}

@test "a Password header makes a scan a local check whatever the User-Agent" {
    pw=$(. "$GREY/env" && echo "$RK_PASSWORD")
    want=$(action "$GREY_RSPAMC" -U rspamkit -P "$pw" "$M/ham.eml")
    [ "$want" = "$(action "$GREY_RSPAMC" "$M/ham.eml")" ]
    [ "$(action rspamkit-scan -U rspamkit -P "$pw" "$M/ham.eml")" = "$want" ]
}
