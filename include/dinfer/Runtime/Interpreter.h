//===- Interpreter.h - run an nn-dialect program on the host CPU ----------===//
//
// Executes func.func @main of an nn-dialect module op by op on host buffers:
// the single-device reference the partitioned programs are checked against.
// Float32 work runs on vectorised, threaded kernels (matrix products and
// convolutions on oneDNN); other element types on portable C++. Weights are
// read where they lie; a value's storage is reused once it is dead, and
// elementwise ops write over an operand that dies with them.
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
llvm::Expected<std::vector<Buffer>> runProgram(mlir::ModuleOp module, std::vector<Buffer> inputs, WeightSource weights);

/// Threads the kernels use when called from this thread (0: every core, or
/// OMP_NUM_THREADS). Ranks that share a process divide the cores this way.
void setKernelThreads(unsigned threads);

/// The dtype of an MLIR tensor element type, if the runtime handles it.
std::optional<DType> runtimeDType(mlir::Type elementType);

} // namespace dinfer

#endif // DINFER_RUNTIME_INTERPRETER_H
