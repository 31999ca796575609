//===- Prediction.cpp - a model, its predict inputs and training's devices ===//

#include "dinfer/Pipeline/Prediction.h"

#include "dinfer/Layout/Text.h"
#include "dinfer/Pipeline/Errors.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Runtime/Interpreter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <tuple>

using namespace llvm;
using namespace dinfer;

Expected<std::map<std::string, InputSpec>> dinfer::parseInputSpecs(ArrayRef<std::string> specs) {
  std::map<std::string, InputSpec> inputs;
  for (const std::string &spec : specs) {
    auto [name, rest] = StringRef(spec).split('=');
    auto [shapeText, dtypeText] = rest.split(':');
    if (name.empty() || shapeText.empty())
      return createStringError(inconvertibleErrorCode(), "--input expects NAME=SHAPE[:DTYPE], got '" + spec + "'");
    InputSpec input;
    SmallVector<StringRef, 4> dims;
    shapeText.split(dims, ',');
    for (StringRef dim : dims) {
      int64_t extent;
      if (dim.trim().getAsInteger(10, extent) || extent < 0)
        return createStringError(inconvertibleErrorCode(),
                                 "--input " + spec + ": '" + dim + "' is not a dimension (SHAPE is comma-separated)");
      input.shape.push_back(extent);
    }
    if (!dtypeText.empty()) {
      input.dtype = parseDType(dtypeText);
      if (!input.dtype)
        return createStringError(inconvertibleErrorCode(), "--input " + spec + ": unknown dtype '" + dtypeText + "'");
    }
    inputs[name.str()] = input;
  }
  return inputs;
}

Error dinfer::checkInputSpecs(mlir::ModuleOp module, const std::map<std::string, InputSpec> &inputs) {
  auto entry = *module.getOps<mlir::func::FuncOp>().begin();
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto name = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    std::string argName = name ? name.str() : "input" + std::to_string(i);
    auto given = inputs.find(argName);
    auto type = cast<mlir::RankedTensorType>(entry.getArgument(i).getType());
    if (given == inputs.end()) {
      std::string shape = formatList(type.getShape());
      return usageError("input '" + argName + "' needs its predict shape: --input " +
                                                             argName + "=" + shape.substr(1, shape.size() - 2));
    }
    std::optional<DType> takes = runtimeDType(type.getElementType());
    if (given->second.dtype && takes && *given->second.dtype != *takes)
      return createStringError(inconvertibleErrorCode(),
                               formatv("input '{0}' is given as {1}, but the model takes {2}", argName,
                                       dtypeName(*given->second.dtype), dtypeName(*takes))
                                   .str());
  }
  return Error::success();
}

std::pair<int64_t, int64_t> dinfer::trainingDevices(const StrategyFile &strategy) {
  int64_t perStage = 1, stages = 1;
  for (const StrategyLayout &layout : strategy.layouts) {
    perStage = std::max<int64_t>(perStage, layout.layout.deviceCount());
    for (int64_t stage : layout.stages)
      stages = std::max<int64_t>(stages, stage + 1);
  }
  for (const StrategyOp &op : strategy.ops)
    stages = std::max<int64_t>(stages, op.stage + 1);
  return {perStage * stages, stages};
}

Expected<PredictSetup> dinfer::preparePrediction(const PredictionRequest &request, mlir::MLIRContext &context,
                                                 const DiagnosticCollector &diagnostics) {
  auto inputs = parseInputSpecs(request.inputSpecs);
  if (!inputs)
    return usageError(toString(inputs.takeError()));
  PredictSetup setup;
  auto strategy = readStrategy(request.trainStrategy);
  if (!strategy)
    return strategy.takeError();
  setup.strategy = std::move(*strategy);
  std::tie(setup.trainDevices, setup.trainStages) = trainingDevices(setup.strategy);
  setup.devices = request.deviceNum ? request.deviceNum : setup.trainDevices;
  setup.stages = request.pipelineStages ? request.pipelineStages : setup.trainStages;
  if (setup.devices <= 0 || setup.stages <= 0 || setup.devices % setup.stages != 0)
    return usageError(
        formatv("--device-num {0} is not divisible by --pipeline-stages {1}", setup.devices, setup.stages).str());
  std::map<std::string, SmallVector<int64_t, 4>> shapes;
  for (const auto &[name, input] : *inputs)
    shapes[name] = input.shape;
  auto imported = importModel(request.model, context, diagnostics, shapes, {}, /*checkShapes=*/true);
  if (!imported)
    return imported.takeError();
  setup.model = std::move(*imported);
  if (Error err = checkInputSpecs(setup.module(), *inputs))
    return std::move(err);
  return setup;
}

void PredictSetup::addPartitionPasses(mlir::PassManager &passes, StringRef trainStrategy) const {
  passes.addNestedPass<mlir::func::FuncOp>(createNNFoldConstants());
  passes.addNestedPass<mlir::func::FuncOp>(createNNFuseGeLU());
  addStrategyPipeline(passes, strategyPipeline(trainStrategy, /*partition=*/true));
}

StrategyPipelineOptions PredictSetup::strategyPipeline(StringRef trainStrategy, bool partition) const {
  StrategyPipelineOptions pipeline;
  pipeline.strategyFile = trainStrategy.str();
  pipeline.deviceNum = devices;
  pipeline.pipelineStages = stages;
  pipeline.trainDeviceNum = trainDevices / trainStages;
  pipeline.partition = partition;
  pipeline.splitRanks = partition;
  return pipeline;
}
