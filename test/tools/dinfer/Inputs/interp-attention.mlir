// One attention head as the interpreter runs it, with nothing imported:
// scores = softmax(q k^T * scale), out = scores v, then a sigmoid gate.
func.func @main(%q: tensor<2x4x8xf32> {dinfer.name = "q"}, %k: tensor<2x4x8xf32> {dinfer.name = "k"},
                %v: tensor<2x4x8xf32> {dinfer.name = "v"}) -> (tensor<2x4x8xf32> {dinfer.name = "out"}) {
  %kt = nn.transpose %k {perm = array<i64: 0, 2, 1>} : tensor<2x4x8xf32>
  %s = nn.batch_matmul %q, %kt : tensor<2x4x8xf32>, tensor<2x8x4xf32>
  %scale = arith.constant dense<0.35355339> : tensor<f32>
  %scaled = nn.mul %s, %scale : tensor<2x4x4xf32>, tensor<f32>
  %p = nn.softmax %scaled {axis = -1 : i64} : tensor<2x4x4xf32>
  %o = nn.batch_matmul %p, %v : tensor<2x4x4xf32>, tensor<2x4x8xf32>
  %g = nn.sigmoid %o : tensor<2x4x8xf32>
  %out = nn.mul %o, %g : tensor<2x4x8xf32>, tensor<2x4x8xf32>
  return %out : tensor<2x4x8xf32>
}
