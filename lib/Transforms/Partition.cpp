//===- Partition.cpp - local shapes and explicit collectives --------------===//

#include "dinfer/Transforms/Passes.h"

#include "llvm/ADT/MapVector.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Transforms/StrategyLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace dinfer {
#define GEN_PASS_DEF_DISTPARTITION
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

RankedTensorType typeOf(Value v) { return llvm::dyn_cast<RankedTensorType>(v.getType()); }

/// Whether a dimension's axes list its device axes major first (leftmost
/// dev-matrix dimension first), as the collectives' group order needs.
bool majorFirst(ArrayRef<int64_t> axes) { return llvm::is_sorted(axes, std::greater<int64_t>()); }

/// Where each axis of `matrix` starts: the number of devices its minor axes
/// span, for axis 0 (the last) up to the whole matrix.
SmallVector<int64_t> axisStrides(ArrayRef<int64_t> matrix) {
  SmallVector<int64_t> strides = {1};
  for (int64_t extent : llvm::reverse(matrix))
    strides.push_back(strides.back() * extent);
  return strides;
}

/// The coarsest device matrix of which every axis of `a` and of `b` is a run
/// of consecutive axes ([4] and [2, 2] give [2, 2]); none when the two cut
/// the devices incompatibly ([2, 3] and [3, 2]).
std::optional<SmallVector<int64_t>> commonRefinement(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  SmallVector<int64_t> sa = axisStrides(a), sb = axisStrides(b);
  if (sa.back() != sb.back())
    return std::nullopt;
  SmallVector<int64_t> strides(sa);
  llvm::append_range(strides, sb);
  llvm::sort(strides);
  strides.erase(std::unique(strides.begin(), strides.end()), strides.end());
  SmallVector<int64_t> matrix;
  for (size_t i = strides.size() - 1; i > 0; --i) {
    if (strides[i] % strides[i - 1] != 0)
      return std::nullopt;
    matrix.push_back(strides[i] / strides[i - 1]);
  }
  if (matrix.empty())
    matrix.push_back(1);
  return matrix;
}

/// `axes` of `matrix` as axes of `refined` (a refinement of it), major first.
SmallVector<int64_t> refineAxes(ArrayRef<int64_t> axes, ArrayRef<int64_t> matrix, ArrayRef<int64_t> refined) {
  SmallVector<int64_t> original = axisStrides(matrix), finer = axisStrides(refined), out;
  for (int64_t axis : axes)
    for (int64_t j = static_cast<int64_t>(refined.size()) - 1; j >= 0; --j)
      if (finer[j] >= original[axis] && finer[j] < original[axis + 1] && refined[refined.size() - 1 - j] > 1)
        out.push_back(j);
  return out;
}

struct DistPartitionPass : dinfer::impl::DistPartitionBase<DistPartitionPass> {
  bool failedAny = false;

  void runOnOperation() override {
    for (auto function : getOperation().getOps<func::FuncOp>()) {
      partition(function);
      joinParts(function);
    }
    if (failedAny)
      signalPassFailure();
  }

