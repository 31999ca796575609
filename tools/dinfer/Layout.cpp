//===- Layout.cpp - `dinfer layout`: the predict layout of every parameter ===//
//
// MindSpore's infer_predict_layout: the model is imported with the predict
// input shapes (full batch), the training strategy file attached
// (--dist-attach-strategy) and adapted to the inference device count
// (--dist-infer-predict-layout); every parameter's layout is printed as a
// table or as docs/contracts.md section 4's JSON, and `-o` writes it as the
// predict strategy file that `dinfer reshard` and `dinfer export` read.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"
#include "ModelImport.h"
#include "PredictLayout.h"

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
cl::opt<bool> jsonOption("json", cl::desc("Print JSON (docs/contracts.md section 4)"), cl::sub(layoutCommand),
                         cl::cat(category()));
cl::opt<std::string> outputOption("o", cl::desc("Write the predict strategy file (JSON when it ends in .json)"),
                                  cl::value_desc("file"), cl::sub(layoutCommand), cl::cat(category()));

int runLayout() {
  if (modelOption.empty() || trainStrategyOption.empty())
    return usageError(layoutCommand, "usage: dinfer layout --model MODEL --train-strategy FILE --input NAME=SHAPE ... "
                                     "[--device-num N] [--pipeline-stages P] [--json] [-o FILE]");
  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  PredictSetup setup;
  if (int code = preparePrediction(layoutCommand, modelOption, trainStrategyOption, inputOptions, deviceNumOption,
                                   stagesOption, context, diagnostics, setup))
    return code;
  mlir::ModuleOp module = setup.module();
  int64_t devices = setup.devices, stages = setup.stages, trainDevices = setup.trainDevices,
          trainStages = setup.trainStages;

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
  std::vector<PredictParam> params = predictParams(module, devices / stages);
  StrategyFile predict = predictStrategy(params, stages);
  predict.encoding =
      StringRef(outputOption).ends_with(".json") ? StrategyFile::Encoding::Json : StrategyFile::Encoding::Protobuf;
  json::Object layouts;
  std::string table;
  raw_string_ostream text(table);
  text << formatv("{0,-40} {1,-14} {2,-12} {3,-14} {4,-14} {5,5}  {6}\n", "parameter", "dev_matrix", "tensor_map",
                  "slice_shape", "full_shape", "stage", "rule");
  for (const PredictParam &p : params) {
    layouts[p.name] = json::Object{{"dev_matrix", jsonList(p.layout.devMatrix)},
                                   {"tensor_map", tensorMapJson(p.layout.tensorMap)},
                                   {"slice_shape", jsonList(p.sliceShape)},
                                   {"full_shape", jsonList(p.fullShape)},
                                   {"field_size", 0},
                                   {"uniform_split", true},
                                   {"opt_shard_group", ""},
                                   {"stage", p.stages.front()},
                                   {"is_pipeline_shared", p.stages.size() > 1},
                                   {"rule", p.rule}};
    std::string stageText;
    for (int64_t stage : p.stages)
      stageText += (stageText.empty() ? "" : "+") + std::to_string(stage);
    text << formatv("{0,-40} {1,-14} {2,-12} {3,-14} {4,-14} {5,5}  {6}\n", p.name, formatList(p.layout.devMatrix),
                    formatTensorMap(p.layout.tensorMap), formatList(p.sliceShape), formatList(p.fullShape), stageText,
                    p.rule);
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
