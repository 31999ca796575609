//===- AuthorStrategy.cpp - a Megatron-style training strategy ------------===//

#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/StrategyLayout.h"

#include "dialects/dist/DistOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace dinfer {
#define GEN_PASS_DEF_DISTAUTHORSTRATEGY
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

bool isParameter(Value v) { return static_cast<bool>(v.getDefiningOp<dist::ParamOp>()); }

RankedTensorType typeOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }

struct DistAuthorStrategyPass : dinfer::impl::DistAuthorStrategyBase<DistAuthorStrategyPass> {
  using DistAuthorStrategyBase::DistAuthorStrategyBase;

  /// Whether a value's features are split tp ways (it comes from a
  /// column-parallel product).
  llvm::DenseMap<Value, bool> featureSplit;
  /// Keyed ops whose strategy follows their activation's propagated layout.
  SmallVector<Operation *> deferred;
  /// Keyed ops whose replicas take the last device axis (dist.replicas_last).
  llvm::DenseSet<Operation *> replicasLast;
  /// Results of column-parallel products, with their split: a bias added to
  /// one is split with it.
  llvm::DenseMap<Value, int64_t> columnOutputs;
  bool failedAny = false;

  bool splitOf(Value v) { return featureSplit.lookup(v); }

  /// The dimension of each activation that carries the batch of the
  /// program's inputs (their first dimension), traced through every op's
  /// sharding rule: torch's sequence-first attention carries it in
  /// dimension 1, a transposed product operand in its last.
  llvm::DenseMap<Value, int64_t> batchDims;

