// RUN: dinfer-opt %s --nn-compute-in-float32 --split-input-file | FileCheck %s

// A float16 program: the argument and the weight are cast once, the constant
// becomes float32, the product and the sum run in float32, and the result is
// cast back to the signature's float16.
// CHECK-LABEL: func.func @float16_product
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf16>) -> tensor<2x8xf16>
// CHECK-NEXT: %[[X32:.*]] = nn.cast %[[X]] to f32 : tensor<2x4xf16>
// CHECK-NEXT: %[[W:.*]] = dist.param "w" : tensor<4x8xf16>
// CHECK-NEXT: %[[W32:.*]] = nn.cast %[[W]] to f32 : tensor<4x8xf16>
// CHECK-NEXT: %[[B:.*]] = arith.constant dense<{{\[\[}}5.000000e-01], [-2.500000e-01]]> : tensor<2x1xf32>
// CHECK-NEXT: %[[Y:.*]] = nn.matmul %[[X32]], %[[W32]] : tensor<2x4xf32>, tensor<4x8xf32>
// CHECK-NEXT: %[[Z:.*]] = nn.add %[[Y]], %[[B]] : tensor<2x8xf32>, tensor<2x1xf32>
// CHECK-NEXT: %[[OUT:.*]] = nn.cast %[[Z]] to f16 : tensor<2x8xf32>
// CHECK-NEXT: return %[[OUT]] : tensor<2x8xf16>
func.func @float16_product(%x: tensor<2x4xf16>) -> tensor<2x8xf16> {
  %w = dist.param "w" : tensor<4x8xf16>
  %b = arith.constant dense<[[0.5], [-0.25]]> : tensor<2x1xf16>
  %y = nn.matmul %x, %w : tensor<2x4xf16>, tensor<4x8xf16>
  %z = nn.add %y, %b : tensor<2x8xf16>, tensor<2x1xf16>
  return %z : tensor<2x8xf16>
}

// -----

// Casts the exporter wrote: float32 to float16 and back vanish (the value
// stays float32), float16 to an integer reads the float32 value, and a
// float32 result of the signature needs no cast at the end.
// CHECK-LABEL: func.func @exporter_casts
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi64>)
// CHECK-NEXT: %[[S:.*]] = nn.sigmoid %[[X]] : tensor<3xf32>
// CHECK-NEXT: %[[I:.*]] = nn.cast %[[S]] to i64 : tensor<3xf32>
// CHECK-NEXT: return %[[S]], %[[I]] : tensor<3xf32>, tensor<3xi64>
func.func @exporter_casts(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi64>) {
  %h = nn.cast %x to f16 : tensor<3xf32>
  %s = nn.sigmoid %h : tensor<3xf16>
  %i = nn.cast %s to i64 : tensor<3xf16>
  %w = nn.cast %s to f32 : tensor<3xf16>
  return %w, %i : tensor<3xf32>, tensor<3xi64>
}

// -----

// bfloat16 the same way; a splat constant stays a splat.
// CHECK-LABEL: func.func @bfloat16_scale
// CHECK-NEXT: %[[X32:.*]] = nn.cast %{{.*}} to f32 : tensor<8xbf16>
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<1.250000e-01> : tensor<f32>
// CHECK-NEXT: %[[Y:.*]] = nn.mul %[[X32]], %[[C]] : tensor<8xf32>, tensor<f32>
// CHECK-NEXT: %[[OUT:.*]] = nn.cast %[[Y]] to bf16 : tensor<8xf32>
// CHECK-NEXT: return %[[OUT]] : tensor<8xbf16>
func.func @bfloat16_scale(%x: tensor<8xbf16>) -> tensor<8xbf16> {
  %c = arith.constant dense<0.125> : tensor<bf16>
  %y = nn.mul %x, %c : tensor<8xbf16>, tensor<bf16>
  return %y : tensor<8xbf16>
}

// -----

// A float32 program is left as it is.
// CHECK-LABEL: func.func @float32_untouched
// CHECK-NEXT: %[[Y:.*]] = nn.relu %{{.*}} : tensor<4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @float32_untouched(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.relu %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// A large constant the importers keep as a resource blob stays float16 and
// is cast once, as a weight is.
// CHECK-LABEL: func.func @resource_constant
// CHECK-NEXT: %[[C:.*]] = arith.constant dense_resource<halves> : tensor<2xf16>
// CHECK-NEXT: %[[C32:.*]] = nn.cast %[[C]] to f32 : tensor<2xf16>
// CHECK-NEXT: %[[Y:.*]] = nn.add %{{.*}}, %[[C32]] : tensor<2xf32>, tensor<2xf32>
func.func @resource_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = arith.constant dense_resource<halves> : tensor<2xf16>
  %w = nn.cast %c to f32 : tensor<2xf16>
  %y = nn.add %x, %w : tensor<2xf32>, tensor<2xf32>
  return %y : tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      halves: "0x02000000003C0040"
    }
  }
#-}
