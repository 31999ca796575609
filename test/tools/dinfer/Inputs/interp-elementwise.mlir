// Elementwise ops without an ONNX node test of their own (or that ONNX spells
// differently), run by the interpreter against numpy (interp_reference.py).
func.func @main(%x: tensor<4x6xf32> {dinfer.name = "x"}, %y: tensor<6xf32> {dinfer.name = "y"})
    -> (tensor<4x6xf32> {dinfer.name = "mish"}, tensor<4x6xf32> {dinfer.name = "softplus"},
        tensor<4x6xf32> {dinfer.name = "hswish"}, tensor<4x6xf32> {dinfer.name = "sign"},
        tensor<4x6xf32> {dinfer.name = "round"}, tensor<4x6xf32> {dinfer.name = "floor_mod"},
        tensor<4x6xf32> {dinfer.name = "mod"}, tensor<4x6xf32> {dinfer.name = "picked"}) {
  %mish = nn.mish %x : tensor<4x6xf32>
  %softplus = nn.softplus %x : tensor<4x6xf32>
  %hswish = nn.hswish %x : tensor<4x6xf32>
  %sign = nn.sign %x : tensor<4x6xf32>
  %round = nn.round %x : tensor<4x6xf32>
  %floor_mod = nn.floor_mod %x, %y : tensor<4x6xf32>, tensor<6xf32>
  %mod = nn.mod %x, %y : tensor<4x6xf32>, tensor<6xf32>
  %greater = nn.greater %x, %y : tensor<4x6xf32>, tensor<6xf32>
  %nan = nn.isnan %x : tensor<4x6xf32>
  %either = nn.logical_or %greater, %nan : tensor<4x6xi1>, tensor<4x6xi1>
  %max = nn.maximum %x, %y : tensor<4x6xf32>, tensor<6xf32>
  %picked = nn.select %either, %max, %x : tensor<4x6xi1>, tensor<4x6xf32>, tensor<4x6xf32>
  return %mish, %softplus, %hswish, %sign, %round, %floor_mod, %mod, %picked
      : tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>,
        tensor<4x6xf32>, tensor<4x6xf32>
}
