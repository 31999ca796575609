// RUN: dinfer-opt %s --split-input-file --dist-propagate --dist-partition | FileCheck %s

// The Megatron MLP on 8 devices (dp 2 x tp 4) as one program per rank: local
// shapes, parameters as references to the slices they need, exactly one
// all_reduce for the column/row pair, the batch re-split for the bias op's
// device matrix, and the output gathered whole.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.*]]: tensor<4x16xf32> {dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, -1]>}) -> tensor<8x16xf32>
// CHECK-SAME: attributes {dist.partitioned}
// CHECK: dist.param "w1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>, local} : tensor<16x8xf32>
// CHECK: dist.param "w2" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, -1]>, local} : tensor<8x16xf32>
// CHECK: nn.matmul %[[X]], %{{.*}} : tensor<4x16xf32>, tensor<16x8xf32>
// CHECK: %[[P:.*]] = nn.matmul %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>
// CHECK-NEXT: %[[S:.*]] = dist.all_reduce %[[P]] sum axes = [0] dev_matrix = <[2, 4]> : tensor<4x16xf32>
// CHECK-NEXT: %[[G:.*]] = dist.all_gather %[[S]] axes = [1] dim = 0 dev_matrix = <[2, 4]> : tensor<4x16xf32>
// CHECK-NEXT: %[[L:.*]] = dist.local_split %[[G]] axes = [0] dim = 0 dev_matrix = <[4, 2]> : tensor<8x16xf32>
// CHECK-NEXT: %[[B:.*]] = nn.add %[[L]], %{{.*}} : tensor<4x16xf32>, tensor<16xf32>
// CHECK-NEXT: %[[W:.*]] = dist.all_gather %[[B]] axes = [0] dim = 0 dev_matrix = <[4, 2]> : tensor<4x16xf32>
// CHECK-NEXT: return %[[W]] : tensor<8x16xf32>
// CHECK-NOT: dist.strategy
module attributes {dist.device_num = 8 : i64} {
  func.func @mlp(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w1 = dist.param "w1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>} : tensor<16x32xf32>
    %b1 = dist.param "b1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0]>} : tensor<32xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, -1]>} : tensor<32x16xf32>
    %b2 = dist.param "b2" : tensor<16xf32>
    %h = nn.matmul %x, %w1 {dist.strategy = [array<i64: 2, 1>, array<i64: 1, 4>]} : tensor<8x16xf32>, tensor<16x32xf32>
    %hb = nn.add %h, %b1 {dist.strategy = [array<i64: 2, 4>, array<i64: 4>]} : tensor<8x32xf32>, tensor<32xf32>
    %r = nn.relu %hb : tensor<8x32xf32>
    %y = nn.matmul %r, %w2 {dist.strategy = [array<i64: 2, 4>, array<i64: 4, 1>]} : tensor<8x32xf32>, tensor<32x16xf32>
    %z = nn.add %y, %b2 {dist.strategy = [array<i64: 2, 1>, array<i64: 1>]} : tensor<8x16xf32>, tensor<16xf32>
    return %z : tensor<8x16xf32>
  }
}

// -----

// Heads split two ways: the reshape into heads gets its local shape, the
// per-head products need no collective, the row-parallel projection one.
// CHECK-LABEL: func.func @heads
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 16, 2, 8>} : tensor<16x16xf32>
// CHECK-NOT: dist.all
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 16, 16>} : tensor<16x2x8xf32>
// CHECK: nn.matmul
// CHECK-NEXT: dist.all_reduce %{{.*}} sum axes = [0] dev_matrix = <[2]> : tensor<16x32xf32>
// CHECK-NEXT: return
module attributes {dist.device_num = 2 : i64} {
  func.func @heads(%x: tensor<16x32xf32>) -> tensor<16x32xf32> {
    %wq = dist.param "wq" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<32x32xf32>
    %wo = dist.param "wo" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>} : tensor<32x32xf32>
    %q = nn.matmul %x, %wq {dist.strategy = [array<i64: 1, 1>, array<i64: 1, 2>]} : tensor<16x32xf32>, tensor<32x32xf32>
    %h = nn.reshape %q {shape = array<i64: 16, 4, 8>} : tensor<16x32xf32>
    %t = nn.transpose %h {perm = array<i64: 1, 0, 2>} : tensor<16x4x8xf32>
    %s = nn.batch_matmul %t, %t {transpose_b = true} : tensor<4x16x8xf32>, tensor<4x16x8xf32>
    %p = nn.softmax %s : tensor<4x16x16xf32>
    %a = nn.batch_matmul %p, %t : tensor<4x16x16xf32>, tensor<4x16x8xf32>
    %u = nn.transpose %a {perm = array<i64: 1, 0, 2>} : tensor<4x16x8xf32>
    %m = nn.reshape %u {shape = array<i64: 16, 32>} : tensor<16x4x8xf32>
    %o = nn.matmul %m, %wo {dist.strategy = [array<i64: 1, 2>, array<i64: 2, 1>]} : tensor<16x32xf32>, tensor<32x32xf32>
    return %o : tensor<16x32xf32>
  }
}
