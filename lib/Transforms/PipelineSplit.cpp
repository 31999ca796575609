//===- PipelineSplit.cpp - pipeline stages and their transfers ------------===//

#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/PipelineStages.h"

#include "dialects/dist/DistOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

#include <limits>
#include <map>

namespace dinfer {
#define GEN_PASS_DEF_DISTPIPELINESPLIT
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

constexpr int64_t kNoStage = -1;

int64_t saturatingMul(int64_t a, int64_t b) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a)
    return std::numeric_limits<int64_t>::max();
  return a * b;
}

int64_t saturatingAdd(int64_t a, int64_t b) {
  return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max() : a + b;
}

int64_t stageAttrOf(Operation *op) { return dist::stageOf(op).value_or(kNoStage); }
using dist::setStage;

/// The bytes of a statically shaped tensor value; 0 for anything else.
uint64_t bytesOf(Value value) {
  auto tensor = llvm::dyn_cast<RankedTensorType>(value.getType());
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  unsigned bits = tensor.getElementType().isIntOrFloat() ? tensor.getElementType().getIntOrFloatBitWidth() : 32;
  return static_cast<uint64_t>(tensor.getNumElements()) * bits / 8;
}

/// The bytes a cut in front of ops[at] sends, for every `at`: results of
/// earlier ops that a later op reads. A value crosses every cut after its
/// producer up to its last reader, so one pass over the uses gives them all.
SmallVector<uint64_t> bytesAcrossEachCut(ArrayRef<Operation *> ops) {
  llvm::DenseMap<Operation *, int64_t> index;
  for (auto [i, op] : llvm::enumerate(ops))
    index[op] = static_cast<int64_t>(i);
  int64_t count = static_cast<int64_t>(ops.size());
  SmallVector<int64_t> change(count + 2, 0); // added at producer + 1, removed after the last reader
  for (int64_t i = 0; i < count; ++i)
    for (Value result : ops[i]->getResults()) {
      int64_t last = i;
      for (Operation *user : result.getUsers())
        if (auto it = index.find(user); it != index.end())
          last = std::max(last, it->second);
      if (last == i)
        continue;
      int64_t bytes = static_cast<int64_t>(bytesOf(result));
      change[i + 1] += bytes;
      change[last + 1] -= bytes;
    }
  SmallVector<uint64_t> across(count + 1, 0);
  for (int64_t at = 1, running = 0; at <= count; ++at)
    across[at] = static_cast<uint64_t>(running += change[at]);
  return across;
}

/// Moves each cut (the first op of every stage after the first) to the
/// nearby point where the fewest bytes cross, so long as no stage costs more
/// than `limit`: Megatron cuts between layers, where one hidden state
/// crosses, not after a norm, where the residual and the norm's output do.
void moveCutsToNarrowPoints(ArrayRef<Operation *> ops, ArrayRef<int64_t> costs, SmallVectorImpl<int64_t> &firstOfStage,
                            int64_t limit) {
  int64_t count = static_cast<int64_t>(ops.size());
  SmallVector<uint64_t> across = bytesAcrossEachCut(ops);
  SmallVector<int64_t> before(count + 1, 0); // cost of ops[0, i)
  for (int64_t i = 0; i < count; ++i)
    before[i + 1] = saturatingAdd(before[i], costs[i]);
  auto stageCost = [&](int64_t from, int64_t to) { return before[to] - before[from]; };
  for (size_t s = 1; s < firstOfStage.size(); ++s) {
    int64_t previous = firstOfStage[s - 1], next = s + 1 < firstOfStage.size() ? firstOfStage[s + 1] : count;
    int64_t best = firstOfStage[s];
    int64_t window = std::max<int64_t>((next - previous) / 4, 1);
    for (int64_t at = std::max(previous + 1, best - window); at <= std::min(next - 1, best + window); ++at) {
      if (stageCost(previous, at) > limit || stageCost(at, next) > limit)
        continue;
      if (across[at] < across[best] ||
          (across[at] == across[best] && std::abs(at - firstOfStage[s]) < std::abs(best - firstOfStage[s])))
        best = at;
    }
    firstOfStage[s] = best;
  }
}

