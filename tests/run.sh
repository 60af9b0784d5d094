#!/usr/bin/env bash
# Runs every cmocka test binary given as an argument, then the Lua-level
# tests through siamlua (tests/lua/ and the bad-input suite,
# tests/robustness/), and prints one summary line: "N passed, N failed".
# A Lua test file that runs past LUA_TEST_TIMEOUT seconds (default 600) is
# killed and counted as failed: a hang must not stall CI.
set -u
export CMOCKA_MESSAGE_OUTPUT=STDOUT
passed=0 failed=0 skipped=0 broken=()
count() { # $1: log file
    local p f s
    p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$1" | awk '{s+=$4} END {print s+0}')
    f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$1" | awk '{s+=$4} END {print s+0}')
    s=$(grep -E '^\[  SKIPPED \] [0-9]+ test' "$1" | awk '{s+=$4} END {print s+0}')
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
    echo "== $t"
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    count "$log"
    if [ $rc -ne 0 ] && ! grep -qE '^\[  FAILED  \] [0-9]+ test' "$log"; then
        echo "!! $t exited with status $rc before reporting"
        failed=$((failed + 1)); broken+=("$t")
    elif [ $rc -ne 0 ]; then broken+=("$t")
    fi
done
if [ -n "${SIAMLUA:-}" ] && [ -x "${SIAMLUA}" ] && ls tests/lua/test_*.lua >/dev/null 2>&1; then
    for t in tests/lua/test_*.lua tests/robustness/test_*.lua; do
        echo "== $t"
        timeout -k 10 "${LUA_TEST_TIMEOUT:-600}" "$SIAMLUA" tests/lua/harness.lua "$t" >"$log" 2>&1
        rc=$?
        [ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "!! $t timed out" >>"$log"
        cat "$log"
        p=$(grep -E '^lua: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $2}')
        f=$(grep -E '^lua: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $4}')
        s=$(grep -E '^lua: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -1 | awk '{print $6}')
        if [ -z "$p" ]; then
            echo "!! $t did not report (status $rc)"; failed=$((failed + 1)); broken+=("$t")
        else
            passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
            [ $rc -ne 0 ] && broken+=("$t")
        fi
    done
fi
[ ${#broken[@]} -gt 0 ] && echo "failing: ${broken[*]}"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
