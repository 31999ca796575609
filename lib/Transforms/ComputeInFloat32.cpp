//===- ComputeInFloat32.cpp - half-precision programs computed in float32 -===//

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace dinfer {
#define GEN_PASS_DEF_NNCOMPUTEINFLOAT32
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

bool isHalf(Type element) { return element.isF16() || element.isBF16(); }

/// `type` with float32 elements where it is a tensor of half-precision ones
/// (nn values are ranked tensors; anything else is left alone).
Type widened(Type type) {
  auto tensor = llvm::dyn_cast<RankedTensorType>(type);
  if (tensor && isHalf(tensor.getElementType()))
    return tensor.clone(Float32Type::get(type.getContext()));
  return type;
}

bool holdsHalf(Type type) { return widened(type) != type; }

/// `value` cast to float32 right after it is defined, every other use
/// reading the cast.
void castAfterDefinition(OpBuilder &builder, Value value) {
  auto cast = nn::CastOp::create(builder, value.getLoc(), value, TypeAttr::get(builder.getF32Type()));
  value.replaceAllUsesExcept(cast.getResult(), cast);
}

/// A half-precision dense constant as float32: every value converts exactly.
Attribute widenedConstant(DenseElementsAttr dense) {
  auto type = llvm::cast<ShapedType>(widened(dense.getType()));
  if (dense.isSplat())
    return DenseElementsAttr::get(type, static_cast<float>(dense.getSplatValue<APFloat>().convertToDouble()));
  SmallVector<float> values;
  values.reserve(dense.getNumElements());
  for (const APFloat &value : dense.getValues<APFloat>())
    values.push_back(static_cast<float>(value.convertToDouble()));
  return DenseElementsAttr::get(type, llvm::ArrayRef(values));
}

struct ComputeInFloat32 : public dinfer::impl::NNComputeInFloat32Base<ComputeInFloat32> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    OpBuilder builder(&getContext());
    Type f32 = builder.getF32Type();

    // Arguments and weights stay as they are read; one cast each widens them.
    Block &entry = function.getBody().front();
    builder.setInsertionPointToStart(&entry);
    for (BlockArgument argument : entry.getArguments())
      if (holdsHalf(argument.getType()))
        castAfterDefinition(builder, argument);

    function.walk([&](Operation *op) {
      if (auto param = llvm::dyn_cast<dist::ParamOp>(op)) {
        if (holdsHalf(param.getType())) {
          builder.setInsertionPointAfter(param);
          castAfterDefinition(builder, param.getResult());
        }
        return;
      }
      if (auto constant = llvm::dyn_cast<arith::ConstantOp>(op)) {
        if (!holdsHalf(constant.getType()))
          return;
        // A large constant the importers keep as a resource blob stays half
        // precision, cast once like a weight (the runtime keeps that cast).
        auto dense = llvm::dyn_cast<DenseElementsAttr>(constant.getValue());
        if (!dense) {
          builder.setInsertionPointAfter(constant);
          castAfterDefinition(builder, constant.getResult());
          return;
        }
        constant.setValueAttr(llvm::cast<TypedAttr>(widenedConstant(dense)));
        constant.getResult().setType(widened(constant.getType()));
        return;
      }
      if (llvm::isa<func::ReturnOp>(op))
        return;
      if (auto cast = llvm::dyn_cast<nn::CastOp>(op)) {
        // A cast the exporter wrote to or from half precision: one to it
        // now gives float32, and one that no longer converts anything goes.
        if (isHalf(cast.getDtype())) {
          cast.setDtype(f32);
          cast.getResult().setType(llvm::cast<RankedTensorType>(widened(cast.getType())));
        }
        if (cast.getX().getType() == cast.getType()) {
          cast.getResult().replaceAllUsesWith(cast.getX());
          cast.erase();
        }
        return;
      }
      for (OpResult result : op->getResults())
        if (holdsHalf(result.getType()))
          result.setType(widened(result.getType()));
    });

    // Results go back to the precision the signature gives them.
    function.walk([&](func::ReturnOp ret) {
      builder.setInsertionPoint(ret);
      for (auto [index, operand] : llvm::enumerate(ret.getOperands())) {
        Type declared = function.getResultTypes()[index];
        if (operand.getType() == declared || !holdsHalf(declared))
          continue;
        auto element = llvm::cast<RankedTensorType>(declared).getElementType();
        ret.setOperand(index, nn::CastOp::create(builder, ret.getLoc(), operand, TypeAttr::get(element)).getResult());
      }
    });
  }
};

} // namespace
