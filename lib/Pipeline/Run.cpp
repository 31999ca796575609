//===- Run.cpp - a model, a partitioned program or an export, run ---------===//

#include "dinfer/Pipeline/Run.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Formats/Manifest.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Pipeline/ExportFolder.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Layout/Text.h"
#include "dinfer/Pipeline/ModelImport.h"
#include "dinfer/Pipeline/RankRunner.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"
#include "dinfer/Translate/ImportMindIR.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <sys/resource.h>

using namespace llvm;
using namespace dinfer;

namespace {
Error runError(const Twine &message) { return createStringError(inconvertibleErrorCode(), message); }

/// An output may be a view of a weight (a graph that returns one), and the
/// model it lies in is gone once the run returns.
std::vector<Buffer> owned(std::vector<Buffer> outputs) {
  for (Buffer &output : outputs)
    output.materialize();
  return outputs;
}

RankRunOptions rankOptions(const RunRequest &request, std::vector<double> &timesMs) {
  RankRunOptions options;
  options.threads = request.threads;
  options.timeout = request.timeout;
  options.repeat = request.repeat;
  options.timesMs = &timesMs;
  options.productType = request.dtype;
  return options;
}

/// The module partitioned for `request.deviceNum` ranks from the training
/// strategy, one function per rank, run on that many threads; every rank
/// gets the slices of the inputs and weights its layouts name. Returns the
/// outputs of the first rank of the last stage (every rank of that stage has
/// the same whole tensors).
Expected<std::vector<Buffer>> runOnRanks(const RunRequest &request, mlir::ModuleOp module, mlir::MLIRContext &context,
                                         const DiagnosticCollector &diagnostics, const std::vector<Buffer> &inputs,
                                         WeightSource weights, std::string &summary, std::vector<double> &timesMs) {
  int64_t devices = request.deviceNum;
  mlir::PassManager passes(&context);
  StrategyPipelineOptions pipeline;
  pipeline.strategyFile = request.trainStrategy;
  pipeline.deviceNum = devices;
  pipeline.pipelineStages = request.pipelineStages;
  pipeline.partition = true;
  pipeline.splitRanks = true;
  addStrategyPipeline(passes, pipeline);
  // Each rank's function, as partitioned from the program the strategy names.
  passes.addNestedPass<mlir::func::FuncOp>(createNNComputeInFloat32());
  if (failed(passes.run(module)))
    return runError(request.model + ": " + diagnostics.text("the program could not be partitioned"));
  int64_t stages = dist::deviceCountsOf(module).value_or(dist::DeviceCounts()).stages, stageSize = devices / stages;
  RankPreparer prepare = splitRanksPreparer(module, inputs, [weights](StringRef name) { return weights(name); });
  auto outputs = runRanksInProcess(devices, stageSize, devices - stageSize, prepare, rankOptions(request, timesMs));
  if (!outputs)
    return outputs.takeError();
  summary = formatv("{0} ranks in one process{1}, layouts from {2}", devices,
                    stages > 1 ? formatv(" ({0} pipeline stages of {1})", stages, stageSize).str() : std::string(),
                    request.trainStrategy)
                .str();
  return outputs;
}

/// An export folder: every file is checked against the manifest's sha256
/// before anything is loaded; every rank runs its MindIR on a thread of this
/// process, or, under mpirun, this process runs its own rank.
Expected<RunResult> runExportFolder(const RunRequest &request) {
  auto folder = openExportFolder(request.model);
  if (!folder)
    return folder.takeError();
  const ExportManifest &manifest = folder->manifest;
  int64_t devices = manifest.deviceNum, stageSize = manifest.stageSize();

  // Global inputs in, each rank's slice by the manifest's input layouts.
  std::vector<Buffer> globalInputs;
  std::vector<TensorLayout> inputLayouts;
  for (const ExportManifest::Tensor &input : manifest.inputs) {
    auto given = request.inputs.find(input.name);
    if (given == request.inputs.end())
      return usageError("the export takes input '" + input.name + "': --input " + input.name + "=FILE.npy");
    globalInputs.push_back(Buffer(given->second));
    inputLayouts.push_back(*input.layout);
  }
  RunResult result;
  std::vector<NpyArray> outputTypes;
  for (const ExportManifest::Tensor &output : manifest.outputs) {
    result.names.push_back(output.name);
    NpyArray type;
    type.dtype = output.dtype.value_or(DType::Float32);
    type.shape = output.shape;
    outputTypes.push_back(std::move(type));
  }

  std::vector<mlir::MLIRContext> contexts(devices);
  std::vector<std::optional<MindIRModel>> models(devices);
  std::vector<mlir::OwningOpRef<mlir::ModuleOp>> modules(devices);
  auto prepareRank = [&](int64_t rank) -> Expected<RankProgram> {
    mlir::MLIRContext &context = contexts[rank];
    context.disableMultithreading();
    auto module = importRankMindIR(*folder, rank, "net.mindir", context, models[rank]);
    if (!module)
      return module.takeError();
    modules[rank] = std::move(*module);
    for (auto function : modules[rank]->getOps<mlir::func::FuncOp>())
      if (failed(computeInFloat32(function)))
        return runError("rank " + std::to_string(rank) + ": its half-precision values cannot be computed in float32");
    auto executable = Executable::prepare(*modules[rank]);
    if (!executable)
      return executable.takeError();
    RankProgram program;
    program.executable = std::move(*executable);
    for (auto [i, full] : llvm::enumerate(globalInputs)) {
      auto slice = sliceOf(full, inputLayouts[i], rank % stageSize);
      if (!slice)
        return slice.takeError();
      program.inputs.push_back(std::move(*slice));
    }
    const MindIRModel *mindir = &*models[rank];
    auto parameters = std::make_shared<llvm::StringMap<const MindIRParameter *>>();
    for (const MindIRParameter &p : mindir->parameters())
      (*parameters)[p.name] = &p;
    program.weights = [mindir, parameters](StringRef name) -> Expected<Buffer> {
      if (const MindIRParameter *p = parameters->lookup(name))
        return viewMindIRWeight(*mindir, *p);
      return runError("the MindIR has no weight '" + name + "'");
    };
    return program;
  };
  int64_t outputRank = devices - stageSize;
  if (runningUnderMPI()) {
    auto preparer = [&](int64_t rank) -> Expected<RankProgram> {
      auto program = prepareRank(rank);
      if (!program)
        return runError(request.model + ": " + toString(program.takeError()));
      return program;
    };
    int rank = 0;
    auto outputs = runRankUnderMPI(devices, stageSize, outputRank, outputTypes, preparer, rankOptions(request, result.timesMs), rank);
    if (!outputs)
      return outputs.takeError();
    result.holdsOutputs = rank == 0;
    result.outputs = owned(std::move(*outputs));
    if (rank == 0)
      result.summary = formatv("rank 0 of {0} processes under mpirun, from {1} (every file matches the manifest)",
                               devices, request.model)
                           .str();
    return result;
  }
  auto outputs = runRanksInProcess(devices, stageSize, outputRank, prepareRank, rankOptions(request, result.timesMs));
  if (!outputs)
    return outputs.takeError();
  result.outputs = owned(std::move(*outputs));
  result.summary =
      formatv("{0} ranks in one process{1}, from {2} (every file matches the manifest)", devices,
              manifest.pipelineStages > 1
                  ? formatv(" ({0} pipeline stages of {1})", manifest.pipelineStages, stageSize).str()
                  : std::string(),
              request.model)
          .str();
  return result;
}

Expected<RunResult> runModelFile(const RunRequest &request) {
  if (request.model.empty())
    return usageError("a run needs a model file or an export folder");
  if (sys::fs::is_directory(request.model))
    return runExportFolder(request);
  if ((request.deviceNum > 0) != !request.trainStrategy.empty())
    return usageError("--device-num and --train-strategy go together (a partitioned run)");
  if (request.pipelineStages > 0 && request.deviceNum <= 0)
    return usageError("--pipeline-stages needs --device-num (a partitioned run)");
  setKernelThreads(request.threads);

  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  std::map<std::string, SmallVector<int64_t, 4>> shapes;
  std::map<std::string, std::string> values;
  for (const auto &[name, array] : request.inputs) {
    shapes[name] = SmallVector<int64_t, 4>(array.shape.begin(), array.shape.end());
    values[name] = serializeOnnxTensor(array, name);
  }
  auto imported = importModel(request.model, context, diagnostics, shapes, values, /*checkShapes=*/false);
  if (!imported)
    return imported.takeError();
  std::optional<OnnxModel> &onnxModel = (*imported)->onnx;
  std::optional<MindIRModel> &mindirModel = (*imported)->mindir;
  mlir::OwningOpRef<mlir::ModuleOp> &module = (*imported)->module;
  // Folds and fusions that make the program cheaper to run without
  // changing its meaning (ops on constants become the constants they
  // compute; GeLU spelled out in elementwise ops becomes one nn.gelu).
  if (request.fuse) {
    mlir::PassManager passes(&context);
    addRunFusions(passes);
    if (failed(passes.run(*module)))
      return runError(request.model + ": " + diagnostics.text("fusion failed"));
  }

  auto entry = *module->getOps<mlir::func::FuncOp>().begin();
  // float16 and bfloat16 programs compute in float32 (a partitioned run
  // widens each rank's function once the strategy is applied).
  if (request.deviceNum == 0 && failed(computeInFloat32(entry)))
    return runError(request.model + ": " + diagnostics.text("cannot compute it in float32"));
  // A partitioned run replaces the entry by one function per rank.
  RunResult result;
  for (unsigned i = 0; i < entry.getNumResults(); ++i) {
    auto nameAttr = entry.getResultAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    result.names.push_back(nameAttr ? nameAttr.str() : "output" + std::to_string(i));
  }
  std::vector<Buffer> buffers;
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto nameAttr = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    std::string name = nameAttr ? nameAttr.str() : "input" + std::to_string(i);
    auto it = request.inputs.find(name);
    if (it == request.inputs.end())
      return runError("input '" + name + "' is missing: give --input " + name + "=FILE.npy");
    Buffer input(it->second);
    auto type = cast<mlir::RankedTensorType>(entry.getArgument(i).getType());
    // numpy and ONNX's test data have no bfloat16: its bits come as uint16.
    if (runtimeDType(type.getElementType()) == DType::BFloat16 && input.dtype == DType::UInt16)
      input.dtype = DType::BFloat16;
    if (SmallVector<int64_t, 4>(type.getShape()) != input.shape ||
        runtimeDType(type.getElementType()) != input.dtype)
      return runError(formatv("input '{0}' is {1} of {2}, but the model takes {3} of {4}", name,
                              dtypeName(input.dtype), formatList(input.shape),
                              dtypeName(*runtimeDType(type.getElementType())), formatList(type.getShape()))
                          .str());
    buffers.push_back(std::move(input));
  }

