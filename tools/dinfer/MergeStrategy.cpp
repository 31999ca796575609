//===- MergeStrategy.cpp - `dinfer merge-strategy`: one file for a pipeline -===//
//
// MindSpore's merge_pipeline_strategys: every rank of a pipeline-parallel run
// writes the strategy of its own stage; this merges one file per stage into
// one whose layouts are named "<stage>-<param>".
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "dinfer/Pipeline/MergeStrategy.h"

#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand mergeCommand("merge-strategy", "Merge the per-stage strategy files of a pipeline-parallel run into one");

cl::opt<std::string> dirOption(cl::Positional, cl::desc("<dir>"), cl::sub(mergeCommand), cl::cat(category()));
cl::opt<std::string> outputOption("o", cl::desc("Output strategy file (JSON when it ends in .json)"),
                                  cl::value_desc("file"), cl::sub(mergeCommand), cl::cat(category()));

int runMerge() {
  if (dirOption.empty() || outputOption.empty())
    return usageError(mergeCommand, "usage: dinfer merge-strategy DIR -o FILE");
  auto summary = mergeStrategyFolder(dirOption, outputOption, [](StringRef file) {
    errs() << "dinfer merge-strategy: note: " << file << " repeats an earlier file; skipped\n";
  });
  if (!summary)
    return report(mergeCommand, summary.takeError());
  errs() << "dinfer merge-strategy: " << summary->stageFiles << " stage files, " << summary->layouts << " layouts -> "
         << outputOption << "\n";
  return kSuccess;
}

CommandRegistration registration(mergeCommand, runMerge);
} // namespace
