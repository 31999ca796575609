// RUN: dinfer-opt %s --nn-fuse-gelu --split-input-file | FileCheck %s

// torch's erf form: x * (erf(x / sqrt(2)) + 1) * 0.5.
// CHECK-LABEL: func.func @erf_form
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[Y:.*]] = nn.gelu %[[X]] : tensor<4x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @erf_form(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %d = nn.div %x, %sqrt2 : tensor<4x8xf32>, tensor<f32>
  %e = nn.erf %d : tensor<4x8xf32>
  %a = nn.add %e, %one : tensor<4x8xf32>, tensor<f32>
  %m = nn.mul %x, %a : tensor<4x8xf32>, tensor<4x8xf32>
  %y = nn.mul %m, %half : tensor<4x8xf32>, tensor<f32>
  return %y : tensor<4x8xf32>
}

// -----

// 0.5 first, the sum and the scale by 1/sqrt(2) written the other way round.
// CHECK-LABEL: func.func @erf_form_reassociated
// CHECK: nn.gelu %{{.*}} : tensor<16xf32>
// CHECK-NOT: nn.erf
func.func @erf_form_reassociated(%x: tensor<16xf32>) -> tensor<16xf32> {
  %rsqrt2 = arith.constant dense<0.707106769> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %h = nn.mul %half, %x : tensor<f32>, tensor<16xf32>
  %d = nn.mul %rsqrt2, %x : tensor<f32>, tensor<16xf32>
  %e = nn.erf %d : tensor<16xf32>
  %a = nn.add %one, %e : tensor<f32>, tensor<16xf32>
  %y = nn.mul %h, %a : tensor<16xf32>, tensor<16xf32>
  return %y : tensor<16xf32>
}

// -----

// torch's tanh form (approximate="tanh"), the cube as pow(x, 3).
// CHECK-LABEL: func.func @tanh_form
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[Y:.*]] = nn.gelu %[[X]] {approximate = "tanh"} : tensor<2x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @tanh_form(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %three = arith.constant dense<3.0> : tensor<f32>
  %c = arith.constant dense<0.044715> : tensor<f32>
  %s = arith.constant dense<0.797884583> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %h = nn.mul %half, %x : tensor<f32>, tensor<2x8xf32>
  %p = nn.pow %x, %three : tensor<2x8xf32>, tensor<f32>
  %cp = nn.mul %c, %p : tensor<f32>, tensor<2x8xf32>
  %sum = nn.add %x, %cp : tensor<2x8xf32>, tensor<2x8xf32>
  %arg = nn.mul %s, %sum : tensor<f32>, tensor<2x8xf32>
  %t = nn.tanh %arg : tensor<2x8xf32>
  %a = nn.add %one, %t : tensor<f32>, tensor<2x8xf32>
  %y = nn.mul %h, %a : tensor<2x8xf32>, tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// An intermediate with another user stays: fusing would compute it twice.
// CHECK-LABEL: func.func @shared_intermediate
// CHECK-NOT: nn.gelu
// CHECK: nn.erf
func.func @shared_intermediate(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %d = nn.div %x, %sqrt2 : tensor<8xf32>, tensor<f32>
  %e = nn.erf %d : tensor<8xf32>
  %a = nn.add %e, %one : tensor<8xf32>, tensor<f32>
  %m = nn.mul %x, %a : tensor<8xf32>, tensor<8xf32>
  %y = nn.mul %m, %half : tensor<8xf32>, tensor<f32>
  return %y, %e : tensor<8xf32>, tensor<8xf32>
}

// -----

// Wrong constants are not GeLU.
// CHECK-LABEL: func.func @wrong_constant
// CHECK-NOT: nn.gelu
func.func @wrong_constant(%x: tensor<8xf32>) -> tensor<8xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %d = nn.div %x, %two : tensor<8xf32>, tensor<f32>
  %e = nn.erf %d : tensor<8xf32>
  %a = nn.add %e, %one : tensor<8xf32>, tensor<f32>
  %m = nn.mul %x, %a : tensor<8xf32>, tensor<8xf32>
  %y = nn.mul %m, %half : tensor<8xf32>, tensor<f32>
  return %y : tensor<8xf32>
}

// -----

// The product broadcasts x against a wider operand: left alone.
// CHECK-LABEL: func.func @broadcast_product
// CHECK-NOT: nn.gelu
func.func @broadcast_product(%x: tensor<8xf32>, %w: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<2x8xf32>
  %d = nn.div %x, %sqrt2 : tensor<8xf32>, tensor<f32>
  %e = nn.erf %d : tensor<8xf32>
  %a = nn.add %e, %one : tensor<8xf32>, tensor<f32>
  %m = nn.mul %x, %a : tensor<8xf32>, tensor<8xf32>
  %y = nn.mul %m, %half : tensor<8xf32>, tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
