//===- PredictStrategy.h - predict layouts read off a program ---*- C++ -*-===//
//
// Every parameter's predict layout, read off a program the strategy passes
// have run on, and the predict strategy file they make: what `dinfer layout`
// prints, `dinfer export` and --dist-materialize-params plan from.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TRANSFORMS_PREDICTSTRATEGY_H
#define DINFER_TRANSFORMS_PREDICTSTRATEGY_H

#include "dinfer/Formats/Strategy.h"
#include "dinfer/Layout/Layout.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace dinfer {

/// A parameter's predict layout.
struct PredictParam {
  std::string name;
  TensorLayout layout;
  llvm::SmallVector<int64_t, 4> fullShape, sliceShape;
  /// The stages that read it, ascending (several: pipeline-shared).
  llvm::SmallVector<int64_t, 2> stages;
  std::string rule;
};

/// Every parameter of `module` (after --dist-infer-predict-layout and
/// --dist-pipeline-split, partitioned or not), once per name in program
/// order; parameters without a layout are replicated over `stageDevices`.
std::vector<PredictParam> predictParams(mlir::ModuleOp module, int64_t stageDevices);

/// The predict strategy file of `params`: with several stages, one layout
/// item "<stage>-<name>" per stage that reads a parameter (a merged file).
StrategyFile predictStrategy(const std::vector<PredictParam> &params, int64_t stages);

} // namespace dinfer

#endif // DINFER_TRANSFORMS_PREDICTSTRATEGY_H
