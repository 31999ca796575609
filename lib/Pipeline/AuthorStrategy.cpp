//===- AuthorStrategy.cpp - the strategy file a training run would write ---===//

#include "dinfer/Pipeline/AuthorStrategy.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Pipeline/Errors.h"
#include "dinfer/Pipeline/ModelImport.h"
#include "dinfer/Pipeline/Prediction.h"
#include "dinfer/Runtime/Interpreter.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/PipelineStages.h"
#include "dinfer/Transforms/PredictStrategy.h"
#include "dinfer/Transforms/ShardingRules.h"
#include "dinfer/Transforms/StrategyLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>
#include <set>

using namespace llvm;
using namespace dinfer;

namespace {
Error authorError(const Twine &message) { return createStringError(inconvertibleErrorCode(), message); }

struct Preset {
  int64_t tp = 1, dp = 0;
  bool optShard = false, sequenceParallel = false;
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
    else if (key == "sp" && value.empty())
      preset.sequenceParallel = true;
    else if ((key == "tp" || key == "dp") && !value.getAsInteger(10, number) && number > 0)
      (key == "tp" ? preset.tp : preset.dp) = number;
    else
      return createStringError(inconvertibleErrorCode(),
                               "--preset " + text + ": cannot read '" + item + "' (expected tp=T, dp=D, sp or opt-shard)");
  }
  return preset;
}

/// ((2,1),(1,4)) -> [[2,1],[1,4]].
Expected<std::vector<SmallVector<int64_t, 4>>> parseOpStrategy(StringRef text) {
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

} // namespace

