// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @axis_out_of_range(%x: tensor<16x8xf32>) {
  // expected-error @+1 {{'dist.all_reduce' op axes: device axis 2 is out of range for a dev_matrix of 2 axes}}
  %0 = dist.all_reduce %x sum axes = [2] dev_matrix = <[2, 4]> : tensor<16x8xf32>
  return
}

// -----

func.func @axis_twice(%x: tensor<16x8xf32>) {
  // expected-error @+1 {{'dist.all_gather' op axes: device axis 0 is listed twice}}
  %0 = dist.all_gather %x axes = [0, 0] dim = 0 dev_matrix = <[2, 4]> : tensor<16x8xf32>
  return
}

// -----

func.func @no_axes(%x: tensor<16x8xf32>) {
  // expected-error @+1 {{'dist.broadcast' op axes must name at least one device axis}}
  %0 = dist.broadcast %x root = 0 axes = [] dev_matrix = <[2, 4]> : tensor<16x8xf32>
  return
}

// -----

func.func @gather_dim(%x: tensor<16x8xf32>) {
  // expected-error @+1 {{'dist.all_gather' op dim 2 is out of range for 'tensor<16x8xf32>'}}
  %0 = dist.all_gather %x axes = [0] dim = 2 dev_matrix = <[2, 4]> : tensor<16x8xf32>
  return
}

// -----

func.func @scatter_not_divisible(%x: tensor<6x8xf32>) {
  // expected-error @+1 {{'dist.reduce_scatter' op dim 0 of size 6 is not divisible by the group size 4}}
  %0 = dist.reduce_scatter %x sum axes = [0] dim = 0 dev_matrix = <[2, 4]> : tensor<6x8xf32>
  return
}

// -----

func.func @all_to_all_split(%x: tensor<16x6xf32>) {
  // expected-error @+1 {{'dist.all_to_all' op split_dim 1 of size 6 is not divisible by the group size 8}}
  %0 = dist.all_to_all %x axes = [1, 0] split_dim = 1 concat_dim = 0 dev_matrix = <[2, 4]> : tensor<16x6xf32>
  return
}

// -----

func.func @broadcast_root(%x: tensor<16x8xf32>) {
  // expected-error @+1 {{'dist.broadcast' op root 2 is not a position in a group of 2}}
  %0 = dist.broadcast %x root = 2 axes = [1] dev_matrix = <[2, 4]> : tensor<16x8xf32>
  return
}

// -----

func.func @gather_result(%x: tensor<16x8xf32>) {
  // expected-error @+2 {{'dist.all_gather' op failed to infer returned types}}
  // expected-error @+1 {{'dist.all_gather' op inferred type(s) 'tensor<64x8xf32>' are incompatible with return type(s) of operation 'tensor<16x8xf32>'}}
  %0 = "dist.all_gather"(%x) <{axes = array<i64: 0>, dim = 0 : i64, dev_matrix = #dist.dev_matrix<[2, 4]>}> : (tensor<16x8xf32>) -> tensor<16x8xf32>
  return
}

// -----

func.func @reduce_kind(%x: tensor<16x8xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'kind' [sum, max, min, prod]}}
  %0 = dist.all_reduce %x mean axes = [0] dev_matrix = <[2, 4]> : tensor<16x8xf32>
  return
}

// -----

func.func @local_split_not_divisible(%x: tensor<6x8xf32>) {
  // expected-error @+1 {{'dist.local_split' op dim 0 of size 6 is not divisible by the group size 4}}
  %0 = dist.local_split %x axes = [0] dim = 0 dev_matrix = <[2, 4]> : tensor<6x8xf32>
  return
}

// -----

func.func @shard_offset_axis() {
  // expected-error @+1 {{'dist.shard_offset' op axis 2 is outside the 2-D device matrix or given twice}}
  %0 = dist.shard_offset axes = [2] dev_matrix = <[2, 4]> piece = 8 : tensor<i64>
  return
}

// -----

func.func @shard_offset_piece() {
  // expected-error @+1 {{'dist.shard_offset' op piece must be positive, got 0}}
  %0 = dist.shard_offset axes = [0] dev_matrix = <[2, 4]> piece = 0 : tensor<i64>
  return
}
