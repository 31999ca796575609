// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @reduce_axis_range(%x: tensor<2x16x64xf32>) {
  // expected-error @+1 {{'nn.reduce_sum' op axis 3 is out of range for rank 3}}
  %0 = nn.reduce_sum %x {axis = array<i64: 3>} : tensor<2x16x64xf32>
  return
}

// -----

func.func @reduce_axis_twice(%x: tensor<2x16x64xf32>) {
  // expected-error @+1 {{'nn.reduce_mean' op axis lists dimension 2 twice}}
  %0 = nn.reduce_mean %x {axis = array<i64: 2, -1>} : tensor<2x16x64xf32>
  return
}

// -----

func.func @reduce_result(%x: tensor<2x16x64xf32>) {
  // expected-error @+2 {{'nn.reduce_max' op failed to infer returned types}}
  // expected-error @+1 {{'nn.reduce_max' op inferred type(s) 'tensor<2x1x64xf32>' are incompatible with return type(s) of operation 'tensor<2x64xf32>'}}
  %0 = "nn.reduce_max"(%x) {axis = array<i64: 1>, keep_dims = true} : (tensor<2x16x64xf32>) -> tensor<2x64xf32>
  return
}
