// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @reshape_count(%x: tensor<2x16x64xf32>) {
  // expected-error @+1 {{'nn.reshape' op shape [2, 16, 32] has 1024 elements but x ('tensor<2x16x64xf32>') has 2048}}
  %0 = nn.reshape %x {shape = array<i64: 2, 16, 32>} : tensor<2x16x64xf32>
  return
}

// -----

func.func @reshape_two_unknowns(%x: tensor<2x16x64xf32>) {
  // expected-error @+1 {{'nn.reshape' op shape [-1, -1] has more than one -1}}
  %0 = nn.reshape %x {shape = array<i64: -1, -1>} : tensor<2x16x64xf32>
  return
}

// -----

func.func @reshape_unknown_does_not_divide(%x: tensor<2x16x64xf32>) {
  // expected-error @+1 {{'nn.reshape' op cannot infer the -1 in [-1, 3] from 2048 elements}}
  %0 = nn.reshape %x {shape = array<i64: -1, 3>} : tensor<2x16x64xf32>
  return
}

// -----

func.func @reshape_without_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{'nn.reshape' op requires attribute 'shape'}}
  %0 = nn.reshape %x : tensor<4xf32>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'nn.transpose' op perm [0, 0, 1] is not a permutation of the dimensions of x}}
  %0 = nn.transpose %x {perm = array<i64: 0, 0, 1>} : tensor<2x3x4xf32>
  return
}

// -----

func.func @transpose_length(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'nn.transpose' op perm [1, 0] has 2 entries but x has rank 3}}
  %0 = nn.transpose %x {perm = array<i64: 1, 0>} : tensor<2x3x4xf32>
  return
}

// -----

func.func @expand_dims_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.expand_dims' op axis 4 is out of range for rank 3}}
  %0 = nn.expand_dims %x {axis = 4 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @squeeze_non_unit(%x: tensor<2x1x3xf32>) {
  // expected-error @+1 {{'nn.squeeze' op cannot squeeze dimension 0 of size 2}}
  %0 = nn.squeeze %x {axis = array<i64: 0>} : tensor<2x1x3xf32>
  return
}

// -----

func.func @flatten_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.flatten' op axis 3 is out of range for rank 2}}
  %0 = nn.flatten %x {axis = 3 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @concat_mismatch(%a: tensor<4x8xf32>, %b: tensor<5x8xf32>) {
  // expected-error @+1 {{'nn.concat' op input 1 ('tensor<5x8xf32>') differs from input 0 ('tensor<4x8xf32>') in dimension 0, which is not the concat axis}}
  %0 = nn.concat %a, %b {axis = 1 : i64} : tensor<4x8xf32>, tensor<5x8xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<4x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'nn.concat' op input 1 has rank 1, input 0 has rank 2}}
  %0 = nn.concat %a, %b : tensor<4x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @concat_element_type(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{'nn.concat' op input 1 has element type 'f16', input 0 has 'f32'}}
  %0 = nn.concat %a, %b : tensor<4xf32>, tensor<4xf16>
  return
}

// -----

func.func @split_uneven(%x: tensor<4x30xf32>) {
  // expected-error @+1 {{'nn.split' op dimension 1 of size 30 does not split into 4 equal parts}}
  %0:4 = nn.split %x {axis = 1 : i64, output_num = 4 : i64} : tensor<4x30xf32>
  return
}

// -----

func.func @split_count(%x: tensor<4x30xf32>) {
  // expected-error @+1 {{'nn.split' op output_num must be positive, got 0}}
  %0 = nn.split %x {output_num = 0 : i64} : tensor<4x30xf32>
  return
}

// -----

func.func @strided_slice_lengths(%x: tensor<10x8xf32>) {
  // expected-error @+1 {{'nn.strided_slice' op begin, end and strides must have the same length, got 2, 1, 1}}
  %0 = nn.strided_slice %x {begin = array<i64: 0, 0>, end = array<i64: 4>, strides = array<i64: 1>} : tensor<10x8xf32>
  return
}

// -----

func.func @strided_slice_zero_stride(%x: tensor<10x8xf32>) {
  // expected-error @+1 {{'nn.strided_slice' op strides entry 0 is 0}}
  %0 = nn.strided_slice %x {begin = array<i64: 0>, end = array<i64: 4>, strides = array<i64: 0>} : tensor<10x8xf32>
  return
}

// -----

func.func @strided_slice_shrink(%x: tensor<10x8xf32>) {
  // expected-error @+1 {{'nn.strided_slice' op shrink index 12 is out of range for dimension 0 of size 10}}
  %0 = nn.strided_slice %x {begin = array<i64: 12>, end = array<i64: 13>, strides = array<i64: 1>, shrink_axis_mask = 1 : i64} : tensor<10x8xf32>
  return
}

// -----

func.func @gather_axis(%t: tensor<1000x64xf32>, %ids: tensor<4xi32>) {
  // expected-error @+1 {{'nn.gather' op axis 2 is out of range for rank 2}}
  %0 = nn.gather %t, %ids {axis = 2 : i64} : tensor<1000x64xf32>, tensor<4xi32>
  return
}

// -----

func.func @gather_float_indices(%t: tensor<1000x64xf32>, %ids: tensor<4xf32>) {
  // expected-error @+1 {{'nn.gather' op operand #1 must be statically shaped tensor of integer values}}
  %0 = "nn.gather"(%t, %ids) : (tensor<1000x64xf32>, tensor<4xf32>) -> tensor<4x64xf32>
  return
}

// -----

func.func @embedding_lookup_offset_rank(%t: tensor<500x64xf32>, %ids: tensor<4xi32>, %offset: tensor<1xi64>) {
  // expected-error @+1 {{'nn.embedding_lookup' op offset must be a 0-d tensor, got 'tensor<1xi64>'}}
  %0 = nn.embedding_lookup %t, %ids, %offset : tensor<500x64xf32>, tensor<4xi32>, tensor<1xi64>
  return
}

// -----

func.func @embedding_lookup_scalar_table(%t: tensor<f32>, %ids: tensor<4xi32>, %offset: tensor<i64>) {
  // expected-error @+1 {{'nn.embedding_lookup' op params must have at least one dimension}}
  %0 = nn.embedding_lookup %t, %ids, %offset : tensor<f32>, tensor<4xi32>, tensor<i64>
  return
}

// -----

func.func @broadcast_to_shrinks(%x: tensor<4x2xf32>) {
  // expected-error @+1 {{'nn.broadcast_to' op cannot broadcast x ('tensor<4x2xf32>') to [4, 1]: only new leading and size-1 dimensions grow}}
  %0 = nn.broadcast_to %x {shape = array<i64: 4, 1>} : tensor<4x2xf32>
  return
}

// -----

func.func @tile_rank(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.tile' op multiples [2] must have one entry per dimension of x ('tensor<2x3xf32>')}}
  %0 = nn.tile %x {multiples = array<i64: 2>} : tensor<2x3xf32>
  return
}