  // Weights are read where they lie: inside the loaded model, or mapped from
  // its external data files.
  llvm::StringMap<const onnx::TensorProto *> initializers;
  llvm::StringMap<const MindIRParameter *> parameters;
  if (onnxModel)
    for (const onnx::TensorProto &tensor : onnxModel->proto().graph().initializer())
      initializers[tensor.name()] = &tensor;
  if (mindirModel)
    for (const MindIRParameter &p : mindirModel->parameters())
      parameters[p.name] = &p;
  auto weights = [&](StringRef name) -> Expected<Buffer> {
    if (const onnx::TensorProto *tensor = initializers.lookup(name))
      return viewOnnxWeight(*onnxModel, *tensor);
    if (const MindIRParameter *p = parameters.lookup(name))
      return viewMindIRWeight(*mindirModel, *p);
    return runError("the model has no weight '" + name + "'");
  };
  if (request.deviceNum > 0) {
    auto distributed =
        runOnRanks(request, *module, context, diagnostics, buffers, weights, result.summary, result.timesMs);
    if (!distributed)
      return distributed.takeError();
    result.outputs = owned(std::move(*distributed));
    return result;
  }
  std::vector<Buffer> firstInputs = request.repeat ? buffers : std::vector<Buffer>();
  // Timed runs read the inputs in place, as a serving loop hands them over,
  // and give their outputs' storage back, as a serving loop that is done
  // with them would.
  auto inputViews = [&] {
    std::vector<Buffer> views;
    for (const Buffer &input : firstInputs)
      views.push_back(Buffer::view(input.dtype, input.shape, input.bytes()));
    return views;
  };
  // With repeat the profile covers the timed runs, not the first (which also
  // builds the kernels' primitives).
  OpProfile profile;
  profile.byShape = request.profileByShape;
  bool profileFirst = request.profile && !request.repeat;
  auto executable = Executable::prepare(*module);
  if (!executable)
    return executable.takeError();
  (*executable)->computeProductsIn(request.dtype);
  auto outputs = (*executable)->run(std::move(buffers), weights, profileFirst ? &profile : nullptr);
  result.bfloat16Products = (*executable)->bfloat16Products();
  result.packedProducts = (*executable)->packedProducts();
  if (!outputs)
    return outputs.takeError();
  for (unsigned round = 0; round < request.repeat; ++round) {
    auto began = std::chrono::steady_clock::now();
    auto again = (*executable)->run(inputViews(), weights, request.profile ? &profile : nullptr);
    result.timesMs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count());
    if (!again)
      return again.takeError();
    (*executable)->recycle(std::move(*again));
  }
  if (request.repeat && request.profile)
    profile.scale(1.0 / request.repeat);
  llvm::sort(result.timesMs);
  if (request.profile) {
    result.profile = std::move(profile);
    result.memory = (*executable)->memoryUse();
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) == 0)
      result.peakResidentBytes = static_cast<size_t>(usage.ru_maxrss) * 1024;
  }
  result.outputs = owned(std::move(*outputs));
  return result;
}
} // namespace

Expected<RunResult> dinfer::runModel(const RunRequest &request) {
  auto result = runModelFile(request);
  if (result)
    llvm::sort(result->timesMs);
  return result;
}
