//===- Report.cpp - the partition of a model, as data and as a page -------===//

#include "dinfer/Pipeline/Report.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Layout/Layout.h"
#include "dinfer/Layout/Text.h"
#include "dinfer/Runtime/Interpreter.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <map>

using namespace llvm;
using namespace dinfer;

namespace {

uint64_t bytesOf(mlir::Type type) {
  auto tensor = dyn_cast<mlir::RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  unsigned bits = tensor.getElementType().isIntOrFloat() ? tensor.getElementType().getIntOrFloatBitWidth() : 32;
  return (static_cast<uint64_t>(tensor.getNumElements()) * bits + 7) / 8;
}

/// The most bytes alive at once when `function` runs op after op: its
/// arguments and every result stay alive until their last user has run.
uint64_t peakActivations(mlir::func::FuncOp function) {
  if (function.getBody().empty())
    return 0;
  mlir::Block &block = function.getBody().front();
  llvm::DenseMap<mlir::Operation *, unsigned> position;
  unsigned index = 0;
  for (mlir::Operation &op : block)
    position[&op] = index++;
  // Bytes released after each op runs.
  std::vector<uint64_t> released(index + 1, 0);
  auto lastUse = [&](mlir::Value value) {
    unsigned last = 0;
    for (mlir::Operation *user : value.getUsers()) {
      mlir::Operation *top = block.findAncestorOpInBlock(*user);
      if (top)
        last = std::max(last, position.lookup(top));
    }
    return last;
  };
  uint64_t live = 0, peak = 0;
  for (mlir::BlockArgument arg : block.getArguments()) {
    live += bytesOf(arg.getType());
    released[lastUse(arg)] += bytesOf(arg.getType());
  }
  peak = live;
  for (mlir::Operation &op : block) {
    // Weights and folded constants live in the file, not among activations.
    if (!isa<dist::ParamOp, mlir::arith::ConstantOp>(op))
      for (mlir::Value result : op.getResults()) {
        uint64_t bytes = bytesOf(result.getType());
        live += bytes;
        released[result.use_empty() ? position[&op] : lastUse(result)] += bytes;
      }
    peak = std::max(peak, live);
    live -= std::min(live, released[position[&op]]);
  }
  return peak;
}

/// A collective's wire bytes per rank by the ring algorithms' count.
uint64_t sentByRing(StringRef kind, uint64_t bytes, uint64_t inputBytes, size_t groupSize) {
  if (groupSize <= 1)
    return 0;
  double n = static_cast<double>(groupSize), share = (n - 1) / n;
  if (kind == "all_reduce")
    return static_cast<uint64_t>(2 * share * static_cast<double>(bytes));
  if (kind == "all_gather")
    return static_cast<uint64_t>(share * static_cast<double>(bytes));
  if (kind == "reduce_scatter" || kind == "all_to_all")
    return static_cast<uint64_t>(share * static_cast<double>(inputBytes));
  if (kind == "broadcast")
    return inputBytes;
  return 0;
}

std::string dtypeText(mlir::Type element, unsigned &bits) {
  bits = element.isIntOrFloat() ? element.getIntOrFloatBitWidth() : 32;
  if (std::optional<DType> dtype = runtimeDType(element))
    return dtypeName(*dtype).str();
  std::string text;
  raw_string_ostream os(text);
  element.print(os);
  return text;
}

json::Array jsonRanks(ArrayRef<int64_t> ranks) { return jsonList(ranks); }

/// What report.json and `--comm --json` say of every collective.
json::Object collectiveJson(const ReportCollective &c) {
  json::Object object{{"kind", c.kind},
                      {"group", jsonRanks(c.group)},
                      {"bytes_in", static_cast<int64_t>(c.bytesIn)},
                      {"bytes_out", static_cast<int64_t>(c.bytesOut)},
                      {"sent_bytes", static_cast<int64_t>(c.sentBytes)}};
  if (c.peerStage >= 0)
    object["peer_stage"] = c.peerStage;
  return object;
}

json::Value layoutJson(const TensorLayout &layout) {
  return json::Object{{"dev_matrix", jsonList(layout.devMatrix)},
                      {"tensor_map", tensorMapJson(layout.tensorMap)},
                      {"opt_weight_shard_step", layout.optShardStep},
                      {"opt_weight_shard_size", layout.optShardSize}};
}

Error reportError(StringRef path, const Twine &message) {
  return createStringError(inconvertibleErrorCode(), path + ": " + message);
}

} // namespace

