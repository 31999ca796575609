//===- StrategyLayout.cpp - op strategies and the layouts they imply ------===//

#include "dinfer/Transforms/StrategyLayout.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace dinfer;

FailureOr<FactorSplits> dinfer::factorSplits(Operation *op, dist::StrategyAttr strategy) {
  auto ruled = llvm::dyn_cast<dist::ShardingRuleOpInterface>(op);
  if (!ruled)
    return op->emitError("has a dist.strategy but no sharding rule");
  FailureOr<dist::ShardingRule> rule = ruled.getShardingRule();
  if (failed(rule))
    return op->emitError("has a dist.strategy but its sharding rule admits no split");
  FactorSplits result;
  result.rule = *rule;
  size_t factors = rule->factorSizes.size();
  result.split.assign(factors, 1);
  result.modelParallel.assign(factors, false);
  // MindSpore's device-matrix order: a matrix product lists its first
  // operand's dimensions then the output features ([batch, m, k, n]); every
  // other op its output's dimensions, then factors only operands have.
  llvm::SetVector<int64_t> order;
  if (!llvm::isa<nn::MatMulOp, nn::BatchMatMulOp>(op))
    for (const auto &dims : rule->resultFactors)
      for (const auto &factorsOfDim : dims)
        order.insert(factorsOfDim.begin(), factorsOfDim.end());
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    bool parameter = static_cast<bool>(operand.getDefiningOp<dist::ParamOp>());
    ArrayRef<int64_t> splits = strategy.getSplits(index);
    for (auto [d, factorsOfDim] : llvm::enumerate(rule->operandFactors[index])) {
      int64_t split = splits[d];
      for (int64_t f : factorsOfDim) {
        order.insert(f);
        if (parameter)
          result.modelParallel[f] = true;
      }
      if (split == 1)
        continue;
      if (factorsOfDim.empty())
        return op->emitError() << "dist.strategy splits dimension " << d << " of operand " << index
                               << ", which the op broadcasts";
      // A dimension made of several factors takes its split on the major one.
      int64_t major = factorsOfDim.front();
      if (rule->factorSizes[major] % split != 0)
        return op->emitError() << "dist.strategy splits dimension " << d << " of operand " << index << " into " << split
                               << " parts, which its major factor of " << rule->factorSizes[major] << " cannot take";
      if (result.split[major] != 1 && result.split[major] != split)
        return op->emitError() << "dist.strategy splits one factor two ways (" << result.split[major] << " and "
                               << split << ")";
      if (rule->factorKinds[major] == dist::FactorKind::NeedReplication)
        return op->emitError() << "dist.strategy splits dimension " << d << " of operand " << index
                               << ", which the op needs whole";
      result.split[major] = split;
    }
  }
  result.deviceOrder.assign(order.begin(), order.end());
  result.replicasLast = op->hasAttr(dist::DistDialect::kReplicasLastAttrName);
  return result;
}

dist::StrategyAttr dinfer::strategyAttr(MLIRContext *context, const FactorSplits &splits) {
  SmallVector<SmallVector<int64_t>> operands;
  for (const auto &dims : splits.rule.operandFactors) {
    SmallVector<int64_t> dimSplits;
    for (const auto &factors : dims) {
      int64_t split = 1;
      for (int64_t f : factors)
        split *= splits.split[f];
      dimSplits.push_back(split);
    }
    operands.push_back(std::move(dimSplits));
  }
  return dist::StrategyAttr::get(context, operands);
}

static FactorPlacement placeWithReplicas(const FactorSplits &splits, int64_t stageDevices, bool replicasLast) {
  int64_t used = 1;
  for (int64_t f : splits.deviceOrder)
    used *= splits.split[f];
  FactorPlacement placement;
  placement.factorAxes.resize(splits.split.size());
  if (stageDevices / used > 1 && !replicasLast)
    placement.devMatrix.push_back(stageDevices / used);
  SmallVector<std::pair<int64_t, size_t>> positions; // (factor, position from the left)
  for (int64_t f : splits.deviceOrder)
    if (splits.split[f] > 1) {
      positions.push_back({f, placement.devMatrix.size()});
      placement.devMatrix.push_back(splits.split[f]);
    }
  if (stageDevices / used > 1 && replicasLast)
    placement.devMatrix.push_back(stageDevices / used);
  for (auto [f, position] : positions)
    placement.factorAxes[f] = {static_cast<int64_t>(placement.devMatrix.size() - 1 - position)};
  if (placement.devMatrix.empty()) // one device: a one-axis matrix of 1
    placement.devMatrix.push_back(1);
  keepBlockSplits(placement, splits.rule);
  return placement;
}

