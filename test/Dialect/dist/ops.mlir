// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// The docs sample: MatMul ((2,1),(1,4)) on 8 devices, weight [96,16].
// CHECK: module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 1 : i64}
module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 1 : i64} {
  // CHECK-LABEL: func.func @docs_sample
  // CHECK-SAME: (%{{.*}}: tensor<128x96xf32> {dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, -1]>})
  // CHECK-SAME: -> (tensor<128x16xf32> {dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, 0]>})
  func.func @docs_sample(%x: tensor<128x96xf32> {dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, -1]>})
      -> (tensor<128x16xf32> {dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, 0]>}) {
    // CHECK: dist.param "matmul_weight" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>} : tensor<96x16xf32>
    %w = dist.param "matmul_weight" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>} : tensor<96x16xf32>
    %y = nn.matmul %x, %w : tensor<128x96xf32>, tensor<96x16xf32>
    // CHECK: dist.annotate %{{.*}} layout <dev_matrix = [2, 4], tensor_map = [1, 0]> : tensor<128x16xf32>
    %z = dist.annotate %y layout <dev_matrix = [2, 4], tensor_map = [1, 0]> : tensor<128x16xf32>
    return %z : tensor<128x16xf32>
  }

  // A parameter without a layout, and an optimizer-sharded one.
  // CHECK-LABEL: func.func @params
  func.func @params() -> (tensor<16xf32>, tensor<2560x2560xf16>) {
    // CHECK: dist.param "bias" : tensor<16xf32>
    %b = dist.param "bias" : tensor<16xf32>
    // A part of a packed projection, and a rank's slice of all three parts.
    // CHECK: dist.param "in_proj" {offset = array<i64: 0, 64>} : tensor<64x64xf32>
    %k = dist.param "in_proj" {offset = array<i64: 0, 64>} : tensor<64x64xf32>
    // CHECK: dist.param "in_proj" {layout = #dist.layout<dev_matrix = [4], tensor_map = [-1, 0]>, local, parts = #dist.parts<dim = 1, sizes = [64, 32, 32], layouts = [<dev_matrix = [4], tensor_map = [-1, 0]>, <dev_matrix = [2, 2], tensor_map = [-1, 1]>, <dev_matrix = [2, 2], tensor_map = [-1, 1]>]>} : tensor<64x48xf32>
    %qkv = dist.param "in_proj" {layout = #dist.layout<dev_matrix = [4], tensor_map = [-1, 0]>, local, parts = #dist.parts<dim = 1, sizes = [64, 32, 32], layouts = [<dev_matrix = [4], tensor_map = [-1, 0]>, <dev_matrix = [2, 2], tensor_map = [-1, 1]>, <dev_matrix = [2, 2], tensor_map = [-1, 1]>]>} : tensor<64x48xf32>
    // CHECK: dist.param "dense.weight" {layout = #dist.layout<dev_matrix = [4, 2], tensor_map = [0, -1], opt_shard_step = 2, opt_shard_size = 2>} : tensor<2560x2560xf16>
    %w = dist.param "dense.weight" {layout = #dist.layout<dev_matrix = [4, 2], tensor_map = [0, -1], opt_shard_step = 2, opt_shard_size = 2>} : tensor<2560x2560xf16>
    return %b, %w : tensor<16xf32>, tensor<2560x2560xf16>
  }

  // A layout as an op's discardable attribute describes its result.
  // CHECK-LABEL: func.func @result_layout
  func.func @result_layout(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
    // CHECK: nn.relu %{{.*}} {dist.layout = #dist.layout<dev_matrix = [8], tensor_map = [0, -1]>} : tensor<8x8xf32>
    %y = nn.relu %x {dist.layout = #dist.layout<dev_matrix = [8], tensor_map = [0, -1]>} : tensor<8x8xf32>
    return %y : tensor<8x8xf32>
  }
}

// A parameter after partitioning: this rank's slice, with the layout it is a slice of.
// CHECK-LABEL: func.func @local_param
// CHECK: dist.param "w" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>, local} : tensor<96x4xf32>
func.func @local_param() -> tensor<96x4xf32> {
  %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>, local} : tensor<96x4xf32>
  return %w : tensor<96x4xf32>
}
