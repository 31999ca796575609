//===- Run.cpp - `dinfer run`: a model on one device ----------------------===//
//
//   dinfer run MODEL --input NAME=FILE.npy|FILE.pb ... [--output-dir DIR]
//              [--expect NAME=FILE ...] [--rtol R] [--atol A]
//
// Runs an ONNX or MindIR model with the single-device interpreter and writes
// every graph output as <output-dir>/<name>.npy (docs/contracts.md section 7).
//   dinfer run OUT --input NAME=FILE.npy ...  runs an export folder (`dinfer
// export`): every file checked against the manifest, every rank on a thread.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"
#include "ModelImport.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Formats/GroupConfig.h"
#include "dinfer/Formats/Manifest.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Formats/Npy.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Reshard/Layout.h"
#include "dinfer/Runtime/Communicator.h"
#include "dinfer/Runtime/Interpreter.h"
#if DINFER_HAVE_MPI
#include "dinfer/Runtime/MPICommunicator.h"
#endif
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"
#include "dinfer/Translate/ImportMindIR.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand runCommand("run", "Run a model on this machine");

cl::opt<std::string> modelOption(cl::Positional, cl::desc("<model>"), cl::sub(runCommand), cl::cat(category()));
cl::list<std::string> inputOptions("input", cl::desc("A graph input: NAME=FILE.npy (or an ONNX test's FILE.pb)"),
                                   cl::value_desc("name=file"), cl::sub(runCommand), cl::cat(category()));
cl::opt<std::string> outputDirOption("output-dir", cl::desc("Folder for <output>.npy files (default: .)"),
                                     cl::init("."), cl::sub(runCommand), cl::cat(category()));
cl::list<std::string> expectOptions("expect", cl::desc("Compare an output with a reference: NAME=FILE.npy|FILE.pb"),
                                    cl::value_desc("name=file"), cl::sub(runCommand), cl::cat(category()));
cl::opt<double> rtolOption("rtol", cl::desc("Relative tolerance of --expect"), cl::init(1e-3), cl::sub(runCommand),
                           cl::cat(category()));
cl::opt<double> atolOption("atol", cl::desc("Absolute tolerance of --expect"), cl::init(1e-5), cl::sub(runCommand),
                           cl::cat(category()));
cl::opt<unsigned> repeatOption("repeat",
                               cl::desc("Time N more runs after the first and print the best and median (ms)"),
                               cl::init(0), cl::sub(runCommand), cl::cat(category()));
cl::opt<int64_t>
    deviceNumOption("device-num",
                    cl::desc("Run partitioned over N ranks (threads of this process); needs --train-strategy"),
                    cl::init(0), cl::sub(runCommand), cl::cat(category()));
cl::opt<int64_t> pipelineStagesOption("pipeline-stages",
                                      cl::desc("Pipeline stages of a partitioned run (default: the training's)"),
                                      cl::init(0), cl::sub(runCommand), cl::cat(category()));
cl::opt<std::string> trainStrategyOption("train-strategy",
                                         cl::desc("The training strategy the ranks' layouts are inferred from"),
                                         cl::value_desc("file"), cl::sub(runCommand), cl::cat(category()));
cl::opt<unsigned> timeoutOption("timeout", cl::desc("Seconds every collective may take (default 300)"), cl::init(300),
                                cl::sub(runCommand), cl::cat(category()));
cl::opt<bool> noFuseOption("no-fuse", cl::desc("Run the program as imported, without fusing ops"), cl::sub(runCommand),
                           cl::cat(category()));
cl::opt<bool> profileOption("profile", cl::desc("Print the time each kind of op took"), cl::sub(runCommand),
                            cl::cat(category()));
cl::opt<unsigned> threadsOption("threads", cl::desc("Kernel threads (default: all cores)"), cl::init(0),
                                cl::sub(runCommand), cl::cat(category()));

