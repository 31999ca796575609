// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{dev_matrix entry 1 is 0; entries must be positive}}
func.func @zero_device_axis() attributes {dm = #dist.dev_matrix<[2, 0]>} {
  return
}

// -----

// expected-error @+1 {{tensor_map entry 1 uses device axis 2, out of range for a dev_matrix of 2 axes}}
func.func @axis_out_of_range() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 2]>} {
  return
}

// -----

// expected-error @+1 {{tensor_map uses device axis 0 twice (dimensions 0 and 1)}}
func.func @axis_used_twice() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, 0]>} {
  return
}

// -----

// expected-error @+1 {{tensor_map uses device axis 1 twice (dimensions 0 and 0)}}
func.func @axis_twice_in_one_dimension() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [[1, 1], -1]>} {
  return
}

// -----

// expected-error @+2 {{tensor_map entry -2 is neither -1 nor a device axis}}
// expected-error @+1 {{failed to parse Dist_LayoutAttr parameter 'tensor_map'}}
func.func @negative_axis() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-2, 0]>} {
  return
}

// -----

// expected-error @+1 {{opt_weight_shard_step is -2; it must be 0 or positive}}
func.func @negative_step() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0], opt_shard_step = -2>} {
  return
}

// -----

// expected-error @+1 {{opt_weight_shard_size is 2 but opt_weight_shard_step is 0}}
func.func @size_without_step() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0], opt_shard_size = 2>} {
  return
}

// -----

// expected-error @+1 {{stage is -1; stages count from 0}}
func.func @negative_stage() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0], stage = -1>} {
  return
}

// -----

// expected-error @+1 {{partial device axis 0 also splits the tensor in tensor_map}}
func.func @partial_and_split() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0], partial = [0]>} {
  return
}

// -----

// expected-error @+1 {{partial uses device axis 5, out of range for a dev_matrix of 2 axes}}
func.func @partial_out_of_range() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0], partial = [5]>} {
  return
}

// -----

// expected-error @+1 {{partial lists device axis 1 twice}}
func.func @partial_twice() attributes {l = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0], partial = [1, 1]>} {
  return
}

// -----

// expected-error @+1 {{struct is missing required parameter: tensor_map}}
func.func @missing_tensor_map() attributes {l = #dist.layout<dev_matrix = [2, 4]>} {
  return
}
