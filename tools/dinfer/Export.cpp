//===- Export.cpp - `dinfer export`: one MindIR per rank ------------------===//
//
// The seed's distributed export: the model is imported with the predict
// input shapes, the training strategy attached and adapted to the inference
// devices, cut into stages, partitioned, split into one function per rank
// and proven consistent; every rank's parameters are cut from the training
// checkpoints by the resharding planner (only the slice each rank holds is
// ever assembled), and each rank's function is written as a MindIR with its
// group_config.pb. manifest.json (docs/contracts.md section 6) lists every file
// with its sha256. The export is written beside OUT and renamed into place
// when complete.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"
#include "ModelImport.h"
#include "PredictLayout.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Formats/GroupConfig.h"
#include "dinfer/Reshard/CheckpointSet.h"
#include "dinfer/Reshard/Executor.h"
#include "dinfer/Reshard/Planner.h"
#include "dinfer/Runtime/Interpreter.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"
#include "dinfer/Translate/ExportMindIR.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand exportCommand("export", "Export one MindIR per inference rank, with its slices of the trained weights");

cl::opt<std::string> modelOption("model", cl::desc("The network (ONNX or MindIR)"), cl::value_desc("file"),
                                 cl::sub(exportCommand), cl::cat(category()));
cl::opt<std::string> trainStrategyOption("train-strategy", cl::desc("The training strategy file"),
                                         cl::value_desc("file"), cl::sub(exportCommand), cl::cat(category()));
cl::opt<std::string> ckptDirOption("ckpt-dir", cl::desc("The training checkpoints: rank_<i>/*.ckpt"),
                                   cl::value_desc("dir"), cl::sub(exportCommand), cl::cat(category()));
cl::list<std::string> inputOptions("input", cl::desc("A predict input's full shape: NAME=SHAPE[:DTYPE]"),
                                   cl::value_desc("name=shape"), cl::sub(exportCommand), cl::cat(category()));
cl::opt<int64_t> deviceNumOption("device-num", cl::desc("Inference devices (default: training's)"), cl::init(0),
                                 cl::sub(exportCommand), cl::cat(category()));
cl::opt<int64_t> stagesOption("pipeline-stages", cl::desc("Inference pipeline stages (default: training's)"),
                              cl::init(0), cl::sub(exportCommand), cl::cat(category()));
cl::opt<std::string> predictStrategyOption("predict-strategy",
                                           cl::desc("A predict strategy (dinfer layout -o) the export must match"),
                                           cl::value_desc("file"), cl::sub(exportCommand), cl::cat(category()));
cl::opt<std::string> outputOption("o", cl::desc("The export folder"), cl::value_desc("dir"), cl::sub(exportCommand),
                                  cl::cat(category()));
cl::opt<unsigned> threadsOption("threads", cl::desc("Ranks exported at once (default: cores)"), cl::init(0),
                                cl::sub(exportCommand), cl::cat(category()));
cl::opt<bool> noSyncOption("no-sync", cl::desc("Do not fsync outputs before renaming them into place"),
                           cl::sub(exportCommand), cl::cat(category()));

Error exportError(const Twine &message) { return createStringError(inconvertibleErrorCode(), message); }

/// One written file of a rank, as the manifest lists it.
struct WrittenFile {
  std::string path; ///< Relative to the export folder.
  uint64_t bytes = 0;
  std::string sha256;
};

/// Hashes every regular file under `dir` (relative paths, sorted).
Expected<std::vector<WrittenFile>> listFiles(StringRef root, StringRef dir) {
  std::vector<WrittenFile> files;
  std::error_code ec;
  for (sys::fs::recursive_directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    if (it->type() != sys::fs::file_type::regular_file)
      continue;
    auto sha256 = sha256OfFile(it->path());
    if (!sha256)
      return sha256.takeError();
    WrittenFile file;
    file.path = StringRef(it->path()).drop_front(root.size() + 1).str();
    uint64_t size = 0;
    sys::fs::file_size(it->path(), size);
    file.bytes = size;
    file.sha256 = std::move(*sha256);
    files.push_back(std::move(file));
  }
  if (ec)
    return exportError(dir + ": cannot list: " + ec.message());
  llvm::sort(files, [](const WrittenFile &a, const WrittenFile &b) { return a.path < b.path; });
  return files;
}

json::Object tensorJson(StringRef name, mlir::RankedTensorType type) {
  std::optional<DType> dtype = runtimeDType(type.getElementType());
  return json::Object{
      {"name", name}, {"dtype", dtype ? dtypeName(*dtype) : "unknown"}, {"shape", jsonList(type.getShape())}};
}

