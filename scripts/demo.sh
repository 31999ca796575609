#!/usr/bin/env bash
# The main job on the bundled example. For now: the slice table of the
# MindSpore docs sample (examples/docs-sample/): 8 devices, a MatMul weight
# [96,16] trained with strategy ((2,1),(1,4)), which the strategy file stores
# as dev_matrix [2,4] and tensor_map [-1,0].
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DINFER_BUILD_DIR:-$root/build}

"$root/scripts/build.sh" >&2

example="$root/examples/docs-sample/layout.env"
# shellcheck source=/dev/null
source "$example"
echo "== $DESCRIPTION"
echo "\$ dinfer slices --shape $SHAPE --dev-matrix $DEV_MATRIX --tensor-map $TENSOR_MAP"
"$build/bin/dinfer" slices --shape "$SHAPE" --dev-matrix "$DEV_MATRIX" --tensor-map "$TENSOR_MAP"
