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

/// Rewrites one product if it is a packed projection; returns whether it did.
bool splitProjection(Operation *product) {
  bool transposeB = product->getAttrOfType<BoolAttr>("transpose_b") &&
                    product->getAttrOfType<BoolAttr>("transpose_b").getValue();
  dist::ParamOp weight = plainParam(product->getOperand(1), 2);
  if (!weight || plainParam(product->getOperand(0), 2))
    return false;
  auto productType = llvm::dyn_cast<RankedTensorType>(product->getResult(0).getType());
  if (!productType || !productType.hasStaticShape())
    return false;
  int64_t outDim = transposeB ? 0 : 1;
  int64_t features = weight.getType().getDimSize(outDim);
  if (productType.getDimSize(productType.getRank() - 1) != features)
    return false;

  // The bias add right after it, if any.
  Value packed = product->getResult(0);
  Operation *biasAdd = nullptr;
  dist::ParamOp bias;
  if (packed.hasOneUse() && llvm::isa<nn::AddOp, nn::BiasAddOp>(*packed.getUsers().begin())) {
    Operation *add = *packed.getUsers().begin();
    for (Value operand : add->getOperands())
      if (operand != packed)
        bias = plainParam(operand, 1);
    if (bias && bias.getType().getDimSize(0) == features && add->getResult(0).getType() == productType) {
      biasAdd = add;
      packed = add->getResult(0);
    } else {
      bias = {};
    }
  }

  // Every user a slice of the features; together they tile them.
  std::map<std::pair<int64_t, int64_t>, SmallVector<Value, 2>> parts;
  for (Operation *user : packed.getUsers()) {
    auto ranges = featureRanges(user, productType);
    if (!ranges)
      return false;
    for (auto [range, result] : llvm::zip_equal(*ranges, user->getResults()))
      parts[range].push_back(result);
  }
  if (parts.size() < 2)
    return false;
  int64_t covered = 0;
  for (const auto &[range, results] : parts) {
    if (range.first != covered)
      return false; // overlapping or leaving a gap
    covered = range.second;
  }
  if (covered != features)
    return false;

  OpBuilder builder(product);
  MLIRContext *context = product->getContext();
  for (const auto &[range, results] : parts) {
    auto [begin, end] = range;
    SmallVector<int64_t> weightShape(weight.getType().getShape()), weightOffset(2, 0);
    weightShape[outDim] = end - begin;
    weightOffset[outDim] = begin;
    auto weightPart = dist::ParamOp::create(builder, weight.getLoc(), weight.getType().clone(weightShape),
                                                    weight.getNameAttr(), dist::LayoutAttr(), UnitAttr(),
                                                    DenseI64ArrayAttr::get(context, weightOffset), dist::PartsAttr());
    IRMapping mapping;
    mapping.map(weight.getResult(), weightPart.getResult());
    Operation *partProduct = builder.clone(*product, mapping);
    partProduct->getResult(0).setType(withLastDim(productType, end - begin));
    Value part = partProduct->getResult(0);
    if (biasAdd) {
      auto biasPart = dist::ParamOp::create(builder, bias.getLoc(), bias.getType().clone({end - begin}),
                                                    bias.getNameAttr(), dist::LayoutAttr(), UnitAttr(),
                                                    DenseI64ArrayAttr::get(context, {begin}), dist::PartsAttr());
      IRMapping addMapping;
      addMapping.map(product->getResult(0), part);
      addMapping.map(bias.getResult(), biasPart.getResult());
      Operation *partAdd = builder.clone(*biasAdd, addMapping);
      partAdd->getResult(0).setType(withLastDim(productType, end - begin));
      part = partAdd->getResult(0);
    }
    for (Value result : results)
      result.replaceAllUsesWith(part);
  }
  SmallVector<Operation *> slices(packed.getUsers().begin(), packed.getUsers().end());
  for (Operation *slice : slices)
    slice->erase();
  if (biasAdd)
    biasAdd->erase();
  product->erase();
  for (dist::ParamOp param : {weight, bias})
    if (param && param->use_empty())
      param->erase();
  return true;
}

struct DistSplitPackedProjectionsPass
    : dinfer::impl::DistSplitPackedProjectionsBase<DistSplitPackedProjectionsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> products;
    getOperation().walk([&](Operation *op) {
      if (llvm::isa<nn::MatMulOp, nn::BatchMatMulOp>(op))
        products.push_back(op);
    });
    for (Operation *product : products)
      splitProjection(product);
  }
};

} // namespace
