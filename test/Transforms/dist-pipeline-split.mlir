// RUN: dinfer-opt %s --split-input-file --dist-pipeline-split | FileCheck %s

// Training stages kept. The tied embedding is read in both stages: one copy
// per stage, each layout naming its stage. The ops without a stage run in
// the stage of what they read. Every value a later stage reads is sent once,
// right after it is computed, and received right after the send.
// CHECK-LABEL: func.func @tied
// CHECK: %[[T0:.*]] = dist.param "embedding" {dist.stage = 0 : i64, layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>}
// CHECK: %[[T1:.*]] = dist.param "embedding" {dist.stage = 1 : i64, layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0], stage = 1>}
// CHECK: %[[E:.*]] = nn.gather %[[T0]], %{{.*}} {dist.stage = 0 : i64}
// CHECK-NEXT: dist.send %[[E]] to_stage = 1 sr_tag = 0 {dist.stage = 0 : i64} : tensor<8x16xf32>
// CHECK-NEXT: %[[E1:.*]] = dist.recv from_stage = 0 sr_tag = 0 {dist.stage = 1 : i64} : tensor<8x16xf32>
// CHECK: %[[R:.*]] = nn.relu %{{.*}} {dist.stage = 0 : i64}
// CHECK-NEXT: dist.send %[[R]] to_stage = 1 sr_tag = 1 {dist.stage = 0 : i64} : tensor<8x32xf32>
// CHECK-NEXT: %[[R1:.*]] = dist.recv from_stage = 0 sr_tag = 1 {dist.stage = 1 : i64}
// CHECK-NEXT: %[[O:.*]] = nn.matmul %[[R1]], %{{.*}} {dist.stage = 1 : i64
// CHECK-NEXT: %[[S:.*]] = nn.add %[[O]], %[[E1]] {dist.stage = 1 : i64}
// CHECK-NEXT: nn.matmul %[[S]], %[[T1]] {dist.stage = 1 : i64
module attributes {dist.device_num = 4 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @tied(%ids: tensor<8xi32>) -> tensor<8x64xf32> {
    %table = dist.param "embedding" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<64x16xf32>
    %w1 = dist.param "w1" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<16x32xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1], stage = 1>} : tensor<32x16xf32>
    %e = nn.gather %table, %ids {dist.stage = 0 : i64} : tensor<64x16xf32>, tensor<8xi32>
    %h = nn.matmul %e, %w1 {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<8x16xf32>, tensor<16x32xf32>
    %r = nn.relu %h : tensor<8x32xf32>
    %o = nn.matmul %r, %w2 {dist.stage = 1 : i64, dist.strategy = #dist.strategy<[1, 2], [2, 1]>} : tensor<8x32xf32>, tensor<32x16xf32>
    %s = nn.add %o, %e : tensor<8x16xf32>, tensor<8x16xf32>
    %logits = nn.matmul %s, %table {transpose_b = true, dist.stage = 1 : i64} : tensor<8x16xf32>, tensor<64x16xf32>
    return %logits : tensor<8x64xf32>
  }
}

// -----

// No training stages: three equal layers cut by cost into two stages. The
// layer count does not divide: the cut falls inside the second layer, and
// every op is kept. The input read by the last op is read in its own stage.
// CHECK-LABEL: func.func @three_layers
// CHECK: dist.param "w1" {dist.stage = 0 : i64}
// CHECK: dist.param "w2" {dist.stage = 0 : i64}
// CHECK: dist.param "w3" {dist.stage = 1 : i64}
// CHECK: nn.matmul %[[X:.*]], %{{.*}} {dist.stage = 0 : i64}
// CHECK-NEXT: nn.relu %{{.*}} {dist.stage = 0 : i64}
// CHECK-NEXT: %[[H2:.*]] = nn.matmul %{{.*}} {dist.stage = 0 : i64}
// CHECK-NEXT: dist.send %[[H2]] to_stage = 1 sr_tag = 0 {dist.stage = 0 : i64}
// CHECK-NEXT: %[[R:.*]] = dist.recv from_stage = 0 sr_tag = 0 {dist.stage = 1 : i64}
// CHECK-NEXT: nn.relu %[[R]] {dist.stage = 1 : i64}
// CHECK-NEXT: nn.matmul %{{.*}} {dist.stage = 1 : i64}
// CHECK-NEXT: nn.add %{{.*}}, %[[X]] {dist.stage = 1 : i64}
// CHECK-NEXT: return
module attributes {dist.device_num = 4 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @three_layers(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w1 = dist.param "w1" : tensor<16x16xf32>
    %w2 = dist.param "w2" : tensor<16x16xf32>
    %w3 = dist.param "w3" : tensor<16x16xf32>
    %h1 = nn.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x16xf32>
    %r1 = nn.relu %h1 : tensor<8x16xf32>
    %h2 = nn.matmul %r1, %w2 : tensor<8x16xf32>, tensor<16x16xf32>
    %r2 = nn.relu %h2 : tensor<8x16xf32>
    %h3 = nn.matmul %r2, %w3 : tensor<8x16xf32>, tensor<16x16xf32>
    %s = nn.add %h3, %x : tensor<8x16xf32>, tensor<8x16xf32>
    return %s : tensor<8x16xf32>
  }
}

