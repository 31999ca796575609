//===- SplitPackedProjections.cpp - one product per part of a packed weight ===//

#include "dinfer/Transforms/Passes.h"

#include "dialects/dist/DistOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <map>

namespace dinfer {
#define GEN_PASS_DEF_DISTSPLITPACKEDPROJECTIONS
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

/// A parameter a packed projection may read: whole, without a layout yet.
dist::ParamOp plainParam(Value value, int64_t rank) {
  auto param = value.getDefiningOp<dist::ParamOp>();
  if (!param || param.getOffset() || param.getLayoutAttr() || param.getType().getRank() != rank)
    return {};
  return param;
}

/// The features [begin, end) of its input that a user of a value with
/// `features` features along its last dimension takes, per result; nothing
/// when the user is not such a slice.
std::optional<SmallVector<std::pair<int64_t, int64_t>, 3>> featureRanges(Operation *user, RankedTensorType type) {
  int64_t rank = type.getRank(), features = type.getDimSize(rank - 1);
  if (auto split = llvm::dyn_cast<nn::SplitOp>(user)) {
    int64_t axis = static_cast<int64_t>(split.getAxis());
    if (axis < 0)
      axis += rank;
    int64_t parts = static_cast<int64_t>(split.getOutputNum());
    if (axis != rank - 1 || parts < 2 || features % parts != 0)
      return std::nullopt;
    SmallVector<std::pair<int64_t, int64_t>, 3> ranges;
    for (int64_t i = 0; i < parts; ++i)
      ranges.emplace_back(i * features / parts, (i + 1) * features / parts);
    return ranges;
  }
  auto slice = llvm::dyn_cast<nn::StridedSliceOp>(user);
  if (!slice || slice.getShrinkAxisMask() != 0)
    return std::nullopt;
  ArrayRef<int64_t> begin = slice.getBegin(), end = slice.getEnd(), strides = slice.getStrides();
  if (static_cast<int64_t>(begin.size()) != rank || end.size() != begin.size() || strides.size() != begin.size())
    return std::nullopt;
  int64_t lastBegin = 0, lastEnd = features;
  for (int64_t d = 0; d < rank; ++d) {
    if (strides[d] != 1)
      return std::nullopt;
    int64_t extent = type.getDimSize(d);
    int64_t b = (slice.getBeginMask() >> d & 1) ? 0 : begin[d];
    int64_t e = (slice.getEndMask() >> d & 1) ? extent : end[d];
    if (b < 0)
      b += extent;
    if (e < 0)
      e += extent;
    b = std::clamp<int64_t>(b, 0, extent);
    e = std::clamp<int64_t>(e, 0, extent);
    if (d < rank - 1) {
      if (b != 0 || e != extent)
        return std::nullopt; // slices something else too
      continue;
    }
    lastBegin = b;
    lastEnd = e;
  }
  if (lastBegin >= lastEnd)
    return std::nullopt;
  return SmallVector<std::pair<int64_t, int64_t>, 3>{{lastBegin, lastEnd}};
}

RankedTensorType withLastDim(RankedTensorType type, int64_t extent) {
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = extent;
  return type.clone(shape);
}

/// A product found to be a packed projection, and how to cut it.
struct PackedProjection {
  Operation *product = nullptr;
  dist::ParamOp weight, bias;
  Operation *biasAdd = nullptr;
  Value packed; ///< What the slices read: the product, or its bias add.
  int64_t outDim = 1;
  /// Each part's features [begin, end), in order, with the values it replaces.
  std::map<std::pair<int64_t, int64_t>, SmallVector<Value, 2>> parts;
};

std::optional<PackedProjection> analyze(Operation *product) {
  PackedProjection found;
  found.product = product;
  bool transposeB = product->getAttrOfType<BoolAttr>("transpose_b") &&
                    product->getAttrOfType<BoolAttr>("transpose_b").getValue();
  found.weight = plainParam(product->getOperand(1), 2);
  if (!found.weight || plainParam(product->getOperand(0), 2))
    return std::nullopt;
  auto productType = llvm::dyn_cast<RankedTensorType>(product->getResult(0).getType());
  if (!productType || !productType.hasStaticShape())
    return std::nullopt;
  found.outDim = transposeB ? 0 : 1;
  int64_t features = found.weight.getType().getDimSize(found.outDim);
  if (productType.getDimSize(productType.getRank() - 1) != features)
    return std::nullopt;

  // The bias add right after it, if any.
  found.packed = product->getResult(0);
  if (found.packed.hasOneUse() && llvm::isa<nn::AddOp, nn::BiasAddOp>(*found.packed.getUsers().begin())) {
    Operation *add = *found.packed.getUsers().begin();
    dist::ParamOp bias;
    for (Value operand : add->getOperands())
      if (operand != found.packed)
        bias = plainParam(operand, 1);
    if (bias && bias.getType().getDimSize(0) == features && add->getResult(0).getType() == productType) {
      found.bias = bias;
      found.biasAdd = add;
      found.packed = add->getResult(0);
    }
  }

  // Every user a slice of the features; together they tile them.
  for (Operation *user : found.packed.getUsers()) {
    auto ranges = featureRanges(user, productType);
    if (!ranges)
      return std::nullopt;
    for (auto [range, result] : llvm::zip_equal(*ranges, user->getResults()))
      found.parts[range].push_back(result);
  }
  if (found.parts.size() < 2)
    return std::nullopt;
  int64_t covered = 0;
  for (const auto &[range, results] : found.parts) {
    if (range.first != covered)
      return std::nullopt; // overlapping or leaving a gap
    covered = range.second;
  }
  if (covered != features)
    return std::nullopt;
  return found;
}

RankedTensorType withLastDimOf(Value value, int64_t extent) {
  return withLastDim(llvm::cast<RankedTensorType>(value.getType()), extent);
}

void rewrite(PackedProjection found) {
  OpBuilder builder(found.product);
  MLIRContext *context = found.product->getContext();
  for (const auto &[range, results] : found.parts) {
    auto [begin, end] = range;
    SmallVector<int64_t> weightShape(found.weight.getType().getShape()), weightOffset(2, 0);
    weightShape[found.outDim] = end - begin;
    weightOffset[found.outDim] = begin;
    auto weightPart = dist::ParamOp::create(builder, found.weight.getLoc(), found.weight.getType().clone(weightShape),
                                            found.weight.getNameAttr(), dist::LayoutAttr(), UnitAttr(),
                                            DenseI64ArrayAttr::get(context, weightOffset), dist::PartsAttr());
    IRMapping mapping;
    mapping.map(found.weight.getResult(), weightPart.getResult());
    Operation *partProduct = builder.clone(*found.product, mapping);
    partProduct->getResult(0).setType(withLastDimOf(found.product->getResult(0), end - begin));
    Value part = partProduct->getResult(0);
    if (found.biasAdd) {
      auto biasPart = dist::ParamOp::create(builder, found.bias.getLoc(), found.bias.getType().clone({end - begin}),
                                            found.bias.getNameAttr(), dist::LayoutAttr(), UnitAttr(),
                                            DenseI64ArrayAttr::get(context, {begin}), dist::PartsAttr());
      IRMapping addMapping;
      addMapping.map(found.product->getResult(0), part);
      addMapping.map(found.bias.getResult(), biasPart.getResult());
      Operation *partAdd = builder.clone(*found.biasAdd, addMapping);
      partAdd->getResult(0).setType(withLastDimOf(found.biasAdd->getResult(0), end - begin));
      part = partAdd->getResult(0);
    }
    for (Value result : results)
      result.replaceAllUsesWith(part);
  }
  SmallVector<Operation *> slices(found.packed.getUsers().begin(), found.packed.getUsers().end());
  for (Operation *slice : slices)
    slice->erase();
  if (found.biasAdd)
    found.biasAdd->erase();
  found.product->erase();
  for (dist::ParamOp param : {found.weight, found.bias})
    if (param && param->use_empty())
      param->erase();
}

struct DistSplitPackedProjectionsPass
    : dinfer::impl::DistSplitPackedProjectionsBase<DistSplitPackedProjectionsPass> {
  void runOnOperation() override {
    SmallVector<PackedProjection> found;
    getOperation().walk([&](Operation *op) {
      if (llvm::isa<nn::MatMulOp, nn::BatchMatMulOp>(op))
        if (std::optional<PackedProjection> projection = analyze(op))
          found.push_back(std::move(*projection));
    });
    // A parameter is read as parts only where every use reads the same
    // parts (exporters share one initializer among equal layers): the
    // tensor has one layout.
    llvm::DenseMap<Operation *, SmallVector<const PackedProjection *>> readers;
    for (PackedProjection &projection : found) {
      readers[projection.weight].push_back(&projection);
      if (projection.bias)
        readers[projection.bias].push_back(&projection);
    }
    auto sameParts = [](const PackedProjection *a, const PackedProjection *b) {
      return llvm::equal(llvm::make_first_range(a->parts), llvm::make_first_range(b->parts));
    };
    auto readAlike = [&](dist::ParamOp param) {
      if (!param)
        return true;
      const auto &list = readers[param];
      size_t uses = std::distance(param->getUses().begin(), param->getUses().end());
      return uses == list.size() && llvm::all_of(list, [&](const PackedProjection *p) { return sameParts(p, list.front()); });
    };
    SmallVector<PackedProjection *> accepted;
    for (PackedProjection &projection : found)
      if (readAlike(projection.weight) && readAlike(projection.bias))
        accepted.push_back(&projection);
    for (PackedProjection *projection : accepted)
      rewrite(*projection);
  }
};

} // namespace
