//===- ImportONNX.h - ONNX models into the nn dialect ---------------------===//
//
// Builds one func.func @main whose arguments are the graph's inputs and whose
// body is nn ops. Initializers become dist.param references (their bytes stay
// in the model); Constant nodes become arith.constant, as a resource blob when
// large. Shape operands (Reshape's shape, Slice's starts, axes) must be
// constants, or computable from constants through `evaluateConstant`. An op or attribute the nn dialect cannot express is an error
// naming the node and op type.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TRANSLATE_IMPORTONNX_H
#define DINFER_TRANSLATE_IMPORTONNX_H

#include "dinfer/Formats/Npy.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dinfer {

class OnnxModel;

struct OnnxImportOptions {
  /// Static shapes for inputs with dynamic dimensions.
  llvm::StringMap<llvm::SmallVector<int64_t, 4>> inputShapes;
  /// The option that gives them, named when one is missing.
  std::string inputShapeFlag = "--input-shape";
  /// Values of graph inputs, as serialized onnx.TensorProto bytes (an ONNX
  /// test's input_N.pb). An input the program needs as a constant (a shape
  /// operand such as Reshape's shape or Slice's starts) takes its value from
  /// here; it stays an argument of @main.
  llvm::StringMap<std::string> inputValues;
  /// Constants with more elements than this become resource blobs.
  int64_t maxInlineConstantElements = 1024;
  /// Computes a value from the constants it depends on, where a node needs
  /// it constant (masks, shape arithmetic past what the importer folds
  /// itself). dinfer's tools pass the runtime's evaluateConstantArray; left
  /// empty, such values must be constants, initializers or --input-value.
  std::function<llvm::Expected<std::optional<NpyArray>>(mlir::Value)> evaluateConstant;
};

/// Imports `model`; on failure, diagnostics go to `context` and the result is
/// null.
mlir::OwningOpRef<mlir::ModuleOp> importOnnx(const OnnxModel &model, mlir::MLIRContext *context,
                                             const OnnxImportOptions &options = {});

/// The ONNX op types the importer converts, sorted (read from its converter
/// table, so the list cannot disagree with what it takes).
std::vector<llvm::StringRef> supportedOnnxOps();

} // namespace dinfer

#endif // DINFER_TRANSLATE_IMPORTONNX_H
