// RUN: dinfer-opt %s --split-input-file --verify-diagnostics --dist-pipeline-split

// A training stage that reads a later stage's value cannot run.
module attributes {dist.device_num = 2 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @backwards(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %a = nn.relu %x {dist.stage = 1 : i64} : tensor<8x16xf32>
    // expected-error @+1 {{runs in pipeline stage 0 but reads the result of 'nn.relu'}}
    %b = nn.relu %a {dist.stage = 0 : i64} : tensor<8x16xf32>
    return %b : tensor<8x16xf32>
  }
}

// -----

// Training stages that leave one stage empty are refused, not rebalanced
// behind the user's back.
module attributes {dist.device_num = 3 : i64, dist.pipeline_stages = 3 : i64} {
  // expected-error @+1 {{pipeline stage 1 of 3 has no op}}
  func.func @gap(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %a = nn.relu %x {dist.stage = 0 : i64} : tensor<8x16xf32>
    %b = nn.relu %a {dist.stage = 2 : i64} : tensor<8x16xf32>
    return %b : tensor<8x16xf32>
  }
}

// -----

// Fewer ops than stages.
module attributes {dist.device_num = 4 : i64, dist.pipeline_stages = 4 : i64} {
  // expected-error @+1 {{cannot cut 2 ops into 4 pipeline stages}}
  func.func @short(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %a = nn.relu %x : tensor<8x16xf32>
    %b = nn.relu %a : tensor<8x16xf32>
    return %b : tensor<8x16xf32>
  }
}

// -----

// A stage beyond a module of one stage.
module attributes {dist.device_num = 2 : i64} {
  func.func @one_stage(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    // expected-error @+1 {{runs in pipeline stage 1 but the module has one stage}}
    %a = nn.relu %x {dist.stage = 1 : i64} : tensor<8x16xf32>
    return %a : tensor<8x16xf32>
  }
}
