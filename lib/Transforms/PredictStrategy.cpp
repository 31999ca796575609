//===- PredictStrategy.cpp - predict layouts read off a program -----------===//

#include "dinfer/Transforms/PredictStrategy.h"

#include "dialects/dist/DistOps.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>

using namespace llvm;
using namespace dinfer;

llvm::Expected<PackedLayout> dinfer::packParts(StringRef name, std::vector<ParamPart> parts) {
  auto fail = [&](const Twine &why) {
    return createStringError(inconvertibleErrorCode(), "parameter '" + name + "' is read as parts that " + why);
  };
  llvm::stable_sort(parts, [](const ParamPart &a, const ParamPart &b) { return a.offset < b.offset; });
  parts.erase(std::unique(parts.begin(), parts.end(),
                          [](const ParamPart &a, const ParamPart &b) { return a.offset == b.offset; }),
              parts.end());
  size_t rank = parts.front().shape.size();
  // The dimension the parts lie along: the one where their offsets differ.
  std::optional<int64_t> dim;
  for (const ParamPart &part : parts) {
    if (part.offset.size() != rank || part.shape.size() != rank)
      return fail("differ in rank");
    for (size_t d = 0; d < rank; ++d)
      if (part.offset[d] != 0) {
        if (dim && *dim != static_cast<int64_t>(d))
          return fail("lie along several dimensions");
        dim = d;
      }
  }
  if (!dim)
    dim = 0;
  PackedLayout packed;
  packed.fullShape = parts.front().shape;
  packed.fullShape[*dim] = 0;
  PartsLayout layout;
  layout.dim = *dim;
  for (const ParamPart &part : parts) {
    if (part.offset[*dim] != packed.fullShape[*dim])
      return fail("leave a gap or overlap along dimension " + Twine(*dim));
    for (size_t d = 0; d < rank; ++d)
      if (static_cast<int64_t>(d) != *dim && part.shape[d] != packed.fullShape[d])
        return fail("differ in dimension " + Twine(d));
    packed.fullShape[*dim] += part.shape[*dim];
    layout.sizes.push_back(part.shape[*dim]);
    layout.layouts.push_back(part.layout);
  }
  packed.layout = layout.layouts.front();
  bool alike = llvm::all_of(layout.layouts, [&](const TensorLayout &l) {
    return l.devMatrix == packed.layout.devMatrix && l.tensorMap == packed.layout.tensorMap &&
           l.optShardStep == packed.layout.optShardStep && l.optShardSize == packed.layout.optShardSize;
  });
  if (!alike || !packed.layout.tensorMap[*dim].empty())
    packed.parts = std::move(layout);
  return packed;
}

std::vector<PredictParam> dinfer::predictParams(mlir::ModuleOp module, int64_t stageDevices) {
  // A parameter several stages (or ranks) read has one copy in each.
  MapVector<StringRef, SmallVector<int64_t, 2>> stagesOf;
  StringMap<dist::ParamOp> firstCopy;
  // The parts of packed parameters, each read once per stage or rank.
  StringMap<std::vector<ParamPart>> partsOf;
  auto layoutOf = [&](dist::ParamOp param, mlir::RankedTensorType &type) {
    TensorLayout layout;
    if (auto attr = param.getLayoutAttr()) {
      layout = attr.toTensorLayout();
      if (param.getLocal())
        type = attr.getGlobalType(type);
    } else {
      layout.devMatrix = {stageDevices};
      layout.tensorMap.assign(type.getRank(), DimAxes());
    }
    return layout;
  };
  module.walk([&](dist::ParamOp param) {
    auto attr = param.getLayoutAttr();
    stagesOf[param.getName()].push_back(attr ? attr.getStage() : 0);
    firstCopy.try_emplace(param.getName(), param);
    if (std::optional<ArrayRef<int64_t>> offset = param.getOffset()) {
      mlir::RankedTensorType type = param.getType();
      ParamPart part;
      part.layout = layoutOf(param, type);
      part.offset.assign(offset->begin(), offset->end());
      part.shape.assign(type.getShape().begin(), type.getShape().end());
      partsOf[param.getName()].push_back(std::move(part));
    }
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
    if (dist::PartsAttr parts = param.getPartsAttr()) {
      // A rank's slice of every part (partitioned programs).
      p.parts = parts.toPartsLayout();
      p.layout = p.parts->layouts.front();
      p.fullShape.assign(type.getShape().begin(), type.getShape().end());
      p.fullShape[parts.getDim()] = 0;
      for (int64_t size : parts.getSizes())
        p.fullShape[parts.getDim()] += size;
    } else if (auto found = partsOf.find(name); found != partsOf.end()) {
      auto packed = packParts(name, found->second);
      if (!packed) {
        // The verifier of the splitting pass makes this unreachable; say so
        // in the layout rather than crash.
        param.emitError() << llvm::toString(packed.takeError());
        p.layout = layoutOf(param, type);
        p.fullShape.assign(type.getShape().begin(), type.getShape().end());
      } else {
        p.layout = packed->layout;
        p.parts = std::move(packed->parts);
        p.fullShape = packed->fullShape;
      }
    } else {
      p.layout = layoutOf(param, type);
      p.fullShape.assign(type.getShape().begin(), type.getShape().end());
    }
    if (p.parts) {
      auto sharded = PackedTensor::create(p.fullShape, *p.parts);
      p.sliceShape = sharded ? SmallVector<int64_t, 4>(sharded->sliceShape()) : p.fullShape;
      if (!sharded)
        llvm::consumeError(sharded.takeError());
    } else {
      p.sliceShape = p.fullShape;
      for (auto [d, axes] : llvm::enumerate(p.layout.tensorMap))
        for (int64_t axis : axes)
          p.sliceShape[d] /= p.layout.devMatrix[p.layout.devMatrix.size() - 1 - axis];
    }
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
    item.parts = p.parts;
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