/// How many runs a greedy cut of `costs` into runs of at most `limit` makes.
int64_t runsUnder(ArrayRef<int64_t> costs, int64_t limit) {
  int64_t runs = 1, current = 0;
  for (int64_t cost : costs) {
    if (current > 0 && saturatingAdd(current, cost) > limit) {
      ++runs;
      current = 0;
    }
    current = saturatingAdd(current, cost);
  }
  return runs;
}

} // namespace

bool dinfer::isStagelessOp(Operation *op) { return op->getNumOperands() == 0 || op->hasTrait<OpTrait::IsTerminator>(); }

int64_t dinfer::estimatedCost(Operation *op) {
  if (auto ruled = llvm::dyn_cast<dist::ShardingRuleOpInterface>(op)) {
    FailureOr<dist::ShardingRule> rule = ruled.getShardingRule();
    if (succeeded(rule) && !rule->factorSizes.empty()) {
      int64_t cost = 1;
      for (int64_t size : rule->factorSizes)
        cost = saturatingMul(cost, std::max<int64_t>(size, 1));
      return cost;
    }
  }
  int64_t cost = 1;
  for (Type type : op->getResultTypes())
    if (auto tensor = llvm::dyn_cast<RankedTensorType>(type); tensor && tensor.hasStaticShape())
      cost = saturatingAdd(cost, tensor.getNumElements());
  return cost;
}

LogicalResult dinfer::assignStagesByCost(func::FuncOp function, int64_t stages) {
  SmallVector<Operation *> ops;
  SmallVector<int64_t> costs;
  for (Operation &op : function.getBody().front())
    if (!isStagelessOp(&op)) {
      ops.push_back(&op);
      costs.push_back(std::max<int64_t>(estimatedCost(&op), 1));
    }
  if (static_cast<int64_t>(ops.size()) < stages)
    return function.emitError() << "cannot cut " << ops.size() << " ops into " << stages
                                << " pipeline stages: every stage needs at least one op";
  // The smallest limit on a stage's cost that a greedy cut meets in `stages` runs.
  int64_t low = *llvm::max_element(costs), high = 0;
  for (int64_t cost : costs)
    high = saturatingAdd(high, cost);
  while (low < high) {
    int64_t middle = low + (high - low) / 2;
    if (runsUnder(costs, middle) <= stages)
      high = middle;
    else
      low = middle + 1;
  }
  // Cut under that limit, and early where the ops left would not fill the
  // stages left: every stage gets at least one op.
  int64_t stage = 0, current = 0, count = static_cast<int64_t>(ops.size());
  SmallVector<int64_t> firstOfStage = {0};
  for (int64_t i = 0; i < count; ++i) {
    bool overLimit = saturatingAdd(current, costs[i]) > low;
    bool mustCut = count - i == stages - 1 - stage;
    if (current > 0 && stage + 1 < stages && (overLimit || mustCut)) {
      ++stage;
      current = 0;
      firstOfStage.push_back(i);
    }
    current = saturatingAdd(current, costs[i]);
  }
  moveCutsToNarrowPoints(ops, costs, firstOfStage, low);
  for (int64_t s = 0, i = 0; i < count; ++i) {
    while (s + 1 < static_cast<int64_t>(firstOfStage.size()) && i >= firstOfStage[s + 1])
      ++s;
    setStage(ops[i], s);
  }
  return success();
}

namespace {

struct DistPipelineSplitPass : dinfer::impl::DistPipelineSplitBase<DistPipelineSplitPass> {
  using DistPipelineSplitBase::DistPipelineSplitBase;

  int64_t nextTag = 0;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto stagesAttr = module->getAttrOfType<IntegerAttr>(dist::DistDialect::kPipelineStagesAttrName);
    int64_t stages = stagesAttr ? stagesAttr.getInt() : 1;
    // Tags stay unique when the module already has transfers.
    module.walk(
        [&](dist::SendOp send) { nextTag = std::max<int64_t>(nextTag, static_cast<int64_t>(send.getSrTag()) + 1); });
    for (auto function : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (failed(split(function, stages)))
        return signalPassFailure();
  }

