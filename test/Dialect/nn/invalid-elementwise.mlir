// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @add_not_broadcastable(%a: tensor<4x8xf32>, %b: tensor<3x8xf32>) {
  // expected-error @+1 {{'nn.add' op operand shapes [4, 8] and [3, 8] do not broadcast}}
  %0 = nn.add %a, %b : tensor<4x8xf32>, tensor<3x8xf32>
  return
}

// -----

func.func @mul_element_types(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{'nn.mul' op x and y have different element types ('f32' and 'f16')}}
  %0 = nn.mul %a, %b : tensor<4xf32>, tensor<4xf16>
  return
}

// -----

func.func @wrong_result_type(%a: tensor<4x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+2 {{'nn.sub' op failed to infer returned types}}
  // expected-error @+1 {{'nn.sub' op inferred type(s) 'tensor<4x8xf32>' are incompatible with return type(s) of operation 'tensor<4x4xf32>'}}
  %0 = "nn.sub"(%a, %b) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @sqrt_of_integers(%a: tensor<4xi32>) {
  // expected-error @+1 {{'nn.sqrt' op operand #0 must be statically shaped tensor of floating-point values}}
  %0 = "nn.sqrt"(%a) : (tensor<4xi32>) -> tensor<4xi32>
  return
}

// -----

func.func @dynamic_shapes(%a: tensor<?x8xf32>) {
  // expected-error @+1 {{'nn.exp' op operand #0 must be statically shaped tensor of floating-point values}}
  %0 = "nn.exp"(%a) : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @relu_result_differs(%a: tensor<4xf32>) {
  // expected-error @+1 {{'nn.relu' op requires the same type for all operands and results}}
  %0 = "nn.relu"(%a) : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

func.func @gelu_approximate(%a: tensor<4xf32>) {
  // expected-error @+1 {{'nn.gelu' op approximate must be "none" or "tanh", got "fast"}}
  %0 = nn.gelu %a {approximate = "fast"} : tensor<4xf32>
  return
}

// -----

func.func @select_condition(%c: tensor<4xi1>, %x: tensor<4xf32>, %y: tensor<4xi32>) {
  // expected-error @+1 {{'nn.select' op x and y have different element types ('f32' and 'i32')}}
  %0 = nn.select %c, %x, %y : tensor<4xi1>, tensor<4xf32>, tensor<4xi32>
  return
}

// -----

func.func @select_condition_shape(%c: tensor<3xi1>, %x: tensor<4xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{'nn.select' op operand shapes [3] and [4] do not broadcast}}
  %0 = nn.select %c, %x, %y : tensor<3xi1>, tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @select_condition_type(%c: tensor<4xi8>, %x: tensor<4xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{'nn.select' op operand #0 must be statically shaped tensor of 1-bit signless integer values}}
  %0 = "nn.select"(%c, %x, %y) : (tensor<4xi8>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @cast_to_index(%x: tensor<4xf32>) {
  // expected-error @+1 {{'nn.cast' op dtype must be an integer or float type, got 'index'}}
  %0 = nn.cast %x to index : tensor<4xf32>
  return
}

// -----

func.func @compare_element_types(%a: tensor<4xf32>, %b: tensor<4xi32>) {
  // expected-error @+1 {{'nn.greater' op x and y have different element types ('f32' and 'i32')}}
  %0 = nn.greater %a, %b : tensor<4xf32>, tensor<4xi32>
  return
}

// -----

func.func @logic_of_floats(%a: tensor<4xf32>) {
  // expected-error @+1 {{'nn.logical_and' op operand #0 must be statically shaped tensor of 1-bit signless integer values}}
  %0 = nn.logical_and %a, %a : tensor<4xf32>, tensor<4xf32>
  return
}
