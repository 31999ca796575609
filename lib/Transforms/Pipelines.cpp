//===- Pipelines.cpp - the pass sequences the driver runs -----------------===//

#include "dinfer/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"

void dinfer::addStrategyPipeline(mlir::OpPassManager &pm, const StrategyPipelineOptions &options) {
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
  pm.addPass(createDistPropagate());
  pm.addPass(createDistPartition());
  if (!options.splitRanks)
    return;
  pm.addPass(createDistSplitRanks());
  pm.addPass(createDistVerifySPMD());
}
