// RUN: dinfer-opt %s --dist-author-strategy="tp=4 dp=2" | FileCheck %s
// RUN: dinfer-opt %s --dist-author-strategy="tp=3 dp=2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ODD
// RUN: not dinfer-opt %s --dist-author-strategy="tp=4 dp=3" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BATCH

// A two-layer MLP with an embedding: the table vocabulary-parallel, the first
// product column-parallel (its bias with it), the second row-parallel; every
// activation's batch split dp ways.
// CHECK-LABEL: func.func @main
func.func @main(%ids: tensor<8xi32>) -> tensor<8x16xf32> {
  %table = dist.param "embedding" : tensor<100x16xf32>
  %w1 = dist.param "w1" : tensor<16x32xf32>
  %b1 = dist.param "b1" : tensor<32xf32>
  %w2 = dist.param "w2" : tensor<32x16xf32>
  %g = dist.param "gamma" : tensor<16xf32>
  // CHECK: nn.gather {{.*}}dist.strategy = #dist.strategy<[4, 1], [2]>
  %x = nn.gather %table, %ids {axis = 0 : i64} : tensor<100x16xf32>, tensor<8xi32>
  // CHECK: nn.matmul {{.*}}dist.strategy = #dist.strategy<[2, 1], [1, 4]>
  %h = nn.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x32xf32>
  // CHECK: nn.add {{.*}}dist.strategy = #dist.strategy<[2, 4], [4]>
  %hb = nn.add %h, %b1 : tensor<8x32xf32>, tensor<32xf32>
  %r = nn.relu %hb : tensor<8x32xf32>
  // CHECK: nn.matmul {{.*}}dist.strategy = #dist.strategy<[2, 4], [4, 1]>
  %y = nn.matmul %r, %w2 : tensor<8x32xf32>, tensor<32x16xf32>
  // CHECK: nn.rms_norm {{.*}}dist.strategy = #dist.strategy<[2, 1], [1]>
  %n = nn.rms_norm %y, %g : tensor<8x16xf32>, tensor<16xf32>
  return %n : tensor<8x16xf32>
}

// torch's attention runs sequence-first: the batch of the input's first
// dimension is carried into the second by the transpose, and the products
// split that one dp ways (not the sequence).
// CHECK-LABEL: func.func @sequence_first
func.func @sequence_first(%x: tensor<4x6x16xf32>) -> tensor<6x4x16xf32> {
  %w1 = dist.param "s.w1" : tensor<16x32xf32>
  %w2 = dist.param "s.w2" : tensor<32x16xf32>
  %t = nn.transpose %x {perm = array<i64: 1, 0, 2>} : tensor<4x6x16xf32>
  // CHECK: nn.batch_matmul {{.*}}dist.strategy = #dist.strategy<[1, 2, 1], [1, 4]>
  %h = nn.batch_matmul %t, %w1 : tensor<6x4x16xf32>, tensor<16x32xf32>
  // CHECK: nn.batch_matmul {{.*}}dist.strategy = #dist.strategy<[1, 2, 4], [4, 1]>
  %y = nn.batch_matmul %h, %w2 : tensor<6x4x32xf32>, tensor<32x16xf32>
  return %y : tensor<6x4x16xf32>
}

// Grouped-query attention with fewer KV heads (2) than tp (4): the key
// projection splits its heads 2 ways, each head on two ranks (replicas on the
// last device axis, next to each other, as the query heads reading it are);
// the query projection splits its 8 heads 4 ways.
// CHECK-LABEL: func.func @grouped_query
func.func @grouped_query(%x: tensor<4x6x16xf32>) -> (tensor<4x6x8x2xf32>, tensor<4x6x2x4xf32>) {
  %wq = dist.param "g.wq" : tensor<16x16xf32>
  %wk = dist.param "g.wk" : tensor<16x8xf32>
  // CHECK: nn.batch_matmul {{.*}}dist.strategy = #dist.strategy<[2, 1, 1], [1, 4]>
  // CHECK-NOT: dist.replicas_last
  %q = nn.batch_matmul %x, %wq : tensor<4x6x16xf32>, tensor<16x16xf32>
  %qh = nn.reshape %q {shape = array<i64: 4, 6, 8, 2>} : tensor<4x6x16xf32>
  // CHECK: nn.batch_matmul {{.*}}dist.replicas_last, dist.stage = 0 : i64, dist.strategy = #dist.strategy<[2, 1, 1], [1, 2]>
  %k = nn.batch_matmul %x, %wk : tensor<4x6x16xf32>, tensor<16x8xf32>
  %kh = nn.reshape %k {shape = array<i64: 4, 6, 2, 4>} : tensor<4x6x8xf32>
  return %qh, %kh : tensor<4x6x8x2xf32>, tensor<4x6x2x4xf32>
}

// tp=3 divides none of the split dimensions: everything stays data parallel.
// ODD-DAG: remark: tp=3 does not divide the vocabulary of an embedding table (100): the op stays data parallel
// ODD-DAG: remark: tp=3 does not divide the output features of a column-parallel product (32): the op stays data parallel

// BATCH: error: dp=3 does not divide the batch dimension (dimension 0, size 8) of 'tensor<8xi32>'
