//===- Manifest.cpp - an export folder's manifest.json --------------------===//

#include "dinfer/Formats/Manifest.h"

#include "dinfer/Formats/ByteSource.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace dinfer;
using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Value;

namespace {
constexpr int64_t kMaxDevices = 1 << 16;
constexpr int64_t kMaxRank = 32;

class Reader {
public:
  explicit Reader(llvm::StringRef fileName) : fileName_(fileName) {}

  llvm::Error bad(const llvm::Twine &what) const { return fileError(fileName_, what); }

  llvm::Expected<llvm::SmallVector<int64_t, 4>> ints(const Array *array, const llvm::Twine &what, int64_t min,
                                                     int64_t max) const {
    if (!array)
      return bad(what + " is missing");
    if (static_cast<int64_t>(array->size()) > kMaxRank)
      return bad(what + " has more than " + llvm::Twine(kMaxRank) + " entries");
    llvm::SmallVector<int64_t, 4> out;
    for (const Value &v : *array) {
      std::optional<int64_t> i = v.getAsInteger();
      if (!i || *i < min || *i > max)
        return bad(what + " holds a value that is not an integer in [" + llvm::Twine(min) + ", " + llvm::Twine(max) +
                   "]");
      out.push_back(*i);
    }
    return out;
  }

  llvm::Expected<TensorLayout> layout(const Object &object, const llvm::Twine &what) const {
    TensorLayout layout;
    auto devMatrix = ints(object.getArray("dev_matrix"), what + ".dev_matrix", 1, kMaxDevices);
    if (!devMatrix)
      return devMatrix.takeError();
    layout.devMatrix = std::move(*devMatrix);
    const Array *tensorMap = object.getArray("tensor_map");
    if (!tensorMap || static_cast<int64_t>(tensorMap->size()) > kMaxRank)
      return bad(what + ".tensor_map is missing or too long");
    for (const Value &entry : *tensorMap) {
      DimAxes axes;
      if (const Array *several = entry.getAsArray()) {
        auto list = ints(several, what + ".tensor_map", 0, kMaxRank);
        if (!list)
          return list.takeError();
        axes.assign(list->begin(), list->end());
      } else if (std::optional<int64_t> axis = entry.getAsInteger(); axis && *axis >= -1 && *axis < kMaxRank) {
        if (*axis >= 0)
          axes.push_back(*axis);
      } else {
        return bad(what + ".tensor_map holds an entry that is neither an axis nor a list of axes");
      }
      layout.tensorMap.push_back(std::move(axes));
    }
    if (llvm::Error err = checkLayout(layout))
      return bad(what + ": " + llvm::toString(std::move(err)));
    return layout;
  }

  llvm::Expected<ExportManifest::Tensor> tensor(const Value &entry, const llvm::Twine &what, bool needLayout) const {
    const Object *object = entry.getAsObject();
    std::optional<llvm::StringRef> name = object ? object->getString("name") : std::nullopt;
    if (!name)
      return bad(what + " lacks its name");
    ExportManifest::Tensor tensor;
    tensor.name = name->str();
    std::optional<llvm::StringRef> dtype = object->getString("dtype");
    tensor.dtype = dtype ? parseDType(*dtype) : std::nullopt;
    if (!tensor.dtype)
      return bad(what + " '" + *name + "' lacks a dtype dinfer knows");
    auto dims = ints(object->getArray("shape"), what + " '" + *name + "'.shape", 0, int64_t(1) << 40);
    if (!dims)
      return dims.takeError();
    tensor.shape = std::move(*dims);
    if (const Object *layout = object->getObject("layout")) {
      auto parsed = this->layout(*layout, what + " '" + *name + "'.layout");
      if (!parsed)
        return parsed.takeError();
      tensor.layout = std::move(*parsed);
    } else if (needLayout) {
      return bad(what + " '" + *name + "' lacks its layout");
    }
    return tensor;
  }

private:
  llvm::StringRef fileName_;
};
} // namespace