  /// The parts of a packed parameter (`dist.param` with `offset`) become one
  /// reference to the rank's slice of all of them (`parts`), cut apart by
  /// local slices: a rank reads its slice of the checkpoint tensor as one,
  /// under the tensor's own name, as the exported file holds it.
  void joinParts(func::FuncOp function) {
    MLIRContext *context = &getContext();
    std::optional<dist::DeviceCounts> counts = dist::deviceCountsOf(getOperation());
    int64_t stageDevices = counts ? counts->stageSize() : 1;
    // Per parameter and stage, its parts in program order.
    llvm::MapVector<std::pair<StringRef, int64_t>, SmallVector<dist::ParamOp, 3>> groups;
    function.walk([&](dist::ParamOp param) {
      if (param.getOffset())
        groups[{param.getName(), dist::stageOf(param).value_or(0)}].push_back(param);
    });
    for (auto &[key, params] : groups) {
      // Along the one dimension their offsets differ in, in offset order.
      int64_t rank = params.front().getType().getRank(), dim = 0;
      for (dist::ParamOp param : params)
        for (int64_t d = 0; d < rank; ++d)
          if ((*param.getOffset())[d] != 0)
            dim = d;
      SmallVector<dist::ParamOp, 3> ordered(params);
      llvm::stable_sort(ordered, [&](dist::ParamOp a, dist::ParamOp b) {
        return (*a.getOffset())[dim] < (*b.getOffset())[dim];
      });
      SmallVector<int64_t> sizes, localStarts;
      SmallVector<dist::LayoutAttr> layouts;
      SmallVector<int64_t> localShape(ordered.front().getType().getShape());
      localShape[dim] = 0;
      int64_t expected = 0;
      std::optional<int64_t> previous;
      for (dist::ParamOp param : ordered) {
        int64_t offset = (*param.getOffset())[dim];
        dist::LayoutAttr layout = param.getLayoutAttr();
        RankedTensorType global = layout ? layout.getGlobalType(param.getType()) : param.getType();
        if (!layout) {
          TensorLayout whole;
          whole.devMatrix = {stageDevices};
          whole.tensorMap.assign(rank, DimAxes());
          layout = dist::LayoutAttr::get(context, whole, key.second, {});
        }
        if (previous && *previous == offset) {
          localStarts.push_back(localStarts.back()); // the same part read twice
          continue;
        }
        localStarts.push_back(localShape[dim]);
        if (offset != expected) {
          param.emitError() << "the parts of '" << key.first << "' do not tile it along dimension " << dim;
          failedAny = true;
          return;
        }
        previous = offset;
        expected += global.getDimSize(dim);
        sizes.push_back(global.getDimSize(dim));
        layouts.push_back(layout);
        localShape[dim] += param.getType().getDimSize(dim);
      }
      OpBuilder builder(ordered.front());
      dist::ParamOp first = ordered.front();
      auto joined = dist::ParamOp::create(builder, first.getLoc(), first.getType().clone(localShape),
                                          first.getNameAttr(), layouts.front(), builder.getUnitAttr(),
                                          DenseI64ArrayAttr(), dist::PartsAttr::get(context, dim, sizes, layouts));
      for (NamedAttribute attr : first->getDiscardableAttrs())
        joined->setAttr(attr.getName(), attr.getValue());
      for (auto [param, localStart] : llvm::zip_equal(ordered, localStarts)) {
        SmallVector<int64_t> begin(rank, 0), end(localShape), strides(rank, 1);
        begin[dim] = localStart;
        end[dim] = localStart + param.getType().getDimSize(dim);
        builder.setInsertionPoint(param);
        auto slice = nn::StridedSliceOp::create(builder, param.getLoc(), param.getType(), joined.getResult(),
                                                builder.getDenseI64ArrayAttr(begin), builder.getDenseI64ArrayAttr(end),
                                                builder.getDenseI64ArrayAttr(strides));
        for (NamedAttribute attr : param->getDiscardableAttrs())
          if (attr.getName() == dist::DistDialect::kStageAttrName)
            slice->setAttr(attr.getName(), attr.getValue());
        param.getResult().replaceAllUsesWith(slice.getResult());
        param.erase();
      }
    }
  }

