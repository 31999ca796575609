// RUN: dinfer-opt %s --split-input-file --dist-propagate --dist-partition | FileCheck %s

// The Megatron MLP on 8 devices (dp 2 x tp 4) as one program per rank: local
// shapes, parameters as references to the slices they need, exactly one
// all_reduce for the column/row pair, the bias added where the batch already
// is (an op that splits no parameter keeps its batch on the products' axis),
// and the output gathered whole.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.*]]: tensor<4x16xf32> {dist.layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [1, -1]>}) -> tensor<8x16xf32>
// CHECK-SAME: attributes {dist.partitioned}
// CHECK: dist.param "w1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>, local} : tensor<16x8xf32>
// CHECK: dist.param "w2" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, -1]>, local} : tensor<8x16xf32>
// CHECK: nn.matmul %[[X]], %{{.*}} : tensor<4x16xf32>, tensor<16x8xf32>
// CHECK: %[[P:.*]] = nn.matmul %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>
// CHECK-NEXT: %[[S:.*]] = dist.all_reduce %[[P]] sum axes = [0] dev_matrix = <[2, 4]> : tensor<4x16xf32>
// CHECK-NEXT: %[[B:.*]] = nn.add %[[S]], %{{.*}} : tensor<4x16xf32>, tensor<16xf32>
// CHECK-NEXT: %[[W:.*]] = dist.all_gather %[[B]] axes = [1] dim = 0 dev_matrix = <[2, 4]> : tensor<4x16xf32>
// CHECK-NEXT: return %[[W]] : tensor<8x16xf32>
// CHECK-NOT: dist.strategy
module attributes {dist.device_num = 8 : i64} {
  func.func @mlp(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w1 = dist.param "w1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>} : tensor<16x32xf32>
    %b1 = dist.param "b1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0]>} : tensor<32xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, -1]>} : tensor<32x16xf32>
    %b2 = dist.param "b2" : tensor<16xf32>
    %h = nn.matmul %x, %w1 {dist.strategy = #dist.strategy<[2, 1], [1, 4]>} : tensor<8x16xf32>, tensor<16x32xf32>
    %hb = nn.add %h, %b1 {dist.strategy = #dist.strategy<[2, 4], [4]>} : tensor<8x32xf32>, tensor<32xf32>
    %r = nn.relu %hb : tensor<8x32xf32>
    %y = nn.matmul %r, %w2 {dist.strategy = #dist.strategy<[2, 4], [4, 1]>} : tensor<8x32xf32>, tensor<32x16xf32>
    %z = nn.add %y, %b2 {dist.strategy = #dist.strategy<[2, 1], [1]>} : tensor<8x16xf32>, tensor<16xf32>
    return %z : tensor<8x16xf32>
  }
}

// -----

// Heads split two ways: the reshape into heads gets its local shape, the
// per-head products need no collective, the row-parallel projection one.
// CHECK-LABEL: func.func @heads
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 16, 2, 8>} : tensor<16x16xf32>
// CHECK-NOT: dist.all
// CHECK: nn.reshape %{{.*}} {shape = array<i64: 16, 16>} : tensor<16x2x8xf32>
// CHECK: nn.matmul
// CHECK-NEXT: dist.all_reduce %{{.*}} sum axes = [0] dev_matrix = <[2]> : tensor<16x32xf32>
// CHECK-NEXT: return
module attributes {dist.device_num = 2 : i64} {
  func.func @heads(%x: tensor<16x32xf32>) -> tensor<16x32xf32> {
    %wq = dist.param "wq" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<32x32xf32>
    %wo = dist.param "wo" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>} : tensor<32x32xf32>
    %q = nn.matmul %x, %wq {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<16x32xf32>, tensor<32x32xf32>
    %h = nn.reshape %q {shape = array<i64: 16, 4, 8>} : tensor<16x32xf32>
    %t = nn.transpose %h {perm = array<i64: 1, 0, 2>} : tensor<16x4x8xf32>
    %s = nn.batch_matmul %t, %t {transpose_b = true} : tensor<4x16x8xf32>, tensor<4x16x8xf32>
    %p = nn.softmax %s : tensor<4x16x16xf32>
    %a = nn.batch_matmul %p, %t : tensor<4x16x16xf32>, tensor<4x16x8xf32>
    %u = nn.transpose %a {perm = array<i64: 1, 0, 2>} : tensor<4x16x8xf32>
    %m = nn.reshape %u {shape = array<i64: 16, 32>} : tensor<16x4x8xf32>
    %o = nn.matmul %m, %wo {dist.strategy = #dist.strategy<[1, 2], [2, 1]>} : tensor<16x32xf32>, tensor<32x32xf32>
    return %o : tensor<16x32xf32>
  }
}

// -----

// Layouts upstream's partitioner gets wrong. A 3-D device matrix with axes 2
// and 1 on one dimension, resharded to the transposed placement: gathered
// over both axes at once (group order major first), then split locally. An
// axis swap on [2, 4] ([[0],[1]] to [[1],[0]]). A non-splat constant split
// to match its user (--dist-split-ranks then keeps each rank's piece only).
// The resharding is correct but not yet the cheapest (no all_to_all).
// CHECK-LABEL: func.func @edges
// CHECK: dist.param "w" {layout = #dist.layout<dev_matrix = [2, 2, 2], tensor_map = {{\[\[}}2, 1], 0]>, local} : tensor<4x4xf32>
// CHECK: %[[W:.*]] = dist.all_gather %{{.*}} axes = [2, 1] dim = 0 dev_matrix = <[2, 2, 2]> : tensor<4x4xf32>
// CHECK-NEXT: %[[WW:.*]] = dist.all_gather %[[W]] axes = [0] dim = 1 dev_matrix = <[2, 2, 2]> : tensor<16x4xf32>
// CHECK-NEXT: %[[S:.*]] = dist.local_split %[[WW]] axes = [0] dim = 0 dev_matrix = <[2, 2, 2]> : tensor<16x8xf32>
// CHECK-NEXT: dist.local_split %[[S]] axes = [2, 1] dim = 1 dev_matrix = <[2, 2, 2]> : tensor<8x8xf32>
// CHECK: dist.all_gather %{{.*}} axes = [0] dim = 0 dev_matrix = <[2, 4]> : tensor<4x4xf32>
// CHECK-NEXT: dist.all_gather %{{.*}} axes = [1] dim = 1 dev_matrix = <[2, 4]> : tensor<16x4xf32>
// CHECK-NEXT: dist.local_split %{{.*}} axes = [1] dim = 0 dev_matrix = <[2, 4]> : tensor<16x8xf32>
// CHECK-NEXT: dist.local_split %{{.*}} axes = [0] dim = 1 dev_matrix = <[2, 4]> : tensor<8x8xf32>
// CHECK: %[[C:.*]] = arith.constant dense<{{.*}}> : tensor<1x8xf32>
// CHECK-NEXT: %[[CS:.*]] = dist.local_split %[[C]] axes = [2, 1] dim = 1 dev_matrix = <[2, 2, 2]> : tensor<1x8xf32>
// CHECK-NEXT: nn.add %{{.*}}, %[[CS]] : tensor<8x2xf32>, tensor<1x2xf32>
module attributes {dist.device_num = 8 : i64} {
  func.func @edges(%x: tensor<16x8xf32>) -> tensor<16x8xf32> {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 2, 2], tensor_map = [[2, 1], 0]>} : tensor<16x8xf32>
    %v = dist.param "v" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, 1]>} : tensor<16x8xf32>
    %s = dist.annotate %w layout <dev_matrix = [2, 2, 2], tensor_map = [0, [2, 1]]> : tensor<16x8xf32>
    %t = dist.annotate %v layout <dev_matrix = [2, 4], tensor_map = [1, 0]> : tensor<16x8xf32>
    %c = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]> : tensor<1x8xf32>
    %a = nn.add %s, %c : tensor<16x8xf32>, tensor<1x8xf32>
    %b = nn.mul %a, %x : tensor<16x8xf32>, tensor<16x8xf32>
    %o = nn.add %b, %t : tensor<16x8xf32>, tensor<16x8xf32>
    return %o : tensor<16x8xf32>
  }
}

