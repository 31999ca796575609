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

#include <map>
#include <string>
#include <vector>

namespace dinfer {

class MindIRModel;

/// What one rank's MindIR of a distributed export needs to be read.
struct MindIRImportOptions {
  /// Communication groups by name (group_config.pb); "hccl_world_group" is
  /// every rank of `deviceNum`.
  std::map<std::string, std::vector<int64_t>> groups;
  int64_t deviceNum = 1;
  /// Ranks per pipeline stage (Send's dest_rank and Receive's src_rank
  /// become stages); 0 means every rank.
  int64_t stageSize = 0;
};

/// Imports `model`; on failure, diagnostics go to `context` and the result is
/// null. MindSpore's communication primitives become dist collectives with
/// their groups (`dist.group`) and pipeline transfers.
mlir::OwningOpRef<mlir::ModuleOp> importMindIR(const MindIRModel &model, mlir::MLIRContext *context,
                                               const MindIRImportOptions &options = {});

} // namespace dinfer

#endif // DINFER_TRANSLATE_IMPORTMINDIR_H
