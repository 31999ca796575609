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

#include <optional>
#include <string>
#include <vector>

namespace dinfer {

/// A parameter's predict layout.
struct PredictParam {
  std::string name;
  TensorLayout layout; ///< With `parts`, the first part's.
  /// Laid out part by part (a packed projection split per head).
  std::optional<PartsLayout> parts;
  llvm::SmallVector<int64_t, 4> fullShape, sliceShape;
  /// The stages that read it, ascending (several: pipeline-shared).
  llvm::SmallVector<int64_t, 2> stages;
  std::string rule;
};

/// Every parameter of `module` (after --dist-infer-predict-layout and
/// --dist-pipeline-split, partitioned or not), once per name in program
/// order; parameters without a layout are replicated over `stageDevices`.
std::vector<PredictParam> predictParams(mlir::ModuleOp module, int64_t stageDevices);

/// One part of a packed parameter as a program reads it.
struct ParamPart {
  llvm::SmallVector<int64_t, 4> offset, shape;
  TensorLayout layout;
};

/// The parts of one parameter as one layout.
struct PackedLayout {
  TensorLayout layout;              ///< The first part's, or the whole's.
  std::optional<PartsLayout> parts; ///< None when every part is laid out alike, unsplit along the parts.
  llvm::SmallVector<int64_t, 4> fullShape;
};
/// Fails (naming `name`) unless the parts tile the tensor along one
/// dimension; the same part read twice counts once.
llvm::Expected<PackedLayout> packParts(llvm::StringRef name, std::vector<ParamPart> parts);

/// The predict strategy file of `params`: with several stages, one layout
/// item "<stage>-<name>" per stage that reads a parameter (a merged file).
StrategyFile predictStrategy(const std::vector<PredictParam> &params, int64_t stages);

} // namespace dinfer

#endif // DINFER_TRANSFORMS_PREDICTSTRATEGY_H
