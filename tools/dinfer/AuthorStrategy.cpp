//===- AuthorStrategy.cpp - `dinfer strategy`: write a training strategy --===//
//
// Authors the strategy file a MindSpore training run would have written for
// a model: op strategies keyed `<Primitive>_<first parameter>` and every
// parameter's layout, from a preset (Megatron: column- then row-parallel
// products, vocabulary-parallel embeddings, the batch split dp ways, optional
// optimizer sharding) or from explicit `--op KEY=((a,b),(c,d))` strategies.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "ModelImport.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/PipelineStages.h"
#include "dinfer/Transforms/ShardingRules.h"
#include "dinfer/Transforms/StrategyLayout.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"
#include <set>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand strategyCommand("strategy",
                               "Write the training strategy file of a model from a preset or op strategies");

cl::opt<std::string> modelOption("model", cl::desc("The network (ONNX or MindIR)"), cl::value_desc("file"),
                                 cl::sub(strategyCommand), cl::cat(category()));
cl::opt<int64_t> deviceNumOption("device-num", cl::desc("Training devices"), cl::init(0), cl::sub(strategyCommand),
                                 cl::cat(category()));
cl::opt<int64_t> stagesOption("pipeline-stages", cl::desc("Training pipeline stages"), cl::init(1),
                              cl::sub(strategyCommand), cl::cat(category()));
cl::opt<std::string> presetOption("preset", cl::desc("megatron:tp=T[,dp=D][,opt-shard]"), cl::value_desc("preset"),
                                  cl::sub(strategyCommand), cl::cat(category()));
cl::list<std::string> opOptions("op", cl::desc("An op strategy: KEY=((a,b),(c,d))"), cl::value_desc("key=strategy"),
                                cl::sub(strategyCommand), cl::cat(category()));
cl::list<std::string> inputOptions("input", cl::desc("An input's shape where the model's is dynamic: NAME=SHAPE"),
                                   cl::value_desc("name=shape"), cl::sub(strategyCommand), cl::cat(category()));
cl::opt<std::string> outputOption("o", cl::desc("Output strategy file (JSON when it ends in .json)"),
                                  cl::value_desc("file"), cl::sub(strategyCommand), cl::cat(category()));

struct Preset {
  int64_t tp = 1, dp = 0;
  bool optShard = false;
};

Expected<Preset> parsePreset(StringRef text) {
  auto [name, rest] = text.split(':');
  if (name != "megatron")
    return createStringError(inconvertibleErrorCode(), "unknown preset '" + name + "' (known: megatron)");
  Preset preset;
  SmallVector<StringRef, 4> items;
  rest.split(items, ',', -1, /*KeepEmpty=*/false);
  for (StringRef item : items) {
    auto [key, value] = item.split('=');
    int64_t number = 0;
    if (key == "opt-shard" && value.empty())
      preset.optShard = true;
    else if ((key == "tp" || key == "dp") && !value.getAsInteger(10, number) && number > 0)
      (key == "tp" ? preset.tp : preset.dp) = number;
    else
      return createStringError(inconvertibleErrorCode(),
                               "--preset " + text + ": cannot read '" + item + "' (expected tp=T, dp=D or opt-shard)");
  }
  return preset;
}

/// ((2,1),(1,4)) -> [[2,1],[1,4]].
Expected<std::vector<SmallVector<int64_t, 4>>> parseStrategy(StringRef text) {
  std::vector<SmallVector<int64_t, 4>> inputs;
  StringRef rest = text.trim();
  if (!rest.consume_front("(") || !rest.consume_back(")"))
    return createStringError(inconvertibleErrorCode(), "'" + text + "' is not ((a,b),(c,d))");
  while (!rest.trim().empty()) {
    rest = rest.trim();
    rest.consume_front(",");
    rest = rest.trim();
    if (!rest.consume_front("("))
      return createStringError(inconvertibleErrorCode(), "'" + text + "' is not ((a,b),(c,d))");
    auto [inner, after] = rest.split(')');
    SmallVector<StringRef, 4> numbers;
    inner.split(numbers, ',', -1, false);
    SmallVector<int64_t, 4> splits;
    for (StringRef n : numbers) {
      int64_t value;
      if (n.trim().getAsInteger(10, value) || value <= 0)
        return createStringError(inconvertibleErrorCode(), "'" + text + "': '" + n + "' is not a positive split");
      splits.push_back(value);
    }
    inputs.push_back(splits);
    rest = after;
  }
  return inputs;
}

