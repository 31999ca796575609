#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-22 (AddressSanitizer and UBSan on) in
# build-fuzz/ and runs each for SECONDS (default 20). The corpus of each target
# starts from fuzz/seeds/<target>/ (committed), MindSpore's sample files
# (test/data/mindspore) and libonnx-testdata, and is
# kept in CORPUS_DIR (default build-fuzz/corpus) between runs: a longer
# campaign is `scripts/fuzz.sh 3600`. A crash leaves its input in
# build-fuzz/crashes/<target>/ and makes the script exit 1; copy it to
# fuzz/regressions/<harness>/ once fixed (the unit tests replay those).
# Prints the executions of every target (docs/reliability.md quotes them).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-20}
build=${DINFER_FUZZ_BUILD_DIR:-$root/build-fuzz}
corpus_root=${CORPUS_DIR:-$build/corpus}
samples=${DINFER_SAMPLES_DIR:-$root/test/data/mindspore}
targets=(checkpoint safetensors strategy mindir onnx npy group_config manifest onnx_import mindir_import)

"$root/scripts/install-deps.sh" >&2
if [ ! -f "$build/build.ninja" ]; then
  CC=clang-22 CXX=clang++-22 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DPython3_EXECUTABLE=/usr/bin/python3 -DDINFER_ENABLE_FUZZERS=ON -DBUILD_TESTING=OFF >&2
fi
cmake --build "$build" --target dinfer-fuzzers >&2

seed() { # target, files...
  local dir="$corpus_root/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp -n "$f" "$dir/" 2>/dev/null || true; done
}
for t in "${targets[@]}"; do
  mkdir -p "$corpus_root/$t"
  [ -d "$root/fuzz/seeds/$t" ] && cp -n "$root/fuzz/seeds/$t/"* "$corpus_root/$t/" 2>/dev/null || true
done
if [ -d "$samples" ]; then
  seed checkpoint "$samples"/*.ckpt
  seed strategy "$samples"/mf_strategy_*.ckpt
  seed mindir "$samples"/*.mindir
  seed mindir_import "$samples"/*.mindir
fi
[ -d "$root/fuzz/seeds/mindir" ] && cp -n "$root/fuzz/seeds/mindir/"* "$corpus_root/mindir_import/" 2>/dev/null || true
if [ -d /usr/share/libonnx-testdata/data/node ]; then
  i=0
  for d in /usr/share/libonnx-testdata/data/node/*/; do
    i=$((i + 1))
    [ $((i % 8)) -eq 0 ] || continue  # one node test in eight keeps start-up short
    cp -n "$d/model.onnx" "$corpus_root/onnx/$(basename "$d").onnx" 2>/dev/null || true
    cp -n "$d/model.onnx" "$corpus_root/onnx_import/$(basename "$d").onnx" 2>/dev/null || true
    [ -f "$d/test_data_set_0/input_0.pb" ] && cp -n "$d/test_data_set_0/input_0.pb" "$corpus_root/npy/$(basename "$d").pb" 2>/dev/null || true
  done
fi

status=0
echo "fuzzing ${#targets[@]} targets for ${seconds}s each (corpus: $corpus_root)"
printf '%-14s %12s %10s %8s\n' target executions exec/s corpus
for t in "${targets[@]}"; do
  crashes="$build/crashes/$t"
  mkdir -p "$crashes"
  log="$build/fuzz_$t.log"
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "$build/fuzz/fuzz_$t" "$corpus_root/$t" \
      -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$crashes/" >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  files=$(ls "$corpus_root/$t" | wc -l)
  printf '%-14s %12s %10s %8s %s\n' "$t" "$execs" "$rate" "$files" "$result"
  if [ "$result" = CRASH ]; then
    grep -m20 -E 'ERROR|SUMMARY|#[0-9]+ 0x' "$log" | head -20 || true
    echo "  input: $(ls -t "$crashes" | head -1) (in $crashes)"
  fi
done
exit $status
