// RUN: dinfer-opt %s --split-input-file --dist-propagate | FileCheck %s

// A Megatron MLP on 8 devices (dp 2 x tp 4): column-parallel product, its
// split bias and the relu keep the split; the row-parallel product leaves a
// pending sum over the tp axis, resolved once, before the bias that is not
// split (which keeps the batch on the dp axis, where the products have it);
// the output is gathered whole for the return.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, -1]>
// CHECK-NOT: dist.annotate
// CHECK: nn.matmul {{.*}}dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, 0]>
// CHECK-NEXT: nn.add {{.*}}dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, 0]>
// CHECK-NEXT: nn.relu {{.*}}dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, 0]>
// CHECK-NEXT: %[[ROW:.*]] = nn.matmul {{.*}}dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, -1], partial = [0]>
// CHECK-NEXT: %[[SUM:.*]] = dist.annotate %[[ROW]] layout <dev_matrix = [2, 4], tensor_map = [1, -1]>
// CHECK-NEXT: %[[OUT:.*]] = nn.add %[[SUM]]
// CHECK-NEXT: %[[WHOLE:.*]] = dist.annotate %[[OUT]] layout <dev_matrix = [8], tensor_map = [-1, -1]>
// CHECK-NEXT: return %[[WHOLE]]
// One resharding of the pending sum for the layer pair, and the final gather.
module attributes {dist.device_num = 8 : i64} {
  func.func @mlp(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w1 = dist.param "w1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>} : tensor<16x32xf32>
    %b1 = dist.param "b1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0]>} : tensor<32xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, -1]>} : tensor<32x16xf32>
    %b2 = dist.param "b2" : tensor<16xf32>
    %h = nn.matmul %x, %w1 {dist.strategy = #dist.strategy<[2, 1], [1, 4]>} : tensor<8x16xf32>, tensor<16x32xf32>
    %hb = nn.add %h, %b1 {dist.strategy = #dist.strategy<[2, 4], [4]>} : tensor<8x32xf32>, tensor<32xf32>
    %r = nn.relu %hb : tensor<8x32xf32>
    %y = nn.matmul %r, %w2 {dist.strategy = #dist.strategy<[2, 4], [4, 1]>} : tensor<8x32xf32>, tensor<32x16xf32>
    %z = nn.add %y, %b2 {dist.strategy = #dist.strategy<[2, 1], [1]>} : tensor<8x16xf32>, tensor<16xf32>
    return %z : tensor<8x16xf32>
  }
}

// -----

// Heads split by a column-parallel projection stay split through the reshape
// into heads, the transpose and the per-head products: no resharding inside
// the heads, only the gather of the result.
// CHECK-LABEL: func.func @heads
// CHECK: nn.reshape {{.*}}dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0, -1]>
// CHECK: nn.transpose {{.*}}dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1, -1]>
// CHECK: nn.batch_matmul {{.*}}dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1, -1]>
// CHECK-NOT: dist.annotate
// CHECK: nn.softmax {{.*}}dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1, -1]>
// CHECK-NEXT: dist.annotate {{.*}} layout <dev_matrix = [2], tensor_map = [-1, -1, -1]>
// CHECK-NEXT: return
module attributes {dist.device_num = 2 : i64} {
  func.func @heads(%x: tensor<16x32xf32>) -> tensor<4x16x16xf32> {
    %wq = dist.param "wq" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<32x32xf32>
    %q = nn.matmul %x, %wq {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<16x32xf32>, tensor<32x32xf32>
    %h = nn.reshape %q {shape = array<i64: 16, 4, 8>} : tensor<16x32xf32>
    %t = nn.transpose %h {perm = array<i64: 1, 0, 2>} : tensor<16x4x8xf32>
    %s = nn.batch_matmul %t, %t {transpose_b = true} : tensor<4x16x8xf32>, tensor<4x16x8xf32>
    %p = nn.softmax %s : tensor<4x16x16xf32>
    return %p : tensor<4x16x16xf32>
  }
}


// -----

// Two products want the same reshard of one value (its batch gathered): one
// dist.annotate serves both, so the partitioner issues one all_gather.
// CHECK-LABEL: func.func @shared_reshard
// CHECK: %[[R:.*]] = nn.relu
// CHECK-NEXT: %[[G:.*]] = dist.annotate %[[R]] layout <dev_matrix = [2], tensor_map = [-1, -1]>
// CHECK-NEXT: nn.matmul %[[G]]
// CHECK-NEXT: nn.matmul %[[G]]
// CHECK-NOT: dist.annotate %[[R]]
module attributes {dist.device_num = 2 : i64} {
  func.func @shared_reshard(%x: tensor<8x16xf32> {dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>}) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
    %w1 = dist.param "w1" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<16x16xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<16x16xf32>
    %r = nn.relu %x : tensor<8x16xf32>
    %a = nn.matmul %r, %w1 {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<8x16xf32>, tensor<16x16xf32>
    %b = nn.matmul %r, %w2 {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<8x16xf32>, tensor<16x16xf32>
    return %a, %b : tensor<8x16xf32>, tensor<8x16xf32>
  }
}
