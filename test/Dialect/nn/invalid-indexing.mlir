// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @argmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.argmax' op axis 2 is out of range for rank 2}}
  %0 = nn.argmax %x {axis = 2 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @gather_d_rank(%x: tensor<2x3xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{'nn.gather_d' op index must have rank 2, got 'tensor<2xi64>'}}
  %0 = nn.gather_d %x, %i {dim = 0 : i64} : tensor<2x3xf32>, tensor<2xi64>
  return
}

// -----

func.func @gather_nd_depth(%x: tensor<2x3xf32>, %i: tensor<4x3xi64>) {
  // expected-error @+1 {{'nn.gather_nd' op batch_dims 0 and index depth 3 do not fit x}}
  %0 = nn.gather_nd %x, %i : tensor<2x3xf32>, tensor<4x3xi64>
  return
}

// -----

func.func @scatter_updates_shape(%x: tensor<4x5xf32>, %i: tensor<3x1xi64>, %u: tensor<3x4xf32>) {
  // expected-error @+1 {{'nn.tensor_scatter_update' op updates ('tensor<3x4xf32>') must have shape [3, 5]}}
  %0 = nn.tensor_scatter_update %x, %i, %u : tensor<4x5xf32>, tensor<3x1xi64>, tensor<3x4xf32>
  return
}

// -----

func.func @scatter_elements_reduction(%x: tensor<4x5xf32>, %i: tensor<4x2xi64>, %u: tensor<4x2xf32>) {
  // expected-error @+1 {{'nn.tensor_scatter_elements' op reduction must be none, add, mul, max or min, got "sub"}}
  %0 = nn.tensor_scatter_elements %x, %i, %u {reduction = "sub"} : tensor<4x5xf32>, tensor<4x2xi64>, tensor<4x2xf32>
  return
}

// -----

func.func @pad_count(%x: tensor<4x5xf32>) {
  // expected-error @+1 {{'nn.pad' op paddings [1, 1] must hold [before, after] for each of the 2 dimensions of x}}
  %0 = nn.pad %x {paddings = array<i64: 1, 1>} : tensor<4x5xf32>
  return
}

// -----

func.func @pad_crop(%x: tensor<4x5xf32>) {
  // expected-error @+1 {{'nn.pad' op paddings [0, 0, -3, -3] remove more than dimension 1 holds}}
  %0 = nn.pad %x {paddings = array<i64: 0, 0, -3, -3>} : tensor<4x5xf32>
  return
}

// -----

func.func @pad_mode(%x: tensor<4x5xf32>) {
  // expected-error @+1 {{'nn.pad' op mode must be constant, reflect, edge or wrap, got "mirror"}}
  %0 = nn.pad %x {paddings = array<i64: 0, 0, 1, 1>, mode = "mirror"} : tensor<4x5xf32>
  return
}
