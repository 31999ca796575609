// The worked examples of docs/contracts.md section 8: MatMul ((2,1),(1,4)) trained
// on 8 devices, weight [96,16], batch 128, run on 8, 4, 2, 6 and 16 devices.
// RUN: dinfer-opt %s --split-input-file --dist-infer-predict-layout=device-num=8 | FileCheck %s --check-prefix=N8
// RUN: dinfer-opt %s --split-input-file --dist-infer-predict-layout=device-num=4 | FileCheck %s --check-prefix=N4
// RUN: dinfer-opt %s --split-input-file --dist-infer-predict-layout=device-num=2 | FileCheck %s --check-prefix=N2
// RUN: dinfer-opt %s --split-input-file --dist-infer-predict-layout=device-num=6 | FileCheck %s --check-prefix=N6
// RUN: dinfer-opt %s --split-input-file --dist-infer-predict-layout=device-num=16 | FileCheck %s --check-prefix=N16

// N8: module attributes {dist.device_num = 8 : i64}
// N8: dist.param "w" {dist.rule = #dist.rule<same>, layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>}
// N8: nn.matmul {{.*}}dist.strategy = #dist.strategy<[2, 1], [1, 4]>

// N4: module attributes {dist.device_num = 4 : i64}
// N4: dist.param "w" {dist.rule = #dist.rule<dropped_replicas>, layout = #dist.layout<dev_matrix = [4], tensor_map = [-1, 0]>}
// N4: nn.matmul {{.*}}dist.strategy = #dist.strategy<[1, 1], [1, 4]>

// N2: dist.param "w" {dist.rule = #dist.rule<shrunk_model_parallel>, layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>}
// N2: nn.matmul {{.*}}dist.strategy = #dist.strategy<[1, 1], [1, 2]>

// 6 devices: mp' = 2; 3 does not divide the batch of 128, so the 3 groups are replicas.
// N6: dist.param "w" {dist.rule = #dist.rule<shrunk_model_parallel>, layout = #dist.layout<dev_matrix = [3, 2], tensor_map = [-1, 0]>}
// N6: nn.matmul {{.*}}dist.strategy = #dist.strategy<[1, 1], [1, 2]>

// N16: dist.param "w" {dist.rule = #dist.rule<split_batch>, layout = #dist.layout<dev_matrix = [4, 4], tensor_map = [-1, 0]>}
// N16: nn.matmul {{.*}}dist.strategy = #dist.strategy<[4, 1], [1, 4]>
module attributes {dist.device_num = 8 : i64} {
  func.func @main(%x: tensor<128x96xf32>) -> tensor<128x16xf32> {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>} : tensor<96x16xf32>
    %y = nn.matmul %x, %w {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[2, 1], [1, 4]>} : tensor<128x96xf32>, tensor<96x16xf32>
    return %y : tensor<128x16xf32>
  }
}

// -----

// A two-axis model-parallel MatMul ((1,2),(2,4)) trained on 8: on 4 the
// innermost axis shrinks first, ((1,2),(2,2)).
// N4: dist.param "v" {dist.rule = #dist.rule<shrunk_model_parallel>, layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [1, 0]>}
// N4: nn.matmul {{.*}}dist.strategy = #dist.strategy<[1, 2], [2, 2]>
// N8: dist.param "v" {dist.rule = #dist.rule<same>, layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, 0]>}
module attributes {dist.device_num = 8 : i64} {
  func.func @main(%x: tensor<128x96xf32>) -> tensor<128x16xf32> {
    %v = dist.param "v" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, 0]>} : tensor<96x16xf32>
    %y = nn.matmul %x, %v {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[1, 2], [2, 4]>} : tensor<128x96xf32>, tensor<96x16xf32>
    return %y : tensor<128x16xf32>
  }
}

// -----

// Optimizer sharding is dropped; a parameter no strategized op uses keeps its
// training layout on the same count and is replicated on another.
// N8: dist.param "emb" {dist.rule = #dist.rule<same>, layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, -1]>}
// N4: dist.param "emb" {dist.rule = #dist.rule<replicated>} : tensor<64x8xf32>
module attributes {dist.device_num = 8 : i64} {
  func.func @main() -> tensor<64x8xf32> {
    %e = dist.param "emb" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, -1], opt_shard_step = 4, opt_shard_size = -1>} : tensor<64x8xf32>
    return %e : tensor<64x8xf32>
  }
}

// -----

// A strategy file says nothing of where an op's replicas go, but a split
// parameter's training layout does: MatMul ((1,1),(1,2)) on 8 devices with
// its weight at dev_matrix [2, 4], tensor_map [-1, 1] (the replicas on the
// last axis, as a grouped-query KV projection is authored) keeps that layout
// and marks its op dist.replicas_last; on 4 devices the replicas shrink and
// stay last.
// N8: dist.param "kv" {dist.rule = #dist.rule<same>, layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 1]>}
// N8: nn.matmul {{.*}}dist.replicas_last, dist.stage = 0 : i64, dist.strategy = #dist.strategy<[1, 1], [1, 2]>
// N4: dist.param "kv" {dist.rule = #dist.rule<dropped_replicas>, layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [-1, 1]>}
// N4: nn.matmul {{.*}}dist.replicas_last
module attributes {dist.device_num = 8 : i64} {
  func.func @main(%x: tensor<128x96xf32>) -> tensor<128x16xf32> {
    %kv = dist.param "kv" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 1]>} : tensor<96x16xf32>
    %y = nn.matmul %x, %kv {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<128x96xf32>, tensor<96x16xf32>
    return %y : tensor<128x16xf32>
  }
}
