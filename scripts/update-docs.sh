#!/usr/bin/env bash
# Regenerates docs/generated/ from the ODS definitions.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DINFER_BUILD_DIR:-$root/build}
cmake --build "$build" --target dinfer-docs
mkdir -p "$root/docs/generated"
cp "$build/docs/dialects/NNDialect.md" "$build/docs/dialects/DistDialect.md" "$build/docs/passes/DinferPasses.md" \
  "$root/docs/generated/"
echo "updated docs/generated/"
