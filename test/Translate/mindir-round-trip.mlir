// RUN: rm -rf %t && mkdir -p %t
// RUN: dinfer-translate --export-mindir %s -o %t/ops.mindir
// RUN: dinfer-translate --import-mindir %t/ops.mindir | FileCheck %s
// Every op whose MindIR node carries attributes or constant inputs comes back
// from MindIR as it went in: both directions read the op's ODS table
// (mindirFields) and nothing else.
func.func @main(%x: tensor<2x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %c: tensor<4xf32>, %t: tensor<3x5xf32>, %ids: tensor<2x3xi32>, %table: tensor<10x5xf32>, %g: tensor<5xf32>)
    -> (tensor<2x6x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x8x8xf32>, tensor<3x5xi32>, tensor<1x3x5xf32>, tensor<3x5xf32>, tensor<3x1xf32>, tensor<5xf32>, tensor<3xf32>, tensor<2x256xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<5x5xf32>, tensor<3x5xf32>, tensor<3x3xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>) {
  %conv = nn.conv2d %x, %w {stride = array<i64: 2, 2>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, group = 2 : i64, pad_mode = "pad"} : tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>
  %avg = nn.avg_pool %x {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pad_mode = "valid"} : tensor<2x4x8x8xf32>
  %max = nn.max_pool %x {kernel_size = array<i64: 3, 3>, strides = array<i64: 3, 3>, pad_mode = "same"} : tensor<2x4x8x8xf32>
  %bn = nn.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-03 : f32} : tensor<2x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  %cast = nn.cast %t to i32 : tensor<3x5xf32>
  %expand = nn.expand_dims %t {axis = 0 : i64} : tensor<3x5xf32>
  %squeeze = nn.squeeze %expand {axis = array<i64: 0>} : tensor<1x3x5xf32>
  %sum = nn.reduce_sum %t {axis = array<i64: 1>, keep_dims = true} : tensor<3x5xf32>
  %mean = nn.reduce_mean %t {axis = array<i64: 0>} : tensor<3x5xf32>
  %rmax = nn.reduce_max %t {axis = array<i64: 1>} : tensor<3x5xf32>
  %flat = nn.flatten %x : tensor<2x4x8x8xf32>
  %offset = arith.constant dense<2> : tensor<i64>
  %emb = nn.embedding_lookup %table, %ids, %offset : tensor<10x5xf32>, tensor<2x3xi32>, tensor<i64>
  %gather = nn.gather %table, %ids {axis = 0 : i64} : tensor<10x5xf32>, tensor<2x3xi32>
  %tt = nn.matmul %t, %t {transpose_a = true} : tensor<3x5xf32>, tensor<3x5xf32>
  %rms = nn.rms_norm %t, %g {epsilon = 1.0e-05 : f32} : tensor<3x5xf32>, tensor<5xf32>
  %slice = nn.strided_slice %t {begin = array<i64: 0, 1>, end = array<i64: 2, 3>, strides = array<i64: 1, 1>, begin_mask = 2 : i64, end_mask = 1 : i64, shrink_axis_mask = 0 : i64} : tensor<3x5xf32>
  %gelu = nn.gelu %t {approximate = "tanh"} : tensor<3x5xf32>
  %lsm = nn.log_softmax %t {axis = 0 : i64} : tensor<3x5xf32>
  %wide = nn.broadcast_to %g {shape = array<i64: 3, 5>} : tensor<5xf32>
  %tiled = nn.tile %t {multiples = array<i64: 1, 1>} : tensor<3x5xf32>
  return %conv, %avg, %max, %bn, %cast, %expand, %squeeze, %sum, %mean, %rmax, %flat, %emb, %gather, %tt, %rms, %slice, %gelu, %lsm, %wide, %tiled
    : tensor<2x6x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x3x3xf32>, tensor<2x4x8x8xf32>, tensor<3x5xi32>, tensor<1x3x5xf32>,
      tensor<3x5xf32>, tensor<3x1xf32>, tensor<5xf32>, tensor<3xf32>, tensor<2x256xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>,
      tensor<5x5xf32>, tensor<3x5xf32>, tensor<3x3xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>
}

// CHECK: nn.conv2d %{{.*}}, %{{.*}} {group = 2 : i64, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>} : tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>
// CHECK: nn.avg_pool %{{.*}} {kernel_size = array<i64: 2, 2>, pad_mode = "valid", strides = array<i64: 2, 2>} : tensor<2x4x8x8xf32>
// CHECK: nn.max_pool %{{.*}} {kernel_size = array<i64: 3, 3>, pad_mode = "same", strides = array<i64: 3, 3>} : tensor<2x4x8x8xf32>
// CHECK: nn.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f32} : tensor<2x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
// CHECK: nn.cast %{{.*}} to i32 : tensor<3x5xf32>
// CHECK: nn.expand_dims %{{.*}} {axis = 0 : i64} : tensor<3x5xf32>
// CHECK: nn.squeeze %{{.*}} {axis = array<i64: 0>} : tensor<1x3x5xf32>
// CHECK: nn.reduce_sum %{{.*}} {axis = array<i64: 1>, keep_dims = true} : tensor<3x5xf32>
// CHECK: nn.reduce_mean %{{.*}} {axis = array<i64: 0>} : tensor<3x5xf32>
// CHECK: nn.reduce_max %{{.*}} {axis = array<i64: 1>} : tensor<3x5xf32>
// CHECK: nn.flatten %{{.*}} : tensor<2x4x8x8xf32>
// CHECK: nn.embedding_lookup %{{.*}}, %{{.*}}, %{{.*}} : tensor<10x5xf32>, tensor<2x3xi32>, tensor<i64>
// CHECK: nn.gather %{{.*}}, %{{.*}} : tensor<10x5xf32>, tensor<2x3xi32>
// CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_a = true} : tensor<3x5xf32>, tensor<3x5xf32>
// CHECK: nn.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<3x5xf32>, tensor<5xf32>
// CHECK: nn.strided_slice %{{.*}} {begin = array<i64: 0, 1>, begin_mask = 2 : i64, end = array<i64: 2, 3>, end_mask = 1 : i64, strides = array<i64: 1, 1>} : tensor<3x5xf32>
// CHECK: nn.gelu %{{.*}} {approximate = "tanh"} : tensor<3x5xf32>
// CHECK: nn.log_softmax %{{.*}} {axis = 0 : i64} : tensor<3x5xf32>
// CHECK: nn.broadcast_to %{{.*}} {shape = array<i64: 3, 5>} : tensor<5xf32>
// CHECK: nn.tile %{{.*}} {multiples = array<i64: 1, 1>} : tensor<3x5xf32>
