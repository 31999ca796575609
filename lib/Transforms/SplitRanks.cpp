//===- SplitRanks.cpp - one function per rank -----------------------------===//

#include "dinfer/Transforms/Passes.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Layout/Layout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/STLExtras.h"

namespace dinfer {
#define GEN_PASS_DEF_DISTSPLITRANKS
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

constexpr int64_t kNoStage = -1;

int64_t stageOf(Operation *op) { return dist::stageOf(op).value_or(kNoStage); }

/// The block's ops but its terminator, last first, safe to erase from.
SmallVector<Operation *> opsLastFirst(Block &body) {
  SmallVector<Operation *> ops;
  for (Operation &op : llvm::reverse(body.without_terminator()))
    ops.push_back(&op);
  return ops;
}

struct DistSplitRanksPass : dinfer::impl::DistSplitRanksBase<DistSplitRanksPass> {
  int64_t devices = 1, stages = 1, stageSize = 1;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<dist::DeviceCounts> counts = dist::deviceCountsOf(module);
    if (!counts) {
      module.emitError("--dist-split-ranks needs dist.device_num on the module (run --dist-infer-predict-layout "
                       "and --dist-partition first)");
      return signalPassFailure();
    }
    devices = counts->devices;
    stages = counts->stages;
    stageSize = counts->stageSize();
    SymbolTable symbols(module);
    for (auto function : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (function->hasAttr(dist::DistDialect::kRankAttrName))
        continue;
      if (!function->hasAttr(dist::DistDialect::kPartitionedAttrName)) {
        function.emitError("is not partitioned: run --dist-partition before --dist-split-ranks");
        return signalPassFailure();
      }
      if (failed(checkStages(function)))
        return signalPassFailure();
      Operation *after = function;
      for (int64_t rank = 0; rank < devices; ++rank) {
        std::string name = (function.getName() + "_rank" + Twine(rank)).str();
        if (symbols.lookup(name)) {
          function.emitError() << "cannot name rank " << rank << "'s function '" << name
                               << "': the module already has that symbol";
          return signalPassFailure();
        }
        func::FuncOp clone = function.clone();
        clone.setName(name);
        module.getBody()->getOperations().insertAfter(after->getIterator(), clone);
        after = clone;
        if (failed(specialize(clone, rank)))
          return signalPassFailure();
      }
      function.erase();
    }
  }

  /// The stages cover every op exactly once, and an op reads only values of
  /// its own stage, received ones included.
  LogicalResult checkStages(func::FuncOp function) {
    if (stages == 1)
      return success();
    for (Operation &op : function.getBody().front()) {
      if (op.hasTrait<OpTrait::IsTerminator>())
        continue;
      int64_t stage = stageOf(&op);
      if (stage < 0 || stage >= stages)
        return op.emitError() << "has no pipeline stage in a module of " << stages
                              << " stages: run --dist-pipeline-split before --dist-partition";
      for (Value operand : op.getOperands())
        if (Operation *producer = operand.getDefiningOp(); producer && stageOf(producer) != stage)
          return op.emitError() << "runs in stage " << stage << " but reads a value of stage " << stageOf(producer)
                                << " (from '" << producer->getName() << "' at " << producer->getLoc()
                                << ") without a dist.recv";
    }
    return success();
  }