/// The planner's view of a parameter bound by --dist-materialize-params:
/// its boxes of the source checkpoints.
Expected<TensorPlan> planFromSources(dist::ParamOp param, const CheckpointSet &set) {
  auto boxes = param->getAttrOfType<mlir::ArrayAttr>(dist::DistDialect::kSourcesAttrName);
  if (!boxes)
    return exportError("parameter '" + param.getName() + "' is bound to no checkpoint data");
  TensorPlan plan;
  plan.name = param.getName().str();
  plan.shape.assign(param.getType().getShape().begin(), param.getType().getShape().end());
  uint64_t elements = 1;
  for (int64_t d : plan.shape)
    elements *= static_cast<uint64_t>(d);
  for (mlir::Attribute entry : boxes) {
    auto box = cast<mlir::DictionaryAttr>(entry);
    int64_t rank = box.getAs<mlir::IntegerAttr>("rank").getInt();
    const CheckpointTensor *tensor = set.checkpoints[rank].find(plan.name);
    if (!tensor)
      return exportError(set.checkpoints[rank].path() + ": has no tensor '" + plan.name + "'");
    plan.typeName = tensor->typeName;
    plan.srcShapes[rank] = tensor->shape;
    auto offset = box.getAs<mlir::DenseI64ArrayAttr>("offset").asArrayRef();
    auto shape = box.getAs<mlir::DenseI64ArrayAttr>("shape").asArrayRef();
    auto at = box.getAs<mlir::DenseI64ArrayAttr>("at").asArrayRef();
    TensorCopy copy;
    copy.srcRank = rank;
    copy.srcRegion = Slice{SmallVector<int64_t, 4>(offset), SmallVector<int64_t, 4>(shape)};
    copy.dstRegion = Slice{SmallVector<int64_t, 4>(at), SmallVector<int64_t, 4>(shape)};
    plan.copies.push_back(std::move(copy));
  }
  std::optional<DType> dtype = parseDType(plan.typeName);
  if (!dtype)
    return exportError("parameter '" + plan.name + "' is stored as " + plan.typeName + ", which dinfer cannot slice");
  plan.bytes = elements * dtypeBits(*dtype) / 8;
  return plan;
}

