//===- FoldTransposes.cpp - last-two-dims transposes into matrix products --===//

#include "dinfer/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dinfer {
#define GEN_PASS_DEF_NNFOLDTRANSPOSES
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

/// The input of a transpose that swaps the last two dimensions of `value`
/// and leaves the others in place; null otherwise.
Value swappedLastTwo(Value value) {
  auto transpose = value.getDefiningOp<nn::TransposeOp>();
  if (!transpose)
    return {};
  ArrayRef<int64_t> perm = transpose.getPerm();
  int64_t rank = static_cast<int64_t>(perm.size());
  if (rank < 2)
    return {};
  for (int64_t d = 0; d < rank - 2; ++d)
    if (perm[d] != d)
      return {};
  return perm[rank - 2] == rank - 1 && perm[rank - 1] == rank - 2 ? transpose.getX() : Value();
}

template <typename ProductOp>
struct FoldIntoProduct : OpRewritePattern<ProductOp> {
  using OpRewritePattern<ProductOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(ProductOp product, PatternRewriter &rewriter) const override {
    // Operands 0 and 1 of both products are the two matrices.
    Value x = swappedLastTwo(product->getOperand(0)), y = swappedLastTwo(product->getOperand(1));
    // nn.matmul takes matrices only; a batched product broadcasts batches,
    // which a transpose of the last two dimensions leaves as they are.
    if (!x && !y)
      return rewriter.notifyMatchFailure(product, "no operand is a transpose of its last two dimensions");
    rewriter.modifyOpInPlace(product, [&] {
      if (x) {
        product->setOperand(0, x);
        product.setTransposeA(!product.getTransposeA());
      }
      if (y) {
        product->setOperand(1, y);
        product.setTransposeB(!product.getTransposeB());
      }
    });
    return success();
  }
};

struct NNFoldTransposesPass : dinfer::impl::NNFoldTransposesBase<NNFoldTransposesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoProduct<nn::BatchMatMulOp>, FoldIntoProduct<nn::MatMulOp>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
