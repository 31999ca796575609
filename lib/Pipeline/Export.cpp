//===- Export.cpp - one MindIR per inference rank -------------------------===//

#include "dinfer/Pipeline/Export.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Formats/GroupConfig.h"
#include "dinfer/Formats/Manifest.h"
#include "dinfer/Layout/Text.h"
#include "dinfer/Pipeline/Decoder.h"
#include "dinfer/Pipeline/Prediction.h"
#include "dinfer/Pipeline/RankRunner.h"
#include "dinfer/Pipeline/Report.h"
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

namespace {
Error exportError(const Twine &message) { return createStringError(inconvertibleErrorCode(), message); }

using WrittenFile = ExportManifest::File;

/// Hashes every regular file under `dir` (relative paths, sorted).
/// The files under `dir`, with their SHA-256: from `known` (by path) where
/// the writer hashed them as it wrote, else read back.
Expected<std::vector<WrittenFile>> listFiles(StringRef root, StringRef dir, const llvm::StringMap<std::string> &known) {
  std::vector<WrittenFile> files;
  std::error_code ec;
  for (sys::fs::recursive_directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    if (it->type() != sys::fs::file_type::regular_file)
      continue;
    auto found = known.find(it->path());
    auto sha256 = found != known.end() ? Expected<std::string>(found->second) : sha256OfFile(it->path());
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

ExportManifest::Tensor manifestTensor(StringRef name, mlir::RankedTensorType type) {
  ExportManifest::Tensor tensor;
  tensor.name = name.str();
  tensor.dtype = runtimeDType(type.getElementType());
  tensor.shape.assign(type.getShape().begin(), type.getShape().end());
  return tensor;
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
  for (auto box : boxes.getAsRange<dist::SourceBoxAttr>()) {
    int64_t rank = box.getRank();
    const CheckpointTensor *tensor = set.checkpoints[rank].find(plan.name);
    if (!tensor)
      return exportError(set.checkpoints[rank].path() + ": has no tensor '" + plan.name + "'");
    plan.typeName = tensor->typeName;
    ArrayRef<int64_t> offset = box.getOffset(), shape = box.getShape(), at = box.getAt();
    TensorCopy copy;
    copy.srcRank = rank;
    copy.srcOffset.assign(offset.begin(), offset.end());
    copy.dstOffset.assign(at.begin(), at.end());
    copy.shape.assign(shape.begin(), shape.end());
    copy.srcShape.assign(tensor->shape.begin(), tensor->shape.end());
    plan.copies.push_back(std::move(copy));
  }
  std::optional<DType> dtype = parseDType(plan.typeName);
  if (!dtype)
    return exportError("parameter '" + plan.name + "' is stored as " + plan.typeName + ", which dinfer cannot slice");
  plan.bytes = elements * dtypeBits(*dtype) / 8;
  return plan;
}

/// One program of an export: its file in every rank's folder and the input
/// shapes it is imported with; a decoder's step also keeps its cache on the
/// ranks (keepCacheOnRanks).
struct ProgramSpec {
  std::string file;
  std::vector<std::string> inputSpecs;
  const DecoderSignature *cache = nullptr;
  std::string step; ///< "prefill" or "decode", for messages
};

/// What writing one program into every rank's folder left.
struct WrittenProgram {
  std::vector<ExportManifest::Tensor> inputs, outputs;
  PartitionReport report;
  int64_t devices = 0, stages = 0;
};

/// Per rank of the export, filled by every program written into its folder.
struct RankFolders {
  std::vector<std::map<std::string, std::vector<uint32_t>>> groups;
  std::vector<llvm::StringMap<std::string>> digests;
  std::atomic<uint64_t> weightBytes{0};
  size_t programs = 1;
  uint64_t ranksDone = 0; ///< progress, under `mutex`
  std::mutex mutex;
};

Expected<WrittenProgram> exportProgram(const ExportRequest &request, const ProgramSpec &spec, StringRef staging,
                                       RankFolders &folders) {
  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  // A decoder's steps run in one stage: every rank holds its cache's heads.
  PredictionRequest prediction{request.model, request.trainStrategy, spec.inputSpecs, request.deviceNum,
                               spec.cache ? 1 : request.pipelineStages};
  auto prepared = preparePrediction(prediction, context, diagnostics);
  if (!prepared)
    return prepared.takeError();
  PredictSetup &setup = *prepared;
  mlir::ModuleOp module = setup.module();
  WrittenProgram written;
  int64_t devices = written.devices = setup.devices, stages = written.stages = setup.stages;
  int64_t stageDevices = devices / stages;
  auto entry = *module.getOps<mlir::func::FuncOp>().begin();
  SmallVector<std::string> inputNames;
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto name = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    inputNames.push_back(name ? name.str() : "input" + std::to_string(i));
  }
  std::vector<mlir::RankedTensorType> inputTypes, outputTypes;
  for (mlir::Type type : entry.getArgumentTypes())
    inputTypes.push_back(cast<mlir::RankedTensorType>(type));
  for (mlir::Type type : entry.getResultTypes())
    outputTypes.push_back(cast<mlir::RankedTensorType>(type));

  mlir::PassManager passes(&context);
  if (!spec.cache) {
    setup.addPartitionPasses(passes, request.trainStrategy);
    if (failed(passes.run(module)))
      return exportError(request.model + ": " + diagnostics.text("the program could not be partitioned"));
  } else {
    // A decoder's step: laid out first, its cache kept on the ranks, then
    // partitioned.
    passes.addNestedPass<mlir::func::FuncOp>(createNNFoldConstants());
    passes.addNestedPass<mlir::func::FuncOp>(createNNFuseGeLU());
    addStrategyPipeline(passes, setup.strategyPipeline(request.trainStrategy, /*partition=*/false));
    if (failed(passes.run(module)))
      return exportError(request.model + ": the " + spec.step + " step could not be laid out: " +
                         diagnostics.text("the strategy does not fit"));
    if (Error err = keepCacheOnRanks(module, *spec.cache, request.model, spec.step,
                                     [&] { return diagnostics.text("the strategy does not fit"); }))
      return std::move(err);
    mlir::PassManager partition(&context);
    addPartitionToRanks(partition);
    if (failed(partition.run(module)))
      return exportError(request.model + ": the " + spec.step + " step could not be partitioned: " +
                         diagnostics.text("the strategy does not fit"));
  }
  std::vector<mlir::func::FuncOp> rankFunctions = rankFunctionsOf(module, devices);
  for (unsigned i = 0; i < inputTypes.size(); ++i) {
    ExportManifest::Tensor input = manifestTensor(inputNames[i], inputTypes[i]);
    auto layout = rankFunctions[0].getArgAttrOfType<dist::LayoutAttr>(i, dist::DistDialect::kLayoutAttrName);
    TensorLayout tl = layout ? layout.toTensorLayout() : TensorLayout{{stageDevices}, {}, 0, 0};
    if (!layout)
      tl.tensorMap.assign(inputTypes[i].getRank(), DimAxes());
    input.layout = std::move(tl);
    written.inputs.push_back(std::move(input));
  }
  // An output left split (a decoder's cache) says how; the others are whole.
  mlir::func::FuncOp lastStage = rankFunctions[devices - stageDevices];
  for (unsigned i = 0; i < outputTypes.size(); ++i) {
    auto name = lastStage.getResultAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    ExportManifest::Tensor output =
        manifestTensor(name ? name.str() : "output" + std::to_string(i), outputTypes[i]);
    if (auto layout = lastStage.getResultAttrOfType<dist::LayoutAttr>(i, dist::DistDialect::kLayoutAttrName))
      output.layout = layout.toTensorLayout();
    written.outputs.push_back(std::move(output));
  }

  // The report's data, before the weights are bound (docs/report.md).
  written.report = collectReport(module, setup, request.model, request.trainStrategy);

  // Every rank's parameter slices, planned from the training checkpoints.
  if (!request.predictStrategy.empty()) {
    std::vector<PredictParam> params = predictParams(module, stageDevices);
    auto given = readStrategy(request.predictStrategy);
    if (!given)
      return given.takeError();
    for (const PredictParam &p : params) {
      std::vector<const StrategyLayout *> items = given->findLayouts(p.name);
      if (items.empty())
        return exportError(request.predictStrategy + ": has no layout for parameter '" + p.name + "'");
      const TensorLayout &want = items.front()->layout;
      if (items.front()->parts != p.parts)
        return exportError(request.predictStrategy + ": parameter '" + p.name + "' is laid out " +
                           (p.parts ? "as one tensor, but the program reads it part by part (a packed projection)"
                                    : "part by part, but the program reads it as one tensor"));
      if (want.devMatrix != p.layout.devMatrix || want.tensorMap != p.layout.tensorMap)
        return exportError(
                       formatv("{0}: parameter '{1}' is laid out as dev_matrix {2}, tensor_map {3}, but the program "
                               "for {4} devices in {5} stage(s) needs dev_matrix {6}, tensor_map {7}",
                               request.predictStrategy, p.name, formatList(want.devMatrix),
                               formatTensorMap(want.tensorMap), devices, stages, formatList(p.layout.devMatrix),
                               formatTensorMap(p.layout.tensorMap))
                           .str());
    }
  }
  // Every rank's parameters bound to the checkpoint boxes they are cut from.
  {
    mlir::PassManager materialize(&context);
    DistMaterializeParamsOptions bind;
    bind.ckptDir = request.ckptDir;
    bind.trainStrategy = request.trainStrategy;
    materialize.addPass(createDistMaterializeParams(bind));
    if (failed(materialize.run(module)))
      return exportError(diagnostics.text("the weights could not be bound to the program"));
  }
  std::vector<std::string> files;
  for (mlir::Attribute file : module->getAttrOfType<mlir::ArrayAttr>(dist::DistDialect::kCheckpointsAttrName))
    files.push_back(cast<mlir::StringAttr>(file).str());
  auto sources = openCheckpointSet(files);
  if (!sources)
    return sources.takeError();
  std::vector<const Checkpoint *> pointers = sources->pointers();

  folders.groups.resize(devices);
  folders.digests.resize(devices);
  std::vector<std::string> errors(devices);
  auto exportRank = [&](int64_t rank) {
    mlir::func::FuncOp function = rankFunctions[rank];
    llvm::StringMap<dist::ParamOp> paramOps;
    function.walk([&](dist::ParamOp param) { paramOps[param.getName()] = param; });
    ExportOptions options;
    options.entry = function.getName().str();
    // The weights go from the checkpoints straight into the file, parameter
    // by parameter: a rank's weights are never all in memory.
    options.weightsPending = true;
    auto model = exportMindIR(
        module, [](StringRef, MutableArrayRef<char>) { return Error::success(); }, options);
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
    writeOptions.sync = request.sync;
    writeOptions.encryptWith = request.encryptWith;
    std::optional<TensorStream> stream;
    int streaming = -1; // the parameter `stream` assembles
    writeOptions.weights = [&](const MindIRParameter &parameter, uint64_t offset, MutableArrayRef<char> out) -> Error {
      if (parameter.index != streaming) {
        stream.reset();
        auto plan = planFromSources(paramOps.lookup(parameter.name), *sources);
        if (!plan)
          return plan.takeError();
        folders.weightBytes += plan->bytes;
        stream.emplace(*plan, pointers);
        streaming = parameter.index;
      }
      return stream->fill(offset, out);
    };
    llvm::StringMap<std::string> &digests = folders.digests[rank];
    writeOptions.digests = [&](StringRef path, StringRef sha256) { digests[path] = sha256.str(); };
    SmallString<256> path(folder);
    sys::path::append(path, spec.file);
    if (Error err = model->write(path, writeOptions)) {
      errors[rank] = "rank " + std::to_string(rank) + ": " + toString(std::move(err));
      return;
    }
    stream.reset();
    // Its communication groups.
    function.walk([&](mlir::Operation *op) {
      if (auto group = op->getAttrOfType<mlir::DenseI64ArrayAttr>(dist::DistDialect::kGroupAttrName))
        folders.groups[rank][collectiveGroupName(group.asArrayRef(), devices)] =
            std::vector<uint32_t>(group.asArrayRef().begin(), group.asArrayRef().end());
    });
  };
  unsigned threads = request.threads ? request.threads : hardware_concurrency().compute_thread_count();
  {
    const ProgressSink &progress = request.progress;
    uint64_t total = static_cast<uint64_t>(devices) * folders.programs;
    if (progress && folders.ranksDone == 0)
      progress("export", 0, total);
    DefaultThreadPool pool(hardware_concurrency(std::max(1u, threads)));
    for (int64_t rank = 0; rank < devices; ++rank)
      pool.async([&, rank] {
        exportRank(rank);
        if (progress) {
          std::lock_guard<std::mutex> lock(folders.mutex);
          progress("export", ++folders.ranksDone, total);
        }
      });
    pool.wait();
  }
  for (const std::string &error : errors)
    if (!error.empty())
      return exportError(error);
  return written;
}

/// A generation export's two steps from `--max-length` and the prompt's
/// shape (`--input input_ids=B,T`).
Expected<std::vector<ProgramSpec>> generationPrograms(const ExportRequest &request, DecoderSignature &signature,
                                                      ExportManifest::Generation &generation) {
  auto decoder = openDecoder(request.model, "--max-length exports an ONNX decoder (MindIR decoders are not supported "
                                            "yet)");
  if (!decoder)
    return decoder.takeError();
  signature = std::move(decoder->signature);
  auto specs = parseInputSpecs(request.inputSpecs);
  if (!specs)
    return usageError(toString(specs.takeError()));
  auto ids = specs->find(kInputIds.str());
  if (ids == specs->end() || specs->size() != 1 || ids->second.shape.size() != 2 || ids->second.shape[0] <= 0 ||
      ids->second.shape[1] <= 0)
    return usageError("a generation export (--max-length) takes the prompt's shape alone: --input "
                      "input_ids=BATCH,TOKENS (the cache and mask shapes follow from it)");
  int64_t batch = ids->second.shape[0], prompt = ids->second.shape[1];
  if (request.pipelineStages > 1)
    return usageError("a generation export (--max-length) runs in one pipeline stage: leave out --pipeline-stages");
  if (request.maxLength <= prompt)
    return usageError(formatv("--max-length {0} leaves no room for a new token after a prompt of {1}",
                              request.maxLength, prompt)
                          .str());
  generation.batch = batch;
  generation.promptLength = prompt;
  // The decode step's cache holds every token but the last one generated.
  generation.capacity = request.maxLength - 1;
  generation.layers = signature.layers();
  generation.decodeFile = "decode.mindir";
  std::vector<ProgramSpec> programs(2);
  programs[0] = {"net.mindir", signature.stepInputSpecs(batch, prompt, 0), &signature, "prefill"};
  programs[1] = {generation.decodeFile, signature.stepInputSpecs(batch, 1, generation.capacity), &signature,
                 "decode"};
  return programs;
}
} // namespace

Expected<ExportSummary> dinfer::exportModel(const ExportRequest &request) {
  if (request.model.empty() || request.trainStrategy.empty() || request.ckptDir.empty() || request.output.empty())
    return usageError("an export needs the model, the training strategy, the checkpoint folder and the output folder");
  auto start = std::chrono::steady_clock::now();
  std::vector<ProgramSpec> programs;
  DecoderSignature signature;
  ExportManifest::Generation generation;
  if (request.maxLength > 0) {
    auto steps = generationPrograms(request, signature, generation);
    if (!steps)
      return steps.takeError();
    programs = std::move(*steps);
  } else {
    programs.push_back({"net.mindir", request.inputSpecs, nullptr, ""});
  }

  // Written beside OUT, renamed into place when complete.
  SmallString<256> out(request.output);
  sys::path::remove_dots(out, /*remove_dot_dot=*/true);
  std::string staging = (out + ".partial-" + Twine(sys::Process::getProcessId())).str();
  sys::fs::remove_directories(staging);
  if (std::error_code ec = sys::fs::create_directories(staging))
    return exportError(staging + ": cannot create: " + ec.message());
  scope_exit cleanup([&] { sys::fs::remove_directories(staging); });

  RankFolders folders;
  folders.programs = programs.size();
  std::vector<WrittenProgram> written;
  for (const ProgramSpec &program : programs) {
    auto done = exportProgram(request, program, staging, folders);
    if (!done)
      return done.takeError();
    written.push_back(std::move(*done));
  }
  const WrittenProgram &net = written.front();
  int64_t devices = net.devices, stages = net.stages, stageDevices = devices / stages;

  // Every rank's communication groups and the files in its folder.
  std::vector<std::vector<WrittenFile>> rankFiles(devices);
  std::map<std::string, std::vector<uint32_t>> allGroups;
  for (int64_t rank = 0; rank < devices; ++rank) {
    SmallString<256> folder(staging);
    sys::path::append(folder, "rank_" + std::to_string(rank));
    GroupConfig config;
    for (auto &[name, ranks] : folders.groups[rank]) {
      config.groups.push_back({name, ranks});
      allGroups[name] = ranks;
    }
    config.restoreRanks = {static_cast<uint32_t>(rank)};
    SmallString<256> groupPath(folder);
    sys::path::append(groupPath, "group_config.pb");
    if (Error err = writeFileAtomically(groupPath, serializeGroupConfig(config), request.sync))
      return std::move(err);
    auto files = listFiles(staging, folder, folders.digests[rank]);
    if (!files)
      return files.takeError();
    rankFiles[rank] = std::move(*files);
  }

  // The manifest.
  ExportManifest manifest;
  manifest.deviceNum = devices;
  manifest.pipelineStages = stages;
  manifest.source = {request.model, request.trainStrategy, request.predictStrategy};
  manifest.inputs = net.inputs;
  manifest.outputs = net.outputs;
  if (written.size() > 1) {
    generation.inputs = written.back().inputs;
    generation.outputs = written.back().outputs;
    manifest.generation = std::move(generation);
  }
  for (int64_t rank = 0; rank < devices; ++rank)
    manifest.ranks.push_back({rank, rank / stageDevices, std::move(rankFiles[rank])});
  for (auto &[name, ranks] : allGroups)
    manifest.groups.push_back({name, ranks});
  std::string manifestText = serializeManifest(manifest);
  SmallString<256> manifestPath(staging);
  sys::path::append(manifestPath, "manifest.json");
  if (Error err = writeFileAtomically(manifestPath, manifestText, request.sync))
    return std::move(err);

  SmallString<256> reportPath(staging);
  sys::path::append(reportPath, "report.json");
  std::string reportText;
  raw_string_ostream(reportText) << formatv("{0:2}", reportJson(net.report)) << "\n";
  if (Error err = writeFileAtomically(reportPath, reportText, request.sync))
    return std::move(err);
  if (request.report) {
    SmallString<256> htmlPath(staging);
    sys::path::append(htmlPath, "report.html");
    if (Error err = writeReportHtml(net.report, htmlPath, request.sync))
      return std::move(err);
  }

  // Into place: an earlier export under OUT is replaced only now.
  std::string previous = (out + ".previous-" + Twine(sys::Process::getProcessId())).str();
  bool replaced = sys::fs::exists(out);
  if (replaced)
    if (std::error_code ec = sys::fs::rename(out, previous))
      return exportError(out + ": cannot move the earlier export aside: " + ec.message());
  if (std::error_code ec = sys::fs::rename(staging, out))
    return exportError(out + ": cannot rename the finished export into place: " + ec.message());
  if (replaced)
    sys::fs::remove_directories(previous);
  ExportSummary summary;
  summary.output = out.str().str();
  summary.devices = devices;
  summary.stages = stages;
  summary.weightBytes = folders.weightBytes;
  summary.groups = allGroups.size();
  for (const ReportRank &rank : net.report.ranks)
    summary.rankCommunication.push_back({rank.collectives.size(), rank.sentBytes});
  if (written.size() > 1)
    for (const ReportRank &rank : written.back().report.ranks)
      summary.decodeCommunication.push_back({rank.collectives.size(), rank.sentBytes});
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}
