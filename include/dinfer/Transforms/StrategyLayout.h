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
#include "dinfer/Layout/Layout.h"

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
  /// Replicas on the last device axis (dist.replicas_last), not the first.
  bool replicasLast = false;
};

/// Reads `strategy` through the op's
/// sharding rule; errors at the op for splits the rule does not allow. A
/// dimension made of several factors takes its split on the major one.
mlir::FailureOr<FactorSplits> factorSplits(mlir::Operation *op, dist::StrategyAttr strategy);

/// The strategy attribute `splits` stands for: per operand dimension, the
/// product of its factors' splits.
dist::StrategyAttr strategyAttr(mlir::MLIRContext *context, const FactorSplits &splits);

/// A device matrix and the device axes (counted from the right, major first)
/// each factor of an op's rule is split over.
struct FactorPlacement {
  llvm::SmallVector<int64_t, 4> devMatrix;
  llvm::SmallVector<DimAxes> factorAxes;
};

/// The op's device matrix for `splits`: a leading replica axis when the op
/// uses fewer than `stageDevices` (a trailing one with replicasLast), then
/// the split factors in device order, standardized (axes of 1 removed; `[1]`
/// when nothing is split).
FactorPlacement placeFactors(const FactorSplits &splits, int64_t stageDevices);

/// Where --dist-propagate places an op's activations: as placeFactors, but an
/// op that splits no parameter dimension puts its replica axis last, so that
/// its split dimensions (a norm's or a residual add's batch) take the leading
/// axes, where the products around it (whose split features take the last)
/// put theirs. Parameter layouts keep MindSpore's order (placeFactors).
FactorPlacement placeActivationFactors(const FactorSplits &splits, int64_t stageDevices);

/// Drops the splits a layout cannot express: a dimension made of several
/// factors is a block split only when every factor before its first
/// partially split one is split into pieces of one element and every factor
/// after it is whole (a reshape's [a, b] with only b split is not). The
/// dropped factors stay whole; the op gathers them instead.
void keepBlockSplits(FactorPlacement &placement, const dist::ShardingRule &rule);

/// The layout of a value whose dimensions are made of `dims` factors.
TensorLayout layoutOver(const FactorPlacement &placement, llvm::ArrayRef<llvm::SmallVector<int64_t, 1>> dims);

/// The device axes over which the op's result is a pending sum: those of
/// its split reduction factors, ascending.
llvm::SmallVector<int64_t> pendingSumAxes(const FactorPlacement &placement, const dist::ShardingRule &rule);

/// The layout of operand `index` over the op's device matrix.
TensorLayout operandLayout(const FactorSplits &splits, unsigned index, int64_t stageDevices);

/// The layout --dist-propagate gave `value` (an argument's attribute, an
/// annotate's, a parameter's or its producer's `dist.layout`); null if none.
dist::LayoutAttr propagatedLayout(mlir::Value value);

} // namespace dinfer

#endif // DINFER_TRANSFORMS_STRATEGYLAYOUT_H
