// RUN: dinfer-opt %s --nn-fold-constants | FileCheck %s
// RUN: dinfer-opt %s --nn-fold-constants | FileCheck %s --check-prefix=GONE
// RUN: dinfer-opt %s --nn-fold-constants="max-elements=4" | FileCheck %s --check-prefix=SMALL

// Shape arithmetic, a causal mask and a scatter into constant data fold
// into constants, computed by the runtime's kernels; what reads an argument
// stays.
// CHECK-LABEL: func.func @fold
func.func @fold(%x: tensor<4x4xf32>) -> (tensor<2xi64>, tensor<4x4xf32>, tensor<3xf32>) {
  %shape = arith.constant dense<[2, 8]> : tensor<2xi64>
  %two = arith.constant dense<2> : tensor<i64>
  %half = nn.div %shape, %two : tensor<2xi64>, tensor<i64>
  %plus = nn.add %half, %two : tensor<2xi64>, tensor<i64>
  %rows = arith.constant dense<[[0], [1], [2], [3]]> : tensor<4x1xi64>
  %cols = arith.constant dense<[[0, 1, 2, 3]]> : tensor<1x4xi64>
  %causal = nn.less_equal %cols, %rows : tensor<1x4xi64>, tensor<4x1xi64>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %masked = nn.select %causal, %x, %zero : tensor<4x4xi1>, tensor<4x4xf32>, tensor<f32>
  %data = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %where = arith.constant dense<[[2], [0]]> : tensor<2x1xi64>
  %new = arith.constant dense<[30.0, 10.0]> : tensor<2xf32>
  %scattered = nn.tensor_scatter_update %data, %where, %new : tensor<3xf32>, tensor<2x1xi64>, tensor<2xf32>
  return %plus, %masked, %scattered : tensor<2xi64>, tensor<4x4xf32>, tensor<3xf32>
}
// CHECK-DAG: arith.constant dense<[3, 6]> : tensor<2xi64>
// CHECK-DAG: arith.constant dense<{{\[}}[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]> : tensor<4x4xi1>
// CHECK-DAG: arith.constant dense<[1.000000e+01, 2.000000e+00, 3.000000e+01]> : tensor<3xf32>
// CHECK-DAG: nn.select
// GONE-NOT: nn.div
// GONE-NOT: nn.add
// GONE-NOT: nn.less_equal
// GONE-NOT: nn.tensor_scatter_update
// The 16-element mask stays an op under a limit of 4 elements.
// SMALL: nn.less_equal
// SMALL-NOT: nn.div
