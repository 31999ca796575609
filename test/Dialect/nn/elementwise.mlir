// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// CHECK-LABEL: func.func @unary
func.func @unary(%x: tensor<4x8xf32>, %i: tensor<4xi32>) -> (tensor<4x8xf32>, tensor<4xi32>) {
  // CHECK: nn.sqrt %{{.*}} : tensor<4x8xf32>
  %0 = nn.sqrt %x : tensor<4x8xf32>
  // CHECK: nn.neg %{{.*}} : tensor<4x8xf32>
  %1 = nn.neg %0 : tensor<4x8xf32>
  // CHECK: nn.exp
  %2 = nn.exp %1 : tensor<4x8xf32>
  // CHECK: nn.erf
  %3 = nn.erf %2 : tensor<4x8xf32>
  // CHECK: nn.tanh
  %4 = nn.tanh %3 : tensor<4x8xf32>
  // CHECK: nn.sigmoid
  %5 = nn.sigmoid %4 : tensor<4x8xf32>
  // CHECK: nn.relu
  %6 = nn.relu %5 : tensor<4x8xf32>
  // CHECK: nn.gelu %{{.*}} : tensor<4x8xf32>
  %7 = nn.gelu %6 : tensor<4x8xf32>
  // CHECK: nn.gelu %{{.*}} {approximate = "tanh"} : tensor<4x8xf32>
  %8 = nn.gelu %7 {approximate = "tanh"} : tensor<4x8xf32>
  // CHECK: nn.fast_gelu
  %9 = nn.fast_gelu %8 : tensor<4x8xf32>
  // CHECK: nn.silu
  %10 = nn.silu %9 : tensor<4x8xf32>
  // Integer operands are accepted where MindSpore accepts them.
  // CHECK: nn.neg %{{.*}} : tensor<4xi32>
  %11 = nn.neg %i : tensor<4xi32>
  // CHECK: nn.relu %{{.*}} : tensor<4xi32>
  %12 = nn.relu %11 : tensor<4xi32>
  return %10, %12 : tensor<4x8xf32>, tensor<4xi32>
}

// CHECK-LABEL: func.func @binary_broadcast
func.func @binary_broadcast(%a: tensor<2x1x8xf32>, %b: tensor<4x1xf32>, %c: tensor<f32>)
    -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x1x8xf32>) {
  // CHECK: nn.add %{{.*}}, %{{.*}} : tensor<2x1x8xf32>, tensor<4x1xf32>
  %0 = nn.add %a, %b : tensor<2x1x8xf32>, tensor<4x1xf32>
  // CHECK: nn.sub
  %1 = nn.sub %0, %b : tensor<2x4x8xf32>, tensor<4x1xf32>
  // CHECK: nn.mul
  %2 = nn.mul %b, %1 : tensor<4x1xf32>, tensor<2x4x8xf32>
  // CHECK: nn.div
  %3 = nn.div %2, %c : tensor<2x4x8xf32>, tensor<f32>
  // CHECK: nn.pow %{{.*}}, %{{.*}} : tensor<2x1x8xf32>, tensor<f32>
  %4 = nn.pow %a, %c : tensor<2x1x8xf32>, tensor<f32>
  return %0, %1, %2, %3, %4 : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x1x8xf32>
}

// CHECK-LABEL: func.func @select_and_cast
func.func @select_and_cast(%cond: tensor<4x1xi1>, %x: tensor<4x8xf32>, %y: tensor<8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf16>, tensor<4x8xi64>) {
  // CHECK: nn.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x1xi1>, tensor<4x8xf32>, tensor<8xf32>
  %0 = nn.select %cond, %x, %y : tensor<4x1xi1>, tensor<4x8xf32>, tensor<8xf32>
  // CHECK: nn.cast %{{.*}} to f16 : tensor<4x8xf32>
  %1 = nn.cast %0 to f16 : tensor<4x8xf32>
  // CHECK: nn.cast %{{.*}} to i64 : tensor<4x8xf16>
  %2 = nn.cast %1 to i64 : tensor<4x8xf16>
  return %0, %1, %2 : tensor<4x8xf32>, tensor<4x8xf16>, tensor<4x8xi64>
}

// CHECK-LABEL: func.func @comparison_and_logic
func.func @comparison_and_logic(%x: tensor<4x8xf32>, %y: tensor<8xf32>, %i: tensor<4x8xi64>)
    -> (tensor<4x8xi1>, tensor<4x8xf32>, tensor<4x8xi64>) {
  // CHECK: nn.less %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8xf32>
  %0 = nn.less %x, %y : tensor<4x8xf32>, tensor<8xf32>
  // CHECK: nn.isnan %{{.*}} : tensor<4x8xf32>
  %1 = nn.isnan %x : tensor<4x8xf32>
  // CHECK: nn.logical_or %{{.*}}, %{{.*}} : tensor<4x8xi1>, tensor<4x8xi1>
  %2 = nn.logical_or %0, %1 : tensor<4x8xi1>, tensor<4x8xi1>
  // CHECK: nn.logical_not %{{.*}} : tensor<4x8xi1>
  %3 = nn.logical_not %2 : tensor<4x8xi1>
  // CHECK: nn.maximum %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8xf32>
  %4 = nn.maximum %x, %y : tensor<4x8xf32>, tensor<8xf32>
  // CHECK: nn.mish
  %5 = nn.mish %4 : tensor<4x8xf32>
  // CHECK: nn.floor_mod %{{.*}}, %{{.*}} : tensor<4x8xi64>, tensor<4x8xi64>
  %6 = nn.floor_mod %i, %i : tensor<4x8xi64>, tensor<4x8xi64>
  return %3, %5, %6 : tensor<4x8xi1>, tensor<4x8xf32>, tensor<4x8xi64>
}
