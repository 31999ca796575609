//===- Passes.h - dinfer's passes -----------------------------------------===//
//
// The passes of dinfer-opt, declared from Passes.td; one file per pass in
// lib/Transforms.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TRANSFORMS_PASSES_H
#define DINFER_TRANSFORMS_PASSES_H

#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace dinfer {

#define GEN_PASS_DECL
#include "dinfer/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dinfer/Transforms/Passes.h.inc"

/// What the driver runs, in order, for a training strategy and an inference
/// device count: --dist-attach-strategy, --dist-infer-predict-layout and
/// --dist-pipeline-split (`dinfer layout`); with `partition`, --dist-propagate
/// and --dist-partition after them; with `splitRanks` too, --dist-split-ranks
/// and --dist-verify-spmd (`dinfer run --device-num`). Zero counts take the
/// defaults of --dist-infer-predict-layout.
struct StrategyPipelineOptions {
  std::string strategyFile;
  int64_t deviceNum = 0, pipelineStages = 0, trainDeviceNum = 0;
  bool partition = false;
  /// With `partition`: one function per rank, proven consistent.
  bool splitRanks = false;
};
void addStrategyPipeline(mlir::OpPassManager &pm, const StrategyPipelineOptions &options);

/// From laid-out values to one function per rank, proven consistent:
/// --dist-propagate, --dist-partition, --dist-split-ranks,
/// --dist-verify-spmd (the tail of addStrategyPipeline, for callers that fix
/// some layouts themselves in between, as a decoder's cache).
void addPartitionToRanks(mlir::OpPassManager &pm);

/// The folds and fusions that make a program cheaper to run without changing
/// its meaning, as `dinfer run` and `dinfer generate` apply them: ops on
/// constants become the constants they compute, spelled-out GeLU one
/// nn.gelu, transposes of the last two dimensions the products' flags.
void addRunFusions(mlir::OpPassManager &pm);

/// --nn-compute-in-float32 on one function about to run (after partitioning:
/// the training strategy's keys name the ops as the exporter wrote them,
/// without the casts this adds).
mlir::LogicalResult computeInFloat32(mlir::func::FuncOp function);

/// Registers `--dist-inference-pipeline` (fusion, strategy attached and
/// adapted, stages, propagation, partitioning, one function per rank and its
/// proof; with `ckpt-dir`, the weights bound to the training checkpoints):
/// what `dinfer export` runs, for dinfer-opt.
void registerDinferPassPipelines();

} // namespace dinfer

#endif // DINFER_TRANSFORMS_PASSES_H