llvm::Expected<ExportManifest> dinfer::parseManifest(llvm::StringRef text, llvm::StringRef fileName) {
  Reader reader(fileName);
  auto parsed = llvm::json::parse(text);
  if (!parsed)
    return reader.bad(llvm::toString(parsed.takeError()));
  const Object *root = parsed->getAsObject();
  if (!root || root->getString("format") != "dinfer-export")
    return reader.bad("not a dinfer export manifest (format is not \"dinfer-export\")");

  ExportManifest manifest;
  std::optional<int64_t> devices = root->getInteger("device_num");
  std::optional<int64_t> stages = root->getInteger("pipeline_stages");
  if (!devices || !stages || *devices <= 0 || *devices > kMaxDevices || *stages <= 0 || *devices % *stages != 0)
    return reader.bad("device_num and pipeline_stages are missing, or the stages do not divide the devices");
  manifest.deviceNum = *devices;
  manifest.pipelineStages = *stages;

  const Array *inputs = root->getArray("inputs");
  const Array *outputs = root->getArray("outputs");
  const Array *ranks = root->getArray("ranks");
  if (!inputs || !outputs || !ranks)
    return reader.bad("inputs, outputs or ranks are missing");
  for (const Value &entry : *inputs) {
    auto tensor = reader.tensor(entry, "an input", /*needLayout=*/true);
    if (!tensor)
      return tensor.takeError();
    if (llvm::Error err = checkDeviceCount(*tensor->layout, manifest.stageSize()))
      return reader.bad("input '" + tensor->name + "': " + llvm::toString(std::move(err)));
    manifest.inputs.push_back(std::move(*tensor));
  }
  for (const Value &entry : *outputs) {
    auto tensor = reader.tensor(entry, "an output", /*needLayout=*/false);
    if (!tensor)
      return tensor.takeError();
    if (tensor->layout)
      if (llvm::Error err = checkDeviceCount(*tensor->layout, manifest.stageSize()))
        return reader.bad("output '" + tensor->name + "': " + llvm::toString(std::move(err)));
    manifest.outputs.push_back(std::move(*tensor));
  }

  if (static_cast<int64_t>(ranks->size()) != manifest.deviceNum)
    return reader.bad("ranks lists " + llvm::Twine(ranks->size()) + " entries for " + llvm::Twine(manifest.deviceNum) +
                      " devices");
  manifest.ranks.resize(manifest.deviceNum);
  std::vector<bool> seen(manifest.deviceNum);
  for (const Value &entry : *ranks) {
    const Object *rank = entry.getAsObject();
    std::optional<int64_t> index = rank ? rank->getInteger("rank") : std::nullopt;
    const Array *files = rank ? rank->getArray("files") : nullptr;
    if (!index || *index < 0 || *index >= manifest.deviceNum || seen[*index] || !files)
      return reader.bad("a rank entry lacks its rank or files, or repeats a rank");
    seen[*index] = true;
    ExportManifest::Rank &out = manifest.ranks[*index];
    out.rank = *index;
    out.stage = *index / manifest.stageSize();
    for (const Value &fileEntry : *files) {
      const Object *file = fileEntry.getAsObject();
      std::optional<llvm::StringRef> path = file ? file->getString("path") : std::nullopt;
      std::optional<llvm::StringRef> sha = file ? file->getString("sha256") : std::nullopt;
      if (!path || !sha)
        return reader.bad("a file entry of rank " + llvm::Twine(*index) + " lacks its path or sha256");
      bool escapes = path->empty() || llvm::sys::path::is_absolute(*path);
      for (auto it = llvm::sys::path::begin(*path), end = llvm::sys::path::end(*path); it != end; ++it)
        escapes |= *it == "..";
      if (escapes)
        return reader.bad("file path '" + *path + "' leaves the export folder");
      ExportManifest::File item;
      item.path = path->str();
      item.sha256 = sha->str();
      item.bytes = static_cast<uint64_t>(file->getInteger("bytes").value_or(0));
      out.files.push_back(std::move(item));
    }
  }
  if (const Array *groups = root->getArray("groups"))
    for (const Value &entry : *groups) {
      const Object *group = entry.getAsObject();
      std::optional<llvm::StringRef> name = group ? group->getString("name") : std::nullopt;
      if (!name)
        return reader.bad("a group lacks its name");
      auto ranks = reader.ints(group->getArray("ranks"), "group '" + *name + "'.ranks", 0, manifest.deviceNum - 1);
      if (!ranks)
        return ranks.takeError();
      manifest.groups.push_back({name->str(), std::vector<uint32_t>(ranks->begin(), ranks->end())});
    }
  if (const Object *generate = root->getObject("generate")) {
    ExportManifest::Generation generation;
    std::optional<int64_t> batch = generate->getInteger("batch"), prompt = generate->getInteger("prompt_length"),
                           capacity = generate->getInteger("capacity"), layers = generate->getInteger("layers");
    std::optional<llvm::StringRef> file = generate->getString("decode_file");
    const Array *decodeInputs = generate->getArray("inputs");
    const Array *decodeOutputs = generate->getArray("outputs");
    if (!batch || !prompt || !capacity || !layers || !file || !decodeInputs || !decodeOutputs || *batch <= 0 ||
        *prompt <= 0 || *capacity < *prompt || *layers <= 0 || file->contains('/') || *file == "..")
      return reader.bad("generate needs batch, prompt_length, capacity >= prompt_length, layers, decode_file (a name "
                        "in each rank's folder), inputs and outputs");
    generation.batch = *batch;
    generation.promptLength = *prompt;
    generation.capacity = *capacity;
    generation.layers = *layers;
    generation.decodeFile = file->str();
    for (const Value &entry : *decodeInputs) {
      auto tensor = reader.tensor(entry, "a decode input", /*needLayout=*/true);
      if (!tensor)
        return tensor.takeError();
      if (llvm::Error err = checkDeviceCount(*tensor->layout, manifest.stageSize()))
        return reader.bad("decode input '" + tensor->name + "': " + llvm::toString(std::move(err)));
      generation.inputs.push_back(std::move(*tensor));
    }
    for (const Value &entry : *decodeOutputs) {
      auto tensor = reader.tensor(entry, "a decode output", /*needLayout=*/false);
      if (!tensor)
        return tensor.takeError();
      if (tensor->layout)
        if (llvm::Error err = checkDeviceCount(*tensor->layout, manifest.stageSize()))
          return reader.bad("decode output '" + tensor->name + "': " + llvm::toString(std::move(err)));
      generation.outputs.push_back(std::move(*tensor));
    }
    manifest.generation = std::move(generation);
  }
  if (const Object *source = root->getObject("source")) {
    manifest.source.model = source->getString("model").value_or("").str();
    manifest.source.trainStrategy = source->getString("train_strategy").value_or("").str();
    manifest.source.predictStrategy = source->getString("predict_strategy").value_or("").str();
  }
  return manifest;
}

