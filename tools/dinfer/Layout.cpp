//===- Layout.cpp - `dinfer layout`: the predict layout of every parameter ===//
//
// MindSpore's infer_predict_layout: the model is imported with the predict
// input shapes (full batch), the training strategy file attached
// (--dist-attach-strategy) and adapted to the inference device count
// (--dist-infer-predict-layout); every parameter's layout is printed as a
// table or as CONTRACTS.md section 4's JSON, and `-o` writes it as the
// predict strategy file that `dinfer reshard` and `dinfer export` read.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"
#include "ModelImport.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/DType.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Runtime/Interpreter.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand layoutCommand("layout", "The predict layout of every parameter for an inference device count");

cl::opt<std::string> modelOption("model", cl::desc("The network (ONNX or MindIR)"), cl::value_desc("file"),
                                 cl::sub(layoutCommand), cl::cat(category()));
cl::opt<std::string> trainStrategyOption("train-strategy", cl::desc("The training strategy file (protobuf or JSON)"),
                                         cl::value_desc("file"), cl::sub(layoutCommand), cl::cat(category()));
cl::list<std::string> inputOptions("input", cl::desc("A predict input's full shape: NAME=SHAPE[:DTYPE], SHAPE as 3,10"),
                                   cl::value_desc("name=shape"), cl::sub(layoutCommand), cl::cat(category()));
cl::opt<int64_t> deviceNumOption("device-num", cl::desc("Inference devices (default: training's)"), cl::init(0),
                                 cl::sub(layoutCommand), cl::cat(category()));
cl::opt<int64_t> stagesOption("pipeline-stages", cl::desc("Inference pipeline stages (default: training's)"),
                              cl::init(0), cl::sub(layoutCommand), cl::cat(category()));
cl::opt<bool> jsonOption("json", cl::desc("Print JSON (CONTRACTS.md section 4)"), cl::sub(layoutCommand),
                         cl::cat(category()));
cl::opt<std::string> outputOption("o", cl::desc("Write the predict strategy file (JSON when it ends in .json)"),
                                  cl::value_desc("file"), cl::sub(layoutCommand), cl::cat(category()));

/// NAME=SHAPE[:DTYPE] -> name, shape; the dtype is checked against the model.
struct InputSpec {
  SmallVector<int64_t, 4> shape;
  std::optional<DType> dtype;
};

