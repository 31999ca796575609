// RUN: dinfer-opt %s --split-input-file --dist-split-ranks | FileCheck %s

// Two stages of two ranks. Every rank gets its own function with its stage's
// ops; collectives name their global ranks; the local split becomes the
// slice of the rank's own piece; only the last stage returns the output.
// CHECK-LABEL: func.func @main_rank0
// CHECK-SAME: (%{{.*}}: tensor<4x16xf32> {dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, -1]>})
// CHECK-SAME: attributes {dist.partitioned, dist.rank = 0 : i64, dist.stage = 0 : i64}
// CHECK: dist.param "w1"
// CHECK-NOT: dist.param "w2"
// CHECK: nn.strided_slice %{{.*}} {begin = array<i64: 0, 0>, dist.stage = 0 : i64, end = array<i64: 4, 8>, strides = array<i64: 1, 1>} : tensor<4x16xf32>
// CHECK: dist.all_reduce %{{.*}} sum axes = [0] dev_matrix = <[2]> {dist.group = array<i64: 0, 1>, dist.stage = 0 : i64}
// CHECK: dist.send
// CHECK-NEXT: return{{$}}
// CHECK-LABEL: func.func @main_rank1
// CHECK: nn.strided_slice %{{.*}} {begin = array<i64: 0, 8>, dist.stage = 0 : i64, end = array<i64: 4, 16>, strides = array<i64: 1, 1>}
// CHECK: dist.group = array<i64: 0, 1>
// CHECK-LABEL: func.func @main_rank2
// CHECK-SAME: -> tensor<4x16xf32> attributes {dist.partitioned, dist.rank = 2 : i64, dist.stage = 1 : i64}
// CHECK-NOT: dist.param "w1"
// CHECK-NOT: nn.strided_slice
// CHECK: dist.recv
// CHECK: dist.all_gather %{{.*}} axes = [0] dim = 1 dev_matrix = <[2]> {dist.group = array<i64: 2, 3>, dist.stage = 1 : i64}
// CHECK: return %{{.*}} : tensor<4x16xf32>
// CHECK-LABEL: func.func @main_rank3
// CHECK: dist.group = array<i64: 2, 3>
// CHECK-NOT: func.func @main(
module attributes {dist.device_num = 4 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main(%x: tensor<4x16xf32> {dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, -1]>}) -> tensor<4x16xf32> attributes {dist.partitioned} {
    %w1 = dist.param "w1" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>, local, dist.stage = 0 : i64} : tensor<8x16xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0], stage = 1>, local, dist.stage = 1 : i64} : tensor<16x8xf32>
    %xs = dist.local_split %x axes = [0] dim = 1 dev_matrix = <[2]> {dist.stage = 0 : i64} : tensor<4x16xf32>
    %h = nn.matmul %xs, %w1 {dist.stage = 0 : i64} : tensor<4x8xf32>, tensor<8x16xf32>
    %s = dist.all_reduce %h sum axes = [0] dev_matrix = <[2]> {dist.stage = 0 : i64} : tensor<4x16xf32>
    dist.send %s to_stage = 1 sr_tag = 0 {dist.stage = 0 : i64} : tensor<4x16xf32>
    %r = dist.recv from_stage = 0 sr_tag = 0 {dist.stage = 1 : i64} : tensor<4x16xf32>
    %o = nn.matmul %r, %w2 {dist.stage = 1 : i64} : tensor<4x16xf32>, tensor<16x8xf32>
    %g = dist.all_gather %o axes = [0] dim = 1 dev_matrix = <[2]> {dist.stage = 1 : i64} : tensor<4x8xf32>
    return %g : tensor<4x16xf32>
  }
}

// -----

// One stage: every rank keeps every op.
// CHECK-LABEL: func.func @single_rank0
// CHECK: dist.all_reduce {{.*}}dist.group = array<i64: 0, 1, 2>
// CHECK: return
// CHECK-LABEL: func.func @single_rank2
// CHECK: dist.all_reduce {{.*}}dist.group = array<i64: 0, 1, 2>
module attributes {dist.device_num = 3 : i64} {
  func.func @single(%x: tensor<4x16xf32>) -> tensor<4x16xf32> attributes {dist.partitioned} {
    %s = dist.all_reduce %x sum axes = [0] dev_matrix = <[3]> : tensor<4x16xf32>
    return %s : tensor<4x16xf32>
  }
}

// -----

// A 3-D device matrix: groups over two axes at once are the ranks that
// differ only in those axes, major axis first; a non-splat constant's local
// split becomes the constant piece of the rank (rank 5 is at [1, 0, 1]:
// third in its group over axes 2 and 1, so piece 2 of 4).
// CHECK-LABEL: func.func @cube_rank5
// CHECK: dist.all_gather %{{.*}} axes = [2, 1] dim = 0 dev_matrix = <[2, 2, 2]> {dist.group = array<i64: 1, 3, 5, 7>}
// CHECK: arith.constant dense<{{\[\[}}4.000000e+00, 5.000000e+00]]> : tensor<1x2xf32>
// CHECK-NOT: dist.local_split
module attributes {dist.device_num = 8 : i64} {
  func.func @cube(%x: tensor<4x2xf32>) -> (tensor<16x2xf32>, tensor<1x2xf32>) attributes {dist.partitioned} {
    %g = dist.all_gather %x axes = [2, 1] dim = 0 dev_matrix = <[2, 2, 2]> : tensor<4x2xf32>
    %c = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]> : tensor<1x8xf32>
    %s = dist.local_split %c axes = [2, 1] dim = 1 dev_matrix = <[2, 2, 2]> : tensor<1x8xf32>
    return %g, %s : tensor<16x2xf32>, tensor<1x2xf32>
  }
}
