//===- Executor.h - move the bytes a reshard plan lists -------------------===//
//
// Writes every planned destination checkpoint (.ckpt or safetensors),
// streaming: each tensor is
// assembled in slabs of rows read straight from the source files with pread,
// so memory stays bounded by the slab budget, never by a tensor or a file.
// Destination files are written in parallel, each under a temporary name that
// is renamed into place when complete.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_RESHARD_EXECUTOR_H
#define DINFER_RESHARD_EXECUTOR_H

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/Crypto.h"
#include "dinfer/Reshard/Planner.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace dinfer {

struct ExecuteOptions {
  /// Destination files written at once; 0 means one per core.
  unsigned threads = 0;
  /// A budget for assembly buffers across all threads; 0 means 64 MiB per
  /// thread. A single row larger than a thread's share is still read whole.
  uint64_t maxMemory = 0;
  /// fsync every file before renaming it into place.
  bool sync = true;
  /// Convert floating tensors to this type (Float16, BFloat16 or Float32).
  std::optional<DType> convertTo;
  /// Encrypt every output with this key (MindSpore's block format; .ckpt
  /// only).
  std::optional<CipherKey> encryptWith;
  /// The format of the outputs.
  CheckpointFormat format = CheckpointFormat::Ckpt;
  /// Output names of tensors, by source name (`--name-map`); names not
  /// listed are kept.
  std::map<std::string, std::string> rename;
  /// Called (from worker threads) with the bytes written so far.
  std::function<void(uint64_t)> progress;
};

/// Writes plan.ranks[i] to outputs[i], reading from sources[rank] (one per
/// source rank, as planned). The plan's byte counts are those of the source
/// types; with convertTo they change with the element size.
llvm::Error executeReshard(const ReshardPlan &plan, llvm::ArrayRef<const Checkpoint *> sources,
                           llvm::ArrayRef<std::string> outputs, const ExecuteOptions &options);

/// Assembles one planned destination tensor into `out` (tensor.bytes long),
/// for a consumer that holds a rank's slice, such as a MindIR parameter.
llvm::Error assembleTensor(const TensorPlan &tensor, llvm::ArrayRef<const Checkpoint *> sources,
                           llvm::MutableArrayRef<char> out);

/// Assembles one planned destination tensor piece by piece, for a writer that
/// streams it (a MindIR parameter written straight to its file): memory stays
/// at one slab of rows, never the tensor. Pieces are asked for in increasing
/// offsets; each is filled exactly once.
class TensorStream {
public:
  TensorStream(const TensorPlan &tensor, llvm::ArrayRef<const Checkpoint *> sources);
  ~TensorStream();
  TensorStream(const TensorStream &) = delete;
  TensorStream &operator=(const TensorStream &) = delete;

  llvm::Error fill(uint64_t offset, llvm::MutableArrayRef<char> out);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The tensors without a layout (plan.replicated) whose content differs
/// between the source ranks holding them.
llvm::Expected<std::vector<std::string>> disagreeingReplicas(const ReshardPlan &plan,
                                                             llvm::ArrayRef<const Checkpoint *> sources);

} // namespace dinfer

#endif // DINFER_RESHARD_EXECUTOR_H