Expected<std::map<std::string, InputSpec>> parseInputs() {
  std::map<std::string, InputSpec> inputs;
  for (const std::string &spec : inputOptions) {
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

/// Training's devices: the largest layout device matrix times the stages.
std::pair<int64_t, int64_t> trainingDevices(const StrategyFile &strategy) {
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

int runLayout() {
  if (modelOption.empty() || trainStrategyOption.empty())
    return usageError(layoutCommand, "usage: dinfer layout --model MODEL --train-strategy FILE --input NAME=SHAPE ... "
                                     "[--device-num N] [--pipeline-stages P] [--json] [-o FILE]");
  auto inputs = parseInputs();
  if (!inputs)
    return usageError(layoutCommand, toString(inputs.takeError()));
  auto strategy = readStrategy(trainStrategyOption);
  if (!strategy)
    return failure(layoutCommand, toString(strategy.takeError()));
  auto [trainDevices, trainStages] = trainingDevices(*strategy);
  int64_t devices = deviceNumOption ? deviceNumOption : trainDevices;
  int64_t stages = stagesOption ? stagesOption : trainStages;
  if (devices <= 0 || stages <= 0 || devices % stages != 0)
    return usageError(layoutCommand,
                      formatv("--device-num {0} is not divisible by --pipeline-stages {1}", devices, stages).str());

  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  std::map<std::string, SmallVector<int64_t, 4>> shapes;
  for (const auto &[name, input] : *inputs)
    shapes[name] = input.shape;
  auto imported = importModel(modelOption, context, diagnostics, shapes, {}, /*checkShapes=*/true);
  if (!imported)
    return failure(layoutCommand, toString(imported.takeError()));
  mlir::ModuleOp module = *(*imported)->module;
  auto entry = *module.getOps<mlir::func::FuncOp>().begin();
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto name = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    std::string argName = name ? name.str() : "input" + std::to_string(i);
    auto given = inputs->find(argName);
    auto type = llvm::cast<mlir::RankedTensorType>(entry.getArgument(i).getType());
    if (given == inputs->end())
      return usageError(layoutCommand,
                        "input '" + argName + "' needs its predict shape: --input " + argName + "=" +
                            formatList(type.getShape()).substr(1, formatList(type.getShape()).size() - 2));
    std::optional<DType> takes = runtimeDType(type.getElementType());
    if (given->second.dtype && takes && *given->second.dtype != *takes)
      return failure(layoutCommand, formatv("input '{0}' is given as {1}, but the model takes {2}", argName,
                                            dtypeName(*given->second.dtype), dtypeName(*takes))
                                        .str());
  }

  mlir::PassManager passes(&context);
  StrategyPipelineOptions pipeline;
  pipeline.strategyFile = trainStrategyOption;
  pipeline.deviceNum = devices;
  pipeline.pipelineStages = stages;
  pipeline.trainDeviceNum = trainDevices / trainStages;
  addStrategyPipeline(passes, pipeline);
  if (failed(passes.run(module)))
    return failure(layoutCommand, modelOption + ": " + diagnostics.text("the layout could not be inferred"));

  // Collect every parameter's layout.
  json::Object layouts;
  StrategyFile predict;
  predict.encoding =
      StringRef(outputOption).ends_with(".json") ? StrategyFile::Encoding::Json : StrategyFile::Encoding::Protobuf;
  std::string table;
  raw_string_ostream text(table);
  text << formatv("{0,-40} {1,-14} {2,-12} {3,-14} {4,-14} {5,5}  {6}\n", "parameter", "dev_matrix", "tensor_map",
                  "slice_shape", "full_shape", "stage", "rule");
  // A parameter several stages read has one copy per stage.
  llvm::MapVector<StringRef, SmallVector<int64_t, 2>> stagesOf;
  llvm::StringMap<dist::ParamOp> firstCopy;
  module.walk([&](dist::ParamOp param) {
    auto attr = param.getLayoutAttr();
    stagesOf[param.getName()].push_back(attr ? attr.getStage() : 0);
    firstCopy.try_emplace(param.getName(), param);
  });
  for (auto &[name, paramStages] : stagesOf) {
    llvm::sort(paramStages);
    paramStages.erase(std::unique(paramStages.begin(), paramStages.end()), paramStages.end());
    dist::ParamOp param = firstCopy.lookup(name);
    auto type = param.getType();
    SmallVector<int64_t, 4> full(type.getShape().begin(), type.getShape().end()), slice = full;
    TensorLayout layout;
    int64_t stage = 0;
    if (auto attr = param.getLayoutAttr()) {
      layout = attr.toTensorLayout();
      stage = attr.getStage();
    } else {
      layout.devMatrix = {devices / stages};
      layout.tensorMap.assign(full.size(), DimAxes());
    }
    for (auto [d, axes] : llvm::enumerate(layout.tensorMap))
      for (int64_t axis : axes)
        slice[d] /= layout.devMatrix[layout.devMatrix.size() - 1 - axis];
    StringRef rule = "replicated";
    if (auto ruleAttr = param->getAttrOfType<mlir::StringAttr>(dist::DistDialect::kRuleAttrName))
      rule = ruleAttr.getValue();
    layouts[param.getName()] = json::Object{{"dev_matrix", jsonList(layout.devMatrix)},
                                            {"tensor_map", tensorMapJson(layout.tensorMap)},
                                            {"slice_shape", jsonList(slice)},
                                            {"full_shape", jsonList(full)},
                                            {"field_size", 0},
                                            {"uniform_split", true},
                                            {"opt_shard_group", ""},
                                            {"stage", stage},
                                            {"is_pipeline_shared", paramStages.size() > 1},
                                            {"rule", rule}};
    std::string stageText;
    for (int64_t s : paramStages)
      stageText += (stageText.empty() ? "" : "+") + std::to_string(s);
    text << formatv("{0,-40} {1,-14} {2,-12} {3,-14} {4,-14} {5,5}  {6}\n", param.getName(),
                    formatList(layout.devMatrix), formatTensorMap(layout.tensorMap), formatList(slice),
                    formatList(full), stageText, rule);
    // With stages, one item "<stage>-<name>" per stage, as in MindSpore's
    // merged pipeline files.
    StrategyLayout item;
    item.name = item.param = param.getName().str();
    item.layout = layout;
    item.tensorShape = full;
    if (stages == 1) {
      predict.layouts.push_back(std::move(item));
      continue;
    }
    item.stages.assign(paramStages.begin(), paramStages.end());
    for (int64_t s : paramStages) {
      StrategyLayout staged = item;
      staged.name = std::to_string(s) + "-" + item.param;
      predict.layouts.push_back(std::move(staged));
    }
  }
  module.walk([&](mlir::Operation *op) {
    auto splits = op->getAttrOfType<mlir::ArrayAttr>(dist::DistDialect::kStrategyAttrName);
    if (!splits)
      return;
    StrategyOp item;
    for (mlir::Value operand : op->getOperands())
      if (auto param = operand.getDefiningOp<dist::ParamOp>()) {
        item.name = (nn::primitiveName(op) + "_" + param.getName()).str();
        break;
      }
    if (auto stage = op->getAttrOfType<mlir::IntegerAttr>(dist::DistDialect::kStageAttrName))
      item.stage = stage.getInt();
    for (mlir::Attribute entry : splits) {
      auto values = llvm::cast<mlir::DenseI64ArrayAttr>(entry).asArrayRef();
      item.inputs.emplace_back(values.begin(), values.end());
    }
    predict.ops.push_back(std::move(item));
  });

  if (!outputOption.empty())
    if (Error err = writeStrategy(predict, outputOption))
      return failure(layoutCommand, toString(std::move(err)));
  if (jsonOption) {
    json::Object root{{"device_num", devices}, {"pipeline_stages", stages}, {"layouts", std::move(layouts)}};
    outs() << json::Value(std::move(root)) << "\n";
    return kSuccess;
  }
  outs() << formatv("predict layout for {0} devices in {1} pipeline stage(s) (training: {2} devices, {3} stage(s))\n",
                    devices, stages, trainDevices, trainStages)
         << table;
  return kSuccess;
}

CommandRegistration registration(layoutCommand, runLayout);
} // namespace
