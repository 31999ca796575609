//===- Reshard.h - checkpoints from one layout to another -------*- C++ -*-===//
//
// MindSpore's load_distributed_checkpoint, transform_checkpoints,
// transform_checkpoint_by_rank and merge_sliced_parameter on files, streaming
// (docs/contracts.md section 5): the planner decides which boxes of which
// source files every destination tensor is cut from, the executor copies them
// into destination files written under temporary names and renamed when
// complete. `dinfer reshard` and the Python calls run this.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_RESHARD_H
#define DINFER_PIPELINE_RESHARD_H

#include "dinfer/Formats/Crypto.h"
#include "dinfer/Formats/TensorWriter.h"
#include "dinfer/Layout/DType.h"
#include "dinfer/Pipeline/Errors.h"
#include "dinfer/Reshard/Planner.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dinfer {

struct ReshardRequest {
  /// The source: a folder of rank_<i>/ checkpoints, one file (or a Hugging
  /// Face folder with model.safetensors.index.json) with a source strategy of
  /// "none", or `srcList` (files in rank order).
  std::string src;
  std::vector<std::string> srcList;
  std::string srcStrategy; ///< a strategy file, or "none" for a full checkpoint
  /// The destination: a folder for rank_<i>/<prefix><i>.ckpt (or
  /// .safetensors), or one file with a destination strategy of "none" (a
  /// merge), or with maxShardSize a folder of Hugging Face shards.
  std::string dst;
  std::string dstStrategy;
  std::string prefix = "checkpoint_";
  int64_t deviceNum = 0;      ///< source device count, where the strategy cannot tell
  std::vector<int64_t> ranks; ///< write only these destination ranks (empty: all)
  bool paramsOnly = false;    ///< drop optimizer states
  std::optional<DType> convertTo; ///< floating tensors converted (Float16, BFloat16, Float32)
  unsigned threads = 0;       ///< destination files written at once; 0: the cores
  uint64_t maxMemory = 0;     ///< budget for assembly buffers; 0: 64 MiB a thread
  bool sync = true;           ///< fsync every file before renaming it into place
  std::optional<CipherKey> encryptWith;
  /// The output format; default: the source's (.ckpt without sources).
  std::optional<CheckpointFormat> format;
  /// With a full destination: write a Hugging Face folder (DST) of
  /// safetensors shards of at most this many bytes each, and its index.
  uint64_t maxShardSize = 0;
  /// Output tensor names by source name (`--name-map`); names not listed are
  /// kept. Strategy files keep the training names.
  std::map<std::string, std::string> rename;
  /// Plan only: nothing is read but the checkpoints' indexes (and without
  /// source files, the strategy's full shapes), nothing is written.
  bool planOnly = false;
  /// Bytes written so far of the total: once with 0 from the calling thread
  /// before the copies start, then from worker threads.
  std::function<void(uint64_t bytes, uint64_t total)> progress;
  /// Named tensors worth a word ("tensors without a layout that differ
  /// between source ranks, not written"), at the point they are found.
  std::function<void(llvm::StringRef what, const std::vector<std::string> &names)> notice;
};

struct ReshardResult {
  ReshardPlan plan;
  int64_t srcRanks = 0;
  std::vector<std::string> outputs; ///< the files written, one per planned rank (or shard)
  CheckpointFormat format = CheckpointFormat::Ckpt;
  std::string index; ///< the Hugging Face index written with the shards
  uint64_t bytes = 0;               ///< written, after any dtype conversion
  double seconds = 0;
};

/// The optimizer-state name prefixes `paramsOnly` drops.
llvm::ArrayRef<llvm::StringLiteral> optimizerStatePrefixes();

/// A `--name-map` file: a JSON object of source name -> output name.
llvm::Expected<std::map<std::string, std::string>> readNameMap(llvm::StringRef path);

/// Plans and (unless planOnly) writes `request`. A UsageError when the request
/// itself is wrong.
llvm::Expected<ReshardResult> reshardCheckpoints(const ReshardRequest &request);

} // namespace dinfer

#endif // DINFER_PIPELINE_RESHARD_H
