// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

module attributes {dist.device_num = 8 : i64} {
  // Result types are inferred: all_gather multiplies the gathered dimension by
  // the group size, reduce_scatter divides, all_to_all does both.
  // CHECK-LABEL: func.func @collectives
  func.func @collectives(%p: tensor<16x8xf32>, %x: tensor<96x4xf32>)
      -> (tensor<16x8xf32>, tensor<96x16xf32>, tensor<96x32xf32>, tensor<8x8xf32>, tensor<128x1xf32>, tensor<96x4xf32>) {
    // CHECK: dist.all_reduce %{{.*}} sum axes = [1] dev_matrix = <[2, 4]> : tensor<16x8xf32>
    %0 = dist.all_reduce %p sum axes = [1] dev_matrix = <[2, 4]> : tensor<16x8xf32>
    // CHECK: dist.all_gather %{{.*}} axes = [0] dim = 1 dev_matrix = <[2, 4]> : tensor<96x4xf32>
    %1 = dist.all_gather %x axes = [0] dim = 1 dev_matrix = <[2, 4]> : tensor<96x4xf32>
    // CHECK: dist.all_gather %{{.*}} axes = [1, 0] dim = 1 dev_matrix = <[2, 4]> : tensor<96x4xf32>
    %2 = dist.all_gather %x axes = [1, 0] dim = 1 dev_matrix = <[2, 4]> : tensor<96x4xf32>
    // CHECK: dist.reduce_scatter %{{.*}} max axes = [1] dim = 0 dev_matrix = <[2, 4]> : tensor<16x8xf32>
    %3 = dist.reduce_scatter %p max axes = [1] dim = 0 dev_matrix = <[2, 4]> : tensor<16x8xf32>
    // CHECK: dist.all_to_all %{{.*}} axes = [0] split_dim = 1 concat_dim = 0 dev_matrix = <[8]> : tensor<16x8xf32>
    %4 = dist.all_to_all %p axes = [0] split_dim = 1 concat_dim = 0 dev_matrix = <[8]> : tensor<16x8xf32>
    // CHECK: dist.broadcast %{{.*}} root = 3 axes = [0] dev_matrix = <[2, 4]> : tensor<96x4xf32>
    %5 = dist.broadcast %x root = 3 axes = [0] dev_matrix = <[2, 4]> : tensor<96x4xf32>
    return %0, %1, %2, %3, %4, %5 : tensor<16x8xf32>, tensor<96x16xf32>, tensor<96x32xf32>, tensor<8x8xf32>, tensor<128x1xf32>, tensor<96x4xf32>
  }

  // Every reduction kind.
  // CHECK-LABEL: func.func @reduce_kinds
  func.func @reduce_kinds(%p: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
    // CHECK: dist.all_reduce %{{.*}} min
    %0 = dist.all_reduce %p min axes = [0] dev_matrix = <[8]> : tensor<4xf32>
    // CHECK: dist.all_reduce %{{.*}} max
    %1 = dist.all_reduce %0 max axes = [0] dev_matrix = <[8]> : tensor<4xf32>
    // CHECK: dist.all_reduce %{{.*}} prod
    %2 = dist.all_reduce %1 prod axes = [0] dev_matrix = <[8]> : tensor<4xf32>
    return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  }
}

// -----

// CHECK-LABEL: func.func @local_split
// CHECK: dist.local_split %{{.*}} axes = [0] dim = 1 dev_matrix = <[2, 4]> : tensor<96x16xf32>
func.func @local_split(%x: tensor<96x16xf32>) -> tensor<96x4xf32> {
  %0 = dist.local_split %x axes = [0] dim = 1 dev_matrix = <[2, 4]> : tensor<96x16xf32>
  return %0 : tensor<96x4xf32>
}

// CHECK-LABEL: func.func @shard_offset
// CHECK: dist.shard_offset axes = [1, 0] dev_matrix = <[2, 2, 2]> piece = 250 : tensor<i64>
func.func @shard_offset() -> tensor<i64> {
  %0 = dist.shard_offset axes = [1, 0] dev_matrix = <[2, 2, 2]> piece = 250 : tensor<i64>
  return %0 : tensor<i64>
}
