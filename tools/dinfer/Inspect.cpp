//===- Inspect.cpp - `dinfer inspect`: what a file holds ------------------===//

#include "Command.h"
#include "Format.h"

#include "dinfer/Pipeline/Inspect.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/FileKind.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Formats/ONNX.h"

#include "dinfer/Formats/Strategy.h"

#include "llvm/ADT/StringExtras.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"
#include <map>
#include <set>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand inspectCommand("inspect", "Describe a checkpoint, strategy file, MindIR or ONNX model");

cl::opt<std::string> fileOption(cl::Positional, cl::desc("<file>"), cl::sub(inspectCommand), cl::cat(category()));
cl::opt<bool> jsonOption("json", cl::desc("Print JSON (docs/contracts.md section 3)"), cl::sub(inspectCommand),
                         cl::cat(category()));

int inspectCheckpoint() {
  auto checkpoint = Checkpoint::open(fileOption);
  if (!checkpoint)
    return failure(inspectCommand, toString(checkpoint.takeError()));
  if (Error err = checkpoint->verifyIntegrity())
    return failure(inspectCommand, toString(std::move(err)));

  uint64_t total = 0;
  Table table({"name", "dtype", "shape", "size"});
  for (const CheckpointTensor &t : checkpoint->tensors()) {
    total += t.bytes;
    std::string shape = t.isMapTensor ? "-" : formatList(t.shape);
    if (t.segments.size() > 1)
      shape += formatv(" ({0} parts)", t.segments.size()).str();
    table.add({t.name, t.typeName, shape, formatBytes(t.bytes)});
  }
  bool safetensors = checkpoint->format() == CheckpointFormat::Safetensors;
  Checkpoint::Check check = safetensors ? checkpoint->sha256() : checkpoint->crc();
  outs() << formatv("{0}: {1}, {2} tensors, {3} of data, {4} {5}\n", fileOption,
                    safetensors ? "safetensors checkpoint" : "MindSpore checkpoint", checkpoint->tensors().size(),
                    formatBytes(total), safetensors ? "SHA-256" : "CRC",
                    check == Checkpoint::Check::Ok ? "verified" : "absent");
  table.print(outs());
  return kSuccess;
}

int inspectStrategy() {
  auto strategy = readStrategy(fileOption);
  if (!strategy)
    return failure(inspectCommand, toString(strategy.takeError()));

  std::set<int64_t> stages;
  for (const StrategyLayout &l : strategy->layouts)
    stages.insert(l.stages.begin(), l.stages.end());
  outs() << formatv("{0}: MindSpore strategy file ({1}), current_stage {2}, {3} op strategies, {4} layouts", fileOption,
                    strategy->encoding == StrategyFile::Encoding::Json ? "JSON" : "protobuf", strategy->currentStage,
                    strategy->ops.size(), strategy->layouts.size());
  if (!stages.empty())
    outs() << ", merged pipeline stages " << join(map_range(stages, [](int64_t s) { return std::to_string(s); }), ",");
  outs() << "\nlayouts:\n";
  Table layouts({"name", "dev_matrix", "tensor_map", "opt_shard (step,size)", "field", "param_split_shape"});
  for (const StrategyLayout &l : strategy->layouts)
    layouts.add({l.name, formatList(l.layout.devMatrix), tensorMapText(l.layout.tensorMap),
                 l.layout.optShardStep ? formatv("{0},{1}", l.layout.optShardStep, l.layout.optShardSize).str() : "-",
                 std::to_string(l.field), l.paramSplitShape.empty() ? "-" : formatList(l.paramSplitShape)});
  layouts.print(outs());
  outs() << "op strategies:\n";
  Table ops({"name", "stage", "strategy"});
  for (const StrategyOp &op : strategy->ops) {
    std::string text = "(";
    for (size_t i = 0; i < op.inputs.size(); ++i)
      text += (i ? "," : "") + formatList(op.inputs[i]);
    ops.add({op.name, std::to_string(op.stage), text + ")"});
  }
  ops.print(outs());
  return kSuccess;
}

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

int inspectModel(Expected<ModelSummary> summary) {
  if (!summary)
    return failure(inspectCommand, toString(summary.takeError()));
  uint64_t weightBytes = 0;
  for (const auto &p : summary->parameters)
    weightBytes += p.bytes;
  outs() << formatv("{0}: {1}, {2} nodes, {3} parameters ({4}), {5} sub-graphs\n", fileOption, summary->header,
                    summary->nodes.size(), summary->parameters.size(), formatBytes(weightBytes),
                    summary->functions.size());
  auto printValues = [](StringRef title, const std::vector<ModelSummary::Value> &values, bool sizes) {
    outs() << title << ":\n";
    Table table(sizes ? std::vector<std::string>{"name", "dtype", "shape", "size"}
                      : std::vector<std::string>{"name", "dtype", "shape"});
    for (const auto &v : values) {
      std::vector<std::string> row = {v.name, v.dtype, formatList(v.shape)};
      if (sizes)
        row.push_back(formatBytes(v.bytes));
      table.add(row);
    }
    table.print(outs());
  };
  printValues("inputs", summary->inputs, false);
  printValues("outputs", summary->outputs, false);
  if (!summary->parameters.empty())
    printValues("parameters", summary->parameters, true);
  std::map<std::string, int> counts;
  for (const auto &n : summary->nodes)
    ++counts[n.opType];
  outs() << "ops:";
  for (const auto &[op, count] : counts)
    outs() << " " << op << (count > 1 ? formatv(" x{0}", count).str() : "");
  outs() << "\n";
  return kSuccess;
}

int runInspect() {
  if (fileOption.empty())
    return usageError(inspectCommand, "a file to inspect is required");
  if (jsonOption) {
    auto description = describeFile(fileOption);
    if (!description)
      return failure(inspectCommand, toString(description.takeError()));
    outs() << *description << "\n";
    return kSuccess;
  }
  auto kind = detectContentKind(fileOption, processKey());
  if (!kind)
    return failure(inspectCommand, toString(kind.takeError()));
  switch (*kind) {
  case FileKind::Checkpoint:
  case FileKind::Safetensors: return inspectCheckpoint();
  case FileKind::Strategy: return inspectStrategy();
  case FileKind::Encrypted:
    return failure(inspectCommand, fileOption + ": the file is encrypted (MindSpore cipher blocks): give its key "
                                                "with --key-file (or DINFER_KEY_FILE)");
  case FileKind::MindIR:
  case FileKind::Onnx: return inspectModel(summarizeModel(fileOption));
  case FileKind::Unknown: break;
  }
  return failure(inspectCommand, fileOption + ": not a checkpoint, strategy file, MindIR or ONNX model");
}

CommandRegistration registration(inspectCommand, runInspect);
} // namespace
