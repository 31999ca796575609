// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<2x8x16x16xf32>) -> (tensor<2x8x16x16xf32>, tensor<2x8x16x16xf32>) {
  // CHECK: nn.softmax %{{.*}} : tensor<2x8x16x16xf32>
  %0 = nn.softmax %x : tensor<2x8x16x16xf32>
  // CHECK: nn.log_softmax %{{.*}} {axis = 1 : i64} : tensor<2x8x16x16xf32>
  %1 = nn.log_softmax %0 {axis = 1 : i64} : tensor<2x8x16x16xf32>
  return %0, %1 : tensor<2x8x16x16xf32>, tensor<2x8x16x16xf32>
}

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>,
                      %g2: tensor<16x64xf32>, %b2: tensor<16x64xf32>) -> (tensor<2x16x64xf32>, tensor<2x16x64xf32>) {
  // CHECK: nn.layer_norm %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>
  %0 = nn.layer_norm %x, %g, %b : tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>
  // CHECK: nn.layer_norm {{.*}} {begin_norm_axis = 1 : i64, begin_params_axis = 1 : i64, epsilon = 9.99999974E-6 : f32}
  %1 = nn.layer_norm %0, %g2, %b2 {begin_norm_axis = 1 : i64, begin_params_axis = 1 : i64, epsilon = 1.0e-5 : f32}
      : tensor<2x16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>
  return %0, %1 : tensor<2x16x64xf32>, tensor<2x16x64xf32>
}

// CHECK-LABEL: func.func @rms_norm
func.func @rms_norm(%x: tensor<2x16x64xbf16>, %g: tensor<64xbf16>) -> tensor<2x16x64xbf16> {
  // CHECK: nn.rms_norm %{{.*}}, %{{.*}} : tensor<2x16x64xbf16>, tensor<64xbf16>
  %0 = nn.rms_norm %x, %g : tensor<2x16x64xbf16>, tensor<64xbf16>
  return %0 : tensor<2x16x64xbf16>
}

// CHECK-LABEL: func.func @batch_norm
func.func @batch_norm(%x: tensor<2x3x8x8xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>,
                      %v: tensor<3xf32>) -> tensor<2x3x8x8xf32> {
  // CHECK: nn.batch_norm {{.*}} : tensor<2x3x8x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  %0 = nn.batch_norm %x, %s, %b, %m, %v : tensor<2x3x8x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  return %0 : tensor<2x3x8x8xf32>
}
