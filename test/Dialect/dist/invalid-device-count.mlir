// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

// Every dev_matrix in a module must cover one stage's devices.
module attributes {dist.device_num = 8 : i64} {
  func.func @param_devices() {
    // expected-error @+1 {{'dist.param' op layout dev_matrix [2, 2] covers 4 devices, but a pipeline stage of the module has 8 (dist.device_num = 8, dist.pipeline_stages = 1)}}
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [-1, 0]>} : tensor<96x16xf32>
    return
  }
}

// -----

module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @collective_devices(%x: tensor<16x8xf32>) {
    // expected-error @+1 {{'dist.all_reduce' op dev_matrix [2, 4] covers 8 devices, but a pipeline stage of the module has 4 (dist.device_num = 8, dist.pipeline_stages = 2)}}
    %0 = dist.all_reduce %x sum axes = [0] dev_matrix = <[2, 4]> : tensor<16x8xf32>
    return
  }
}

// -----

module attributes {dist.device_num = 4 : i64} {
  // expected-error @+1 {{'func.func' op dist.layout dev_matrix [8] covers 8 devices, but a pipeline stage of the module has 4 (dist.device_num = 4, dist.pipeline_stages = 1)}}
  func.func @argument_devices(%x: tensor<128x96xf32> {dist.layout = #dist.layout<dev_matrix = [8], tensor_map = [0, -1]>}) {
    return
  }
}

// -----

module attributes {dist.device_num = 8 : i64} {
  func.func @annotate_devices(%x: tensor<128x96xf32>) {
    // expected-error @+1 {{'dist.annotate' op layout dev_matrix [16] covers 16 devices, but a pipeline stage of the module has 8}}
    %y = dist.annotate %x layout <dev_matrix = [16], tensor_map = [0, -1]> : tensor<128x96xf32>
    return
  }
}

// -----

// expected-error @+1 {{'builtin.module' op dist.device_num 8 is not divisible by dist.pipeline_stages 3}}
module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 3 : i64} {
}

// -----

// expected-error @+1 {{'builtin.module' op dist.device_num must be a positive integer}}
module attributes {dist.device_num = 0 : i64} {
}

// -----

func.func @device_num_on_a_function() attributes {dist.device_num = 8 : i64} {
  return
}
// expected-error @-3 {{'func.func' op dist.device_num belongs on a builtin.module}}

// -----

module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @stage_beyond(%x: tensor<4xf32>) {
    // expected-error @+1 {{'dist.send' op peer_stage 2 is beyond the module's 2 pipeline stages}}
    dist.send %x to_stage = 2 sr_tag = 0 : tensor<4xf32>
    return
  }
}

// -----

module attributes {dist.device_num = 8 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @layout_stage_beyond() {
    // expected-error @+1 {{'dist.param' op layout stage 2 is beyond the module's 2 pipeline stages}}
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [4], tensor_map = [-1], stage = 2>} : tensor<4xf32>
    return
  }
}