int runStrategy() {
  if (modelOption.empty() || outputOption.empty() || deviceNumOption <= 0 ||
      (presetOption.empty() && opOptions.empty()))
    return usageError(strategyCommand,
                      "usage: dinfer strategy --model MODEL --device-num N [--pipeline-stages P] "
                      "(--preset megatron:tp=T[,dp=D][,opt-shard] | --op KEY=((a,b),(c,d)) ...) -o FILE");
  if (stagesOption <= 0 || deviceNumOption % stagesOption != 0)
    return usageError(
        strategyCommand,
        formatv("--pipeline-stages {0} does not divide --device-num {1}", stagesOption, deviceNumOption).str());
  int64_t devices = deviceNumOption;
  Preset preset;
  if (!presetOption.empty()) {
    auto parsed = parsePreset(presetOption);
    if (!parsed)
      return usageError(strategyCommand, toString(parsed.takeError()));
    preset = *parsed;
    if (devices % preset.tp != 0)
      return usageError(strategyCommand, formatv("tp={0} does not divide --device-num {1}", preset.tp, devices).str());
    if (!preset.dp)
      preset.dp = devices / (preset.tp * stagesOption);
    if (devices % (preset.tp * preset.dp) != 0)
      return usageError(
          strategyCommand,
          formatv("tp={0} x dp={1} does not divide --device-num {2}", preset.tp, preset.dp, devices).str());
  }

  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  std::map<std::string, SmallVector<int64_t, 4>> shapes;
  for (const std::string &spec : inputOptions) {
    auto [name, shapeText] = StringRef(spec).split('=');
    SmallVector<StringRef, 4> dims;
    shapeText.split(dims, ',');
    SmallVector<int64_t, 4> shape;
    for (StringRef dim : dims) {
      int64_t extent;
      if (dim.trim().getAsInteger(10, extent) || extent < 0)
        return usageError(strategyCommand, "--input " + spec + ": '" + dim + "' is not a dimension");
      shape.push_back(extent);
    }
    shapes[name.str()] = shape;
  }
  auto imported = importModel(modelOption, context, diagnostics, shapes, {}, /*checkShapes=*/true);
  if (!imported)
    return failure(strategyCommand, toString(imported.takeError()));
  mlir::ModuleOp module = *(*imported)->module;

  if (!presetOption.empty()) {
    mlir::PassManager passes(&context);
    DistAuthorStrategyOptions options;
    options.preset = "megatron";
    options.tp = preset.tp;
    options.dp = preset.dp;
    passes.addPass(createDistAuthorStrategy(options));
    if (failed(passes.run(module)))
      return failure(strategyCommand, modelOption + ": " + diagnostics.text("the preset does not fit the model"));
  }

  // Keyed ops, as MindSpore keys them.
  llvm::StringMap<mlir::Operation *> keyed;
  module.walk([&](mlir::Operation *op) {
    if (!llvm::isa<dist::ShardingRuleOpInterface>(op))
      return;
    for (mlir::Value operand : op->getOperands())
      if (auto param = operand.getDefiningOp<dist::ParamOp>()) {
        keyed.try_emplace((nn::primitiveName(op) + "_" + param.getName()).str(), op);
        return;
      }
  });
  for (const std::string &spec : opOptions) {
    auto [key, text] = StringRef(spec).split('=');
    auto splits = parseStrategy(text);
    if (!splits)
      return usageError(strategyCommand, "--op " + spec + ": " + toString(splits.takeError()));
    mlir::Operation *op = keyed.lookup(key);
    if (!op)
      return failure(strategyCommand, "--op " + key +
                                          ": no op of the model has that key (an op with a parameter "
                                          "operand, keyed <Primitive>_<first parameter name>)");
    SmallVector<mlir::Attribute> operands;
    for (const auto &input : *splits)
      operands.push_back(mlir::DenseI64ArrayAttr::get(&context, input));
    mlir::ArrayAttr attr = mlir::ArrayAttr::get(&context, operands);
    auto *dist = context.getLoadedDialect<dist::DistDialect>();
    mlir::NamedAttribute named(mlir::StringAttr::get(&context, dist::DistDialect::kStrategyAttrName), attr);
    if (failed(dist->verifyOperationAttribute(op, named)) || failed(factorSplits(op, attr)))
      return failure(strategyCommand, "--op " + spec + ": " + diagnostics.text("does not fit the op"));
    op->setAttr(named.getName(), attr);
    dist::setStage(op, 0);
  }

  // Pipeline stages: the program cut in order into stages of balanced cost,
  // as a training run's stage assignment would place its layers.
  if (stagesOption > 1)
    for (auto function : module.getOps<mlir::func::FuncOp>())
      if (failed(assignStagesByCost(function, stagesOption)))
        return failure(strategyCommand,
                       modelOption + ": " + diagnostics.text("the model cannot be cut into pipeline stages"));
  auto stageOf = [](mlir::Operation *op) { return dist::stageOf(op).value_or(0); };

  // The file: op strategies, then each parameter's layout from its first
  // keyed user (with optimizer sharding over its replicas on request); with
  // stages, one item "<stage>-<name>" per stage that reads the parameter, as
  // MindSpore's merged pipeline files name them.
  StrategyFile file;
  file.encoding =
      StringRef(outputOption).ends_with(".json") ? StrategyFile::Encoding::Json : StrategyFile::Encoding::Protobuf;
  llvm::StringMap<bool> laidOut;
  int64_t optSharded = 0;
  std::vector<std::string> keys;
  for (const auto &entry : keyed)
    keys.push_back(entry.getKey().str());
  llvm::sort(keys);
  // Parameters in program order, each from its first keyed user.
  module.walk([&](mlir::Operation *op) {
    auto attr = op->getAttrOfType<mlir::ArrayAttr>(dist::DistDialect::kStrategyAttrName);
    if (!attr)
      return;
    FailureOr<FactorSplits> splits = factorSplits(op, attr);
    if (failed(splits))
      return;
    for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
      auto param = operand.getDefiningOp<dist::ParamOp>();
      if (!param || laidOut.count(param.getName()))
        continue;
      laidOut[param.getName()] = true;
      StrategyLayout item;
      item.name = item.param = param.getName().str();
      item.layout = operandLayout(*splits, index, devices / stagesOption);
      SmallVector<int64_t, 4> shape(param.getType().getShape().begin(), param.getType().getShape().end());
      item.tensorShape = shape;
      if (preset.optShard) {
        auto sharded = ShardedTensor::create(shape, item.layout);
        if (sharded) {
          auto group = sharded->replicaGroup(0);
          if (group.size() > 1) {
            TensorLayout withShard = item.layout;
            withShard.optShardStep = group[1] - group[0];
            withShard.optShardSize = -1;
            if (auto checked = ShardedTensor::create(shape, withShard)) {
              item.layout = withShard;
              ++optSharded;
            } else {
              consumeError(checked.takeError());
              errs() << "dinfer strategy: remark: '" << param.getName()
                     << "' keeps whole model-parallel slices: its first dimension does not split over its "
                     << group.size() << " replicas\n";
            }
          }
        } else {
          consumeError(sharded.takeError());
        }
      }
      if (stagesOption == 1) {
        file.layouts.push_back(std::move(item));
        continue;
      }
      std::set<int64_t> stages;
      for (mlir::Operation *user : param->getUsers())
        stages.insert(stageOf(user));
      item.stages.assign(stages.begin(), stages.end());
      for (int64_t stage : stages) {
        StrategyLayout staged = item;
        staged.name = std::to_string(stage) + "-" + item.param;
        file.layouts.push_back(std::move(staged));
      }
    }
  });
  for (const std::string &key : keys) {
    mlir::Operation *op = keyed.lookup(key);
    auto attr = op->getAttrOfType<mlir::ArrayAttr>(dist::DistDialect::kStrategyAttrName);
    if (!attr)
      continue;
    StrategyOp item;
    item.name = key;
    item.stage = stageOf(op);
    for (mlir::Attribute entry : attr) {
      auto values = llvm::cast<mlir::DenseI64ArrayAttr>(entry).asArrayRef();
      item.inputs.emplace_back(values.begin(), values.end());
    }
    file.ops.push_back(std::move(item));
  }
  if (Error err = writeStrategy(file, outputOption))
    return failure(strategyCommand, toString(std::move(err)));
  outs() << formatv("wrote {0}: {1} op strategies, {2} parameter layouts ({3} with optimizer sharding) for {4} "
                    "devices",
                    outputOption, file.ops.size(), file.layouts.size(), optSharded, devices);
  if (stagesOption > 1)
    outs() << formatv(" in {0} pipeline stages", stagesOption);
  if (!presetOption.empty())
    outs() << formatv(" (megatron: tp {0}, dp {1})", preset.tp, preset.dp);
  outs() << "\n";
  return kSuccess;
}

CommandRegistration registration(strategyCommand, runStrategy);
} // namespace
