//===- ExportMindIR.h - nn-dialect programs as MindIR ---------------------===//
//
// Writes a func.func of nn ops as a MindIR ModelProto the way MindSpore 1.7's
// exporter lays one out: graph inputs as ValueInfoProto, weights (dist.param)
// as graph.parameter with raw_data and ref_key, every op a NodeProto whose
// op_type is "REF::<Primitive>:<id>" into the primitives table with
// MindSpore's attribute names, constants as Constant nodes, and multi-output
// primitives (LayerNorm, BatchNorm, Split) read through TupleGetItem.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TRANSLATE_EXPORTMINDIR_H
#define DINFER_TRANSLATE_EXPORTMINDIR_H

#include "dinfer/Formats/MindIR.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace dinfer {

/// Fills `out`, sized for the parameter's type, with the bytes of the
/// parameter `name` (a dist.param of the program): weights go straight into
/// the model, uncopied.
using ParameterData = llvm::function_ref<llvm::Error(llvm::StringRef name, llvm::MutableArrayRef<char> out)>;

struct ExportOptions {
  /// The function to export; empty: @main, or the module's only function.
  std::string entry;
  /// Leave the weights out: the model's parameters are pending, and their
  /// bytes go straight to the file when it is written
  /// (MindIRModel::WriteOptions::weights). `parameters` is not called.
  bool weightsPending = false;
};

/// Exports the module's entry function. An op MindIR cannot express is an
/// error at the op. One rank's function (--dist-split-ranks) exports its
/// collectives and transfers as MindSpore's communication primitives
/// (AllReduce, AllGather, ReduceScatter, AlltoAll, Broadcast, Send, Receive)
/// over the groups `collectiveGroupName` names.
llvm::Expected<MindIRModel> exportMindIR(mlir::ModuleOp module, ParameterData parameters,
                                         const ExportOptions &options = {});

/// The communication group name of `ranks` (global ranks, in group order):
/// "hccl_world_group" for every rank of `deviceNum`, else MindSpore's
/// "<count>-<hash of the sorted ranks>", such as "2-5004544844489628105".
std::string collectiveGroupName(llvm::ArrayRef<int64_t> ranks, int64_t deviceNum);


} // namespace dinfer

#endif // DINFER_TRANSLATE_EXPORTMINDIR_H