Expected<AuthoredStrategy> dinfer::authorStrategy(const StrategyRequest &request) {
  if (request.model.empty() || request.deviceNum <= 0 || (request.preset.empty() && request.ops.empty()))
    return usageError("a strategy needs the model, the device count and a preset or op strategies");
  if (request.pipelineStages <= 0 || request.deviceNum % request.pipelineStages != 0)
    return usageError(formatv("--pipeline-stages {0} does not divide --device-num {1}", request.pipelineStages,
                              request.deviceNum)
                          .str());
  int64_t devices = request.deviceNum;
  Preset preset;
  if (!request.preset.empty()) {
    auto parsed = parsePreset(request.preset);
    if (!parsed)
      return usageError(toString(parsed.takeError()));
    preset = *parsed;
    if (devices % preset.tp != 0)
      return usageError(formatv("tp={0} does not divide --device-num {1}", preset.tp, devices).str());
    if (!preset.dp)
      preset.dp = devices / (preset.tp * request.pipelineStages);
    if (devices % (preset.tp * preset.dp) != 0)
      return usageError(
          formatv("tp={0} x dp={1} does not divide --device-num {2}", preset.tp, preset.dp, devices).str());
  }

  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  // NAME=SHAPE[:DTYPE], as every command takes it; a dtype is checked
  // against the model's once it is imported.
  auto specs = parseInputSpecs(request.inputShapes);
  if (!specs)
    return usageError(toString(specs.takeError()));
  std::map<std::string, SmallVector<int64_t, 4>> shapes;
  for (const auto &[name, spec] : *specs)
    shapes[name] = SmallVector<int64_t, 4>(spec.shape.begin(), spec.shape.end());
  auto imported = importModel(request.model, context, diagnostics, shapes, {}, /*checkShapes=*/true);
  if (!imported)
    return authorError(toString(imported.takeError()));
  mlir::ModuleOp module = *(*imported)->module;
  for (const auto &[name, spec] : *specs) {
    if (!spec.dtype)
      continue;
    auto entry = *module.getOps<mlir::func::FuncOp>().begin();
    for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
      auto argName = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
      std::optional<DType> takes =
          runtimeDType(cast<mlir::RankedTensorType>(entry.getArgument(i).getType()).getElementType());
      if (argName && argName.getValue() == name && takes && *takes != *spec.dtype)
        return usageError(formatv("--input {0}: given as {1}, but the model takes {2}", name,
                                  dtypeName(*spec.dtype), dtypeName(*takes))
                              .str());
    }
  }

  {
    // Packed projections become one product per part, each keyed and laid
    // out on its own (the inference pipeline reads the program the same way).
    mlir::PassManager passes(&context);
    passes.addNestedPass<mlir::func::FuncOp>(createDistSplitPackedProjections());
    if (failed(passes.run(module)))
      return authorError(request.model + ": " + diagnostics.text("the packed projections could not be split"));
  }
  if (!request.preset.empty()) {
    mlir::PassManager passes(&context);
    DistAuthorStrategyOptions options;
    options.preset = "megatron";
    options.tp = preset.tp;
    options.dp = preset.dp;
    options.sequenceParallel = preset.sequenceParallel;
    passes.addPass(createDistAuthorStrategy(options));
    if (failed(passes.run(module)))
      return authorError(request.model + ": " + diagnostics.text("the preset does not fit the model"));
  }

  // Keyed ops, as MindSpore keys them.
  llvm::StringMap<mlir::Operation *> keyed;
  module.walk([&](mlir::Operation *op) {
    if (!llvm::isa<dist::ShardingRuleOpInterface>(op))
      return;
    for (mlir::Value operand : op->getOperands())
      if (auto param = operand.getDefiningOp<dist::ParamOp>()) {
        keyed.try_emplace((nn::primitiveName(op) + "_" + dist::strategyKeyName(param)).str(), op);
        return;
      }
  });
  for (const std::string &spec : request.ops) {
    auto [key, text] = StringRef(spec).split('=');
    auto splits = parseOpStrategy(text);
    if (!splits)
      return usageError("--op " + spec + ": " + toString(splits.takeError()));
    mlir::Operation *op = keyed.lookup(key);
    if (!op)
      return authorError("--op " + key +
                         ": no op of the model has that key (an op with a parameter operand, keyed "
                         "<Primitive>_<first parameter name>)");
    SmallVector<mlir::DenseI64ArrayAttr> operands;
    for (const auto &input : *splits)
      operands.push_back(mlir::DenseI64ArrayAttr::get(&context, input));
    auto attr = dist::StrategyAttr::getChecked([&] { return op->emitError(); }, &context, llvm::ArrayRef<mlir::DenseI64ArrayAttr>(operands));
    if (!attr)
      return authorError("--op " + spec + ": " + diagnostics.text("does not fit the op"));
    auto *dist = context.getLoadedDialect<dist::DistDialect>();
    mlir::NamedAttribute named(mlir::StringAttr::get(&context, dist::DistDialect::kStrategyAttrName), attr);
    if (failed(dist->verifyOperationAttribute(op, named)) || failed(factorSplits(op, attr)))
      return authorError("--op " + spec + ": " + diagnostics.text("does not fit the op"));
    op->setAttr(named.getName(), attr);
    dist::setStage(op, 0);
  }

  // Pipeline stages: the program cut in order into stages of balanced cost,
  // as a training run's stage assignment would place its layers.
  if (request.pipelineStages > 1)
    for (auto function : module.getOps<mlir::func::FuncOp>())
      if (failed(assignStagesByCost(function, request.pipelineStages)))
        return authorError(request.model + ": " + diagnostics.text("the model cannot be cut into pipeline stages"));
  auto stageOf = [](mlir::Operation *op) { return dist::stageOf(op).value_or(0); };

  // The file: op strategies, then each parameter's layout from its first
  // keyed user (with optimizer sharding over its replicas on request); with
  // stages, one item "<stage>-<name>" per stage that reads the parameter, as
  // MindSpore's merged pipeline files name them.
  AuthoredStrategy result;
  StrategyFile &file = result.file;
  file.encoding = request.encoding;
  llvm::StringMap<bool> laidOut;
    std::vector<std::string> keys;
  for (const auto &entry : keyed)
    keys.push_back(entry.getKey().str());
  llvm::sort(keys);
  // Optimizer sharding over a layout's replicas, where the first dimension
  // divides; nothing when it does not.
  auto withOptShard = [&](ArrayRef<int64_t> shape, const TensorLayout &layout) -> std::optional<TensorLayout> {
    auto sharded = ShardedTensor::create(shape, layout);
    if (!sharded) {
      consumeError(sharded.takeError());
      return layout;
    }
    auto group = sharded->replicaGroup(0);
    if (group.size() < 2)
      return layout;
    TensorLayout withShard = layout;
    withShard.optShardStep = group[1] - group[0];
    withShard.optShardSize = -1;
    if (auto checked = ShardedTensor::create(shape, withShard))
      return withShard;
    else
      consumeError(checked.takeError());
    return std::nullopt;
  };
  auto shardRemark = [&](StringRef name, int64_t replicas) {
    result.remarks.push_back(("'" + name + "' keeps whole model-parallel slices: its first dimension does not split "
                              "over its " + Twine(replicas) + " replicas")
                                 .str());
  };
  auto addItem = [&](StrategyLayout item, mlir::Value param) {
    if (request.pipelineStages == 1) {
      file.layouts.push_back(std::move(item));
      return;
    }
    std::set<int64_t> stages;
    for (mlir::Operation *user : param.getUsers())
      stages.insert(stageOf(user));
    item.stages.assign(stages.begin(), stages.end());
    for (int64_t stage : stages) {
      StrategyLayout staged = item;
      staged.name = std::to_string(stage) + "-" + item.param;
      file.layouts.push_back(std::move(staged));
    }
  };
  int64_t stageDevices = devices / request.pipelineStages;
  // The parts of packed parameters (their own products' layouts), merged
  // into one item per parameter below.
  llvm::MapVector<StringRef, std::vector<ParamPart>> partsOf;
  llvm::StringMap<mlir::Value> firstPart;
  llvm::StringMap<size_t> partIndex;
  module.walk([&](dist::ParamOp param) {
    std::optional<ArrayRef<int64_t>> offset = param.getOffset();
    if (!offset || !partIndex.try_emplace(dist::strategyKeyName(param), partsOf[param.getName()].size()).second)
      return;
    firstPart.try_emplace(param.getName(), param.getResult());
    ParamPart part;
    part.offset.assign(offset->begin(), offset->end());
    part.shape.assign(param.getType().getShape().begin(), param.getType().getShape().end());
    part.layout.devMatrix = {stageDevices};
    part.layout.tensorMap.assign(part.shape.size(), DimAxes());
    partsOf[param.getName()].push_back(std::move(part));
  });
  // Parameters in program order, each from its first keyed user.
  module.walk([&](mlir::Operation *op) {
    dist::StrategyAttr attr = dist::getStrategy(op);
    if (!attr)
      return;
    FailureOr<FactorSplits> splits = factorSplits(op, attr);
    if (failed(splits))
      return;
    for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
      auto param = operand.getDefiningOp<dist::ParamOp>();
      if (!param || laidOut.count(dist::strategyKeyName(param)))
        continue;
      laidOut[dist::strategyKeyName(param)] = true;
      if (param.getOffset()) {
        partsOf[param.getName()][partIndex.lookup(dist::strategyKeyName(param))].layout =
            operandLayout(*splits, index, stageDevices);
        continue;
      }
      StrategyLayout item;
      item.name = item.param = param.getName().str();
      item.layout = operandLayout(*splits, index, stageDevices);
      SmallVector<int64_t, 4> shape(param.getType().getShape().begin(), param.getType().getShape().end());
      item.tensorShape = shape;
      if (preset.optShard) {
        if (std::optional<TensorLayout> sharded = withOptShard(shape, item.layout)) {
          result.optSharded += sharded->optShardStep != 0;
          item.layout = *sharded;
        } else {
          shardRemark(param.getName(), ShardedTensor::create(shape, item.layout)->replicaGroup(0).size());
        }
      }
      addItem(std::move(item), param.getResult());
    }
  });
  for (auto &[name, parts] : partsOf) {
    auto packed = packParts(name, parts);
    if (!packed)
      return authorError(request.model + ": " + toString(packed.takeError()));
    StrategyLayout item;
    item.name = item.param = name.str();
    item.layout = packed->layout;
    item.parts = packed->parts;
    item.tensorShape = packed->fullShape;
    if (preset.optShard) {
      // Each part over its own replicas; all or none.
      std::vector<TensorLayout> sharded;
      for (auto [index, layout] : llvm::enumerate(item.parts ? item.parts->layouts : SmallVector<TensorLayout, 4>{item.layout})) {
        SmallVector<int64_t, 4> shape = item.parts ? parts[index].shape : packed->fullShape;
        if (std::optional<TensorLayout> withShard = withOptShard(shape, layout))
          sharded.push_back(*withShard);
      }
      bool all = sharded.size() == (item.parts ? item.parts->layouts.size() : 1);
      if (all && item.parts) {
        PartsLayout shardedParts = *item.parts;
        shardedParts.layouts.assign(sharded.begin(), sharded.end());
        if (auto checked = PackedTensor::create(packed->fullShape, shardedParts)) {
          item.parts = shardedParts;
          item.layout = shardedParts.layouts.front();
          result.optSharded += item.layout.optShardStep != 0;
        } else {
          consumeError(checked.takeError());
          all = false;
        }
      } else if (all) {
        result.optSharded += sharded.front().optShardStep != 0;
        item.layout = sharded.front();
      }
      if (!all)
        shardRemark(name, 0);
    }
    addItem(std::move(item), firstPart.lookup(name));
  }
  for (const std::string &key : keys) {
    mlir::Operation *op = keyed.lookup(key);
    dist::StrategyAttr attr = dist::getStrategy(op);
    if (!attr)
      continue;
    StrategyOp item;
    item.name = key;
    item.stage = stageOf(op);
    for (mlir::DenseI64ArrayAttr operand : attr.getOperandSplits())
      item.inputs.emplace_back(operand.asArrayRef().begin(), operand.asArrayRef().end());
    file.ops.push_back(std::move(item));
  }
  if (!request.preset.empty()) {
    result.tp = preset.tp;
    result.dp = preset.dp;
  }
  return result;
}
