//===- PredictStrategy.cpp - predict layouts read off a program -----------===//

#include "dinfer/Transforms/PredictStrategy.h"

#include "dialects/dist/DistOps.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>

using namespace llvm;
using namespace dinfer;

std::vector<PredictParam> dinfer::predictParams(mlir::ModuleOp module, int64_t stageDevices) {
  // A parameter several stages (or ranks) read has one copy in each.
  MapVector<StringRef, SmallVector<int64_t, 2>> stagesOf;
  StringMap<dist::ParamOp> firstCopy;
  module.walk([&](dist::ParamOp param) {
    auto attr = param.getLayoutAttr();
    stagesOf[param.getName()].push_back(attr ? attr.getStage() : 0);
    firstCopy.try_emplace(param.getName(), param);
  });
  std::vector<PredictParam> params;
  for (auto &[name, stages] : stagesOf) {
    llvm::sort(stages);
    stages.erase(std::unique(stages.begin(), stages.end()), stages.end());
    dist::ParamOp param = firstCopy.lookup(name);
    PredictParam p;
    p.name = name.str();
    p.stages = stages;
    mlir::RankedTensorType type = param.getType();
    if (auto attr = param.getLayoutAttr()) {
      p.layout = attr.toTensorLayout();
      if (param.getLocal())
        type = attr.getGlobalType(type);
    } else {
      p.layout.devMatrix = {stageDevices};
      p.layout.tensorMap.assign(type.getRank(), DimAxes());
    }
    p.fullShape.assign(type.getShape().begin(), type.getShape().end());
    p.sliceShape = p.fullShape;
    for (auto [d, axes] : llvm::enumerate(p.layout.tensorMap))
      for (int64_t axis : axes)
        p.sliceShape[d] /= p.layout.devMatrix[p.layout.devMatrix.size() - 1 - axis];
    // The rule as docs/contracts.md section 4 spells it: "dropped-replicas".
    auto rule = param->getAttrOfType<dist::PredictRuleAttr>(dist::DistDialect::kRuleAttrName);
    p.rule = rule ? dist::stringifyPredictRule(rule.getValue()).str() : "replicated";
    std::replace(p.rule.begin(), p.rule.end(), '_', '-');
    params.push_back(std::move(p));
  }
  return params;
}

StrategyFile dinfer::predictStrategy(const std::vector<PredictParam> &params, int64_t stages) {
  StrategyFile file;
  for (const PredictParam &p : params) {
    StrategyLayout item;
    item.name = item.param = p.name;
    item.layout = p.layout;
    item.tensorShape = p.fullShape;
    if (stages == 1) {
      file.layouts.push_back(std::move(item));
      continue;
    }
    item.stages = p.stages;
    for (int64_t stage : p.stages) {
      StrategyLayout staged = item;
      staged.name = std::to_string(stage) + "-" + p.name;
      file.layouts.push_back(std::move(staged));
    }
  }
  return file;
}