int runExport() {
  if (modelOption.empty() || trainStrategyOption.empty() || ckptDirOption.empty() || outputOption.empty())
    return usageError(exportCommand,
                      "usage: dinfer export --model MODEL --train-strategy FILE --ckpt-dir DIR --input NAME=SHAPE "
                      "... [--device-num N] [--pipeline-stages P] [--predict-strategy FILE] -o OUT");
  auto start = std::chrono::steady_clock::now();
  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  PredictSetup setup;
  if (int code = preparePrediction(exportCommand, modelOption, trainStrategyOption, inputOptions, deviceNumOption,
                                   stagesOption, context, diagnostics, setup))
    return code;
  mlir::ModuleOp module = setup.module();
  int64_t devices = setup.devices, stages = setup.stages, stageDevices = devices / stages;
  auto entry = *module.getOps<mlir::func::FuncOp>().begin();
  std::string entryName = entry.getName().str();
  json::Array inputsJson, outputsJson;
  SmallVector<std::string> inputNames;
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto name = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    inputNames.push_back(name ? name.str() : "input" + std::to_string(i));
  }
  for (unsigned i = 0; i < entry.getNumResults(); ++i) {
    auto name = entry.getResultAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    outputsJson.push_back(tensorJson(name ? name.getValue() : StringRef("output" + std::to_string(i)),
                                     cast<mlir::RankedTensorType>(entry.getResultTypes()[i])));
  }
  std::vector<mlir::RankedTensorType> inputTypes;
  for (mlir::Type type : entry.getArgumentTypes())
    inputTypes.push_back(cast<mlir::RankedTensorType>(type));

  mlir::PassManager passes(&context);
  passes.addNestedPass<mlir::func::FuncOp>(createNNFuseGeLU());
  StrategyPipelineOptions pipeline;
  pipeline.strategyFile = trainStrategyOption;
  pipeline.deviceNum = devices;
  pipeline.pipelineStages = stages;
  pipeline.trainDeviceNum = setup.trainDevices / setup.trainStages;
  pipeline.partition = true;
  pipeline.splitRanks = true;
  addStrategyPipeline(passes, pipeline);
  if (failed(passes.run(module)))
    return failure(exportCommand, modelOption + ": " + diagnostics.text("the program could not be partitioned"));
  std::vector<mlir::func::FuncOp> rankFunctions(devices);
  for (auto function : module.getOps<mlir::func::FuncOp>())
    if (auto rank = function->getAttrOfType<mlir::IntegerAttr>(dist::DistDialect::kRankAttrName))
      rankFunctions[rank.getInt()] = function;
  for (unsigned i = 0; i < inputTypes.size(); ++i) {
    json::Object input = tensorJson(inputNames[i], inputTypes[i]);
    auto layout = rankFunctions[0].getArgAttrOfType<dist::LayoutAttr>(i, dist::DistDialect::kLayoutAttrName);
    TensorLayout tl = layout ? layout.toTensorLayout() : TensorLayout{{stageDevices}, {}, 0, 0};
    if (!layout)
      tl.tensorMap.assign(inputTypes[i].getRank(), DimAxes());
    input["layout"] = json::Object{{"dev_matrix", jsonList(tl.devMatrix)}, {"tensor_map", tensorMapJson(tl.tensorMap)}};
    inputsJson.push_back(std::move(input));
  }

  // Every rank's parameter slices, planned from the training checkpoints.
  if (!predictStrategyOption.empty()) {
    std::vector<PredictParam> params = predictParams(module, stageDevices);
    auto given = readStrategy(predictStrategyOption);
    if (!given)
      return failure(exportCommand, toString(given.takeError()));
    for (const PredictParam &p : params) {
      std::vector<const StrategyLayout *> items = given->findLayouts(p.name);
      if (items.empty())
        return failure(exportCommand, predictStrategyOption + ": has no layout for parameter '" + p.name + "'");
      const TensorLayout &want = items.front()->layout;
      if (want.devMatrix != p.layout.devMatrix || want.tensorMap != p.layout.tensorMap)
        return failure(exportCommand,
                       formatv("{0}: parameter '{1}' is laid out as dev_matrix {2}, tensor_map {3}, but the program "
                               "for {4} devices in {5} stage(s) needs dev_matrix {6}, tensor_map {7}",
                               predictStrategyOption, p.name, formatList(want.devMatrix),
                               formatTensorMap(want.tensorMap), devices, stages, formatList(p.layout.devMatrix),
                               formatTensorMap(p.layout.tensorMap))
                           .str());
    }
  }
  // Every rank's parameters bound to the checkpoint boxes they are cut from.
  {
    mlir::PassManager materialize(&context);
    DistMaterializeParamsOptions bind;
    bind.ckptDir = ckptDirOption;
    bind.trainStrategy = trainStrategyOption;
    materialize.addPass(createDistMaterializeParams(bind));
    if (failed(materialize.run(module)))
      return failure(exportCommand, diagnostics.text("the weights could not be bound to the program"));
  }
  std::vector<std::string> files;
  for (mlir::Attribute file : module->getAttrOfType<mlir::ArrayAttr>(dist::DistDialect::kCheckpointsAttrName))
    files.push_back(cast<mlir::StringAttr>(file).str());
  auto sources = openCheckpointSet(files);
  if (!sources)
    return failure(exportCommand, toString(sources.takeError()));
  std::vector<const Checkpoint *> pointers = sources->pointers();

  // Written beside OUT, renamed into place when complete.
  SmallString<256> out(outputOption);
  sys::path::remove_dots(out, /*remove_dot_dot=*/true);
  std::string staging = (out + ".partial-" + Twine(sys::Process::getProcessId())).str();
  sys::fs::remove_directories(staging);
  if (std::error_code ec = sys::fs::create_directories(staging))
    return failure(exportCommand, staging + ": cannot create: " + ec.message());
  auto cleanup = make_scope_exit([&] { sys::fs::remove_directories(staging); });

  std::vector<std::string> errors(devices);
  std::vector<GroupConfig> groupConfigs(devices);
  std::vector<std::vector<WrittenFile>> rankFiles(devices);
  std::atomic<uint64_t> weightBytes{0};
  auto exportRank = [&](int64_t rank) {
    mlir::func::FuncOp function = rankFunctions[rank];
    llvm::StringMap<dist::ParamOp> paramOps;
    function.walk([&](dist::ParamOp param) { paramOps[param.getName()] = param; });
    ExportOptions options;
    options.entry = function.getName().str();
    auto model = exportMindIR(
        module,
        [&](StringRef name, MutableArrayRef<char> out) -> Error {
          auto plan = planFromSources(paramOps.lookup(name), *sources);
          if (!plan)
            return plan.takeError();
          weightBytes += plan->bytes;
          return assembleTensor(*plan, pointers, out);
        },
        options);
    if (!model) {
      errors[rank] = "rank " + std::to_string(rank) + ": " + toString(model.takeError());
      return;
    }
    SmallString<256> folder(staging);
    sys::path::append(folder, "rank_" + std::to_string(rank));
    if (std::error_code ec = sys::fs::create_directories(folder)) {
      errors[rank] = (folder + ": cannot create: " + ec.message()).str();
      return;
    }
    MindIRModel::WriteOptions writeOptions;
    writeOptions.sync = !noSyncOption;
    writeOptions.encryptWith = outputKey();
    SmallString<256> path(folder);
    sys::path::append(path, "net.mindir");
    if (Error err = model->write(path, writeOptions)) {
      errors[rank] = toString(std::move(err));
      return;
    }
    // Its communication groups.
    GroupConfig &config = groupConfigs[rank];
    std::map<std::string, std::vector<uint32_t>> groups;
    function.walk([&](mlir::Operation *op) {
      if (auto group = op->getAttrOfType<mlir::DenseI64ArrayAttr>(dist::DistDialect::kGroupAttrName))
        groups[collectiveGroupName(group.asArrayRef(), devices)] =
            std::vector<uint32_t>(group.asArrayRef().begin(), group.asArrayRef().end());
    });
    for (auto &[name, ranks] : groups)
      config.groups.push_back({name, ranks});
    config.restoreRanks = {static_cast<uint32_t>(rank)};
    SmallString<256> groupPath(folder);
    sys::path::append(groupPath, "group_config.pb");
    if (Error err = writeFileAtomically(groupPath, serializeGroupConfig(config), !noSyncOption)) {
      errors[rank] = toString(std::move(err));
      return;
    }
    // Hashed here, in parallel with the other ranks.
    auto written = listFiles(staging, folder);
    if (!written)
      errors[rank] = toString(written.takeError());
    else
      rankFiles[rank] = std::move(*written);
  };
  unsigned threads = threadsOption ? threadsOption : hardware_concurrency().compute_thread_count();
  {
    const ProgressSink &progress = currentProgressSink();
    uint64_t ranksDone = 0; // under progressMutex
    std::mutex progressMutex;
    if (progress)
      progress("export", 0, devices);
    DefaultThreadPool pool(hardware_concurrency(std::max(1u, threads)));
    for (int64_t rank = 0; rank < devices; ++rank)
      pool.async([&, rank] {
        exportRank(rank);
        if (progress) {
          std::lock_guard<std::mutex> lock(progressMutex);
          progress("export", ++ranksDone, devices);
        }
      });
    pool.wait();
  }
  for (const std::string &error : errors)
    if (!error.empty())
      return failure(exportCommand, error);

  // The manifest.
  json::Array ranksJson;
  std::map<std::string, std::vector<uint32_t>> allGroups;
  for (int64_t rank = 0; rank < devices; ++rank) {
    json::Array filesJson;
    for (const WrittenFile &file : rankFiles[rank])
      filesJson.push_back(json::Object{{"path", file.path}, {"bytes", file.bytes}, {"sha256", file.sha256}});
    ranksJson.push_back(json::Object{{"rank", rank}, {"stage", rank / stageDevices}, {"files", std::move(filesJson)}});
    for (const GroupConfig::Group &group : groupConfigs[rank].groups)
      allGroups[group.name] = group.ranks;
  }
  json::Array groupsJson;
  for (const auto &[name, ranks] : allGroups) {
    json::Array list;
    for (uint32_t r : ranks)
      list.push_back(r);
    groupsJson.push_back(json::Object{{"name", name}, {"ranks", std::move(list)}});
  }
  json::Object manifest{{"format", "dinfer-export"},
                        {"version", 1},
                        {"device_num", devices},
                        {"pipeline_stages", stages},
                        {"inputs", std::move(inputsJson)},
                        {"outputs", std::move(outputsJson)},
                        {"ranks", std::move(ranksJson)},
                        {"groups", std::move(groupsJson)},
                        {"source", json::Object{{"model", modelOption},
                                                {"train_strategy", trainStrategyOption},
                                                {"predict_strategy", predictStrategyOption.empty()
                                                                         ? json::Value(nullptr)
                                                                         : json::Value(predictStrategyOption)}}}};
  std::string manifestText;
  raw_string_ostream(manifestText) << formatv("{0:2}", json::Value(std::move(manifest))) << "\n";
  SmallString<256> manifestPath(staging);
  sys::path::append(manifestPath, "manifest.json");
  if (Error err = writeFileAtomically(manifestPath, manifestText, !noSyncOption))
    return failure(exportCommand, toString(std::move(err)));

  // Into place: an earlier export under OUT is replaced only now.
  std::string previous = (out + ".previous-" + Twine(sys::Process::getProcessId())).str();
  bool replaced = sys::fs::exists(out);
  if (replaced)
    if (std::error_code ec = sys::fs::rename(out, previous))
      return failure(exportCommand, out + ": cannot move the earlier export aside: " + ec.message());
  if (std::error_code ec = sys::fs::rename(staging, out))
    return failure(exportCommand, out + ": cannot rename the finished export into place: " + ec.message());
  if (replaced)
    sys::fs::remove_directories(previous);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  errs() << formatv("dinfer export: {0} ranks{1} -> {2} ({3} of weight slices, {4} groups, {5:f2} s)\n", devices,
                    stages > 1 ? formatv(" in {0} pipeline stages", stages).str() : std::string(), out,
                    formatBytes(weightBytes), allGroups.size(), seconds);
  return kSuccess;
}

CommandRegistration registration(exportCommand, runExport);
} // namespace