PartitionReport dinfer::collectReport(mlir::ModuleOp module, const PredictSetup &setup, StringRef model,
                                      StringRef trainStrategy) {
  PartitionReport report;
  report.model = model.str();
  report.trainStrategy = trainStrategy.str();
  report.devices = setup.devices;
  report.stages = setup.stages;
  report.trainDevices = setup.trainDevices;
  report.trainStages = setup.trainStages;
  int64_t stageDevices = std::max<int64_t>(setup.devices / std::max<int64_t>(setup.stages, 1), 1);

  llvm::StringMap<mlir::Type> elementOf;
  module.walk([&](dist::ParamOp param) {
    elementOf.try_emplace(param.getName(), cast<mlir::RankedTensorType>(param.getType()).getElementType());
  });
  for (PredictParam &p : predictParams(module, stageDevices)) {
    ReportParam param;
    mlir::Type element = elementOf.lookup(p.name);
    param.dtype = element ? dtypeText(element, param.elementBits) : "Float32";
    std::vector<const StrategyLayout *> items = setup.strategy.findLayouts(p.name);
    if (!items.empty())
      param.train = items.front()->layout;
    param.predict = std::move(p);
    report.params.push_back(std::move(param));
  }

  report.ranks.resize(setup.devices);
  for (int64_t rank = 0; rank < setup.devices; ++rank) {
    report.ranks[rank].rank = rank;
    report.ranks[rank].stage = rank / stageDevices;
  }
  for (auto function : module.getOps<mlir::func::FuncOp>()) {
    auto rankAttr = function->getAttrOfType<mlir::IntegerAttr>(dist::DistDialect::kRankAttrName);
    if (!rankAttr || rankAttr.getInt() < 0 || rankAttr.getInt() >= setup.devices)
      continue;
    ReportRank &rank = report.ranks[rankAttr.getInt()];
    rank.peakActivationBytes = peakActivations(function);
    function.walk([&](mlir::Operation *op) {
      if (auto param = dyn_cast<dist::ParamOp>(op)) {
        rank.weightBytes += bytesOf(param.getType());
        return;
      }
      ReportCollective collective;
      if (auto send = dyn_cast<dist::SendOp>(op)) {
        collective.kind = "send";
        collective.peerStage = send.getPeerStage();
        collective.bytes = collective.sentBytes = collective.bytesIn = bytesOf(send.getInput().getType());
        collective.group = {rank.rank, rank.rank + (static_cast<int64_t>(send.getPeerStage()) - rank.stage) * stageDevices};
      } else if (auto recv = dyn_cast<dist::RecvOp>(op)) {
        collective.kind = "recv";
        collective.peerStage = recv.getPeerStage();
        collective.bytes = collective.bytesOut = bytesOf(recv.getType());
        collective.group = {rank.rank, rank.rank + (static_cast<int64_t>(recv.getPeerStage()) - rank.stage) * stageDevices};
      } else if (auto group = op->getAttrOfType<mlir::DenseI64ArrayAttr>(dist::DistDialect::kGroupAttrName)) {
        if (isa<dist::LocalSplitOp>(op) || op->getNumResults() != 1 || op->getNumOperands() < 1)
          return;
        collective.kind = op->getName().stripDialect().str();
        collective.group.assign(group.asArrayRef().begin(), group.asArrayRef().end());
        uint64_t in = bytesOf(op->getOperand(0).getType()), out = bytesOf(op->getResult(0).getType());
        collective.bytes = collective.kind == "all_gather" ? out : in;
        collective.bytesIn = in;
        collective.bytesOut = out;
        collective.sentBytes = sentByRing(collective.kind, collective.bytes, in, collective.group.size());
        if (collective.group.size() <= 1)
          return; // a group of one moves nothing
      } else {
        return;
      }
      rank.sentBytes += collective.sentBytes;
      rank.collectives.push_back(std::move(collective));
    });
  }
  return report;
}

