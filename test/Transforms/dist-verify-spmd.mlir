// RUN: dinfer-opt %s --dist-verify-spmd | FileCheck %s

// Two stages of two ranks whose collectives and transfers match, the
// transfers in the order the producers ran: the module passes unchanged.
// CHECK-LABEL: func.func @main_rank0
// CHECK-LABEL: func.func @main_rank3
module attributes {dist.device_num = 4 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main_rank0(%x: tensor<4x8xf32>) attributes {dist.rank = 0 : i64, dist.stage = 0 : i64} {
    %s = dist.all_reduce %x sum axes = [0] dev_matrix = <[2]> {dist.group = array<i64: 0, 1>} : tensor<4x8xf32>
    dist.send %s to_stage = 1 sr_tag = 0 : tensor<4x8xf32>
    dist.send %x to_stage = 1 sr_tag = 1 : tensor<4x8xf32>
    return
  }
  func.func @main_rank1(%x: tensor<4x8xf32>) attributes {dist.rank = 1 : i64, dist.stage = 0 : i64} {
    %s = dist.all_reduce %x sum axes = [0] dev_matrix = <[2]> {dist.group = array<i64: 0, 1>} : tensor<4x8xf32>
    dist.send %s to_stage = 1 sr_tag = 0 : tensor<4x8xf32>
    dist.send %x to_stage = 1 sr_tag = 1 : tensor<4x8xf32>
    return
  }
  func.func @main_rank2(%x: tensor<4x8xf32>) -> tensor<4x16xf32> attributes {dist.rank = 2 : i64, dist.stage = 1 : i64} {
    %a = dist.recv from_stage = 0 sr_tag = 0 : tensor<4x8xf32>
    %b = dist.recv from_stage = 0 sr_tag = 1 : tensor<4x8xf32>
    %c = nn.add %a, %b : tensor<4x8xf32>, tensor<4x8xf32>
    %g = dist.all_gather %c axes = [0] dim = 1 dev_matrix = <[2]> {dist.group = array<i64: 2, 3>} : tensor<4x8xf32>
    return %g : tensor<4x16xf32>
  }
  func.func @main_rank3(%x: tensor<4x8xf32>) -> tensor<4x16xf32> attributes {dist.rank = 3 : i64, dist.stage = 1 : i64} {
    %a = dist.recv from_stage = 0 sr_tag = 0 : tensor<4x8xf32>
    %b = dist.recv from_stage = 0 sr_tag = 1 : tensor<4x8xf32>
    %c = nn.add %a, %b : tensor<4x8xf32>, tensor<4x8xf32>
    %g = dist.all_gather %c axes = [0] dim = 1 dev_matrix = <[2]> {dist.group = array<i64: 2, 3>} : tensor<4x8xf32>
    return %g : tensor<4x16xf32>
  }
}
