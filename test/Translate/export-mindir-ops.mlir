// RUN: rm -rf %t && mkdir -p %t
// RUN: dinfer-translate --export-mindir %s -o %t/block.mindir
// RUN: dinfer inspect %t/block.mindir | FileCheck %s
// Multi-output primitives are read through TupleGetItem; shapes and axes go
// in as constant inputs, as MindSpore's Reshape and Transpose take them.
// CHECK: MindIR 0.1.1 from MindSpore 1.7.0
// CHECK: ops: Add BatchMatMul Concat Constant x{{[0-9]+}} LayerNorm MakeTuple x2 Reshape Softmax Split StridedSlice Transpose TupleGetItem x3
func.func @main(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x16x64xf32>) {
  %n = nn.layer_norm %x, %g, %b : tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>
  %parts:2 = nn.split %n {axis = 2 : i64, output_num = 2 : i64} : tensor<2x16x64xf32>
  %q = nn.reshape %parts#0 {shape = array<i64: 2, 16, 4, 8>} : tensor<2x16x32xf32>
  %t = nn.transpose %q {perm = array<i64: 0, 2, 1, 3>} : tensor<2x16x4x8xf32>
  %s = nn.batch_matmul %t, %t {transpose_b = true} : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>
  %p = nn.softmax %s : tensor<2x4x16x16xf32>
  %c = nn.concat %parts#1, %parts#0 {axis = 2 : i64} : tensor<2x16x32xf32>, tensor<2x16x32xf32>
  %r = nn.add %c, %x : tensor<2x16x64xf32>, tensor<2x16x64xf32>
  %e = nn.strided_slice %r {begin = array<i64: 0>, end = array<i64: 2>, strides = array<i64: 1>} : tensor<2x16x64xf32>
  return %p, %e : tensor<2x4x16x16xf32>, tensor<2x16x64xf32>
}