  /// The factor of `op`'s rule that carries the batch, or -1 when no operand
  /// carries it (an op on constants and parameters only).
  static int64_t batchFactor(Operation *op, const dist::ShardingRule &rule,
                             const llvm::DenseMap<Value, int64_t> &batchDims) {
    for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
      auto found = batchDims.find(operand);
      if (found == batchDims.end() || index >= rule.operandFactors.size())
        continue;
      const auto &dims = rule.operandFactors[index];
      if (found->second < static_cast<int64_t>(dims.size()) && !dims[found->second].empty()) {
        int64_t factor = dims[found->second].front();
        if (rule.factorKinds[factor] == dist::FactorKind::Parallel)
          return factor;
      }
    }
    return -1;
  }

  /// Records where `op`'s results carry the batch.
  void traceBatch(Operation *op) {
    auto ruled = llvm::dyn_cast<dist::ShardingRuleOpInterface>(op);
    if (!ruled)
      return;
    FailureOr<dist::ShardingRule> rule = ruled.getShardingRule();
    if (failed(rule))
      return;
    int64_t factor = batchFactor(op, *rule, batchDims);
    if (factor < 0)
      return;
    for (auto [index, result] : llvm::enumerate(op->getResults()))
      for (auto [dim, factors] : llvm::enumerate(rule->resultFactors[index]))
        if (!factors.empty() && factors.front() == factor) {
          batchDims[result] = static_cast<int64_t>(dim);
          break;
        }
  }

  /// Splits the dimension of `value` that carries the batch dp ways; nothing
  /// when it carries none.
  SmallVector<int64_t> batchSplit(Operation *op, Value value) {
    SmallVector<int64_t> splits(typeOf(value).getRank(), 1);
    auto found = batchDims.find(value);
    if (found == batchDims.end() || dp <= 1)
      return splits;
    int64_t dim = found->second;
    if (typeOf(value).getDimSize(dim) % dp != 0) {
      op->emitError() << "dp=" << static_cast<int64_t>(dp) << " does not divide the batch dimension (dimension "
                      << dim << ", size " << typeOf(value).getDimSize(dim) << ") of " << value.getType();
      failedAny = true;
    }
    splits[dim] = dp;
    return splits;
  }

  /// Sequence parallelism's strategy of `op`: its activation's batch split
  /// dp ways and its sequence (the dimension after the batch, short of the
  /// features) tp ways; every other operand (parameters) whole. None when
  /// the activation has no such dimension or tp does not divide it.
  std::optional<SmallVector<SmallVector<int64_t>>> sequenceSplit(Operation *op, Value activation) {
    int64_t rank = typeOf(activation).getRank();
    auto found = batchDims.find(activation);
    if (rank < 3 || found == batchDims.end() || tp <= 1)
      return std::nullopt;
    int64_t batch = found->second, sequence = -1;
    for (int64_t d = 0; d < rank - 1 && sequence < 0; ++d)
      if (d != batch)
        sequence = d;
    if (sequence < 0 || !tpDivides(op, typeOf(activation).getDimSize(sequence), "sequence of a sequence-parallel op"))
      return std::nullopt;
    SmallVector<SmallVector<int64_t>> strategy;
    for (Value v : op->getOperands()) {
      if (v != activation) {
        strategy.push_back(SmallVector<int64_t>(typeOf(v).getRank(), 1));
        continue;
      }
      SmallVector<int64_t> splits = batchSplit(op, v);
      splits[sequence] = tp;
      strategy.push_back(splits);
    }
    return strategy;
  }

  /// Whether tp splits `extent`; when not, the op stays data parallel and a
  /// remark says why (a classifier of 10 classes on tp=4, say).
  bool tpDivides(Operation *op, int64_t extent, StringRef what) {
    int64_t degree = tp;
    if (degree <= 1 || extent % degree == 0)
      return true;
    op->emitRemark() << "tp=" << degree << " does not divide the " << what << " (" << extent
                     << "): the op stays data parallel";
    return false;
  }

  /// The heads a projection's output is viewed as: the reshape right after
  /// it (or after its bias add) into [..., heads, head_dim]; 0 when none.
  static int64_t headsOf(Value value) {
    int64_t rank = typeOf(value).getRank(), features = typeOf(value).getDimSize(rank - 1);
    for (Operation *user : value.getUsers()) {
      if (auto reshape = llvm::dyn_cast<nn::ReshapeOp>(user)) {
        RankedTensorType type = typeOf(reshape->getResult(0));
        int64_t r = type.getRank();
        if (r == rank + 1 && type.getDimSize(r - 2) * type.getDimSize(r - 1) == features)
          return type.getDimSize(r - 2);
      }
      if (llvm::isa<nn::AddOp, nn::BiasAddOp>(user))
        if (int64_t heads = headsOf(user->getResult(0)))
          return heads;
    }
    return 0;
  }

  /// Whether `value` (or the bias add right after it) is cut apart along its
  /// last dimension by a slice or split.
  static bool slicesFeatures(Value value) {
    for (Operation *user : value.getUsers()) {
      int64_t last = typeOf(value).getRank() - 1;
      if (auto split = llvm::dyn_cast<nn::SplitOp>(user))
        if (static_cast<int64_t>(split.getAxis()) == last || static_cast<int64_t>(split.getAxis()) == -1)
          return true;
      if (auto slice = llvm::dyn_cast<nn::StridedSliceOp>(user))
        if (slice.getType().getDimSize(last) != typeOf(value).getDimSize(last))
          return true;
      if (llvm::isa<nn::AddOp, nn::BiasAddOp>(user) && slicesFeatures(user->getResult(0)))
        return true;
    }
    return false;
  }

  void runOnOperation() override {
    if (preset != "megatron") {
      getOperation().emitError() << "unknown strategy preset '" << preset << "' (known: megatron)";
      return signalPassFailure();
    }
    getOperation().walk([&](func::FuncOp function) {
      for (BlockArgument arg : function.getArguments())
        if (auto type = llvm::dyn_cast<RankedTensorType>(arg.getType()); type && type.getRank() > 0)
          batchDims[arg] = 0;
    });
    getOperation().walk([&](Operation *op) {
      if (op->getNumResults() == 0)
        return;
      traceBatch(op);
      bool anySplit = llvm::any_of(op->getOperands(), [&](Value v) { return splitOf(v); });
      bool keyed = llvm::isa<dist::ShardingRuleOpInterface>(op) && llvm::any_of(op->getOperands(), isParameter);
      if (!keyed) {
        // Normalizations need whole features; anything else carries the split.
        bool normalizes = llvm::isa<nn::LayerNormOp, nn::RMSNormOp>(op);
        for (Value result : op->getResults())
          featureSplit[result] = anySplit && !normalizes;
        return;
      }
      SmallVector<SmallVector<int64_t>> strategy;
      bool resultSplit = false;
      if (llvm::isa<nn::MatMulOp, nn::BatchMatMulOp>(op) && !isParameter(op->getOperand(0)) &&
          isParameter(op->getOperand(1)) && typeOf(op->getOperand(1)).getRank() == 2) {
        Value x = op->getOperand(0), w = op->getOperand(1);
        bool transposeA =
            op->getAttrOfType<BoolAttr>("transpose_a") && op->getAttrOfType<BoolAttr>("transpose_a").getValue();
        bool transposeB =
            op->getAttrOfType<BoolAttr>("transpose_b") && op->getAttrOfType<BoolAttr>("transpose_b").getValue();
        int64_t rx = typeOf(x).getRank();
        SmallVector<int64_t> xs = batchSplit(op, x), ws(2, 1);
        int64_t contraction = transposeA ? rx - 2 : rx - 1;
        if (splitOf(x)) { // row-parallel: the contraction is split
          if (tpDivides(op, typeOf(x).getDimSize(contraction), "contraction dimension of a row-parallel product")) {
            xs[contraction] = tp;
            ws[transposeB ? 1 : 0] = tp;
          }
        } else { // column-parallel: the output features are split
          int64_t outDim = transposeB ? 0 : 1;
          if (slicesFeatures(op->getResult(0))) {
            // A packed projection that --dist-split-packed-projections did
            // not read as parts: a contiguous split would give ranks parts
            // of different thirds.
            op->emitRemark() << "packed projection (its output is sliced along the features, but not into parts "
                                "that tile them): kept data parallel";
          } else {
            // Grouped-query attention with fewer KV heads than tp: each KV
            // head whole, on the consecutive ranks whose query heads read it.
            int64_t heads = headsOf(op->getResult(0)), degree = tp;
            if (heads > 0 && heads < degree && degree % heads == 0)
              degree = heads;
            if (degree < tp || tpDivides(op, typeOf(w).getDimSize(outDim),
                                         "output features of a column-parallel product")) {
              ws[outDim] = degree;
              resultSplit = true;
              columnOutputs[op->getResult(0)] = degree;
              if (degree < tp)
                replicasLast.insert(op);
            }
          }
        }
        strategy = {xs, ws};
      } else if (auto gather = llvm::dyn_cast<nn::GatherOp>(op); gather && isParameter(gather.getParams())) {
        SmallVector<int64_t> table(typeOf(gather.getParams()).getRank(), 1);
        if (tpDivides(op, typeOf(gather.getParams()).getDimSize(0), "vocabulary of an embedding table"))
          table[0] = tp;
        strategy = {table, batchSplit(op, gather.getIndices())};
      } else {
        // Bias adds follow their product's split; everything else is data parallel.
        Value activation;
        for (Value v : op->getOperands())
          if (!isParameter(v) && (!activation || typeOf(v).getRank() > typeOf(activation).getRank()))
            activation = v;
        bool followsSplit = activation && columnOutputs.count(activation) && llvm::isa<nn::AddOp, nn::BiasAddOp>(op);
        int64_t followedSplit = followsSplit ? columnOutputs.lookup(activation) : 1;
        if (!followsSplit && activation && !splitOf(activation) && sequenceParallel) {
          // Outside the tensor-parallel region: the sequence split tp ways.
          if (std::optional<SmallVector<SmallVector<int64_t>>> sequence = sequenceSplit(op, activation)) {
            if (failed(setStrategy(op, *sequence)))
              return;
            for (Value result : op->getResults())
              featureSplit[result] = false;
            return;
          }
        }
        if (!followsSplit && activation) {
          // Everything else takes the layout its activation arrives in: decided
          // once the products' strategies are known (deferStrategies).
          deferred.push_back(op);
          bool normalizes = llvm::isa<nn::LayerNormOp, nn::RMSNormOp>(op);
          for (Value result : op->getResults())
            featureSplit[result] = anySplit && !normalizes;
          return;
        }
        int64_t rank = activation ? typeOf(activation).getRank() : 0;
        for (Value v : op->getOperands()) {
          SmallVector<int64_t> splits =
              isParameter(v) ? SmallVector<int64_t>(typeOf(v).getRank(), 1) : batchSplit(op, v);
          if (followsSplit && typeOf(v).getRank() > 0) {
            // The last (feature) dimension, aligned from the right.
            int64_t last = typeOf(v).getRank() - 1;
            if (typeOf(v).getDimSize(last) == typeOf(activation).getDimSize(rank - 1))
              splits[last] = followedSplit; // the product before divided them already
          }
          strategy.push_back(splits);
        }
        resultSplit = followsSplit;
        if (followsSplit && followedSplit < tp)
          replicasLast.insert(op);
      }
      if (failed(setStrategy(op, strategy)))
        return;
      if (replicasLast.contains(op))
        op->setAttr(dist::DistDialect::kReplicasLastAttrName, UnitAttr::get(&getContext()));
      for (Value result : op->getResults())
        featureSplit[result] = resultSplit;
    });
    if (!failedAny && !deferred.empty())
      deferStrategies();
    if (failedAny)
      signalPassFailure();
  }

  /// The strategy of every deferred op: the layouts its operands have after
  /// propagating the products' strategies (on a copy of the module), so that
  /// a mask added to split heads, or a norm after a split batch, keeps the
  /// split instead of gathering it.
  void deferStrategies() {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    int64_t devices = static_cast<int64_t>(tp) * static_cast<int64_t>(dp);
    OwningOpRef<ModuleOp> scratch = module.clone();
    (*scratch)->setAttr(dist::DistDialect::kDeviceNumAttrName,
                        IntegerAttr::get(IntegerType::get(context, 64), devices));
    // Inputs arrive with their batch split dp ways, over the same device
    // matrix the products use ([dp, tp]), so that what follows keeps it.
    int64_t degree = dp;
    if (degree > 1)
      for (auto function : scratch->getOps<func::FuncOp>())
        for (BlockArgument arg : function.getArguments()) {
          auto type = llvm::dyn_cast<RankedTensorType>(arg.getType());
          if (!type || type.getRank() == 0 || type.getDimSize(0) % degree != 0 ||
              function.getArgAttr(arg.getArgNumber(), dist::DistDialect::kLayoutAttrName))
            continue;
          TensorLayout layout;
          layout.devMatrix = {degree};
          if (tp > 1)
            layout.devMatrix.push_back(tp);
          layout.tensorMap.assign(type.getRank(), DimAxes());
          layout.tensorMap[0] = {static_cast<int64_t>(layout.devMatrix.size()) - 1};
          function.setArgAttr(arg.getArgNumber(), dist::DistDialect::kLayoutAttrName,
                              dist::LayoutAttr::get(context, layout, 0, {}));
        }
    PassManager passes(context);
    DistInferPredictLayoutOptions infer;
    infer.deviceNum = devices;
    infer.trainDeviceNum = devices;
    passes.addPass(createDistInferPredictLayout(infer));
    passes.addPass(createDistPropagate());
    if (failed(passes.run(*scratch))) {
      failedAny = true;
      return;
    }
    // The same op in both modules: the clone keeps the walk order; the
    // copy's annotates are extra ops to skip.
    SmallVector<Operation *> originals, copies;
    module.walk([&](Operation *op) { originals.push_back(op); });
    scratch->walk([&](Operation *op) {
      if (!llvm::isa<dist::AnnotateOp>(op))
        copies.push_back(op);
    });
    if (originals.size() != copies.size()) {
      module.emitError("internal: the propagated copy does not line up with the program");
      failedAny = true;
      return;
    }
    llvm::DenseMap<Operation *, Operation *> copyOf;
    for (auto [original, copy] : llvm::zip(originals, copies))
      copyOf[original] = copy;
    for (Operation *op : deferred) {
      Operation *copy = copyOf.lookup(op);
      SmallVector<SmallVector<int64_t>> strategy;
      for (Value operand : copy->getOperands()) {
        dist::LayoutAttr layout = propagatedLayout(operand);
        strategy.push_back(layout ? layout.getDimSplits() : SmallVector<int64_t>(typeOf(operand).getRank(), 1));
      }
      if (failed(setStrategy(op, strategy)))
        return;
    }
  }

  /// Gives `op` the strategy `splits` (one list per operand) in stage 0,
  /// once its sharding rule accepts them.
  LogicalResult setStrategy(Operation *op, ArrayRef<SmallVector<int64_t>> splits) {
    MLIRContext *context = &getContext();
    auto attr = dist::StrategyAttr::get(context, splits);
    if (failed(factorSplits(op, attr))) {
      failedAny = true;
      return failure();
    }
    op->setAttr(dist::DistDialect::kStrategyAttrName, attr);
    op->setAttr(dist::DistDialect::kStageAttrName, IntegerAttr::get(IntegerType::get(context, 64), 0));
    return success();
  }
};

} // namespace
