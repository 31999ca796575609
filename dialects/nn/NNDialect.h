//===- NNDialect.h - the nn dialect and its ops ---------------------------===//

#ifndef DINFER_DIALECT_NN_NNDIALECT_H
#define DINFER_DIALECT_NN_NNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/nn/NNDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/nn/NNOps.h.inc"

namespace dinfer::nn {
/// The MindSpore primitive an nn op stands for ("MatMul", "LayerNorm"), as
/// MindIR files and strategy keys (`<Primitive>_<parameter>`) name it; empty
/// for an op that is not an nn op.
llvm::StringRef primitiveName(mlir::Operation *op);
} // namespace dinfer::nn

#endif // DINFER_DIALECT_NN_NNDIALECT_H
