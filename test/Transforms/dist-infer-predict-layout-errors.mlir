// RUN: dinfer-opt %s --split-input-file --verify-diagnostics \
// RUN:   --dist-infer-predict-layout="device-num=4 pipeline-stages=2"

// Without any layout, training's device count is unknown.
// expected-error @+1 {{cannot tell training's device count: no parameter has a layout}}
module {
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    return %x : tensor<8x16xf32>
  }
}

// -----

// A strategy that splits a dimension the op needs whole.
module attributes {dist.device_num = 2 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %g = dist.param "g" {layout = #dist.layout<dev_matrix = [1], tensor_map = [-1]>} : tensor<16xf32>
    %b = dist.param "b" {layout = #dist.layout<dev_matrix = [1], tensor_map = [-1]>, dist.stage = 1 : i64} : tensor<16xf32>
    // expected-error @+1 {{dist.strategy splits dimension 1 of operand 0, which the op needs whole}}
    %y = nn.layer_norm %x, %g, %b {dist.stage = 1 : i64, dist.strategy = #dist.strategy<[1, 2], [2], [2]>} : tensor<8x16xf32>, tensor<16xf32>, tensor<16xf32>
    return %y : tensor<8x16xf32>
  }
}