// -----

// A vocabulary-parallel embedding: each rank looks up its rows from its
// slice's first row (zeros for the others), and one all_reduce sums them.
// CHECK-LABEL: func.func @vocabulary
// CHECK: %[[T:.*]] = dist.param "table" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>, local} : tensor<5x8xf32>
// CHECK-NEXT: %[[O:.*]] = dist.shard_offset axes = [0] dev_matrix = <[2]> piece = 5 : tensor<i64>
// CHECK-NEXT: %[[E:.*]] = nn.embedding_lookup %[[T]], %{{.*}}, %[[O]] : tensor<5x8xf32>, tensor<4xi32>, tensor<i64>
// CHECK-NEXT: dist.all_reduce %[[E]] sum axes = [0] dev_matrix = <[2]> : tensor<4x8xf32>
// CHECK-NOT: nn.gather
module attributes {dist.device_num = 2 : i64} {
  func.func @vocabulary(%ids: tensor<4xi32>) -> tensor<4x8xf32> {
    %table = dist.param "table" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>} : tensor<10x8xf32>
    %e = nn.gather %table, %ids {axis = 0 : i64, dist.strategy = #dist.strategy<[2, 1], [1]>} : tensor<10x8xf32>, tensor<4xi32>
    return %e : tensor<4x8xf32>
  }
}

// -----

