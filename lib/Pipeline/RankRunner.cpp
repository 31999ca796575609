//===- RankRunner.cpp - every rank of a program, on threads or under MPI --===//

#include "dinfer/Pipeline/RankRunner.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Runtime/Communicator.h"
#include "dinfer/Runtime/Interpreter.h"
#if DINFER_HAVE_MPI
#include "dinfer/Runtime/MPICommunicator.h"
#endif

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

using namespace llvm;
using namespace dinfer;

RankProgram::RankProgram() = default;
RankProgram::RankProgram(RankProgram &&) = default;
RankProgram &RankProgram::operator=(RankProgram &&) = default;
RankProgram::~RankProgram() = default;

static Error rankError(const Twine &message) { return createStringError(inconvertibleErrorCode(), message); }

Error dinfer::applyInjectedFault(int64_t rank, std::chrono::milliseconds timeout) {
  const char *spec = std::getenv("DINFER_FAULT_RANK");
  if (!spec)
    return Error::success();
  auto [rankText, mode] = StringRef(spec).split(':');
  int64_t faultyRank;
  if (rankText.getAsInteger(10, faultyRank) || faultyRank != rank)
    return Error::success();
  if (mode == "exit")
    std::_Exit(3);
  if (mode == "stall")
    std::this_thread::sleep_for(3 * timeout);
  if (mode == "fail")
    return rankError("injected failure (DINFER_FAULT_RANK)");
  return Error::success();
}

Expected<Buffer> dinfer::sliceOf(const Buffer &full, const TensorLayout &layout, int64_t position) {
  auto sharded = ShardedTensor::create(full.shape, layout);
  if (!sharded)
    return sharded.takeError();
  Slice slice = sharded->sliceOfRank(position);
  return full.region(slice.offset, slice.shape);
}

Expected<Buffer> dinfer::packedSliceOf(const Buffer &full, const PartsLayout &parts, int64_t position) {
  auto packed = PackedTensor::create(full.shape, parts);
  if (!packed)
    return packed.takeError();
  Buffer slice(full.dtype, packed->sliceShape());
  // Each piece's rows land side by side along the parts' dimension.
  int64_t outer = 1, inner = static_cast<int64_t>(full.elementBytes());
  for (int64_t d = 0; d < parts.dim; ++d)
    outer *= slice.shape[d];
  for (size_t d = parts.dim + 1; d < slice.shape.size(); ++d)
    inner *= slice.shape[d];
  int64_t sliceRow = slice.shape[parts.dim] * inner;
  char *out = slice.as<char>();
  for (const PackedTensor::Piece &piece : packed->piecesOfRank(position)) {
    Buffer box = full.region(piece.global.offset, piece.global.shape);
    int64_t pieceRow = piece.global.shape[parts.dim] * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(out + o * sliceRow + piece.local[parts.dim] * inner, box.bytes() + o * pieceRow, pieceRow);
  }
  return slice;
}

namespace {
/// Runs `program` once, then `repeat` more times on copies of its inputs,
/// appending each repeated run's time to `timesMs` when given.
Expected<std::vector<Buffer>> runTimed(RankProgram &program, RankContext &context, unsigned repeat,
                                       std::vector<double> *timesMs) {
  if (program.body)
    return program.body(context);
  auto weights = [&](StringRef name) { return program.weights(name); };
  std::vector<Buffer> inputs = repeat ? program.inputs : std::vector<Buffer>();
  auto outputs = program.executable->run(std::move(program.inputs), weights, nullptr, &context);
  for (unsigned round = 0; outputs && round < repeat; ++round) {
    auto began = std::chrono::steady_clock::now();
    outputs = program.executable->run(inputs, weights, nullptr, &context);
    if (timesMs)
      timesMs->push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count());
  }
  return outputs;
}
} // namespace

