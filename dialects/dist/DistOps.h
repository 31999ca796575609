//===- DistOps.h - dist dialect operations --------------------------------===//

#ifndef DINFER_DIALECT_DIST_DISTOPS_H
#define DINFER_DIALECT_DIST_DISTOPS_H

#include "dialects/dist/DistDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/dist/DistOps.h.inc"

#endif // DINFER_DIALECT_DIST_DISTOPS_H
