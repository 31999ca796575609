// RUN: rm -rf %t && mkdir -p %t
// RUN: dinfer-translate --export-mindir %s -o %t/ops.mindir
// RUN: dinfer check-mindir %t/ops.mindir | FileCheck %s --check-prefix=CHECKED
// RUN: dinfer-translate --import-mindir %t/ops.mindir | FileCheck %s
// The reductions, index searches, scans, element gathers, scatters and pads
// come back from MindIR as they went in; GatherD's dim travels as a constant
// input between its operands.
func.func @main(%t: tensor<3x5xf32>, %index: tensor<3x2xi64>, %nd: tensor<2x1xi64>, %rows: tensor<2x5xf32>,
                %img: tensor<1x4x3x3xf32>, %up: tensor<4x3x2x2xf32>)
    -> (tensor<3xf32>, tensor<5xf32>, tensor<3xi32>, tensor<5xi32>, tensor<3x5xf32>, tensor<3x2xf32>, tensor<2x5xf32>,
        tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<5x8xf32>, tensor<1x6x7x7xf32>) {
  %min = nn.reduce_min %t {axis = array<i64: 1>} : tensor<3x5xf32>
  %prod = nn.reduce_prod %t {axis = array<i64: 0>} : tensor<3x5xf32>
  %amax = nn.argmax %t {axis = 1 : i64} : tensor<3x5xf32>
  %amin = nn.argmin %t {axis = 0 : i64} : tensor<3x5xf32>
  %cum = nn.cumsum %t {axis = 1 : i64, exclusive = true, reverse = true} : tensor<3x5xf32>
  %gd = nn.gather_d %t, %index {dim = 1 : i64} : tensor<3x5xf32>, tensor<3x2xi64>
  %gnd = nn.gather_nd %t, %nd : tensor<3x5xf32>, tensor<2x1xi64>
  %upd = nn.tensor_scatter_update %t, %nd, %rows : tensor<3x5xf32>, tensor<2x1xi64>, tensor<2x5xf32>
  %add = nn.tensor_scatter_add %t, %nd, %rows : tensor<3x5xf32>, tensor<2x1xi64>, tensor<2x5xf32>
  %elems = nn.tensor_scatter_elements %t, %index, %gd {axis = 1 : i64, reduction = "add"} : tensor<3x5xf32>, tensor<3x2xi64>, tensor<3x2xf32>
  %pad = nn.pad %t {paddings = array<i64: 1, 1, 2, 1>, mode = "reflect"} : tensor<3x5xf32>
  %deconv = nn.conv2d_transpose %img, %up {stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, group = 2 : i64, output_padding = array<i64: 1, 1>} : tensor<1x4x3x3xf32>, tensor<4x3x2x2xf32>
  return %min, %prod, %amax, %amin, %cum, %gd, %gnd, %upd, %add, %elems, %pad, %deconv
    : tensor<3xf32>, tensor<5xf32>, tensor<3xi32>, tensor<5xi32>, tensor<3x5xf32>, tensor<3x2xf32>, tensor<2x5xf32>,
      tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<5x8xf32>, tensor<1x6x7x7xf32>
}

// CHECKED: ok
// CHECK: nn.reduce_min %{{.*}} {axis = array<i64: 1>} : tensor<3x5xf32>
// CHECK: nn.reduce_prod %{{.*}} {axis = array<i64: 0>} : tensor<3x5xf32>
// CHECK: nn.argmax %{{.*}} {axis = 1 : i64} : tensor<3x5xf32>
// CHECK: nn.argmin %{{.*}} {axis = 0 : i64} : tensor<3x5xf32>
// CHECK: nn.cumsum %{{.*}} {axis = 1 : i64, exclusive = true, reverse = true} : tensor<3x5xf32>
// CHECK: nn.gather_d %{{.*}}, %{{.*}} {dim = 1 : i64} : tensor<3x5xf32>, tensor<3x2xi64>
// CHECK: nn.gather_nd %{{.*}}, %{{.*}} : tensor<3x5xf32>, tensor<2x1xi64>
// CHECK: nn.tensor_scatter_update %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x5xf32>, tensor<2x1xi64>, tensor<2x5xf32>
// CHECK: nn.tensor_scatter_add %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x5xf32>, tensor<2x1xi64>, tensor<2x5xf32>
// CHECK: nn.tensor_scatter_elements %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, reduction = "add"}
// CHECK: nn.pad %{{.*}} {mode = "reflect", paddings = array<i64: 1, 1, 2, 1>} : tensor<3x5xf32>
// CHECK: nn.conv2d_transpose %{{.*}}, %{{.*}} {group = 2 : i64, output_padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : tensor<1x4x3x3xf32>, tensor<4x3x2x2xf32>