Expected<PartitionReport> dinfer::reportPrediction(const PredictionRequest &request) {
  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  DiagnosticCollector diagnostics(context);
  auto prepared = preparePrediction(request, context, diagnostics);
  if (!prepared)
    return prepared.takeError();
  mlir::ModuleOp module = prepared->module();
  mlir::PassManager passes(&context);
  prepared->addPartitionPasses(passes, request.trainStrategy);
  if (failed(passes.run(module)))
    return createStringError(inconvertibleErrorCode(),
                             request.model + ": " + diagnostics.text("the program could not be partitioned"));
  return collectReport(module, *prepared, request.model, request.trainStrategy);
}

//===----------------------------------------------------------------------===//
// report.json
//===----------------------------------------------------------------------===//

json::Value dinfer::reportJson(const PartitionReport &report) {
  json::Array params, ranks;
  for (const ReportParam &p : report.params) {
    json::Object object{{"name", p.predict.name},
                        {"dtype", p.dtype},
                        {"element_bits", p.elementBits},
                        {"full_shape", jsonList(p.predict.fullShape)},
                        {"slice_shape", jsonList(p.predict.sliceShape)},
                        {"layout", layoutJson(p.predict.layout)},
                        {"stages", jsonList(p.predict.stages)},
                        {"rule", p.predict.rule}};
    if (p.train)
      object["train_layout"] = layoutJson(*p.train);
    if (p.predict.parts) {
      json::Array layouts;
      for (const TensorLayout &part : p.predict.parts->layouts)
        layouts.push_back(layoutJson(part));
      object["parts"] = json::Object{{"dim", p.predict.parts->dim},
                                     {"sizes", jsonList(p.predict.parts->sizes)},
                                     {"layouts", std::move(layouts)}};
    }
    params.push_back(std::move(object));
  }
  for (const ReportRank &r : report.ranks) {
    json::Array collectives;
    for (const ReportCollective &c : r.collectives) {
      json::Object object = collectiveJson(c);
      object["bytes"] = static_cast<int64_t>(c.bytes);
      collectives.push_back(std::move(object));
    }
    ranks.push_back(json::Object{{"rank", r.rank},
                                 {"stage", r.stage},
                                 {"weight_bytes", static_cast<int64_t>(r.weightBytes)},
                                 {"peak_activation_bytes", static_cast<int64_t>(r.peakActivationBytes)},
                                 {"sent_bytes", static_cast<int64_t>(r.sentBytes)},
                                 {"collectives", std::move(collectives)}});
  }
  return json::Object{{"format", "dinfer-report"},
                      {"version", 1},
                      {"model", report.model},
                      {"train_strategy", report.trainStrategy},
                      {"device_num", report.devices},
                      {"pipeline_stages", report.stages},
                      {"train_device_num", report.trainDevices},
                      {"train_pipeline_stages", report.trainStages},
                      {"params", std::move(params)},
                      {"ranks", std::move(ranks)}};
}

namespace {

/// Reads report.json fields, naming the first one that is missing or wrong.
class ReportReader {
public:
  explicit ReportReader(StringRef path) : path_(path) {}

  bool ok() const { return error_.empty(); }
  Error take() { return reportError(path_, error_); }

  int64_t integer(const json::Object &object, StringRef key, StringRef where) {
    if (std::optional<int64_t> value = object.getInteger(key))
      return *value;
    fail(where, key, "an integer");
    return 0;
  }
  std::string string(const json::Object &object, StringRef key, StringRef where) {
    if (std::optional<StringRef> value = object.getString(key))
      return value->str();
    fail(where, key, "a string");
    return "";
  }
  SmallVector<int64_t, 4> ints(const json::Object &object, StringRef key, StringRef where) {
    SmallVector<int64_t, 4> values;
    const json::Array *array = object.getArray(key);
    if (!array) {
      fail(where, key, "a list of integers");
      return values;
    }
    for (const json::Value &v : *array) {
      std::optional<int64_t> i = v.getAsInteger();
      if (!i) {
        fail(where, key, "a list of integers");
        return values;
      }
      values.push_back(*i);
    }
    return values;
  }
  std::optional<TensorLayout> layout(const json::Object &object, StringRef key, StringRef where) {
    const json::Object *l = object.getObject(key);
    if (!l)
      return std::nullopt;
    TensorLayout layout;
    layout.devMatrix = ints(*l, "dev_matrix", where);
    const json::Array *map = l->getArray("tensor_map");
    if (!map) {
      fail(where, "tensor_map", "a list");
      return std::nullopt;
    }
    for (const json::Value &dim : *map) {
      DimAxes axes;
      if (std::optional<int64_t> axis = dim.getAsInteger()) {
        if (*axis >= 0)
          axes.push_back(*axis);
      } else if (const json::Array *several = dim.getAsArray()) {
        for (const json::Value &a : *several)
          if (std::optional<int64_t> axis = a.getAsInteger())
            axes.push_back(*axis);
      }
      layout.tensorMap.push_back(std::move(axes));
    }
    layout.optShardStep = l->getInteger("opt_weight_shard_step").value_or(0);
    layout.optShardSize = l->getInteger("opt_weight_shard_size").value_or(0);
    if (Error err = checkLayout(layout)) {
      error_ = (where + ": " + toString(std::move(err))).str();
      return std::nullopt;
    }
    return layout;
  }

private:
  void fail(StringRef where, StringRef key, StringRef what) {
    if (error_.empty())
      error_ = (where + ": '" + key + "' must be " + what).str();
  }

