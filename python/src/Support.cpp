//===- Support.cpp - dinfer's libraries behind standard types -------------===//

#include "Support.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/Crypto.h"
#include "dinfer/Layout/DType.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Pipeline/Export.h"
#include "dinfer/Pipeline/Inspect.h"
#include "dinfer/Pipeline/MergeStrategy.h"
#include "dinfer/Pipeline/PredictLayout.h"
#include "dinfer/Pipeline/Reshard.h"
#include "dinfer/Pipeline/Generate.h"
#include "dinfer/Pipeline/Run.h"
#include "dinfer/Layout/Layout.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <mutex>
#include <optional>

using namespace dinfer;
using namespace dinfer::python;

namespace {
/// numpy's name of a dtype: MindSpore's in lower case; bfloat16 is read
/// widened to float32, as MindSpore 2.x does; "" where numpy has none.
std::string numpyName(DType type) {
  if (type == DType::BFloat16)
    return "float32";
  if (type == DType::Int4 || type == DType::String)
    return "";
  return dtypeName(type).lower();
}

TensorLayout toLayout(const LayoutItem &item) {
  TensorLayout layout;
  layout.devMatrix.assign(item.devMatrix.begin(), item.devMatrix.end());
  for (const std::vector<int64_t> &axes : item.tensorMap)
    layout.tensorMap.push_back(DimAxes(axes.begin(), axes.end()));
  layout.optShardStep = item.optShardStep;
  layout.optShardSize = item.optShardSize;
  return layout;
}
} // namespace

namespace {
/// The process key and the kernel threads are process-wide: one call at a
/// time.
std::mutex &processWide() {
  static std::mutex mutex;
  return mutex;
}

/// The setKey key when a call writes encrypted files; `what` says which.
Status outputKey(bool encrypt, llvm::StringRef what, std::optional<CipherKey> &key) {
  if (!encrypt)
    return {};
  const CipherKey *current = processKey();
  if (!current)
    return Status{"encrypting " + what.str() + " needs a key", true};
  key = *current;
  return {};
}

Status statusOf(llvm::Error error) {
  Status status;
  llvm::handleAllErrors(
      std::move(error),
      [&](const UsageError &usage) {
        status.message = usage.message();
        status.usage = true;
      },
      [&](const llvm::ErrorInfoBase &other) { status.message = other.message(); });
  if (status.message.empty())
    status.message = "failed";
  return status;
}
} // namespace

Status dinfer::python::setKey(const std::string &keyBytes, const std::string &modeName) {
  std::lock_guard<std::mutex> lock(processWide());
  if (keyBytes.empty()) {
    setProcessKey(std::nullopt);
    return {};
  }
  std::optional<CipherMode> mode = parseCipherMode(modeName);
  if (!mode)
    return Status{"key mode " + modeName + " is not one of AES-GCM, AES-CBC, SM4-CBC", true};
  CipherKey key;
  key.mode = *mode;
  key.bytes.assign(keyBytes.begin(), keyBytes.end());
  if (llvm::Error err = checkKey(key))
    return Status{llvm::toString(std::move(err)), true};
  setProcessKey(std::move(key));
  return {};
}

Status dinfer::python::describeFile(const std::string &path, std::string &json) {
  std::lock_guard<std::mutex> lock(processWide());
  auto description = dinfer::describeFile(path);
  if (!description)
    return statusOf(description.takeError());
  llvm::raw_string_ostream(json) << *description;
  return {};
}

Status dinfer::python::predictLayout(const std::string &model, const std::string &trainStrategy,
                                     const std::vector<std::string> &inputSpecs, int64_t deviceNum,
                                     int64_t pipelineStages, const std::string &output, std::string &json) {
  std::lock_guard<std::mutex> lock(processWide());
  PredictionRequest request{model, trainStrategy, inputSpecs, deviceNum, pipelineStages};
  auto layout = inferPredictLayout(request, llvm::StringRef(output).ends_with(".json")
                                                ? StrategyFile::Encoding::Json
                                                : StrategyFile::Encoding::Protobuf);
  if (!layout)
    return statusOf(layout.takeError());
  if (!output.empty())
    if (llvm::Error err = writeStrategy(layout->strategy, output))
      return statusOf(std::move(err));
  llvm::raw_string_ostream(json) << predictLayoutJson(*layout);
  return {};
}

Status dinfer::python::mergeStrategies(const std::string &folder, const std::string &output, size_t &stageFiles,
                                       size_t &layouts, std::vector<std::string> &notes) {
  std::lock_guard<std::mutex> lock(processWide());
  auto summary = mergeStrategyFolder(folder, output, [&](llvm::StringRef file) {
    notes.push_back(file.str() + " repeats an earlier file; skipped");
  });
  if (!summary)
    return statusOf(summary.takeError());
  stageFiles = summary->stageFiles;
  layouts = summary->layouts;
  return {};
}

