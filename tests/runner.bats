#!/usr/bin/env bats
# tests/run itself: it must fail whenever a bats file or a unit test does not
# report every planned result, even when nothing says "not ok".

load helpers

# run_suite FILE...: tests/run on the given files, with this suite's server.
run_suite() {
    run env RK_TEST_DIR="$RK_TEST_DIR" "$SRC/tests/run" "$@"
}

# sabotage NAME CONTENT: a bats file in the test's directory; its tests are
# written "%test" here, so that bats does not take them for this file's.
sabotage() {
    printf '%s\n' "$2" | sed 's/^%test/@test/' >"$BATS_TEST_TMPDIR/$1"
    echo "$BATS_TEST_TMPDIR/$1"
}

@test "a good bats file passes (so that the failures below are the sabotage's)" {
    f=$(sabotage good.bats '%test "one" { true; }
%test "two" { true; }')
    run_suite "$f"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "2 passed, 0 failed" ]
}

@test "a bats file that calls exit 1 at top level fails the run" {
    f=$(sabotage exit.bats '%test "one" { true; }
exit 1')
    run_suite "$f"
    [ "$status" -ne 0 ]
    [[ ${lines[-1]} =~ ^[0-9]+\ passed,\ [1-9][0-9]*\ failed$ ]]
}

@test "a bats file whose process is killed fails the run" {
    f=$(sabotage killed.bats '%test "one" { true; }
%test "two" { kill -9 "$PPID"; }
%test "three" { true; }')
    run_suite "$f"
    [ "$status" -ne 0 ]
    [[ $output == *"planned 3 tests, reported 2"* ]]
    [[ ${lines[-1]} =~ ^[0-9]+\ passed,\ [1-9][0-9]*\ failed$ ]]
}

@test "bats killed as a whole fails the run" {
    f=$(sabotage root.bats '%test "one" { true; }
%test "two" { kill -9 "$BATS_ROOT_PID"; }')
    run_suite "$f"
    [ "$status" -ne 0 ]
    [[ ${lines[-1]} =~ ^[0-9]+\ passed,\ [1-9][0-9]*\ failed$ ]]
}

@test "a unit test that exits non-zero, or short of its plan, fails the run" {
    printf '#!/bin/sh\necho "ok 1 - fine"\necho "1..1"\nexit 3\n' >"$BATS_TEST_TMPDIR/test_status"
    printf '#!/bin/sh\necho "ok 1 - fine"\necho "1..2"\n' >"$BATS_TEST_TMPDIR/test_short"
    printf '#!/bin/sh\necho "ok 1 - fine"\nkill -9 $$\n' >"$BATS_TEST_TMPDIR/test_noplan"
    chmod +x "$BATS_TEST_TMPDIR"/test_*
    for u in status short noplan; do
        run_suite "$BATS_TEST_TMPDIR/test_$u"
        [ "$status" -ne 0 ] || { echo "test_$u: $output"; false; }
        [ "${lines[-1]}" = "1 passed, 1 failed" ] || { echo "test_$u: $output"; false; }
    done
}

@test "tests run with a private HOME and XDG directories and no RSPAMKIT_ variables" {
    f=$(sabotage env.bats '%test "env" {
    [ -z "$(compgen -v RSPAMKIT_)" ]
    [ "$HOME" != "$OUTER_HOME" ] && [ -d "$HOME" ] && [ -z "$(ls -A "$HOME")" ]
    for v in XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_RUNTIME_DIR; do
        [ -d "${!v}" ] && [[ ${!v} != "$OUTER_HOME"* ]]
    done
}')
    run env OUTER_HOME="$HOME" RSPAMKIT_STATE_DIR=/nonexistent RSPAMKIT_CONFIG=/nonexistent \
        RK_TEST_DIR="$RK_TEST_DIR" "$SRC/tests/run" "$f"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [ "${lines[-1]}" = "1 passed, 0 failed" ]
}
