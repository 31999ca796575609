//===- Layout.cpp - `dinfer layout`: the predict layout of every parameter ===//
//
// MindSpore's infer_predict_layout: the model is imported with the predict
// input shapes (full batch), the training strategy file attached
// (--dist-attach-strategy) and adapted to the inference device count
// (--dist-infer-predict-layout); every parameter's layout is printed as a
// table or as docs/contracts.md section 4's JSON, and `-o` writes it as the
// predict strategy file that `dinfer reshard` and `dinfer export` read.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"

#include "dinfer/Pipeline/PredictLayout.h"
#include "dinfer/Pipeline/Report.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand layoutCommand("layout", "The predict layout of every parameter for an inference device count");

cl::opt<std::string> modelOption("model", cl::desc("The network (ONNX or MindIR)"), cl::value_desc("file"),
                                 cl::sub(layoutCommand), cl::cat(category()));
cl::opt<std::string> trainStrategyOption("train-strategy", cl::desc("The training strategy file (protobuf or JSON)"),
                                         cl::value_desc("file"), cl::sub(layoutCommand), cl::cat(category()));
cl::list<std::string> inputOptions("input", cl::desc("A predict input's full shape: NAME=SHAPE[:DTYPE], SHAPE as 3,10"),
                                   cl::value_desc("name=shape"), cl::sub(layoutCommand), cl::cat(category()));
cl::opt<int64_t> deviceNumOption("device-num", cl::desc("Inference devices (default: training's)"), cl::init(0),
                                 cl::sub(layoutCommand), cl::cat(category()));
cl::opt<int64_t> stagesOption("pipeline-stages", cl::desc("Inference pipeline stages (default: training's)"),
                              cl::init(0), cl::sub(layoutCommand), cl::cat(category()));
cl::opt<bool> jsonOption("json", cl::desc("Print JSON (docs/contracts.md section 4)"), cl::sub(layoutCommand),
                         cl::cat(category()));
cl::opt<std::string> outputOption("o", cl::desc("Write the predict strategy file (JSON when it ends in .json)"),
                                  cl::value_desc("file"), cl::sub(layoutCommand), cl::cat(category()));
cl::opt<bool> commOption("comm",
                         cl::desc("List every rank's collectives (kind, group size, bytes in and out) and the "
                                  "totals; with --json as JSON"),
                         cl::sub(layoutCommand), cl::cat(category()));
cl::opt<std::string> reportOption("report",
                                  cl::desc("Write the partition as one HTML page (docs/report.md); no checkpoint is "
                                           "read"),
                                  cl::value_desc("file.html"), cl::sub(layoutCommand), cl::cat(category()));

/// Every rank's collectives, one line each, and the totals.
void printCommunication(const PartitionReport &partition) {
  outs() << formatv("collectives for {0} devices in {1} pipeline stage(s)\n", partition.devices, partition.stages);
  uint64_t total = 0;
  const ReportRank *busiest = nullptr;
  for (const ReportRank &rank : partition.ranks) {
    outs() << formatv("rank {0} (stage {1}): {2} collective(s), {3} sent\n", rank.rank, rank.stage,
                      rank.collectives.size(), formatBytes(rank.sentBytes));
    for (const ReportCollective &c : rank.collectives)
      outs() << formatv("  {0,-15} group of {1,-3} in {2,-10} out {3,-10} sent {4}\n", c.kind, c.group.size(),
                        formatBytes(c.bytesIn), formatBytes(c.bytesOut), formatBytes(c.sentBytes));
    total += rank.sentBytes;
    if (!busiest || rank.sentBytes > busiest->sentBytes)
      busiest = &rank;
  }
  outs() << formatv("total: {0} sent per inference step", formatBytes(total));
  if (busiest)
    outs() << formatv("; busiest rank {0}: {1} collective(s), {2} sent", busiest->rank, busiest->collectives.size(),
                      formatBytes(busiest->sentBytes));
  outs() << "\n";
}

int runLayout() {
  if (modelOption.empty() || trainStrategyOption.empty())
    return usageError(layoutCommand, "usage: dinfer layout --model MODEL --train-strategy FILE --input NAME=SHAPE ... "
                                     "[--device-num N] [--pipeline-stages P] [--json] [--comm] [-o FILE] [--report FILE.html]");
  PredictionRequest request{modelOption, trainStrategyOption,
                            std::vector<std::string>(inputOptions.begin(), inputOptions.end()), deviceNumOption,
                            stagesOption};
  auto layout = inferPredictLayout(request, StringRef(outputOption).ends_with(".json")
                                                ? StrategyFile::Encoding::Json
                                                : StrategyFile::Encoding::Protobuf);
  if (!layout)
    return report(layoutCommand, layout.takeError());
  if (!outputOption.empty())
    if (Error err = writeStrategy(layout->strategy, outputOption))
      return failure(layoutCommand, toString(std::move(err)));
  std::optional<PartitionReport> partition;
  if (!reportOption.empty() || commOption) {
    auto partitioned = reportPrediction(request);
    if (!partitioned)
      return report(layoutCommand, partitioned.takeError());
    partition = std::move(*partitioned);
  }
  if (!reportOption.empty()) {
    if (Error err = writeReportHtml(*partition, reportOption))
      return failure(layoutCommand, toString(std::move(err)));
    errs() << "dinfer layout: wrote " << reportOption << "\n";
  }
  if (commOption) {
    if (jsonOption) {
      outs() << communicationJson(*partition) << "\n";
      return kSuccess;
    }
    printCommunication(*partition);
    return kSuccess;
  }
  if (jsonOption) {
    outs() << predictLayoutJson(*layout) << "\n";
    return kSuccess;
  }
  outs() << formatv("predict layout for {0} devices in {1} pipeline stage(s) (training: {2} devices, {3} stage(s))\n",
                    layout->devices, layout->stages, layout->trainDevices, layout->trainStages);
  outs() << formatv("{0,-40} {1,-14} {2,-12} {3,-14} {4,-14} {5,5}  {6}\n", "parameter", "dev_matrix", "tensor_map",
                    "slice_shape", "full_shape", "stage", "rule");
  for (const PredictParam &p : layout->params) {
    std::string stageText;
    for (int64_t stage : p.stages)
      stageText += (stageText.empty() ? "" : "+") + std::to_string(stage);
    outs() << formatv("{0,-40} {1,-14} {2,-12} {3,-14} {4,-14} {5,5}  {6}\n", p.name, formatList(p.layout.devMatrix),
                      formatTensorMap(p.layout.tensorMap), formatList(p.sliceShape), formatList(p.fullShape),
                      stageText, p.rule);
    if (p.parts)
      for (auto [index, size, part] : llvm::enumerate(p.parts->sizes, p.parts->layouts))
        outs() << formatv("  part {0}: {1} along dimension {2}, dev_matrix {3}, tensor_map {4}\n", index, size,
                          p.parts->dim, formatList(part.devMatrix), formatTensorMap(part.tensorMap));
  }
  return kSuccess;
}

CommandRegistration registration(layoutCommand, runLayout);
} // namespace
