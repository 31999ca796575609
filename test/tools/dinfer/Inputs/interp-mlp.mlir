// A two-layer perceptron with its weights as constants: matmul, bias
// broadcast over rows, ReLU, matmul, column sums.
func.func @main(%x: tensor<3x4xf32> {dinfer.name = "x"}) -> (tensor<3x2xf32> {dinfer.name = "y"}, tensor<2xf32> {dinfer.name = "colsum"}) {
  %w1 = arith.constant dense<[[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.25, 2.0, 1.0], [0.75, 0.0, -1.5]]> : tensor<4x3xf32>
  %b1 = arith.constant dense<[0.1, -0.2, 0.3]> : tensor<3xf32>
  %w2 = arith.constant dense<[[1.0, -1.0], [0.5, 2.0], [-2.0, 0.25]]> : tensor<3x2xf32>
  %h = nn.matmul %x, %w1 : tensor<3x4xf32>, tensor<4x3xf32>
  %hb = nn.add %h, %b1 : tensor<3x3xf32>, tensor<3xf32>
  %r = nn.relu %hb : tensor<3x3xf32>
  %y = nn.matmul %r, %w2 : tensor<3x3xf32>, tensor<3x2xf32>
  %c = nn.reduce_sum %y {axis = array<i64: 0>} : tensor<3x2xf32>
  return %y, %c : tensor<3x2xf32>, tensor<2xf32>
}
