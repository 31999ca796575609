//===- Interpreter.h - run an nn-dialect program on the host CPU ----------===//
//
// Executes func.func @main of an nn-dialect module op by op on host buffers:
// the single-device reference the partitioned programs are checked against.
// Float32 matrix products go to OpenBLAS; every other kernel is portable C++
// over the element types the nn ops accept. A buffer is freed after its last
// use.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_RUNTIME_INTERPRETER_H
#define DINFER_RUNTIME_INTERPRETER_H

#include "dinfer/Runtime/Buffer.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

namespace dinfer {

/// The data of the dist.param named `name`.
using WeightSource = llvm::function_ref<llvm::Expected<Buffer>(llvm::StringRef name)>;

/// Runs the module's entry function on `inputs` (one per argument, in order).
/// Errors name the op and its location.
llvm::Expected<std::vector<Buffer>> runProgram(mlir::ModuleOp module, std::vector<Buffer> inputs,
                                               WeightSource weights);

/// The dtype of an MLIR tensor element type, if the runtime handles it.
std::optional<DType> runtimeDType(mlir::Type elementType);

} // namespace dinfer

#endif // DINFER_RUNTIME_INTERPRETER_H
