// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// Two stages of four devices: stage 0 sends its activation, stage 1 receives it.
// CHECK: module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 2 : i64}
module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 2 : i64} {
  // CHECK-LABEL: func.func @stage0
  func.func @stage0(%x: tensor<16x96xf32>) {
    %w = dist.param "layer0.w" {layout = #dist.layout<dev_matrix = [4], tensor_map = [-1, 0], stage = 0>} : tensor<96x96xf32>
    %h = nn.matmul %x, %w : tensor<16x96xf32>, tensor<96x96xf32>
    // CHECK: dist.send %{{.*}} to_stage = 1 sr_tag = 0 : tensor<16x96xf32>
    dist.send %h to_stage = 1 sr_tag = 0 : tensor<16x96xf32>
    return
  }

  // CHECK-LABEL: func.func @stage1
  func.func @stage1() -> tensor<16x96xf32> {
    // CHECK: dist.recv from_stage = 0 sr_tag = 0 : tensor<16x96xf32>
    %h = dist.recv from_stage = 0 sr_tag = 0 : tensor<16x96xf32>
    // CHECK: stage = 1
    %w = dist.param "layer1.w" {layout = #dist.layout<dev_matrix = [4], tensor_map = [0, -1], stage = 1>} : tensor<96x96xf32>
    %y = nn.matmul %h, %w : tensor<16x96xf32>, tensor<96x96xf32>
    return %y : tensor<16x96xf32>
  }
}
