// RUN: dinfer-opt %s --dist-inference-pipeline="strategy=%S/Inputs/mlp-train.json device-num=4" 2>/dev/null \
// RUN:   | FileCheck %s
// RUN: dinfer-opt %s --dist-inference-pipeline="strategy=%S/Inputs/mlp-train.json device-num=4 split-ranks=false" \
// RUN:   2>/dev/null | FileCheck %s --check-prefix=PARTITIONED
// RUN: not dinfer-opt %s --dist-inference-pipeline="strategy=%S/Inputs/missing.json" -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MISSING

// The pipeline `dinfer export` runs, as one dinfer-opt pipeline: the MLP of
// dist-attach-strategy.mlir (trained dp 2 x tp 4 on 8 devices) for 4 devices
// becomes one function per rank, each with its column and row slices and one
// all_reduce of the row-parallel product.
// CHECK-LABEL: func.func @main_rank0
// CHECK-SAME: dist.rank = 0
// CHECK: dist.param "layer0.w1" {{.*}} : tensor<16x8xf32>
// CHECK: dist.param "layer0.w2" {{.*}} : tensor<8x16xf32>
// CHECK: dist.all_reduce {{.*}} sum {{.*}} {dist.group = array<i64: 0, 1, 2, 3>
// CHECK-LABEL: func.func @main_rank3
// CHECK-NOT: func.func @main(

// Without split-ranks: one partitioned program for every rank.
// PARTITIONED: func.func @main(
// PARTITIONED-SAME: dist.partitioned
// PARTITIONED-NOT: @main_rank

// MISSING: missing.json
module attributes {dist.device_num = 8 : i64} {
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w1 = dist.param "layer0.w1" : tensor<16x32xf32>
    %w2 = dist.param "layer0.w2" : tensor<32x16xf32>
    %b = dist.param "layer0.b" : tensor<16xf32>
    %h = nn.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x32xf32>
    %r = nn.relu %h : tensor<8x32xf32>
    %y = nn.matmul %r, %w2 : tensor<8x32xf32>, tensor<32x16xf32>
    %z = nn.add %y, %b : tensor<8x16xf32>, tensor<16xf32>
    return %z : tensor<8x16xf32>
  }
}
