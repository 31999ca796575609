//===- CheckpointSet.h - a directory of per-rank checkpoints ----*- C++ -*-===//
//
// docs/contracts.md section 5's checkpoint sets: `rank_<i>/` folders, each read
// through its lexicographically last `.ckpt` or `.safetensors` (MindSpore
// 2.x's rule), opened together as the sources of a reshard plan.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_RESHARD_CHECKPOINTSET_H
#define DINFER_RESHARD_CHECKPOINTSET_H

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Reshard/Planner.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace dinfer {

/// The checkpoint of `dir/rank_<rank>/`: the last `.ckpt` or `.safetensors`
/// by name, with a note on stderr (prefixed `command`) when there are several.
llvm::Expected<std::string> rankCheckpointFile(llvm::StringRef dir, int64_t rank, llvm::StringRef command);

/// Opened checkpoints, one per source rank, and what the planner needs of
/// them.
struct CheckpointSet {
  std::vector<Checkpoint> checkpoints;
  SourceTensors sources;
  std::vector<const Checkpoint *> pointers() const;
};
llvm::Expected<CheckpointSet> openCheckpointSet(llvm::ArrayRef<std::string> files);

/// The checkpoint files of ranks 0 .. ranks-1 of the set in `dir`.
llvm::Expected<std::vector<std::string>> checkpointSetFiles(llvm::StringRef dir, int64_t ranks,
                                                            llvm::StringRef command);

} // namespace dinfer

#endif // DINFER_RESHARD_CHECKPOINTSET_H
