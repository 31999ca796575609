//===- Interpreter.h - run an nn-dialect program on the host CPU ----------===//
//
// Executes func.func @main of an nn-dialect module op by op on host buffers:
// the single-device reference the partitioned programs are checked against.
// Float32 work runs on vectorised, threaded kernels (matrix products and
// convolutions on oneDNN); other element types on portable C++. Weights are
// read where they lie; a value's storage is reused once it is dead, and
// elementwise ops write over an operand that dies with them.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_RUNTIME_INTERPRETER_H
#define DINFER_RUNTIME_INTERPRETER_H

#include "dinfer/Runtime/Buffer.h"
#include "dinfer/Runtime/Communicator.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <string>

namespace llvm {
class raw_ostream;
}

namespace dinfer {

/// The data of the dist.param named `name`.
using WeightSource = llvm::function_ref<llvm::Expected<Buffer>(llvm::StringRef name)>;

/// Where the time of a run went, by op name: seconds and calls.
struct OpProfile {
  std::map<std::string, std::pair<double, int64_t>> byOp;
  /// Ops told apart by their operands' types too ("nn.conv2d tensor<...> ...").
  bool byShape = false;
  /// A table, the slowest op first, with each op's share of the total.
  void print(llvm::raw_ostream &os) const;
  /// Multiplies every time by `factor` (1/runs: the time per run).
  void scale(double factor) {
    for (auto &entry : byOp)
      entry.second.first *= factor;
  }
};

/// What a per-rank program needs for its dist collectives and pipeline
/// transfers.
struct RankContext {
  Communicator *communicator = nullptr;
  /// Ranks per pipeline stage: stage s holds global ranks [s·stageSize,
  /// (s+1)·stageSize), a collective's dev_matrix numbers the ranks of one
  /// stage, and dist.send/recv reach the same position in another stage.
  /// 0: the whole run is one stage.
  int stageSize = 0;
  Communicator::Timeout timeout = std::chrono::seconds(300);
};

/// A program prepared to run many times: the liveness of its values is
/// computed once, and the storage one run frees is reused by the next. One
/// run at a time; the module must outlive it.
class Executable {
public:
  /// Prepares the module's @main (or its only function); an error names an
  /// op whose values the runtime cannot hold.
  static llvm::Expected<std::unique_ptr<Executable>> prepare(mlir::ModuleOp module);
  /// Prepares the function `entry` (one rank's, after --dist-split-ranks).
  static llvm::Expected<std::unique_ptr<Executable>> prepare(mlir::ModuleOp module, llvm::StringRef entry);
  ~Executable();

  /// Runs on `inputs` (one per argument, in order). Errors name the op and
  /// its location. With `profile`, every op is timed.
  /// A per-rank program (one with dist collectives) needs `rank`; when a
  /// rank fails, its communicator stops the other ranks.
  llvm::Expected<std::vector<Buffer>> run(std::vector<Buffer> inputs, WeightSource weights,
                                          OpProfile *profile = nullptr, const RankContext *rank = nullptr);

  /// Matrix products and convolutions whose weights are constant float32
  /// compute in `type`: Float32 (the default) or BFloat16 (weights converted
  /// once as they are packed, activations as they enter, accumulation and
  /// outputs in float32; float32 where oneDNN has no native kernel). Before
  /// the first run.
  void computeProductsIn(DType type);
  /// How many products and convolutions with constant weights were packed,
  /// and how many of those run in bfloat16 (after a run).
  size_t packedProducts() const;
  size_t bfloat16Products() const;

  /// What the executable holds, in bytes (for `dinfer run --profile`).
  struct MemoryUse {
    /// Storage the first run allocated for intermediate values and outputs
    /// (later runs reuse it).
    size_t activations = 0;
    /// Storage later runs allocated because none of what earlier runs freed
    /// fit (0 once every run is served from the first run's).
    size_t laterActivations = 0;
    /// Weights in the layouts oneDNN reads (copies of their own).
    size_t packedWeights = 0;
    /// Weights converted (a float16 model's) or aligned, and kept.
    size_t weightCopies = 0;
  };
  MemoryUse memoryUse() const;

  /// Hands the storage of outputs the caller is done with back for the next
  /// run's values (a loop that runs the program step after step would
  /// otherwise get fresh pages from the system every step).
  void recycle(std::vector<Buffer> outputs);

  struct State;

private:
  Executable();
  std::unique_ptr<State> state_;
};

/// Prepares and runs the module once.
/// Runs the module's entry function on `inputs` (one per argument, in order).
/// Errors name the op and its location. With `profile`, every op is timed.
llvm::Expected<std::vector<Buffer>> runProgram(mlir::ModuleOp module, std::vector<Buffer> inputs, WeightSource weights,
                                               OpProfile *profile = nullptr);

/// Threads the kernels use when called from this thread (0: every core, or
/// OMP_NUM_THREADS). Ranks that share a process divide the cores this way.
void setKernelThreads(unsigned threads);

/// The dtype of an MLIR tensor element type, if the runtime handles it.
std::optional<DType> runtimeDType(mlir::Type elementType);

} // namespace dinfer

#endif // DINFER_RUNTIME_INTERPRETER_H
