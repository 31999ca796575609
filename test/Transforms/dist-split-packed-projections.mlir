// RUN: dinfer-opt %s --dist-split-packed-projections -split-input-file | FileCheck %s

// torch's nn.MultiheadAttention as its ONNX export reads: one product with the
// packed in_proj weight, the bias added, the features cut into thirds by
// slices (the end of a whole dimension written as INT64_MAX).
// CHECK-LABEL: func.func @in_proj
// CHECK: %[[WQ:.*]] = dist.param "in_proj_weight" {offset = array<i64: 0, 0>} : tensor<16x16xf32>
// CHECK: %[[Q:.*]] = nn.batch_matmul %arg0, %[[WQ]] : tensor<8x2x16xf32>, tensor<16x16xf32>
// CHECK: %[[BQ:.*]] = dist.param "in_proj_bias" {offset = array<i64: 0>} : tensor<16xf32>
// CHECK: %[[QB:.*]] = nn.add %[[BQ]], %[[Q]] : tensor<16xf32>, tensor<8x2x16xf32>
// CHECK: dist.param "in_proj_weight" {offset = array<i64: 0, 16>}
// CHECK: dist.param "in_proj_bias" {offset = array<i64: 16>}
// CHECK: %[[WV:.*]] = dist.param "in_proj_weight" {offset = array<i64: 0, 32>} : tensor<16x16xf32>
// CHECK: %[[V:.*]] = nn.batch_matmul %arg0, %[[WV]]
// CHECK: %[[BV:.*]] = dist.param "in_proj_bias" {offset = array<i64: 32>} : tensor<16xf32>
// CHECK: %[[VB:.*]] = nn.add %[[BV]], %[[V]]
// CHECK-NOT: nn.strided_slice
// CHECK: return %[[QB]], {{.*}}, %[[VB]]
func.func @in_proj(%x: tensor<8x2x16xf32>) -> (tensor<8x2x16xf32>, tensor<8x2x16xf32>, tensor<8x2x16xf32>) {
  %b = dist.param "in_proj_bias" : tensor<48xf32>
  %w = dist.param "in_proj_weight" : tensor<16x48xf32>
  %y = nn.batch_matmul %x, %w : tensor<8x2x16xf32>, tensor<16x48xf32>
  %z = nn.add %b, %y : tensor<48xf32>, tensor<8x2x48xf32>
  %q = nn.strided_slice %z {begin = array<i64: 0, 0, 0>, end = array<i64: 9223372036854775807, 9223372036854775807, 16>, strides = array<i64: 1, 1, 1>} : tensor<8x2x48xf32>
  %k = nn.strided_slice %z {begin = array<i64: 0, 0, 16>, end = array<i64: 9223372036854775807, 9223372036854775807, 32>, strides = array<i64: 1, 1, 1>} : tensor<8x2x48xf32>
  %v = nn.strided_slice %z {begin = array<i64: 0, 0, 32>, end = array<i64: 9223372036854775807, 9223372036854775807, 48>, strides = array<i64: 1, 1, 1>} : tensor<8x2x48xf32>
  return %q, %k, %v : tensor<8x2x16xf32>, tensor<8x2x16xf32>, tensor<8x2x16xf32>
}

// -----

