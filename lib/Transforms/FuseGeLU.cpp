//===- FuseGeLU.cpp - GeLU spelled out in elementwise ops -> nn.gelu -------===//

#include "dinfer/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace dinfer {
#define GEN_PASS_DEF_NNFUSEGELU
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

/// Whether `value` is a floating-point splat constant equal to `expected`.
bool isSplat(Value value, double expected) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.isSplat() || !llvm::isa<FloatType>(attr.getElementType()))
    return false;
  double actual = attr.getSplatValue<APFloat>().convertToDouble();
  return std::abs(actual - expected) <= 1e-6 * std::abs(expected);
}

/// The operand of a single-use op of type OpT defining `value`.
template <typename OpT>
OpT definedBy(Value value) {
  auto op = value.getDefiningOp<OpT>();
  return op && op->hasOneUse() ? op : OpT();
}

/// The factors of a product tree whose inner products have one user: up to
/// `limit` of them, in no particular order.
void collectFactors(Value value, SmallVectorImpl<Value> &factors, bool root, size_t limit) {
  if (factors.size() > limit)
    return;
  auto mul = value.getDefiningOp<nn::MulOp>();
  if (mul && (root || mul->hasOneUse())) {
    collectFactors(mul.getX(), factors, false, limit);
    collectFactors(mul.getY(), factors, false, limit);
    return;
  }
  factors.push_back(value);
}

/// For `sum = a + b` with one side the splat `constant`: the other side.
Value otherSummand(nn::AddOp sum, double constant) {
  if (!sum)
    return {};
  if (isSplat(sum.getY(), constant))
    return sum.getX();
  if (isSplat(sum.getX(), constant))
    return sum.getY();
  return {};
}

/// x, when `value` is x / sqrt(2) or x * (1 / sqrt(2)).
Value scaledBySqrtHalf(Value value) {
  if (auto div = definedBy<nn::DivOp>(value); div && isSplat(div.getY(), std::sqrt(2.0)))
    return div.getX();
  if (auto mul = definedBy<nn::MulOp>(value)) {
    if (isSplat(mul.getY(), std::sqrt(0.5)))
      return mul.getX();
    if (isSplat(mul.getX(), std::sqrt(0.5)))
      return mul.getY();
  }
  return {};
}

/// x, when `value` is sqrt(2/pi) * (x + 0.044715 * x^3) in any operand
/// order, x^3 written as pow(x, 3) or x * x * x.
Value tanhArgument(Value value) {
  SmallVector<Value, 4> outer;
  collectFactors(value, outer, /*root=*/false, 2);
  if (outer.size() != 2)
    return {};
  for (int scaleIndex : {0, 1}) {
    if (!isSplat(outer[scaleIndex], std::sqrt(2.0 / M_PI)))
      continue;
    auto sum = definedBy<nn::AddOp>(outer[1 - scaleIndex]);
    if (!sum)
      return {};
    for (auto [x, cubic] : {std::pair(sum.getX(), sum.getY()), std::pair(sum.getY(), sum.getX())}) {
      SmallVector<Value, 4> terms;
      collectFactors(cubic, terms, /*root=*/false, 4);
      if (!definedBy<nn::MulOp>(cubic))
        continue;
      // 0.044715 * pow(x, 3), or 0.044715 * x * x * x.
      size_t coefficients = llvm::count_if(terms, [](Value t) { return isSplat(t, 0.044715); });
      if (coefficients != 1)
        continue;
      SmallVector<Value, 3> rest;
      for (Value t : terms)
        if (!isSplat(t, 0.044715))
          rest.push_back(t);
      if (rest.size() == 1) {
        auto pow = definedBy<nn::PowOp>(rest[0]);
        if (pow && pow.getX() == x && isSplat(pow.getY(), 3.0))
          return x;
      } else if (rest.size() == 3 && llvm::all_of(rest, [&](Value t) { return t == x; })) {
        return x;
      }
    }
  }
  return {};
}

/// 0.5 * x * (1 + erf(x / sqrt(2))) and 0.5 * x * (1 + tanh(...)), the
/// three factors associated either way.
struct FuseGeLUPattern : OpRewritePattern<nn::MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::MulOp root, PatternRewriter &rewriter) const override {
    SmallVector<Value, 4> factors;
    collectFactors(root.getResult(), factors, /*root=*/true, 3);
    if (factors.size() != 3)
      return rewriter.notifyMatchFailure(root, "not a product of three factors");
    auto half = llvm::find_if(factors, [](Value f) { return isSplat(f, 0.5); });
    if (half == factors.end())
      return rewriter.notifyMatchFailure(root, "no factor 0.5");
    factors.erase(half);
    for (int onePlusIndex : {0, 1}) {
      Value x = factors[1 - onePlusIndex];
      Value inner = otherSummand(definedBy<nn::AddOp>(factors[onePlusIndex]), 1.0);
      if (!inner)
        continue;
      StringRef approximate;
      if (auto erf = definedBy<nn::ErfOp>(inner); erf && scaledBySqrtHalf(erf.getX()) == x)
        approximate = "none";
      else if (auto tanh = definedBy<nn::TanhOp>(inner); tanh && tanhArgument(tanh.getX()) == x)
        approximate = "tanh";
      else
        continue;
      if (x.getType() != root.getType())
        return rewriter.notifyMatchFailure(root, "the product broadcasts");
      rewriter.replaceOpWithNewOp<nn::GeLUOp>(root, x, rewriter.getStringAttr(approximate));
      return success();
    }
    return rewriter.notifyMatchFailure(root, "no factor 1 + erf(x / sqrt(2)) or 1 + tanh(...)");
  }
};

struct NNFuseGeLUPass : dinfer::impl::NNFuseGeLUBase<NNFuseGeLUPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseGeLUPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
