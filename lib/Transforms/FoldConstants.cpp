//===- FoldConstants.cpp - ops on constants -> the constants they compute ---===//

#include "dinfer/Transforms/Passes.h"

#include "dinfer/Runtime/ConstantEvaluation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

namespace dinfer {
#define GEN_PASS_DEF_NNFOLDCONSTANTS
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

struct FoldConstantsPass : dinfer::impl::NNFoldConstantsBase<FoldConstantsPass> {
  using NNFoldConstantsBase::NNFoldConstantsBase;

  void runOnOperation() override {
    // Ops in program order: an op is visited after the producers it reads,
    // so a chain of them folds in one walk.
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "nn" && op->getNumOperands() > 0)
        candidates.push_back(op);
    });
    OpBuilder builder(&getContext());
    for (Operation *op : candidates) {
      if (!llvm::all_of(op->getOperands(), [](Value v) { return matchPattern(v, m_Constant()); }))
        continue;
      SmallVector<Value> folded;
      for (Value result : op->getResults()) {
        auto data = evaluateConstant(result, maxElements);
        if (!data) {
          op->emitError() << "cannot be folded: " << llvm::toString(data.takeError());
          return signalPassFailure();
        }
        if (!*data)
          break;
        auto type = llvm::cast<RankedTensorType>(result.getType());
        builder.setInsertionPoint(op);
        folded.push_back(arith::ConstantOp::create(builder, op->getLoc(), toElementsAttr(**data, type)));
      }
      if (folded.size() != op->getNumResults()) {
        for (Value v : folded)
          v.getDefiningOp()->erase();
        continue;
      }
      op->replaceAllUsesWith(folded);
      op->erase();
    }
  }
};

} // namespace
