// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// CHECK-LABEL: func.func @reshape_transpose
func.func @reshape_transpose(%x: tensor<2x16x64xf32>) -> (tensor<2x16x8x8xf32>, tensor<2x8x16x8xf32>, tensor<32x64xf32>) {
  // CHECK: nn.reshape %{{.*}} {shape = array<i64: 2, 16, 8, 8>} : tensor<2x16x64xf32>
  %0 = nn.reshape %x {shape = array<i64: 2, 16, 8, 8>} : tensor<2x16x64xf32>
  // CHECK: nn.transpose %{{.*}} {perm = array<i64: 0, 2, 1, 3>} : tensor<2x16x8x8xf32>
  %1 = nn.transpose %0 {perm = array<i64: 0, 2, 1, 3>} : tensor<2x16x8x8xf32>
  // A -1 takes what the element count leaves.
  // CHECK: nn.reshape %{{.*}} {shape = array<i64: -1, 64>}
  %2 = nn.reshape %x {shape = array<i64: -1, 64>} : tensor<2x16x64xf32>
  return %0, %1, %2 : tensor<2x16x8x8xf32>, tensor<2x8x16x8xf32>, tensor<32x64xf32>
}

// CHECK-LABEL: func.func @expand_squeeze_flatten
func.func @expand_squeeze_flatten(%x: tensor<4x1x8xf32>, %img: tensor<2x3x4x5xf32>)
    -> (tensor<4x1x8x1xf32>, tensor<1x4x1x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x60xf32>, tensor<6x20xf32>) {
  // CHECK: nn.expand_dims %{{.*}} {axis = -1 : i64}
  %0 = nn.expand_dims %x {axis = -1 : i64} : tensor<4x1x8xf32>
  // CHECK: nn.expand_dims %{{.*}} {axis = 0 : i64}
  %1 = nn.expand_dims %x {axis = 0 : i64} : tensor<4x1x8xf32>
  // CHECK: nn.squeeze %{{.*}} : tensor<4x1x8xf32>
  %2 = nn.squeeze %x : tensor<4x1x8xf32>
  // CHECK: nn.squeeze %{{.*}} {axis = array<i64: 1>}
  %3 = nn.squeeze %x {axis = array<i64: 1>} : tensor<4x1x8xf32>
  // CHECK: nn.flatten %{{.*}} : tensor<2x3x4x5xf32>
  %4 = nn.flatten %img : tensor<2x3x4x5xf32>
  // CHECK: nn.flatten %{{.*}} {axis = 2 : i64}
  %5 = nn.flatten %img {axis = 2 : i64} : tensor<2x3x4x5xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<4x1x8x1xf32>, tensor<1x4x1x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x60xf32>, tensor<6x20xf32>
}

