//===- MergeStrategy.cpp - a pipeline run's stage strategies as one -------===//

#include "dinfer/Pipeline/MergeStrategy.h"

#include "dinfer/Formats/Strategy.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <set>

using namespace llvm;
using namespace dinfer;

static Error mergeError(const Twine &message) { return createStringError(inconvertibleErrorCode(), message); }

Expected<MergeSummary> dinfer::mergeStrategyFolder(StringRef folder, StringRef output,
                                                   std::function<void(StringRef)> skipped) {
  if (!sys::fs::is_directory(folder))
    return mergeError(folder + ": not a directory");

  std::vector<std::string> files;
  std::error_code ec;
  for (sys::fs::directory_iterator it(folder, ec), end; it != end && !ec; it.increment(ec)) {
    StringRef path = it->path();
    if (path.ends_with(".ckpt") || path.ends_with(".json"))
      files.push_back(path.str());
  }
  if (ec)
    return mergeError(folder + ": " + ec.message());
  llvm::sort(files);
  if (files.empty())
    return mergeError(folder + ": no .ckpt or .json strategy files");
  bool anyJson = llvm::any_of(files, [](const std::string &f) { return StringRef(f).ends_with(".json"); });
  bool anyProto = llvm::any_of(files, [](const std::string &f) { return StringRef(f).ends_with(".ckpt"); });
  if (anyJson && anyProto)
    return mergeError(folder + ": mixes .ckpt and .json strategy files");

  std::vector<StrategyFile> stages;
  std::vector<std::string> names;
  std::set<std::string> seenBytes;
  for (const std::string &file : files) {
    auto buffer = MemoryBuffer::getFile(file, false, false);
    if (!buffer)
      return mergeError(file + ": cannot open: " + buffer.getError().message());
    if (!seenBytes.insert((*buffer)->getBuffer().str()).second) {
      if (skipped)
        skipped(file);
      continue;
    }
    auto strategy = parseStrategy((*buffer)->getBuffer(), file);
    if (!strategy)
      return strategy.takeError();
    stages.push_back(std::move(*strategy));
    names.push_back(file);
  }
  auto merged = mergePipelineStrategies(stages, names);
  if (!merged)
    return merged.takeError();
  SmallString<256> parent = sys::path::parent_path(output);
  if (!parent.empty())
    if (std::error_code mkdirError = sys::fs::create_directories(parent))
      return mergeError(parent + ": cannot create: " + mkdirError.message());
  if (Error err = writeStrategy(*merged, output))
    return std::move(err);
  MergeSummary summary;
  summary.stageFiles = stages.size();
  summary.layouts = merged->layouts.size();
  return summary;
}