  void partition(func::FuncOp function) {
    MLIRContext *context = &getContext();
    Block &body = function.getBody().front();
    // Layouts first: rewriting types and annotates changes what they read.
    llvm::DenseMap<Value, dist::LayoutAttr> layouts;
    for (BlockArgument arg : body.getArguments())
      layouts[arg] = propagatedLayout(arg);
    for (Operation &op : body) {
      for (Value result : op.getResults())
        layouts[result] = propagatedLayout(result);
    }

    // Arguments first: what reads them is rewritten against local types.
    for (BlockArgument arg : body.getArguments())
      if (dist::LayoutAttr layout = layouts.lookup(arg))
        arg.setType(layout.getLocalType(typeOf(arg)));

    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (auto annotate = llvm::dyn_cast<dist::AnnotateOp>(op)) {
        lowerAnnotate(annotate, layouts);
        continue;
      }
      if (auto gather = llvm::dyn_cast<nn::GatherOp>(op)) {
        dist::LayoutAttr table = layouts.lookup(gather.getParams());
        // The axis attribute is signed: -1 is the last dimension.
        int64_t axis = static_cast<int64_t>(gather.getAxis());
        if (axis < 0)
          axis += typeOf(gather.getParams()).getRank();
        SmallVector<int64_t> splits = table ? table.getDimSplits() : SmallVector<int64_t>();
        if (axis < static_cast<int64_t>(splits.size()) && splits[axis] > 1) {
          if (axis != 0 || !majorFirst(table.getDimAxes(0))) {
            op.emitError("gathers along a split dimension other than the rows of a vocabulary-parallel table: "
                         "not partitioned");
            failedAny = true;
            continue;
          }
          lowerVocabularyParallelGather(gather, table, layouts);
          continue;
        }
      }
      // A mean over split axes, scaled once it has its local type.
      auto partialMean = llvm::dyn_cast<nn::ReduceMeanOp>(op);
      dist::LayoutAttr meanLayout = partialMean ? layouts.lookup(partialMean.getResult()) : nullptr;
      if (!meanLayout || meanLayout.getPartial().empty())
        partialMean = nullptr;
      else if (!llvm::isa<FloatType>(typeOf(partialMean.getResult()).getElementType())) {
        op.emitError("averages integers over a split axis: not partitioned");
        failedAny = true;
        continue;
      }
      for (Value result : op.getResults()) {
        dist::LayoutAttr layout = layouts.lookup(result);
        RankedTensorType type = typeOf(result);
        if (!layout || !type)
          continue;
        result.setType(layout.getLocalType(type));
      }
      // Ops that spell their result shape out take the local one.
      if (auto reshape = llvm::dyn_cast<nn::ReshapeOp>(op))
        reshape.setShapeAttr(DenseI64ArrayAttr::get(context, typeOf(reshape.getResult()).getShape()));
      if (auto broadcast = llvm::dyn_cast<nn::BroadcastToOp>(op))
        broadcast.setShapeAttr(DenseI64ArrayAttr::get(context, typeOf(broadcast.getResult()).getShape()));
      if (auto param = llvm::dyn_cast<dist::ParamOp>(op))
        if (param.getLayoutAttr())
          param.setLocal(true);
      // Layouts and strategies speak of global shapes: gone with them.
      op.removeAttr(dist::DistDialect::kLayoutAttrName);
      op.removeAttr(dist::DistDialect::kResultLayoutsAttrName);
      op.removeAttr(dist::DistDialect::kStrategyAttrName);
      op.removeAttr(dist::DistDialect::kReplicasLastAttrName);
      if (partialMean)
        scalePartialMean(partialMean, meanLayout, layouts);
    }
    auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
    function.setFunctionType(FunctionType::get(context, body.getArgumentTypes(), ret.getOperandTypes()));
    function->setAttr(dist::DistDialect::kPartitionedAttrName, UnitAttr::get(context));
  }

  /// A mean over split axes (its local type set): each rank averages its own
  /// equal slice, so the mean of the whole is the sum of the local means over
  /// the split's k pieces, divided by k. The local mean is scaled by 1/k here
  /// and the sum is left pending (the all_reduce that follows takes it).
  void scalePartialMean(nn::ReduceMeanOp mean, dist::LayoutAttr layout,
                        llvm::DenseMap<Value, dist::LayoutAttr> &layouts) {
    RankedTensorType local = typeOf(mean.getResult());
    auto element = llvm::cast<FloatType>(local.getElementType());
    int64_t pieces =
        dist::DeviceMatrixAttr::get(mean->getContext(), layout.getDevMatrix()).getGroupSize(layout.getPartial());
    OpBuilder builder(mean->getContext());
    builder.setInsertionPointAfter(mean);
    auto scale = arith::ConstantOp::create(
        builder, mean.getLoc(),
        DenseElementsAttr::get(RankedTensorType::get({}, element),
                               FloatAttr::get(element, 1.0 / static_cast<double>(pieces))));
    auto scaled = nn::MulOp::create(builder, mean.getLoc(), local, mean.getResult(), scale.getResult());
    if (Attribute stage = mean->getAttr(dist::DistDialect::kStageAttrName)) {
      scale->setAttr(dist::DistDialect::kStageAttrName, stage);
      scaled->setAttr(dist::DistDialect::kStageAttrName, stage);
    }
    mean.getResult().replaceAllUsesExcept(scaled.getResult(), scaled);
    layouts[scaled.getResult()] = layout;
  }

  /// A lookup in a table whose rows (the vocabulary) are split: each rank
  /// looks its rows up with the indices shifted by its slice's first row and
  /// zeros elsewhere (MindSpore's EmbeddingLookup), leaving the pending sum
  /// over the vocabulary axes that propagation put on the result.
  void lowerVocabularyParallelGather(nn::GatherOp gather, dist::LayoutAttr table,
                                     llvm::DenseMap<Value, dist::LayoutAttr> &layouts) {
    OpBuilder builder(gather);
    // Everything the gather reads already has its local type.
    int64_t rows = typeOf(gather.getParams()).getDimSize(0);
    auto offset =
        dist::ShardOffsetOp::create(builder, gather.getLoc(), table.getDimAxes(0), table.getDevMatrix(), rows);
    auto lookup = nn::EmbeddingLookupOp::create(builder, gather.getLoc(), gather.getParams(), gather.getIndices(),
                                                offset.getResult());
    if (Attribute stage = gather->getAttr(dist::DistDialect::kStageAttrName)) {
      offset->setAttr(dist::DistDialect::kStageAttrName, stage);
      lookup->setAttr(dist::DistDialect::kStageAttrName, stage);
    }
    dist::LayoutAttr layout = layouts.lookup(gather.getResult());
    if (layout)
      lookup.getResult().setType(layout.getLocalType(typeOf(gather.getResult())));
    layouts[lookup.getResult()] = layout;
    gather.getResult().replaceAllUsesWith(lookup.getResult());
    gather.erase();
  }

  /// Replaces an annotate from its input's layout to its own by collectives.
  void lowerAnnotate(dist::AnnotateOp annotate, llvm::DenseMap<Value, dist::LayoutAttr> &layouts) {
    OpBuilder builder(annotate);
    Location loc = annotate.getLoc();
    // What the lowering inserts lies between `first` and the annotate.
    Operation *first = annotate->getPrevNode();
    Value value = annotate.getInput();
    dist::LayoutAttr from = layouts.lookup(value), to = annotate.getLayout();
    RankedTensorType global = typeOf(annotate.getResult());
    if (!from) {
      annotate.emitError("its input has no layout: run --dist-propagate first");
      failedAny = true;
      return;
    }
    int64_t rank = global.getRank();
    for (int64_t d = 0; d < rank; ++d)
      if (!majorFirst(from.getDimAxes(d)) || !majorFirst(to.getDimAxes(d))) {
        annotate.emitError("a dimension is split over device axes in minor-first order: not partitioned yet");
        failedAny = true;
        return;
      }
    auto devMatrix = [&](dist::LayoutAttr layout) {
      return dist::DeviceMatrixAttr::get(builder.getContext(), layout.getDevMatrix());
    };
    // A pending sum first, in the producer's layout.
    if (!from.getPartial().empty()) {
      dist::ReduceKind kind = dist::ReduceKind::sum;
      if (Operation *producer = value.getDefiningOp()) {
        if (llvm::isa<nn::ReduceMaxOp>(producer))
          kind = dist::ReduceKind::max;
        else if (llvm::isa<nn::ReduceMinOp>(producer))
          kind = dist::ReduceKind::min;
        else if (llvm::isa<nn::ReduceProdOp>(producer))
          kind = dist::ReduceKind::prod;
      }
      // The sum's axes going to split one dimension that was whole, and
      // nothing else changing: one reduce_scatter, each member reducing and
      // keeping only its piece, instead of an all_reduce and a local split.
      if (std::optional<int64_t> dim = scatteredDimension(from, to)) {
        value = dist::ReduceScatterOp::create(builder, loc, value,
                                              dist::ReduceKindAttr::get(builder.getContext(), kind),
                                              builder.getDenseI64ArrayAttr(from.getPartial()),
                                              builder.getI64IntegerAttr(*dim), devMatrix(from));
        finishLowering(annotate, first, value, to, layouts);
        return;
      }
      value = dist::AllReduceOp::create(builder, loc, value, dist::ReduceKindAttr::get(builder.getContext(), kind),
                                        builder.getDenseI64ArrayAttr(from.getPartial()), devMatrix(from));
    }
    // Both layouts over one device matrix that refines each ([4] and [2, 2]
    // become [2, 2]), so that a split that only refines another is seen as
    // such; layouts whose matrices have no common refinement keep their own.
    SmallVector<int64_t> matrix(from.getDevMatrix());
    SmallVector<SmallVector<int64_t>> have, want;
    std::optional<SmallVector<int64_t>> refined = commonRefinement(from.getDevMatrix(), to.getDevMatrix());
    bool sameMatrix = refined.has_value();
    if (refined)
      matrix = *refined;
    for (int64_t d = 0; d < rank; ++d) {
      have.push_back(refined ? refineAxes(from.getDimAxes(d), from.getDevMatrix(), matrix)
                             : SmallVector<int64_t>(from.getDimAxes(d)));
      want.push_back(refined ? refineAxes(to.getDimAxes(d), to.getDevMatrix(), matrix)
                             : SmallVector<int64_t>(to.getDimAxes(d)));
    }
    auto matrixAttr = dist::DeviceMatrixAttr::get(builder.getContext(), matrix);
    // One set of device axes moving from one dimension to another: a single
    // all_to_all, each member sending every other member its piece, instead
    // of gathering the whole tensor and splitting it again.
    if (sameMatrix) {
      SmallVector<int64_t> changed;
      for (int64_t d = 0; d < rank; ++d)
        if (have[d] != want[d])
          changed.push_back(d);
      if (changed.size() == 2) {
        int64_t a = changed[0], b = changed[1];
        if (!have[b].empty())
          std::swap(a, b);
        // a loses its axes to b, which had none.
        if (want[a].empty() && have[b].empty() && have[a] == want[b]) {
          value = dist::AllToAllOp::create(builder, loc, value, builder.getDenseI64ArrayAttr(have[a]),
                                           builder.getI64IntegerAttr(b), builder.getI64IntegerAttr(a), matrixAttr);
          finishLowering(annotate, first, value, to, layouts);
          return;
        }
      }
    }
    // Per dimension, the axes both layouts split it over first (major first)
    // stay; the source's further axes are gathered, the target's are split
    // off the piece each rank holds. A split that refines another is then a
    // local slice, with nothing sent.
    SmallVector<size_t> kept(rank, 0);
    if (sameMatrix)
      for (int64_t d = 0; d < rank; ++d)
        while (kept[d] < have[d].size() && kept[d] < want[d].size() && have[d][kept[d]] == want[d][kept[d]])
          ++kept[d];
    for (int64_t d = 0; d < rank; ++d) {
      ArrayRef<int64_t> gathered = ArrayRef<int64_t>(have[d]).drop_front(kept[d]);
      if (gathered.empty())
        continue;
      value = dist::AllGatherOp::create(builder, loc, value, builder.getDenseI64ArrayAttr(gathered),
                                        builder.getI64IntegerAttr(d),
                                        sameMatrix ? matrixAttr : devMatrix(from));
    }
    for (int64_t d = 0; d < rank; ++d) {
      ArrayRef<int64_t> split = ArrayRef<int64_t>(want[d]).drop_front(kept[d]);
      if (split.empty())
        continue;
      value = dist::LocalSplitOp::create(builder, loc, value, builder.getDenseI64ArrayAttr(split),
                                         builder.getI64IntegerAttr(d), sameMatrix ? matrixAttr : devMatrix(to));
    }
    finishLowering(annotate, first, value, to, layouts);
  }

  /// The dimension a pending sum over `from`'s partial axes is scattered
  /// along when `to` is `from` summed with exactly those axes, in that order,
  /// on one dimension that had none; nothing otherwise.
  static std::optional<int64_t> scatteredDimension(dist::LayoutAttr from, dist::LayoutAttr to) {
    if (from.getDevMatrix() != to.getDevMatrix() || !to.getPartial().empty())
      return std::nullopt;
    std::optional<int64_t> dim;
    for (int64_t d = 0, rank = static_cast<int64_t>(from.getTensorMap().size()); d < rank; ++d) {
      if (from.getDimAxes(d) == to.getDimAxes(d))
        continue;
      if (dim || !from.getDimAxes(d).empty() || to.getDimAxes(d) != from.getPartial())
        return std::nullopt;
      dim = d;
    }
    return dim;
  }

  /// Replaces the annotate by `value`, the last of the collectives inserted
  /// after `first`, which run in the annotate's pipeline stage.
  void finishLowering(dist::AnnotateOp annotate, Operation *first, Value value, dist::LayoutAttr to,
                      llvm::DenseMap<Value, dist::LayoutAttr> &layouts) {
    if (Attribute stage = annotate->getAttr(dist::DistDialect::kStageAttrName))
      for (Operation *op = annotate->getPrevNode(); op && op != first; op = op->getPrevNode())
        op->setAttr(dist::DistDialect::kStageAttrName, stage);
    // A later annotate may read the result.
    layouts[value] = to;
    annotate.getResult().replaceAllUsesWith(value);
    annotate.erase();
  }
};

} // namespace