// CHECK-LABEL: func.func @concat_split
func.func @concat_split(%a: tensor<4x8xf32>, %b: tensor<4x24xf32>) -> (tensor<4x32xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  // CHECK: nn.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<4x8xf32>, tensor<4x24xf32>
  %0 = nn.concat %a, %b {axis = 1 : i64} : tensor<4x8xf32>, tensor<4x24xf32>
  // CHECK: nn.split %{{.*}} {axis = -1 : i64, output_num = 2 : i64} : tensor<4x32xf32>
  %1:2 = nn.split %0 {axis = -1 : i64, output_num = 2 : i64} : tensor<4x32xf32>
  return %0, %1#0, %1#1 : tensor<4x32xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// CHECK-LABEL: func.func @strided_slice
func.func @strided_slice(%x: tensor<10x8x6xf32>) -> (tensor<4x8x6xf32>, tensor<5x8xf32>, tensor<10x3x6xf32>, tensor<3x8x6xf32>) {
  // CHECK: nn.strided_slice %{{.*}} {begin = array<i64: 2>, end = array<i64: 6>, strides = array<i64: 1>}
  %0 = nn.strided_slice %x {begin = array<i64: 2>, end = array<i64: 6>, strides = array<i64: 1>} : tensor<10x8x6xf32>
  // Every other row, all columns, one element of the last dimension (shrunk).
  // CHECK: nn.strided_slice %{{.*}} {begin = array<i64: 0, 0, 3>, end = array<i64: 10, 8, 4>, shrink_axis_mask = 4 : i64, strides = array<i64: 2, 1, 1>}
  %1 = nn.strided_slice %x {begin = array<i64: 0, 0, 3>, end = array<i64: 10, 8, 4>, strides = array<i64: 2, 1, 1>, shrink_axis_mask = 4 : i64} : tensor<10x8x6xf32>
  // Negative stride with masks: x[:, ::-3].
  // CHECK: nn.strided_slice %{{.*}} {begin = array<i64: 0, 0>, begin_mask = 3 : i64, end = array<i64: 0, 0>, end_mask = 3 : i64, strides = array<i64: 1, -3>}
  %2 = nn.strided_slice %x {begin = array<i64: 0, 0>, end = array<i64: 0, 0>, strides = array<i64: 1, -3>, begin_mask = 3 : i64, end_mask = 3 : i64} : tensor<10x8x6xf32>
  // Negative indices count from the end: x[-3:].
  // CHECK: nn.strided_slice %{{.*}} {begin = array<i64: -3>, end = array<i64: 100>, strides = array<i64: 1>}
  %3 = nn.strided_slice %x {begin = array<i64: -3>, end = array<i64: 100>, strides = array<i64: 1>} : tensor<10x8x6xf32>
  return %0, %1, %2, %3 : tensor<4x8x6xf32>, tensor<5x8xf32>, tensor<10x3x6xf32>, tensor<3x8x6xf32>
}

// CHECK-LABEL: func.func @gather
func.func @gather(%table: tensor<1000x64xf32>, %ids: tensor<2x16xi32>, %cols: tensor<3xi64>)
    -> (tensor<2x16x64xf32>, tensor<1000x3xf32>) {
  // CHECK: nn.gather %{{.*}}, %{{.*}} : tensor<1000x64xf32>, tensor<2x16xi32>
  %0 = nn.gather %table, %ids : tensor<1000x64xf32>, tensor<2x16xi32>
  // CHECK: nn.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<1000x64xf32>, tensor<3xi64>
  %1 = nn.gather %table, %cols {axis = 1 : i64} : tensor<1000x64xf32>, tensor<3xi64>
  return %0, %1 : tensor<2x16x64xf32>, tensor<1000x3xf32>
}

// CHECK-LABEL: func.func @embedding_lookup
func.func @embedding_lookup(%table: tensor<500x64xf32>, %ids: tensor<2x16xi32>, %offset: tensor<i64>)
    -> tensor<2x16x64xf32> {
  // CHECK: nn.embedding_lookup %{{.*}}, %{{.*}}, %{{.*}} : tensor<500x64xf32>, tensor<2x16xi32>, tensor<i64>
  %0 = nn.embedding_lookup %table, %ids, %offset : tensor<500x64xf32>, tensor<2x16xi32>, tensor<i64>
  return %0 : tensor<2x16x64xf32>
}

// CHECK-LABEL: func.func @broadcast_to
func.func @broadcast_to(%x: tensor<4x1xf32>) -> tensor<2x4x3xf32> {
  // New leading dimensions and size-1 ones grow.
  // CHECK: nn.broadcast_to %{{.*}} {shape = array<i64: 2, 4, 3>} : tensor<4x1xf32>
  %0 = nn.broadcast_to %x {shape = array<i64: 2, 4, 3>} : tensor<4x1xf32>
  return %0 : tensor<2x4x3xf32>
}

// CHECK-LABEL: func.func @tile
func.func @tile(%x: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // CHECK: nn.tile %{{.*}} {multiples = array<i64: 2, 1>} : tensor<2x3xf32>
  %0 = nn.tile %x {multiples = array<i64: 2, 1>} : tensor<2x3xf32>
  return %0 : tensor<4x3xf32>
}
