// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// CHECK-LABEL: func.func @search_and_scan
func.func @search_and_scan(%x: tensor<2x16x64xf32>) -> (tensor<2x64xi32>, tensor<16x64xi32>, tensor<2x16x64xf32>, tensor<2x16xf32>, tensor<f32>) {
  // CHECK: nn.argmax %{{.*}} {axis = 1 : i64} : tensor<2x16x64xf32>
  %0 = nn.argmax %x {axis = 1 : i64} : tensor<2x16x64xf32>
  // CHECK: nn.argmin %{{.*}} {axis = 0 : i64, select_last_index = true} : tensor<2x16x64xf32>
  %1 = nn.argmin %x {axis = 0 : i64, select_last_index = true} : tensor<2x16x64xf32>
  // CHECK: nn.cumsum %{{.*}} {axis = -1 : i64, exclusive = true} : tensor<2x16x64xf32>
  %2 = nn.cumsum %x {axis = -1 : i64, exclusive = true} : tensor<2x16x64xf32>
  // CHECK: nn.reduce_min %{{.*}} {axis = array<i64: 2>} : tensor<2x16x64xf32>
  %3 = nn.reduce_min %x {axis = array<i64: 2>} : tensor<2x16x64xf32>
  // CHECK: nn.reduce_prod %{{.*}} : tensor<2x16x64xf32>
  %4 = nn.reduce_prod %x : tensor<2x16x64xf32>
  return %0, %1, %2, %3, %4 : tensor<2x64xi32>, tensor<16x64xi32>, tensor<2x16x64xf32>, tensor<2x16xf32>, tensor<f32>
}

// CHECK-LABEL: func.func @gathers_and_scatters
func.func @gathers_and_scatters(%x: tensor<4x5x6xf32>, %i: tensor<4x2x6xi64>, %nd: tensor<3x2xi64>, %u: tensor<3x6xf32>,
                                %e: tensor<4x2x6xf32>)
    -> (tensor<4x2x6xf32>, tensor<3x6xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>) {
  // CHECK: nn.gather_d %{{.*}}, %{{.*}} {dim = 1 : i64} : tensor<4x5x6xf32>, tensor<4x2x6xi64>
  %0 = nn.gather_d %x, %i {dim = 1 : i64} : tensor<4x5x6xf32>, tensor<4x2x6xi64>
  // CHECK: nn.gather_nd %{{.*}}, %{{.*}} : tensor<4x5x6xf32>, tensor<3x2xi64>
  %1 = nn.gather_nd %x, %nd : tensor<4x5x6xf32>, tensor<3x2xi64>
  // CHECK: nn.tensor_scatter_max %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x5x6xf32>, tensor<3x2xi64>, tensor<3x6xf32>
  %2 = nn.tensor_scatter_max %x, %nd, %u : tensor<4x5x6xf32>, tensor<3x2xi64>, tensor<3x6xf32>
  // CHECK: nn.tensor_scatter_elements %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<4x5x6xf32>, tensor<4x2x6xi64>, tensor<4x2x6xf32>
  %3 = nn.tensor_scatter_elements %x, %i, %e {axis = 1 : i64} : tensor<4x5x6xf32>, tensor<4x2x6xi64>, tensor<4x2x6xf32>
  // CHECK: nn.tensor_scatter_mul %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x5x6xf32>, tensor<3x2xi64>, tensor<3x6xf32>
  %4 = nn.tensor_scatter_mul %x, %nd, %u : tensor<4x5x6xf32>, tensor<3x2xi64>, tensor<3x6xf32>
  return %0, %1, %2, %3, %4 : tensor<4x2x6xf32>, tensor<3x6xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>, tensor<4x5x6xf32>
}

// CHECK-LABEL: func.func @pads
func.func @pads(%x: tensor<2x3x4xi64>) -> (tensor<2x5x3xi64>, tensor<2x3x8xi64>) {
  // Negative amounts crop.
  // CHECK: nn.pad %{{.*}} {paddings = array<i64: 0, 0, 1, 1, 0, -1>, value = 7.000000e+00 : f32} : tensor<2x3x4xi64>
  %0 = nn.pad %x {paddings = array<i64: 0, 0, 1, 1, 0, -1>, value = 7.0 : f32} : tensor<2x3x4xi64>
  // CHECK: nn.pad %{{.*}} {mode = "edge", paddings = array<i64: 0, 0, 0, 0, 2, 2>} : tensor<2x3x4xi64>
  %1 = nn.pad %x {paddings = array<i64: 0, 0, 0, 0, 2, 2>, mode = "edge"} : tensor<2x3x4xi64>
  return %0, %1 : tensor<2x5x3xi64>, tensor<2x3x8xi64>
}
