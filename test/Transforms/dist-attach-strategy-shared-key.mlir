// RUN: dinfer-opt %s --dist-attach-strategy=%S/Inputs/shared-key.json 2>/dev/null | FileCheck %s
// RUN: dinfer-opt %s --dist-attach-strategy=%S/Inputs/shared-key.json -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DIAG

// torch's exporter keeps one initializer for equal tensors (every zero bias of
// a freshly initialised ViT), so ops of different ranks read the same
// parameter and share its key: the file's strategy attaches where it fits
// the operands, and the others are left to propagation with a remark.
module attributes {dist.device_num = 2 : i64} {
  func.func @main(%x: tensor<2x4x8xf32>, %y: tensor<8x8xf32>) -> (tensor<2x4x8xf32>, tensor<8x8xf32>) {
    %zeros = dist.param "zeros" : tensor<8xf32>
    // CHECK: nn.add {{.*}}dist.strategy = #dist.strategy<[2, 1, 1], [1]>{{.*}} : tensor<2x4x8xf32>
    %a = nn.add %x, %zeros : tensor<2x4x8xf32>, tensor<8xf32>
    // CHECK: nn.add
    // CHECK-NOT: dist.strategy
    // CHECK-SAME: tensor<8x8xf32>
    %b = nn.add %y, %zeros : tensor<8x8xf32>, tensor<8xf32>
    return %a, %b : tensor<2x4x8xf32>, tensor<8x8xf32>
  }
}

// DIAG-DAG: remark: 2 ops share the strategy key 'Add_zeros': the strategy applies to each, and each runs in the stage of what it reads
// DIAG-DAG: :17:10: remark: 2 ops share the strategy key 'Add_zeros' and its strategy does not fit this one's operand ranks: its layout follows propagation