  std::string path_;
  std::string error_;
};

} // namespace

Expected<PartitionReport> dinfer::reportFromJson(const json::Value &value, StringRef path) {
  const json::Object *root = value.getAsObject();
  if (!root || root->getString("format") != std::optional<StringRef>("dinfer-report"))
    return reportError(path, "not a dinfer report (its 'format' is not \"dinfer-report\")");
  ReportReader read(path);
  PartitionReport report;
  report.model = root->getString("model").value_or("").str();
  report.trainStrategy = root->getString("train_strategy").value_or("").str();
  report.devices = read.integer(*root, "device_num", "the report");
  report.stages = read.integer(*root, "pipeline_stages", "the report");
  report.trainDevices = root->getInteger("train_device_num").value_or(report.devices);
  report.trainStages = root->getInteger("train_pipeline_stages").value_or(report.stages);
  if (read.ok() && (report.devices <= 0 || report.stages <= 0 || report.devices % report.stages != 0))
    return reportError(path, formatv("{0} devices in {1} stages is not a partition", report.devices, report.stages));
  if (const json::Array *params = root->getArray("params"))
    for (const json::Value &entry : *params) {
      const json::Object *object = entry.getAsObject();
      if (!object)
        return reportError(path, "a parameter entry is not an object");
      ReportParam p;
      p.predict.name = read.string(*object, "name", "a parameter");
      std::string where = "parameter '" + p.predict.name + "'";
      p.dtype = object->getString("dtype").value_or("Float32").str();
      p.elementBits = static_cast<unsigned>(object->getInteger("element_bits").value_or(32));
      p.predict.fullShape = read.ints(*object, "full_shape", where);
      p.predict.sliceShape = read.ints(*object, "slice_shape", where);
      p.predict.stages = read.ints(*object, "stages", where);
      p.predict.rule = object->getString("rule").value_or("").str();
      std::optional<TensorLayout> layout = read.layout(*object, "layout", where);
      if (!read.ok())
        return read.take();
      if (!layout)
        return reportError(path, where + ": has no layout");
      p.predict.layout = std::move(*layout);
      p.train = read.layout(*object, "train_layout", where);
      if (!read.ok())
        return read.take();
      if (p.predict.stages.empty())
        p.predict.stages = {0};
      if (const json::Object *parts = object->getObject("parts")) {
        PartsLayout packed;
        packed.dim = read.integer(*parts, "dim", where + ": parts");
        packed.sizes = read.ints(*parts, "sizes", where + ": parts");
        if (const json::Array *layouts = parts->getArray("layouts"))
          for (const json::Value &entry : *layouts) {
            json::Object wrapped{{"layout", entry}};
            if (std::optional<TensorLayout> part = read.layout(wrapped, "layout", where + ": parts"))
              packed.layouts.push_back(std::move(*part));
          }
        if (!read.ok())
          return read.take();
        auto checked = PackedTensor::create(p.predict.fullShape, packed);
        if (!checked)
          return reportError(path, where + ": parts: " + toString(checked.takeError()));
        p.predict.parts = std::move(packed);
      } else if (auto sharded = ShardedTensor::create(p.predict.fullShape, p.predict.layout); !sharded) {
        return reportError(path, where + ": " + toString(sharded.takeError()));
      }
      report.params.push_back(std::move(p));
    }
  if (const json::Array *ranks = root->getArray("ranks"))
    for (const json::Value &entry : *ranks) {
      const json::Object *object = entry.getAsObject();
      if (!object)
        return reportError(path, "a rank entry is not an object");
      ReportRank r;
      r.rank = read.integer(*object, "rank", "a rank");
      std::string where = "rank " + std::to_string(r.rank);
      r.stage = read.integer(*object, "stage", where);
      r.weightBytes = static_cast<uint64_t>(object->getInteger("weight_bytes").value_or(0));
      r.peakActivationBytes = static_cast<uint64_t>(object->getInteger("peak_activation_bytes").value_or(0));
      r.sentBytes = static_cast<uint64_t>(object->getInteger("sent_bytes").value_or(0));
      if (const json::Array *collectives = object->getArray("collectives"))
        for (const json::Value &c : *collectives) {
          const json::Object *co = c.getAsObject();
          if (!co)
            return reportError(path, where + ": a collective is not an object");
          ReportCollective collective;
          collective.kind = read.string(*co, "kind", where);
          SmallVector<int64_t, 4> group = read.ints(*co, "group", where);
          collective.group.assign(group.begin(), group.end());
          collective.bytes = static_cast<uint64_t>(co->getInteger("bytes").value_or(0));
          collective.sentBytes = static_cast<uint64_t>(co->getInteger("sent_bytes").value_or(0));
          collective.bytesIn = static_cast<uint64_t>(co->getInteger("bytes_in").value_or(0));
          collective.bytesOut = static_cast<uint64_t>(co->getInteger("bytes_out").value_or(0));
          collective.peerStage = co->getInteger("peer_stage").value_or(-1);
          r.collectives.push_back(std::move(collective));
        }
      if (!read.ok())
        return read.take();
      if (r.rank < 0 || r.rank >= report.devices || r.stage < 0 || r.stage >= report.stages)
        return reportError(path, where + " lies outside the " + std::to_string(report.devices) + " devices");
      report.ranks.push_back(std::move(r));
    }
  if (!read.ok())
    return read.take();
  return report;
}

