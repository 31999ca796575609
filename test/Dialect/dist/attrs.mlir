// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// CHECK-LABEL: func.func @device_matrix
// CHECK-SAME: dm = #dist.dev_matrix<[2, 4]>
// CHECK-SAME: dm1 = #dist.dev_matrix<[8]>
func.func @device_matrix() attributes {dm = #dist.dev_matrix<[2, 4]>, dm1 = #dist.dev_matrix<[8]>} {
  return
}

// Default-valued entries are elided when printed; attributes print sorted.
// CHECK-LABEL: func.func @layouts
// CHECK-SAME: multi = #dist.layout<dev_matrix = [2, 2, 2], tensor_map = {{\[\[}}2, 1], -1]>
// CHECK-SAME: opt = #dist.layout<dev_matrix = [4, 2], tensor_map = [0, -1], opt_shard_step = 2, opt_shard_size = -1>
// CHECK-SAME: partial = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, -1], partial = [0]>
// CHECK-SAME: plain = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>
// CHECK-SAME: scalar = #dist.layout<dev_matrix = [4], tensor_map = []>
// CHECK-SAME: staged = #dist.layout<dev_matrix = [4], tensor_map = [0], stage = 1>
func.func @layouts() attributes {
  plain = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>,
  multi = #dist.layout<dev_matrix = [2, 2, 2], tensor_map = [[2, 1], -1]>,
  opt = #dist.layout<dev_matrix = [4, 2], tensor_map = [0, -1], opt_shard_step = 2, opt_shard_size = -1>,
  partial = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, -1], partial = [0]>,
  scalar = #dist.layout<dev_matrix = [4], tensor_map = []>,
  staged = #dist.layout<tensor_map = [0], dev_matrix = [4], stage = 1, opt_shard_step = 0>
} {
  return
}

// A single-axis list is the same as the bare axis.
// CHECK-LABEL: func.func @single_axis_list
// CHECK-SAME: l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>
func.func @single_axis_list() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, [0]]>} {
  return
}

// -----

// An op strategy and stage, as --dist-attach-strategy writes them.
// CHECK-LABEL: func.func @op_strategy
// CHECK: nn.matmul %{{.*}}, %{{.*}} {dist.stage = 1 : i64, dist.strategy = #dist.strategy<[2, 1], [1, 4]>}
func.func @op_strategy(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  %0 = nn.matmul %x, %w {dist.stage = 1 : i64, dist.strategy = #dist.strategy<[2, 1], [1, 4]>} : tensor<8x16xf32>, tensor<16x32xf32>
  return %0 : tensor<8x32xf32>
}

// A box of a training checkpoint (--dist-materialize-params writes them in
// dist.sources): printed as parsed.
// CHECK-LABEL: func.func @source_boxes
// CHECK-SAME: box = #dist.source<rank = 3, offset = [0, 64], shape = [128, 64], at = [0, 0]>
// CHECK-SAME: scalar = #dist.source<rank = 0, offset = [], shape = [], at = []>
func.func @source_boxes() attributes {box = #dist.source<rank = 3, offset = [0, 64], shape = [128, 64], at = [0, 0]>,
                                      scalar = #dist.source<rank = 0, offset = [], shape = [], at = []>} {
  return
}

// How a predict layout was derived (--dist-infer-predict-layout writes it on
// every dist.param).
// CHECK-LABEL: func.func @rules
// CHECK: dist.rule = #dist.rule<dropped_replicas>
// CHECK: dist.rule = #dist.rule<shrunk_model_parallel>
func.func @rules() -> (tensor<4xf32>, tensor<4xf32>) {
  %a = dist.param "a" {dist.rule = #dist.rule<dropped_replicas>} : tensor<4xf32>
  %b = dist.param "b" {dist.rule = #dist.rule<shrunk_model_parallel>} : tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}
