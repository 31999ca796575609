//===- Reshard.cpp - `dinfer reshard`: checkpoints from one layout to another -===//
//
// MindSpore's load_distributed_checkpoint / transform_checkpoints /
// transform_checkpoint_by_rank / merge_sliced_parameter, streaming
// (docs/contracts.md section 5). The flow is the pipeline library's
// (dinfer/Pipeline/Reshard.h); this file parses the options, draws the
// progress line and prints the plan.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"

#include "dinfer/Pipeline/Reshard.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand reshardCommand("reshard", "Merge and re-split checkpoints from a training layout to another layout");

cl::opt<std::string> srcOption("src",
                               cl::desc("Source: a folder of rank_<i>/ checkpoints (.ckpt or .safetensors), or "
                                        "with --src-strategy none one checkpoint file or a Hugging Face folder "
                                        "with model.safetensors.index.json"),
                               cl::value_desc("dir|file"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> srcStrategyOption("src-strategy",
                                       cl::desc("Training strategy file, or none for a full checkpoint"),
                                       cl::value_desc("file|none"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> dstOption("dst",
                               cl::desc("Destination: a folder for rank_<i>/ checkpoints, or one file with "
                                        "--dst-strategy none (a folder of shards with --max-shard-size)"),
                               cl::value_desc("dir|file"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> dstStrategyOption("dst-strategy", cl::desc("Destination strategy file, or none to merge"),
                                       cl::value_desc("file|none"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> srcListOption("src-list", cl::desc("Source files in rank order, instead of --src"),
                                   cl::value_desc("f0,f1,..."), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> prefixOption("prefix", cl::desc("Output file prefix (rank_<i>/<prefix><i>.ckpt or .safetensors)"),
                                  cl::init("checkpoint_"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<int64_t> deviceNumOption("device-num", cl::desc("Source device count, where the strategy cannot tell"),
                                 cl::init(0), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> ranksOption("rank", cl::desc("Write only these destination ranks"), cl::value_desc("R[,R...]"),
                                 cl::sub(reshardCommand), cl::cat(category()));
cl::opt<bool> paramsOnlyOption("params-only",
                               cl::desc("Drop optimizer states (moments., adam_m., adam_v., accu_grads.)"),
                               cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> dtypeOption("dtype", cl::desc("Convert floating tensors to this type"),
                                 cl::value_desc("float16|bfloat16|float32"), cl::sub(reshardCommand),
                                 cl::cat(category()));
cl::opt<unsigned> threadsOption("threads", cl::desc("Destination files written at once (default: cores)"), cl::init(0),
                                cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> maxMemoryOption("max-memory", cl::desc("Budget for assembly buffers, e.g. 512M, 4G"),
                                     cl::value_desc("size"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<bool> noSyncOption("no-sync", cl::desc("Do not fsync outputs before renaming them into place"),
                           cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> formatOption("format", cl::desc("Output format (default: the source's)"),
                                  cl::value_desc("ckpt|safetensors"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> maxShardSizeOption("max-shard-size",
                                        cl::desc("With --dst-strategy none: write DST as a Hugging Face folder of "
                                                 "safetensors shards of at most this size, e.g. 512M, 5G"),
                                        cl::value_desc("size"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> nameMapOption("name-map",
                                   cl::desc("Rename tensors on the way: a JSON object of source name -> output name"),
                                   cl::value_desc("file.json"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<bool> planOption("plan", cl::desc("Print the plan (bytes per destination, source files) and move nothing"),
                         cl::sub(reshardCommand), cl::cat(category()));
cl::opt<bool> jsonOption("json", cl::desc("With --plan: print it as JSON"), cl::sub(reshardCommand),
                         cl::cat(category()));

Expected<uint64_t> parseSize(StringRef option, StringRef text) {
  text = text.trim();
  uint64_t scale = 1;
  if (text.consume_back("K") || text.consume_back("k"))
    scale = 1ull << 10;
  else if (text.consume_back("M") || text.consume_back("m"))
    scale = 1ull << 20;
  else if (text.consume_back("G") || text.consume_back("g"))
    scale = 1ull << 30;
  uint64_t value;
  if (text.getAsInteger(10, value))
    return createStringError(inconvertibleErrorCode(),
                             "--" + option + ": '" + text + "' is not a size such as 512M");
  return value * scale;
}

/// A line that redraws itself on a terminal: bytes, rate, time left.
class Progress {
public:
  explicit Progress(uint64_t total)
      : total_(total), start_(std::chrono::steady_clock::now()) {
    if (!sys::Process::StandardErrIsDisplayed() || total == 0)
      return;
    ticker_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!done_) {
        draw();
        wake_.wait_for(lock, std::chrono::milliseconds(200));
      }
      draw();
      errs() << "\n";
    });
  }
  ~Progress() { stop(); }
  void update(uint64_t bytes) { bytes_.store(bytes, std::memory_order_relaxed); }
  void stop() {
    if (!ticker_.joinable())
      return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    ticker_.join();
  }
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

private:
  void draw() {
    uint64_t bytes = bytes_.load(std::memory_order_relaxed);
    double elapsed = std::max(seconds(), 1e-3), rate = bytes / elapsed;
    double left = rate > 0 ? (total_ - std::min(bytes, total_)) / rate : 0;
    errs() << formatv("\rdinfer reshard: {0} / {1}  {2}/s  {3:f0}s left   ", formatBytes(bytes), formatBytes(total_),
                      formatBytes(static_cast<uint64_t>(rate)), left);
  }

  uint64_t total_;
  std::atomic<uint64_t> bytes_{0};
  std::chrono::steady_clock::time_point start_;
  std::thread ticker_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
};

void printPlan(const ReshardPlan &plan, int64_t srcRanks) {
  uint64_t total = 0;
  size_t copies = 0;
  for (const RankPlan &rank : plan.ranks) {
    total += rank.bytes;
    for (const TensorPlan &t : rank.tensors)
      copies += t.copies.size();
  }
  if (jsonOption) {
    json::Array ranks;
    for (const RankPlan &rank : plan.ranks) {
      size_t n = 0;
      for (const TensorPlan &t : rank.tensors)
        n += t.copies.size();
      ranks.push_back(json::Object{
          {"rank", rank.rank},
          {"bytes", static_cast<int64_t>(rank.bytes)},
          {"tensors", static_cast<int64_t>(rank.tensors.size())},
          {"copies", static_cast<int64_t>(n)},
          {"source_ranks", json::Array(std::vector<int64_t>(rank.srcRanks.begin(), rank.srcRanks.end()))}});
    }
    outs() << json::Value(json::Object{{"source_ranks", srcRanks},
                                       {"bytes", static_cast<int64_t>(total)},
                                       {"copies", static_cast<int64_t>(copies)},
                                       {"ranks", std::move(ranks)},
                                       {"missing", json::Array(plan.missing)},
                                       {"unused", json::Array(plan.unused)},
                                       {"replicated", json::Array(plan.replicated)}})
           << "\n";
    return;
  }
  outs() << formatv("plan: {0} source ranks -> {1} destination ranks, {2} in {3} copies\n", srcRanks, plan.ranks.size(),
                    formatBytes(total), copies);
  Table table({"rank", "tensors", "bytes", "copies", "source ranks"});
  for (const RankPlan &rank : plan.ranks) {
    size_t n = 0;
    for (const TensorPlan &t : rank.tensors)
      n += t.copies.size();
    std::string sources = join(map_range(rank.srcRanks, [](int64_t r) { return std::to_string(r); }), ",");
    table.add({std::to_string(rank.rank), std::to_string(rank.tensors.size()), formatBytes(rank.bytes),
               std::to_string(n), sources});
  }
  table.print(outs());
}

void listNames(StringRef what, const std::vector<std::string> &names) {
  if (names.empty())
    return;
  errs() << "dinfer reshard: " << what << " (" << names.size() << "): ";
  for (size_t i = 0; i < names.size() && i < 20; ++i)
    errs() << (i ? ", " : "") << names[i];
  if (names.size() > 20)
    errs() << ", ...";
  errs() << "\n";
}

int runReshard() {
  if (srcStrategyOption.empty() || dstStrategyOption.empty() || dstOption.empty() ||
      (srcOption.empty() && srcListOption.empty() && !planOption))
    return usageError(reshardCommand, "usage: dinfer reshard --src SRC --src-strategy FILE|none --dst DST "
                                      "--dst-strategy FILE|none");
  std::optional<DType> convertTo;
  if (!dtypeOption.empty()) {
    convertTo = parseDType(dtypeOption);
    if (!convertTo || !isFloatingPoint(*convertTo) || *convertTo == DType::Float64)
      return usageError(reshardCommand, "--dtype must be float16, bfloat16 or float32, not '" + dtypeOption + "'");
  }
  uint64_t maxMemory = 0;
  if (!maxMemoryOption.empty()) {
    auto size = parseSize("max-memory", maxMemoryOption);
    if (!size)
      return usageError(reshardCommand, toString(size.takeError()));
    maxMemory = *size;
  }
  std::optional<CheckpointFormat> format;
  if (!formatOption.empty()) {
    format = parseCheckpointFormat(formatOption);
    if (!format)
      return usageError(reshardCommand, "--format must be ckpt or safetensors, not '" + formatOption + "'");
  }
  uint64_t maxShardSize = 0;
  if (!maxShardSizeOption.empty()) {
    auto size = parseSize("max-shard-size", maxShardSizeOption);
    if (!size || *size == 0)
      return usageError(reshardCommand, size ? "--max-shard-size must be positive" : toString(size.takeError()));
    maxShardSize = *size;
  }
  std::map<std::string, std::string> rename;
  if (!nameMapOption.empty()) {
    auto names = readNameMap(nameMapOption);
    if (!names)
      return failure(reshardCommand, toString(names.takeError()));
    rename = std::move(*names);
  }
  std::vector<int64_t> ranks;
  if (!ranksOption.empty()) {
    auto list = parseIntList(ranksOption, "--rank");
    if (!list)
      return usageError(reshardCommand, toString(list.takeError()));
    ranks.assign(list->begin(), list->end());
  }

  ReshardRequest request;
  request.src = srcOption;
  if (!srcListOption.empty()) {
    SmallVector<StringRef, 8> parts;
    StringRef(srcListOption).split(parts, ',');
    for (StringRef part : parts)
      request.srcList.push_back(part.trim().str());
  }
  request.srcStrategy = srcStrategyOption;
  request.dst = dstOption;
  request.dstStrategy = dstStrategyOption;
  request.prefix = prefixOption;
  request.deviceNum = deviceNumOption;
  request.ranks = ranks;
  request.paramsOnly = paramsOnlyOption;
  request.convertTo = convertTo;
  request.threads = threadsOption;
  request.maxMemory = maxMemory;
  request.sync = !noSyncOption;
  request.encryptWith = outputKey();
  request.planOnly = planOption;
  request.format = format;
  request.maxShardSize = maxShardSize;
  request.rename = std::move(rename);
  std::optional<Progress> progress;
  request.progress = [&](uint64_t bytes, uint64_t total) {
    if (!progress)
      progress.emplace(total);
    progress->update(bytes);
  };
  request.notice = [](StringRef what, const std::vector<std::string> &names) { listNames(what, names); };
  auto result = reshardCheckpoints(request);
  if (progress)
    progress->stop();
  if (!result)
    return cli::report(reshardCommand, result.takeError());
  if (planOption) {
    printPlan(result->plan, result->srcRanks);
    listNames("missing from the checkpoints", result->plan.missing);
    return kSuccess;
  }
  double seconds = result->seconds;
  errs() << formatv("dinfer reshard: {0} source ranks -> {1} destination files, {2} written in {3:f2}s ({4}/s){5}\n",
                    result->srcRanks, result->outputs.size(), formatBytes(result->bytes), seconds,
                    formatBytes(static_cast<uint64_t>(result->bytes / std::max(seconds, 1e-6))),
                    result->format == CheckpointFormat::Safetensors ? " as safetensors" : "");
  if (!result->index.empty())
    errs() << "dinfer reshard: index " << result->index << "\n";
  listNames("layouts with no tensor in the checkpoints", result->plan.missing);
  listNames("tensors not used by the destination layout", result->plan.unused);
  listNames("tensors without a layout, copied as replicated", result->plan.replicated);
  return kSuccess;
}

CommandRegistration registration(reshardCommand, runReshard);
} // namespace
