//===- NNDialect.h - the nn dialect and its ops ---------------------------===//

#ifndef DINFER_DIALECT_NN_NNDIALECT_H
#define DINFER_DIALECT_NN_NNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/StringMap.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/nn/NNDialect.h.inc"
#include "dialects/nn/NNInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/nn/NNOps.h.inc"

namespace dinfer::nn {
/// The MindSpore primitive an nn op stands for ("MatMul", "LayerNorm"), as
/// MindIR files and strategy keys (`<Primitive>_<parameter>`) name it (its
/// MindSporePrimitiveOpInterface); empty for an op that is not an nn op.
llvm::StringRef primitiveName(mlir::Operation *op);

/// Every nn op by its MindSpore primitive name and by its aliases.
llvm::StringMap<mlir::RegisteredOperationName> opsByPrimitive(mlir::MLIRContext *context);

/// Whether an op of `name` is its primitive applied to its operands alone:
/// no attributes, a fixed number of operands (returned), result types
/// inferred from them. Such ops import and export without code of their own.
std::optional<unsigned> attributeFreeArity(mlir::RegisteredOperationName name);
} // namespace dinfer::nn

#endif // DINFER_DIALECT_NN_NNDIALECT_H
