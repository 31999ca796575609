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
