//===- MergeStrategy.h - a pipeline run's stage strategies as one -*- C++ -*-===//
//
// MindSpore's merge_pipeline_strategys: every stage's strategy file of a
// pipeline-parallel training run (all .ckpt or all .json of a folder) merged
// into one file whose names carry their stage (`<stage>-<param>`).
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_MERGESTRATEGY_H
#define DINFER_PIPELINE_MERGESTRATEGY_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace dinfer {

struct MergeSummary {
  size_t stageFiles = 0, layouts = 0;
};

/// Merges the strategy files of `folder` into `output` (JSON when it ends in
/// .json), written under a temporary name and renamed into place. A file that
/// repeats an earlier one byte for byte is skipped and told to `skipped`.
llvm::Expected<MergeSummary> mergeStrategyFolder(llvm::StringRef folder, llvm::StringRef output,
                                                 std::function<void(llvm::StringRef file)> skipped = nullptr);

} // namespace dinfer

#endif // DINFER_PIPELINE_MERGESTRATEGY_H