  /// Keeps the ops of `rank`'s stage, names every collective's group and
  /// turns every local split into the slice of this rank.
  LogicalResult specialize(func::FuncOp function, int64_t rank) {
    MLIRContext *context = &getContext();
    int64_t stage = rank / stageSize, stageBase = stage * stageSize;
    function->setAttr(dist::DistDialect::kRankAttrName, IntegerAttr::get(IntegerType::get(context, 64), rank));
    dist::setStage(function, stage);
    Block &body = function.getBody().front();
    auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
    if (stages > 1 && stage != stages - 1) {
      // Only the last stage holds the outputs.
      OpBuilder builder(ret);
      func::ReturnOp::create(builder, ret.getLoc());
      ret.erase();
      function.setFunctionType(FunctionType::get(context, body.getArgumentTypes(), {}));
      function.removeResAttrsAttr();
    }
    for (Operation *op : opsLastFirst(body)) {
      if (stages == 1 || stageOf(op) == stage)
        continue;
      if (!op->use_empty())
        return op->emitError() << "of stage " << stageOf(op) << " is read by an op of stage " << stage;
      op->erase();
    }
    for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
      if (!dist::isCollective(&op) && !llvm::isa<dist::ShardOffsetOp>(op))
        continue;
      ArrayRef<int64_t> devMatrix = op.getAttrOfType<dist::DeviceMatrixAttr>("dev_matrix").getDims();
      ArrayRef<int64_t> axes = op.getAttrOfType<DenseI64ArrayAttr>("axes").asArrayRef();
      std::vector<int> local = deviceGroup(devMatrix, axes, static_cast<int>(rank - stageBase));
      SmallVector<int64_t> group;
      for (int member : local)
        group.push_back(member + stageBase);
      int64_t position = llvm::find(group, rank) - group.begin();
      if (auto split = llvm::dyn_cast<dist::LocalSplitOp>(op)) {
        foldLocalSplit(split, position);
        continue;
      }
      if (auto offset = llvm::dyn_cast<dist::ShardOffsetOp>(op)) {
        OpBuilder builder(offset);
        auto type = llvm::cast<RankedTensorType>(offset.getResult().getType());
        auto constant = arith::ConstantOp::create(
            builder, offset.getLoc(),
            DenseElementsAttr::get(
                type, builder.getI64IntegerAttr(position * static_cast<int64_t>(offset.getPiece())).getValue()));
        if (Attribute stage = offset->getAttr(dist::DistDialect::kStageAttrName))
          constant->setAttr(dist::DistDialect::kStageAttrName, stage);
        offset.getResult().replaceAllUsesWith(constant.getResult());
        offset.erase();
        continue;
      }
      op.setAttr(dist::DistDialect::kGroupAttrName, DenseI64ArrayAttr::get(context, group));
    }
    // What the rank does not need.
    for (Operation *op : opsLastFirst(body))
      if (!llvm::isa<dist::SendOp, dist::RecvOp>(op) && isOpTriviallyDead(op))
        op->erase();
    return success();
  }

  /// The piece `position` of the split dimension, as a static slice.
  void foldLocalSplit(dist::LocalSplitOp split, int64_t position) {
    auto local = llvm::cast<RankedTensorType>(split.getResult().getType());
    int64_t dim = static_cast<int64_t>(split.getDim());
    SmallVector<int64_t> begin(dim + 1, 0), end(dim + 1, 0), strides(dim + 1, 1);
    auto whole = llvm::cast<RankedTensorType>(split.getInput().getType());
    for (int64_t d = 0; d <= dim; ++d)
      end[d] = whole.getDimSize(d);
    begin[dim] = position * local.getDimSize(dim);
    end[dim] = begin[dim] + local.getDimSize(dim);
    OpBuilder builder(split);
    Operation *slice;
    if (DenseElementsAttr sliced = slicedConstant(split.getInput(), local, dim, begin[dim]))
      slice = arith::ConstantOp::create(builder, split.getLoc(), sliced);
    else
      slice = nn::StridedSliceOp::create(builder, split.getLoc(), split.getInput(), begin, end, strides);
    if (Attribute stage = split->getAttr(dist::DistDialect::kStageAttrName))
      slice->setAttr(dist::DistDialect::kStageAttrName, stage);
    split.getResult().replaceAllUsesWith(slice->getResult(0));
    split.erase();
  }

  /// A constant's piece [offset, offset + local[dim]) of dimension `dim` as
  /// a constant of its own: each rank holds only its slice of the data.
  static DenseElementsAttr slicedConstant(Value value, RankedTensorType local, int64_t dim, int64_t offset) {
    auto constant = value.getDefiningOp<arith::ConstantOp>();
    auto dense = constant ? llvm::dyn_cast<DenseElementsAttr>(constant.getValue()) : DenseElementsAttr();
    if (!dense)
      return {};
    if (dense.isSplat())
      return dense.resizeSplat(local);
    auto whole = llvm::cast<RankedTensorType>(dense.getType());
    unsigned bits = whole.getElementType().getIntOrFloatBitWidth();
    if (bits % 8 != 0 || dense.getRawData().size() * 8 != static_cast<size_t>(whole.getNumElements()) * bits)
      return {};
    int64_t inner = bits / 8, outer = 1;
    for (int64_t d = 0; d < dim; ++d)
      outer *= whole.getDimSize(d);
    for (int64_t d = dim + 1; d < whole.getRank(); ++d)
      inner *= whole.getDimSize(d);
    ArrayRef<char> raw = dense.getRawData();
    std::vector<char> piece;
    piece.reserve(outer * local.getDimSize(dim) * inner);
    for (int64_t o = 0; o < outer; ++o) {
      const char *row = raw.data() + (o * whole.getDimSize(dim) + offset) * inner;
      piece.insert(piece.end(), row, row + local.getDimSize(dim) * inner);
    }
    return DenseElementsAttr::getFromRawBuffer(local, piece);
  }
};

} // namespace
