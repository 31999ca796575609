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

# The seed's whole flow on the bundled torch GPT block (test/models/gpt_block):
# a training run on 8 devices (2 pipeline stages, tensor parallel 2, data
# parallel 2, optimizer sharding) leaves a strategy file and one checkpoint per
# rank; inference on 4 devices gets its predict layout, one MindIR per rank,
# a run of all ranks, and a check against the single-device run.
d="$build/bin/dinfer"
model="$root/test/models/gpt_block"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { echo; echo "\$ $*"; }
echo
echo "== the torch GPT block: trained on 8 devices, exported for 4"
step dinfer convert gpt_block/model.onnx full.mindir --weights full.ckpt
"$d" convert "$model/model.onnx" "$work/full.mindir" --weights "$work/full.ckpt"
step dinfer strategy --model gpt_block/model.onnx --device-num 8 --pipeline-stages 2 --preset megatron:tp=2,opt-shard -o train.json
"$d" strategy --model "$model/model.onnx" --device-num 8 --pipeline-stages 2 --preset megatron:tp=2,opt-shard \
  -o "$work/train.json"
step dinfer reshard --src full.ckpt --src-strategy none --dst-strategy train.json --dst train
"$d" reshard --src "$work/full.ckpt" --src-strategy none --dst-strategy "$work/train.json" --dst "$work/train"
step dinfer layout --model gpt_block/model.onnx --train-strategy train.json --input x=2,32,128 --device-num 4
"$d" layout --model "$model/model.onnx" --train-strategy "$work/train.json" --input x=2,32,128 --device-num 4
step dinfer export --model gpt_block/model.onnx --train-strategy train.json --ckpt-dir train --input x=2,32,128 --device-num 4 --report -o out
"$d" export --model "$model/model.onnx" --train-strategy "$work/train.json" --ckpt-dir "$work/train" \
  --input x=2,32,128 --device-num 4 --report -o "$work/out"
cp "$work/out/report.html" "$build/demo-report.html"
echo "the partition drawn as one page: $build/demo-report.html (open it in a browser)"
step dinfer inspect out/rank_0/net.mindir
"$d" inspect "$work/out/rank_0/net.mindir" | tail -1
step dinfer run gpt_block/model.onnx --input x=x.npy --output-dir single
"$d" run "$model/model.onnx" --input "x=$model/x.npy" --output-dir "$work/single"
step dinfer run out --input x=x.npy --expect y=single/y.npy --output-dir distributed
"$d" run "$work/out" --input "x=$model/x.npy" --expect "y=$work/single/y.npy" --output-dir "$work/distributed"
step dinfer run out --input x=x.npy --expect y=torch/y.npy
"$d" run "$work/out" --input "x=$model/x.npy" --expect "y=$model/y.npy" --output-dir "$work/distributed"
echo
echo "== summary: 8 training ranks (2 stages) -> 4 inference ranks (2 stages): the distributed run equals the"
echo "   single-device run and torch's output within float32 tolerance"
