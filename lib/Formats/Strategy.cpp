//===- Strategy.cpp - MindSpore parallel strategy files -------------------===//

#include "dinfer/Formats/Strategy.h"

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Layout/Text.h"

#include "node_strategy.pb.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <simdjson.h>

#include <cmath>
#include <map>
#include <set>

using namespace dinfer;
namespace pb = mindspore::straspb;
using llvm::StringRef;
using llvm::Twine;

std::vector<const StrategyLayout *> StrategyFile::findLayouts(StringRef param) const {
  std::vector<const StrategyLayout *> found;
  for (const StrategyLayout &layout : layouts)
    if (layout.param == param)
      found.push_back(&layout);
  return found;
}

namespace {
/// Splits "<stage>-<param>" when every layout of the file carries such a
/// prefix (merged pipeline files rename them all), and fills `stages` with
/// every stage a parameter appears in.
void resolveStagePrefixes(std::vector<StrategyLayout> &layouts) {
  auto prefixOf = [](StringRef name) -> std::optional<int64_t> {
    auto [head, tail] = name.split('-');
    int64_t stage;
    if (tail.empty() || name.find('-') == StringRef::npos || head.empty() || head.getAsInteger(10, stage))
      return std::nullopt;
    return stage;
  };
  bool merged = !layouts.empty() && llvm::all_of(layouts, [&](const StrategyLayout &l) {
    return prefixOf(l.name).has_value();
  });
  std::map<std::string, std::set<int64_t>> stagesOf;
  for (StrategyLayout &layout : layouts) {
    layout.param = layout.name;
    if (!merged)
      continue;
    layout.param = StringRef(layout.name).split('-').second.str();
    stagesOf[layout.param].insert(*prefixOf(layout.name));
  }
  if (merged)
    for (StrategyLayout &layout : layouts)
      layout.stages.assign(stagesOf[layout.param].begin(), stagesOf[layout.param].end());
}

llvm::Error strategyError(StringRef file, const Twine &message) { return fileError(file, message); }

//===----------------------------------------------------------------------===//
// Protobuf
//===----------------------------------------------------------------------===//

llvm::Expected<StrategyFile> fromProto(const pb::ParallelStrategyMap &map, StringRef file) {
  StrategyFile strategy;
  strategy.encoding = StrategyFile::Encoding::Protobuf;
  strategy.currentStage = map.current_stage();
  for (const pb::ParallelStrategyItem &item : map.parallel_strategy_item()) {
    StrategyOp op;
    op.name = item.node_name();
    op.stage = item.parallel_strategys().stage();
    for (const pb::ParallelStrategy &input : item.parallel_strategys().parallel_strategy())
      op.inputs.emplace_back(input.dim().begin(), input.dim().end());
    strategy.ops.push_back(std::move(op));
  }
  for (const pb::ParallelLayoutItem &item : map.parallel_layout_item()) {
    StrategyLayout layout;
    layout.name = item.param_name();
    const pb::ParallelLayouts &pl = item.parallel_layouts();
    if (pl.dev_matrix_size() == 0)
      return strategyError(file, "layout '" + layout.name + "' has no dev_matrix");
    for (uint32_t d : pl.dev_matrix(0).dim())
      layout.layout.devMatrix.push_back(d);
    if (pl.tensor_map_size() == 1) {
      for (int32_t axis : pl.tensor_map(0).dim()) {
        if (axis < -1)
          return strategyError(file, "layout '" + layout.name + "': tensor_map entry " + Twine(axis) + " is invalid");
        layout.layout.tensorMap.push_back(axis == -1 ? DimAxes{} : DimAxes{axis});
      }
    } else if (pl.tensor_map_size() > 1) {
      // MindSpore 2.6: one TensorMap per dimension, and a trailing empty one
      // when the tensor has a single dimension.
      int count = pl.tensor_map_size();
      if (pl.tensor_map(count - 1).dim_size() == 0)
        --count;
      for (int dim = 0; dim < count; ++dim) {
        DimAxes axes;
        for (int32_t axis : pl.tensor_map(dim).dim()) {
          if (axis == -1)
            continue;
          if (axis < -1)
            return strategyError(file, "layout '" + layout.name + "': tensor_map entry " + Twine(axis) + " is invalid");
          axes.push_back(axis);
        }
        layout.layout.tensorMap.push_back(std::move(axes));
      }
    }
    if (pl.param_split_shape_size() > 0)
      layout.paramSplitShape.assign(pl.param_split_shape(0).dim().begin(), pl.param_split_shape(0).dim().end());
    if (pl.indices_offset_size() > 0)
      layout.indicesOffset.assign(pl.indices_offset(0).dim().begin(), pl.indices_offset(0).dim().end());
    layout.field = pl.field();
    layout.layout.optShardStep = pl.opt_weight_shard_step();
    layout.layout.optShardSize = pl.opt_weight_shard_size();
    if (llvm::Error err = checkLayout(layout.layout))
      return strategyError(file, "layout '" + layout.name + "': " + llvm::toString(std::move(err)));
    strategy.layouts.push_back(std::move(layout));
  }
  resolveStagePrefixes(strategy.layouts);
  return strategy;
}

bool parseProto(StringRef bytes, pb::ParallelStrategyMap &map) {
  if (bytes.empty() || !map.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return false;
  return map.IsInitialized() && map.unknown_fields().empty();
}

void toProto(const StrategyFile &strategy, pb::ParallelStrategyMap &map) {
  map.set_current_stage(static_cast<uint32_t>(strategy.currentStage));
  for (const StrategyOp &op : strategy.ops) {
    pb::ParallelStrategyItem *item = map.add_parallel_strategy_item();
    item->set_node_name(op.name);
    pb::ParallelStrategys *strategys = item->mutable_parallel_strategys();
    strategys->set_stage(static_cast<uint32_t>(op.stage));
    for (const auto &input : op.inputs) {
      pb::ParallelStrategy *s = strategys->add_parallel_strategy();
      for (int64_t d : input)
        s->add_dim(static_cast<uint32_t>(d));
    }
  }
  for (const StrategyLayout &layout : strategy.layouts) {
    pb::ParallelLayoutItem *item = map.add_parallel_layout_item();
    item->set_param_name(layout.name);
    pb::ParallelLayouts *pl = item->mutable_parallel_layouts();
    pb::DevMatrix *dev = pl->add_dev_matrix();
    for (int64_t d : layout.layout.devMatrix)
      dev->add_dim(static_cast<uint32_t>(d));
    bool multiAxis = llvm::any_of(layout.layout.tensorMap, [](const DimAxes &a) { return a.size() > 1; });
    if (!multiAxis) {
      pb::TensorMap *map = pl->add_tensor_map();
      for (const DimAxes &axes : layout.layout.tensorMap)
        map->add_dim(axes.empty() ? -1 : static_cast<int32_t>(axes.front()));
    } else {
      for (const DimAxes &axes : layout.layout.tensorMap) {
        pb::TensorMap *map = pl->add_tensor_map();
        if (axes.empty())
          map->add_dim(-1);
        for (int64_t axis : axes)
          map->add_dim(static_cast<int32_t>(axis));
      }
      if (layout.layout.tensorMap.size() == 1)
        pl->add_tensor_map();
    }
    pb::ParamSplitShape *split = pl->add_param_split_shape();
    for (int64_t d : layout.paramSplitShape)
      split->add_dim(d);
    pb::IndicesOffset *offsets = pl->add_indices_offset();
    for (int64_t d : layout.indicesOffset)
      offsets->add_dim(d);
    pl->set_field(static_cast<int32_t>(layout.field));
    pl->set_opt_weight_shard_step(static_cast<int32_t>(layout.layout.optShardStep));
    pl->set_opt_weight_shard_size(static_cast<int32_t>(layout.layout.optShardSize));
  }
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

/// A JSON strategy is read with simdjson into one compact document (a tape):
/// a 1,024-rank strategy holds thousands of small objects, and llvm::json
/// gives each a hash map of at least 64 buckets (4 KiB apiece), which made
/// parsing the costliest step of a 175B-parameter `--plan`. llvm::json still
/// writes them.
using JsonValue = simdjson::dom::element;

/// Parses `bytes` into `root` (valid while `parser` lives); the error says
/// what is wrong. simdjson refuses nesting deeper than 1,024 levels rather
/// than exhausting the stack.
bool parseJson(StringRef bytes, simdjson::dom::parser &parser, JsonValue &root, std::string *why = nullptr) {
  simdjson::error_code error = parser.parse(bytes.data(), bytes.size()).get(root);
  if (!error)
    return true;
  if (!why)
    return false;
  *why = simdjson::error_message(error);
  // simdjson does not say where; llvm::json does, and on a bad file only.
  // (Not on one nested too deeply: its parser recurses.)
  if (error != simdjson::DEPTH_ERROR)
    if (auto precise = llvm::json::parse(bytes); !precise)
      *why = llvm::toString(precise.takeError());
  return false;
}

std::optional<JsonValue> member(const JsonValue &object, StringRef key) {
  simdjson::dom::object fields;
  JsonValue value;
  if (object.get_object().get(fields) || fields.at_key(std::string_view(key.data(), key.size())).get(value))
    return std::nullopt;
  return value;
}

/// An integer, or a number with no fraction (as llvm::json accepted).
std::optional<int64_t> integerOf(const JsonValue &value) {
  int64_t i;
  if (!value.get_int64().get(i))
    return i;
  double d, whole;
  if (value.is_double() && !value.get_double().get(d) && std::modf(d, &whole) == 0.0 && whole >= -9.2e18 &&
      whole <= 9.2e18)
    return static_cast<int64_t>(whole);
  return std::nullopt;
}

std::optional<int64_t> integerMember(const JsonValue &object, StringRef key) {
  std::optional<JsonValue> value = member(object, key);
  return value ? integerOf(*value) : std::nullopt;
}

/// The members of a JSON object in key order: strategies list their items in a
/// stable order whatever order the file wrote them in. A key written twice is
/// an error, naming it.
llvm::Expected<std::vector<std::pair<StringRef, JsonValue>>> sortedMembers(const JsonValue &object, StringRef file,
                                                                           StringRef what) {
  std::vector<std::pair<StringRef, JsonValue>> members;
  simdjson::dom::object fields;
  if (!object.get_object().get(fields)) {
    members.reserve(fields.size());
    for (simdjson::dom::key_value_pair field : fields)
      members.emplace_back(StringRef(field.key.data(), field.key.size()), field.value);
  }
  llvm::sort(members, [](const auto &a, const auto &b) { return a.first < b.first; });
  for (size_t i = 1; i < members.size(); ++i)
    if (members[i].first == members[i - 1].first)
      return strategyError(file, what + " '" + members[i].first + "' is listed twice");
  return members;
}

llvm::Expected<llvm::SmallVector<int64_t, 4>> intList(std::optional<JsonValue> value, StringRef file,
                                                      const Twine &what) {
  llvm::SmallVector<int64_t, 4> out;
  simdjson::dom::array elements;
  if (!value || value->get_array().get(elements))
    return strategyError(file, what + " must be a list of integers");
  for (JsonValue element : elements) {
    std::optional<int64_t> v = integerOf(element);
    if (!v)
      return strategyError(file, what + " must be a list of integers");
    out.push_back(*v);
  }
  return out;
}

/// A tensor_map: per dimension an axis, -1, or a list of axes (2.6+).
llvm::Expected<llvm::SmallVector<DimAxes, 4>> tensorMapFromJson(std::optional<JsonValue> map, StringRef file,
                                                                 const llvm::Twine &what) {
  simdjson::dom::array entries;
  if (!map || map->get_array().get(entries))
    return strategyError(file, (what + " has no tensor_map").str());
  llvm::SmallVector<DimAxes, 4> tensorMap;
  for (JsonValue entry : entries) {
    if (std::optional<int64_t> axis = integerOf(entry)) {
      tensorMap.push_back(*axis == -1 ? DimAxes{} : DimAxes{*axis});
      continue;
    }
    auto axes = intList(entry, file, (what + ": tensor_map entry").str());
    if (!axes)
      return axes.takeError();
    DimAxes dim;
    for (int64_t axis : *axes)
      if (axis != -1)
        dim.push_back(axis);
    tensorMap.push_back(dim);
  }
  return tensorMap;
}

/// {"dim": D, "sizes": [...], "layouts": [{"dev_matrix", "tensor_map"[, opt_weight_shard_*]}, ...]}
llvm::Expected<PartsLayout> partsFromJson(const JsonValue &value, StringRef file, const std::string &what) {
  if (!value.is_object())
    return strategyError(file, what + " must be an object");
  PartsLayout parts;
  std::optional<int64_t> dim = integerMember(value, "dim");
  if (!dim)
    return strategyError(file, what + " has no dim");
  parts.dim = *dim;
  auto sizes = intList(member(value, "sizes"), file, what + ": sizes");
  if (!sizes)
    return sizes.takeError();
  parts.sizes = *sizes;
  std::optional<JsonValue> layouts = member(value, "layouts");
  simdjson::dom::array entries;
  if (!layouts || layouts->get_array().get(entries))
    return strategyError(file, what + " has no layouts");
  for (JsonValue entry : entries) {
    std::string partWhat = what + " " + std::to_string(parts.layouts.size());
    if (!entry.is_object())
      return strategyError(file, partWhat + " must be an object");
    TensorLayout layout;
    auto dev = intList(member(entry, "dev_matrix"), file, partWhat + ": dev_matrix");
    if (!dev)
      return dev.takeError();
    layout.devMatrix = *dev;
    auto map = tensorMapFromJson(member(entry, "tensor_map"), file, partWhat);
    if (!map)
      return map.takeError();
    layout.tensorMap = *map;
    layout.optShardStep = integerMember(entry, "opt_weight_shard_step").value_or(0);
    layout.optShardSize = integerMember(entry, "opt_weight_shard_size").value_or(0);
    if (llvm::Error err = checkLayout(layout))
      return strategyError(file, partWhat + ": " + llvm::toString(std::move(err)));
    parts.layouts.push_back(std::move(layout));
  }
  if (parts.sizes.size() != parts.layouts.size() || parts.sizes.empty())
    return strategyError(file, what + " gives " + std::to_string(parts.sizes.size()) + " sizes and " +
                                   std::to_string(parts.layouts.size()) + " layouts");
  return parts;
}

llvm::Expected<StrategyFile> fromJson(const JsonValue &root, StringRef file) {
  StrategyFile strategy;
  strategy.encoding = StrategyFile::Encoding::Json;
  strategy.currentStage = integerMember(root, "current_stage").value_or(1);
  if (std::optional<JsonValue> items = member(root, "parallel_strategy_item"); items && items->is_object()) {
    auto members = sortedMembers(*items, file, "strategy item");
    if (!members)
      return members.takeError();
    strategy.ops.reserve(members->size());
    for (auto [name, item] : *members) {
      if (!item.is_object())
        return strategyError(file, "strategy item '" + name + "' must be an object");
      StrategyOp op;
      op.name = name.str();
      op.stage = integerMember(item, "stage").value_or(0);
      std::optional<JsonValue> inputs = member(item, "parallel_strategy");
      simdjson::dom::array inputList;
      if (!inputs || inputs->get_array().get(inputList))
        return strategyError(file, "strategy item '" + name + "' has no parallel_strategy list");
      for (JsonValue input : inputList) {
        auto dims = intList(input, file, "strategy item '" + name + "'");
        if (!dims)
          return dims.takeError();
        op.inputs.push_back(*dims);
      }
      strategy.ops.push_back(std::move(op));
    }
  }
  std::optional<JsonValue> items = member(root, "parallel_layout_item");
  if (!items || !items->is_object())
    return strategyError(file, "JSON strategy without parallel_layout_item");
  auto members = sortedMembers(*items, file, "layout");
  if (!members)
    return members.takeError();
  strategy.layouts.reserve(members->size());
  for (auto [name, item] : *members) {
    if (!item.is_object())
      return strategyError(file, "layout '" + name + "' must be an object");
    StrategyLayout layout;
    layout.name = name.str();
    auto dev = intList(member(item, "dev_matrix"), file, "layout '" + name + "': dev_matrix");
    if (!dev)
      return dev.takeError();
    layout.layout.devMatrix = *dev;
    auto map = tensorMapFromJson(member(item, "tensor_map"), file, "layout '" + name + "'");
    if (!map)
      return map.takeError();
    layout.layout.tensorMap = std::move(*map);
    if (std::optional<JsonValue> partsValue = member(item, "parts")) {
      auto parts = partsFromJson(*partsValue, file, ("layout '" + name + "': parts").str());
      if (!parts)
        return parts.takeError();
      layout.parts = std::move(*parts);
    }
    if (std::optional<JsonValue> shape = member(item, "tensor_shape")) {
      auto dims = intList(shape, file, "layout '" + name + "': tensor_shape");
      if (!dims)
        return dims.takeError();
      layout.tensorShape = *dims;
    }
    for (auto [key, target] : {std::pair<StringRef, llvm::SmallVector<int64_t, 4> *>{"param_split_shape",
                                                                                     &layout.paramSplitShape},
                               {"indices_offset", &layout.indicesOffset}})
      if (std::optional<JsonValue> value = member(item, key)) {
        auto dims = intList(value, file, "layout '" + name + "': " + key);
        if (!dims)
          return dims.takeError();
        *target = *dims;
      }
    layout.field = integerMember(item, "field").value_or(0);
    layout.layout.optShardStep = integerMember(item, "opt_weight_shard_step").value_or(0);
    layout.layout.optShardSize = integerMember(item, "opt_weight_shard_size").value_or(0);
    if (llvm::Error err = checkLayout(layout.layout))
      return strategyError(file, "layout '" + name + "': " + llvm::toString(std::move(err)));
    strategy.layouts.push_back(std::move(layout));
  }
  resolveStagePrefixes(strategy.layouts);
  return strategy;
}

llvm::json::Value toJson(const StrategyFile &strategy) {
  llvm::json::Object ops;
  for (const StrategyOp &op : strategy.ops) {
    llvm::json::Array inputs;
    for (const auto &input : op.inputs)
      inputs.push_back(jsonList(input));
    ops[op.name] = llvm::json::Object{{"stage", op.stage}, {"parallel_strategy", std::move(inputs)}};
  }
  llvm::json::Object layouts;
  for (const StrategyLayout &layout : strategy.layouts) {
    llvm::json::Object item{{"dev_matrix", jsonList(layout.layout.devMatrix)},
                            {"tensor_map", tensorMapJson(layout.layout.tensorMap)},
                            {"field", layout.field},
                            {"opt_weight_shard_step", layout.layout.optShardStep},
                            {"opt_weight_shard_size", layout.layout.optShardSize}};
    if (layout.tensorShape)
      item["tensor_shape"] = jsonList(*layout.tensorShape);
    if (!layout.paramSplitShape.empty())
      item["param_split_shape"] = jsonList(layout.paramSplitShape);
    if (!layout.indicesOffset.empty())
      item["indices_offset"] = jsonList(layout.indicesOffset);
    if (layout.parts) {
      llvm::json::Array layouts;
      for (const TensorLayout &part : layout.parts->layouts) {
        llvm::json::Object partItem{{"dev_matrix", jsonList(part.devMatrix)},
                                    {"tensor_map", tensorMapJson(part.tensorMap)}};
        if (part.optShardStep) {
          partItem["opt_weight_shard_step"] = part.optShardStep;
          partItem["opt_weight_shard_size"] = part.optShardSize;
        }
        layouts.push_back(std::move(partItem));
      }
      item["parts"] = llvm::json::Object{
          {"dim", layout.parts->dim}, {"sizes", jsonList(layout.parts->sizes)}, {"layouts", std::move(layouts)}};
    }
    layouts[layout.name] = std::move(item);
  }
  return llvm::json::Object{{"current_stage", strategy.currentStage},
                            {"parallel_strategy_item", std::move(ops)},
                            {"parallel_layout_item", std::move(layouts)}};
}
} // namespace

bool dinfer::looksLikeStrategy(StringRef bytes) {
  if (bytes.ltrim().starts_with("{")) {
    simdjson::dom::parser parser;
    JsonValue root;
    return parseJson(bytes, parser, root) && member(root, "parallel_layout_item");
  }
  pb::ParallelStrategyMap map;
  return parseProto(bytes, map);
}

llvm::Expected<StrategyFile> dinfer::parseStrategy(StringRef bytes, StringRef fileName) {
  if (bytes.ltrim().starts_with("{")) {
    simdjson::dom::parser parser;
    JsonValue root;
    std::string why;
    if (!parseJson(bytes, parser, root, &why))
      return strategyError(fileName, "invalid JSON strategy: " + why);
    if (!root.is_object())
      return strategyError(fileName, "a JSON strategy must be an object");
    return fromJson(root, fileName);
  }
  pb::ParallelStrategyMap map;
  if (!parseProto(bytes, map)) {
    std::string why = map.IsInitialized() ? "" : " (missing " + map.InitializationErrorString() + ")";
    return strategyError(fileName, "not a strategy file: the bytes are neither a protobuf ParallelStrategyMap nor "
                                   "JSON" + why);
  }
  return fromProto(map, fileName);
}

llvm::Expected<StrategyFile> dinfer::readStrategy(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fileError(path, "cannot open: " + buffer.getError().message());
  if ((*buffer)->getBufferSize() == 0)
    return fileError(path, "empty file, not a strategy file");
  return parseStrategy((*buffer)->getBuffer(), path);
}

llvm::Expected<std::string> dinfer::serializeStrategy(const StrategyFile &strategy) {
  if (strategy.encoding == StrategyFile::Encoding::Json) {
    std::string out;
    llvm::raw_string_ostream os(out);
    os << toJson(strategy);
    return out;
  }
  for (const StrategyLayout &layout : strategy.layouts)
    if (layout.parts)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "parameter '%s' is laid out part by part (a packed projection split per head), which MindSpore's protobuf "
          "strategy format cannot hold: write JSON (a file name ending in .json)",
          layout.param.c_str());
  pb::ParallelStrategyMap map;
  toProto(strategy, map);
  std::string out;
  if (!map.SerializeToString(&out))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "cannot serialize the strategy");
  return out;
}

