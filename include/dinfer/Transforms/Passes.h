//===- Passes.h - dinfer's passes -----------------------------------------===//
//
// The passes of dinfer-opt, declared from Passes.td; one file per pass in
// lib/Transforms.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TRANSFORMS_PASSES_H
#define DINFER_TRANSFORMS_PASSES_H

#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace dinfer {

#define GEN_PASS_DECL
#include "dinfer/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dinfer/Transforms/Passes.h.inc"

} // namespace dinfer

#endif // DINFER_TRANSFORMS_PASSES_H
