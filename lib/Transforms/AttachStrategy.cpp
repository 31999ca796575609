//===- AttachStrategy.cpp - a training strategy file onto the program -----===//

#include "dinfer/Transforms/Passes.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Formats/Strategy.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace dinfer {
#define GEN_PASS_DEF_DISTATTACHSTRATEGY
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

/// The key name of the first operand that is a parameter, if any.
std::optional<std::string> firstParameter(Operation *op) {
  for (Value operand : op->getOperands())
    if (auto param = operand.getDefiningOp<dist::ParamOp>())
      return dist::strategyKeyName(param);
  return std::nullopt;
}

struct DistAttachStrategyPass : dinfer::impl::DistAttachStrategyBase<DistAttachStrategyPass> {
  using DistAttachStrategyBase::DistAttachStrategyBase;

  /// `--dist-attach-strategy=FILE`: a bare value is the file.
  LogicalResult initializeOptions(StringRef options, function_ref<LogicalResult(const Twine &)> errorHandler) override {
    StringRef trimmed = options.trim();
    if (!trimmed.empty() && !trimmed.contains('=')) {
      file = trimmed.str();
      return success();
    }
    return Pass::initializeOptions(options, errorHandler);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (file.empty()) {
      module.emitError("--dist-attach-strategy needs a strategy file: --dist-attach-strategy=FILE");
      return signalPassFailure();
    }
    auto strategy = readStrategy(file);
    if (!strategy) {
      module.emitError(llvm::toString(strategy.takeError()));
      return signalPassFailure();
    }
    llvm::StringMap<const StrategyOp *> ops;
    for (const StrategyOp &op : strategy->ops)
      ops[op.name] = &op;
    llvm::StringSet<> usedOps, usedParams;
    MLIRContext *context = &getContext();
    bool failedAny = false;

    module.walk([&](dist::ParamOp param) {
      std::vector<const StrategyLayout *> layouts = strategy->findLayouts(param.getName());
      if (layouts.empty()) {
        param.emitRemark() << "parameter '" << param.getName() << "' is not in " << file << ": replicated";
        return;
      }
      usedParams.insert(param.getName());
      const StrategyLayout &chosen = *layouts.front();
      // A parameter several stages read (a shared embedding) has one item
      // per stage; --dist-pipeline-split gives each stage its copy.
      for (const StrategyLayout *other : llvm::ArrayRef(layouts).drop_front())
        if (other->layout.devMatrix != chosen.layout.devMatrix || other->layout.tensorMap != chosen.layout.tensorMap) {
          param.emitRemark() << "parameter '" << param.getName() << "' is laid out differently in '" << chosen.name
                             << "' and '" << other->name << "': the layout of '" << chosen.name << "' is used";
          break;
        }
      if (chosen.layout.tensorMap.size() != static_cast<size_t>(param.getType().getRank())) {
        param.emitError() << "the layout of '" << param.getName() << "' in " << file << " has "
                          << chosen.layout.tensorMap.size() << " tensor_map entries, but the parameter is "
                          << param.getType();
        failedAny = true;
        return;
      }
      TensorLayout training = chosen.layout;
      if (std::optional<ArrayRef<int64_t>> offset = param.getOffset()) {
        // One part of a packed tensor: its own layout in the file's parts.
        const TensorLayout *part = nullptr;
        if (chosen.parts && chosen.parts->dim < param.getType().getRank()) {
          int64_t start = 0, dim = chosen.parts->dim;
          for (auto [size, layout] : llvm::zip_equal(chosen.parts->sizes, chosen.parts->layouts)) {
            if (start == (*offset)[dim] && size == param.getType().getDimSize(dim))
              part = &layout;
            start += size;
          }
        } else if (llvm::all_of(chosen.layout.tensorMap, [](const DimAxes &axes) { return axes.empty(); })) {
          part = &chosen.layout; // whole on every rank: so is each part
        }
        if (!part) {
          param.emitRemark() << "parameter '" << dist::strategyKeyName(param) << "' is one part of '"
                             << param.getName() << "', which " << file
                             << " lays out otherwise: the part follows propagation";
          return;
        }
        training = *part;
      }
      int64_t stage = chosen.stages.empty() ? 0 : chosen.stages.front();
      auto layout = dist::LayoutAttr::get(context, training, stage, {});
      if (failed(dist::verifyValueLayout(param, layout, param.getType(), ""))) {
        failedAny = true;
        return;
      }
      param.setLayoutAttr(layout);
    });

    // How many ops answer to each key: a key several ops share (a parameter
    // they all read, such as one norm weight exporters deduplicated) names
    // no single stage.
    llvm::StringMap<unsigned> opsPerKey;
    module.walk([&](Operation *op) {
      if (!llvm::isa<dist::ShardingRuleOpInterface>(op))
        return;
      if (std::optional<std::string> parameter = firstParameter(op))
        ++opsPerKey[(nn::primitiveName(op) + "_" + *parameter).str()];
    });

    module.walk([&](Operation *op) {
      if (!llvm::isa<dist::ShardingRuleOpInterface>(op))
        return;
      std::optional<std::string> parameter = firstParameter(op);
      if (!parameter)
        return; // MindSpore keys only ops with a parameter operand
      std::string key = (nn::primitiveName(op) + "_" + *parameter).str();
      const StrategyOp *item = ops.lookup(key);
      if (!item) {
        op->emitRemark() << "no strategy for '" << key << "' in " << file << ": replicated";
        return;
      }
      usedOps.insert(key);
      // Exporters deduplicate equal initializers (every zero bias becomes
      // one), so ops of different shapes can share a key: the file's
      // strategy was written for one of them, and the others follow the
      // layouts propagation gives them.
      auto fitsShapes = [&] {
        if (item->inputs.size() != op->getNumOperands())
          return false;
        for (auto [input, operand] : llvm::zip(item->inputs, op->getOperands())) {
          auto type = llvm::dyn_cast<RankedTensorType>(operand.getType());
          if (!type || static_cast<int64_t>(input.size()) != type.getRank())
            return false;
        }
        return true;
      };
      if (opsPerKey.lookup(key) > 1 && !fitsShapes()) {
        op->emitRemark() << opsPerKey.lookup(key) << " ops share the strategy key '" << key
                         << "' and its strategy does not fit this one's operand ranks: its layout follows propagation";
        return;
      }
      if (item->inputs.size() != op->getNumOperands()) {
        op->emitError() << "the strategy '" << key << "' gives " << item->inputs.size()
                        << " inputs' split numbers, but the op has " << op->getNumOperands() << " operands";
        failedAny = true;
        return;
      }
      SmallVector<DenseI64ArrayAttr> splits;
      for (const auto &input : item->inputs)
        splits.push_back(DenseI64ArrayAttr::get(context, input));
      auto strategy = dist::StrategyAttr::getChecked([&] { return op->emitError(); }, context, ArrayRef<DenseI64ArrayAttr>(splits));
      if (!strategy) {
        op->emitError() << "the strategy '" << key << "' in " << file << " does not fit the op";
        failedAny = true;
        return;
      }
      NamedAttribute strategyAttr(StringAttr::get(context, dist::DistDialect::kStrategyAttrName), strategy);
      NamedAttribute stageAttr(StringAttr::get(context, dist::DistDialect::kStageAttrName),
                               IntegerAttr::get(IntegerType::get(context, 64), item->stage));
      // The dialect's verifier says what is wrong with a strategy that does
      // not fit the operands; check before attaching.
      auto *dialect = context->getLoadedDialect<dist::DistDialect>();
      if (failed(dialect->verifyOperationAttribute(op, strategyAttr)) ||
          failed(dialect->verifyOperationAttribute(op, stageAttr))) {
        op->emitError() << "the strategy '" << key << "' in " << file << " does not fit the op";
        failedAny = true;
        return;
      }
      op->setAttr(strategyAttr.getName(), strategyAttr.getValue());
      if (opsPerKey.lookup(key) == 1)
        op->setAttr(stageAttr.getName(), stageAttr.getValue());
      else
        op->emitRemark() << opsPerKey.lookup(key) << " ops share the strategy key '" << key
                         << "': the strategy applies to each, and each runs in the stage of what it reads";
    });

    // What the file holds that the program does not use: usually a file
    // from another model, or names that changed.
    SmallVector<StringRef> unusedOps, unusedParams;
    for (const StrategyOp &op : strategy->ops)
      if (!usedOps.contains(op.name))
        unusedOps.push_back(op.name);
    // Optimizer states and gradient accumulators are laid out as clones of a
    // parameter ("adam_m.<param>", "accu_grads.<param>"): not a mismatch.
    auto isClone = [&](StringRef name) {
      for (size_t dot = name.find('.'); dot != StringRef::npos; dot = name.find('.', dot + 1))
        if (usedParams.contains(name.drop_front(dot + 1)))
          return true;
      return false;
    };
    for (const StrategyLayout &layout : strategy->layouts)
      if (!usedParams.contains(layout.param) && !isClone(layout.param) &&
          !llvm::is_contained(unusedParams, layout.param))
        unusedParams.push_back(layout.param);
    if (!unusedOps.empty() || !unusedParams.empty()) {
      auto diag = module.emitWarning() << file << ": " << unusedOps.size() << " op strategies and "
                                       << unusedParams.size() << " parameter layouts match nothing in the program";
      auto list = [&](StringRef what, ArrayRef<StringRef> names) {
        if (names.empty())
          return;
        diag << "; " << what << ":";
        for (StringRef name : names.take_front(8))
          diag << " " << name;
        if (names.size() > 8)
          diag << " ...";
      };
      list("ops", unusedOps);
      list("parameters", unusedParams);
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
