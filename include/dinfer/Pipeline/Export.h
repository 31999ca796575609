//===- Export.h - one MindIR per inference rank -----------------*- C++ -*-===//
//
// The distributed export (`dinfer export`, Python `dinfer.export`): the model
// is imported with the predict input shapes, the training strategy attached
// and adapted to the inference devices, cut into stages, partitioned, split
// into one function per rank and proven consistent; every rank's parameters
// are cut from the training checkpoints by the resharding planner (only the
// slice each rank holds is ever assembled), and each rank's function is
// written as a MindIR with its group_config.pb. manifest.json
// (docs/contracts.md section 6) lists every file with its sha256. The export
// is written beside the output folder and renamed into place when complete.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_EXPORT_H
#define DINFER_PIPELINE_EXPORT_H

#include "dinfer/Formats/Crypto.h"
#include "dinfer/Pipeline/Errors.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dinfer {

struct ExportRequest {
  std::string model;         ///< ONNX or MindIR
  std::string trainStrategy; ///< training's strategy file
  std::string ckptDir;       ///< rank_<i>/*.ckpt of training
  std::vector<std::string> inputSpecs; ///< NAME=SHAPE[:DTYPE]
  int64_t deviceNum = 0, pipelineStages = 0; ///< 0: training's
  /// A predict strategy (`dinfer layout -o`) the export must match, or empty.
  std::string predictStrategy;
  std::string output;   ///< the export folder
  unsigned threads = 0; ///< ranks exported at once; 0: the cores
  bool sync = true;     ///< fsync every file before renaming it into place
  std::optional<CipherKey> encryptWith; ///< MindIR files written encrypted
  ProgressSink progress; ///< "export", ranks done of all
  /// Also write OUT/report.html (OUT/report.json is always written).
  bool report = false;
  /// A generation export of a decoder in the cache convention
  /// (docs/generate.md): the prompt's shape alone in `inputSpecs`
  /// (input_ids=B,T) and, beside each rank's net.mindir (the prefill step),
  /// decode.mindir, one token over a cache of maxLength - 1 slots. 0: a plain
  /// export.
  int64_t maxLength = 0;
};

struct ExportSummary {
  std::string output;
  int64_t devices = 0, stages = 0;
  uint64_t weightBytes = 0; ///< weight slices written, all ranks together
  size_t groups = 0;        ///< communication groups
  /// Per rank: collectives and transfers per inference step, bytes sent.
  std::vector<std::pair<size_t, uint64_t>> rankCommunication;
  /// The same for a generation export's decode step (empty otherwise).
  std::vector<std::pair<size_t, uint64_t>> decodeCommunication;
  double seconds = 0;
};

/// Writes the export of `request`, or nothing (an earlier folder under the
/// output name survives a failed export). Errors name the file, tensor, op or
/// rank; a UsageError when the request itself is wrong.
llvm::Expected<ExportSummary> exportModel(const ExportRequest &request);

} // namespace dinfer

#endif // DINFER_PIPELINE_EXPORT_H