json::Value dinfer::communicationJson(const PartitionReport &report) {
  json::Array ranks;
  uint64_t totalSent = 0;
  int64_t busiest = -1;
  uint64_t busiestSent = 0;
  for (const ReportRank &r : report.ranks) {
    json::Array collectives;
    uint64_t in = 0, out = 0;
    for (const ReportCollective &c : r.collectives) {
      json::Object object = collectiveJson(c);
      object["group_size"] = static_cast<int64_t>(c.group.size());
      collectives.push_back(std::move(object));
      in += c.bytesIn;
      out += c.bytesOut;
    }
    totalSent += r.sentBytes;
    if (busiest < 0 || r.sentBytes > busiestSent) {
      busiest = r.rank;
      busiestSent = r.sentBytes;
    }
    ranks.push_back(json::Object{{"rank", r.rank},
                                 {"stage", r.stage},
                                 {"collectives", std::move(collectives)},
                                 {"count", static_cast<int64_t>(r.collectives.size())},
                                 {"bytes_in", static_cast<int64_t>(in)},
                                 {"bytes_out", static_cast<int64_t>(out)},
                                 {"sent_bytes", static_cast<int64_t>(r.sentBytes)}});
  }
  return json::Object{{"device_num", report.devices},
                      {"pipeline_stages", report.stages},
                      {"ranks", std::move(ranks)},
                      {"total_sent_bytes", static_cast<int64_t>(totalSent)},
                      {"busiest_rank", busiest}};
}

Expected<PartitionReport> dinfer::readExportReport(StringRef exportFolder) {
  SmallString<256> path(exportFolder);
  sys::path::append(path, "report.json");
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return reportError(path, "cannot read: " + buffer.getError().message() +
                                 " (exports written before dinfer had reports have none: export again)");
  auto parsed = json::parse((*buffer)->getBuffer());
  if (!parsed)
    return reportError(path, "is not JSON: " + toString(parsed.takeError()));
  return reportFromJson(*parsed, path);
}

Error dinfer::writeReportHtml(const PartitionReport &report, StringRef path, bool sync) {
  return writeFileAtomically(path, renderReportHtml(report), sync);
}