Expected<NpyArray> readArray(StringRef file) {
  if (file.ends_with(".pb")) {
    auto buffer = MemoryBuffer::getFile(file, false, false);
    if (!buffer)
      return fileError(file, "cannot open: " + buffer.getError().message());
    return parseOnnxTensor((*buffer)->getBuffer(), file);
  }
  return readNpy(file);
}

Expected<std::map<std::string, NpyArray>> readNamed(const cl::list<std::string> &specs, StringRef flag) {
  std::map<std::string, NpyArray> arrays;
  for (const std::string &spec : specs) {
    auto [name, file] = StringRef(spec).split('=');
    if (name.empty() || file.empty())
      return createStringError(inconvertibleErrorCode(), flag + " expects NAME=FILE, got '" + spec + "'");
    auto array = readArray(file);
    if (!array)
      return array.takeError();
    arrays[name.str()] = std::move(*array);
  }
  return arrays;
}

std::string fileNameFor(StringRef name) {
  std::string out = name.str();
  for (char &c : out)
    if (c == '/' || c == ':' || c == '\\')
      c = '_';
  return out;
}

/// numpy.allclose, with the largest differences for the report.
bool close(const Buffer &got, const NpyArray &want, double &maxAbs, double &maxRel) {
  Buffer expected = Buffer(want);
  if (got.dtype == DType::BFloat16 && expected.dtype == DType::UInt16)
    expected.dtype = DType::BFloat16; // bfloat16 bits stored as uint16
  maxAbs = maxRel = 0;
  if (got.shape != expected.shape)
    return false;
  bool ok = true;
  // One bfloat16 ulp is 2^-7 relative: rounding modes may differ by it.
  double rtol = got.dtype == DType::BFloat16 ? std::max<double>(rtolOption, 1.0 / 128) : rtolOption;
  for (int64_t i = 0, n = got.numElements(); i < n; ++i) {
    double a = got.get(i), b = expected.get(i);
    if (std::isnan(a) && std::isnan(b))
      continue;
    if (std::isinf(a) || std::isinf(b)) {
      ok &= a == b;
      continue;
    }
    double diff = std::abs(a - b);
    maxAbs = std::max(maxAbs, diff);
    if (b != 0)
      maxRel = std::max(maxRel, diff / std::abs(b));
    ok &= diff <= atolOption + rtol * std::abs(b);
  }
  return ok;
}

/// A MindIR parameter's bytes, mapped where they lie.
Expected<Buffer> viewParameter(const MindIRModel &model, const MindIRParameter &p) {
  if (!p.dtype)
    return createStringError(inconvertibleErrorCode(), "weight '" + p.name + "' has a type dinfer cannot run");
  auto mapped = model.mapParameter(p);
  if (!mapped)
    return mapped.takeError();
  return Buffer::view(*p.dtype, p.shape, mapped->bytes.data(), mapped->owner);
}

/// The slice of `full` rank `position` of a stage holds under `layout`.
Expected<Buffer> sliceOf(const Buffer &full, const TensorLayout &layout, int64_t position) {
  auto sharded = ShardedTensor::create(full.shape, layout);
  if (!sharded)
    return sharded.takeError();
  Slice slice = sharded->sliceOfRank(position);
  return full.region(slice.offset, slice.shape);
}

