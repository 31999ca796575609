// Training ran two stages of two devices; inference asks for other stage
// counts. The training stages are dropped (rule `restaged` where the
// layout is otherwise unchanged) and the program is cut again by cost.
// RUN: dinfer-opt %s --dist-infer-predict-layout="device-num=2 pipeline-stages=1" --dist-pipeline-split \
// RUN:   | FileCheck %s --check-prefix=ONE
// RUN: dinfer-opt %s --dist-infer-predict-layout="device-num=8 pipeline-stages=4" --dist-pipeline-split \
// RUN:   | FileCheck %s --check-prefix=FOUR

// ONE: module attributes {dist.device_num = 2 : i64} {
// ONE: dist.param "w1" {dist.rule = #dist.rule<restaged>, layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>}
// ONE: dist.param "w4" {dist.rule = #dist.rule<restaged>, layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>}
// ONE-NOT: dist.stage
// ONE-NOT: dist.send

// FOUR: module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 4 : i64} {
// FOUR-DAG: dist.param "w1" {dist.rule = #dist.rule<restaged>, dist.stage = 0 : i64, layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>}
// FOUR-DAG: dist.param "w2" {dist.rule = #dist.rule<restaged>, dist.stage = 1 : i64, layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1], stage = 1>}
// FOUR-DAG: dist.param "w3" {dist.rule = #dist.rule<restaged>, dist.stage = 2 : i64, layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0], stage = 2>}
// FOUR-DAG: dist.param "w4" {dist.rule = #dist.rule<restaged>, dist.stage = 3 : i64, layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1], stage = 3>}
// FOUR: nn.matmul {{.*}}dist.stage = 0
// FOUR: dist.send {{.*}} to_stage = 1 sr_tag = 0
// FOUR: nn.matmul {{.*}}dist.stage = 1
// FOUR: dist.send {{.*}} to_stage = 2 sr_tag = 1
// FOUR: nn.matmul {{.*}}dist.stage = 2
// FOUR: dist.send {{.*}} to_stage = 3 sr_tag = 2
// FOUR: nn.matmul {{.*}}dist.stage = 3
module attributes {dist.device_num = 4 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w1 = dist.param "w1" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<16x16xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>} : tensor<16x16xf32>
    %w3 = dist.param "w3" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0], stage = 1>} : tensor<16x16xf32>
    %w4 = dist.param "w4" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1], stage = 1>} : tensor<16x16xf32>
    %h1 = nn.matmul %x, %w1 {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<8x16xf32>, tensor<16x16xf32>
    %h2 = nn.matmul %h1, %w2 {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[1, 2], [2, 1]>} : tensor<8x16xf32>, tensor<16x16xf32>
    %h3 = nn.matmul %h2, %w3 {dist.stage = 1 : i64, dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<8x16xf32>, tensor<16x16xf32>
    %h4 = nn.matmul %h3, %w4 {dist.stage = 1 : i64, dist.strategy = #dist.strategy<[1, 2], [2, 1]>} : tensor<8x16xf32>, tensor<16x16xf32>
    return %h4 : tensor<8x16xf32>
  }
}
