//===- Run.h - a model, a partitioned program or an export, run -*- C++ -*-===//
//
// What `dinfer run` and Python's `dinfer.predict` do, on arrays in memory:
//  * a model file (ONNX, MindIR or an nn-dialect `.mlir` program) on this
//    machine's single-device interpreter;
//  * the same model partitioned from a training strategy over N ranks on
//    threads of this process (`deviceNum` with `trainStrategy`);
//  * an export folder (`dinfer export`): every file checked against the
//    manifest's sha256 first, then every rank on a thread, or one rank per
//    process under mpirun (docs/contracts.md sections 6 and 7).
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_RUN_H
#define DINFER_PIPELINE_RUN_H

#include "dinfer/Pipeline/Errors.h"
#include "dinfer/Runtime/Buffer.h"
#include "dinfer/Runtime/Interpreter.h"

#include "llvm/Support/Error.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dinfer {

struct RunRequest {
  std::string model; ///< a model file or an export folder
  std::map<std::string, NpyArray> inputs; ///< by graph input name, whole tensors
  /// A partitioned run of a model file: its ranks (threads) and the training
  /// strategy their layouts are inferred from; stages 0: training's.
  int64_t deviceNum = 0, pipelineStages = 0;
  std::string trainStrategy;
  unsigned threads = 0; ///< kernel threads; 0: the cores
  std::chrono::seconds timeout{300}; ///< what every collective may take
  bool fuse = true;    ///< fuse ops that are cheaper together (GeLU)
  unsigned repeat = 0; ///< single device: time this many more runs
  bool profile = false; ///< single device: the time of every kind of op
  bool profileByShape = false; ///< ... and of every operand shape of it
  /// Precision of the products and convolutions with constant weights
  /// (Executable::computeProductsIn): Float32 or BFloat16.
  DType dtype = DType::Float32;
};

struct RunResult {
  std::vector<std::string> names; ///< graph output names
  /// Whole output tensors; empty on the processes of an mpirun other than
  /// rank 0, which holds them.
  std::vector<Buffer> outputs;
  bool holdsOutputs = true;
  /// One line on how it ran ("4 ranks in one process, from OUT ..."), or empty.
  std::string summary;
  std::vector<double> timesMs; ///< the repeated runs, sorted
  std::optional<OpProfile> profile;
  /// Single device: products that ran in bfloat16, of those packed.
  size_t bfloat16Products = 0, packedProducts = 0;
  /// Single device with `profile`: what the executable holds, and the
  /// process's peak resident set after the runs.
  std::optional<Executable::MemoryUse> memory;
  size_t peakResidentBytes = 0;
};

/// Runs `request`. A UsageError when the request itself is wrong (a missing
/// input, options that do not go together).
llvm::Expected<RunResult> runModel(const RunRequest &request);

} // namespace dinfer

#endif // DINFER_PIPELINE_RUN_H
