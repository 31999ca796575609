//===- MergeStrategy.cpp - `dinfer merge-strategy`: one file for a pipeline -===//
//
// MindSpore's merge_pipeline_strategys: every rank of a pipeline-parallel run
// writes the strategy of its own stage; this merges one file per stage into
// one whose layouts are named "<stage>-<param>".
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "dinfer/Formats/Strategy.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

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
  if (!sys::fs::is_directory(dirOption))
    return failure(mergeCommand, dirOption + ": not a directory");

  std::vector<std::string> files;
  std::error_code ec;
  for (sys::fs::directory_iterator it(dirOption, ec), end; it != end && !ec; it.increment(ec)) {
    StringRef path = it->path();
    if (path.ends_with(".ckpt") || path.ends_with(".json"))
      files.push_back(path.str());
  }
  if (ec)
    return failure(mergeCommand, dirOption + ": " + ec.message());
  llvm::sort(files);
  if (files.empty())
    return failure(mergeCommand, dirOption + ": no .ckpt or .json strategy files");
  bool anyJson = llvm::any_of(files, [](const std::string &f) { return StringRef(f).ends_with(".json"); });
  bool anyProto = llvm::any_of(files, [](const std::string &f) { return StringRef(f).ends_with(".ckpt"); });
  if (anyJson && anyProto)
    return failure(mergeCommand, dirOption + ": mixes .ckpt and .json strategy files");

  std::vector<StrategyFile> stages;
  std::vector<std::string> names;
  std::set<std::string> seenBytes;
  for (const std::string &file : files) {
    auto buffer = MemoryBuffer::getFile(file, false, false);
    if (!buffer)
      return failure(mergeCommand, file + ": cannot open: " + buffer.getError().message());
    if (!seenBytes.insert((*buffer)->getBuffer().str()).second) {
      errs() << "dinfer merge-strategy: note: " << file << " repeats an earlier file; skipped\n";
      continue;
    }
    auto strategy = parseStrategy((*buffer)->getBuffer(), file);
    if (!strategy)
      return failure(mergeCommand, toString(strategy.takeError()));
    stages.push_back(std::move(*strategy));
    names.push_back(file);
  }
  auto merged = mergePipelineStrategies(stages, names);
  if (!merged)
    return failure(mergeCommand, toString(merged.takeError()));
  SmallString<256> parent = sys::path::parent_path(outputOption);
  if (!parent.empty())
    if (std::error_code mkdirError = sys::fs::create_directories(parent))
      return failure(mergeCommand, parent + ": cannot create: " + mkdirError.message());
  if (Error err = writeStrategy(*merged, outputOption))
    return failure(mergeCommand, toString(std::move(err)));
  errs() << "dinfer merge-strategy: " << stages.size() << " stage files, " << merged->layouts.size() << " layouts -> "
         << outputOption << "\n";
  return kSuccess;
}

CommandRegistration registration(mergeCommand, runMerge);
} // namespace
