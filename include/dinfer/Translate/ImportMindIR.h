//===- ImportMindIR.h - MindIR models into the nn dialect -----------------===//
//
// Builds func.func @main from a MindIR main graph: graph inputs become
// arguments, weights dist.param references, primitives nn ops. MindSpore's
// plumbing (Load, UpdateState, Depend, MakeTuple, TupleGetItem, monads) is
// resolved away; shapes and axes held by Constant nodes become attributes.
// Both attribute schemes are read: the primitives table of 0.1.1 and the
// node attributes of 0.1.0.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TRANSLATE_IMPORTMINDIR_H
#define DINFER_TRANSLATE_IMPORTMINDIR_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace dinfer {

class MindIRModel;

/// Imports `model`; on failure, diagnostics go to `context` and the result is
/// null.
mlir::OwningOpRef<mlir::ModuleOp> importMindIR(const MindIRModel &model, mlir::MLIRContext *context);

} // namespace dinfer

#endif // DINFER_TRANSLATE_IMPORTMINDIR_H
