//===- Prediction.h - a model, its predict inputs and training's devices -*- C++ -*-===//
//
// Where `dinfer layout`, `dinfer export` and their Python calls start: the
// predict inputs' shapes (NAME=SHAPE[:DTYPE], docs/contracts.md section 0),
// training's device and stage counts read from its strategy file, and the
// model imported with the predict shapes.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_PREDICTION_H
#define DINFER_PIPELINE_PREDICTION_H

#include "dinfer/Layout/DType.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/PredictStrategy.h"

#include "dinfer/Pipeline/ModelImport.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dinfer {

/// --input NAME=SHAPE[:DTYPE]: a predict input's full shape and type.
struct InputSpec {
  llvm::SmallVector<int64_t, 4> shape;
  std::optional<DType> dtype;
};
llvm::Expected<std::map<std::string, InputSpec>> parseInputSpecs(llvm::ArrayRef<std::string> specs);

/// Checks that every input of the model's entry is given, with the dtype the
/// model takes; the message says what to pass.
llvm::Error checkInputSpecs(mlir::ModuleOp module, const std::map<std::string, InputSpec> &inputs);

/// Training's device count and stage count from its strategy file: the
/// largest layout device matrix times the stages.
std::pair<int64_t, int64_t> trainingDevices(const StrategyFile &strategy);

/// Where `dinfer layout` and `dinfer export` start: the training strategy,
/// the device and stage counts (training's unless given), and the model
/// imported with the predict input shapes and checked against them.
struct PredictSetup {
  StrategyFile strategy;
  int64_t trainDevices = 1, trainStages = 1, devices = 1, stages = 1;
  std::unique_ptr<ImportedModel> model;
  mlir::ModuleOp module() const { return *model->module; }
  /// The passes that lay the module out for the predict devices and stages
  /// from `trainStrategy`; `partition` goes on to one function per rank.
  StrategyPipelineOptions strategyPipeline(llvm::StringRef trainStrategy, bool partition) const;
  /// What `dinfer export` runs before binding weights, and what its report
  /// describes: constants folded, GeLU fused, then the strategy pipeline down
  /// to one function per rank.
  void addPartitionPasses(mlir::PassManager &passes, llvm::StringRef trainStrategy) const;
};
/// What a prediction starts from; device and stage counts of 0 mean training's.
struct PredictionRequest {
  std::string model, trainStrategy;
  std::vector<std::string> inputSpecs; ///< NAME=SHAPE[:DTYPE]
  int64_t deviceNum = 0, pipelineStages = 0;
};
/// The setup of `request`; a UsageError when the request itself is wrong
/// (a malformed or missing input shape, devices the stages do not divide).
llvm::Expected<PredictSetup> preparePrediction(const PredictionRequest &request, mlir::MLIRContext &context,
                                               const DiagnosticCollector &diagnostics);

} // namespace dinfer

#endif // DINFER_PIPELINE_PREDICTION_H