Status dinfer::python::exportModel(const ExportArgs &args, Progress progress, ExportDone &done) {
  std::lock_guard<std::mutex> lock(processWide());
  ExportRequest request;
  request.model = args.model;
  request.trainStrategy = args.trainStrategy;
  request.ckptDir = args.ckptDir;
  request.inputSpecs = args.inputSpecs;
  request.deviceNum = args.deviceNum;
  request.pipelineStages = args.pipelineStages;
  request.predictStrategy = args.predictStrategy;
  request.output = args.output;
  request.threads = args.threads;
  request.sync = args.sync;
  request.report = args.report;
  request.maxLength = args.maxLength;
  if (Status status = outputKey(args.encrypt, "the export (enc_key)", request.encryptWith); !status.ok())
    return status;
  if (progress)
    request.progress = [progress](llvm::StringRef phase, uint64_t units, uint64_t total) {
      progress(phase.str(), units, total);
    };
  auto summary = dinfer::exportModel(request);
  if (!summary)
    return statusOf(summary.takeError());
  done.output = summary->output;
  done.devices = summary->devices;
  done.stages = summary->stages;
  done.weightBytes = summary->weightBytes;
  done.groups = summary->groups;
  done.seconds = summary->seconds;
  return {};
}

Status dinfer::python::reshard(const ReshardArgs &args, Progress progress, ReshardDone &done) {
  std::lock_guard<std::mutex> lock(processWide());
  ReshardRequest request;
  request.src = args.src;
  request.srcList = args.srcList;
  request.srcStrategy = args.srcStrategy;
  request.dst = args.dst;
  request.dstStrategy = args.dstStrategy;
  request.prefix = args.prefix;
  request.ranks = args.ranks;
  if (!args.format.empty()) {
    request.format = parseCheckpointFormat(args.format);
    if (!request.format)
      return Status{"format must be 'ckpt' or 'safetensors', not '" + args.format + "'", true};
  }
  request.maxShardSize = args.maxShardSize;
  request.rename = args.nameMap;
  if (Status status = outputKey(args.encrypt, "the checkpoints", request.encryptWith); !status.ok())
    return status;
  // Workers report every copy; Python hears of it at most five times a second.
  std::mutex progressMutex;
  auto last = std::chrono::steady_clock::time_point();
  if (progress)
    request.progress = [&](uint64_t bytes, uint64_t total) {
      std::lock_guard<std::mutex> guard(progressMutex);
      auto now = std::chrono::steady_clock::now();
      if (bytes < total && bytes != 0 && now - last < std::chrono::milliseconds(200))
        return;
      last = now;
      progress("reshard", bytes, total);
    };
  request.notice = [&](llvm::StringRef what, const std::vector<std::string> &names) {
    done.notices.emplace_back(what.str(), names);
  };
  auto result = reshardCheckpoints(request);
  if (!result)
    return statusOf(result.takeError());
  done.srcRanks = result->srcRanks;
  done.files = result->outputs.size();
  done.bytes = result->bytes;
  done.seconds = result->seconds;
  for (auto [what, names] : {std::make_pair("layouts with no tensor in the checkpoints", &result->plan.missing),
                             std::make_pair("tensors not used by the destination layout", &result->plan.unused),
                             std::make_pair("tensors without a layout, copied as replicated", &result->plan.replicated)})
    if (!names->empty())
      done.planNotices.emplace_back(what, *names);
  return {};
}

Status dinfer::python::predict(const PredictArgs &args, const std::vector<TensorData> &inputs,
                               std::vector<OutputArray> &outputs, std::string &summary) {
  std::lock_guard<std::mutex> lock(processWide());
  RunRequest request;
  request.model = args.model;
  request.trainStrategy = args.trainStrategy;
  request.dtype = args.bfloat16 ? DType::BFloat16 : DType::Float32;
  request.deviceNum = args.deviceNum;
  request.pipelineStages = args.pipelineStages;
  request.threads = args.threads;
  request.timeout = std::chrono::seconds(args.timeoutSeconds);
  for (const TensorData &input : inputs) {
    std::optional<DType> type = parseDType(input.dtype);
    if (!type || dtypeName(*type).lower() != input.dtype)
      return Status{"input '" + input.name + "': numpy dtype " + input.dtype + " is not one dinfer runs", true};
    NpyArray array;
    array.dtype = *type;
    array.shape.assign(input.shape.begin(), input.shape.end());
    const char *bytes = static_cast<const char *>(input.data);
    array.data.assign(bytes, bytes + input.bytes);
    request.inputs[input.name] = std::move(array);
  }
  auto result = runModel(request);
  if (!result)
    return statusOf(result.takeError());
  summary = result->summary;
  for (auto [i, buffer] : llvm::enumerate(result->outputs)) {
    OutputArray out;
    out.name = result->names[i];
    // numpy has no bfloat16: its bits come out as uint16, as `dinfer run` writes them.
    out.dtype = buffer.dtype == DType::BFloat16 ? "uint16" : dtypeName(buffer.dtype).lower();
    out.shape.assign(buffer.shape.begin(), buffer.shape.end());
    out.data.assign(buffer.bytes(), buffer.bytes() + buffer.byteSize());
    outputs.push_back(std::move(out));
  }
  return {};
}

