// RUN: dinfer-opt %s --split-input-file --verify-diagnostics --dist-split-ranks

module attributes {dist.device_num = 2 : i64} {
  // expected-error @+1 {{is not partitioned: run --dist-partition before --dist-split-ranks}}
  func.func @main(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
    return %x : tensor<4x16xf32>
  }
}

// -----

// In a pipelined module every op needs a stage: the stages cover every op.
module attributes {dist.device_num = 2 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main(%x: tensor<4x16xf32>) -> tensor<4x16xf32> attributes {dist.partitioned} {
    // expected-error @+1 {{has no pipeline stage in a module of 2 stages}}
    %a = nn.relu %x : tensor<4x16xf32>
    return %a : tensor<4x16xf32>
  }
}

// -----

// A value crosses stages only through dist.recv.
module attributes {dist.device_num = 2 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main(%x: tensor<4x16xf32>) -> tensor<4x16xf32> attributes {dist.partitioned} {
    %a = nn.relu %x {dist.stage = 0 : i64} : tensor<4x16xf32>
    // expected-error @+1 {{runs in stage 1 but reads a value of stage 0 (from 'nn.relu'}}
    %b = nn.relu %a {dist.stage = 1 : i64} : tensor<4x16xf32>
    return %b : tensor<4x16xf32>
  }
}

// -----

// expected-error @+1 {{needs dist.device_num on the module}}
module {
  func.func @main(%x: tensor<4x16xf32>) -> tensor<4x16xf32> attributes {dist.partitioned} {
    return %x : tensor<4x16xf32>
  }
}