/// Runs the ranks of one group of threads: rank r runs `prepare(r)` on
/// `inputsOf(r)` with `weightsOf(r)`. Returns the outputs of rank `outputRank`.
struct RankProgram {
  std::unique_ptr<Executable> executable;
  std::vector<Buffer> inputs;
  std::function<Expected<Buffer>(StringRef)> weights;
};
/// DINFER_FAULT_RANK=R:MODE, for the fault tests (docs/reliability.md): rank
/// R fails at its start ("fail"), exits its process ("exit", for mpirun) or
/// stalls for three collective timeouts ("stall").
struct InjectedFault {
  int64_t rank = -1;
  std::string mode;
};
InjectedFault injectedFault() {
  InjectedFault fault;
  if (const char *spec = std::getenv("DINFER_FAULT_RANK")) {
    auto [rank, mode] = StringRef(spec).split(':');
    if (!rank.getAsInteger(10, fault.rank))
      fault.mode = mode.str();
  }
  return fault;
}
Error applyInjectedFault(int64_t rank) {
  InjectedFault fault = injectedFault();
  if (fault.rank != rank)
    return Error::success();
  if (fault.mode == "exit")
    std::_Exit(3);
  if (fault.mode == "stall")
    std::this_thread::sleep_for(std::chrono::seconds(3 * timeoutOption));
  if (fault.mode == "fail")
    return createStringError(inconvertibleErrorCode(), "injected failure (DINFER_FAULT_RANK)");
  return Error::success();
}

Expected<std::vector<Buffer>> runRanks(int64_t devices, int64_t stageSize, int64_t outputRank,
                                       std::function<Expected<RankProgram>(int64_t rank)> prepare) {
  // Shared with the rank threads, which may outlive this call when one is stuck.
  struct Shared {
    std::vector<std::unique_ptr<Communicator>> world;
    std::vector<std::string> errors;
    std::vector<std::vector<Buffer>> outputs;
    std::mutex mutex;
    std::condition_variable changed;
    int64_t finished = 0;
    bool failed = false;
  };
  auto shared = std::make_shared<Shared>();
  shared->world = createInProcessWorld(static_cast<int>(devices));
  shared->errors.resize(devices);
  shared->outputs.resize(devices);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned threadsPerRank = std::max<unsigned>(1, (threadsOption ? threadsOption : cores) / devices);
  std::vector<std::thread> threads;
  for (int64_t rank = 0; rank < devices; ++rank)
    threads.emplace_back([shared, rank, threadsPerRank, stageSize, prepare] {
      setKernelThreads(threadsPerRank);
      std::string error;
      std::vector<Buffer> result;
      Error fault = applyInjectedFault(rank);
      bool stopped = false;
      {
        std::lock_guard<std::mutex> lock(shared->mutex);
        stopped = shared->failed;
      }
      if (fault) {
        error = toString(std::move(fault));
      } else if (stopped) {
        // Late (a stalled rank): the run was stopped and its data may be gone.
        error = "stopped the run: another rank failed first";
      } else if (auto program = prepare(rank); !program) {
        error = toString(program.takeError());
      } else {
        RankContext rankContext{shared->world[rank].get(), static_cast<int>(stageSize),
                                std::chrono::seconds(timeoutOption)};
        auto outputs = program->executable->run(
            std::move(program->inputs), [&](StringRef name) { return program->weights(name); }, nullptr, &rankContext);
        if (outputs)
          result = std::move(*outputs);
        else
          error = toString(outputs.takeError());
      }
      // A failing rank stops the others where they wait for it.
      if (!error.empty())
        shared->world[rank]->abort(error);
      std::lock_guard<std::mutex> lock(shared->mutex);
      shared->errors[rank] = std::move(error);
      shared->outputs[rank] = std::move(result);
      shared->failed |= !shared->errors[rank].empty();
      ++shared->finished;
      shared->changed.notify_all();
    });

  // Every rank finishes, or, once one has failed, the others get one
  // collective timeout to stop; a rank still running then is left behind
  // (reported) rather than hanging the run.
  std::unique_lock<std::mutex> lock(shared->mutex);
  shared->changed.wait(lock, [&] { return shared->finished == devices || shared->failed; });
  if (shared->finished < devices)
    shared->changed.wait_for(lock, std::chrono::seconds(timeoutOption) + std::chrono::seconds(5),
                             [&] { return shared->finished == devices; });
  bool allFinished = shared->finished == devices;
  lock.unlock();
  for (std::thread &t : threads)
    allFinished ? t.join() : t.detach();
  lock.lock();
  // The first rank that failed for its own reason, not because another stopped it.
  for (int64_t rank = 0; rank < devices; ++rank)
    if (!shared->errors[rank].empty() && shared->errors[rank].find("stopped the run") == std::string::npos)
      return createStringError(inconvertibleErrorCode(), "rank " + std::to_string(rank) + ": " + shared->errors[rank]);
  for (int64_t rank = 0; rank < devices; ++rank)
    if (!shared->errors[rank].empty())
      return createStringError(inconvertibleErrorCode(), "rank " + std::to_string(rank) + ": " + shared->errors[rank]);
  if (!allFinished)
    return createStringError(inconvertibleErrorCode(), "a rank did not stop within the collective timeout");
  return std::move(shared->outputs[outputRank]);
}