// Fused QKV of grouped-query attention (4 query heads, 2 KV heads of 4):
// unequal parts of a weight stored transposed, cut by slices (one counting
// from the end); a fused gate/up weight cut by an equal split.
// CHECK-LABEL: func.func @gqa_transposed
// CHECK: dist.param "qkv" {offset = array<i64: 0, 0>} : tensor<16x16xf32>
// CHECK: nn.matmul %arg0, %{{.*}} {transpose_b = true} : tensor<4x16xf32>, tensor<16x16xf32>
// CHECK: dist.param "qkv" {offset = array<i64: 16, 0>} : tensor<8x16xf32>
// CHECK: nn.matmul %arg0, %{{.*}} {transpose_b = true} : tensor<4x16xf32>, tensor<8x16xf32>
// CHECK: dist.param "qkv" {offset = array<i64: 24, 0>} : tensor<8x16xf32>
// CHECK: nn.matmul %arg0, %{{.*}} {transpose_b = true} : tensor<4x16xf32>, tensor<8x16xf32>
func.func @gqa_transposed(%x: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %w = dist.param "qkv" : tensor<32x16xf32>
  %y = nn.matmul %x, %w {transpose_b = true} : tensor<4x16xf32>, tensor<32x16xf32>
  %q = nn.strided_slice %y {begin = array<i64: 0, 0>, end = array<i64: 4, 16>, strides = array<i64: 1, 1>} : tensor<4x32xf32>
  %k = nn.strided_slice %y {begin = array<i64: 0, 16>, end = array<i64: 4, 24>, strides = array<i64: 1, 1>} : tensor<4x32xf32>
  %v = nn.strided_slice %y {begin = array<i64: 0, -8>, end = array<i64: 4, 32>, strides = array<i64: 1, 1>, end_mask = 1} : tensor<4x32xf32>
  return %q, %k, %v : tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @gate_up
// CHECK-DAG: dist.param "gate_up" {offset = array<i64: 0, 0>} : tensor<16x32xf32>
// CHECK-DAG: dist.param "gate_up" {offset = array<i64: 0, 32>} : tensor<16x32xf32>
// CHECK-NOT: nn.split
func.func @gate_up(%x: tensor<4x16xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
  %w = dist.param "gate_up" : tensor<16x64xf32>
  %y = nn.matmul %x, %w : tensor<4x16xf32>, tensor<16x64xf32>
  %g:2 = nn.split %y {axis = -1 : i64, output_num = 2 : i64} : tensor<4x64xf32>
  return %g#0, %g#1 : tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// Left alone: a user that is not a slice of the features, slices that leave
// a gap, a product whose weight is already laid out, and a packed product
// whose weight another product reads whole (the tensor has one layout).
// CHECK-LABEL: func.func @not_packed
// CHECK-COUNT-5: nn.matmul
// CHECK-NOT: offset
func.func @not_packed(%x: tensor<4x16xf32>) -> (tensor<4x32xf32>, tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x32xf32>) {
  %w = dist.param "w" : tensor<16x32xf32>
  %y = nn.matmul %x, %w : tensor<4x16xf32>, tensor<16x32xf32>
  %a = nn.strided_slice %y {begin = array<i64: 0, 0>, end = array<i64: 4, 16>, strides = array<i64: 1, 1>} : tensor<4x32xf32>
  %w2 = dist.param "w2" : tensor<16x32xf32>
  %y2 = nn.matmul %x, %w2 : tensor<4x16xf32>, tensor<16x32xf32>
  %b = nn.strided_slice %y2 {begin = array<i64: 0, 0>, end = array<i64: 4, 8>, strides = array<i64: 1, 1>} : tensor<4x32xf32>
  %w3 = dist.param "w3" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<16x32xf32>
  %y3 = nn.matmul %x, %w3 : tensor<4x16xf32>, tensor<16x32xf32>
  %c = nn.strided_slice %y3 {begin = array<i64: 0, 0>, end = array<i64: 4, 16>, strides = array<i64: 1, 1>} : tensor<4x32xf32>
  %d = nn.strided_slice %y3 {begin = array<i64: 0, 16>, end = array<i64: 4, 32>, strides = array<i64: 1, 1>} : tensor<4x32xf32>
  %w4 = dist.param "w4" : tensor<16x32xf32>
  %y4 = nn.matmul %x, %w4 : tensor<4x16xf32>, tensor<16x32xf32>
  %e = nn.strided_slice %y4 {begin = array<i64: 0, 0>, end = array<i64: 4, 16>, strides = array<i64: 1, 1>} : tensor<4x32xf32>
  %f = nn.strided_slice %y4 {begin = array<i64: 0, 16>, end = array<i64: 4, 32>, strides = array<i64: 1, 1>} : tensor<4x32xf32>
  %g = nn.matmul %x, %w4 : tensor<4x16xf32>, tensor<16x32xf32>
  return %y, %a, %b, %d, %e, %f, %g : tensor<4x32xf32>, tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x32xf32>
}
