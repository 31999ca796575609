//===- DistOps.h - dist dialect operations --------------------------------===//

#ifndef DINFER_DIALECT_DIST_DISTOPS_H
#define DINFER_DIALECT_DIST_DISTOPS_H

#include "dialects/dist/DistDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

#define GET_OP_CLASSES
#include "dialects/dist/DistOps.h.inc"

namespace dinfer::dist {

/// Whether `op` is a collective over a group of one stage's ranks: the
/// ranks that differ only in the device `axes` of its `dev_matrix`
/// (all_reduce, all_gather, reduce_scatter, all_to_all, broadcast,
/// local_split).
bool isCollective(mlir::Operation *op);

/// The name an op strategy key gives a parameter operand
/// (`<Primitive>_<name>`): its checkpoint name, and for one part of a
/// packed tensor the part's offset too (`in_proj_weight@0,64`), so that
/// each part's product has a strategy of its own.
std::string strategyKeyName(ParamOp param);

/// The op's pipeline stage (`dist.stage`), if it has one.
std::optional<int64_t> stageOf(mlir::Operation *op);
/// Sets the op's `dist.stage`.
void setStage(mlir::Operation *op, int64_t stage);

/// A module's device counts: `dist.device_num`, `dist.pipeline_stages` (1
/// when absent) and the ranks of one stage.
struct DeviceCounts {
  int64_t devices = 1, stages = 1;
  int64_t stageSize() const { return devices / stages; }
};
/// The counts of `module`, or nothing when it states no `dist.device_num`.
std::optional<DeviceCounts> deviceCountsOf(mlir::ModuleOp module);

} // namespace dinfer::dist

#endif // DINFER_DIALECT_DIST_DISTOPS_H