/// The module partitioned for `devices` ranks from the training strategy,
/// one function per rank, run on that many threads; every rank gets the
/// slices of the inputs and weights its layouts name. Returns the outputs of
/// the first rank of the last stage (every rank of that stage has the same
/// whole tensors).
Expected<std::vector<Buffer>> runOnRanks(mlir::ModuleOp module, mlir::MLIRContext &context,
                                         const DiagnosticCollector &diagnostics, const std::vector<Buffer> &inputs,
                                         WeightSource weights) {
  int64_t devices = deviceNumOption;
  mlir::PassManager passes(&context);
  StrategyPipelineOptions pipeline;
  pipeline.strategyFile = trainStrategyOption;
  pipeline.deviceNum = devices;
  pipeline.pipelineStages = pipelineStagesOption;
  pipeline.partition = true;
  pipeline.splitRanks = true;
  addStrategyPipeline(passes, pipeline);
  if (failed(passes.run(module)))
    return createStringError(inconvertibleErrorCode(),
                             modelOption + ": " + diagnostics.text("the program could not be partitioned"));
  std::vector<mlir::func::FuncOp> rankFunctions(devices);
  for (auto function : module.getOps<mlir::func::FuncOp>())
    if (auto rank = function->getAttrOfType<mlir::IntegerAttr>(dist::DistDialect::kRankAttrName))
      rankFunctions[rank.getInt()] = function;
  int64_t stages = dist::deviceCountsOf(module).value_or(dist::DeviceCounts()).stages, stageSize = devices / stages;

  auto outputs = runRanks(devices, stageSize, devices - stageSize, [&](int64_t rank) -> Expected<RankProgram> {
    mlir::func::FuncOp function = rankFunctions[rank];
    RankProgram program;
    for (unsigned i = 0; i < function.getNumArguments(); ++i) {
      auto layout = function.getArgAttrOfType<dist::LayoutAttr>(i, dist::DistDialect::kLayoutAttrName);
      if (!layout) {
        program.inputs.push_back(inputs[i]);
        continue;
      }
      auto slice = sliceOf(inputs[i], layout.toTensorLayout(), rank % stageSize);
      if (!slice)
        return slice.takeError();
      program.inputs.push_back(std::move(*slice));
    }
    auto executable = Executable::prepare(module, function.getName());
    if (!executable)
      return executable.takeError();
    program.executable = std::move(*executable);
    auto params = std::make_shared<llvm::StringMap<dist::ParamOp>>();
    function.walk([&](dist::ParamOp param) { (*params)[param.getName()] = param; });
    program.weights = [=](StringRef name) -> Expected<Buffer> {
      auto full = weights(name);
      if (!full)
        return full.takeError();
      dist::ParamOp param = params->lookup(name);
      if (!param || !param.getLocal())
        return full;
      return sliceOf(*full, param.getLayoutAttr().toTensorLayout(), rank % stageSize);
    };
    return program;
  });
  if (!outputs)
    return outputs.takeError();
  errs() << formatv("dinfer run: {0} ranks in one process{1}, layouts from {2}\n", devices,
                    stages > 1 ? formatv(" ({0} pipeline stages of {1})", stages, stageSize).str() : std::string(),
                    trainStrategyOption);
  return outputs;
}

