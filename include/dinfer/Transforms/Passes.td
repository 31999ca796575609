//===- Passes.td - dinfer's passes -------------------------*- tablegen -*-===//

#ifndef DINFER_TRANSFORMS_PASSES
#define DINFER_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def NNFuseGeLU : Pass<"nn-fuse-gelu", "mlir::func::FuncOp"> {
  let summary = "Fuse GeLU spelled out in elementwise ops into nn.gelu";
  let description = [{
    Exporters write GeLU as the arithmetic that defines it: torch's ONNX
    exporter writes the erf form as `x * (erf(x / sqrt(2)) + 1) * 0.5` and
    the tanh form as `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`,
    five to nine ops that each walk the whole tensor. This pass finds both,
    whatever the order of the products' and sums' operands, and replaces
    them with one `nn.gelu` (`approximate = "tanh"` for the second).
    Constants must match to within 1e-6 relative; the intermediate values
    must have no other users.
  }];
  let dependentDialects = ["dinfer::nn::NNDialect"];
}

def DistAttachStrategy : Pass<"dist-attach-strategy", "mlir::ModuleOp"> {
  let summary = "Attach a training strategy file's op strategies and parameter layouts";
  let description = [{
    Reads a MindSpore strategy file (protobuf or JSON, merged pipeline files
    too) and attaches what it says to the program:
    * every `dist.param` the file lays out gets its `layout` (with the stage
      of a merged file's `<stage>-` prefix; a parameter several stages share
      keeps the first and is reported);
    * every op with a sharding rule and a parameter operand is looked up as
      MindSpore keys it, `<Primitive>_<first parameter name>`, and gets
      `dist.strategy` (one list of split numbers per operand) and `dist.stage`.
    A parameter or keyed op the file does not cover keeps the rule's default
    (replicated) and gets a remark; an op or layout whose split numbers do
    not match its operands' shapes is an error at the op. File entries that
    match nothing in the program are reported in one warning.

    `--dist-attach-strategy=FILE` names the file directly; `file=FILE` works
    too.
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"\"", "The training strategy file">
  ];
  let dependentDialects = ["dinfer::dist::DistDialect"];
}

def TestDistShardingRules : Pass<"test-dist-sharding-rules", "mlir::func::FuncOp"> {
  let summary = "Report every op's sharding rule as a remark (for tests)";
  let description = [{
    Emits, on every op, a remark with its sharding rule in Shardy's notation,
    `([i, k], [k, j])->([i, j]) {i=8, j=16, k=32} reduction={k}`: per
    operand and result, the factors of each dimension (major first, `1` for a
    broadcast dimension without one), the factor sizes, and the factors that
    are summed over or must stay whole. Ops without a rule say so.
  }];
}

#endif // DINFER_TRANSFORMS_PASSES