Status dinfer::python::generate(const GenerateArgs &args, GenerateDone &done) {
  std::lock_guard<std::mutex> lock(processWide());
  GenerateRequest request;
  request.model = args.model;
  request.maxNewTokens = args.newTokens;
  request.threads = args.threads;
  request.deviceNum = args.deviceNum;
  request.trainStrategy = args.trainStrategy;
  if (args.eosTokenId >= 0)
    request.eosTokenId = args.eosTokenId;
  request.inputIds.dtype = DType::Int64;
  request.inputIds.shape.assign(args.promptShape.begin(), args.promptShape.end());
  int64_t count = 1;
  for (int64_t extent : args.promptShape)
    count *= extent;
  const char *bytes = reinterpret_cast<const char *>(args.prompt);
  request.inputIds.data.assign(bytes, bytes + count * sizeof(int64_t));
  auto result = dinfer::generate(request);
  if (!result)
    return statusOf(result.takeError());
  done.shape.assign(result->tokens.shape.begin(), result->tokens.shape.end());
  const auto *tokens = reinterpret_cast<const int64_t *>(result->tokens.data.data());
  done.tokens.assign(tokens, tokens + result->tokens.data.size() / sizeof(int64_t));
  done.prefillMs = result->prefillMs;
  done.decodeMsPerToken = result->decodeMsPerToken;
  done.tokensPerSecond = result->tokensPerSecond;
  return {};
}

struct CheckpointReader::Impl {
  std::optional<Checkpoint> checkpoint;
  std::vector<TensorInfo> infos;
};

CheckpointReader::CheckpointReader() : impl_(std::make_unique<Impl>()) {}
CheckpointReader::~CheckpointReader() = default;

std::unique_ptr<CheckpointReader> CheckpointReader::open(const std::string &path, const std::string &keyBytes,
                                                         const std::string &modeName, std::string &error) {
  std::optional<CipherKey> key;
  if (!keyBytes.empty()) {
    std::optional<CipherMode> mode = parseCipherMode(modeName);
    if (!mode) {
      error = "dec_mode " + modeName + " is not one of AES-GCM, AES-CBC, SM4-CBC";
      return nullptr;
    }
    key.emplace();
    key->mode = *mode;
    key->bytes.assign(keyBytes.begin(), keyBytes.end());
    if (llvm::Error err = checkKey(*key)) {
      error = llvm::toString(std::move(err));
      return nullptr;
    }
  }
  auto checkpoint = Checkpoint::open(path, key ? &*key : nullptr);
  if (!checkpoint) {
    error = llvm::toString(checkpoint.takeError());
    return nullptr;
  }
  std::unique_ptr<CheckpointReader> reader(new CheckpointReader());
  for (const CheckpointTensor &tensor : checkpoint->tensors()) {
    TensorInfo info;
    info.name = tensor.name;
    info.typeName = tensor.typeName;
    info.shape.assign(tensor.shape.begin(), tensor.shape.end());
    info.dtype = tensor.dtype ? numpyName(*tensor.dtype) : "";
    info.readable = !tensor.isMapTensor && !info.dtype.empty() && tensor.numElements() >= 0;
    reader->impl_->infos.push_back(std::move(info));
  }
  reader->impl_->checkpoint.emplace(std::move(*checkpoint));
  return reader;
}

const std::vector<TensorInfo> &CheckpointReader::tensors() const { return impl_->infos; }

