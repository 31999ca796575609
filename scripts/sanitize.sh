#!/usr/bin/env bash
# Builds dinfer with AddressSanitizer and UndefinedBehaviorSanitizer in
# build-asan/ (DINFER_ASAN_BUILD_DIR) and runs the lit and GoogleTest suites
# under them. The Python tests are left out: the extension would need the
# sanitizer runtime preloaded into python3. Open MPI's own allocations at exit
# are suppressed (scripts/lsan.supp); every other leak, overflow or UB fails.
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its slabs from
# code inlined into dinfer (instrumented) but not from Debian's MLIR libraries
# (not instrumented), so MLIR's own allocations would read as poisoned.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DINFER_ASAN_BUILD_DIR:-$root/build-asan}

"$root/scripts/install-deps.sh" >&2
if [ ! -f "$build/build.ninja" ]; then
  # -O1 -g1: quick to compile on 2 cores, stacks that still name the function and line.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DPython3_EXECUTABLE=/usr/bin/python3 -DDINFER_ENABLE_SANITIZERS=ON >&2
fi
cmake --build "$build" >&2

export ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export LSAN_OPTIONS=suppressions=$root/scripts/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
ctest --test-dir "$build" -E '^(pytest|docs-current)' --output-on-failure -j "$(nproc)" 2>&1 | tee "$build/ctest.log" ||
  status=$?
log="$build/Testing/Temporary/LastTest.log"
lit_passed=$(grep -m1 -oE '^ *Passed *: *[0-9]+' "$log" | grep -o '[0-9]*$' || echo 0)
lit_total=$(grep -m1 -o 'Total Discovered Tests: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
unit_total=$("$build/test/unittests/DinferUnitTests" --gtest_list_tests | grep -c '^  ' || true)
unit_failed=$(grep -E "Test +#[0-9]+: " "$build/ctest.log" | grep -vE "Test +#[0-9]+: lit" | grep -c "Failed" || true)
echo "dinfer sanitizer run (ASan+UBSan): lit ${lit_passed}/${lit_total} passed; unit $((unit_total - unit_failed))/${unit_total} without failure"
exit $status
