//===- Support.cpp - dinfer's libraries behind standard types -------------===//

#include "Support.h"

#include "Command.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/Crypto.h"
#include "dinfer/Formats/DType.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Reshard/Layout.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <unistd.h>

using namespace dinfer;
using namespace dinfer::python;

namespace {
/// Points a standard stream's descriptor at an unnamed temporary file for as
/// long as it lives, and gives back what was written.
class CapturedDescriptor {
public:
  explicit CapturedDescriptor(int fd) : fd_(fd) {
    file_ = std::tmpfile();
    saved_ = ::dup(fd);
    if (file_ && saved_ >= 0)
      ::dup2(::fileno(file_), fd);
  }
  ~CapturedDescriptor() { restore(); }
  std::string restore() {
    std::string text;
    if (saved_ < 0 || !file_)
      return text;
    ::dup2(saved_, fd_);
    ::close(saved_);
    saved_ = -1;
    std::rewind(file_);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file_)) > 0)
      text.append(buffer, n);
    std::fclose(file_);
    file_ = nullptr;
    return text;
  }

private:
  int fd_;
  int saved_ = -1;
  std::FILE *file_ = nullptr;
};

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

DriverResult dinfer::python::runDriver(const std::vector<std::string> &args, Progress progress) {
  // The driver's options are process-wide; one command at a time.
  static std::mutex running;
  std::lock_guard<std::mutex> lock(running);

  std::vector<const char *> argv{"dinfer"};
  for (const std::string &arg : args)
    argv.push_back(arg.c_str());

  if (progress)
    cli::setProgressSink(
        [&](llvm::StringRef phase, uint64_t done, uint64_t total) { progress(phase.str(), done, total); });
  DriverResult result;
  llvm::outs().flush();
  std::fflush(stdout);
  std::fflush(stderr);
  {
    CapturedDescriptor out(STDOUT_FILENO), err(STDERR_FILENO);
    result.exitCode = cli::runDriver(static_cast<int>(argv.size()), argv.data());
    llvm::outs().flush();
    llvm::errs().flush();
    std::fflush(stdout);
    std::fflush(stderr);
    result.out = out.restore();
    result.err = err.restore();
  }
  cli::setProgressSink(nullptr);
  return result;
}

std::vector<std::string> dinfer::python::commandNames() { return cli::commandNames(); }

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

std::string dinfer::python::writeCheckpoint(const std::string &path, const std::vector<TensorData> &tensors) {
  auto writer = CheckpointWriter::create(path);
  if (!writer)
    return llvm::toString(writer.takeError());
  for (const TensorData &tensor : tensors) {
    std::optional<DType> type = parseDType(tensor.dtype);
    if (!type || numpyName(*type) != tensor.dtype)
      return "tensor '" + tensor.name + "': numpy dtype " + tensor.dtype + " has no MindSpore checkpoint type";
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
