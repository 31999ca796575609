#!/usr/bin/env bash
# The main job on the bundled examples: the slice table of the
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

# The bundled torch MLP (test/models/mlp): a Megatron training strategy for 8
# devices, its predict layout on 4, and a run of the model on this machine
# against torch's own output.
model="$root/test/models/mlp"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo
echo "== the torch MLP: a training strategy for 8 devices (tensor parallel 4), the predict layout on 4"
echo "\$ dinfer strategy --model mlp/model.onnx --device-num 8 --preset megatron:tp=4 -o train.json"
"$build/bin/dinfer" strategy --model "$model/model.onnx" --device-num 8 --preset megatron:tp=4 -o "$work/train.json"
echo "\$ dinfer layout --model mlp/model.onnx --train-strategy train.json --input x=8,64 --device-num 4"
"$build/bin/dinfer" layout --model "$model/model.onnx" --train-strategy "$work/train.json" --input x=8,64 --device-num 4
echo
echo "== the same model run here, compared with torch's output"
echo "\$ dinfer run mlp/model.onnx --input x=x.npy --expect y=y.npy --repeat 20"
"$build/bin/dinfer" run "$model/model.onnx" --input "x=$model/x.npy" --expect "y=$model/y.npy" --repeat 20 \
  --output-dir "$work/out"
