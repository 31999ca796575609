//===- Reshard.cpp - checkpoints from one layout to another ---------------===//

#include "dinfer/Pipeline/Reshard.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Formats/Safetensors.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Reshard/CheckpointSet.h"
#include "dinfer/Reshard/Executor.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
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

Expected<std::map<std::string, std::string>> dinfer::readNameMap(StringRef path) {
  auto buffer = MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return fileError(path, "cannot read: " + buffer.getError().message());
  auto parsed = json::parse((*buffer)->getBuffer());
  if (!parsed)
    return fileError(path, "not valid JSON: " + toString(parsed.takeError()));
  const json::Object *object = parsed->getAsObject();
  if (!object)
    return fileError(path, "a name map is a JSON object of source name -> output name");
  std::map<std::string, std::string> names;
  for (const auto &[from, to] : *object) {
    std::optional<StringRef> text = to.getAsString();
    if (!text || text->empty())
      return fileError(path, "the output name of '" + StringRef(from) + "' is not a non-empty string");
    names[from.str()] = text->str();
  }
  return names;
}

namespace {
/// Bytes a planned tensor takes once written (after a dtype conversion).
uint64_t outputBytes(const TensorPlan &t, std::optional<DType> convertTo) {
  std::optional<DType> from = parseDType(t.typeName);
  bool convert = convertTo && from && isFloatingPoint(*from) && *from != *convertTo;
  return convert ? t.bytes / (dtypeBits(*from) / 8) * (dtypeBits(*convertTo) / 8) : t.bytes;
}

/// The one rank of a merge cut into Hugging Face shards of at most
/// `maxBytes` each, in source order; a larger tensor gets a shard of its own.
std::vector<RankPlan> cutIntoShards(const RankPlan &merged, uint64_t maxBytes, std::optional<DType> convertTo) {
  std::vector<RankPlan> shards;
  uint64_t shardBytes = 0;
  for (const TensorPlan &t : merged.tensors) {
    uint64_t bytes = outputBytes(t, convertTo);
    if (shards.empty() || (!shards.back().tensors.empty() && shardBytes + bytes > maxBytes)) {
      shards.emplace_back();
      shards.back().rank = merged.rank;
      shards.back().srcRanks = merged.srcRanks;
      shardBytes = 0;
    }
    shards.back().tensors.push_back(t);
    shards.back().bytes += t.bytes;
    shardBytes += bytes;
  }
  return shards;
}
} // namespace

Expected<ReshardResult> dinfer::reshardCheckpoints(const ReshardRequest &request) {
  if (request.srcStrategy.empty() || request.dstStrategy.empty() || (request.dst.empty() && !request.planOnly) ||
      (request.src.empty() && request.srcList.empty() && !request.planOnly))
    return usageError("a reshard needs the source, its strategy (or none), the destination and its strategy (or none)");
  if (request.convertTo && (!isFloatingPoint(*request.convertTo) || *request.convertTo == DType::Float64))
    return usageError("--dtype must be float16, bfloat16 or float32, not '" + dtypeName(*request.convertTo) + "'");
  if (request.maxShardSize && request.dstStrategy != "none")
    return usageError("--max-shard-size writes a Hugging Face folder of one full checkpoint: it needs "
                      "--dst-strategy none");
  if (request.maxShardSize && request.format == CheckpointFormat::Ckpt)
    return usageError("--max-shard-size writes safetensors shards, not --format ckpt");
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
    planOptions.accept = [](StringRef name) {
      return !any_of(kOptimizerPrefixes, [&](StringRef prefix) { return name.starts_with(prefix); });
    };
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

  // Every output name once per file, whatever --name-map says.
  for (const RankPlan &rank : result.plan.ranks) {
    std::map<std::string, std::string> sourceOf;
    for (const TensorPlan &t : rank.tensors) {
      auto renamed = request.rename.find(t.name);
      const std::string &output = renamed == request.rename.end() ? t.name : renamed->second;
      auto [it, fresh] = sourceOf.emplace(output, t.name);
      if (!fresh)
        return reshardError("--name-map: tensors '" + it->second + "' and '" + t.name + "' would both be written as '" +
                            output + "'");
    }
  }

  // The format: asked for, or the source's.
  result.format = request.format.value_or(
      request.maxShardSize ? CheckpointFormat::Safetensors : sourceSet.checkpoints.front().format());
  std::vector<std::string> shardNames;
  if (request.maxShardSize && !result.plan.ranks.empty()) {
    result.plan.ranks = cutIntoShards(result.plan.ranks.front(), request.maxShardSize, request.convertTo);
    for (size_t i = 0; i < result.plan.ranks.size(); ++i)
      shardNames.push_back(formatv("model-{0:5}-of-{1:5}.safetensors", i + 1, result.plan.ranks.size()).str());
    for (std::string &name : shardNames)
      std::replace(name.begin(), name.end(), ' ', '0');
  }

  // Outputs: DST/rank_<i>/<prefix><i>.ckpt (or .safetensors), the DST file
  // when merging, DST/model-0000k-of-0000n.safetensors when sharding.
  for (auto [i, rank] : llvm::enumerate(result.plan.ranks)) {
    for (const TensorPlan &t : rank.tensors)
      result.bytes += outputBytes(t, request.convertTo);
    SmallString<256> path(request.dst);
    if (!shardNames.empty()) {
      sys::path::append(path, shardNames[i]);
    } else if (!dst->isFull()) {
      sys::path::append(path, "rank_" + std::to_string(rank.rank));
      sys::path::append(path, request.prefix + std::to_string(rank.rank) + checkpointExtension(result.format));
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
  executeOptions.format = result.format;
  executeOptions.rename = request.rename;
  uint64_t total = result.bytes;
  if (request.progress) {
    request.progress(0, total); // from this thread, before any worker starts
    executeOptions.progress = [&](uint64_t bytes) { request.progress(bytes, total); };
  }
  if (Error err = executeReshard(result.plan, pointers, result.outputs, executeOptions))
    return std::move(err);
  if (!shardNames.empty()) {
    // The index last: a folder without it is not yet a checkpoint.
    json::Object weightMap;
    for (auto [i, rank] : llvm::enumerate(result.plan.ranks))
      for (const TensorPlan &t : rank.tensors) {
        auto renamed = request.rename.find(t.name);
        weightMap[renamed == request.rename.end() ? t.name : renamed->second] = shardNames[i];
      }
    json::Value index = json::Object{{"metadata", json::Object{{"total_size", static_cast<int64_t>(result.bytes)}}},
                                     {"weight_map", std::move(weightMap)}};
    SmallString<256> indexPath(request.dst);
    sys::path::append(indexPath, kSafetensorsIndexName);
    std::string text = formatv("{0:2}", index).str() + "\n";
    if (Error err = writeFileAtomically(indexPath, text, request.sync))
      return std::move(err);
    result.index = indexPath.str().str();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}