/// Writes every output as <output-dir>/<name>.npy and compares those
/// --expect names.
int writeOutputs(const std::vector<Buffer> &outputs, ArrayRef<std::string> outputNames,
                 const std::map<std::string, NpyArray> &expected) {
  if (std::error_code ec = sys::fs::create_directories(outputDirOption))
    return failure(runCommand, outputDirOption + ": cannot create: " + ec.message());
  bool mismatch = false;
  for (auto [i, output] : llvm::enumerate(outputs)) {
    const std::string &name = outputNames[i];
    SmallString<256> path(outputDirOption);
    sys::path::append(path, fileNameFor(name) + ".npy");
    NpyArray array = output;
    // numpy has no bfloat16: write its bits as uint16.
    if (array.dtype == DType::BFloat16)
      array.dtype = DType::UInt16;
    if (Error err = writeNpy(array, path))
      return failure(runCommand, toString(std::move(err)));
    auto want = expected.find(name);
    if (want != expected.end()) {
      double maxAbs, maxRel;
      bool ok = close(output, want->second, maxAbs, maxRel);
      errs() << formatv("dinfer run: {0}: {1} (max abs diff {2:e2}, max rel diff {3:e2})\n", name,
                        ok ? "matches" : "DIFFERS", maxAbs, maxRel);
      mismatch |= !ok;
    }
  }
  for (const auto &[name, array] : expected)
    if (!llvm::is_contained(outputNames, name))
      return failure(runCommand, "--expect names '" + name + "', which is not an output of the model");
  return mismatch ? kFailure : kSuccess;
}

