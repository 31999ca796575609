//===- InferPredictLayout.cpp - strategies for the inference device count -===//

#include "dinfer/Transforms/Passes.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Transforms/StrategyLayout.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace dinfer {
#define GEN_PASS_DEF_DISTINFERPREDICTLAYOUT
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

int64_t largestDivisorOfDividing(int64_t of, int64_t dividing) {
  for (int64_t d = std::min(of, dividing); d > 1; --d)
    if (of % d == 0 && dividing % d == 0)
      return d;
  return 1;
}

struct DistInferPredictLayoutPass : dinfer::impl::DistInferPredictLayoutBase<DistInferPredictLayoutPass> {
  using DistInferPredictLayoutBase::DistInferPredictLayoutBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    auto moduleInt = [&](StringRef name, int64_t fallback) {
      auto attr = module->getAttrOfType<IntegerAttr>(name);
      return attr ? attr.getInt() : fallback;
    };
    // Training's devices per stage and stage count, from the layouts.
    int64_t trainPerStage = trainDeviceNum, trainStages = 1;
    module.walk([&](dist::ParamOp param) {
      if (auto layout = param.getLayoutAttr()) {
        if (!trainPerStage)
          trainPerStage = layout.getDeviceCount();
        trainStages = std::max<int64_t>(trainStages, layout.getStage() + 1);
      }
    });
    module.walk([&](Operation *op) {
      if (auto stage = op->getAttrOfType<IntegerAttr>(dist::DistDialect::kStageAttrName))
        trainStages = std::max<int64_t>(trainStages, stage.getInt() + 1);
    });
    int64_t devices = deviceNum ? static_cast<int64_t>(deviceNum) : moduleInt(dist::DistDialect::kDeviceNumAttrName, 0);
    // Unless told otherwise, inference keeps training's stages.
    int64_t stages = pipelineStages ? static_cast<int64_t>(pipelineStages)
                                    : moduleInt(dist::DistDialect::kPipelineStagesAttrName, trainStages);
    if (devices <= 0 || stages <= 0 || devices % stages != 0) {
      module.emitError() << "--dist-infer-predict-layout needs the inference device count (device-num=N, or "
                            "dist.device_num on the module) divisible by the pipeline stages; got "
                         << devices << " devices and " << stages << " stages";
      return signalPassFailure();
    }
    int64_t perStage = devices / stages;
    if (!trainPerStage) {
      module.emitError() << "--dist-infer-predict-layout cannot tell training's device count: no parameter has a "
                            "layout (run --dist-attach-strategy first) and train-device-num is not given";
      return signalPassFailure();
    }
    // Another stage count: the training stages no longer apply, and
    // --dist-pipeline-split cuts the program again by cost.
    bool restaged = trainStages != stages;
    if (restaged)
      module.walk([&](Operation *op) { op->removeAttr(dist::DistDialect::kStageAttrName); });
    bool same = perStage == trainPerStage;