// An op with several results gets a local type per result. A reshape whose
// output dimension would be split on its minor factor only ([2, 16] split on
// 16 into [4, 8]) is not a block split: the input is gathered first.
// CHECK-LABEL: func.func @chunks
// CHECK: %[[S:.*]]:2 = nn.split %{{.*}} {output_num = 2 : i64} : tensor<4x8xf32>
// CHECK-NEXT: %[[A:.*]] = nn.add %[[S]]#0, %[[S]]#1 : tensor<2x8xf32>, tensor<2x8xf32>
// CHECK-NEXT: %[[G:.*]] = dist.all_gather %[[A]] axes = [0] dim = 1 dev_matrix = <[2]> : tensor<2x8xf32>
// CHECK-NEXT: nn.reshape %[[G]] {shape = array<i64: 4, 8>} : tensor<2x16xf32>
// CHECK-NOT: dist.result_layouts
module attributes {dist.device_num = 2 : i64} {
  func.func @chunks(%x: tensor<4x16xf32>) -> tensor<4x8xf32> {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<16x16xf32>
    %h = nn.matmul %x, %w {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<4x16xf32>, tensor<16x16xf32>
    %a:2 = nn.split %h {axis = 0 : i64, output_num = 2 : i64} : tensor<4x16xf32>
    %s = nn.add %a#0, %a#1 : tensor<2x16xf32>, tensor<2x16xf32>
    %r = nn.reshape %s {shape = array<i64: 4, 8>} : tensor<2x16xf32>
    return %r : tensor<4x8xf32>
  }
}

// -----

// Device axes moving from one dimension to another: one all_to_all each, for
// one axis and for two axes together, no gather of the whole tensor.
// CHECK-LABEL: func.func @moves
// CHECK: dist.all_to_all %{{.*}} axes = [1] split_dim = 1 concat_dim = 0 dev_matrix = <[2, 2]> : tensor<4x16xf32>
// CHECK: dist.all_to_all %{{.*}} axes = [1, 0] split_dim = 1 concat_dim = 0 dev_matrix = <[2, 2]> : tensor<2x16xf32>
module attributes {dist.device_num = 4 : i64} {
  func.func @moves(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [1, -1]>} : tensor<8x16xf32>
    %s = dist.annotate %w layout <dev_matrix = [2, 2], tensor_map = [-1, 1]> : tensor<8x16xf32>
    %v = dist.param "v" {layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [[1, 0], -1]>} : tensor<8x16xf32>
    %t = dist.annotate %v layout <dev_matrix = [2, 2], tensor_map = [-1, [1, 0]]> : tensor<8x16xf32>
    %a = nn.add %s, %t : tensor<8x16xf32>, tensor<8x16xf32>
    return %a : tensor<8x16xf32>
  }
}

// -----

// A split that refines the one a value has: the layouts are compared over the
// device matrix that refines both ([4] over [2, 2]). Heads split 2 ways on
// the major axis of [2, 2] to heads split 4 ways over all devices (the KV
// heads of grouped-query attention, each on two ranks, to the query heads'
// split): every rank cuts its piece from the heads it holds, with nothing
// sent. The reverse keeps the common major split and gathers the minor one.
// CHECK-LABEL: func.func @refines
// CHECK-NOT: dist.all_gather
// CHECK: dist.local_split %{{.*}} axes = [0] dim = 1 dev_matrix = <[2, 2]> : tensor<1x4x8xf32>
// CHECK-NEXT: dist.all_gather %{{.*}} axes = [0] dim = 1 dev_matrix = <[2, 2]> : tensor<1x2x8xf32>
// CHECK-NOT: dist.local_split
// CHECK: return
module attributes {dist.device_num = 4 : i64} {
  func.func @refines(%x: tensor<1x8x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x8x8xf32>) {
    %kv = dist.param "kv" {layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [-1, 1, -1]>} : tensor<1x8x8xf32>
    %q = dist.annotate %kv layout <dev_matrix = [4], tensor_map = [-1, 0, -1]> : tensor<1x8x8xf32>
    %back = dist.annotate %q layout <dev_matrix = [2, 2], tensor_map = [-1, 1, -1]> : tensor<1x8x8xf32>
    return %q, %back : tensor<1x8x8xf32>, tensor<1x8x8xf32>
  }
}

// -----

