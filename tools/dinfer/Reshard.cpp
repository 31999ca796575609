//===- Reshard.cpp - `dinfer reshard`: checkpoints from one layout to another -===//
//
// MindSpore's load_distributed_checkpoint / transform_checkpoints /
// transform_checkpoint_by_rank / merge_sliced_parameter, streaming
// (docs/contracts.md section 5).
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Reshard/CheckpointSet.h"
#include "dinfer/Reshard/Executor.h"
#include "dinfer/Reshard/Planner.h"

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
                               cl::desc("Source: a folder of rank_<i>/ checkpoints, or one .ckpt with "
                                        "--src-strategy none"),
                               cl::value_desc("dir|file"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> srcStrategyOption("src-strategy",
                                       cl::desc("Training strategy file, or none for a full checkpoint"),
                                       cl::value_desc("file|none"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> dstOption("dst",
                               cl::desc("Destination: a folder for rank_<i>/ checkpoints, or one .ckpt with "
                                        "--dst-strategy none"),
                               cl::value_desc("dir|file"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> dstStrategyOption("dst-strategy", cl::desc("Destination strategy file, or none to merge"),
                                       cl::value_desc("file|none"), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> srcListOption("src-list", cl::desc("Source files in rank order, instead of --src"),
                                   cl::value_desc("f0,f1,..."), cl::sub(reshardCommand), cl::cat(category()));
cl::opt<std::string> prefixOption("prefix", cl::desc("Output file prefix (rank_<i>/<prefix><i>.ckpt)"),
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
cl::opt<bool> planOption("plan", cl::desc("Print the plan (bytes per destination, source files) and move nothing"),
                         cl::sub(reshardCommand), cl::cat(category()));
cl::opt<bool> jsonOption("json", cl::desc("With --plan: print it as JSON"), cl::sub(reshardCommand),
                         cl::cat(category()));

constexpr StringLiteral kOptimizerPrefixes[] = {"moments.", "adam_m.", "adam_v.", "accu_grads."};

Expected<uint64_t> parseSize(StringRef text) {
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
    return createStringError(inconvertibleErrorCode(), "--max-memory: '" + text + "' is not a size such as 512M");
  return value * scale;
}

Expected<LayoutSet> loadLayouts(StringRef option, StringRef flag, std::optional<int64_t> deviceNum) {
  if (option == "none")
    return LayoutSet::full();
  auto strategy = readStrategy(option);
  if (!strategy)
    return strategy.takeError();
  return LayoutSet::fromStrategy(*strategy, deviceNum, option);
}

/// A line that redraws itself on a terminal: bytes, rate, time left.
class Progress {
public:
  explicit Progress(uint64_t total)
      : total_(total), start_(std::chrono::steady_clock::now()), sink_(currentProgressSink()) {
    if ((!sink_ && !sys::Process::StandardErrIsDisplayed()) || total == 0)
      return;
    ticker_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!done_) {
        draw();
        wake_.wait_for(lock, std::chrono::milliseconds(200));
      }
      draw();
      if (!sink_)
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
    if (sink_) {
      sink_("reshard", bytes, total_);
      return;
    }
    double elapsed = std::max(seconds(), 1e-3), rate = bytes / elapsed;
    double left = rate > 0 ? (total_ - std::min(bytes, total_)) / rate : 0;
    errs() << formatv("\rdinfer reshard: {0} / {1}  {2}/s  {3:f0}s left   ", formatBytes(bytes), formatBytes(total_),
                      formatBytes(static_cast<uint64_t>(rate)), left);
  }

  uint64_t total_;
  std::atomic<uint64_t> bytes_{0};
  std::chrono::steady_clock::time_point start_;
  ProgressSink sink_;
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

void report(StringRef what, const std::vector<std::string> &names) {
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
    auto size = parseSize(maxMemoryOption);
    if (!size)
      return usageError(reshardCommand, toString(size.takeError()));
    maxMemory = *size;
  }
  std::vector<int64_t> ranks;
  if (!ranksOption.empty()) {
    auto list = parseIntList(ranksOption, "--rank");
    if (!list)
      return usageError(reshardCommand, toString(list.takeError()));
    ranks.assign(list->begin(), list->end());
  }

  std::optional<int64_t> deviceNum;
  if (deviceNumOption > 0)
    deviceNum = deviceNumOption;
  auto src = loadLayouts(srcStrategyOption, "--src-strategy", deviceNum);
  if (!src)
    return failure(reshardCommand, toString(src.takeError()));
  auto dst = loadLayouts(dstStrategyOption, "--dst-strategy", std::nullopt);
  if (!dst)
    return failure(reshardCommand, toString(dst.takeError()));

  // The source files, one per rank.
  int64_t srcRanks = src->isFull() ? 1 : src->deviceNum();
  std::vector<std::string> files;
  if (!srcListOption.empty()) {
    SmallVector<StringRef, 8> parts;
    StringRef(srcListOption).split(parts, ',');
    for (StringRef part : parts)
      files.push_back(part.trim().str());
  } else if (src->isFull()) {
    files.push_back(srcOption);
  } else if (!srcOption.empty()) {
    for (int64_t r = 0; r < srcRanks; ++r) {
      auto file = rankCheckpointFile(srcOption, r, "dinfer reshard");
      if (!file)
        return failure(reshardCommand, toString(file.takeError()));
      files.push_back(*file);
    }
  }
  if (!files.empty() && static_cast<int64_t>(files.size()) != srcRanks)
    return failure(
        reshardCommand,
        formatv("the source layout has {0} ranks but {1} checkpoint files were given", srcRanks, files.size()).str());

  CheckpointSet sourceSet;
  SourceTensors &sources = sourceSet.sources;
  std::vector<Checkpoint> &checkpoints = sourceSet.checkpoints;
  if (files.empty()) {
    auto synthetic = synthesizeSources(*src, DType::Float32);
    if (!synthetic)
      return failure(reshardCommand,
                     "--plan without checkpoints needs full shapes: " + toString(synthetic.takeError()));
    sources = std::move(*synthetic);
  } else {
    auto opened = openCheckpointSet(files);
    if (!opened)
      return failure(reshardCommand, toString(opened.takeError()));
    sourceSet = std::move(*opened);
  }

  PlanOptions planOptions;
  planOptions.ranks = ranks;
  if (paramsOnlyOption) {
    for (const SourceFile &file : sources)
      for (const std::string &name : file.order)
        if (!any_of(kOptimizerPrefixes, [&](StringRef prefix) { return StringRef(name).starts_with(prefix); }))
          planOptions.only.insert(name);
  }
  auto plan = planReshard(*src, *dst, sources, planOptions);
  if (!plan)
    return failure(reshardCommand, toString(plan.takeError()));
  if (planOption) {
    printPlan(*plan, srcRanks);
    report("missing from the checkpoints", plan->missing);
    return kSuccess;
  }
  if (checkpoints.empty())
    return usageError(reshardCommand, "--src or --src-list is required unless --plan is given");

  std::vector<const Checkpoint *> pointers = sourceSet.pointers();
  auto disagreeing = disagreeingReplicas(*plan, pointers);
  if (!disagreeing)
    return failure(reshardCommand, toString(disagreeing.takeError()));
  if (!disagreeing->empty()) {
    report("tensors without a layout that differ between source ranks, not written", *disagreeing);
    std::set<std::string> skip(disagreeing->begin(), disagreeing->end());
    for (RankPlan &rank : plan->ranks)
      llvm::erase_if(rank.tensors, [&](const TensorPlan &t) { return skip.count(t.name) > 0; });
  }

  // Outputs: DST/rank_<i>/<prefix><i>.ckpt, or the DST file when merging.
  std::vector<std::string> outputs;
  uint64_t total = 0;
  for (const RankPlan &rank : plan->ranks) {
    for (const TensorPlan &t : rank.tensors) {
      std::optional<DType> from = parseDType(t.typeName);
      bool convert = convertTo && from && isFloatingPoint(*from) && *from != *convertTo;
      total += convert ? t.bytes / (dtypeBits(*from) / 8) * (dtypeBits(*convertTo) / 8) : t.bytes;
    }
    SmallString<256> path(dstOption);
    if (!dst->isFull()) {
      sys::path::append(path, "rank_" + std::to_string(rank.rank));
      sys::path::append(path, prefixOption + std::to_string(rank.rank) + ".ckpt");
    }
    SmallString<256> parent = sys::path::parent_path(path);
    if (!parent.empty())
      if (std::error_code ec = sys::fs::create_directories(parent))
        return failure(reshardCommand, parent + ": cannot create: " + ec.message());
    outputs.push_back(path.str().str());
  }

  Progress progress(total);
  ExecuteOptions executeOptions;
  executeOptions.threads = threadsOption;
  executeOptions.maxMemory = maxMemory;
  executeOptions.sync = !noSyncOption;
  executeOptions.convertTo = convertTo;
  executeOptions.encryptWith = outputKey();
  executeOptions.progress = [&](uint64_t bytes) { progress.update(bytes); };
  Error err = executeReshard(*plan, pointers, outputs, executeOptions);
  progress.stop();
  if (err)
    return failure(reshardCommand, toString(std::move(err)));

  double seconds = progress.seconds();
  errs() << formatv("dinfer reshard: {0} source ranks -> {1} destination files, {2} written in {3:f2}s ({4}/s)\n",
                    srcRanks, outputs.size(), formatBytes(total), seconds,
                    formatBytes(static_cast<uint64_t>(total / std::max(seconds, 1e-6))));
  report("layouts with no tensor in the checkpoints", plan->missing);
  report("tensors not used by the destination layout", plan->unused);
  report("tensors without a layout, copied as replicated", plan->replicated);
  return kSuccess;
}

CommandRegistration registration(reshardCommand, runReshard);
} // namespace
