// RUN: not dinfer-translate --export-mindir %s --split-input-file -o /dev/null 2>&1 | FileCheck %s
// What MindSpore's primitives cannot say is refused by name, not written
// wrong: each op's ODS table lists the values its primitive can express.

func.func @main(%x: tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32> {
  // CHECK: 'nn.max_pool' op has ceil_mode = true, which MindSpore's MaxPool cannot express in MindIR
  %y = nn.max_pool %x {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, ceil_mode = true} : tensor<1x2x5x5xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x3x3xf32> {
  // CHECK: 'nn.avg_pool' op has pad = array<i64: 1, 1, 1, 1>, which MindSpore's AvgPool cannot express in MindIR
  %y = nn.avg_pool %x {kernel_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pad = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x4xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  // CHECK: 'nn.max_pool' op has dilation = array<i64: 2, 2>, which MindSpore's MaxPool cannot express in MindIR
  %y = nn.max_pool %x {kernel_size = array<i64: 2, 2>, dilation = array<i64: 2, 2>} : tensor<1x2x4x4xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

func.func @main(%x: tensor<2x3x4xf32>) -> tensor<6x4xf32> {
  // CHECK: 'nn.flatten' op has axis = 2 : i64, which MindSpore's Flatten cannot express in MindIR
  %y = nn.flatten %x {axis = 2 : i64} : tensor<2x3x4xf32>
  return %y : tensor<6x4xf32>
}
