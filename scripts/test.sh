#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (packages, configure, build) and runs every
# test through CTest: the lit suite (one CTest test; lit counts its own tests)
# and the GoogleTest unit tests. Prints how many of each ran.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DINFER_BUILD_DIR:-$root/build}

"$root/scripts/build.sh"

status=0
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" 2>&1 | tee "$build/ctest.log" || status=$?

log="$build/Testing/Temporary/LastTest.log"
lit_total=$(grep -m1 -o 'Total Discovered Tests: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
lit_passed=$(grep -m1 -oE '^ *Passed *: *[0-9]+' "$log" | grep -o '[0-9]*$' || echo 0)
lit_skipped=$(grep -m1 -oE '^ *Unsupported *: *[0-9]+' "$log" | grep -o '[0-9]*$' || echo 0)
unit_total=$("$build/test/unittests/DinferUnitTests" --gtest_list_tests | grep -c '^  ' || true)
unit_failed=$(grep -E "Test +#[0-9]+: " "$build/ctest.log" | grep -vE "Test +#[0-9]+: (lit|docs-current|pytest|layering)" | grep -c "Failed" || true)
unit_skipped=$(grep -E "Test +#[0-9]+: " "$build/ctest.log" | grep -vE "Test +#[0-9]+: (lit|docs-current|pytest|layering)" | grep -c "Skipped" || true)
pytest_summary=$(grep -E '^[0-9]+ (passed|failed)' "$log" | tail -1 | sed -E 's/ in [0-9.]+s.*//' || true)
echo
skipped=""
[ "$lit_skipped" -gt 0 ] && skipped=" (${lit_skipped} skipped: their sample files are absent)"
unit_note=""
[ "$unit_skipped" -gt 0 ] && unit_note=" (${unit_skipped} skipped: their sample files are absent)"
echo "dinfer tests: lit ${lit_passed}/${lit_total} passed${skipped}; unit (GoogleTest) $((unit_total - unit_failed - unit_skipped))/${unit_total} passed${unit_note}; Python (pytest) ${pytest_summary:-not run}"
exit $status