llvm::Error dinfer::writeStrategy(const StrategyFile &strategy, StringRef path) {
  StrategyFile copy = strategy;
  copy.encoding = path.ends_with(".json") ? StrategyFile::Encoding::Json : StrategyFile::Encoding::Protobuf;
  auto bytes = serializeStrategy(copy);
  if (!bytes)
    return bytes.takeError();
  return writeFileAtomically(path, *bytes);
}

llvm::Expected<StrategyFile> dinfer::mergePipelineStrategies(llvm::ArrayRef<StrategyFile> stages,
                                                             llvm::ArrayRef<std::string> names) {
  StrategyFile merged;
  merged.currentStage = 1;
  std::set<int64_t> seen;
  for (auto [strategy, name] : llvm::zip_equal(stages, names)) {
    if (strategy.ops.empty())
      return fileError(name, "has no op strategy items, so its pipeline stage is unknown");
    int64_t stage = strategy.ops.front().stage;
    if (!seen.insert(stage).second)
      continue; // MindSpore skips a second file of the same stage.
    llvm::append_range(merged.ops, strategy.ops);
    for (const StrategyLayout &layout : strategy.layouts) {
      StrategyLayout renamed = layout;
      renamed.name = std::to_string(stage) + "-" + layout.param;
      merged.layouts.push_back(std::move(renamed));
    }
  }
  resolveStagePrefixes(merged.layouts);
  return merged;
}
