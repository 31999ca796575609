//===- PredictLayout.h - what `layout` and `export` share -------*- C++ -*-===//
//
// The predict inputs given on the command line and training's device counts
// read from its strategy file.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TOOLS_DINFER_PREDICTLAYOUT_H
#define DINFER_TOOLS_DINFER_PREDICTLAYOUT_H

#include "dinfer/Formats/DType.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Transforms/PredictStrategy.h"

#include "ModelImport.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dinfer::cli {

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
};
/// Fills `setup` and returns 0, or reports a usage error or a failure for
/// `command` and returns its exit code.
int preparePrediction(const llvm::cl::SubCommand &command, llvm::StringRef modelPath, llvm::StringRef trainStrategy,
                      llvm::ArrayRef<std::string> inputSpecs, int64_t deviceNum, int64_t pipelineStages,
                      mlir::MLIRContext &context, const DiagnosticCollector &diagnostics, PredictSetup &setup);

} // namespace dinfer::cli

#endif // DINFER_TOOLS_DINFER_PREDICTLAYOUT_H
