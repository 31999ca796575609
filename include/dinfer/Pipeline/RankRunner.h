//===- RankRunner.h - every rank of a program, on threads or under MPI -*- C++ -*-===//
//
// The one in-process rank runner of dinfer: the driver, the Python package
// and the tests run partitioned programs and export folders through it. Each
// rank prepares its own program (an Executable, its input slices, where its
// weights come from) on its own thread and runs it over an in-process
// communicator; a failing rank stops the others where they wait for it, and a
// rank stuck past the collective timeout is left behind and reported rather
// than hanging the run.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_RANKRUNNER_H
#define DINFER_PIPELINE_RANKRUNNER_H

#include "dinfer/Layout/Layout.h"
#include "dinfer/Runtime/Buffer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dinfer {

class Executable;
struct RankContext;

/// What one rank runs: `executable` once on `inputs`, or, when `body` is
/// set, `body` (a job of many runs, such as generation, that calls its own
/// executables with the rank's context); its outputs are the rank's.
struct RankProgram {
  std::unique_ptr<Executable> executable;
  std::vector<Buffer> inputs;
  std::function<llvm::Expected<Buffer>(llvm::StringRef)> weights;
  std::function<llvm::Expected<std::vector<Buffer>>(const RankContext &)> body;
  RankProgram();
  RankProgram(RankProgram &&);
  RankProgram &operator=(RankProgram &&);
  ~RankProgram();
};
using RankPreparer = std::function<llvm::Expected<RankProgram>(int64_t rank)>;

struct RankRunOptions {
  /// Kernel threads of all ranks together (in one process) or of this
  /// process (under mpirun); 0: the cores, shared by the ranks on this host.
  unsigned threads = 0;
  std::chrono::milliseconds timeout{std::chrono::seconds(300)}; ///< what every collective may take
  /// Time this many more runs of every rank after the first, on the same
  /// inputs; rank 0's times (ms, in run order) go to `timesMs`.
  unsigned repeat = 0;
  std::vector<double> *timesMs = nullptr;
  /// Every rank's products and convolutions with constant weights in this
  /// precision (Executable::computeProductsIn).
  DType productType = DType::Float32;
};

/// What every rank of a run ended with: its outputs, or its error.
struct RankOutcome {
  std::vector<Buffer> outputs;
  std::string error;
};
struct EveryRankResult {
  std::vector<RankOutcome> ranks;
  /// False when a rank was still running a collective timeout after another
  /// failed (it is left behind: its outcome is empty).
  bool allFinished = true;
};
EveryRankResult runEveryRankInProcess(int64_t devices, int64_t stageSize, const RankPreparer &prepare,
                                      const RankRunOptions &options);

/// Runs `devices` ranks on threads of this process, pipeline stages of
/// `stageSize` ranks; returns the outputs of rank `outputRank`. An error
/// names the first rank that failed for its own reason.
llvm::Expected<std::vector<Buffer>> runRanksInProcess(int64_t devices, int64_t stageSize, int64_t outputRank,
                                                      const RankPreparer &prepare, const RankRunOptions &options);

/// Whether this process is one rank of an `mpirun`.
bool runningUnderMPI();

/// Under mpirun: this process runs its own rank over MPI (the world must have
/// `devices` processes). Rank `outputRank` holds the outputs; rank 0 receives
/// them (when it is not that rank) and returns them, described by `outputs`
/// (dtype and shape). Other ranks return an empty list. Errors abort the
/// whole MPI job with the message (the other processes cannot go on).
llvm::Expected<std::vector<Buffer>> runRankUnderMPI(int64_t devices, int64_t stageSize, int64_t outputRank,
                                                    llvm::ArrayRef<NpyArray> outputs, const RankPreparer &prepare,
                                                    const RankRunOptions &options, int &rank);

/// The functions of a module split into one function per rank
/// (--dist-split-ranks), indexed by rank; null where a rank has none.
std::vector<mlir::func::FuncOp> rankFunctionsOf(mlir::ModuleOp module, int64_t devices);

/// The preparer of a module split into one function per rank
/// (--dist-split-ranks): rank r prepares its function and runs it on the
/// slices of the whole `inputs` that its arguments' layouts name, with the
/// slices of the whole parameters `weights` gives that its local dist.params
/// hold. The module, `inputs` and `weights` must outlive the run.
RankPreparer splitRanksPreparer(mlir::ModuleOp module, const std::vector<Buffer> &inputs,
                                std::function<llvm::Expected<Buffer>(llvm::StringRef)> weights);

/// The weights of a rank function (--dist-split-ranks) at `position` of its
/// stage: the slice of the whole parameter `weights` gives that its local
/// dist.param holds, or the whole one.
std::function<llvm::Expected<Buffer>(llvm::StringRef)>
rankWeights(mlir::Operation *function, int64_t position, std::function<llvm::Expected<Buffer>(llvm::StringRef)> weights);

/// The slice of `full` that rank `position` of a stage holds under `layout`.
llvm::Expected<Buffer> sliceOf(const Buffer &full, const TensorLayout &layout, int64_t position);
/// The same for a tensor laid out part by part: its pieces side by side.
llvm::Expected<Buffer> packedSliceOf(const Buffer &full, const PartsLayout &parts, int64_t position);

/// DINFER_FAULT_RANK=R:MODE, for the fault tests (docs/reliability.md): rank
/// R fails at its start ("fail"), exits its process ("exit", for mpirun) or
/// stalls for three collective timeouts ("stall").
llvm::Error applyInjectedFault(int64_t rank, std::chrono::milliseconds timeout);

} // namespace dinfer

#endif // DINFER_PIPELINE_RANKRUNNER_H
