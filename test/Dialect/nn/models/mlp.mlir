// RUN: dinfer-opt %s | FileCheck %s
// The docs sample network: MatMul -> Neg, as MindSpore's distributed
// inference tutorial builds it, with its weight held as a parameter reference.

// CHECK-LABEL: func.func @docs_sample_net
func.func @docs_sample_net(%x: tensor<128x96xf32>) -> tensor<128x16xf32> {
  // CHECK: dist.param "matmul_weight" : tensor<96x16xf32>
  %w = dist.param "matmul_weight" : tensor<96x16xf32>
  // CHECK: nn.matmul
  %y = nn.matmul %x, %w : tensor<128x96xf32>, tensor<96x16xf32>
  // CHECK: nn.neg
  %z = nn.neg %y : tensor<128x16xf32>
  return %z : tensor<128x16xf32>
}

// A two-layer MLP with bias and GeLU.
// CHECK-LABEL: func.func @mlp
func.func @mlp(%x: tensor<32x784xf32>) -> tensor<32x10xf32> {
  %w1 = dist.param "fc1.weight" : tensor<256x784xf32>
  %b1 = dist.param "fc1.bias" : tensor<256xf32>
  %w2 = dist.param "fc2.weight" : tensor<10x256xf32>
  %b2 = dist.param "fc2.bias" : tensor<10xf32>
  %h = nn.matmul %x, %w1 {transpose_b = true} : tensor<32x784xf32>, tensor<256x784xf32>
  %hb = nn.bias_add %h, %b1 : tensor<32x256xf32>, tensor<256xf32>
  %a = nn.gelu %hb : tensor<32x256xf32>
  %o = nn.matmul %a, %w2 {transpose_b = true} : tensor<32x256xf32>, tensor<10x256xf32>
  %ob = nn.bias_add %o, %b2 : tensor<32x10xf32>, tensor<10xf32>
  // CHECK: nn.log_softmax %{{.*}} : tensor<32x10xf32>
  %p = nn.log_softmax %ob : tensor<32x10xf32>
  return %p : tensor<32x10xf32>
}
