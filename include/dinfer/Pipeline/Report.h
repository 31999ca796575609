//===- Report.h - the partition of a model, as data and as a page --*- C++ -*-===//
//
// What a person asks before spending a cluster on an export: which rank holds
// which part of which weight, what each rank sends, and how much memory each
// needs. A PartitionReport is collected from a partitioned module (one
// function per rank, as `dinfer export` builds it), kept in an export folder
// as report.json, and rendered as one self-contained HTML page (inline CSS
// and SVG, a little inline script; docs/report.md).
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_REPORT_H
#define DINFER_PIPELINE_REPORT_H

#include "dinfer/Formats/Strategy.h"
#include "dinfer/Pipeline/Prediction.h"
#include "dinfer/Transforms/PredictStrategy.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
class ModuleOp;
} // namespace mlir

namespace dinfer {

/// One collective or pipeline transfer a rank issues per inference step.
struct ReportCollective {
  std::string kind;           ///< all_reduce, all_gather, reduce_scatter, all_to_all, broadcast, send, recv
  std::vector<int64_t> group; ///< the ranks taking part (send/recv: this rank and its peer)
  uint64_t bytes = 0;         ///< the tensor it moves (all_gather: the gathered result)
  uint64_t bytesIn = 0, bytesOut = 0; ///< this rank's operand and result
  uint64_t sentBytes = 0;     ///< what this rank puts on the wire, by the ring algorithms' count
  int64_t peerStage = -1;     ///< send/recv: the other stage
};

struct ReportRank {
  int64_t rank = 0, stage = 0;
  uint64_t weightBytes = 0;
  /// The most bytes of activations alive at once in the rank's program run
  /// in order (inputs and every result until its last use; weights apart).
  uint64_t peakActivationBytes = 0;
  uint64_t sentBytes = 0;
  std::vector<ReportCollective> collectives;
};

struct ReportParam {
  PredictParam predict;
  std::string dtype; ///< MindSpore's name: Float32, Float16, ...
  unsigned elementBits = 32;
  /// Training's layout of the parameter (the first stage's), when known.
  std::optional<TensorLayout> train;
};

struct PartitionReport {
  std::string model, trainStrategy;
  int64_t devices = 1, stages = 1, trainDevices = 1, trainStages = 1;
  std::vector<ReportParam> params; ///< program order
  std::vector<ReportRank> ranks;   ///< one per inference rank
};

/// Collects the report of `module` after partitioning (dinfer.rank
/// functions with explicit collective groups); `train` gives training's
/// layouts.
PartitionReport collectReport(mlir::ModuleOp module, const PredictSetup &setup, llvm::StringRef model,
                              llvm::StringRef trainStrategy);

/// Imports, lays out and partitions `request` (no checkpoint is read) and
/// collects its report: `dinfer layout --report`.
llvm::Expected<PartitionReport> reportPrediction(const PredictionRequest &request);

/// report.json of an export folder, and back; errors name `path`.
llvm::json::Value reportJson(const PartitionReport &report);
llvm::Expected<PartitionReport> reportFromJson(const llvm::json::Value &value, llvm::StringRef path);
/// OUT/report.json of the export folder OUT.
llvm::Expected<PartitionReport> readExportReport(llvm::StringRef exportFolder);

/// Every rank's collectives with kind, group, group size, bytes in and out
/// and sent, and the totals (`dinfer layout --comm --json`).
llvm::json::Value communicationJson(const PartitionReport &report);

/// The page: one HTML file that needs nothing but a browser.
std::string renderReportHtml(const PartitionReport &report);

/// Writes `renderReportHtml(report)` to `path`, complete or not at all.
llvm::Error writeReportHtml(const PartitionReport &report, llvm::StringRef path, bool sync = true);

} // namespace dinfer

#endif // DINFER_PIPELINE_REPORT_H