  LogicalResult split(func::FuncOp function, int64_t stages) {
    Block &body = function.getBody().front();
    SmallVector<Operation *> computeOps;
    for (Operation &op : body)
      if (!isStagelessOp(&op))
        computeOps.push_back(&op);
    bool anyStage = llvm::any_of(computeOps, [](Operation *op) { return stageAttrOf(op) != kNoStage; });
    if (stages == 1) {
      for (Operation *op : computeOps)
        if (stageAttrOf(op) > 0)
          return op->emitError() << "runs in pipeline stage " << stageAttrOf(op)
                                 << " but the module has one stage (dist.pipeline_stages)";
      return success();
    }
    if (rebalance || !anyStage) {
      if (failed(assignStagesByCost(function, stages)))
        return failure();
    } else if (failed(completeStages(computeOps))) {
      return failure();
    }
    if (failed(checkStages(function, computeOps, stages)))
      return failure();
    placeStagelessOps(body, stages);
    insertTransfers(computeOps, stages);
    return success();
  }

  /// Ops without a training stage run in the latest stage of the ops they
  /// read, or, reading none, in the earliest stage of their users; then,
  /// last op first, one whose users all run later moves to their earliest
  /// stage when what it reads crosses the boundary anyway (or is smaller
  /// than what it gives): a norm in front of the next stage's product runs
  /// there, and only the residual crosses.
  LogicalResult completeStages(ArrayRef<Operation *> computeOps) {
    llvm::DenseMap<Operation *, int64_t> stage;
    for (Operation *op : computeOps) {
      int64_t latestInput = kNoStage;
      for (Value operand : op->getOperands())
        if (Operation *producer = operand.getDefiningOp(); producer && stage.count(producer))
          latestInput = std::max(latestInput, stage[producer]);
      int64_t own = stageAttrOf(op);
      stage[op] = own != kNoStage ? own : latestInput;
    }
    for (Operation *op : llvm::reverse(computeOps)) {
      if (stage[op] != kNoStage)
        continue;
      int64_t earliestUser = std::numeric_limits<int64_t>::max();
      for (Operation *user : op->getUsers())
        if (auto it = stage.find(user); it != stage.end() && it->second != kNoStage)
          earliestUser = std::min(earliestUser, it->second);
      stage[op] = earliestUser == std::numeric_limits<int64_t>::max() ? 0 : earliestUser;
    }
    auto stageOfValue = [&](Value value) -> int64_t {
      Operation *producer = value.getDefiningOp();
      if (!producer)
        return 0; // arguments reach every stage
      auto it = stage.find(producer);
      return it == stage.end() ? kNoStage : it->second; // params and constants: copied
    };
    for (Operation *op : llvm::reverse(computeOps)) {
      if (stageAttrOf(op) != kNoStage || op->getNumResults() == 0)
        continue;
      int64_t earliestUser = std::numeric_limits<int64_t>::max();
      for (Operation *user : op->getUsers())
        if (auto it = stage.find(user); it != stage.end())
          earliestUser = std::min(earliestUser, it->second);
      if (earliestUser == std::numeric_limits<int64_t>::max() || earliestUser <= stage[op])
        continue;
      uint64_t given = 0, newlyCrossing = 0;
      for (Value result : op->getResults())
        given += bytesOf(result);
      for (Value operand : op->getOperands()) {
        int64_t from = stageOfValue(operand);
        if (from == kNoStage || from >= earliestUser || llvm::isa<BlockArgument>(operand))
          continue;
        bool readThereAnyway = llvm::any_of(operand.getUsers(), [&](Operation *user) {
          auto it = stage.find(user);
          return user != op && it != stage.end() && it->second >= earliestUser;
        });
        if (!readThereAnyway)
          newlyCrossing += bytesOf(operand);
      }
      if (newlyCrossing < given)
        stage[op] = earliestUser;
    }
    for (Operation *op : computeOps)
      setStage(op, stage[op]);
    return success();
  }

