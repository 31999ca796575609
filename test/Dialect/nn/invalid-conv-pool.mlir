// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @conv_channels(%x: tensor<1x3x32x32xf32>, %w: tensor<6x4x5x5xf32>) {
  // expected-error @+1 {{'nn.conv2d' op w has 4 input channels per group but x has 3 channels in 1 group(s)}}
  %0 = nn.conv2d %x, %w : tensor<1x3x32x32xf32>, tensor<6x4x5x5xf32>
  return
}

// -----

func.func @conv_group(%x: tensor<1x6x32x32xf32>, %w: tensor<6x2x3x3xf32>) {
  // expected-error @+1 {{'nn.conv2d' op group 4 does not divide the input channels 6 and output channels 6}}
  %0 = nn.conv2d %x, %w {group = 4 : i64} : tensor<1x6x32x32xf32>, tensor<6x2x3x3xf32>
  return
}

// -----

func.func @conv_rank(%x: tensor<3x32x32xf32>, %w: tensor<6x3x5x5xf32>) {
  // expected-error @+1 {{'nn.conv2d' op x must have rank 4, got 'tensor<3x32x32xf32>'}}
  %0 = nn.conv2d %x, %w : tensor<3x32x32xf32>, tensor<6x3x5x5xf32>
  return
}

// -----

func.func @conv_window(%x: tensor<1x3x4x4xf32>, %w: tensor<6x3x5x5xf32>) {
  // expected-error @+1 {{'nn.conv2d' op window of 5 exceeds the input extent 4}}
  %0 = nn.conv2d %x, %w {pad_mode = "valid"} : tensor<1x3x4x4xf32>, tensor<6x3x5x5xf32>
  return
}

// -----

func.func @conv_pads(%x: tensor<1x3x32x32xf32>, %w: tensor<6x3x5x5xf32>) {
  // expected-error @+1 {{'nn.conv2d' op pad must have 4 entries (top, bottom, left, right), got 2}}
  %0 = nn.conv2d %x, %w {pad = array<i64: 1, 1>} : tensor<1x3x32x32xf32>, tensor<6x3x5x5xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<1x3x32x32xf32>, %w: tensor<6x3x5x5xf32>) {
  // expected-error @+1 {{'nn.conv2d' op stride entries must be positive, got [0, 1]}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 0, 1>} : tensor<1x3x32x32xf32>, tensor<6x3x5x5xf32>
  return
}

// -----

func.func @conv_pad_mode(%x: tensor<1x3x32x32xf32>, %w: tensor<6x3x5x5xf32>) {
  // expected-error @+1 {{'nn.conv2d' op pad_mode 'full' is not one of pad, same, valid}}
  %0 = nn.conv2d %x, %w {pad_mode = "full"} : tensor<1x3x32x32xf32>, tensor<6x3x5x5xf32>
  return
}

// -----

func.func @pool_kernel(%x: tensor<1x6x28x28xf32>) {
  // expected-error @+1 {{'nn.max_pool' op kernel_size must have 2 entries, got 3}}
  %0 = nn.max_pool %x {kernel_size = array<i64: 2, 2, 2>} : tensor<1x6x28x28xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<6x28x28xf32>) {
  // expected-error @+1 {{'nn.avg_pool' op x must have rank 4, got 'tensor<6x28x28xf32>'}}
  %0 = nn.avg_pool %x {kernel_size = array<i64: 2, 2>} : tensor<6x28x28xf32>
  return
}

// -----

func.func @pool_negative_pad(%x: tensor<1x6x28x28xf32>) {
  // expected-error @+1 {{'nn.max_pool' op pad entries must not be negative, got [0, -1, 0, 0]}}
  %0 = nn.max_pool %x {kernel_size = array<i64: 2, 2>, pad = array<i64: 0, -1, 0, 0>} : tensor<1x6x28x28xf32>
  return
}

// -----

func.func @pool3d_rank(%x: tensor<1x6x28x28xf32>) {
  // expected-error @+1 {{'nn.max_pool3d' op x must have rank 5, got 'tensor<1x6x28x28xf32>'}}
  %0 = nn.max_pool3d %x {kernel_size = array<i64: 2, 2, 2>} : tensor<1x6x28x28xf32>
  return
}

// -----

func.func @pool3d_pads(%x: tensor<1x2x6x6x6xf32>) {
  // expected-error @+1 {{'nn.avg_pool3d' op pad must have 6 entries, got 4}}
  %0 = nn.avg_pool3d %x {kernel_size = array<i64: 2, 2, 2>, pad = array<i64: 1, 1, 1, 1>} : tensor<1x2x6x6x6xf32>
  return
}

// -----

func.func @pool_dilation(%x: tensor<1x6x28x28xf32>) {
  // expected-error @+1 {{'nn.max_pool' op dilation entries must be positive, got [0, 1]}}
  %0 = nn.max_pool %x {kernel_size = array<i64: 2, 2>, dilation = array<i64: 0, 1>} : tensor<1x6x28x28xf32>
  return
}

// -----

func.func @conv3d_transpose_channels(%x: tensor<1x2x4x4x4xf32>, %w: tensor<3x1x3x3x3xf32>) {
  // expected-error @+1 {{'nn.conv3d_transpose' op w has 3 input channels but x has 2}}
  %0 = nn.conv3d_transpose %x, %w : tensor<1x2x4x4x4xf32>, tensor<3x1x3x3x3xf32>
  return
}

// -----

func.func @conv3d_transpose_pads(%x: tensor<1x2x4x4x4xf32>, %w: tensor<2x1x3x3x3xf32>) {
  // expected-error @+1 {{'nn.conv3d_transpose' op pad must have 6 entries and output_padding 3}}
  %0 = nn.conv3d_transpose %x, %w {pad = array<i64: 0, 0, 0, 0>} : tensor<1x2x4x4x4xf32>, tensor<2x1x3x3x3xf32>
  return
}
