//===- Inspect.cpp - what a file holds, as `dinfer inspect` tells ---------===//

#include "dinfer/Pipeline/Inspect.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/FileKind.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Layout/Text.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/FormatVariadic.h"

#include <set>

using namespace llvm;
using namespace dinfer;

namespace {
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

Expected<json::Value> checkpointJson(StringRef path) {
  auto checkpoint = Checkpoint::open(path);
  if (!checkpoint)
    return checkpoint.takeError();
  if (Error err = checkpoint->verifyIntegrity())
    return std::move(err);
  json::Array tensors;
  for (const CheckpointTensor &t : checkpoint->tensors())
    tensors.push_back(json::Object{{"name", t.name},
                                   {"dtype", t.dtype ? dtypeName(*t.dtype).str() : t.typeName},
                                   {"shape", jsonList(t.shape)},
                                   {"bytes", static_cast<int64_t>(t.bytes)}});
  StringRef crc = checkpoint->crc() == Checkpoint::Check::Ok ? "ok" : "absent";
  json::Object out{{"kind", "checkpoint"},
                   {"format", checkpointFormatName(checkpoint->format())},
                   {"tensors", std::move(tensors)},
                   {"crc", crc}};
  if (checkpoint->format() == CheckpointFormat::Safetensors)
    out["sha256"] = checkpoint->sha256() == Checkpoint::Check::Ok ? "ok" : "absent";
  return out;
}

Expected<json::Value> strategyJson(StringRef path) {
  auto strategy = readStrategy(path);
  if (!strategy)
    return strategy.takeError();
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
  return json::Object{{"kind", "strategy"},
                      {"current_stage", strategy->currentStage},
                      {"layouts", std::move(layouts)},
                      {"strategies", std::move(ops)}};
}

Error notAFile(StringRef path, FileKind kind) {
  if (kind == FileKind::Encrypted)
    return createStringError(inconvertibleErrorCode(),
                             path + ": the file is encrypted (MindSpore cipher blocks): give its key with --key-file "
                                    "(or DINFER_KEY_FILE)");
  return createStringError(inconvertibleErrorCode(),
                           path + ": not a checkpoint, strategy file, MindIR or ONNX model");
}
} // namespace

Expected<ModelSummary> dinfer::summarizeModel(StringRef path) {
  auto kind = detectContentKind(path, processKey());
  if (!kind)
    return kind.takeError();
  if (*kind == FileKind::MindIR)
    return summarizeMindIR(path);
  if (*kind == FileKind::Onnx)
    return summarizeOnnx(path);
  return notAFile(path, *kind);
}

json::Value dinfer::modelSummaryJson(const ModelSummary &summary) {
  json::Array functions;
  for (const auto &f : summary.functions)
    functions.push_back(json::Object{{"name", f.name}, {"nodes", nodesJson(f.nodes)}});
  return json::Object{{"kind", summary.kind},
                      {"inputs", valuesJson(summary.inputs)},
                      {"outputs", valuesJson(summary.outputs)},
                      {"nodes", nodesJson(summary.nodes)},
                      {"parameters", valuesJson(summary.parameters)},
                      {"functions", std::move(functions)}};
}

Expected<json::Value> dinfer::describeFile(StringRef path) {
  auto kind = detectContentKind(path, processKey());
  if (!kind)
    return kind.takeError();
  switch (*kind) {
  case FileKind::Checkpoint:
  case FileKind::Safetensors: return checkpointJson(path);
  case FileKind::Strategy: return strategyJson(path);
  case FileKind::MindIR:
  case FileKind::Onnx: {
    auto summary = summarizeModel(path);
    if (!summary)
      return summary.takeError();
    return modelSummaryJson(*summary);
  }
  case FileKind::Encrypted:
  case FileKind::Unknown: break;
  }
  return notAFile(path, *kind);
}
