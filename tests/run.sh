#!/bin/sh
# Run every test program given as an argument, then the shell tests in
# tests/*.sh; print "N passed, N failed" last and exit non-zero on failure.
# Environment: LCX (the lcx binary under test), BUILD (build directory),
# RUNNER (a command that runs each test program, e.g. qemu-aarch64 for a
# cross build), SKIP_SHELL (a reason: the shell tests are reported as
# skipped, for builds whose lcx cannot run here natively), SHELL_TESTS
# (the shell tests to run, default tests/test_*.sh), SKIP_BINS and
# SKIP_BINS_WHY (test programs reported as skipped, and why).
passed=0
failed=0
skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
    name=$(basename "$t")
    case " ${SKIP_BINS:-} " in
    *" $name "*)
        echo "skip $name: ${SKIP_BINS_WHY:-skipped}"
        skipped=$((skipped + 1))
        continue
        ;;
    esac
    # shellcheck disable=SC2086
    ${RUNNER:-} "$t" >"$log" 2>&1
    rc=$?
    cat "$log" | grep -v '^check-summary'
    line=$(grep '^check-summary' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL $name: crashed or exited early (exit $rc)"
        failed=$((failed + 1))
        continue
    fi
    p=$(echo "$line" | cut -d' ' -f2)
    f=$(echo "$line" | cut -d' ' -f3)
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        echo "FAIL $name: exit $rc after its checks"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
for s in ${SHELL_TESTS:-tests/test_*.sh}; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    if [ -n "${SKIP_SHELL:-}" ]; then
        echo "skip $name: $SKIP_SHELL"
        skipped=$((skipped + 1))
        continue
    fi
    if LCX="$LCX" BUILD="$BUILD" sh "$s" >"$log" 2>&1; then
        if grep -q '^SKIPPED' "$log"; then
            # A test that could not run here says why; it is not a pass.
            echo "skip $name: $(grep -m1 '^SKIPPED' "$log")"
            skipped=$((skipped + 1))
        else
            echo "ok   $name"
            passed=$((passed + 1))
        fi
    else
        cat "$log"
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
done
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