    // Parameters take the layout of their first user with a strategy.
    llvm::DenseMap<Operation *, std::pair<dist::LayoutAttr, StringRef>> layouts;
    // Every strategized op read once through its rule, in program order.
    bool failedAny = false;
    std::vector<std::pair<Operation *, FactorSplits>> strategized;
    module.walk([&](Operation *op) {
      if (dist::StrategyAttr strategy = dist::getStrategy(op)) {
        FailureOr<FactorSplits> splits = factorSplits(op, strategy);
        if (failed(splits))
          failedAny = true;
        else
          strategized.push_back({op, std::move(*splits)});
      }
    });
    if (failedAny)
      return signalPassFailure();
    // A strategy file carries no dist.replicas_last: a parameter laid out
    // with its replicas on the last device axis says it.
    for (auto &[op, splits] : strategized) {
      if (splits.replicasLast)
        continue;
      for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
        auto param = operand.getDefiningOp<dist::ParamOp>();
        if (!param || !param.getLayoutAttr())
          continue;
        TensorLayout training = param.getLayoutAttr().toTensorLayout();
        // A whole parameter's device matrix tells nothing of where its op's
        // replicas go.
        if (llvm::all_of(training.tensorMap, [](const DimAxes &axes) { return axes.empty(); }))
          continue;
        FactorSplits last = splits;
        last.replicasLast = true;
        TensorLayout first = operandLayout(splits, index, trainPerStage),
                     lastLayout = operandLayout(last, index, trainPerStage);
        auto same = [&](const TensorLayout &a) {
          return a.devMatrix == training.devMatrix && a.tensorMap == training.tensorMap;
        };
        if (same(lastLayout) && !same(first)) {
          splits.replicasLast = true;
          op->setAttr(dist::DistDialect::kReplicasLastAttrName, UnitAttr::get(context));
        }
        break;
      }
    }
    // The program's model-parallel degree after rule 1: what every op's
    // batch shares the devices with (rule 2), so that neighbours agree.
    // Training's own model-parallel degree says whether it split the batch
    // at all: with tensor parallelism only, an op's split activations
    // (attention heads) are not a batch.
    int64_t programMp = 1, trainMp = 1;
    for (const auto &[op, splits] : strategized) {
      trainMp = std::max(trainMp, modelParallelDegree(splits));
      programMp = std::max(programMp, largestDivisorOfDividing(modelParallelDegree(splits), perStage));
    }
    bool trainingSplitBatch = trainPerStage / trainMp > 1;
    for (auto &[op, splits] : strategized) {
      StringRef rule = "same";
      if (!same)
        rule = adapt(splits, perStage, programMp, trainingSplitBatch);
      op->setAttr(dist::DistDialect::kStrategyAttrName, strategyAttr(context, splits));
      int64_t stage = 0;
      if (auto stageAttr = op->getAttrOfType<IntegerAttr>(dist::DistDialect::kStageAttrName))
        stage = stageAttr.getInt();
      for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
        auto param = operand.getDefiningOp<dist::ParamOp>();
        if (!param || layouts.count(param))
          continue;
        TensorLayout layout = operandLayout(splits, index, perStage);
        layouts[param] = {dist::LayoutAttr::get(context, layout, stage, {}),
                          restaged && rule == "same" ? StringRef("restaged") : rule};
      }
    }

    module->setAttr(dist::DistDialect::kDeviceNumAttrName, IntegerAttr::get(IntegerType::get(context, 64), devices));
    if (stages > 1)
      module->setAttr(dist::DistDialect::kPipelineStagesAttrName,
                      IntegerAttr::get(IntegerType::get(context, 64), stages));
    else
      module->removeAttr(dist::DistDialect::kPipelineStagesAttrName);
    module.walk([&](dist::ParamOp param) {
      auto it = layouts.find(param);
      StringRef rule;
      if (it != layouts.end()) {
        param.setLayoutAttr(it->second.first);
        rule = it->second.second;
      } else if (param.getLayoutAttr() && same) {
        // No strategized user: the training layout stands, minus optimizer sharding.
        TensorLayout layout = param.getLayoutAttr().toTensorLayout();
        layout.optShardStep = layout.optShardSize = 0;
        param.setLayoutAttr(
            dist::LayoutAttr::get(context, layout, restaged ? 0 : param.getLayoutAttr().getStage(), {}));
        rule = restaged ? "restaged" : "same";
      } else {
        if (param.getLayoutAttr())
          param.emitRemark() << "parameter '" << param.getName()
                             << "' has a training layout but no op with a strategy uses it: replicated on " << perStage
                             << " devices";
        param.removeLayoutAttr();
        rule = "replicated";
      }
      std::string symbol = rule.str();
      std::replace(symbol.begin(), symbol.end(), '-', '_');
      std::optional<dist::PredictRule> kind = dist::symbolizePredictRule(symbol);
      assert(kind && "every rule of the adaptation is a PredictRule");
      param->setAttr(dist::DistDialect::kRuleAttrName, dist::PredictRuleAttr::get(context, *kind));
    });
  }

  static int64_t modelParallelDegree(const FactorSplits &splits) {
    int64_t mp = 1;
    for (size_t f = 0; f < splits.split.size(); ++f)
      if (splits.modelParallel[f])
        mp *= splits.split[f];
    return mp;
  }

  /// docs/contracts.md section 8, rules 1 and 2.
  /// Adapts `splits` to `devices`, of which the program's model parallelism
  /// takes `programMp`, and returns the rule applied.
  StringRef adapt(FactorSplits &splits, int64_t devices, int64_t programMp, bool trainingSplitBatch) {
    int64_t mp = 1, dp = 1;
    for (size_t f = 0; f < splits.split.size(); ++f)
      (splits.modelParallel[f] ? mp : dp) *= splits.split[f];
    int64_t mpNew = largestDivisorOfDividing(mp, devices);
    // Shrink the innermost model-parallel factors first.
    int64_t excess = mp / mpNew;
    for (auto it = splits.deviceOrder.rbegin(); it != splits.deviceOrder.rend() && excess > 1; ++it) {
      if (!splits.modelParallel[*it])
        continue;
      int64_t g = std::gcd(splits.split[*it], excess);
      splits.split[*it] /= g;
      excess /= g;
    }
    StringRef rule = mpNew < mp ? "shrunk-model-parallel" : "same";
    if (dp > 1) {
      // The split batch: the outermost data-parallel factor. Other splits
      // of activations (attention heads next to a split batch) are the
      // program's model parallelism showing in an op without parameters:
      // they keep what of it is left (innermost shrinking first), and the
      // batch takes the devices the program's model parallelism leaves,
      // the same for every op, so that neighbours agree.
      int64_t batch = -1;
      SmallVector<int64_t> others;
      for (int64_t f : splits.deviceOrder)
        if (!splits.modelParallel[f] && splits.split[f] > 1) {
          if (batch < 0 && trainingSplitBatch)
            batch = f;
          else
            others.push_back(f);
        }
      int64_t room = programMp % mpNew == 0 ? programMp / mpNew : 1, otherSplit = 1;
      for (int64_t f : others)
        otherSplit *= splits.split[f];
      int64_t otherExcess = otherSplit / largestDivisorOfDividing(otherSplit, room);
      for (auto it = others.rbegin(); it != others.rend(); ++it) {
        int64_t g = std::gcd(splits.split[*it], otherExcess);
        splits.split[*it] /= g;
        otherExcess /= g;
        otherSplit /= g;
      }
      int64_t dpNew = 1;
      if (batch >= 0) {
        splits.split[batch] = 1;
        dpNew = largestDivisorOfDividing(devices / std::max(mpNew * otherSplit, programMp),
                                         splits.rule.factorSizes[batch]);
        splits.split[batch] = dpNew;
      }
      if (rule == "same" && dpNew * otherSplit != dp)
        rule = dpNew * otherSplit > dp ? "split-batch" : "dropped-replicas";
    } else if (rule == "same") {
      rule = "dropped-replicas";
    }
    return rule;
  }
};

} // namespace
