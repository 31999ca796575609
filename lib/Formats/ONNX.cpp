//===- ONNX.cpp - ONNX models through libonnx's protobuf classes ----------===//

#include "dinfer/Formats/ONNX.h"

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/Npy.h"

#include "onnx/onnx_pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <limits>

using namespace dinfer;
using llvm::StringRef;

std::optional<DType> dinfer::dtypeFromOnnx(int32_t dataType) {
  switch (dataType) {
  case onnx::TensorProto::FLOAT: return DType::Float32;
  case onnx::TensorProto::UINT8: return DType::UInt8;
  case onnx::TensorProto::INT8: return DType::Int8;
  case onnx::TensorProto::UINT16: return DType::UInt16;
  case onnx::TensorProto::INT16: return DType::Int16;
  case onnx::TensorProto::INT32: return DType::Int32;
  case onnx::TensorProto::INT64: return DType::Int64;
  case onnx::TensorProto::BOOL: return DType::Bool;
  case onnx::TensorProto::FLOAT16: return DType::Float16;
  case onnx::TensorProto::DOUBLE: return DType::Float64;
  case onnx::TensorProto::UINT32: return DType::UInt32;
  case onnx::TensorProto::UINT64: return DType::UInt64;
  case onnx::TensorProto::BFLOAT16: return DType::BFloat16;
  default: return std::nullopt;
  }
}

OnnxModel::OnnxModel() : proto_(std::make_unique<onnx::ModelProto>()) {}
OnnxModel::OnnxModel(OnnxModel &&) = default;
OnnxModel &OnnxModel::operator=(OnnxModel &&) = default;
OnnxModel::~OnnxModel() = default;

namespace {
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;
using google::protobuf::internal::WireFormatLite;

// onnx.proto's field numbers on the way to an initializer's bytes.
constexpr int kModelGraph = 7, kGraphInitializer = 5, kTensorRawData = 9;

/// Where each initializer's raw_data lies in the file, in initializer order;
/// absent for an initializer without raw_data.
using RawRanges = std::vector<std::optional<llvm::ArrayRef<char>>>;

void appendLengthDelimited(std::string &out, int field, llvm::ArrayRef<char> bytes) {
  StringOutputStream stream(&out);
  CodedOutputStream coded(&stream);
  coded.WriteTag(WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  coded.WriteVarint32(static_cast<uint32_t>(bytes.size()));
  coded.WriteRaw(bytes.data(), static_cast<int>(bytes.size()));
}

/// Copies the message `bytes` into `out` field by field; the length-delimited
/// field `descend` is handed to `inner` instead (which appends what replaces
/// it, or nothing). False when the bytes are not a well-formed message.
template <typename Inner>
bool rewriteMessage(llvm::ArrayRef<char> bytes, int descend, std::string &out, Inner inner) {
  CodedInputStream in(reinterpret_cast<const uint8_t *>(bytes.data()), static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(std::numeric_limits<int>::max());
  while (true) {
    int begin = in.CurrentPosition();
    uint32_t tag = in.ReadTag();
    if (tag == 0)
      return in.CurrentPosition() == static_cast<int>(bytes.size());
    if (WireFormatLite::GetTagFieldNumber(tag) == descend &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      int at = 0;
      if (!in.ReadVarint32(&length) || (at = in.CurrentPosition(), !in.Skip(static_cast<int>(length))))
        return false;
      if (!inner(bytes.slice(at, length), out))
        return false;
      continue;
    }
    if (!WireFormatLite::SkipField(&in, tag))
      return false;
    out.append(bytes.data() + begin, in.CurrentPosition() - begin);
  }
}

/// The model without its initializers' raw_data (`skeleton`), and where each
/// lies in `bytes`: a model's weights are read where the file is mapped,
/// never copied into the parsed message.
bool splitWeights(llvm::ArrayRef<char> bytes, std::string &skeleton, RawRanges &ranges) {
  return rewriteMessage(bytes, kModelGraph, skeleton, [&](llvm::ArrayRef<char> graph, std::string &out) {
    std::string graphOut;
    bool ok = rewriteMessage(graph, kGraphInitializer, graphOut, [&](llvm::ArrayRef<char> tensor, std::string &out) {
      std::string tensorOut;
      std::optional<llvm::ArrayRef<char>> raw;
      bool ok = rewriteMessage(tensor, kTensorRawData, tensorOut, [&](llvm::ArrayRef<char> data, std::string &) {
        raw = data; // the last occurrence wins, as in parsing
        return true;
      });
      ranges.push_back(raw);
      appendLengthDelimited(out, kGraphInitializer, llvm::ArrayRef<char>(tensorOut.data(), tensorOut.size()));
      return ok;
    });
    appendLengthDelimited(out, kModelGraph, llvm::ArrayRef<char>(graphOut.data(), graphOut.size()));
    return ok;
  });
}
} // namespace

llvm::Expected<OnnxModel> OnnxModel::open(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buffer)
    return fileError(path, "cannot open: " + buffer.getError().message());
  return fromFile(std::move(*buffer), path, llvm::sys::path::parent_path(path));
}

llvm::Expected<OnnxModel> OnnxModel::fromFile(std::unique_ptr<llvm::MemoryBuffer> buffer, StringRef path,
                                              StringRef directory) {
  std::shared_ptr<llvm::MemoryBuffer> file(std::move(buffer));
  StringRef bytes = file->getBuffer();
  // Initializers' raw_data stay in the mapped file: the parsed message holds
  // the graph alone, and a weight's pages are read when a kernel reads it
  // (and may be given back once the kernel has packed its own copy).
  std::string skeleton;
  RawRanges ranges;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !splitWeights(llvm::ArrayRef<char>(bytes.data(), bytes.size()), skeleton, ranges))
    return parse(bytes, path, directory); // parse names what is wrong
  auto model = parse(skeleton, path, directory);
  if (!model)
    return model.takeError();
  const auto &initializers = model->proto_->graph().initializer();
  if (static_cast<size_t>(initializers.size()) != ranges.size())
    return parse(bytes, path, directory);
  for (auto [tensor, range] : llvm::zip_equal(initializers, ranges))
    if (range)
      model->inFile_[&tensor] = *range;
  model->file_ = std::move(file);
  return model;
}

