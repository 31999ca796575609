// RUN: dinfer-opt %s --split-input-file --test-dist-sharding-rules -o /dev/null 2>&1 | FileCheck %s

// The sharding rule of every nn op, in Shardy's factor notation: per operand
// and result the factors of each dimension, then the factor sizes, then the
// factors summed over (a split leaves a pending sum) and those that must stay
// whole.

func.func @ops(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %b: tensor<32xf32>, %q: tensor<2x4x8x16xf32>,
               %k: tensor<2x4x16x8xf32>, %bias: tensor<16xf32>, %s: tensor<f32>, %c: tensor<8x16xi1>,
               %g: tensor<16xf32>, %ids: tensor<3x5xi32>, %img: tensor<2x3x8x8xf32>, %f: tensor<4x3x3x3xf32>,
               %st: tensor<3xf32>) {
  // CHECK: sharding rule ([i, j])->([i, j]) {i=8, j=16}
  %0 = nn.relu %x : tensor<8x16xf32>
  // Broadcast bias: its one dimension shares the result's last factor.
  // CHECK: sharding rule ([i, j], [j])->([i, j]) {i=8, j=16}
  %1 = nn.add %x, %bias : tensor<8x16xf32>, tensor<16xf32>
  // A scalar has no dimensions to split.
  // CHECK: sharding rule ([], [i, j])->([i, j]) {i=8, j=16}
  %2 = nn.mul %s, %x : tensor<f32>, tensor<8x16xf32>
  // CHECK: sharding rule ([i, j], [i, j], [])->([i, j]) {i=8, j=16}
  %3 = nn.select %c, %x, %s : tensor<8x16xi1>, tensor<8x16xf32>, tensor<f32>
  // Comparisons and logic are elementwise too; their results are booleans.
  // CHECK: sharding rule ([i, j], [j])->([i, j]) {i=8, j=16}
  %cmp = nn.greater_equal %x, %bias : tensor<8x16xf32>, tensor<16xf32>
  // CHECK: sharding rule ([i, j], [i, j])->([i, j]) {i=8, j=16}
  %either = nn.logical_or %cmp, %c : tensor<8x16xi1>, tensor<8x16xi1>
  // Tile: the tiled dimension stays whole on both sides.
  // CHECK: sharding rule ([i, k])->([j, k]) {i=8, j=24, k=16} need_replication={i, j}
  %tiled = nn.tile %x {multiples = array<i64: 3, 1>} : tensor<8x16xf32>
  // MatMul: the contraction factor k is summed over.
  // CHECK: sharding rule ([i, k], [k, j])->([i, j]) {i=8, j=32, k=16} reduction={k}
  %4 = nn.matmul %x, %w : tensor<8x16xf32>, tensor<16x32xf32>
  // Transposed operands: the factors follow the logical dimensions.
  // CHECK: sharding rule ([k, i], [j, k])->([i, j]) {i=32, j=8, k=16} reduction={k}
  %5 = nn.matmul %w, %x {transpose_a = true, transpose_b = true} : tensor<16x32xf32>, tensor<8x16xf32>
  // CHECK: sharding rule ([i, j, k, m], [i, j, m, l])->([i, j, k, l]) {i=2, j=4, k=8, l=8, m=16} reduction={m}
  %6 = nn.batch_matmul %q, %k : tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>
  // A 2-D weight broadcast over the batch dimensions.
  // CHECK: sharding rule ([i, j, k, m], [m, l])->([i, j, k, l]) {i=2, j=4, k=8, l=32, m=16} reduction={m}
  %7 = nn.batch_matmul %q, %w : tensor<2x4x8x16xf32>, tensor<16x32xf32>
  // Softmax: its axis stays whole.
  // CHECK: sharding rule ([i, j])->([i, j]) {i=8, j=16} need_replication={j}
  %8 = nn.softmax %x : tensor<8x16xf32>
  // CHECK: sharding rule ([i, j], [j], [j])->([i, j]) {i=8, j=16} need_replication={j}
  %9 = nn.layer_norm %x, %g, %g : tensor<8x16xf32>, tensor<16xf32>, tensor<16xf32>
  // CHECK: sharding rule ([i, j, k, l])->([i, k]) {i=2, j=4, k=8, l=16} reduction={j, l}
  %10 = nn.reduce_sum %q {axis = array<i64: 1, 3>} : tensor<2x4x8x16xf32>
  // keep_dims: the reduced dimension stays as a 1 without a factor.
  // CHECK: sharding rule ([i, j])->([i, 1]) {i=8, j=16} reduction={j}
  %11 = nn.reduce_max %x {axis = array<i64: -1>, keep_dims = true} : tensor<8x16xf32>
  // Merging dimensions: the merged one is made of both factors, major first.
  // CHECK: sharding rule ([i, j, k, l])->([ij, k, l]) {i=2, j=4, k=8, l=16}
  %12 = nn.reshape %q {shape = array<i64: 8, 8, 16>} : tensor<2x4x8x16xf32>
  // Splitting a dimension.
  // CHECK: sharding rule ([i, jk])->([i, j, k]) {i=8, j=2, k=8}
  %13 = nn.reshape %x {shape = array<i64: 8, 2, 8>} : tensor<8x16xf32>
  // [8,16] -> [16,8]: 16 = 8 x 2 then 2 x 8: the shapes still nest.
  // CHECK: sharding rule ([i, jk])->([ij, k]) {i=8, j=2, k=8}
  %14 = nn.reshape %x {shape = array<i64: 16, 8>} : tensor<8x16xf32>
  // CHECK: sharding rule ([i, j, k, l])->([i, k, j, l]) {i=2, j=4, k=8, l=16}
  %15 = nn.transpose %q {perm = array<i64: 0, 2, 1, 3>} : tensor<2x4x8x16xf32>
  // Concat: the axis stays whole in every operand and the result.
  // CHECK: sharding rule ([i, j], [i, k])->([i, l]) {i=8, j=16, k=16, l=32} need_replication={j, k, l}
  %16 = nn.concat %x, %x {axis = 1 : i64} : tensor<8x16xf32>, tensor<8x16xf32>
  // CHECK: sharding rule ([i, l])->([j, l], [k, l]) {i=8, j=4, k=4, l=16} need_replication={i, j, k}
  %17:2 = nn.split %x {axis = 0 : i64, output_num = 2 : i64} : tensor<8x16xf32>
  // A slice of part of a dimension: that dimension stays whole.
  // CHECK: sharding rule ([i, j])->([i, k]) {i=8, j=16, k=8} need_replication={j, k}
  %18 = nn.strided_slice %x {begin = array<i64: 0, 4>, end = array<i64: 8, 12>, strides = array<i64: 1, 1>} : tensor<8x16xf32>
  // Gather on a vocabulary-split table: V is summed over (mask, look up, all_reduce).
  // CHECK: sharding rule ([i, l], [j, k])->([j, k, l]) {i=16, j=3, k=5, l=32} reduction={i}
  %19 = nn.gather %w, %ids {axis = 0 : i64} : tensor<16x32xf32>, tensor<3x5xi32>
  // Conv2D: batch and output channels parallel, input channels summed over, windows whole.
  // CHECK: sharding rule ([i, k, l, o], [j, k, m, p])->([i, j, n, q]) {i=2, j=4, k=3, l=8, m=3, n=8, o=8, p=3, q=8} reduction={k} need_replication={l, m, n, o, p, q}
  %20 = nn.conv2d %img, %f {pad = array<i64: 1, 1, 1, 1>} : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>
  // CHECK: sharding rule ([i, j, k, m])->([i, j, l, n]) {i=2, j=3, k=8, l=4, m=8, n=4} need_replication={k, l, m, n}
  %21 = nn.max_pool %img {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<2x3x8x8xf32>
  // CHECK: sharding rule ([i, j, k, l], [j], [j], [j], [j])->([i, j, k, l]) {i=2, j=3, k=8, l=8}
  %22 = nn.batch_norm %img, %st, %st, %st, %st : tensor<2x3x8x8xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  // CHECK: sharding rule ([i, j, k, l], [j])->([i, j, k, l]) {i=2, j=3, k=8, l=8}
  %23 = nn.bias_add %img, %st : tensor<2x3x8x8xf32>, tensor<3xf32>
  // CHECK: sharding rule ([i, j], [j])->([i, j]) {i=8, j=16} need_replication={j}
  %24 = nn.rms_norm %x, %g : tensor<8x16xf32>, tensor<16xf32>
  return
}

// -----
// LSTM: only the batch is parallel; the steps run in order on the whole state.
func.func @lstm(%x: tensor<5x2x4xf32>, %h: tensor<1x2x3xf32>, %w: tensor<96x1x1xf32>) {
  // CHECK: sharding rule ([j, i, l], [n, i, p], [r, i, t], [v, w, x])->([k, i, m], [o, i, q], [s, i, u]) {i=2, j=5, k=5, l=4, m=3, n=1, o=1, p=3, q=3, r=1, s=1, t=3, u=3, v=96, w=1, x=1} need_replication={j, k, l, m, n, o, p, q, r, s, t, u, v, w, x}
  %y, %hn, %cn = nn.lstm %x, %h, %h, %w {input_size = 4 : i64, hidden_size = 3 : i64} : tensor<5x2x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3xf32>, tensor<96x1x1xf32>
  return
}

// -----
// Volumes: pooling keeps batch and channels parallel; a transposed
// convolution only its batch.
func.func @volumes(%x: tensor<2x4x6x6x6xf32>, %w: tensor<4x1x3x3x3xf32>) {
  // CHECK: sharding rule ([i, j, k, m, o])->([i, j, l, n, p]) {i=2, j=4, k=6, l=3, m=6, n=3, o=6, p=3} need_replication={k, l, m, n, o, p}
  %0 = nn.avg_pool3d %x {kernel_size = array<i64: 2, 2, 2>, strides = array<i64: 2, 2, 2>} : tensor<2x4x6x6x6xf32>
  // CHECK: sharding rule
  // CHECK-SAME: {i=2,
  %1 = nn.conv3d_transpose %x, %w {group = 4 : i64} : tensor<2x4x6x6x6xf32>, tensor<4x1x3x3x3xf32>
  return
}

// -----
// Shapes that stop nesting stay whole; a factor may be the minor part of one
// dimension and the major part of another.
func.func @reshapes(%y: tensor<6x4xf32>, %z: tensor<4x6x5xf32>) {
  // CHECK: sharding rule ([i, j])->([k, l]) {i=6, j=4, k=4, l=6} need_replication={i, j, k, l}
  %0 = nn.reshape %y {shape = array<i64: 4, 6>} : tensor<6x4xf32>
  // CHECK: sharding rule ([i, jk, l])->([i, j, kl]) {i=4, j=3, k=2, l=5}
  %1 = nn.reshape %z {shape = array<i64: 4, 3, 10>} : tensor<4x6x5xf32>
  return
}

// -----

// Index searches and scans keep their axis whole; a padded dimension stays
// whole, an unpadded one splits; ops that follow index data need every
// dimension whole.
func.func @indexing(%x: tensor<8x16xf32>, %i: tensor<8x4xi64>, %nd: tensor<3x1xi64>, %u: tensor<3x16xf32>) {
  // CHECK: sharding rule ([i, j])->([j]) {i=8, j=16} need_replication={i}
  %0 = nn.argmax %x {axis = 0 : i64} : tensor<8x16xf32>
  // CHECK: sharding rule ([i, j])->([i, k]) {i=8, j=16, k=16} need_replication={j, k}
  %1 = nn.cumsum %x {axis = 1 : i64} : tensor<8x16xf32>
  // CHECK: sharding rule ([i, j], [i, k])->([i, l]) {i=8, j=16, k=4, l=4} need_replication={j, k, l}
  %2 = nn.gather_d %x, %i {dim = 1 : i64} : tensor<8x16xf32>, tensor<8x4xi64>
  // CHECK: sharding rule ([i, j])->([i, k]) {i=8, j=16, k=18} need_replication={j, k}
  %3 = nn.pad %x {paddings = array<i64: 0, 0, 1, 1>} : tensor<8x16xf32>
  // CHECK: sharding rule ([i, j], [k, l], [m, n])->([o, p]) {i=8, j=16, k=3, l=1, m=3, n=16, o=8, p=16} need_replication={i, j, k, l, m, n, o, p}
  %4 = nn.tensor_scatter_update %x, %nd, %u : tensor<8x16xf32>, tensor<3x1xi64>, tensor<3x16xf32>
  return
}
