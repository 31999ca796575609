//===- Export.cpp - `dinfer export`: one MindIR per rank ------------------===//
//
// The command line of the distributed export; the flow is the pipeline
// library's (dinfer/Pipeline/Export.h).
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"

#include "dinfer/Pipeline/Export.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

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
cl::opt<int64_t> maxLengthOption("max-length",
                                 cl::desc("Export a decoder for generation: prompt and new tokens at most this long "
                                          "(docs/generate.md)"),
                                 cl::init(0), cl::sub(exportCommand), cl::cat(category()));
cl::opt<bool> reportOption("report",
                           cl::desc("Also write OUT/report.html, the partition as one page (docs/report.md)"),
                           cl::sub(exportCommand), cl::cat(category()));

int runExport() {
  if (modelOption.empty() || trainStrategyOption.empty() || ckptDirOption.empty() || outputOption.empty())
    return usageError(exportCommand,
                      "usage: dinfer export --model MODEL --train-strategy FILE --ckpt-dir DIR --input NAME=SHAPE "
                      "... [--device-num N] [--pipeline-stages P] [--predict-strategy FILE] [--max-length L] [--report] -o OUT");
  ExportRequest request;
  request.model = modelOption;
  request.trainStrategy = trainStrategyOption;
  request.ckptDir = ckptDirOption;
  request.inputSpecs.assign(inputOptions.begin(), inputOptions.end());
  request.deviceNum = deviceNumOption;
  request.pipelineStages = stagesOption;
  request.predictStrategy = predictStrategyOption;
  request.output = outputOption;
  request.threads = threadsOption;
  request.sync = !noSyncOption;
  request.report = reportOption;
  request.maxLength = maxLengthOption;
  request.encryptWith = outputKey();
  auto summary = exportModel(request);
  if (!summary)
    return report(exportCommand, summary.takeError());
  errs() << formatv("dinfer export: {0} ranks{1} -> {2} ({3} of weight slices, {4} groups, {5:f2} s)\n",
                    summary->devices,
                    summary->stages > 1 ? formatv(" in {0} pipeline stages", summary->stages).str() : std::string(),
                    summary->output, formatBytes(summary->weightBytes), summary->groups, summary->seconds);
  auto perRank = [](ArrayRef<std::pair<size_t, uint64_t>> ranks) {
    std::string text;
    for (auto [rank, communication] : enumerate(ranks))
      text += formatv("{0}rank {1}: {2} ({3})", rank ? ", " : "", rank, communication.first,
                      formatBytes(communication.second))
                  .str();
    return text;
  };
  if (!summary->rankCommunication.empty())
    errs() << "dinfer export: collectives per rank per step (bytes sent): " << perRank(summary->rankCommunication)
           << "\n";
  if (!summary->decodeCommunication.empty())
    errs() << "dinfer export: per decode step: " << perRank(summary->decodeCommunication) << "\n";
  return kSuccess;
}

CommandRegistration registration(exportCommand, runExport);
} // namespace
