//===- Inspect.cpp - `dinfer inspect`: what a file holds ------------------===//

#include "Command.h"
#include "Format.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/FileKind.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Formats/ONNX.h"

#include "dinfer/Formats/Strategy.h"
#include "onnx/onnx_pb.h"

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
    outs() << json::Value(json::Object{{"kind", "checkpoint"}, {"tensors", std::move(tensors)}, {"crc", crc}}) << "\n";
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
                    checkpoint->tensors().size(), formatBytes(total), crc == "ok" ? "verified" : "absent");
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

/// A model as inspect presents it, whatever its format.
struct ModelSummary {
  struct Value {
    std::string name, dtype;
    SmallVector<int64_t, 4> shape;
    uint64_t bytes = 0;
  };
  struct Node {
    std::string name, opType, opTypeRaw;
  };
  struct Function {
    std::string name;
    std::vector<Node> nodes;
  };
  std::string kind, header;
  std::vector<Value> inputs, outputs, parameters;
  std::vector<Node> nodes;
  std::vector<Function> functions;
};

std::string dtypeText(std::optional<DType> dtype, int32_t raw) {
  if (dtype)
    return dtypeName(*dtype).str();
  return raw == 0 ? "Undefined" : formatv("DataType({0})", raw).str();
}

ModelSummary::Value summaryValue(const MindIRValue &v) { return {v.name, dtypeText(v.dtype, v.dataType), v.shape, 0}; }

std::vector<ModelSummary::Node> summaryNodes(const MindIRGraph &graph) {
  std::vector<ModelSummary::Node> nodes;
  for (const MindIRNode &n : graph.nodes)
    nodes.push_back({n.name, n.opType, n.opTypeRaw});
  return nodes;
}

Expected<ModelSummary> summarizeMindIR(StringRef path) {
  auto model = MindIRModel::open(path);
  if (!model)
    return model.takeError();
  ModelSummary summary;
  summary.kind = "mindir";
  summary.header = formatv("MindIR {0} from MindSpore {1}", model->irVersion(), model->producerVersion()).str();
  for (const MindIRValue &v : model->inputs())
    summary.inputs.push_back(summaryValue(v));
  for (const MindIRValue &v : model->outputs())
    summary.outputs.push_back(summaryValue(v));
  for (const MindIRParameter &p : model->parameters()) {
    ModelSummary::Value value = summaryValue(p);
    value.bytes = p.bytes;
    summary.parameters.push_back(value);
  }
  summary.nodes = summaryNodes(model->mainGraph());
  for (const MindIRGraph &g : model->functions())
    summary.functions.push_back({g.name, summaryNodes(g)});
  return summary;
}

ModelSummary::Value onnxValue(const onnx::ValueInfoProto &info) {
  ModelSummary::Value value;
  value.name = info.name();
  const onnx::TypeProto &type = info.type();
  if (type.has_tensor_type()) {
    int32_t elem = type.tensor_type().elem_type();
    value.dtype = dtypeText(dtypeFromOnnx(elem), elem);
    for (const onnx::TensorShapeProto::Dimension &dim : type.tensor_type().shape().dim())
      value.shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  } else {
    value.dtype = "Undefined";
  }
  return value;
}

std::vector<ModelSummary::Node> onnxNodes(const google::protobuf::RepeatedPtrField<onnx::NodeProto> &nodes) {
  std::vector<ModelSummary::Node> out;
  for (const onnx::NodeProto &node : nodes) {
    std::string op =
        node.domain().empty() || node.domain() == "ai.onnx" ? node.op_type() : node.domain() + "." + node.op_type();
    out.push_back({node.name(), op, node.op_type()});
  }
  return out;
}

Expected<ModelSummary> summarizeOnnx(StringRef path) {
  auto model = OnnxModel::open(path);
  if (!model)
    return model.takeError();
  const onnx::GraphProto &graph = model->proto().graph();
  ModelSummary summary;
  summary.kind = "onnx";
  std::string producer = model->proto().producer_name();
  if (!model->proto().producer_version().empty())
    producer += (producer.empty() ? "" : " ") + model->proto().producer_version();
  summary.header = formatv("ONNX IR {0}, opset {1}, from {2}", model->proto().ir_version(), model->opset(),
                           producer.empty() ? "an unnamed producer" : producer)
                       .str();
  std::set<std::string> initializers;
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    initializers.insert(tensor.name());
    ModelSummary::Value value;
    value.name = tensor.name();
    value.dtype = dtypeText(dtypeFromOnnx(tensor.data_type()), tensor.data_type());
    value.shape.assign(tensor.dims().begin(), tensor.dims().end());
    int64_t count = 1;
    for (int64_t d : value.shape)
      count *= d;
    if (std::optional<DType> dtype = dtypeFromOnnx(tensor.data_type()))
      value.bytes = static_cast<uint64_t>(count) * dtypeBits(*dtype) / 8;
    summary.parameters.push_back(value);
  }
  for (const onnx::ValueInfoProto &input : graph.input())
    if (!initializers.count(input.name()))
      summary.inputs.push_back(onnxValue(input));
  for (const onnx::ValueInfoProto &output : graph.output())
    summary.outputs.push_back(onnxValue(output));
  summary.nodes = onnxNodes(graph.node());
  for (const onnx::FunctionProto &function : model->proto().functions())
    summary.functions.push_back({function.name(), onnxNodes(function.node())});
  return summary;
}

json::Array valuesJson(const std::vector<ModelSummary::Value> &values) {
  json::Array out;
  for (const auto &v : values)
    out.push_back(json::Object{{"name", v.name}, {"dtype", v.dtype}, {"shape", jsonList(v.shape)}});
  return out;
}

json::Array nodesJson(const std::vector<ModelSummary::Node> &nodes) {
  json::Array out;
  for (const auto &n : nodes)
    out.push_back(json::Object{{"name", n.name}, {"op_type", n.opType}, {"op_type_raw", n.opTypeRaw}});
  return out;
}

int inspectModel(Expected<ModelSummary> summary) {
  if (!summary)
    return failure(inspectCommand, toString(summary.takeError()));
  if (jsonOption) {
    json::Array functions;
    for (const auto &f : summary->functions)
      functions.push_back(json::Object{{"name", f.name}, {"nodes", nodesJson(f.nodes)}});
    outs() << json::Value(json::Object{{"kind", summary->kind},
                                       {"inputs", valuesJson(summary->inputs)},
                                       {"outputs", valuesJson(summary->outputs)},
                                       {"nodes", nodesJson(summary->nodes)},
                                       {"parameters", valuesJson(summary->parameters)},
                                       {"functions", std::move(functions)}})
           << "\n";
    return kSuccess;
  }
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
  auto kind = detectContentKind(fileOption, processKey());
  if (!kind)
    return failure(inspectCommand, toString(kind.takeError()));
  switch (*kind) {
  case FileKind::Checkpoint: return inspectCheckpoint();
  case FileKind::Strategy: return inspectStrategy();
  case FileKind::Encrypted:
    return failure(inspectCommand, fileOption + ": the file is encrypted (MindSpore cipher blocks): give its key "
                                                "with --key-file (or DINFER_KEY_FILE)");
  case FileKind::MindIR: return inspectModel(summarizeMindIR(fileOption));
  case FileKind::Onnx: return inspectModel(summarizeOnnx(fileOption));
  case FileKind::Unknown: break;
  }
  return failure(inspectCommand, fileOption + ": not a checkpoint, strategy file, MindIR or ONNX model");
}

CommandRegistration registration(inspectCommand, runInspect);
} // namespace
