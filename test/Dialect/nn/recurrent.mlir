// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// CHECK-LABEL: func.func @lstm
func.func @lstm(%x: tensor<5x2x4xf32>, %h: tensor<1x2x3xf32>, %c: tensor<1x2x3xf32>, %w: tensor<96x1x1xf32>,
                %h4: tensor<4x2x3xf32>, %w2: tensor<432x1x1xf32>, %wnb: tensor<84x1x1xf32>)
    -> (tensor<5x2x3xf32>, tensor<1x2x3xf32>, tensor<5x2x6xf32>, tensor<4x2x3xf32>, tensor<5x2x3xf32>) {
  // One forward layer: w is [12, 4] input weights, [12, 3] recurrent weights and 12 biases.
  // CHECK: %{{.*}}, %{{.*}}, %{{.*}} = nn.lstm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {hidden_size = 3 : i64, input_size = 4 : i64} : tensor<5x2x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3xf32>, tensor<96x1x1xf32>
  %y, %hn, %cn = nn.lstm %x, %h, %c, %w {input_size = 4 : i64, hidden_size = 3 : i64} : tensor<5x2x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3xf32>, tensor<96x1x1xf32>
  // Two bidirectional layers: the second reads both directions' 6 features.
  // CHECK: nn.lstm {{.*}} {bidirectional = true, hidden_size = 3 : i64, input_size = 4 : i64, num_layers = 2 : i64}
  %y2, %hn2, %cn2 = nn.lstm %x, %h4, %h4, %w2 {input_size = 4 : i64, hidden_size = 3 : i64, num_layers = 2 : i64, bidirectional = true} : tensor<5x2x4xf32>, tensor<4x2x3xf32>, tensor<4x2x3xf32>, tensor<432x1x1xf32>
  // CHECK: nn.lstm {{.*}} {has_bias = false, hidden_size = 3 : i64, input_size = 4 : i64}
  %y3, %hn3, %cn3 = nn.lstm %x, %h, %c, %wnb {input_size = 4 : i64, hidden_size = 3 : i64, has_bias = false} : tensor<5x2x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3xf32>, tensor<84x1x1xf32>
  return %y, %hn, %y2, %cn2, %y3 : tensor<5x2x3xf32>, tensor<1x2x3xf32>, tensor<5x2x6xf32>, tensor<4x2x3xf32>, tensor<5x2x3xf32>
}