// -----

// Five products on three stages: the cuts keep the largest stage smallest
// (two 16x16 products) and, among such cuts, send the fewest bytes: the last
// stage starts at the fifth product, which reads the fourth's 8x8 result,
// not at the residual add, which would read the fifth's 8x16. No op is
// dropped. A value two stages read (the first product) is sent to each of
// them, and the transfers keep the producers' order.
// CHECK-LABEL: func.func @five_layers
// CHECK: %[[A:.*]] = nn.matmul {{.*}}dist.stage = 0
// CHECK-NEXT: dist.send %[[A]] to_stage = 1 sr_tag = 0
// CHECK-NEXT: dist.recv from_stage = 0 sr_tag = 0 {dist.stage = 1 : i64}
// CHECK-NEXT: dist.send %[[A]] to_stage = 2 sr_tag = 1
// CHECK-NEXT: %[[A2:.*]] = dist.recv from_stage = 0 sr_tag = 1 {dist.stage = 2 : i64}
// CHECK-NEXT: nn.matmul {{.*}}dist.stage = 0
// CHECK-NEXT: dist.send %{{.*}} to_stage = 1 sr_tag = 2
// CHECK-NEXT: dist.recv
// CHECK-COUNT-2: nn.matmul {{.*}}dist.stage = 1
// CHECK-NEXT: dist.send %{{.*}} to_stage = 2 sr_tag = 3 {dist.stage = 1 : i64} : tensor<8x8xf32>
// CHECK-NEXT: %[[B:.*]] = dist.recv from_stage = 1 sr_tag = 3 {dist.stage = 2 : i64}
// CHECK-NEXT: %[[C:.*]] = nn.matmul %[[B]], %[[A2]] {dist.stage = 2 : i64}
// CHECK-NEXT: nn.add %[[C]], %[[A2]] {dist.stage = 2 : i64}
// CHECK-NEXT: return
module attributes {dist.device_num = 3 : i64, dist.pipeline_stages = 3 : i64} {
  func.func @five_layers(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w = dist.param "w" : tensor<16x16xf32>
    %h1 = nn.matmul %x, %w : tensor<8x16xf32>, tensor<16x16xf32>
    %h2 = nn.matmul %h1, %w : tensor<8x16xf32>, tensor<16x16xf32>
    %h3 = nn.matmul %h2, %w : tensor<8x16xf32>, tensor<16x16xf32>
    %h4 = nn.matmul %h3, %h1 {transpose_b = true} : tensor<8x16xf32>, tensor<8x16xf32>
    %h5 = nn.matmul %h4, %h1 : tensor<8x8xf32>, tensor<8x16xf32>
    %s = nn.add %h5, %h1 : tensor<8x16xf32>, tensor<8x16xf32>
    return %s : tensor<8x16xf32>
  }
}

// -----

// Training stages kept; the norm between the stages has none (its strategy
// key is shared, as torch's exports share a reused LayerNorm's). It reads
// the residual, which the next stage reads anyway, and gives a value of the
// same size: it runs in the next stage, and only the residual is sent.
// CHECK-LABEL: func.func @norm_at_the_cut
// CHECK: %[[RES:.*]] = nn.add {{.*}}{dist.stage = 0 : i64}
// CHECK-NEXT: dist.send %[[RES]] to_stage = 1 sr_tag = 0
// CHECK-NEXT: %[[R1:.*]] = dist.recv from_stage = 0 sr_tag = 0 {dist.stage = 1 : i64}
// CHECK-NEXT: %[[N:.*]] = nn.layer_norm %[[R1]], {{.*}}{dist.stage = 1 : i64
// CHECK-NOT: dist.send
// CHECK: return
module attributes {dist.device_num = 2 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @norm_at_the_cut(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %g = dist.param "g" : tensor<16xf32>
    %b = dist.param "b" : tensor<16xf32>
    %w1 = dist.param "w1" : tensor<16x16xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [1], tensor_map = [-1, -1], stage = 1>} : tensor<16x16xf32>
    %h = nn.matmul %x, %w1 {dist.stage = 0 : i64} : tensor<8x16xf32>, tensor<16x16xf32>
    %res = nn.add %h, %x {dist.stage = 0 : i64} : tensor<8x16xf32>, tensor<8x16xf32>
    %n = nn.layer_norm %res, %g, %b : tensor<8x16xf32>, tensor<16xf32>, tensor<16xf32>
    %o = nn.matmul %n, %w2 {dist.stage = 1 : i64} : tensor<8x16xf32>, tensor<16x16xf32>
    %y = nn.add %o, %res {dist.stage = 1 : i64} : tensor<8x16xf32>, tensor<8x16xf32>
    return %y : tensor<8x16xf32>
  }
}
