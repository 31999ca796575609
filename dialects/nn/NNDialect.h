//===- NNDialect.h - the nn dialect and its ops ---------------------------===//

#ifndef DINFER_DIALECT_NN_NNDIALECT_H
#define DINFER_DIALECT_NN_NNDIALECT_H

#include "dialects/nn/MindIRMapping.h"

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

/// How many operands an op of `name` always has (none for a variadic op):
/// the MindIR node inputs that come before its constant inputs.
std::optional<unsigned> fixedOperandCount(mlir::RegisteredOperationName name);

/// How many values the flat weight of an `nn.lstm` (MindSpore's LSTM) holds.
int64_t lstmWeightCount(int64_t inputSize, int64_t hiddenSize, int64_t numLayers, bool hasBias, bool bidirectional);
} // namespace dinfer::nn

#endif // DINFER_DIALECT_NN_NNDIALECT_H