/// Whether this process is one rank of an `mpirun`.
bool runningUnderMPI() { return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE"); }

/// Under mpirun: this process runs its own rank of the export over MPI. The
/// last stage's first rank holds the outputs; rank 0 receives them (when it
/// is not that rank) and writes them alone.
int runExportRankUnderMPI(int64_t devices, int64_t stageSize, int64_t outputRank,
                          ArrayRef<ExportManifest::Tensor> outputTensors, ArrayRef<std::string> outputNames,
                          function_ref<Expected<RankProgram>(int64_t)> prepare,
                          const std::map<std::string, NpyArray> &expected) {
#if DINFER_HAVE_MPI
  auto comm = createMPICommunicator(nullptr, nullptr);
  if (!comm)
    return failure(runCommand, toString(comm.takeError()));
  int rank = (*comm)->rank();
  if ((*comm)->size() != devices)
    abortMPIRun(
        formatv("the export has {0} ranks, but mpirun started {1} processes (mpirun -np {0})", devices, (*comm)->size())
            .str());
  if (Error err = applyInjectedFault(rank))
    abortMPIRun("rank " + std::to_string(rank) + ": " + toString(std::move(err)));
  auto program = prepare(rank);
  if (!program)
    abortMPIRun(modelOption + ": " + toString(program.takeError()));
  RankContext context{comm->get(), static_cast<int>(stageSize), std::chrono::seconds(timeoutOption)};
  auto result = program->executable->run(
      std::move(program->inputs), [&](StringRef name) { return program->weights(name); }, nullptr, &context);
  if (!result)
    abortMPIRun(toString(result.takeError()));
  constexpr int kOutputTag = 1 << 20;
  auto timeout = std::chrono::seconds(timeoutOption);
  std::vector<Buffer> outputs;
  if (rank == outputRank && rank != 0) {
    for (auto [i, output] : llvm::enumerate(*result))
      if (Error err = (*comm)->send(0, output.dtype, output.data.data(), output.numElements(),
                                    kOutputTag + static_cast<int>(i), timeout))
        abortMPIRun(toString(std::move(err)));
  } else if (rank == 0 && outputRank != 0) {
    for (auto [i, info] : llvm::enumerate(outputTensors)) {
      Buffer output(*info.dtype, info.shape);
      if (Error err = (*comm)->recv(static_cast<int>(outputRank), *info.dtype, output.data.data(), output.numElements(),
                                    kOutputTag + static_cast<int>(i), timeout))
        abortMPIRun(toString(std::move(err)));
      outputs.push_back(std::move(output));
    }
  } else if (rank == 0) {
    outputs = std::move(*result);
  }
  if (rank != 0)
    return kSuccess;
  errs() << formatv("dinfer run: rank 0 of {0} processes under mpirun, from {1} (every file matches the manifest)\n",
                    devices, modelOption);
  return writeOutputs(outputs, outputNames, expected);
#else
  return failure(runCommand, "this dinfer was built without Open MPI: run the export in one process (without mpirun)");
#endif
}

/// `dinfer run OUT`: an export folder (docs/contracts.md sections 6 and 7). Every
/// file is checked against the manifest's sha256 before anything is loaded;
/// every rank runs its MindIR on a thread of this process.
int runExportFolder(const std::map<std::string, NpyArray> &inputs, const std::map<std::string, NpyArray> &expected) {
  SmallString<256> manifestPath(modelOption);
  sys::path::append(manifestPath, "manifest.json");
  auto manifestText = MemoryBuffer::getFile(manifestPath);
  if (!manifestText)
    return failure(runCommand, manifestPath + ": cannot read: " + manifestText.getError().message() +
                                   " (an export folder holds manifest.json)");
  auto parsed = parseManifest((*manifestText)->getBuffer(), manifestPath);
  if (!parsed)
    return failure(runCommand, toString(parsed.takeError()));
  const ExportManifest &manifest = *parsed;
  int64_t devices = manifest.deviceNum, stageSize = manifest.stageSize();

  // Integrity first: every file the manifest lists, as it lists it.
  std::vector<std::string> mindirPaths(devices), groupPaths(devices);
  for (const ExportManifest::Rank &rank : manifest.ranks) {
    for (const ExportManifest::File &file : rank.files) {
      SmallString<256> path(modelOption);
      sys::path::append(path, file.path);
      auto digest = sha256OfFile(path);
      if (!digest)
        return failure(runCommand, toString(digest.takeError()));
      if (*digest != file.sha256)
        return failure(runCommand, path + ": its sha256 differs from the manifest's: the file is damaged or was "
                                          "changed after the export");
      if (StringRef(file.path).ends_with(".mindir"))
        mindirPaths[rank.rank] = path.str().str();
      if (StringRef(file.path).ends_with("group_config.pb"))
        groupPaths[rank.rank] = path.str().str();
    }
    if (mindirPaths[rank.rank].empty())
      return failure(runCommand, manifestPath + ": rank " + Twine(rank.rank) + " lists no .mindir file");
  }

  // Global inputs in, each rank's slice by the manifest's input layouts.
  std::vector<Buffer> globalInputs;
  std::vector<TensorLayout> inputLayouts;
  for (const ExportManifest::Tensor &input : manifest.inputs) {
    auto given = inputs.find(input.name);
    if (given == inputs.end())
      return usageError(runCommand, "the export takes input '" + input.name + "': --input " + input.name + "=FILE.npy");
    globalInputs.push_back(Buffer(given->second));
    inputLayouts.push_back(*input.layout);
  }
  std::vector<std::string> outputNames;
  for (const ExportManifest::Tensor &output : manifest.outputs)
    outputNames.push_back(output.name);

  std::vector<mlir::MLIRContext> contexts(devices);
  std::vector<std::optional<MindIRModel>> models(devices);
  std::vector<mlir::OwningOpRef<mlir::ModuleOp>> modules(devices);
  auto prepareRank = [&](int64_t rank) -> Expected<RankProgram> {
    auto model = MindIRModel::open(mindirPaths[rank]);
    if (!model)
      return model.takeError();
    models[rank].emplace(std::move(*model));
    MindIRImportOptions options;
    options.deviceNum = devices;
    options.stageSize = stageSize;
    if (!groupPaths[rank].empty()) {
      auto config = readGroupConfig(groupPaths[rank]);
      if (!config)
        return config.takeError();
      for (const GroupConfig::Group &group : config->groups)
        options.groups[group.name] = std::vector<int64_t>(group.ranks.begin(), group.ranks.end());
    }
    mlir::MLIRContext &context = contexts[rank];
    context.disableMultithreading();
    std::string errorsText;
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
      if (diag.getSeverity() == mlir::DiagnosticSeverity::Error)
        errorsText += (errorsText.empty() ? "" : "; ") + diag.str();
      return mlir::success();
    });
    modules[rank] = importMindIR(*models[rank], &context, options);
    if (!modules[rank])
      return createStringError(inconvertibleErrorCode(), mindirPaths[rank] + ": " + errorsText);
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
        return viewParameter(*mindir, *p);
      return createStringError(inconvertibleErrorCode(), "the MindIR has no weight '" + name + "'");
    };
    return program;
  };
  int64_t outputRank = devices - stageSize;
  if (runningUnderMPI())
    return runExportRankUnderMPI(devices, stageSize, outputRank, manifest.outputs, outputNames, prepareRank, expected);
  auto outputs = runRanks(devices, stageSize, outputRank, prepareRank);
  if (!outputs)
    return failure(runCommand, toString(outputs.takeError()));
  errs() << formatv("dinfer run: {0} ranks in one process{1}, from {2} (every file matches the manifest)\n", devices,
                    manifest.pipelineStages > 1
                        ? formatv(" ({0} pipeline stages of {1})", manifest.pipelineStages, stageSize).str()
                        : std::string(),
                    modelOption);
  return writeOutputs(*outputs, outputNames, expected);
}