std::string CheckpointReader::read(size_t index, void *out, size_t bytes) const {
  const CheckpointTensor &tensor = impl_->checkpoint->tensors()[index];
  if (!impl_->infos[index].readable)
    return "tensor '" + tensor.name + "' of type " + tensor.typeName + " cannot be read as a numpy array";
  char *target = static_cast<char *>(out);
  if (tensor.dtype == DType::BFloat16) {
    uint64_t count = tensor.bytes / 2;
    if (bytes != count * 4)
      return "tensor '" + tensor.name + "': buffer of the wrong size";
    std::vector<char> raw(tensor.bytes);
    if (llvm::Error err = impl_->checkpoint->read(tensor, 0, raw))
      return llvm::toString(std::move(err));
    convertFloats(DType::BFloat16, DType::Float32, raw.data(), target, count);
    return "";
  }
  if (bytes != tensor.bytes)
    return "tensor '" + tensor.name + "': buffer of " + std::to_string(bytes) + " bytes for " +
           std::to_string(tensor.bytes) + " bytes of data";
  if (llvm::Error err = impl_->checkpoint->read(tensor, 0, llvm::MutableArrayRef<char>(target, bytes)))
    return llvm::toString(std::move(err));
  return "";
}

std::string dinfer::python::writeCheckpoint(const std::string &path, const std::vector<TensorData> &tensors,
                                            const std::string &format) {
  TensorWriterOptions options;
  std::optional<CheckpointFormat> parsed = parseCheckpointFormat(format.empty() ? "ckpt" : format);
  if (!parsed)
    return "format must be 'ckpt' or 'safetensors', not '" + format + "'";
  options.format = *parsed;
  std::vector<PlannedTensor> planned;
  for (const TensorData &tensor : tensors) {
    std::optional<DType> type = parseDType(tensor.dtype);
    if (!type || numpyName(*type) != tensor.dtype)
      return "tensor '" + tensor.name + "': numpy dtype " + tensor.dtype + " has no MindSpore checkpoint type";
    planned.push_back({tensor.name, dtypeName(*type).str(),
                       llvm::SmallVector<int64_t, 4>(tensor.shape.begin(), tensor.shape.end()), tensor.bytes});
  }
  auto writer = createTensorWriter(path, planned, options);
  if (!writer)
    return llvm::toString(writer.takeError());
  for (const TensorData &tensor : tensors) {
    std::optional<DType> type = parseDType(tensor.dtype);
    llvm::SmallVector<int64_t, 4> shape(tensor.shape.begin(), tensor.shape.end());
    if (llvm::Error err = (*writer)->add(tensor.name, dtypeName(*type), shape,
                                         llvm::ArrayRef<char>(static_cast<const char *>(tensor.data), tensor.bytes)))
      return llvm::toString(std::move(err));
  }
  if (llvm::Error err = (*writer)->finish())
    return llvm::toString(std::move(err));
  return "";
}

std::string dinfer::python::readStrategy(const std::string &path, std::vector<LayoutItem> &layouts,
                                         int64_t &currentStage) {
  auto strategy = dinfer::readStrategy(path);
  if (!strategy)
    return llvm::toString(strategy.takeError());
  currentStage = strategy->currentStage;
  for (const StrategyLayout &item : strategy->layouts) {
    LayoutItem out;
    out.name = item.name;
    out.param = item.param;
    out.stages.assign(item.stages.begin(), item.stages.end());
    out.devMatrix.assign(item.layout.devMatrix.begin(), item.layout.devMatrix.end());
    for (const DimAxes &axes : item.layout.tensorMap)
      out.tensorMap.emplace_back(axes.begin(), axes.end());
    out.field = item.field;
    out.optShardStep = item.layout.optShardStep;
    out.optShardSize = item.layout.optShardSize;
    out.paramSplitShape.assign(item.paramSplitShape.begin(), item.paramSplitShape.end());
    if (item.tensorShape) {
      out.hasTensorShape = true;
      out.tensorShape.assign(item.tensorShape->begin(), item.tensorShape->end());
    }
    layouts.push_back(std::move(out));
  }
  return "";
}

std::string dinfer::python::rankSlice(const std::vector<int64_t> &shape, const LayoutItem &item, int64_t rank,
                                      std::vector<int64_t> &offset, std::vector<int64_t> &sliceShape) {
  TensorLayout layout = toLayout(item);
  if (llvm::Error err = checkLayout(layout))
    return llvm::toString(std::move(err));
  auto tensor = ShardedTensor::create(shape, layout);
  if (!tensor)
    return llvm::toString(tensor.takeError());
  if (rank < 0 || rank >= tensor->deviceCount())
    return "rank " + std::to_string(rank) + " is outside the layout's " + std::to_string(tensor->deviceCount()) +
           " devices";
  Slice slice = tensor->sliceOfRank(rank);
  offset.assign(slice.offset.begin(), slice.offset.end());
  sliceShape.assign(slice.shape.begin(), slice.shape.end());
  return "";
}
