// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @tensor_map_length() {
  // expected-error @+1 {{'dist.param' op dist.layout does not fit 'tensor<96x16xf32>': tensor_map has 1 entries but the tensor has rank 2}}
  %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0]>} : tensor<96x16xf32>
  return
}

// -----

func.func @not_divisible() {
  // expected-error @+1 {{'dist.param' op dist.layout does not fit 'tensor<96x18xf32>': dimension 1 of size 18 is not divisible by its split 4}}
  %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>} : tensor<96x18xf32>
  return
}

// -----

func.func @multi_axis_not_divisible() {
  // expected-error @+1 {{'dist.param' op dist.layout does not fit 'tensor<6x16xf32>': dimension 0 of size 6 is not divisible by its split 4}}
  %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 2, 2], tensor_map = [[2, 1], 0]>} : tensor<6x16xf32>
  return
}

// -----

func.func @optimizer_step_disagrees() {
  // expected-error @+1 {{'dist.param' op dist.layout does not fit 'tensor<96x16xf32>': opt_weight_shard_step is 3, but the replica group [0,4] has stride 4}}
  %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0], opt_shard_step = 3>} : tensor<96x16xf32>
  return
}

// -----

func.func @empty_name() {
  // expected-error @+1 {{'dist.param' op needs a non-empty parameter name}}
  %w = dist.param "" : tensor<4xf32>
  return
}

// -----

func.func @annotate_rank(%x: tensor<128x96xf32>) {
  // expected-error @+1 {{'dist.annotate' op dist.layout does not fit 'tensor<128x96xf32>': tensor_map has 3 entries but the tensor has rank 2}}
  %y = dist.annotate %x layout <dev_matrix = [8], tensor_map = [0, -1, -1]> : tensor<128x96xf32>
  return
}

// -----

func.func @annotate_types(%x: tensor<128x96xf32>) {
  // expected-error @+1 {{'dist.annotate' op failed to verify that all of {input, result} have same type}}
  %y = "dist.annotate"(%x) {layout = #dist.layout<dev_matrix = [8], tensor_map = [0, -1]>} : (tensor<128x96xf32>) -> tensor<128x96xf16>
  return
}

// -----

// expected-error @+1 {{'func.func' op argument 0: dist.layout does not fit 'tensor<128x96xf32>': dimension 1 of size 96 is not divisible by its split 5}}
func.func @argument_layout(%x: tensor<128x96xf32> {dist.layout = #dist.layout<dev_matrix = [5], tensor_map = [-1, 0]>}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op result 0: dist.layout does not fit 'tensor<128xf32>': tensor_map has 2 entries but the tensor has rank 1}}
func.func @result_layout(%x: tensor<128xf32>) -> (tensor<128xf32> {dist.layout = #dist.layout<dev_matrix = [8], tensor_map = [0, -1]>}) {
  return %x : tensor<128xf32>
}

// -----

func.func @op_layout_without_result() {
  // expected-error @+1 {{'func.return' op dist.layout on an op needs exactly one result}}
  return {dist.layout = #dist.layout<dev_matrix = [8], tensor_map = []>}
}

// -----

func.func @unknown_dist_attribute(%x: tensor<4xf32>) {
  // expected-error @+1 {{'nn.relu' op unknown dist attribute 'dist.mesh'}}
  %y = nn.relu %x {dist.mesh = 1 : i64} : tensor<4xf32>
  return
}

// -----

func.func @send_negative_stage(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.send' op peer_stage is -1; stages count from 0}}
  dist.send %x to_stage = -1 sr_tag = 0 : tensor<4xf32>
  return
}

// -----

func.func @recv_negative_tag() {
  // expected-error @+1 {{'dist.recv' op sr_tag is -4; tags are non-negative}}
  %x = dist.recv from_stage = 0 sr_tag = -4 : tensor<4xf32>
  return
}

// -----

func.func @local_without_layout() {
  // expected-error @+1 {{a local slice needs the layout it is a slice of}}
  %w = dist.param "w" {local} : tensor<96x4xf32>
  return
}

// -----

func.func @local_slice_does_not_fit() {
  // expected-error @+1 {{dist.layout does not fit}}
  %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>, local} : tensor<96xf32>
  return
}

// -----

func.func @part_offset_rank() {
  // expected-error @+1 {{has an offset of 1 entries for a tensor of rank 2}}
  %w = dist.param "w" {offset = array<i64: 64>} : tensor<64x64xf32>
  return
}

// -----

func.func @parts_not_local() {
  // expected-error @+1 {{a slice made of parts must be local, with the first part's layout}}
  %w = dist.param "w" {parts = #dist.parts<dim = 1, sizes = [4, 4], layouts = [<dev_matrix = [2], tensor_map = [-1, 0]>, <dev_matrix = [2], tensor_map = [-1, 0]>]>} : tensor<4x4xf32>
  return
}

// -----

func.func @parts_slice_shape() {
  // expected-error @+1 {{has a slice of shape [4, 4] under its parts, not 'tensor<4x8xf32>'}}
  %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>, local, parts = #dist.parts<dim = 1, sizes = [4, 4], layouts = [<dev_matrix = [2], tensor_map = [-1, 0]>, <dev_matrix = [2], tensor_map = [-1, 0]>]>} : tensor<4x8xf32>
  return
}

// -----

func.func @parts_sizes() {
  // expected-error @+1 {{2 part sizes for 1 part layouts}}
  %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>, local, parts = #dist.parts<dim = 1, sizes = [4, 4], layouts = [<dev_matrix = [2], tensor_map = [-1, 0]>]>} : tensor<4x4xf32>
  return
}