int runRun() {
  if (modelOption.empty())
    return usageError(runCommand, "usage: dinfer run MODEL --input NAME=FILE.npy ... [--output-dir DIR]");
  auto inputs = readNamed(inputOptions, "--input");
  if (!inputs)
    return usageError(runCommand, toString(inputs.takeError()));
  auto expected = readNamed(expectOptions, "--expect");
  if (!expected)
    return usageError(runCommand, toString(expected.takeError()));
  if (sys::fs::is_directory(modelOption))
    return runExportFolder(*inputs, *expected);
  if ((deviceNumOption > 0) != !trainStrategyOption.empty())
    return usageError(runCommand, "--device-num and --train-strategy go together (a partitioned run)");
  if (pipelineStagesOption > 0 && deviceNumOption <= 0)
    return usageError(runCommand, "--pipeline-stages needs --device-num (a partitioned run)");
  setKernelThreads(threadsOption);

  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  std::map<std::string, SmallVector<int64_t, 4>> shapes;
  std::map<std::string, std::string> values;
  for (const auto &[name, array] : *inputs) {
    shapes[name] = SmallVector<int64_t, 4>(array.shape.begin(), array.shape.end());
    values[name] = serializeOnnxTensor(array, name);
  }
  auto imported = importModel(modelOption, context, diagnostics, shapes, values, /*checkShapes=*/false);
  if (!imported)
    return failure(runCommand, toString(imported.takeError()));
  std::optional<OnnxModel> &onnxModel = (*imported)->onnx;
  std::optional<MindIRModel> &mindirModel = (*imported)->mindir;
  mlir::OwningOpRef<mlir::ModuleOp> &module = (*imported)->module;
  // Fusions that make the program cheaper to run without changing its
  // meaning (GeLU spelled out in elementwise ops becomes one nn.gelu).
  if (!noFuseOption) {
    mlir::PassManager passes(&context);
    passes.addNestedPass<mlir::func::FuncOp>(createNNFuseGeLU());
    if (failed(passes.run(*module)))
      return failure(runCommand, modelOption + ": " + diagnostics.text("fusion failed"));
  }

  auto entry = *module->getOps<mlir::func::FuncOp>().begin();
  // A partitioned run replaces the entry by one function per rank.
  std::vector<std::string> outputNames;
  for (unsigned i = 0; i < entry.getNumResults(); ++i) {
    auto nameAttr = entry.getResultAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    outputNames.push_back(nameAttr ? nameAttr.str() : "output" + std::to_string(i));
  }
  std::vector<Buffer> buffers;
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto nameAttr = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    std::string name = nameAttr ? nameAttr.str() : "input" + std::to_string(i);
    auto it = inputs->find(name);
    if (it == inputs->end())
      return failure(runCommand, "input '" + name + "' is missing: give --input " + name + "=FILE.npy");
    auto type = cast<mlir::RankedTensorType>(entry.getArgument(i).getType());
    // numpy and ONNX's test data have no bfloat16: its bits come as uint16.
    if (runtimeDType(type.getElementType()) == DType::BFloat16 && it->second.dtype == DType::UInt16)
      it->second.dtype = DType::BFloat16;
    if (SmallVector<int64_t, 4>(type.getShape()) != it->second.shape ||
        runtimeDType(type.getElementType()) != it->second.dtype)
      return failure(runCommand, formatv("input '{0}' is {1} of {2}, but the model takes {3} of {4}", name,
                                         dtypeName(it->second.dtype), formatList(it->second.shape),
                                         dtypeName(*runtimeDType(type.getElementType())), formatList(type.getShape()))
                                     .str());
    buffers.push_back(Buffer(it->second));
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
    if (const onnx::TensorProto *tensor = initializers.lookup(name)) {
      auto mapped = onnxModel->mapTensor(*tensor);
      if (!mapped)
        return mapped.takeError();
      SmallVector<int64_t, 4> shape(tensor->dims().begin(), tensor->dims().end());
      return Buffer::view(*dtypeFromOnnx(tensor->data_type()), shape, mapped->bytes.data(), mapped->owner);
    }
    if (const MindIRParameter *p = parameters.lookup(name))
      return viewParameter(*mindirModel, *p);
    return createStringError(inconvertibleErrorCode(), "the model has no weight '" + name + "'");
  };
  OpProfile profile;
  std::optional<std::vector<Buffer>> results;
  if (deviceNumOption > 0) {
    auto distributed = runOnRanks(*module, context, diagnostics, buffers, weights);
    if (!distributed)
      return failure(runCommand, toString(distributed.takeError()));
    results = std::move(*distributed);
  } else {
    std::vector<Buffer> firstInputs = repeatOption ? buffers : std::vector<Buffer>();
    // With --repeat the profile covers the timed runs, not the first (which
    // also builds the kernels' primitives).
    bool profileFirst = profileOption && !repeatOption;
    auto executable = Executable::prepare(*module);
    if (!executable)
      return failure(runCommand, toString(executable.takeError()));
    auto outputs = (*executable)->run(std::move(buffers), weights, profileFirst ? &profile : nullptr);
    if (!outputs)
      return failure(runCommand, toString(outputs.takeError()));
    if (repeatOption) {
      std::vector<double> times;
      for (unsigned round = 0; round < repeatOption; ++round) {
        auto began = std::chrono::steady_clock::now();
        auto again = (*executable)->run(firstInputs, weights, profileOption ? &profile : nullptr);
        times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count());
        if (!again)
          return failure(runCommand, toString(again.takeError()));
      }
      if (profileOption)
        profile.scale(1.0 / repeatOption);
      std::sort(times.begin(), times.end());
      errs() << formatv("dinfer run: {0} runs: best {1:f3} ms, median {2:f3} ms\n", times.size(), times.front(),
                        times[times.size() / 2]);
    }
    results = std::move(*outputs);
  }
  if (profileOption)
    profile.print(errs());
  return writeOutputs(*results, outputNames, *expected);
}

CommandRegistration registration(runCommand, runRun);
} // namespace
