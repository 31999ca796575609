// RUN: dinfer-opt %s | FileCheck %s
// LeNet-5 as MindSpore's model zoo defines it (the network of the sample
// checkpoint lenet_v111.ckpt), NCHW, batch 32.

// CHECK-LABEL: func.func @lenet
func.func @lenet(%x: tensor<32x1x32x32xf32>) -> tensor<32x10xf32> {
  %c1 = dist.param "conv1.weight" : tensor<6x1x5x5xf32>
  %c2 = dist.param "conv2.weight" : tensor<16x6x5x5xf32>
  %f1w = dist.param "fc1.weight" : tensor<120x400xf32>
  %f1b = dist.param "fc1.bias" : tensor<120xf32>
  %f2w = dist.param "fc2.weight" : tensor<84x120xf32>
  %f2b = dist.param "fc2.bias" : tensor<84xf32>
  %f3w = dist.param "fc3.weight" : tensor<10x84xf32>
  %f3b = dist.param "fc3.bias" : tensor<10xf32>
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} {pad_mode = "valid"} : tensor<32x1x32x32xf32>, tensor<6x1x5x5xf32>
  %0 = nn.conv2d %x, %c1 {pad_mode = "valid"} : tensor<32x1x32x32xf32>, tensor<6x1x5x5xf32>
  %1 = nn.relu %0 : tensor<32x6x28x28xf32>
  %2 = nn.max_pool %1 {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<32x6x28x28xf32>
  %3 = nn.conv2d %2, %c2 {pad_mode = "valid"} : tensor<32x6x14x14xf32>, tensor<16x6x5x5xf32>
  %4 = nn.relu %3 : tensor<32x16x10x10xf32>
  %5 = nn.max_pool %4 {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<32x16x10x10xf32>
  // CHECK: nn.flatten %{{.*}} : tensor<32x16x5x5xf32>
  %6 = nn.flatten %5 : tensor<32x16x5x5xf32>
  %7 = nn.matmul %6, %f1w {transpose_b = true} : tensor<32x400xf32>, tensor<120x400xf32>
  %8 = nn.bias_add %7, %f1b : tensor<32x120xf32>, tensor<120xf32>
  %9 = nn.relu %8 : tensor<32x120xf32>
  %10 = nn.matmul %9, %f2w {transpose_b = true} : tensor<32x120xf32>, tensor<84x120xf32>
  %11 = nn.bias_add %10, %f2b : tensor<32x84xf32>, tensor<84xf32>
  %12 = nn.relu %11 : tensor<32x84xf32>
  %13 = nn.matmul %12, %f3w {transpose_b = true} : tensor<32x84xf32>, tensor<10x84xf32>
  %14 = nn.bias_add %13, %f3b : tensor<32x10xf32>, tensor<10xf32>
  return %14 : tensor<32x10xf32>
}

// A ResNet stem: convolution, inference batch norm, pooling with padding.
// CHECK-LABEL: func.func @resnet_stem
func.func @resnet_stem(%x: tensor<1x3x224x224xf32>) -> tensor<1x64x56x56xf32> {
  %w = dist.param "conv1.weight" : tensor<64x3x7x7xf32>
  %g = dist.param "bn1.gamma" : tensor<64xf32>
  %b = dist.param "bn1.beta" : tensor<64xf32>
  %m = dist.param "bn1.moving_mean" : tensor<64xf32>
  %v = dist.param "bn1.moving_variance" : tensor<64xf32>
  %0 = nn.conv2d %x, %w {pad = array<i64: 3, 3, 3, 3>, stride = array<i64: 2, 2>} : tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>
  %1 = nn.batch_norm %0, %g, %b, %m, %v : tensor<1x64x112x112xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
  %2 = nn.relu %1 : tensor<1x64x112x112xf32>
  // CHECK: nn.max_pool %{{.*}} {kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
  %3 = nn.max_pool %2 {kernel_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, pad = array<i64: 1, 1, 1, 1>} : tensor<1x64x112x112xf32>
  return %3 : tensor<1x64x56x56xf32>
}