EveryRankResult dinfer::runEveryRankInProcess(int64_t devices, int64_t stageSize, const RankPreparer &prepare,
                                              const RankRunOptions &options) {
  // Shared with the rank threads, which may outlive this call when one is stuck.
  struct Shared {
    std::vector<std::unique_ptr<Communicator>> world;
    std::vector<std::string> errors;
    std::vector<std::vector<Buffer>> outputs;
    RankPreparer prepare;
    std::mutex mutex;
    std::condition_variable changed;
    int64_t finished = 0;
    bool failed = false;
    /// The caller stopped waiting: what the preparer reads may be gone.
    bool abandoned = false;
  };
  auto shared = std::make_shared<Shared>();
  shared->world = createInProcessWorld(static_cast<int>(devices));
  shared->errors.resize(devices);
  shared->outputs.resize(devices);
  shared->prepare = prepare;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned threadsPerRank = std::max<unsigned>(1, (options.threads ? options.threads : cores) / devices);
  std::chrono::milliseconds timeout = options.timeout;
  std::vector<std::thread> threads;
  for (int64_t rank = 0; rank < devices; ++rank)
    threads.emplace_back([shared, rank, threadsPerRank, stageSize, timeout, repeat = options.repeat,
                          timesMs = options.timesMs, productType = options.productType] {
      setKernelThreads(threadsPerRank);
      std::string error;
      std::vector<Buffer> result;
      Error fault = applyInjectedFault(rank, timeout);
      bool abandoned = false;
      {
        std::lock_guard<std::mutex> lock(shared->mutex);
        abandoned = shared->abandoned;
      }
      if (fault) {
        error = toString(std::move(fault));
      } else if (abandoned) {
        // Late (a stalled rank): the run was given up and its data may be gone.
        error = "stopped the run: another rank failed first";
      } else if (auto program = shared->prepare(rank); !program) {
        error = toString(program.takeError());
      } else {
        if (program->executable)
          program->executable->computeProductsIn(productType);
        RankContext rankContext{shared->world[rank].get(), static_cast<int>(stageSize), timeout};
        auto outputs = runTimed(*program, rankContext, repeat, rank == 0 ? timesMs : nullptr);
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
    shared->changed.wait_for(lock, timeout + std::chrono::seconds(5), [&] { return shared->finished == devices; });
  bool allFinished = shared->finished == devices;
  shared->abandoned = !allFinished;
  lock.unlock();
  for (std::thread &t : threads)
    allFinished ? t.join() : t.detach();
  lock.lock();
  EveryRankResult result;
  result.allFinished = allFinished;
  result.ranks.resize(devices);
  for (int64_t rank = 0; rank < devices; ++rank) {
    result.ranks[rank].error = shared->errors[rank];
    result.ranks[rank].outputs = std::move(shared->outputs[rank]);
  }
  return result;
}

std::function<Expected<Buffer>(StringRef)> dinfer::rankWeights(mlir::Operation *function, int64_t position,
                                                               std::function<Expected<Buffer>(StringRef)> weights) {
  auto params = std::make_shared<llvm::StringMap<dist::ParamOp>>();
  function->walk([&](dist::ParamOp param) { (*params)[param.getName()] = param; });
  // Slices are cut once and kept: every later run (a timed repeat, a
  // generation step) reads the same bytes in place, and weights prepacked
  // from them stay valid.
  auto slices = std::make_shared<llvm::StringMap<Buffer>>();
  auto mutex = std::make_shared<std::mutex>();
  return [weights, params, position, slices, mutex](StringRef name) -> Expected<Buffer> {
    dist::ParamOp param = params->lookup(name);
    if (!param || !param.getLocal())
      return weights(name);
    std::lock_guard<std::mutex> lock(*mutex);
    auto kept = slices->find(name);
    if (kept == slices->end()) {
      auto full = weights(name);
      if (!full)
        return full.takeError();
      auto slice = param.getPartsAttr() ? packedSliceOf(*full, param.getPartsAttr().toPartsLayout(), position)
                                        : sliceOf(*full, param.getLayoutAttr().toTensorLayout(), position);
      if (!slice)
        return slice.takeError();
      kept = slices->insert({name, std::move(*slice)}).first;
    }
    return Buffer::view(kept->second.dtype, kept->second.shape, kept->second.bytes());
  };
}

std::vector<mlir::func::FuncOp> dinfer::rankFunctionsOf(mlir::ModuleOp module, int64_t devices) {
  std::vector<mlir::func::FuncOp> functions(devices);
  for (auto function : module.getOps<mlir::func::FuncOp>())
    if (auto rank = function->getAttrOfType<mlir::IntegerAttr>(dist::DistDialect::kRankAttrName))
      if (rank.getInt() >= 0 && rank.getInt() < devices)
        functions[rank.getInt()] = function;
  return functions;
}

RankPreparer dinfer::splitRanksPreparer(mlir::ModuleOp module, const std::vector<Buffer> &inputs,
                                        std::function<Expected<Buffer>(StringRef)> weights) {
  dist::DeviceCounts counts = dist::deviceCountsOf(module).value_or(dist::DeviceCounts());
  int64_t stageSize = counts.devices / counts.stages;
  auto rankFunctions = std::make_shared<std::vector<mlir::func::FuncOp>>(rankFunctionsOf(module, counts.devices));
  return [module, &inputs, weights, stageSize, rankFunctions](int64_t rank) -> Expected<RankProgram> {
    mlir::func::FuncOp function = (*rankFunctions)[rank];
    if (!function)
      return rankError("the module has no function of rank " + Twine(rank));
    // Layouts cover one stage: a rank's position in it picks its slice.
    int64_t position = rank % stageSize;
    RankProgram program;
    for (unsigned i = 0; i < function.getNumArguments(); ++i) {
      auto layout = function.getArgAttrOfType<dist::LayoutAttr>(i, dist::DistDialect::kLayoutAttrName);
      if (!layout) {
        program.inputs.push_back(inputs[i]);
        continue;
      }
      auto slice = sliceOf(inputs[i], layout.toTensorLayout(), position);
      if (!slice)
        return slice.takeError();
      program.inputs.push_back(std::move(*slice));
    }
    auto executable = Executable::prepare(module, function.getName());
    if (!executable)
      return executable.takeError();
    program.executable = std::move(*executable);
    program.weights = rankWeights(function, position, weights);
    return program;
  };
}

Expected<std::vector<Buffer>> dinfer::runRanksInProcess(int64_t devices, int64_t stageSize, int64_t outputRank,
                                                        const RankPreparer &prepare, const RankRunOptions &options) {
  EveryRankResult every = runEveryRankInProcess(devices, stageSize, prepare, options);
  // The first rank that failed for its own reason, not because another stopped it.
  for (int64_t rank = 0; rank < devices; ++rank) {
    const std::string &error = every.ranks[rank].error;
    if (!error.empty() && error.find("stopped the run") == std::string::npos)
      return rankError("rank " + Twine(rank) + ": " + error);
  }
  for (int64_t rank = 0; rank < devices; ++rank)
    if (!every.ranks[rank].error.empty())
      return rankError("rank " + Twine(rank) + ": " + every.ranks[rank].error);
  if (!every.allFinished)
    return rankError("a rank did not stop within the collective timeout");
  return std::move(every.ranks[outputRank].outputs);
}

bool dinfer::runningUnderMPI() { return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE"); }

Expected<std::vector<Buffer>> dinfer::runRankUnderMPI(int64_t devices, int64_t stageSize, int64_t outputRank,
                                                      ArrayRef<NpyArray> outputTypes, const RankPreparer &prepare,
                                                      const RankRunOptions &options, int &rank) {
#if DINFER_HAVE_MPI
  auto comm = createMPICommunicator(nullptr, nullptr);
  if (!comm)
    return comm.takeError();
  rank = (*comm)->rank();
  if ((*comm)->size() != devices)
    abortMPIRun(
        formatv("the export has {0} ranks, but mpirun started {1} processes (mpirun -np {0})", devices, (*comm)->size())
            .str());
  // The cores of this host are shared by the processes mpirun put on it.
  unsigned threads = options.threads;
  if (!threads) {
    const char *local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    unsigned perHost = local ? std::max(1, std::atoi(local)) : 1;
    threads = std::max(1u, std::thread::hardware_concurrency() / perHost);
  }
  setKernelThreads(threads);
  if (Error err = applyInjectedFault(rank, options.timeout))
    abortMPIRun("rank " + std::to_string(rank) + ": " + toString(std::move(err)));
  auto program = prepare(rank);
  if (!program)
    abortMPIRun(toString(program.takeError()));
  if (program->executable)
    program->executable->computeProductsIn(options.productType);
  RankContext context{comm->get(), static_cast<int>(stageSize), options.timeout};
  auto result = runTimed(*program, context, options.repeat, rank == 0 ? options.timesMs : nullptr);
  if (!result)
    abortMPIRun(toString(result.takeError()));
  constexpr int kOutputTag = 1 << 20;
  std::vector<Buffer> outputs;
  if (rank == outputRank && rank != 0) {
    for (auto [i, output] : llvm::enumerate(*result))
      if (Error err = (*comm)->send(0, output.dtype, output.bytes(), output.numElements(),
                                    kOutputTag + static_cast<int>(i), options.timeout))
        abortMPIRun(toString(std::move(err)));
  } else if (rank == 0 && outputRank != 0) {
    for (auto [i, info] : llvm::enumerate(outputTypes)) {
      Buffer output(info.dtype, info.shape);
      if (Error err = (*comm)->recv(static_cast<int>(outputRank), info.dtype, output.data.data(),
                                    output.numElements(), kOutputTag + static_cast<int>(i), options.timeout))
        abortMPIRun(toString(std::move(err)));
      outputs.push_back(std::move(output));
    }
  } else if (rank == 0) {
    outputs = std::move(*result);
  }
  return outputs;
#else
  (void)devices, (void)stageSize, (void)outputRank, (void)outputTypes, (void)prepare, (void)options;
  rank = 0;
  return rankError("this dinfer was built without Open MPI: run the export in one process (without mpirun)");
#endif
}
