// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @softmax_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'nn.softmax' op axis 2 is out of range for rank 2}}
  %0 = nn.softmax %x {axis = 2 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @log_softmax_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'nn.log_softmax' op axis -3 is out of range for rank 2}}
  %0 = nn.log_softmax %x {axis = -3 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @layer_norm_gamma(%x: tensor<2x16x64xf32>, %g: tensor<32xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'nn.layer_norm' op gamma has shape [32] but x from begin_params_axis has [64]}}
  %0 = nn.layer_norm %x, %g, %b : tensor<2x16x64xf32>, tensor<32xf32>, tensor<64xf32>
  return
}

// -----

func.func @layer_norm_beta(%x: tensor<2x16x64xf32>, %g: tensor<16x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'nn.layer_norm' op beta has shape [64] but x from begin_params_axis has [16, 64]}}
  %0 = nn.layer_norm %x, %g, %b {begin_params_axis = 1 : i64} : tensor<2x16x64xf32>, tensor<16x64xf32>, tensor<64xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'nn.layer_norm' op begin_norm_axis 3 is out of range for rank 3}}
  %0 = nn.layer_norm %x, %g, %b {begin_norm_axis = 3 : i64} : tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>
  return
}

// -----

func.func @rms_norm_gamma(%x: tensor<2x16x64xf32>, %g: tensor<16xf32>) {
  // expected-error @+1 {{'nn.rms_norm' op gamma of shape [16] does not match the trailing dimensions of x [2, 16, 64]}}
  %0 = nn.rms_norm %x, %g : tensor<2x16x64xf32>, tensor<16xf32>
  return
}

// -----

func.func @batch_norm_channels(%x: tensor<2x3x8x8xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<4xf32>, %v: tensor<3xf32>) {
  // expected-error @+1 {{'nn.batch_norm' op mean must be 1-D with 3 channels, got 'tensor<4xf32>'}}
  %0 = nn.batch_norm %x, %s, %b, %m, %v : tensor<2x3x8x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<4xf32>, tensor<3xf32>
  return
}

// -----

func.func @batch_norm_rank(%x: tensor<8xf32>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'nn.batch_norm' op x must have rank 2 or more (N, C, ...), got 'tensor<8xf32>'}}
  %0 = nn.batch_norm %x, %s, %s, %s, %s : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
  return
}
