//===- PipelineStages.h - cutting a program into pipeline stages -*- C++ -*-===//
//
// The stage assignment --dist-pipeline-split and `dinfer strategy
// --pipeline-stages` share: a cost per op and a cut of the program, in
// order, into stages of balanced cost.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TRANSFORMS_PIPELINESTAGES_H
#define DINFER_TRANSFORMS_PIPELINESTAGES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdint>

namespace dinfer {

/// Whether `op` is read where it is used rather than computed in a stage: a
/// parameter or a constant (any op without operands), or the terminator.
bool isStagelessOp(mlir::Operation *op);

/// The work of `op`: the product of its sharding rule's factor sizes (the
/// multiply-adds of a product or a convolution, the elements of an
/// elementwise op), or the elements it writes when it has no rule.
int64_t estimatedCost(mlir::Operation *op);

/// Cuts the ops of `function` that are not stageless, in program order, into
/// `stages` consecutive runs whose largest cost is as small as possible, and
/// sets their `dist.stage`. Fails, at the function, when it has fewer such
/// ops than stages.
mlir::LogicalResult assignStagesByCost(mlir::func::FuncOp function, int64_t stages);

} // namespace dinfer

#endif // DINFER_TRANSFORMS_PIPELINESTAGES_H
