// RUN: dinfer-opt %s --split-input-file --dist-propagate --dist-partition -verify-diagnostics

// Only a table's rows (axis 0, the vocabulary) may be split under a Gather.
module attributes {dist.device_num = 2 : i64} {
  func.func @columns(%ids: tensor<4xi32>) -> tensor<8x4xf32> {
    %table = dist.param "table" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<8x10xf32>
    // expected-error @+1 {{gathers along a split dimension other than the rows of a vocabulary-parallel table}}
    %e = nn.gather %table, %ids {axis = 1 : i64, dist.strategy = #dist.strategy<[1, 2], [1]>} : tensor<8x10xf32>, tensor<4xi32>
    return %e : tensor<8x4xf32>
  }
}