// Grouped-query attention's KV heads repeated for their query heads
// (Hugging Face's repeat_kv, an nn.broadcast_to): with the KV heads split
// two ways, the broadcast takes its local shape.
// CHECK-LABEL: func.func @repeat_kv
// CHECK: nn.broadcast_to %{{.*}} {shape = array<i64: 2, 1, 4, 8, 16>} : tensor<2x1x1x8x16xf32>
module attributes {dist.device_num = 2 : i64} {
  func.func @repeat_kv(%kv: tensor<2x2x1x8x16xf32>) -> tensor<2x2x4x8x16xf32> {
    %r = nn.broadcast_to %kv {shape = array<i64: 2, 2, 4, 8, 16>, dist.strategy = #dist.strategy<[1, 2, 1, 1, 1]>} : tensor<2x2x1x8x16xf32>
    return %r : tensor<2x2x4x8x16xf32>
  }
}

// -----

// A mean over a split axis (a spelled-out layer norm after a column-parallel
// product): each rank averages its slice, the local mean is scaled by one
// over the pieces, and the all_reduce sums the scaled means.
// CHECK-LABEL: func.func @split_mean
// CHECK: %[[M:.*]] = nn.reduce_mean %{{.*}} {axis = array<i64: 1>, keep_dims = true} : tensor<4x4xf32>
// CHECK-NEXT: %[[K:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT: %[[S:.*]] = nn.mul %[[M]], %[[K]] : tensor<4x1xf32>, tensor<f32>
// CHECK-NEXT: dist.all_reduce %[[S]] sum axes = [0] dev_matrix = <[2]> : tensor<4x1xf32>
module attributes {dist.device_num = 2 : i64} {
  func.func @split_mean(%x: tensor<4x8xf32>) -> tensor<4x1xf32> {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<8x8xf32>
    %h = nn.matmul %x, %w {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<4x8xf32>, tensor<8x8xf32>
    %m = nn.reduce_mean %h {axis = array<i64: 1>, keep_dims = true, dist.strategy = #dist.strategy<[1, 2]>} : tensor<4x8xf32>
    return %m : tensor<4x1xf32>
  }
}

// -----

// A pending sum wanted split along a dimension over its own axes: one
// reduce_scatter, not an all_reduce and a local split.
// CHECK-LABEL: func.func @sum_then_split
// CHECK: %[[P:.*]] = nn.matmul
// CHECK-NEXT: dist.reduce_scatter %[[P]] sum axes = [0] dim = 0 dev_matrix = <[4]> : tensor<8x16xf32>
// CHECK-NOT: dist.all_reduce
module attributes {dist.device_num = 4 : i64} {
  func.func @sum_then_split(%x: tensor<8x16xf32> {dist.layout = #dist.layout<dev_matrix = [4], tensor_map = [-1, 0]>}) -> tensor<8x16xf32> {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [4], tensor_map = [0, -1]>} : tensor<16x16xf32>
    %p = nn.matmul %x, %w {dist.strategy = #dist.strategy<[1, 4], [4, 1]>} : tensor<8x16xf32>, tensor<16x16xf32>
    %s = dist.annotate %p layout <dev_matrix = [4], tensor_map = [0, -1]> : tensor<8x16xf32>
    %r = nn.relu %s : tensor<8x16xf32>
    return %r : tensor<8x16xf32>
  }
}

// -----

// A key/value cache kept split: the past comes in and the present leaves in
// the heads layout the function states for them (dist.layout on the argument
// and on the result), so appending this step's keys, split the same way by
// the column-parallel projection, needs no collective; only the other output
// is gathered.
// CHECK-LABEL: func.func @cache
// CHECK-SAME: %[[PAST:arg1]]: tensor<2x2x3xf32> {dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0, -1]>})
// CHECK-SAME: -> (tensor<2x2x4xf32> {dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0, -1]>}, tensor<2x4xf32>)
// CHECK-NOT: dist.all_gather
// CHECK: %[[PRESENT:.*]] = nn.concat %[[PAST]], %{{.*}} {axis = 2 : i64} : tensor<2x2x3xf32>, tensor<2x2x1xf32>
// CHECK-NEXT: %[[Y:.*]] = nn.relu
// CHECK-NEXT: %[[W:.*]] = dist.all_gather %[[Y]]
// CHECK-NEXT: return %[[PRESENT]], %[[W]] : tensor<2x2x4xf32>, tensor<2x4xf32>
module attributes {dist.device_num = 2 : i64} {
  func.func @cache(%x: tensor<2x8xf32>,
                   %past: tensor<2x4x3xf32> {dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0, -1]>})
      -> (tensor<2x4x4xf32> {dist.layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0, -1]>}, tensor<2x4xf32>) {
    %w = dist.param "wk" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<8x4xf32>
    %k = nn.matmul %x, %w {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<2x8xf32>, tensor<8x4xf32>
    %kh = nn.reshape %k {shape = array<i64: 2, 4, 1>} : tensor<2x4xf32>
    %present = nn.concat %past, %kh {axis = 2 : i64} : tensor<2x4x3xf32>, tensor<2x4x1xf32>
    %y = nn.relu %k : tensor<2x4xf32>
    return %present, %y : tensor<2x4x4xf32>, tensor<2x4xf32>
  }
}
