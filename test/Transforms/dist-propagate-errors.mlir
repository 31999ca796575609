// RUN: dinfer-opt %s --split-input-file --allow-unregistered-dialect --dist-propagate -verify-diagnostics

// An op without a sharding rule cannot be placed: an error at the op.
module attributes {dist.device_num = 2 : i64} {
  func.func @no_rule(%x: tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{has no sharding rule: the sharding compiler cannot place it}}
    %t = "test.unknown"(%x) : (tensor<4xf32>) -> tensor<4xf32>
    return %t : tensor<4xf32>
  }
}

// -----

// expected-error @+1 {{--dist-propagate needs dist.device_num on the module}}
module {
  func.func @no_device_count(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}
