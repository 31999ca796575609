//===- DistBase.td - the dist (sharding) dialect -------------*- tablegen -*-===//

#ifndef DINFER_DIST_BASE_TD
#define DINFER_DIST_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Dist_Dialect : Dialect {
  let name = "dist";
  let cppNamespace = "::dinfer::dist";
  let summary = "Device matrices, tensor layouts, collectives and pipeline transfers";
  let description = [{
    The `dist` dialect carries MindSpore's sharding model into MLIR. A device
    matrix (`#dist.dev_matrix`) is the shape of one pipeline stage's devices,
    ranks laid out row-major over it. A layout (`#dist.layout`) gives, per
    tensor dimension, the device-matrix axes that split it, counted from the
    right as MindSpore counts them; unreferenced axes are replicas. A layout
    may also carry optimizer sharding, a pipeline stage and the axes over
    which a value is a pending (partial) sum.

    Collectives name the device-matrix axes they run over; the ranks of one
    group are the ranks that differ only in those axes.

    Module attributes `dist.device_num` and `dist.pipeline_stages` fix the
    device count; every dev_matrix inside the module must cover exactly one
    stage's devices (`device_num / pipeline_stages`).
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    static constexpr ::llvm::StringLiteral kDeviceNumAttrName = "dist.device_num";
    static constexpr ::llvm::StringLiteral kPipelineStagesAttrName = "dist.pipeline_stages";
    static constexpr ::llvm::StringLiteral kLayoutAttrName = "dist.layout";
    /// On an op with several results: one #dist.layout per result.
    static constexpr ::llvm::StringLiteral kResultLayoutsAttrName = "dist.result_layouts";
    /// An op's strategy: one list of split numbers per operand (MindSpore's
    /// ((2, 1), (1, 4))), a #dist.strategy<[2, 1], [1, 4]>.
    static constexpr ::llvm::StringLiteral kStrategyAttrName = "dist.strategy";
    /// The pipeline stage an op runs in.
    static constexpr ::llvm::StringLiteral kStageAttrName = "dist.stage";
    /// On an op with a dist.strategy that uses fewer devices than its stage:
    /// the replicas take the last device axis instead of MindSpore's first,
    /// so that neighbouring ranks share a slice (grouped-query attention's
    /// KV heads, each read by the query heads of consecutive ranks).
    static constexpr ::llvm::StringLiteral kReplicasLastAttrName = "dist.replicas_last";
    /// What --dist-infer-predict-layout did to a parameter's layout: `same`,
    /// `dropped-replicas`, `shrunk-model-parallel`, `split-batch`,
    /// `restaged` or `replicated`.
    static constexpr ::llvm::StringLiteral kRuleAttrName = "dist.rule";
    /// On a function: --dist-partition rewrote it to one rank's local shapes;
    /// its arguments' (and results') dist.layout then describe the global values.
    static constexpr ::llvm::StringLiteral kPartitionedAttrName = "dist.partitioned";
    /// On a function from --dist-split-ranks: the global rank it runs on.
    static constexpr ::llvm::StringLiteral kRankAttrName = "dist.rank";
    /// On a collective from --dist-split-ranks: the global ranks it runs
    /// among, in group order.
    static constexpr ::llvm::StringLiteral kGroupAttrName = "dist.group";
    /// On a dist.param after --dist-materialize-params: the boxes of the
    /// source checkpoints its slice is made of.
    static constexpr ::llvm::StringLiteral kSourcesAttrName = "dist.sources";
    /// On the module after --dist-materialize-params: the source checkpoint
    /// files, by source rank.
    static constexpr ::llvm::StringLiteral kCheckpointsAttrName = "dist.checkpoints";
  }];
}

class Dist_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Dist_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

class Dist_Op<string mnemonic, list<Trait> traits = []>
    : Op<Dist_Dialect, mnemonic, traits>;

#endif // DINFER_DIST_BASE_TD
