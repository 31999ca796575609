// RUN: dinfer-opt %s --split-input-file --dist-propagate --dist-partition -verify-diagnostics

// A vocabulary-parallel lookup needs masking and local indices: refused, not
// partitioned wrong.
module attributes {dist.device_num = 2 : i64} {
  func.func @vocabulary(%ids: tensor<4xi32>) -> tensor<4x8xf32> {
    %table = dist.param "table" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>} : tensor<10x8xf32>
    // expected-error @+1 {{gathers from a table split along its gathered axis}}
    %e = nn.gather %table, %ids {axis = 0 : i64, dist.strategy = [array<i64: 2, 1>, array<i64: 1>]} : tensor<10x8xf32>, tensor<4xi32>
    return %e : tensor<4x8xf32>
  }
}

// -----

module attributes {dist.device_num = 2 : i64} {
  func.func @two_results(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
    // expected-error @+1 {{has several results: the partitioner cannot place it yet}}
    %a:2 = nn.split %x {axis = 1 : i64, output_num = 2 : i64} : tensor<4x8xf32>
    return %a#0 : tensor<4x4xf32>
  }
}
