// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

// The op strategy attributes --dist-attach-strategy writes, verified by the dist dialect.

func.func @one_entry_per_operand(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) {
  // expected-error @+1 {{dist.strategy needs one list of split numbers per operand (2)}}
  %0 = nn.matmul %x, %w {dist.strategy = #dist.strategy<[2, 1]>} : tensor<8x16xf32>, tensor<16x32xf32>
  return
}

// -----

func.func @rank_mismatch(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) {
  // expected-error @+1 {{dist.strategy entry 1 must give one split number per dimension of 'tensor<16x32xf32>'}}
  %0 = nn.matmul %x, %w {dist.strategy = #dist.strategy<[2, 1], [4]>} : tensor<8x16xf32>, tensor<16x32xf32>
  return
}

// -----

func.func @split_does_not_divide(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) {
  // expected-error @+1 {{dist.strategy splits dimension 0 of operand 0 (8) into 3 parts}}
  %0 = nn.matmul %x, %w {dist.strategy = #dist.strategy<[3, 1], [1, 4]>} : tensor<8x16xf32>, tensor<16x32xf32>
  return
}

// -----

func.func @not_a_strategy(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{dist.strategy must be a #dist.strategy<...>}}
  %0 = nn.relu %x {dist.strategy = [array<i64: 2, 1>]} : tensor<8x16xf32>
  return
}

// -----

func.func @non_positive_split(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{strategy split 0 of operand 0 is not positive}}
  %0 = nn.relu %x {dist.strategy = #dist.strategy<[0, 1]>} : tensor<8x16xf32>
  return
}

// -----

func.func @not_a_list_of_lists(%x: tensor<8x16xf32>) {
  // expected-error @+2 {{expected '['}}
  // expected-error @+1 {{failed to parse Dist_StrategyAttr parameter 'operandSplits'}}
  %0 = nn.relu %x {dist.strategy = #dist.strategy<2, 1>} : tensor<8x16xf32>
  return
}

// -----

func.func @negative_stage(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{dist.stage must be a non-negative integer}}
  %0 = nn.relu %x {dist.stage = -1 : i64} : tensor<8x16xf32>
  return
}

// -----

module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @stage_beyond_the_module(%x: tensor<8x16xf32>) {
    // expected-error @+1 {{dist.stage 2 is beyond the module's 2 pipeline stages}}
    %0 = nn.relu %x {dist.stage = 2 : i64} : tensor<8x16xf32>
    return
  }
}

// -----

func.func @replicas_last_without_strategy(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) {
  // expected-error @+1 {{dist.replicas_last is a unit attribute of an op with a dist.strategy}}
  %0 = nn.matmul %x, %w {dist.replicas_last} : tensor<8x16xf32>, tensor<16x32xf32>
  return
}
