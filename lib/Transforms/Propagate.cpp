//===- Propagate.cpp - a layout for every value ---------------------------===//

#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/StrategyLayout.h"

#include "dialects/dist/DistOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace dinfer {
#define GEN_PASS_DEF_DISTPROPAGATE
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

RankedTensorType typeOf(Value v) { return llvm::dyn_cast<RankedTensorType>(v.getType()); }

/// A value's layout as the propagation works with it.
struct ValueLayout {
  TensorLayout layout;
  SmallVector<int64_t> partial;
  int64_t stage = 0;

  dist::LayoutAttr attr(MLIRContext *context) const { return dist::LayoutAttr::get(context, layout, stage, partial); }
  static ValueLayout of(dist::LayoutAttr attr) {
    ValueLayout v;
    v.layout = attr.toTensorLayout();
    v.partial.assign(attr.getPartial().begin(), attr.getPartial().end());
    v.stage = attr.getStage();
    return v;
  }
  static ValueLayout replicated(int64_t rank, int64_t devices, int64_t stage) {
    ValueLayout v;
    v.layout.devMatrix = {devices};
    v.layout.tensorMap.assign(rank, DimAxes());
    v.stage = stage;
    return v;
  }
  bool split() const {
    return llvm::any_of(layout.tensorMap, [](const DimAxes &axes) { return !axes.empty(); });
  }
};

/// Whether every rank holds the same data under both layouts. Stages do not
/// count: --dist-pipeline-split already put every value in its readers'
/// stage, and inputs are read by every stage.
bool sameDistribution(const ValueLayout &a, const ValueLayout &b, ArrayRef<int64_t> shape) {
  if (!a.partial.empty() || !b.partial.empty())
    return a.layout.devMatrix == b.layout.devMatrix && a.layout.tensorMap == b.layout.tensorMap &&
           a.partial == b.partial;
  if (!a.split() && !b.split())
    return true;
  auto sa = ShardedTensor::create(shape, a.layout), sb = ShardedTensor::create(shape, b.layout);
  if (!sa || !sb) {
    llvm::consumeError(sa.takeError());
    llvm::consumeError(sb.takeError());
    return false;
  }
  if (sa->deviceCount() != sb->deviceCount())
    return false;
  for (int64_t rank = 0; rank < sa->deviceCount(); ++rank)
    if (!(sa->sliceOfRank(rank) == sb->sliceOfRank(rank)))
      return false;
  return true;
}

