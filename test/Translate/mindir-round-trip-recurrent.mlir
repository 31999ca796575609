// RUN: rm -rf %t && mkdir -p %t
// RUN: dinfer-translate --export-mindir %s -o %t/lstm.mindir
// RUN: dinfer check-mindir %t/lstm.mindir | FileCheck %s --check-prefix=CHECKED
// RUN: dinfer inspect %t/lstm.mindir | FileCheck %s --check-prefix=NODES
// RUN: dinfer-translate --import-mindir %t/lstm.mindir | FileCheck %s
// MindSpore's LSTM primitive travels with its six attributes; its node's
// output is a tuple of five (the output, both final states, and the two
// workspaces MindSpore's CPU kernel adds), of which the program reads three.
func.func @main(%x: tensor<5x2x4xf32>, %h: tensor<2x2x3xf32>, %w: tensor<192x1x1xf32>)
    -> (tensor<5x2x6xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>) {
  %y, %hn, %cn = nn.lstm %x, %h, %h, %w {input_size = 4 : i64, hidden_size = 3 : i64, bidirectional = true} : tensor<5x2x4xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>, tensor<192x1x1xf32>
  return %y, %hn, %cn : tensor<5x2x6xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>
}

// CHECKED: lstm.mindir: ok
// NODES: ops: Constant x3 LSTM MakeTuple TupleGetItem x3
// CHECK: %output, %h_n, %c_n = nn.lstm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {bidirectional = true, hidden_size = 3 : i64, input_size = 4 : i64} : tensor<5x2x4xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>, tensor<192x1x1xf32>
// CHECK: return %output, %h_n, %c_n
