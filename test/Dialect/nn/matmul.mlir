// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// CHECK-LABEL: func.func @matmul
func.func @matmul(%x: tensor<128x96xf32>, %w: tensor<96x16xf32>, %wt: tensor<16x96xf32>, %xt: tensor<96x128xf32>)
    -> (tensor<128x16xf32>, tensor<128x16xf32>, tensor<128x16xf32>) {
  // CHECK: nn.matmul %{{.*}}, %{{.*}} : tensor<128x96xf32>, tensor<96x16xf32>
  %0 = nn.matmul %x, %w : tensor<128x96xf32>, tensor<96x16xf32>
  // CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_b = true} : tensor<128x96xf32>, tensor<16x96xf32>
  %1 = nn.matmul %x, %wt {transpose_b = true} : tensor<128x96xf32>, tensor<16x96xf32>
  // CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_a = true, transpose_b = true}
  %2 = nn.matmul %xt, %wt {transpose_a = true, transpose_b = true} : tensor<96x128xf32>, tensor<16x96xf32>
  return %0, %1, %2 : tensor<128x16xf32>, tensor<128x16xf32>, tensor<128x16xf32>
}

// CHECK-LABEL: func.func @batch_matmul
func.func @batch_matmul(%q: tensor<2x8x16x64xf32>, %k: tensor<2x8x16x64xf32>, %v: tensor<8x16x64xf32>)
    -> (tensor<2x8x16x16xf32>, tensor<2x8x16x64xf32>) {
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} {transpose_b = true} : tensor<2x8x16x64xf32>, tensor<2x8x16x64xf32>
  %s = nn.batch_matmul %q, %k {transpose_b = true} : tensor<2x8x16x64xf32>, tensor<2x8x16x64xf32>
  // Batch dimensions broadcast: [2,8] with [8].
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} : tensor<2x8x16x16xf32>, tensor<8x16x64xf32>
  %o = nn.batch_matmul %s, %v : tensor<2x8x16x16xf32>, tensor<8x16x64xf32>
  return %s, %o : tensor<2x8x16x16xf32>, tensor<2x8x16x64xf32>
}

// CHECK-LABEL: func.func @bias_add
func.func @bias_add(%x: tensor<128x16xf32>, %b: tensor<16xf32>, %img: tensor<2x3x5x5xf32>, %c: tensor<3xf32>,
                    %nhwc: tensor<2x5x5x3xf32>)
    -> (tensor<128x16xf32>, tensor<2x3x5x5xf32>, tensor<2x5x5x3xf32>) {
  // CHECK: nn.bias_add %{{.*}}, %{{.*}} : tensor<128x16xf32>, tensor<16xf32>
  %0 = nn.bias_add %x, %b : tensor<128x16xf32>, tensor<16xf32>
  // CHECK: nn.bias_add %{{.*}}, %{{.*}} : tensor<2x3x5x5xf32>, tensor<3xf32>
  %1 = nn.bias_add %img, %c : tensor<2x3x5x5xf32>, tensor<3xf32>
  // CHECK: nn.bias_add %{{.*}}, %{{.*}} {data_format = "NHWC"}
  %2 = nn.bias_add %nhwc, %c {data_format = "NHWC"} : tensor<2x5x5x3xf32>, tensor<3xf32>
  return %0, %1, %2 : tensor<128x16xf32>, tensor<2x3x5x5xf32>, tensor<2x5x5x3xf32>
}