llvm::Expected<OnnxModel> OnnxModel::parse(StringRef bytes, StringRef name, StringRef directory) {
  OnnxModel model;
  model.path_ = name.str();
  model.directory_ = directory.str();
  if (bytes.empty())
    return fileError(name, "empty file, not an ONNX model");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return fileError(name, "larger than 2 GiB; ONNX models this large keep their weights in external data");
  if (!model.proto_->ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())) || !model.proto_->has_graph())
    return fileError(name, "not an ONNX model: the bytes do not parse as an onnx.ModelProto with a graph");
  return model;
}

int64_t OnnxModel::opset() const {
  for (const onnx::OperatorSetIdProto &opset : proto_->opset_import())
    if (opset.domain().empty() || opset.domain() == "ai.onnx")
      return opset.version();
  return 0;
}

namespace {
template <typename T, typename Field>
std::vector<char> packTyped(const Field &field) {
  std::vector<char> out(field.size() * sizeof(T));
  for (int i = 0; i < field.size(); ++i) {
    T value = static_cast<T>(field.Get(i));
    std::memcpy(out.data() + i * sizeof(T), &value, sizeof(T));
  }
  return out;
}
} // namespace

/// The bytes of `tensor` of the model at `path_`, external data resolved
/// against `directory_`.
/// The external data of `tensor` ("location", "offset", "length" entries),
/// mapped read-only; the location must stay inside the model's folder.
static llvm::Expected<MappedBytes> mapExternalData(const onnx::TensorProto &tensor, const std::string &path_,
                                                   const std::string &directory_, uint64_t expected) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = std::atoll(entry.value().c_str());
    else if (entry.key() == "length")
      length = std::atoll(entry.value().c_str());
  }
  bool escapes = location.empty() || llvm::sys::path::is_absolute(location);
  for (auto it = llvm::sys::path::begin(location), end = llvm::sys::path::end(location); it != end; ++it)
    escapes |= *it == "..";
  if (escapes)
    return fileError(path_, "tensor '" + tensor.name() + "': external data location '" + location +
                                "' leaves the model's folder");
  if (offset < 0)
    return fileError(path_, "tensor '" + tensor.name() + "': negative external data offset");
  llvm::SmallString<256> file(directory_);
  llvm::sys::path::append(file, location);
  auto range = mapFileRange(file, static_cast<uint64_t>(offset), length < 0 ? expected : uint64_t(length));
  if (!range)
    return fileError(path_, "tensor '" + tensor.name() + "': " + llvm::toString(range.takeError()));
  return range;
}

static llvm::Expected<std::vector<char>> bytesOfImpl(const onnx::TensorProto &tensor, const std::string &path_,
                                                     const std::string &directory_);

llvm::Expected<std::vector<char>> OnnxModel::tensorBytes(const onnx::TensorProto &tensor) const {
  // Raw data in the mapped file: read as mapTensor reads it (a type dinfer
  // does not know is refused by bytesOfImpl, naming it).
  if (inFile_.count(&tensor) && dtypeFromOnnx(tensor.data_type())) {
    auto mapped = mapTensor(tensor);
    if (!mapped)
      return mapped.takeError();
    return std::vector<char>(mapped->bytes.begin(), mapped->bytes.end());
  }
  return bytesOfImpl(tensor, path_, directory_);
}