struct DistPropagatePass : dinfer::impl::DistPropagateBase<DistPropagatePass> {
  llvm::DenseMap<Value, ValueLayout> layouts;
  /// The reshards made of each value so far, to share among its users.
  llvm::DenseMap<Value, SmallVector<dist::AnnotateOp, 1>> reshards;
  /// The layout each pipeline transfer carries, by sr_tag.
  llvm::DenseMap<uint64_t, ValueLayout> sent;
  int64_t stageDevices = 1, lastStage = 0;
  bool failedAny = false;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<dist::DeviceCounts> counts = dist::deviceCountsOf(module);
    if (!counts) {
      module.emitError("--dist-propagate needs dist.device_num on the module (run --dist-infer-predict-layout first)");
      return signalPassFailure();
    }
    lastStage = counts->stages - 1;
    stageDevices = counts->stageSize();
    for (auto function : module.getOps<func::FuncOp>())
      propagate(function);
    if (failedAny)
      signalPassFailure();
  }

  static int64_t stageOf(Operation *op) { return dist::stageOf(op).value_or(0); }

  /// The layout `value` has now, fixed on first sight for arguments.
  ValueLayout current(Value value, const ValueLayout *wanted) {
    auto it = layouts.find(value);
    if (it != layouts.end())
      return it->second;
    ValueLayout layout = wanted ? *wanted : ValueLayout::replicated(typeOf(value).getRank(), stageDevices, 0);
    layout.partial.clear();
    layouts[value] = layout;
    if (auto arg = llvm::dyn_cast<BlockArgument>(value))
      if (auto function = llvm::dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()))
        function.setArgAttr(arg.getArgNumber(), dist::DistDialect::kLayoutAttrName, layout.attr(&getContext()));
    return layout;
  }

  /// Makes operand `index` of `op` laid out as `wanted`: a dist.annotate in
  /// front of the op where it is not already.
  void require(Operation *op, unsigned index, const ValueLayout &wanted) {
    Value value = op->getOperand(index);
    RankedTensorType type = typeOf(value);
    if (!type)
      return;
    ValueLayout have = current(value, &wanted);
    if (sameDistribution(have, wanted, type.getShape()))
      return;
    // One reshard of a value per layout, however many users want it: the
    // ops run in program order, so an earlier reshard in the same block and
    // stage is there for this user too.
    for (dist::AnnotateOp earlier : reshards.lookup(value))
      if (earlier->getBlock() == op->getBlock() && earlier->isBeforeInBlock(op) &&
          dist::stageOf(earlier) == dist::stageOf(op) &&
          sameDistribution(layouts[earlier.getResult()], wanted, type.getShape()) &&
          layouts[earlier.getResult()].partial == wanted.partial) {
        op->setOperand(index, earlier.getResult());
        return;
      }
    OpBuilder builder(op);
    auto annotate = dist::AnnotateOp::create(builder, op->getLoc(), value, wanted.attr(&getContext()));
    // The reshard runs in its user's pipeline stage.
    if (std::optional<int64_t> stage = dist::stageOf(op))
      dist::setStage(annotate, *stage);
    else if (op->hasTrait<OpTrait::IsTerminator>() && lastStage > 0)
      dist::setStage(annotate, lastStage);
    op->setOperand(index, annotate.getResult());
    layouts[annotate.getResult()] = wanted;
    reshards[value].push_back(annotate);
  }

  void define(Value result, const ValueLayout &layout) {
    layouts[result] = layout;
    Operation *op = result.getDefiningOp();
    if (op && op->getNumResults() == 1 && !llvm::isa<dist::AnnotateOp>(op))
      op->setAttr(dist::DistDialect::kLayoutAttrName, layout.attr(&getContext()));
  }

  void propagate(func::FuncOp function) {
    // Arguments that come with a layout keep it.
    for (BlockArgument arg : function.getArguments())
      if (auto layout =
              function.getArgAttrOfType<dist::LayoutAttr>(arg.getArgNumber(), dist::DistDialect::kLayoutAttrName))
        layouts[arg] = ValueLayout::of(layout);
    for (Operation &op : llvm::make_early_inc_range(function.getBody().front())) {
      if (auto param = llvm::dyn_cast<dist::ParamOp>(op)) {
        // A parameter without a layout is whole on every rank of its stage,
        // and says so: the partitioner reshards from its layout.
        if (!param.getLayoutAttr()) {
          ValueLayout whole = ValueLayout::replicated(param.getType().getRank(), stageDevices, stageOf(&op));
          param.setLayoutAttr(whole.attr(&getContext()));
        }
        layouts[param.getResult()] = ValueLayout::of(param.getLayoutAttr());
        continue;
      }
      if (llvm::isa<dist::AnnotateOp>(op)) {
        auto annotate = llvm::cast<dist::AnnotateOp>(op);
        current(annotate.getInput(), nullptr);
        layouts[annotate.getResult()] = ValueLayout::of(annotate.getLayout());
        continue;
      }
      if (auto send = llvm::dyn_cast<dist::SendOp>(op)) {
        // Sent whole or as slices, never as a pending sum: the peer rank
        // receives the same layout in its own stage.
        ValueLayout layout = current(send.getInput(), nullptr);
        layout.partial.clear();
        require(&op, 0, layout);
        sent[send.getSrTag()] = layout;
        continue;
      }
      if (auto recv = llvm::dyn_cast<dist::RecvOp>(op)) {
        auto it = sent.find(recv.getSrTag());
        if (it == sent.end()) {
          op.emitError() << "receives sr_tag " << recv.getSrTag() << " before any dist.send with it";
          failedAny = true;
          continue;
        }
        ValueLayout layout = it->second;
        layout.stage = stageOf(&op);
        define(recv.getResult(), layout);
        continue;
      }
      if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
        // Outputs are global (gathered and summed), unless the function
        // says a result leaves in a layout of its own: a key/value cache
        // stays split by heads on the ranks that made it.
        for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
          auto type = typeOf(ret.getOperand(i));
          if (!type)
            continue;
          if (auto layout = function.getResultAttrOfType<dist::LayoutAttr>(i, dist::DistDialect::kLayoutAttrName))
            require(&op, i, ValueLayout::of(layout));
          else
            require(&op, i, ValueLayout::replicated(type.getRank(), stageDevices, lastStage));
        }
        continue;
      }
      if (op.getNumResults() == 0 ||
          !llvm::all_of(op.getResultTypes(), [](Type t) { return isa<RankedTensorType>(t); }))
        continue;
      if (llvm::isa<arith::ConstantOp>(op)) {
        define(op.getResult(0), ValueLayout::replicated(typeOf(op.getResult(0)).getRank(), stageDevices, 0));
        continue;
      }
      dist::StrategyAttr strategy = dist::getStrategy(&op);
      if (strategy) {
        FailureOr<FactorSplits> splits = factorSplits(&op, strategy);
        if (failed(splits)) {
          failedAny = true;
          continue;
        }
        applySplits(&op, *splits);
      } else if (auto ruled = llvm::dyn_cast<dist::ShardingRuleOpInterface>(op)) {
        if (failed(followDriver(&op, ruled)))
          failedAny = true;
      } else {
        op.emitError("has no sharding rule: the sharding compiler cannot place it");
        failedAny = true;
      }
    }
  }

  /// An op without a strategy keeps its widest operand's layout: the same
  /// device matrix, each factor on the device axes of the driver dimension
  /// it comes from. Axes on factors the op needs whole (or that a dimension
  /// shares with others) are gathered in front of it; axes of summed factors
  /// leave a pending sum.
  LogicalResult followDriver(Operation *op, dist::ShardingRuleOpInterface ruled) {
    FailureOr<dist::ShardingRule> rule = ruled.getShardingRule();
    if (failed(rule))
      return op->emitError("has no sharding rule for these operands: the sharding compiler cannot place it");
    int driver = -1;
    for (auto [index, operand] : llvm::enumerate(op->getOperands()))
      if (typeOf(operand) && (driver < 0 || typeOf(operand).getRank() > typeOf(op->getOperand(driver)).getRank()))
        driver = index;
    ValueLayout base =
        driver >= 0 ? current(op->getOperand(driver), nullptr) : ValueLayout::replicated(0, stageDevices, stageOf(op));
    base.partial.clear();
    SmallVector<DimAxes> factorAxes(rule->factorSizes.size());
    if (driver >= 0) {
      const TensorLayout &tl = base.layout;
      for (auto [d, axes] : llvm::enumerate(tl.tensorMap)) {
        const auto &factors = rule->operandFactors[driver][d];
        if (axes.empty() || factors.empty())
          continue;
        int64_t degree = 1;
        for (int64_t axis : axes)
          degree *= tl.devMatrix[tl.devMatrix.size() - 1 - axis];
        int64_t major = factors.front();
        if (rule->factorKinds[major] == dist::FactorKind::NeedReplication || rule->factorSizes[major] % degree != 0)
          continue; // gathered in front of the op
        factorAxes[major] = axes;
      }
    }
    FactorPlacement placement;
    placement.devMatrix = base.layout.devMatrix;
    placement.factorAxes = std::move(factorAxes);
    keepBlockSplits(placement, *rule);
    applyPlacement(op, *rule, placement, base.stage);
    return success();
  }

  void applySplits(Operation *op, const FactorSplits &splits) {
    applyPlacement(op, splits.rule, placeActivationFactors(splits, stageDevices), stageOf(op));
  }

  /// Operands are required, and results defined, laid out as `placement`
  /// puts the rule's factors; split reduction factors leave a pending sum.
  void applyPlacement(Operation *op, const dist::ShardingRule &rule, const FactorPlacement &placement, int64_t stage) {
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      if (!typeOf(op->getOperand(i)))
        continue;
      ValueLayout wanted;
      wanted.layout = layoutOver(placement, rule.operandFactors[i]);
      wanted.stage = stage;
      require(op, i, wanted);
    }
    for (unsigned r = 0; r < op->getNumResults(); ++r) {
      ValueLayout layout;
      layout.layout = layoutOver(placement, rule.resultFactors[r]);
      layout.partial = pendingSumAxes(placement, rule);
      layout.stage = stage;
      define(op->getResult(r), layout);
    }
    if (op->getNumResults() > 1) {
      SmallVector<Attribute> resultLayouts;
      for (Value result : op->getResults())
        resultLayouts.push_back(layouts[result].attr(&getContext()));
      op->setAttr(dist::DistDialect::kResultLayoutsAttrName, ArrayAttr::get(&getContext(), resultLayouts));
    }
  }
};

} // namespace
