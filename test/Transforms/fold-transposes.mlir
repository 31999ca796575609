// RUN: dinfer-opt %s --nn-fold-transposes --split-input-file | FileCheck %s

// Attention scores as torch exports them: q @ k.transpose(-1, -2). The
// transpose becomes the product's transpose_b; nothing copies the keys.
// CHECK-LABEL: func.func @scores
// CHECK-SAME: (%[[Q:.*]]: tensor<2x8x1x64xf32>, %[[K:.*]]: tensor<2x8x96x64xf32>)
// CHECK-NEXT: %[[S:.*]] = nn.batch_matmul %[[Q]], %[[K]] {transpose_b = true} : tensor<2x8x1x64xf32>, tensor<2x8x96x64xf32>
// CHECK-NEXT: return %[[S]]
func.func @scores(%q: tensor<2x8x1x64xf32>, %k: tensor<2x8x96x64xf32>) -> tensor<2x8x1x96xf32> {
  %kt = nn.transpose %k {perm = array<i64: 0, 1, 3, 2>} : tensor<2x8x96x64xf32>
  %s = nn.batch_matmul %q, %kt : tensor<2x8x1x64xf32>, tensor<2x8x64x96xf32>
  return %s : tensor<2x8x1x96xf32>
}

// -----

// Both operands, flags flipped (a transposed operand transposed back), and
// a transpose with another user stays for it.
// CHECK-LABEL: func.func @both
// CHECK: %[[AT:.*]] = nn.transpose %[[A:.*]] {perm = array<i64: 1, 0>}
// CHECK-NEXT: %[[P:.*]] = nn.matmul %[[A]], %[[B:.*]] {transpose_a = true} : tensor<8x4xf32>, tensor<8x6xf32>
// CHECK-NEXT: return %[[P]], %[[AT]]
func.func @both(%a: tensor<8x4xf32>, %b: tensor<8x6xf32>) -> (tensor<4x6xf32>, tensor<4x8xf32>) {
  %at = nn.transpose %a {perm = array<i64: 1, 0>} : tensor<8x4xf32>
  %bt = nn.transpose %b {perm = array<i64: 1, 0>} : tensor<8x6xf32>
  %p = nn.matmul %at, %bt {transpose_b = true} : tensor<4x8xf32>, tensor<6x8xf32>
  return %p, %at : tensor<4x6xf32>, tensor<4x8xf32>
}

// -----

// A permutation that moves other dimensions is not a matrix transpose.
// CHECK-LABEL: func.func @heads
// CHECK: nn.transpose
// CHECK: nn.batch_matmul %{{.*}}, %{{.*}} : tensor<2x4x8xf32>, tensor<2x8x4xf32>
func.func @heads(%x: tensor<2x4x8xf32>, %y: tensor<8x2x4xf32>) -> tensor<2x4x4xf32> {
  %yt = nn.transpose %y {perm = array<i64: 1, 0, 2>} : tensor<8x2x4xf32>
  %p = nn.batch_matmul %x, %yt : tensor<2x4x8xf32>, tensor<2x8x4xf32>
  return %p : tensor<2x4x4xf32>
}
