//===- PredictLayout.cpp - MindSpore's infer_predict_layout ---------------===//

#include "dinfer/Pipeline/PredictLayout.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Layout/Text.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

using namespace llvm;
using namespace dinfer;

Expected<PredictLayout> dinfer::inferPredictLayout(const PredictionRequest &request,
                                                   StrategyFile::Encoding strategyEncoding) {
  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  auto prepared = preparePrediction(request, context, diagnostics);
  if (!prepared)
    return prepared.takeError();
  mlir::ModuleOp module = prepared->module();
  PredictLayout result;
  result.devices = prepared->devices;
  result.stages = prepared->stages;
  result.trainDevices = prepared->trainDevices;
  result.trainStages = prepared->trainStages;

  mlir::PassManager passes(&context);
  addStrategyPipeline(passes, prepared->strategyPipeline(request.trainStrategy, /*partition=*/false));
  if (failed(passes.run(module)))
    return createStringError(inconvertibleErrorCode(),
                             request.model + ": " + diagnostics.text("the layout could not be inferred"));

  result.params = predictParams(module, result.devices / result.stages);
  result.strategy = predictStrategy(result.params, result.stages);
  result.strategy.encoding = strategyEncoding;
  module.walk([&](mlir::Operation *op) {
    dist::StrategyAttr splits = dist::getStrategy(op);
    if (!splits)
      return;
    StrategyOp item;
    for (mlir::Value operand : op->getOperands())
      if (auto param = operand.getDefiningOp<dist::ParamOp>()) {
        item.name = (nn::primitiveName(op) + "_" + dist::strategyKeyName(param)).str();
        break;
      }
    if (auto stage = op->getAttrOfType<mlir::IntegerAttr>(dist::DistDialect::kStageAttrName))
      item.stage = stage.getInt();
    for (mlir::DenseI64ArrayAttr operand : splits.getOperandSplits())
      item.inputs.emplace_back(operand.asArrayRef().begin(), operand.asArrayRef().end());
    result.strategy.ops.push_back(std::move(item));
  });
  return result;
}

json::Value dinfer::predictLayoutJson(const PredictLayout &layout) {
  json::Object layouts;
  for (const PredictParam &p : layout.params) {
    json::Object item{{"dev_matrix", jsonList(p.layout.devMatrix)},
                      {"tensor_map", tensorMapJson(p.layout.tensorMap)},
                      {"slice_shape", jsonList(p.sliceShape)},
                      {"full_shape", jsonList(p.fullShape)},
                      {"field_size", 0},
                      {"uniform_split", true},
                      {"opt_shard_group", ""},
                      {"stage", p.stages.front()},
                      {"is_pipeline_shared", p.stages.size() > 1},
                      {"rule", p.rule}};
    if (p.parts) {
      // A packed projection split per head: each part's own layout (the
      // item's dev_matrix and tensor_map are the first part's).
      json::Array parts;
      for (const TensorLayout &part : p.parts->layouts)
        parts.push_back(json::Object{{"dev_matrix", jsonList(part.devMatrix)},
                                     {"tensor_map", tensorMapJson(part.tensorMap)}});
      item["parts"] =
          json::Object{{"dim", p.parts->dim}, {"sizes", jsonList(p.parts->sizes)}, {"layouts", std::move(parts)}};
    }
    layouts[p.name] = std::move(item);
  }
  return json::Object{
      {"device_num", layout.devices}, {"pipeline_stages", layout.stages}, {"layouts", std::move(layouts)}};
}
