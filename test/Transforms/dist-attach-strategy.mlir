// RUN: dinfer-opt %s --dist-attach-strategy=%S/Inputs/mlp-train.json 2>/dev/null | FileCheck %s
// RUN: dinfer-opt %s --dist-attach-strategy="file=%S/Inputs/mlp-train.json" -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DIAG
// RUN: dinfer-opt %s --dist-attach-strategy=%S/Inputs/mlp-train.json --dist-infer-predict-layout=device-num=4 \
// RUN:   2>/dev/null | FileCheck %s --check-prefix=PREDICT4
// RUN: not dinfer-opt %s --dist-attach-strategy=%S/Inputs/mlp-wrong.json -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=WRONG
// RUN: not dinfer-opt %s --dist-attach-strategy=%S/Inputs/missing.json -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MISSING

// A two-layer MLP trained on 8 devices, data parallel 2 x tensor parallel 4:
// column-parallel then row-parallel, keyed as MindSpore keys them.
module attributes {dist.device_num = 8 : i64} {
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    // CHECK: dist.param "layer0.w1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>}
    %w1 = dist.param "layer0.w1" : tensor<16x32xf32>
    // CHECK: dist.param "layer0.w2" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, -1]>}
    %w2 = dist.param "layer0.w2" : tensor<32x16xf32>
    // CHECK: dist.param "layer0.b" : tensor<16xf32>
    %b = dist.param "layer0.b" : tensor<16xf32>
    // CHECK: nn.matmul {{.*}} {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[2, 1], [1, 4]>}
    %h = nn.matmul %x, %w1 : tensor<8x16xf32>, tensor<16x32xf32>
    %r = nn.relu %h : tensor<8x32xf32>
    // CHECK: nn.matmul {{.*}} {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[2, 4], [4, 1]>}
    %y = nn.matmul %r, %w2 : tensor<8x32xf32>, tensor<32x16xf32>
    // CHECK: nn.add
    // CHECK-NOT: dist.strategy
    // CHECK: return
    %z = nn.add %y, %b : tensor<8x16xf32>, tensor<16xf32>
    return %z : tensor<8x16xf32>
  }
}

// Then on 4 devices: tensor parallel 4 kept, the data-parallel 2 dropped.
// PREDICT4: dist.param "layer0.w1" {dist.rule = #dist.rule<dropped_replicas>, layout = #dist.layout<dev_matrix = [4], tensor_map = [-1, 0]>}
// PREDICT4: dist.param "layer0.w2" {dist.rule = #dist.rule<dropped_replicas>, layout = #dist.layout<dev_matrix = [4], tensor_map = [0, -1]>}
// PREDICT4: dist.param "layer0.b" {dist.rule = #dist.rule<replicated>}
// PREDICT4: dist.strategy = #dist.strategy<[1, 1], [1, 4]>
// PREDICT4: dist.strategy = #dist.strategy<[1, 4], [4, 1]>

// DIAG-DAG: remark: parameter 'layer0.b' is not in {{.*}}mlp-train.json: replicated
// DIAG-DAG: remark: no strategy for 'Add_layer0.b' in {{.*}}: replicated
// Optimizer states (adam_m.layer0.w1) are clones, not mismatches.
// DIAG-DAG: warning: {{.*}}mlp-train.json: 1 op strategies and 1 parameter layouts match nothing in the program; ops: MatMul_layer9.w; parameters: layer9.w

// Layouts and strategies that contradict the shapes are errors at the op.
// WRONG-DAG: dist-attach-strategy.mlir:{{[0-9]+}}:{{[0-9]+}}: error: the layout of 'layer0.w1' in {{.*}} has 3 tensor_map entries, but the parameter is 'tensor<16x32xf32>'
// WRONG-DAG: dist-attach-strategy.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'dist.param' op layout dev_matrix [8, 4] covers 32 devices, but a pipeline stage of the module has 8
// WRONG-DAG: dist-attach-strategy.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'nn.matmul' op dist.strategy splits dimension 1 of operand 1 (32) into 3 parts
// WRONG-DAG: dist-attach-strategy.mlir:{{[0-9]+}}:{{[0-9]+}}: error: the strategy 'MatMul_layer0.w1' in {{.*}} does not fit the op
// WRONG-DAG: dist-attach-strategy.mlir:{{[0-9]+}}:{{[0-9]+}}: error: the strategy 'MatMul_layer0.w2' gives 1 inputs' split numbers, but the op has 2 operands

// MISSING: error: {{.*}}missing.json{{.*}}
