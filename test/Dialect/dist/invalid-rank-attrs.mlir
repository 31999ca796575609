// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

// The discardable attributes of per-rank programs: dist.rank, dist.group,
// dist.sources and dist.checkpoints check themselves.

module attributes {dist.device_num = 2 : i64} {
  // expected-error @+1 {{dist.rank names rank 2, outside the module's 2 devices}}
  func.func @rank_out_of_range() attributes {dist.rank = 2 : i64} {
    return
  }
}

// -----

module attributes {dist.device_num = 4 : i64} {
  func.func @group_twice(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{dist.group names a rank twice}}
    %s = dist.all_reduce %x sum axes = [0] dev_matrix = <[4]> {dist.group = array<i64: 0, 0>} : tensor<4xf32>
    return %s : tensor<4xf32>
  }
}

// -----

// expected-error @+1 {{dist.checkpoints is an array of file names on a builtin.module}}
module attributes {dist.checkpoints = [1]} {
}

// -----

module attributes {dist.checkpoints = ["a.ckpt"]} {
  func.func @box_outside() -> tensor<4x8xf32> {
    // expected-error @+1 {{dist.sources places a box outside the parameter's 'tensor<4x8xf32>'}}
    %w = dist.param "w" {dist.sources = [#dist.source<rank = 0, offset = [0, 0], shape = [4, 8], at = [0, 4]>]} : tensor<4x8xf32>
    return %w : tensor<4x8xf32>
  }
}

// -----

module attributes {dist.checkpoints = ["a.ckpt"]} {
  func.func @unknown_rank() -> tensor<4xf32> {
    // expected-error @+1 {{dist.sources names source rank 1 of 1 checkpoints}}
    %w = dist.param "w" {dist.sources = [#dist.source<rank = 1, offset = [0], shape = [4], at = [0]>]} : tensor<4xf32>
    return %w : tensor<4xf32>
  }
}

// -----

func.func @sources_on_another_op(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{dist.sources is an array of #dist.source boxes on a dist.param}}
  %y = nn.relu %x {dist.sources = []} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

module attributes {dist.checkpoints = ["a.ckpt"]} {
  func.func @untyped_box() -> tensor<4xf32> {
    // expected-error @+1 {{dist.sources is an array of #dist.source boxes on a dist.param}}
    %w = dist.param "w" {dist.sources = [{rank = 0 : i64}]} : tensor<4xf32>
    return %w : tensor<4xf32>
  }
}

// -----

module attributes {dist.checkpoints = ["a.ckpt"]} {
  func.func @box_of_another_rank() -> tensor<4x8xf32> {
    // expected-error @+1 {{dist.sources boxes have one entry per dimension of the parameter's 'tensor<4x8xf32>'}}
    %w = dist.param "w" {dist.sources = [#dist.source<rank = 0, offset = [0], shape = [4], at = [0]>]} : tensor<4x8xf32>
    return %w : tensor<4x8xf32>
  }
}

// -----

// expected-error @+1 {{a source box has one offset, extent and destination entry per dimension}}
func.func private @mismatched_box() attributes {box = #dist.source<rank = 0, offset = [0, 0], shape = [4], at = [0]>}

// -----

// expected-error @+1 {{a source box names rank -1}}
func.func private @negative_rank() attributes {box = #dist.source<rank = -1, offset = [0], shape = [4], at = [0]>}

// -----

// expected-error @+1 {{a source box has a negative offset, extent or destination}}
func.func private @negative_offset() attributes {box = #dist.source<rank = 0, offset = [-1], shape = [4], at = [0]>}

// -----

func.func @rule_as_a_string() -> tensor<4xf32> {
  // expected-error @+1 {{dist.rule is a #dist.rule<...> of a dist.param}}
  %w = dist.param "w" {dist.rule = "same"} : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @rule_on_another_op(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{dist.rule is a #dist.rule<...> of a dist.param}}
  %y = nn.relu %x {dist.rule = #dist.rule<same>} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @unknown_rule() -> tensor<4xf32> {
  // expected-error @+2 {{expected ::dinfer::dist::PredictRule to be one of: same, dropped_replicas}}
  // expected-error @+1 {{failed to parse Dist_PredictRuleAttr parameter 'value'}}
  %w = dist.param "w" {dist.rule = #dist.rule<sideways>} : tensor<4xf32>
  return %w : tensor<4xf32>
}
