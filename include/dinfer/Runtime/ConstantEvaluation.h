//===- ConstantEvaluation.h - values known before any input arrives -------===//
//
// A value whose producers reach only arith.constant ops is known when the
// program is built: shape arithmetic, masks, position tables, scatters into
// constant data. These helpers compute it with the kernels `dinfer run`
// uses, so that importers and the fold-constants pass need no arithmetic of
// their own.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_RUNTIME_CONSTANTEVALUATION_H
#define DINFER_RUNTIME_CONSTANTEVALUATION_H

#include "dinfer/Runtime/Buffer.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Value.h"
#include "llvm/Support/Error.h"

#include <optional>

namespace dinfer {

/// Whether `value` depends on nothing but arith.constant ops through ops
/// the runtime has kernels for (no arguments, parameters or collectives).
bool isConstantComputable(mlir::Value value);

/// The data of `value`, computed from its constant producers; std::nullopt
/// when it is not constant-computable or holds more than `maxElements`
/// elements. An error names the op whose kernel failed.
llvm::Expected<std::optional<Buffer>> evaluateConstant(mlir::Value value, int64_t maxElements = int64_t(1) << 24);

/// evaluateConstant for an importer's OnnxImportOptions::evaluateConstant.
llvm::Expected<std::optional<NpyArray>> evaluateConstantArray(mlir::Value value);

/// `buffer` as the elements attribute of a value of `type`.
mlir::DenseElementsAttr toElementsAttr(const Buffer &buffer, mlir::RankedTensorType type);

} // namespace dinfer

#endif // DINFER_RUNTIME_CONSTANTEVALUATION_H
