// RUN: rm -rf %t && mkdir -p %t
// RUN: dinfer-translate --export-mindir %s -o %t/volumes.mindir
// RUN: dinfer check-mindir %t/volumes.mindir | FileCheck %s --check-prefix=CHECKED
// RUN: dinfer-translate --import-mindir %t/volumes.mindir | FileCheck %s
// RUN: protoc -I %S/../../lib/Formats/proto --decode=mind_ir.ModelProto mind_ir.proto < %t/volumes.mindir | FileCheck %s --check-prefix=PROTO
// 3-D pooling and transposed convolution travel as MindSpore's MaxPool3D,
// AvgPool3D and Conv3DTranspose, with NCDHW five-value windows.
func.func @main(%x: tensor<1x2x6x6x6xf32>, %w: tensor<2x3x3x3x3xf32>)
    -> (tensor<1x2x3x3x3xf32>, tensor<1x2x3x3x3xf32>, tensor<1x6x14x14x14xf32>) {
  %max = nn.max_pool3d %x {kernel_size = array<i64: 2, 2, 2>, strides = array<i64: 2, 2, 2>, pad_mode = "valid"} : tensor<1x2x6x6x6xf32>
  %avg = nn.avg_pool3d %x {kernel_size = array<i64: 3, 3, 3>, strides = array<i64: 2, 2, 2>, pad_mode = "same", count_include_pad = true} : tensor<1x2x6x6x6xf32>
  %up = nn.conv3d_transpose %x, %w {stride = array<i64: 2, 2, 2>, group = 2 : i64, output_padding = array<i64: 1, 1, 1>, pad = array<i64: 0, 0, 0, 0, 0, 0>} : tensor<1x2x6x6x6xf32>, tensor<2x3x3x3x3xf32>
  return %max, %avg, %up : tensor<1x2x3x3x3xf32>, tensor<1x2x3x3x3xf32>, tensor<1x6x14x14x14xf32>
}

// CHECK: nn.max_pool3d %{{.*}} {kernel_size = array<i64: 2, 2, 2>, pad_mode = "valid", strides = array<i64: 2, 2, 2>} : tensor<1x2x6x6x6xf32>
// CHECK: nn.avg_pool3d %{{.*}} {count_include_pad = true, kernel_size = array<i64: 3, 3, 3>, pad_mode = "same", strides = array<i64: 2, 2, 2>} : tensor<1x2x6x6x6xf32>
// CHECK: nn.conv3d_transpose %{{.*}}, %{{.*}} {group = 2 : i64, output_padding = array<i64: 1, 1, 1>, stride = array<i64: 2, 2, 2>} : tensor<1x2x6x6x6xf32>, tensor<2x3x3x3x3xf32>

// PROTO: op_type: "MaxPool3D"
// PROTO: name: "kernel_size"
// PROTO-NEXT: type: TUPLE
// PROTO-COUNT-5: type: INT64
// PROTO: name: "format"
// PROTO-NEXT: s: "NCDHW"
// PROTO: op_type: "AvgPool3D"
// PROTO: op_type: "Conv3DTranspose"
// CHECKED: volumes.mindir: ok
