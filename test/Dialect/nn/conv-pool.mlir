// RUN: dinfer-opt %s | dinfer-opt | FileCheck %s
// RUN: dinfer-opt %s --mlir-print-op-generic | dinfer-opt | FileCheck %s

// CHECK-LABEL: func.func @conv2d
func.func @conv2d(%x: tensor<1x3x32x32xf32>, %w: tensor<6x3x5x5xf32>, %dw: tensor<6x1x3x3xf32>, %x6: tensor<1x6x28x28xf32>)
    -> (tensor<1x6x28x28xf32>, tensor<1x6x32x32xf32>, tensor<1x6x16x16xf32>, tensor<1x6x24x24xf32>, tensor<1x6x14x14xf32>) {
  // LeNet's first layer: 5x5 valid.
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} {pad_mode = "valid"} : tensor<1x3x32x32xf32>, tensor<6x3x5x5xf32>
  %0 = nn.conv2d %x, %w {pad_mode = "valid"} : tensor<1x3x32x32xf32>, tensor<6x3x5x5xf32>
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} {pad = array<i64: 2, 2, 2, 2>}
  %1 = nn.conv2d %x, %w {pad = array<i64: 2, 2, 2, 2>} : tensor<1x3x32x32xf32>, tensor<6x3x5x5xf32>
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} {pad_mode = "same", stride = array<i64: 2, 2>}
  %2 = nn.conv2d %x, %w {pad_mode = "same", stride = array<i64: 2, 2>} : tensor<1x3x32x32xf32>, tensor<6x3x5x5xf32>
  // Dilation 2 makes the 5x5 kernel span 9.
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} {dilation = array<i64: 2, 2>}
  %3 = nn.conv2d %x, %w {dilation = array<i64: 2, 2>} : tensor<1x3x32x32xf32>, tensor<6x3x5x5xf32>
  // Depthwise: six groups of one channel.
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} {group = 6 : i64, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>}
  %4 = nn.conv2d %x6, %dw {group = 6 : i64, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>} : tensor<1x6x28x28xf32>, tensor<6x1x3x3xf32>
  return %0, %1, %2, %3, %4 : tensor<1x6x28x28xf32>, tensor<1x6x32x32xf32>, tensor<1x6x16x16xf32>, tensor<1x6x24x24xf32>, tensor<1x6x14x14xf32>
}

// CHECK-LABEL: func.func @pooling
func.func @pooling(%x: tensor<1x6x28x28xf32>, %odd: tensor<1x1x5x5xf32>)
    -> (tensor<1x6x14x14xf32>, tensor<1x6x14x14xf32>, tensor<1x1x2x2xf32>, tensor<1x1x3x3xf32>, tensor<1x6x28x28xf32>) {
  // CHECK: nn.max_pool %{{.*}} {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x6x28x28xf32>
  %0 = nn.max_pool %x {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x6x28x28xf32>
  // CHECK: nn.avg_pool %{{.*}} {count_include_pad = true, kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
  %1 = nn.avg_pool %x {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, count_include_pad = true} : tensor<1x6x28x28xf32>
  // Floor and ceil rounding of a 5-wide input with a 2-wide window, stride 2.
  %2 = nn.max_pool %odd {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<1x1x5x5xf32>
  // CHECK: nn.max_pool %{{.*}} {ceil_mode = true, kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
  %3 = nn.max_pool %odd {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, ceil_mode = true} : tensor<1x1x5x5xf32>
  // CHECK: nn.avg_pool %{{.*}} {kernel_size = array<i64: 3, 3>, pad_mode = "same"}
  %4 = nn.avg_pool %x {kernel_size = array<i64: 3, 3>, pad_mode = "same"} : tensor<1x6x28x28xf32>
  return %0, %1, %2, %3, %4 : tensor<1x6x14x14xf32>, tensor<1x6x14x14xf32>, tensor<1x1x2x2xf32>, tensor<1x1x3x3xf32>, tensor<1x6x28x28xf32>
}

// CHECK-LABEL: func.func @volumes
func.func @volumes(%x: tensor<1x2x6x6x6xf32>, %w: tensor<2x3x3x3x3xf32>, %img: tensor<1x1x4x4xf32>)
    -> (tensor<1x2x3x3x3xf32>, tensor<1x2x3x3x3xf32>, tensor<1x6x14x14x14xf32>, tensor<1x1x2x2xf32>) {
  // CHECK: nn.max_pool3d %{{.*}} {kernel_size = array<i64: 2, 2, 2>, strides = array<i64: 2, 2, 2>} : tensor<1x2x6x6x6xf32>
  %0 = nn.max_pool3d %x {kernel_size = array<i64: 2, 2, 2>, strides = array<i64: 2, 2, 2>} : tensor<1x2x6x6x6xf32>
  // Pads [before, after] per dimension; the average counts them.
  // CHECK: nn.avg_pool3d %{{.*}} {count_include_pad = true, kernel_size = array<i64: 3, 3, 3>, pad = array<i64: 1, 1, 1, 1, 1, 1>, strides = array<i64: 2, 2, 2>}
  %1 = nn.avg_pool3d %x {kernel_size = array<i64: 3, 3, 3>, strides = array<i64: 2, 2, 2>, pad = array<i64: 1, 1, 1, 1, 1, 1>, count_include_pad = true} : tensor<1x2x6x6x6xf32>
  // Two groups of one input channel, each giving three output channels.
  // CHECK: nn.conv3d_transpose %{{.*}}, %{{.*}} {group = 2 : i64, output_padding = array<i64: 1, 1, 1>, stride = array<i64: 2, 2, 2>}
  %2 = nn.conv3d_transpose %x, %w {stride = array<i64: 2, 2, 2>, group = 2 : i64, output_padding = array<i64: 1, 1, 1>} : tensor<1x2x6x6x6xf32>, tensor<2x3x3x3x3xf32>
  // A dilated 2x2 window spans 3x3.
  // CHECK: nn.max_pool %{{.*}} {dilation = array<i64: 2, 2>, kernel_size = array<i64: 2, 2>}
  %3 = nn.max_pool %img {kernel_size = array<i64: 2, 2>, dilation = array<i64: 2, 2>} : tensor<1x1x4x4xf32>
  return %0, %1, %2, %3 : tensor<1x2x3x3x3xf32>, tensor<1x2x3x3x3xf32>, tensor<1x6x14x14x14xf32>, tensor<1x1x2x2xf32>
}
