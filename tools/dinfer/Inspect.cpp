//===- Inspect.cpp - `dinfer inspect`: what a file holds ------------------===//

#include "Command.h"
#include "Format.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/FileKind.h"
#include "dinfer/Formats/Strategy.h"

#include "llvm/ADT/StringExtras.h"

#include <set>
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand inspectCommand("inspect", "Describe a checkpoint, strategy file, MindIR or ONNX model");

cl::opt<std::string> fileOption(cl::Positional, cl::desc("<file>"), cl::sub(inspectCommand), cl::cat(category()));
cl::opt<bool> jsonOption("json", cl::desc("Print JSON (CONTRACTS.md section 3)"), cl::sub(inspectCommand),
                         cl::cat(category()));

std::string tensorMapText(ArrayRef<DimAxes> map) {
  std::string out = "[";
  for (size_t i = 0; i < map.size(); ++i) {
    out += i ? "," : "";
    std::optional<int64_t> axis = singleAxis(map[i]);
    out += axis ? std::to_string(*axis) : formatList(map[i]);
  }
  return out + "]";
}

json::Array tensorMapJson(ArrayRef<DimAxes> map) {
  json::Array out;
  for (const DimAxes &axes : map) {
    if (std::optional<int64_t> axis = singleAxis(axes))
      out.push_back(*axis);
    else
      out.push_back(jsonList(axes));
  }
  return out;
}

int inspectCheckpoint() {
  auto checkpoint = Checkpoint::open(fileOption);
  if (!checkpoint)
    return failure(inspectCommand, toString(checkpoint.takeError()));
  if (Error err = checkpoint->verifyCrc())
    return failure(inspectCommand, toString(std::move(err)));
  StringRef crc = checkpoint->crc() == Checkpoint::Crc::Ok ? "ok" : "absent";

  if (jsonOption) {
    json::Array tensors;
    for (const CheckpointTensor &t : checkpoint->tensors())
      tensors.push_back(json::Object{{"name", t.name},
                                     {"dtype", t.dtype ? dtypeName(*t.dtype).str() : t.typeName},
                                     {"shape", jsonList(t.shape)},
                                     {"bytes", static_cast<int64_t>(t.bytes)}});
    outs() << json::Value(json::Object{{"kind", "checkpoint"}, {"tensors", std::move(tensors)}, {"crc", crc}})
           << "\n";
    return kSuccess;
  }
  uint64_t total = 0;
  Table table({"name", "dtype", "shape", "size"});
  for (const CheckpointTensor &t : checkpoint->tensors()) {
    total += t.bytes;
    std::string shape = t.isMapTensor ? "-" : formatList(t.shape);
    if (t.segments.size() > 1)
      shape += formatv(" ({0} parts)", t.segments.size()).str();
    table.add({t.name, t.typeName, shape, formatBytes(t.bytes)});
  }
  outs() << formatv("{0}: MindSpore checkpoint, {1} tensors, {2} of data, CRC {3}\n", fileOption,
                    checkpoint->tensors().size(), formatBytes(total),
                    crc == "ok" ? "verified" : "absent");
  table.print(outs());
  return kSuccess;
}

int inspectStrategy() {
  auto strategy = readStrategy(fileOption);
  if (!strategy)
    return failure(inspectCommand, toString(strategy.takeError()));

  if (jsonOption) {
    json::Array layouts;
    for (const StrategyLayout &l : strategy->layouts)
      layouts.push_back(json::Object{{"name", l.name},
                                     {"param", l.param},
                                     {"stages", jsonList(l.stages)},
                                     {"dev_matrix", jsonList(l.layout.devMatrix)},
                                     {"tensor_map", tensorMapJson(l.layout.tensorMap)},
                                     {"field", l.field},
                                     {"opt_weight_shard_step", l.layout.optShardStep},
                                     {"opt_weight_shard_size", l.layout.optShardSize},
                                     {"param_split_shape", jsonList(l.paramSplitShape)},
                                     {"indices_offset", jsonList(l.indicesOffset)}});
    json::Array ops;
    for (const StrategyOp &op : strategy->ops) {
      json::Array dims;
      for (const auto &input : op.inputs)
        dims.push_back(jsonList(input));
      ops.push_back(json::Object{{"name", op.name}, {"stage", op.stage}, {"dims", std::move(dims)}});
    }
    outs() << json::Value(json::Object{{"kind", "strategy"},
                                       {"current_stage", strategy->currentStage},
                                       {"layouts", std::move(layouts)},
                                       {"strategies", std::move(ops)}})
           << "\n";
    return kSuccess;
  }
  std::set<int64_t> stages;
  for (const StrategyLayout &l : strategy->layouts)
    stages.insert(l.stages.begin(), l.stages.end());
  outs() << formatv("{0}: MindSpore strategy file ({1}), current_stage {2}, {3} op strategies, {4} layouts",
                    fileOption, strategy->encoding == StrategyFile::Encoding::Json ? "JSON" : "protobuf",
                    strategy->currentStage, strategy->ops.size(), strategy->layouts.size());
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

int runInspect() {
  if (fileOption.empty())
    return usageError(inspectCommand, "a file to inspect is required");
  auto kind = detectFileKind(fileOption);
  if (!kind)
    return failure(inspectCommand, toString(kind.takeError()));
  switch (*kind) {
  case FileKind::Checkpoint:
    return inspectCheckpoint();
  case FileKind::Strategy:
    return inspectStrategy();
  case FileKind::Encrypted:
    return failure(inspectCommand, fileOption + ": the file is encrypted (MindSpore cipher blocks); decryption "
                                                "is not supported yet");
  case FileKind::MindIR:
  case FileKind::Onnx:
    return failure(inspectCommand, fileOption + ": a " + fileKindName(*kind) +
                                       " model; dinfer cannot read models yet (the MindIR and ONNX readers are "
                                       "still to come)");
  case FileKind::Unknown:
    break;
  }
  return failure(inspectCommand, fileOption + ": not a checkpoint, strategy file, MindIR or ONNX model");
}

CommandRegistration registration(inspectCommand, runInspect);
} // namespace