llvm::Expected<MappedBytes> OnnxModel::mapTensor(const onnx::TensorProto &tensor) const {
  std::optional<DType> dtype = dtypeFromOnnx(tensor.data_type());
  bool external = tensor.data_location() == onnx::TensorProto::EXTERNAL;
  auto inFile = external ? inFile_.end() : inFile_.find(&tensor);
  bool raw = inFile != inFile_.end() || tensor.has_raw_data();
  if (!dtype || (!external && !raw)) {
    // Typed fields (float_data, ...) must be packed: a copy.
    auto bytes = tensorBytes(tensor);
    if (!bytes)
      return bytes.takeError();
    auto owned = std::make_shared<std::vector<char>>(std::move(*bytes));
    return MappedBytes{llvm::ArrayRef<char>(owned->data(), owned->size()), owned};
  }
  int64_t count = 1;
  for (int64_t d : tensor.dims())
    if (d < 0 || __builtin_mul_overflow(count, d, &count))
      return fileError(path_, "tensor '" + tensor.name() + "' has an invalid shape");
  uint64_t expected = static_cast<uint64_t>(count) * dtypeBits(*dtype) / 8;
  MappedBytes mapped;
  if (external) {
    auto range = mapExternalData(tensor, path_, directory_, expected);
    if (!range)
      return range.takeError();
    mapped = std::move(*range);
  } else if (inFile != inFile_.end()) {
    mapped.bytes = inFile->second;
    mapped.owner = file_;
  } else {
    mapped.bytes = llvm::ArrayRef<char>(tensor.raw_data().data(), tensor.raw_data().size());
  }
  if (mapped.bytes.size() != expected)
    return fileError(path_, "tensor '" + tensor.name() + "' has " + llvm::Twine(mapped.bytes.size()) +
                                " bytes of data, but its shape and type need " + llvm::Twine(expected));
  return mapped;
}

static llvm::Expected<std::vector<char>> bytesOfImpl(const onnx::TensorProto &tensor, const std::string &path_,
                                                     const std::string &directory_) {
  std::optional<DType> dtype = dtypeFromOnnx(tensor.data_type());
  if (!dtype)
    return fileError(path_, "tensor '" + tensor.name() + "' has ONNX data type " + llvm::Twine(tensor.data_type()) +
                                ", which dinfer does not support");
  int64_t count = 1;
  for (int64_t d : tensor.dims())
    if (d < 0 || __builtin_mul_overflow(count, d, &count))
      return fileError(path_, "tensor '" + tensor.name() + "' has an invalid shape");
  uint64_t expected = static_cast<uint64_t>(count) * dtypeBits(*dtype) / 8;
  std::vector<char> bytes;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    auto range = mapExternalData(tensor, path_, directory_, expected);
    if (!range)
      return range.takeError();
    bytes.assign(range->bytes.begin(), range->bytes.end());
  } else if (tensor.has_raw_data()) {
    bytes.assign(tensor.raw_data().begin(), tensor.raw_data().end());
  } else {
    switch (*dtype) {
    case DType::Float32: bytes = packTyped<float>(tensor.float_data()); break;
    case DType::Float64: bytes = packTyped<double>(tensor.double_data()); break;
    case DType::Int64: bytes = packTyped<int64_t>(tensor.int64_data()); break;
    case DType::UInt64:
    case DType::UInt32:
      bytes = *dtype == DType::UInt64 ? packTyped<uint64_t>(tensor.uint64_data())
                                      : packTyped<uint32_t>(tensor.uint64_data());
      break;
    case DType::Int32: bytes = packTyped<int32_t>(tensor.int32_data()); break;
    case DType::Int16: bytes = packTyped<int16_t>(tensor.int32_data()); break;
    case DType::UInt16:
    case DType::Float16:
    case DType::BFloat16: bytes = packTyped<uint16_t>(tensor.int32_data()); break;
    case DType::Int8: bytes = packTyped<int8_t>(tensor.int32_data()); break;
    case DType::UInt8:
    case DType::Bool: bytes = packTyped<uint8_t>(tensor.int32_data()); break;
    default: break;
    }
  }
  if (bytes.size() != expected)
    return fileError(path_, "tensor '" + tensor.name() + "' has " + llvm::Twine(bytes.size()) +
                                " bytes of data, but its shape and type need " + llvm::Twine(expected));
  return bytes;
}

llvm::Expected<NpyArray> dinfer::parseOnnxTensor(StringRef bytes, StringRef fileName) {
  onnx::TensorProto tensor;
  if (!tensor.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())) || !tensor.IsInitialized())
    return fileError(fileName, "not a serialized onnx.TensorProto");
  auto data = bytesOfImpl(tensor, fileName.str(), "");
  if (!data)
    return data.takeError();
  NpyArray array;
  array.dtype = *dtypeFromOnnx(tensor.data_type());
  array.shape.assign(tensor.dims().begin(), tensor.dims().end());
  array.data = std::move(*data);
  return array;
}

std::string dinfer::serializeOnnxTensor(const NpyArray &array, StringRef name) {
  onnx::TensorProto tensor;
  tensor.set_name(name.str());
  for (int64_t d : array.shape)
    tensor.add_dims(d);
  int32_t type = onnx::TensorProto::UNDEFINED;
  for (int32_t t = 1; t <= 16; ++t)
    if (dtypeFromOnnx(t) == array.dtype) {
      type = t;
      break;
    }
  tensor.set_data_type(type);
  tensor.set_raw_data(array.data.data(), array.data.size());
  return tensor.SerializeAsString();
}
