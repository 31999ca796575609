#!/usr/bin/env bash
# Installs the Debian packages dinfer needs (when missing), configures and
# builds everything. DINFER_BUILD_DIR overrides the build folder (default
# build/); extra arguments go to cmake's configure step.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DINFER_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"

if [ ! -f "$build/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE="${DINFER_BUILD_TYPE:-Release}" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DPython3_EXECUTABLE=/usr/bin/python3 \
    "$@"
fi
cmake --build "$build"
