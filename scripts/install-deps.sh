#!/usr/bin/env bash
# Installs every Debian package that dinfer's build, tests and demo need.
# Idempotent: when everything is present it does nothing (no apt-get update, no network).
set -euo pipefail

PACKAGES=(
  # MLIR/LLVM 22 and its tools (lit, FileCheck, mlir-tblgen). Never install MLIR 19: it removes 22.
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  # What LLVM's static support library links (DINFER_STATIC_MLIR).
  libzstd-dev zlib1g-dev libz3-dev
  # clang-22 with its runtime: libFuzzer and the sanitizers.
  clang-22 libclang-rt-22-dev
  # Build system.
  cmake ninja-build ccache g++ pkg-config time
  # Formats.
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata libsimdjson-dev
  # Kernels, collectives, crypto.
  libdnnl-dev libopenblas-dev libopenmpi-dev openmpi-bin libssl-dev
  # Python package.
  pybind11-dev python3-pybind11 python3-numpy python3-dev python3-pytest python3-venv python3-pip python3-setuptools python3-wheel
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev python3-onnx
  # The report page rendered in a real browser (test/tools/dinfer/report-browser.test).
  chromium fonts-liberation
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Lists may be stale or absent on a fresh machine; refresh once when a package has no candidate.
need_update=0
for p in "${missing[@]}"; do
  if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then need_update=1; break; fi
done
if [ "$need_update" -eq 1 ]; then $SUDO apt-get update -q; fi
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  # A stale list can point at versions the mirror no longer has.
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