  /// Every stage has an op, and no op reads a value of a later stage.
  LogicalResult checkStages(func::FuncOp function, ArrayRef<Operation *> computeOps, int64_t stages) {
    SmallVector<int64_t> opsPerStage(stages, 0);
    for (Operation *op : computeOps) {
      int64_t stage = stageAttrOf(op);
      if (stage < 0 || stage >= stages)
        return op->emitError() << "runs in pipeline stage " << stage << ", outside the module's " << stages
                               << " stages";
      ++opsPerStage[stage];
      for (Value operand : op->getOperands()) {
        Operation *producer = operand.getDefiningOp();
        if (producer && !isStagelessOp(producer) && stageAttrOf(producer) > stage)
          return op->emitError() << "runs in pipeline stage " << stage << " but reads the result of '"
                                 << producer->getName() << "' at " << producer->getLoc() << ", computed in stage "
                                 << stageAttrOf(producer) << ": stages must follow the data";
      }
    }
    for (int64_t stage = 0; stage < stages; ++stage)
      if (opsPerStage[stage] == 0)
        return function.emitError() << "pipeline stage " << stage << " of " << stages
                                    << " has no op: the training stages do not cover it (pass rebalance to cut "
                                       "the program by cost)";
    return success();
  }

  static int64_t stageOfUser(Operation *user, int64_t stages) {
    return user->hasTrait<OpTrait::IsTerminator>() ? stages - 1 : stageAttrOf(user);
  }

  /// Parameters and constants are held by every stage that reads them: one
  /// copy per stage, each parameter's layout naming its stage.
  void placeStagelessOps(Block &body, int64_t stages) {
    SmallVector<Operation *> sources;
    for (Operation &op : body)
      if (op.getNumOperands() == 0 && !op.hasTrait<OpTrait::IsTerminator>())
        sources.push_back(&op);
    for (Operation *source : sources) {
      std::map<int64_t, SmallVector<OpOperand *>> usesByStage;
      for (Value result : source->getResults())
        for (OpOperand &use : result.getUses())
          usesByStage[stageOfUser(use.getOwner(), stages)].push_back(&use);
      if (usesByStage.empty()) {
        setSourceStage(source, 0);
        continue;
      }
      bool first = true;
      for (auto &[stage, uses] : usesByStage) {
        Operation *holder = source;
        if (!first) {
          OpBuilder builder(source->getContext());
          builder.setInsertionPointAfter(source);
          holder = builder.clone(*source);
          for (OpOperand *use : uses)
            use->set(holder->getResult(llvm::cast<OpResult>(use->get()).getResultNumber()));
        }
        setSourceStage(holder, stage);
        first = false;
      }
    }
  }

  static void setSourceStage(Operation *source, int64_t stage) {
    setStage(source, stage);
    if (auto param = llvm::dyn_cast<dist::ParamOp>(source))
      if (dist::LayoutAttr layout = param.getLayoutAttr())
        param.setLayoutAttr(
            dist::LayoutAttr::get(source->getContext(), layout.toTensorLayout(), stage, layout.getPartial()));
  }

  /// Each value a later stage reads is sent right after it is computed and
  /// received by that stage right after the send: every rank meets its
  /// transfers in the program order of their producers.
  void insertTransfers(ArrayRef<Operation *> computeOps, int64_t stages) {
    for (Operation *op : computeOps) {
      int64_t stage = stageAttrOf(op);
      Operation *after = op;
      for (Value result : op->getResults()) {
        std::map<int64_t, SmallVector<OpOperand *>> laterUses;
        for (OpOperand &use : result.getUses())
          if (int64_t userStage = stageOfUser(use.getOwner(), stages); userStage != stage)
            laterUses[userStage].push_back(&use);
        for (auto &[userStage, uses] : laterUses) {
          OpBuilder builder(op->getContext());
          builder.setInsertionPointAfter(after);
          int64_t tag = nextTag++;
          auto send = dist::SendOp::create(builder, op->getLoc(), result, userStage, tag);
          setStage(send, stage);
          auto recv = dist::RecvOp::create(builder, op->getLoc(), result.getType(), stage, tag);
          setStage(recv, userStage);
          for (OpOperand *use : uses)
            use->set(recv.getResult());
          after = recv;
        }
      }
    }
  }
};

} // namespace
