//===- Reshard.cpp - checkpoints from one layout to another ---------------===//

#include "dinfer/Pipeline/Reshard.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Reshard/CheckpointSet.h"
#include "dinfer/Reshard/Executor.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <set>

using namespace llvm;
using namespace dinfer;

namespace {
constexpr StringLiteral kOptimizerPrefixes[] = {"moments.", "adam_m.", "adam_v.", "accu_grads."};

Error reshardError(const Twine &message) { return createStringError(inconvertibleErrorCode(), message); }

Expected<LayoutSet> loadLayouts(StringRef option, std::optional<int64_t> deviceNum) {
  if (option == "none")
    return LayoutSet::full();
  auto strategy = readStrategy(option);
  if (!strategy)
    return strategy.takeError();
  return LayoutSet::fromStrategy(*strategy, deviceNum, option);
}
} // namespace

ArrayRef<StringLiteral> dinfer::optimizerStatePrefixes() { return kOptimizerPrefixes; }

Expected<ReshardResult> dinfer::reshardCheckpoints(const ReshardRequest &request) {
  if (request.srcStrategy.empty() || request.dstStrategy.empty() || (request.dst.empty() && !request.planOnly) ||
      (request.src.empty() && request.srcList.empty() && !request.planOnly))
    return usageError("a reshard needs the source, its strategy (or none), the destination and its strategy (or none)");
  if (request.convertTo && (!isFloatingPoint(*request.convertTo) || *request.convertTo == DType::Float64))
    return usageError("--dtype must be float16, bfloat16 or float32, not '" + dtypeName(*request.convertTo) + "'");
  auto notice = [&](StringRef what, const std::vector<std::string> &names) {
    if (request.notice && !names.empty())
      request.notice(what, names);
  };

  std::optional<int64_t> deviceNum;
  if (request.deviceNum > 0)
    deviceNum = request.deviceNum;
  auto src = loadLayouts(request.srcStrategy, deviceNum);
  if (!src)
    return src.takeError();
  auto dst = loadLayouts(request.dstStrategy, std::nullopt);
  if (!dst)
    return dst.takeError();

  // The source files, one per rank.
  ReshardResult result;
  result.srcRanks = src->isFull() ? 1 : src->deviceNum();
  std::vector<std::string> files = request.srcList;
  if (files.empty() && src->isFull() && !request.src.empty()) {
    files.push_back(request.src);
  } else if (files.empty() && !request.src.empty()) {
    for (int64_t r = 0; r < result.srcRanks; ++r) {
      auto file = rankCheckpointFile(request.src, r, "dinfer reshard");
      if (!file)
        return file.takeError();
      files.push_back(*file);
    }
  }
  if (!files.empty() && static_cast<int64_t>(files.size()) != result.srcRanks)
    return reshardError(
        formatv("the source layout has {0} ranks but {1} checkpoint files were given", result.srcRanks, files.size())
            .str());

  CheckpointSet sourceSet;
  if (files.empty()) {
    auto synthetic = synthesizeSources(*src, DType::Float32);
    if (!synthetic)
      return reshardError("--plan without checkpoints needs full shapes: " + toString(synthetic.takeError()));
    sourceSet.sources = std::move(*synthetic);
  } else {
    auto opened = openCheckpointSet(files);
    if (!opened)
      return opened.takeError();
    sourceSet = std::move(*opened);
  }

  PlanOptions planOptions;
  planOptions.ranks = request.ranks;
  if (request.paramsOnly)
    for (const SourceFile &file : sourceSet.sources)
      for (const std::string &name : file.order)
        if (!any_of(kOptimizerPrefixes, [&](StringRef prefix) { return StringRef(name).starts_with(prefix); }))
          planOptions.only.insert(name);
  auto plan = planReshard(*src, *dst, sourceSet.sources, planOptions);
  if (!plan)
    return plan.takeError();
  result.plan = std::move(*plan);
  if (request.planOnly)
    return result;
  if (sourceSet.checkpoints.empty())
    return usageError("--src or --src-list is required unless --plan is given");

  std::vector<const Checkpoint *> pointers = sourceSet.pointers();
  auto disagreeing = disagreeingReplicas(result.plan, pointers);
  if (!disagreeing)
    return disagreeing.takeError();
  if (!disagreeing->empty()) {
    notice("tensors without a layout that differ between source ranks, not written", *disagreeing);
    std::set<std::string> skip(disagreeing->begin(), disagreeing->end());
    for (RankPlan &rank : result.plan.ranks)
      llvm::erase_if(rank.tensors, [&](const TensorPlan &t) { return skip.count(t.name) > 0; });
  }

  // Outputs: DST/rank_<i>/<prefix><i>.ckpt, or the DST file when merging.
  for (const RankPlan &rank : result.plan.ranks) {
    for (const TensorPlan &t : rank.tensors) {
      std::optional<DType> from = parseDType(t.typeName);
      bool convert = request.convertTo && from && isFloatingPoint(*from) && *from != *request.convertTo;
      result.bytes += convert ? t.bytes / (dtypeBits(*from) / 8) * (dtypeBits(*request.convertTo) / 8) : t.bytes;
    }
    SmallString<256> path(request.dst);
    if (!dst->isFull()) {
      sys::path::append(path, "rank_" + std::to_string(rank.rank));
      sys::path::append(path, request.prefix + std::to_string(rank.rank) + ".ckpt");
    }
    SmallString<256> parent = sys::path::parent_path(path);
    if (!parent.empty())
      if (std::error_code ec = sys::fs::create_directories(parent))
        return reshardError(parent + ": cannot create: " + ec.message());
    result.outputs.push_back(path.str().str());
  }

  auto start = std::chrono::steady_clock::now();
  ExecuteOptions executeOptions;
  executeOptions.threads = request.threads;
  executeOptions.maxMemory = request.maxMemory;
  executeOptions.sync = request.sync;
  executeOptions.convertTo = request.convertTo;
  executeOptions.encryptWith = request.encryptWith;
  uint64_t total = result.bytes;
  if (request.progress) {
    request.progress(0, total); // from this thread, before any worker starts
    executeOptions.progress = [&](uint64_t bytes) { request.progress(bytes, total); };
  }
  if (Error err = executeReshard(result.plan, pointers, result.outputs, executeOptions))
    return std::move(err);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}
