// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @contraction_mismatch(%x: tensor<128x96xf32>, %w: tensor<16x96xf32>) {
  // expected-error @+1 {{'nn.matmul' op contraction dimensions differ: 96 in x ('tensor<128x96xf32>') and 16 in w ('tensor<16x96xf32>')}}
  %0 = nn.matmul %x, %w : tensor<128x96xf32>, tensor<16x96xf32>
  return
}

// -----

func.func @matmul_rank(%x: tensor<2x128x96xf32>, %w: tensor<96x16xf32>) {
  // expected-error @+1 {{'nn.matmul' op x must have rank 2, got 'tensor<2x128x96xf32>'}}
  %0 = nn.matmul %x, %w : tensor<2x128x96xf32>, tensor<96x16xf32>
  return
}

// -----

func.func @matmul_element_types(%x: tensor<128x96xf32>, %w: tensor<96x16xf16>) {
  // expected-error @+1 {{'nn.matmul' op x and w have different element types ('f32' and 'f16')}}
  %0 = nn.matmul %x, %w : tensor<128x96xf32>, tensor<96x16xf16>
  return
}

// -----

func.func @matmul_result(%x: tensor<128x96xf32>, %w: tensor<96x16xf32>) {
  // expected-error @+2 {{'nn.matmul' op failed to infer returned types}}
  // expected-error @+1 {{'nn.matmul' op inferred type(s) 'tensor<128x16xf32>' are incompatible with return type(s) of operation 'tensor<16x128xf32>'}}
  %0 = "nn.matmul"(%x, %w) : (tensor<128x96xf32>, tensor<96x16xf32>) -> tensor<16x128xf32>
  return
}

// -----

func.func @batch_matmul_contraction(%q: tensor<2x16x64xf32>, %k: tensor<2x16x64xf32>) {
  // expected-error @+1 {{'nn.batch_matmul' op contraction dimensions differ: 64 in x ('tensor<2x16x64xf32>') and 16 in y ('tensor<2x16x64xf32>')}}
  %0 = nn.batch_matmul %q, %k : tensor<2x16x64xf32>, tensor<2x16x64xf32>
  return
}

// -----

func.func @batch_matmul_batch(%q: tensor<2x16x64xf32>, %k: tensor<3x64x16xf32>) {
  // expected-error @+1 {{'nn.batch_matmul' op operand shapes [2] and [3] do not broadcast}}
  %0 = nn.batch_matmul %q, %k : tensor<2x16x64xf32>, tensor<3x64x16xf32>
  return
}

// -----

func.func @batch_matmul_rank(%q: tensor<64xf32>, %k: tensor<64x16xf32>) {
  // expected-error @+1 {{'nn.batch_matmul' op operands must have rank 2 or more, got 'tensor<64xf32>' and 'tensor<64x16xf32>'}}
  %0 = nn.batch_matmul %q, %k : tensor<64xf32>, tensor<64x16xf32>
  return
}

// -----

func.func @bias_size(%x: tensor<128x16xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'nn.bias_add' op bias has 8 elements but channel dimension 1 of x has 16}}
  %0 = nn.bias_add %x, %b : tensor<128x16xf32>, tensor<8xf32>
  return
}

// -----

func.func @bias_rank(%x: tensor<128x16xf32>, %b: tensor<1x16xf32>) {
  // expected-error @+1 {{'nn.bias_add' op bias must have rank 1, got 'tensor<1x16xf32>'}}
  %0 = nn.bias_add %x, %b : tensor<128x16xf32>, tensor<1x16xf32>
  return
}

// -----

func.func @bias_format(%x: tensor<128x16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'nn.bias_add' op data_format 'NWC' is not one of NCHW, NHWC, NCDHW}}
  %0 = nn.bias_add %x, %b {data_format = "NWC"} : tensor<128x16xf32>, tensor<16xf32>
  return
}
