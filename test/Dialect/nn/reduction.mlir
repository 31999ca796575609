// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<2x16x64xf32>)
    -> (tensor<f32>, tensor<2x16xf32>, tensor<2x1x64xf32>, tensor<16xf32>, tensor<1x1x1xf32>) {
  // CHECK: nn.reduce_sum %{{.*}} : tensor<2x16x64xf32>
  %0 = nn.reduce_sum %x : tensor<2x16x64xf32>
  // CHECK: nn.reduce_mean %{{.*}} {axis = array<i64: -1>} : tensor<2x16x64xf32>
  %1 = nn.reduce_mean %x {axis = array<i64: -1>} : tensor<2x16x64xf32>
  // CHECK: nn.reduce_max %{{.*}} {axis = array<i64: 1>, keep_dims = true}
  %2 = nn.reduce_max %x {axis = array<i64: 1>, keep_dims = true} : tensor<2x16x64xf32>
  // CHECK: nn.reduce_sum %{{.*}} {axis = array<i64: 0, 2>}
  %3 = nn.reduce_sum %x {axis = array<i64: 0, 2>} : tensor<2x16x64xf32>
  // CHECK: nn.reduce_max %{{.*}} {keep_dims = true}
  %4 = nn.reduce_max %x {keep_dims = true} : tensor<2x16x64xf32>
  return %0, %1, %2, %3, %4 : tensor<f32>, tensor<2x16xf32>, tensor<2x1x64xf32>, tensor<16xf32>, tensor<1x1x1xf32>
}

// CHECK-LABEL: func.func @integer_sum
func.func @integer_sum(%x: tensor<4x5xi64>) -> tensor<5xi64> {
  // CHECK: nn.reduce_sum %{{.*}} {axis = array<i64: 0>} : tensor<4x5xi64>
  %0 = nn.reduce_sum %x {axis = array<i64: 0>} : tensor<4x5xi64>
  return %0 : tensor<5xi64>
}