namespace {
Array intList(llvm::ArrayRef<int64_t> values) { return Array(values); }

Object tensorObject(const ExportManifest::Tensor &tensor) {
  Object object{{"name", tensor.name},
                {"dtype", tensor.dtype ? dtypeName(*tensor.dtype).str() : std::string("unknown")},
                {"shape", intList(tensor.shape)}};
  if (tensor.layout) {
    Array tensorMap;
    for (const DimAxes &axes : tensor.layout->tensorMap) {
      if (std::optional<int64_t> axis = singleAxis(axes))
        tensorMap.push_back(*axis);
      else
        tensorMap.push_back(intList(axes));
    }
    object["layout"] = Object{{"dev_matrix", intList(tensor.layout->devMatrix)}, {"tensor_map", std::move(tensorMap)}};
  }
  return object;
}
} // namespace

std::string dinfer::serializeManifest(const ExportManifest &manifest) {
  Array inputs, outputs, ranks, groups;
  for (const ExportManifest::Tensor &input : manifest.inputs)
    inputs.push_back(tensorObject(input));
  for (const ExportManifest::Tensor &output : manifest.outputs)
    outputs.push_back(tensorObject(output));
  for (const ExportManifest::Rank &rank : manifest.ranks) {
    Array files;
    for (const ExportManifest::File &file : rank.files)
      files.push_back(Object{{"path", file.path}, {"bytes", file.bytes}, {"sha256", file.sha256}});
    ranks.push_back(Object{{"rank", rank.rank}, {"stage", rank.stage}, {"files", std::move(files)}});
  }
  for (const ExportManifest::Group &group : manifest.groups) {
    Array members;
    for (uint32_t r : group.ranks)
      members.push_back(r);
    groups.push_back(Object{{"name", group.name}, {"ranks", std::move(members)}});
  }
  const ExportManifest::Source &source = manifest.source;
  Object root{{"format", "dinfer-export"},
              {"version", 1},
              {"device_num", manifest.deviceNum},
              {"pipeline_stages", manifest.pipelineStages},
              {"inputs", std::move(inputs)},
              {"outputs", std::move(outputs)},
              {"ranks", std::move(ranks)},
              {"groups", std::move(groups)},
              {"source", Object{{"model", source.model},
                                {"train_strategy", source.trainStrategy},
                                {"predict_strategy",
                                 source.predictStrategy.empty() ? Value(nullptr) : Value(source.predictStrategy)}}}};
  if (const ExportManifest::Generation *generation = manifest.generation ? &*manifest.generation : nullptr) {
    Array decodeInputs, decodeOutputs;
    for (const ExportManifest::Tensor &input : generation->inputs)
      decodeInputs.push_back(tensorObject(input));
    for (const ExportManifest::Tensor &output : generation->outputs)
      decodeOutputs.push_back(tensorObject(output));
    root["generate"] = Object{{"batch", generation->batch},
                              {"prompt_length", generation->promptLength},
                              {"capacity", generation->capacity},
                              {"layers", generation->layers},
                              {"decode_file", generation->decodeFile},
                              {"inputs", std::move(decodeInputs)},
                              {"outputs", std::move(decodeOutputs)}};
  }
  std::string text;
  llvm::raw_string_ostream(text) << llvm::formatv("{0:2}", Value(std::move(root))) << "\n";
  return text;
}
