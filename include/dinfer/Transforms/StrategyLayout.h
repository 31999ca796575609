//===- StrategyLayout.h - op strategies and the layouts they imply --------===//
//
// An op strategy (MindSpore's split numbers per operand dimension) read
// through the op's sharding rule: the split of every factor, which factors
// split parameter dimensions, MindSpore's device-matrix order, and the
// standardized layout each operand gets from it. Shared by the passes that
// read, adapt and author strategies.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TRANSFORMS_STRATEGYLAYOUT_H
#define DINFER_TRANSFORMS_STRATEGYLAYOUT_H

#include "dialects/dist/DistDialect.h"
#include "dinfer/Reshard/Layout.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

namespace dinfer {

struct FactorSplits {
  dist::ShardingRule rule;
  llvm::SmallVector<int64_t> split;      ///< per factor
  llvm::SmallVector<bool> modelParallel; ///< per factor: it splits a parameter dimension
  /// Factors, outermost first, in MindSpore's device-matrix order: a matrix
  /// product's first operand's dimensions then its output features; any
  /// other op's output dimensions, then factors only its operands have.
  llvm::SmallVector<int64_t> deviceOrder;
};

/// Reads `strategy` (one DenseI64ArrayAttr per operand) through the op's
/// sharding rule; errors at the op for splits the rule does not allow. A
/// dimension made of several factors takes its split on the major one.
mlir::FailureOr<FactorSplits> factorSplits(mlir::Operation *op, mlir::ArrayAttr strategy);

/// The strategy attribute `splits` stands for: per operand dimension, the
/// product of its factors' splits.
mlir::ArrayAttr strategyAttr(mlir::MLIRContext *context, const FactorSplits &splits);

/// The layout of operand `index`: the op's device matrix (a leading replica
/// axis when the op uses fewer than `stageDevices`, then the factors' splits
/// in device order), standardized (axes of 1 removed), and the operand's
/// tensor map over it.
TensorLayout operandLayout(const FactorSplits &splits, unsigned index, int64_t stageDevices);

} // namespace dinfer

#endif // DINFER_TRANSFORMS_STRATEGYLAYOUT_H
