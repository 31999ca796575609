//===- Pipelines.cpp - the pass sequences the driver runs -----------------===//

#include "dinfer/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

void dinfer::addStrategyPipeline(mlir::OpPassManager &pm, const StrategyPipelineOptions &options) {
  // As `dinfer strategy` reads the program, so that the keys agree.
  pm.addNestedPass<mlir::func::FuncOp>(createDistSplitPackedProjections());
  DistAttachStrategyOptions attach;
  attach.file = options.strategyFile;
  pm.addPass(createDistAttachStrategy(attach));
  DistInferPredictLayoutOptions infer;
  infer.deviceNum = options.deviceNum;
  infer.pipelineStages = options.pipelineStages;
  infer.trainDeviceNum = options.trainDeviceNum;
  pm.addPass(createDistInferPredictLayout(infer));
  pm.addPass(createDistPipelineSplit());
  if (!options.partition)
    return;
  if (options.splitRanks)
    return addPartitionToRanks(pm);
  pm.addPass(createDistPropagate());
  pm.addPass(createDistPartition());
}

void dinfer::addPartitionToRanks(mlir::OpPassManager &pm) {
  pm.addPass(createDistPropagate());
  pm.addPass(createDistPartition());
  pm.addPass(createDistSplitRanks());
  pm.addPass(createDistVerifySPMD());
}

void dinfer::addRunFusions(mlir::OpPassManager &pm) {
  pm.addNestedPass<mlir::func::FuncOp>(createNNFoldConstants());
  pm.addNestedPass<mlir::func::FuncOp>(createNNFuseGeLU());
  pm.addNestedPass<mlir::func::FuncOp>(createNNFoldTransposes());
}

mlir::LogicalResult dinfer::computeInFloat32(mlir::func::FuncOp function) {
  mlir::PassManager pm(function.getContext(), mlir::func::FuncOp::getOperationName());
  pm.addPass(createNNComputeInFloat32());
  return pm.run(function);
}

namespace {
struct InferencePipelineOptions : public mlir::PassPipelineOptions<InferencePipelineOptions> {
  Option<std::string> strategy{*this, "strategy", llvm::cl::desc("The training strategy file")};
  Option<int64_t> deviceNum{*this, "device-num", llvm::cl::desc("Inference devices (default: training's)"),
                            llvm::cl::init(0)};
  Option<int64_t> pipelineStages{*this, "pipeline-stages",
                                 llvm::cl::desc("Inference pipeline stages (default: training's)"), llvm::cl::init(0)};
  Option<int64_t> trainDeviceNum{*this, "train-device-num",
                                 llvm::cl::desc("Training devices per stage (default: the strategy's)"),
                                 llvm::cl::init(0)};
  Option<bool> splitRanks{*this, "split-ranks", llvm::cl::desc("One function per rank, proven consistent"),
                          llvm::cl::init(true)};
  Option<std::string> ckptDir{*this, "ckpt-dir",
                              llvm::cl::desc("Bind every rank's weights to these training checkpoints")};
};
} // namespace

void dinfer::registerDinferPassPipelines() {
  mlir::PassPipelineRegistration<InferencePipelineOptions>(
      "dist-inference-pipeline",
      "The inference pipeline of dinfer export: ops on constants folded, GeLU fused, the training strategy attached and adapted to the "
      "inference devices, stages cut, layouts propagated, the program partitioned and split into one function per "
      "rank (proven consistent), weights bound to the checkpoints when ckpt-dir is given",
      [](mlir::OpPassManager &pm, const InferencePipelineOptions &options) {
        pm.addNestedPass<mlir::func::FuncOp>(createNNFoldConstants());
        pm.addNestedPass<mlir::func::FuncOp>(createNNFuseGeLU());
        StrategyPipelineOptions pipeline;
        pipeline.strategyFile = options.strategy;
        pipeline.deviceNum = options.deviceNum;
        pipeline.pipelineStages = options.pipelineStages;
        pipeline.trainDeviceNum = options.trainDeviceNum;
        pipeline.partition = true;
        pipeline.splitRanks = options.splitRanks;
        addStrategyPipeline(pm, pipeline);
        if (!options.ckptDir.empty()) {
          DistMaterializeParamsOptions bind;
          bind.ckptDir = options.ckptDir;
          bind.trainStrategy = options.strategy;
          pm.addPass(createDistMaterializeParams(bind));
        }
      });
}