FactorPlacement dinfer::placeFactors(const FactorSplits &splits, int64_t stageDevices) {
  return placeWithReplicas(splits, stageDevices, splits.replicasLast);
}

FactorPlacement dinfer::placeActivationFactors(const FactorSplits &splits, int64_t stageDevices) {
  bool splitsParameters = false;
  for (auto [f, split] : llvm::enumerate(splits.split))
    splitsParameters |= split > 1 && splits.modelParallel[f];
  return placeWithReplicas(splits, stageDevices, /*replicasLast=*/splits.replicasLast || !splitsParameters);
}

void dinfer::keepBlockSplits(FactorPlacement &placement, const dist::ShardingRule &rule) {
  auto degree = [&](int64_t f) {
    int64_t d = 1;
    for (int64_t axis : placement.factorAxes[f])
      d *= placement.devMatrix[placement.devMatrix.size() - 1 - axis];
    return d;
  };
  auto legalize = [&](ArrayRef<SmallVector<int64_t, 1>> dims) {
    bool changed = false;
    for (const auto &factors : dims) {
      bool whole = false; // a factor so far is not split down to single elements
      for (int64_t f : factors) {
        if (whole && !placement.factorAxes[f].empty()) {
          placement.factorAxes[f].clear();
          changed = true;
        }
        if (degree(f) != rule.factorSizes[f])
          whole = true;
      }
    }
    return changed;
  };
  // Dropping a split can make another dimension's split illegal: to a fixpoint.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto &dims : rule.operandFactors)
      changed |= legalize(dims);
    for (const auto &dims : rule.resultFactors)
      changed |= legalize(dims);
  }
}

TensorLayout dinfer::layoutOver(const FactorPlacement &placement, ArrayRef<SmallVector<int64_t, 1>> dims) {
  TensorLayout layout;
  layout.devMatrix = placement.devMatrix;
  for (const auto &factors : dims) {
    DimAxes axes;
    for (int64_t f : factors)
      axes.append(placement.factorAxes[f].begin(), placement.factorAxes[f].end());
    layout.tensorMap.push_back(axes);
  }
  return layout;
}

SmallVector<int64_t> dinfer::pendingSumAxes(const FactorPlacement &placement, const dist::ShardingRule &rule) {
  SmallVector<int64_t> axes;
  for (size_t f = 0; f < placement.factorAxes.size(); ++f)
    if (rule.factorKinds[f] == dist::FactorKind::Reduction)
      axes.append(placement.factorAxes[f].begin(), placement.factorAxes[f].end());
  llvm::sort(axes);
  return axes;
}

TensorLayout dinfer::operandLayout(const FactorSplits &splits, unsigned index, int64_t stageDevices) {
  return layoutOver(placeFactors(splits, stageDevices), splits.rule.operandFactors[index]);
}

dist::LayoutAttr dinfer::propagatedLayout(Value value) {
  if (auto arg = llvm::dyn_cast<BlockArgument>(value)) {
    if (auto function = llvm::dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()))
      return function.getArgAttrOfType<dist::LayoutAttr>(arg.getArgNumber(), dist::DistDialect::kLayoutAttrName);
    return {};
  }
  Operation *op = value.getDefiningOp();
  if (auto annotate = llvm::dyn_cast<dist::AnnotateOp>(op))
    return annotate.getLayout();
  if (auto param = llvm::dyn_cast<dist::ParamOp>(op))
    return param.getLayoutAttr();
  if (op->getNumResults() > 1) {
    auto layouts = op->getAttrOfType<ArrayAttr>(dist::DistDialect::kResultLayoutsAttrName);
    return layouts ? llvm::dyn_cast<dist::LayoutAttr>(layouts[llvm::cast<OpResult>(value).getResultNumber()])
                   : dist::LayoutAttr();
  }
  return op->getAttrOfType<dist::LayoutAttr>(dist::DistDialect::kLayoutAttrName);
}
