// RUN: dinfer-opt %s | FileCheck %s
// A GPT-style decoder block (batch 2, sequence 16, hidden 64, 4 heads of 16,
// MLP 256), written the way an importer would produce it. Every intermediate
// type is inferred; the returned type checks the chain end to end.

// CHECK-LABEL: func.func @gpt_block
func.func @gpt_block(%x: tensor<2x16x64xf32>, %mask: tensor<1x1x16x16xi1>) -> tensor<2x16x64xf32> {
  %ln1_g = dist.param "block.ln1.gamma" : tensor<64xf32>
  %ln1_b = dist.param "block.ln1.beta" : tensor<64xf32>
  %wqkv = dist.param "block.attn.qkv.weight" : tensor<64x192xf32>
  %bqkv = dist.param "block.attn.qkv.bias" : tensor<192xf32>
  %wo = dist.param "block.attn.out.weight" : tensor<64x64xf32>
  %ln2_g = dist.param "block.ln2.gamma" : tensor<64xf32>
  %ln2_b = dist.param "block.ln2.beta" : tensor<64xf32>
  %w1 = dist.param "block.mlp.fc1.weight" : tensor<64x256xf32>
  %w2 = dist.param "block.mlp.fc2.weight" : tensor<256x64xf32>
  %neg = arith.constant dense<-1.0e9> : tensor<f32>

  // Attention.
  %h = nn.layer_norm %x, %ln1_g, %ln1_b {epsilon = 1.0e-5 : f32} : tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>
  %h2 = nn.reshape %h {shape = array<i64: 32, 64>} : tensor<2x16x64xf32>
  %qkv = nn.matmul %h2, %wqkv : tensor<32x64xf32>, tensor<64x192xf32>
  %qkvb = nn.bias_add %qkv, %bqkv : tensor<32x192xf32>, tensor<192xf32>
  %parts:3 = nn.split %qkvb {axis = 1 : i64, output_num = 3 : i64} : tensor<32x192xf32>
  %q4 = nn.reshape %parts#0 {shape = array<i64: 2, 16, 4, 16>} : tensor<32x64xf32>
  %k4 = nn.reshape %parts#1 {shape = array<i64: 2, 16, 4, 16>} : tensor<32x64xf32>
  %v4 = nn.reshape %parts#2 {shape = array<i64: 2, 16, 4, 16>} : tensor<32x64xf32>
  %q = nn.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : tensor<2x16x4x16xf32>
  %k = nn.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : tensor<2x16x4x16xf32>
  %v = nn.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : tensor<2x16x4x16xf32>
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} {transpose_b = true} : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
  %s = nn.batch_matmul %q, %k {transpose_b = true} : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
  %scale = arith.constant dense<0.25> : tensor<f32>
  %ss = nn.mul %s, %scale : tensor<2x4x16x16xf32>, tensor<f32>
  // CHECK: nn.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x1x16x16xi1>, tensor<2x4x16x16xf32>, tensor<f32>
  %masked = nn.select %mask, %ss, %neg : tensor<1x1x16x16xi1>, tensor<2x4x16x16xf32>, tensor<f32>
  %p = nn.softmax %masked : tensor<2x4x16x16xf32>
  %ctx = nn.batch_matmul %p, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>
  %ctxt = nn.transpose %ctx {perm = array<i64: 0, 2, 1, 3>} : tensor<2x4x16x16xf32>
  %ctx2 = nn.reshape %ctxt {shape = array<i64: 32, 64>} : tensor<2x16x4x16xf32>
  %attn = nn.matmul %ctx2, %wo : tensor<32x64xf32>, tensor<64x64xf32>
  %attn3 = nn.reshape %attn {shape = array<i64: 2, 16, 64>} : tensor<32x64xf32>
  %r1 = nn.add %x, %attn3 : tensor<2x16x64xf32>, tensor<2x16x64xf32>

  // MLP.
  %m = nn.layer_norm %r1, %ln2_g, %ln2_b : tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>
  %m2 = nn.reshape %m {shape = array<i64: -1, 64>} : tensor<2x16x64xf32>
  %f1 = nn.matmul %m2, %w1 : tensor<32x64xf32>, tensor<64x256xf32>
  %g = nn.fast_gelu %f1 : tensor<32x256xf32>
  %f2 = nn.matmul %g, %w2 : tensor<32x256xf32>, tensor<256x64xf32>
  %f3 = nn.reshape %f2 {shape = array<i64: 2, 16, 64>} : tensor<32x64xf32>
  // CHECK: nn.add %{{.*}}, %{{.*}} : tensor<2x16x64xf32>, tensor<2x16x64xf32>
  %out = nn.add %r1, %f3 : tensor<2x16x64xf32>, tensor<2x16x64xf32>
  return %out : tensor<2x16x64xf32>
}

// Embedding lookup and the tied output projection.
// CHECK-LABEL: func.func @embedding
func.func @embedding(%ids: tensor<2x16xi32>, %h: tensor<2x16x64xf32>) -> (tensor<2x16x64xf32>, tensor<2x16x1000xf32>) {
  %table = dist.param "embedding.weight" : tensor<1000x64xf32>
  // CHECK: nn.gather %{{.*}}, %{{.*}} : tensor<1000x64xf32>, tensor<2x16xi32>
  %e = nn.gather %table, %ids : tensor<1000x64xf32>, tensor<2x16xi32>
  %logits = nn.batch_matmul %h, %table {transpose_b = true} : tensor<2x16x64xf32>, tensor<1000x64xf32>
  return %e, %logits : tensor<2x16x64xf32>, tensor<2x16x1000xf32>
}
