//===- ModelImport.h - an ONNX or MindIR file as an nn-dialect module ---*- C++ -*-===//
//
// Where every job on a model starts: detect the model's format,
// import it (ONNX with given input shapes and shape-operand values), verify,
// and keep the model file's data alive for the weights the module names.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_MODELIMPORT_H
#define DINFER_PIPELINE_MODELIMPORT_H

#include "dinfer/Formats/MindIR.h"
#include "dinfer/Runtime/Buffer.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Translate/ImportONNX.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <optional>
#include <string>

namespace dinfer {

struct ImportedModel {
  std::optional<OnnxModel> onnx;
  std::optional<MindIRModel> mindir;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

/// Collects the error diagnostics of a context as one line ("node: message;
/// ..."), for messages that name the file and the op.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &context);
  ~DiagnosticCollector();
  /// The errors so far, or `fallback` when there were none.
  std::string text(llvm::StringRef fallback) const {
    if (errors_.empty())
      return fallback.str();
    return errorCount_ > kShownErrors ? errors_ + "; and " + std::to_string(errorCount_ - kShownErrors) + " more"
                                      : errors_;
  }

private:
  static constexpr int kShownErrors = 4;
  mlir::MLIRContext &context_;
  std::string errors_;
  int errorCount_ = 0;
  uint64_t id_;
};

/// An initializer of `model` as the runtime reads it: a view of its bytes
/// where they lie (inside the loaded model or mapped from external data).
llvm::Expected<Buffer> viewOnnxWeight(const OnnxModel &model, const onnx::TensorProto &tensor);

/// Imports `path` (ONNX or MindIR) into a verified nn-dialect module. For
/// ONNX, `shapes` gives input shapes (a dynamic dimension takes the given
/// extent) and `values` serialized onnx.TensorProto data folded where the
/// program needs an input as a constant. With `checkShapes`, an input whose
/// imported shape differs from the given one is an error naming it (MindIR
/// shapes, and static ONNX ones, are the model's).
llvm::Expected<std::unique_ptr<ImportedModel>>
importModel(llvm::StringRef path, mlir::MLIRContext &context, const DiagnosticCollector &diagnostics,
            const std::map<std::string, llvm::SmallVector<int64_t, 4>> &shapes,
            const std::map<std::string, std::string> &values, bool checkShapes);

} // namespace dinfer

#endif // DINFER_PIPELINE_MODELIMPORT_H
