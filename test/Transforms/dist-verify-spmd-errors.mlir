// RUN: dinfer-opt %s --split-input-file --verify-diagnostics --dist-verify-spmd

// The members of a group disagree on what they reduce.
module attributes {dist.device_num = 2 : i64} {
  func.func @main_rank0(%x: tensor<4x8xf32>) attributes {dist.rank = 0 : i64} {
    // expected-error @+1 {{on rank 0 meets a different collective on rank 1 of its group}}
    %s = dist.all_reduce %x sum axes = [0] dev_matrix = <[2]> {dist.group = array<i64: 0, 1>} : tensor<4x8xf32>
    return
  }
  func.func @main_rank1(%x: tensor<4x8xf32>) attributes {dist.rank = 1 : i64} {
    // expected-note @+1 {{rank 1 runs 'dist.all_reduce}}
    %s = dist.all_reduce %x max axes = [0] dev_matrix = <[2]> {dist.group = array<i64: 0, 1>} : tensor<4x8xf32>
    return
  }
}

// -----

// A send without its receive.
module attributes {dist.device_num = 2 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main_rank0(%x: tensor<4x8xf32>) attributes {dist.rank = 0 : i64, dist.stage = 0 : i64} {
    // expected-error @+1 {{would deadlock: rank 0 waits here forever (its peer never receives it); 1 of 2 ranks are stuck}}
    dist.send %x to_stage = 1 sr_tag = 0 : tensor<4x8xf32>
    return
  }
  func.func @main_rank1(%x: tensor<4x8xf32>) attributes {dist.rank = 1 : i64, dist.stage = 1 : i64} {
    return
  }
}

// -----

// Transfers received in another order than they are sent deadlock when
// sends block.
module attributes {dist.device_num = 2 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main_rank0(%x: tensor<4x8xf32>) attributes {dist.rank = 0 : i64, dist.stage = 0 : i64} {
    // expected-error @+1 {{would deadlock: rank 0 waits here forever (its peer never receives it); 2 of 2 ranks are stuck}}
    dist.send %x to_stage = 1 sr_tag = 0 : tensor<4x8xf32>
    dist.send %x to_stage = 1 sr_tag = 1 : tensor<4x8xf32>
    return
  }
  func.func @main_rank1(%x: tensor<4x8xf32>) attributes {dist.rank = 1 : i64, dist.stage = 1 : i64} {
    // expected-note @+1 {{rank 1 waits at 'dist.recv'}}
    %b = dist.recv from_stage = 0 sr_tag = 1 : tensor<4x8xf32>
    %a = dist.recv from_stage = 0 sr_tag = 0 : tensor<4x8xf32>
    return
  }
}

// -----

// A send and its receive disagree on the type.
module attributes {dist.device_num = 2 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main_rank0(%x: tensor<4x8xf32>) attributes {dist.rank = 0 : i64, dist.stage = 0 : i64} {
    // expected-error @+1 {{sends 'tensor<4x8xf32>' to rank 1, which receives sr_tag 0 as 'tensor<8x4xf32>'}}
    dist.send %x to_stage = 1 sr_tag = 0 : tensor<4x8xf32>
    return
  }
  func.func @main_rank1(%x: tensor<4x8xf32>) attributes {dist.rank = 1 : i64, dist.stage = 1 : i64} {
    // expected-note @+1 {{the receive}}
    %a = dist.recv from_stage = 0 sr_tag = 0 : tensor<8x4xf32>
    return
  }
}

// -----

// A rank without a function.
// expected-error @+1 {{rank 1 of 2 has no function}}
module attributes {dist.device_num = 2 : i64} {
  func.func @main_rank0(%x: tensor<4x8xf32>) attributes {dist.rank = 0 : i64} {
    return
  }
}

// -----

// The ranks of one stage must run the same program.
module attributes {dist.device_num = 2 : i64} {
  func.func @main_rank0(%x: tensor<4x8xf32>) attributes {dist.rank = 0 : i64} {
    // expected-note @+1 {{there it is 'nn.relu'}}
    %a = nn.relu %x : tensor<4x8xf32>
    return
  }
  func.func @main_rank1(%x: tensor<4x8xf32>) attributes {dist.rank = 1 : i64} {
    // expected-error @+1 {{differs from the same op of 'main_rank0' in its stage}}
    %a = nn.neg %x : tensor<4x8xf32>
    return
  }
}

// -----

// A collective whose group leaves out the rank that runs it.
module attributes {dist.device_num = 2 : i64} {
  func.func @main_rank0(%x: tensor<4x8xf32>) attributes {dist.rank = 0 : i64} {
    // expected-error @+1 {{runs on rank 0 but its group array<i64: 1> does not include it}}
    %s = dist.all_reduce %x sum axes = [0] dev_matrix = <[2]> {dist.group = array<i64: 1>} : tensor<4x8xf32>
    return
  }
  func.func @main_rank1(%x: tensor<4x8xf32>) attributes {dist.rank = 1 : i64} {
    %s = dist.all_reduce %x sum axes = [0] dev_matrix = <[2]> {dist.group = array<i64: 1>} : tensor<4x8xf32>
    return
  }
}
