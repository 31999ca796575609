//===- MindIR.cpp - MindSpore MindIR models, read and written -------------===//

#include "dinfer/Formats/MindIR.h"

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/FileUtils.h"
#include "Wire.h"

#include "mind_ir.pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <deque>
#include <limits>
#include <map>

using namespace dinfer;
using llvm::StringRef;
using llvm::Twine;

namespace {
constexpr uint64_t kExternalHeader = 64;
constexpr uint64_t kExternalAlignment = 64;

/// "<graph>:<name>" -> "<name>", as MindSpore's loaders read names.
StringRef localName(StringRef name) {
  size_t colon = name.find(':');
  return colon == StringRef::npos ? name : name.drop_front(colon + 1);
}

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

MindIRValue valueOf(StringRef name, const mind_ir::TensorProto *tensor) {
  MindIRValue value;
  value.name = localName(name).str();
  if (tensor) {
    value.dataType = tensor->data_type();
    value.dtype = dtypeFromMindIR(tensor->data_type());
    value.shape.assign(tensor->dims().begin(), tensor->dims().end());
  }
  return value;
}

/// An external-data location must stay inside the model's folder.
bool isContainedPath(StringRef location) {
  if (location.empty() || llvm::sys::path::is_absolute(location) || location.starts_with("\\"))
    return false;
  for (auto it = llvm::sys::path::begin(location), end = llvm::sys::path::end(location); it != end; ++it)
    if (*it == "..")
      return false;
  return true;
}

std::string resolveOp(const mind_ir::ModelProto &model, StringRef raw) {
  if (!raw.consume_front("REF::"))
    return raw.str();
  for (const mind_ir::PrimitiveProto &primitive : model.primitives())
    if (primitive.name() == raw) {
      // "S-Prim-" marks a primitive called through its Python signature.
      StringRef opType = primitive.op_type();
      opType.consume_front("S-Prim-");
      return opType.str();
    }
  // A call of a sub-graph or through a node: the referenced name.
  return raw.str();
}
} // namespace

std::optional<DType> dinfer::dtypeFromMindIR(int32_t dataType) {
  switch (dataType) {
  case mind_ir::TensorProto::FLOAT: return DType::Float32;
  case mind_ir::TensorProto::UINT8: return DType::UInt8;
  case mind_ir::TensorProto::INT8: return DType::Int8;
  case mind_ir::TensorProto::UINT16: return DType::UInt16;
  case mind_ir::TensorProto::INT16: return DType::Int16;
  case mind_ir::TensorProto::INT32: return DType::Int32;
  case mind_ir::TensorProto::INT64: return DType::Int64;
  case mind_ir::TensorProto::BOOL: return DType::Bool;
  case mind_ir::TensorProto::FLOAT16: return DType::Float16;
  case mind_ir::TensorProto::DOUBLE:
  case mind_ir::TensorProto::FLOAT64: return DType::Float64;
  case mind_ir::TensorProto::UINT32: return DType::UInt32;
  case mind_ir::TensorProto::UINT64: return DType::UInt64;
  case mind_ir::TensorProto::BFLOAT16: return DType::BFloat16;
  case mind_ir::TensorProto::QINT4X2: return DType::Int4;
  default: return std::nullopt;
  }
}

int32_t dinfer::dtypeToMindIR(DType type) {
  switch (type) {
  case DType::Float32: return mind_ir::TensorProto::FLOAT;
  case DType::UInt8: return mind_ir::TensorProto::UINT8;
  case DType::Int8: return mind_ir::TensorProto::INT8;
  case DType::UInt16: return mind_ir::TensorProto::UINT16;
  case DType::Int16: return mind_ir::TensorProto::INT16;
  case DType::Int32: return mind_ir::TensorProto::INT32;
  case DType::Int64: return mind_ir::TensorProto::INT64;
  case DType::Bool: return mind_ir::TensorProto::BOOL;
  case DType::Float16: return mind_ir::TensorProto::FLOAT16;
  case DType::Float64: return mind_ir::TensorProto::DOUBLE; // as the 1.7 exporter writes it
  case DType::UInt32: return mind_ir::TensorProto::UINT32;
  case DType::UInt64: return mind_ir::TensorProto::UINT64;
  case DType::BFloat16: return mind_ir::TensorProto::BFLOAT16;
  case DType::Int4: return mind_ir::TensorProto::QINT4X2;
  case DType::String: return mind_ir::TensorProto::STRING;
  }
  return mind_ir::TensorProto::UNDEFINED;
}

MindIRModel::MindIRModel() : proto_(std::make_unique<mind_ir::ModelProto>()) {}
MindIRModel::MindIRModel(MindIRModel &&) = default;
MindIRModel &MindIRModel::operator=(MindIRModel &&) = default;
MindIRModel::~MindIRModel() = default;

llvm::Expected<MindIRModel> MindIRModel::open(StringRef path, const CipherKey *key) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fileError(path, "cannot open: " + buffer.getError().message());
  if (std::optional<CipherMode> mode = encryptedMode((*buffer)->getBuffer())) {
    if (!key)
      return fileError(path, llvm::Twine("the MindIR is encrypted (") + cipherModeName(*mode) +
                                 "): give its key with --key-file (or DINFER_KEY_FILE)");
    auto plain = decrypt((*buffer)->getBuffer(), *key, path);
    if (!plain)
      return plain.takeError();
    return parse(*plain, path, llvm::sys::path::parent_path(path));
  }
  return parse((*buffer)->getBuffer(), path, llvm::sys::path::parent_path(path));
}

llvm::Expected<MindIRModel> MindIRModel::parse(StringRef bytes, StringRef name, StringRef directory) {
  MindIRModel model;
  model.path_ = name.str();
  model.directory_ = directory.str();
  if (bytes.empty())
    return fileError(name, "empty file, not a MindIR model");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return fileError(name, "larger than 2 GiB: protobuf cannot hold it; weights this large belong in external data");
  if (!model.proto_->ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())) || !model.proto_->has_graph())
    return fileError(name, "not a MindIR model: the bytes do not parse as a mind_ir.ModelProto with a graph");
  if (llvm::Error err = model.index())
    return std::move(err);
  return model;
}

llvm::Expected<MindIRModel> MindIRModel::fromProto(std::unique_ptr<mind_ir::ModelProto> proto, StringRef name,
                                                   bool weightsPending) {
  MindIRModel model;
  model.path_ = name.str();
  model.proto_ = std::move(proto);
  if (llvm::Error err = model.index(weightsPending))
    return std::move(err);
  return model;
}

llvm::Error MindIRModel::index(bool weightsPending) {
  const mind_ir::GraphProto &graph = proto_->graph();
  for (int i = 0; i < graph.parameter_size(); ++i) {
    const mind_ir::TensorProto &tensor = graph.parameter(i);
    MindIRParameter parameter;
    static_cast<MindIRValue &>(parameter) = valueOf(tensor.name(), &tensor);
    parameter.index = i;
    int64_t count = 1;
    for (int64_t d : parameter.shape)
      if (d < 0 || __builtin_mul_overflow(count, d, &count))
        return fileError(path_,
                         "parameter '" + parameter.name + "' has an invalid shape " + shapeString(parameter.shape));
    if (tensor.has_raw_data()) {
      parameter.bytes = tensor.raw_data().size();
    } else if (tensor.has_external_data()) {
      const auto &external = tensor.external_data();
      if (!isContainedPath(external.location()))
        return fileError(path_, "parameter '" + parameter.name + "': external data location '" + external.location() +
                                    "' leaves the model's folder");
      if (external.offset() < 0 || external.length() < 0)
        return fileError(path_, "parameter '" + parameter.name + "': negative external data offset or length");
      parameter.location = external.location();
      parameter.offset = static_cast<uint64_t>(external.offset());
      parameter.bytes = static_cast<uint64_t>(external.length());
    } else if (weightsPending && parameter.dtype && *parameter.dtype != DType::String) {
      parameter.pending = true;
      parameter.bytes = (static_cast<uint64_t>(count) * dtypeBits(*parameter.dtype) + 7) / 8;
    } else {
      return fileError(path_, "parameter '" + parameter.name + "' has neither raw_data nor external_data");
    }
    if (parameter.dtype && *parameter.dtype != DType::String) {
      uint64_t expected = (static_cast<uint64_t>(count) * dtypeBits(*parameter.dtype) + 7) / 8;
      if (expected != parameter.bytes)
        return fileError(path_, llvm::formatv("parameter '{0}' has {1} bytes, but shape {2} of {3} needs {4}",
                                              parameter.name, parameter.bytes, shapeString(parameter.shape),
                                              dtypeName(*parameter.dtype), expected)
                                    .str());
    }
    parameters_.push_back(std::move(parameter));
  }
  return llvm::Error::success();
}

StringRef MindIRModel::irVersion() const { return proto_->ir_version(); }
StringRef MindIRModel::producerVersion() const { return proto_->model_version(); }

std::vector<MindIRValue> MindIRModel::inputs() const {
  std::vector<MindIRValue> values;
  for (const mind_ir::ValueInfoProto &info : proto_->graph().input())
    values.push_back(valueOf(info.name(), info.tensor_size() ? &info.tensor(0) : nullptr));
  return values;
}

std::vector<MindIRValue> MindIRModel::outputs() const {
  std::vector<MindIRValue> values;
  for (const mind_ir::ValueInfoProto &info : proto_->graph().output())
    values.push_back(valueOf(info.name(), info.tensor_size() ? &info.tensor(0) : nullptr));
  return values;
}

static MindIRGraph graphOf(const mind_ir::ModelProto &model, const mind_ir::GraphProto &graph) {
  MindIRGraph result;
  result.name = graph.name();
  for (const mind_ir::NodeProto &node : graph.node()) {
    MindIRNode n;
    n.name = node.name();
    n.opTypeRaw = node.op_type();
    n.opType = resolveOp(model, node.op_type());
    n.inputs.assign(node.input().begin(), node.input().end());
    n.outputs.assign(node.output().begin(), node.output().end());
    result.nodes.push_back(std::move(n));
  }
  return result;
}

MindIRGraph MindIRModel::mainGraph() const { return graphOf(*proto_, proto_->graph()); }

std::vector<MindIRGraph> MindIRModel::functions() const {
  std::vector<MindIRGraph> graphs;
  for (const mind_ir::GraphProto &graph : proto_->functions())
    graphs.push_back(graphOf(*proto_, graph));
  return graphs;
}

llvm::Expected<std::vector<char>> MindIRModel::readParameter(const MindIRParameter &parameter) const {
  if (parameter.pending)
    return fileError(path_, "parameter '" + parameter.name + "' has no bytes yet (its weights are written, not read)");
  const mind_ir::TensorProto &tensor = proto_->graph().parameter(parameter.index);
  if (parameter.location.empty()) {
    const std::string &raw = tensor.raw_data();
    return std::vector<char>(raw.begin(), raw.end());
  }
  llvm::SmallString<256> file(directory_);
  llvm::sys::path::append(file, parameter.location);
  auto source = ByteSource::openFile(file);
  if (!source)
    return source.takeError();
  char header[1];
  if ((*source)->size() < kExternalHeader)
    return fileError(file, "external data file shorter than its 64-byte header");
  if (llvm::Error err = (*source)->readAt(0, header))
    return std::move(err);
  if (header[0] != 1)
    return fileError(file, "external data is not little-endian (header byte 0 is " +
                               Twine(static_cast<int>(header[0])) + ")");
  std::vector<char> data(parameter.bytes);
  if (llvm::Error err = (*source)->readAt(parameter.offset, data))
    return fileError(path_, "parameter '" + parameter.name + "': " + llvm::toString(std::move(err)));
  return data;
}

llvm::Expected<MappedBytes> MindIRModel::mapParameter(const MindIRParameter &parameter) const {
  if (parameter.pending)
    return fileError(path_, "parameter '" + parameter.name + "' has no bytes yet (its weights are written, not read)");
  const mind_ir::TensorProto &tensor = proto_->graph().parameter(parameter.index);
  if (parameter.location.empty()) {
    const std::string &raw = tensor.raw_data();
    return MappedBytes{llvm::ArrayRef<char>(raw.data(), raw.size()), nullptr};
  }
  llvm::SmallString<256> file(directory_);
  llvm::sys::path::append(file, parameter.location);
  auto header = mapFileRange(file, 0, kExternalHeader);
  if (!header)
    return fileError(file, "external data file shorter than its 64-byte header");
  if (header->bytes[0] != 1)
    return fileError(file, "external data is not little-endian (header byte 0 is " +
                               Twine(static_cast<int>(header->bytes[0])) + ")");
  auto mapped = mapFileRange(file, parameter.offset, parameter.bytes);
  if (!mapped)
    return fileError(path_, "parameter '" + parameter.name + "': " + llvm::toString(mapped.takeError()));
  return mapped;
}

namespace {
/// Protobuf's output stream over an AtomicFile: a model is serialized
/// through a small buffer, never as one string of its size.
class AtomicFileStream : public google::protobuf::io::CopyingOutputStream {
public:
  explicit AtomicFileStream(AtomicFile &file) : file_(file) {}
  bool Write(const void *buffer, int size) override {
    if (error_)
      return false;
    error_ = file_.write(llvm::ArrayRef<char>(static_cast<const char *>(buffer), static_cast<size_t>(size)));
    return !error_;
  }
  llvm::Error takeError() { return std::move(error_); }

private:
  AtomicFile &file_;
  llvm::Error error_ = llvm::Error::success();
};

using WriteOptions = MindIRModel::WriteOptions;

/// Commits `file` and reports its digest.
llvm::Error commitFile(AtomicFile &file, const WriteOptions &options) {
  if (llvm::Error err = file.commit(options.sync))
    return err;
  if (options.digests && file.sha256())
    options.digests(file.path(), *file.sha256());
  return llvm::Error::success();
}

llvm::Error writeProto(const mind_ir::ModelProto &model, StringRef path, const WriteOptions &options,
                       const std::optional<CipherKey> &key) {
  if (key) {
    std::string plain;
    if (!model.SerializeToString(&plain))
      return fileError(path, "cannot serialize the model");
    auto cipher = encrypt(plain, *key);
    if (!cipher)
      return fileError(path, llvm::toString(cipher.takeError()));
    plain.clear();
    auto file = AtomicFile::create(path);
    if (!file)
      return file.takeError();
    (*file)->digestAsWritten();
    if (llvm::Error err = (*file)->write(StringRef(*cipher)))
      return err;
    return commitFile(**file, options);
  }
  auto file = AtomicFile::create(path);
  if (!file)
    return file.takeError();
  (*file)->digestAsWritten();
  AtomicFileStream stream(**file);
  bool serialized;
  {
    google::protobuf::io::CopyingOutputStreamAdaptor adaptor(&stream, 1 << 20);
    serialized = model.SerializeToZeroCopyStream(&adaptor) && adaptor.Flush();
  }
  if (llvm::Error err = stream.takeError())
    return err;
  if (!serialized)
    return fileError(path, "cannot serialize the model");
  return commitFile(**file, options);
}

constexpr uint64_t kStreamChunk = 4 << 20;

/// Appends a pending parameter's bytes to `file`, chunk by chunk.
llvm::Error streamParameter(AtomicFile &file, const MindIRParameter &parameter, const WriteOptions &options,
                            std::vector<char> &chunk) {
  if (!options.weights)
    return fileError(file.path(), "parameter '" + parameter.name + "' has no bytes and nothing supplies them");
  for (uint64_t done = 0; done < parameter.bytes;) {
    uint64_t n = std::min<uint64_t>(kStreamChunk, parameter.bytes - done);
    chunk.resize(std::max<size_t>(chunk.size(), n));
    llvm::MutableArrayRef<char> piece(chunk.data(), n);
    if (llvm::Error err = options.weights(parameter, done, piece))
      return fileError(file.path(), "parameter '" + parameter.name + "': " + llvm::toString(std::move(err)));
    if (llvm::Error err = file.write(piece))
      return err;
    done += n;
  }
  return llvm::Error::success();
}

/// The bytes protobuf writes for a model whose pending parameters hold their
/// data, as runs of the skeleton's own bytes (the model serialized with those
/// parameters' raw_data empty) and the parameters' payloads between them.
/// Only the raw_data fields and the length prefixes of the messages around
/// them (the TensorProto, the GraphProto) differ from the skeleton: protobuf
/// writes fields in number order, so the rest is the skeleton's, byte for byte.
class StreamedModel {
public:
  struct Piece {
    StringRef literal;
    const MindIRParameter *parameter = nullptr;
  };

  static llvm::Expected<StreamedModel> layOut(const mind_ir::ModelProto &model,
                                              llvm::ArrayRef<MindIRParameter> parameters, StringRef path) {
    StreamedModel streamed;
    mind_ir::ModelProto skeleton = model; // small: the pending weights are not in it
    for (const MindIRParameter &parameter : parameters)
      if (parameter.pending) {
        skeleton.mutable_graph()->mutable_parameter(parameter.index)->mutable_raw_data()->clear();
        streamed.pending_[parameter.index] = &parameter;
      }
    if (!skeleton.SerializeToString(&streamed.skeleton_))
      return fileError(path, "cannot serialize the model");
    streamed.source_ = ByteSource::fromBuffer(streamed.skeleton_, path);
    wire::Reader reader(*streamed.source_);
    auto size = streamed.message(reader, 0, streamed.skeleton_.size(), Level::Model, nullptr, streamed.pieces_);
    if (!size)
      return size.takeError();
    return streamed;
  }

  llvm::Error write(AtomicFile &file, const WriteOptions &options) const {
    std::vector<char> chunk;
    for (const Piece &piece : pieces_) {
      llvm::Error err = piece.parameter ? streamParameter(file, *piece.parameter, options, chunk)
                                        : file.write(piece.literal);
      if (err)
        return err;
    }
    return llvm::Error::success();
  }

private:
  enum class Level { Model, Graph, Tensor };

  /// Lays out the message [begin, end) of the skeleton into `out`; returns
  /// its size once written.
  llvm::Expected<uint64_t> message(wire::Reader &reader, uint64_t begin, uint64_t end, Level level,
                                   const MindIRParameter *parameter, std::vector<Piece> &out) {
    uint64_t size = 0;
    int parameterIndex = 0;
    StringRef bytes(skeleton_);
    for (uint64_t pos = begin; pos < end;) {
      auto field = reader.next(pos, end);
      if (!field)
        return field.takeError();
      StringRef whole = bytes.slice(field->begin, pos);
      const MindIRParameter *inner = nullptr;
      bool descend = false;
      if (field->type == wire::Len) {
        if (level == Level::Model && field->number == mind_ir::ModelProto::kGraphFieldNumber) {
          descend = true;
        } else if (level == Level::Graph && field->number == mind_ir::GraphProto::kParameterFieldNumber) {
          auto it = pending_.find(parameterIndex++);
          inner = it == pending_.end() ? nullptr : it->second;
          descend = inner != nullptr;
        } else if (level == Level::Tensor && field->number == mind_ir::TensorProto::kRawDataFieldNumber) {
          // The empty raw_data: its key, then the parameter's length and bytes.
          if (field->payloadSize != 0)
            return fileError(source_->name(), "parameter '" + parameter->name + "' holds bytes and is pending");
          uint64_t key = field->payloadBegin - 1 - field->begin;
          out.push_back({bytes.slice(field->begin, field->begin + key)});
          out.push_back({prefix(parameter->bytes)});
          out.push_back({StringRef(), parameter});
          size += key + out[out.size() - 2].literal.size() + parameter->bytes;
          continue;
        }
      }
      if (!descend) {
        out.push_back({whole});
        size += whole.size();
        continue;
      }
      std::vector<Piece> content;
      auto contentSize = message(reader, field->payloadBegin, field->payloadBegin + field->payloadSize,
                                 level == Level::Model ? Level::Graph : Level::Tensor, inner, content);
      if (!contentSize)
        return contentSize.takeError();
      uint64_t key = field->payloadBegin - field->begin -
                     google::protobuf::io::CodedOutputStream::VarintSize64(field->payloadSize);
      out.push_back({bytes.slice(field->begin, field->begin + key)});
      out.push_back({prefix(*contentSize)});
      size += key + out.back().literal.size() + *contentSize;
      llvm::append_range(out, content);
    }
    return size;
  }

  StringRef prefix(uint64_t length) {
    std::string &text = prefixes_.emplace_back(google::protobuf::io::CodedOutputStream::VarintSize64(length), '\0');
    google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(length, reinterpret_cast<uint8_t *>(text.data()));
    return text;
  }

  std::string skeleton_;
  std::unique_ptr<ByteSource> source_;
  std::map<int, const MindIRParameter *> pending_;
  std::deque<std::string> prefixes_; // stable: pieces point into them
  std::vector<Piece> pieces_;
};
} // namespace

llvm::Error MindIRModel::write(StringRef path, const WriteOptions &options) const {
  uint64_t total = 0;
  for (const MindIRParameter &parameter : parameters_)
    total += parameter.bytes;
  bool external = total > options.externalThreshold;
  bool anyPending = llvm::any_of(parameters_, [](const MindIRParameter &p) { return p.pending; });

  if (!external && anyPending && !options.encryptWith) {
    auto streamed = StreamedModel::layOut(*proto_, parameters_, path);
    if (!streamed)
      return streamed.takeError();
    auto file = AtomicFile::create(path);
    if (!file)
      return file.takeError();
    (*file)->digestAsWritten();
    if (llvm::Error err = streamed->write(**file, options))
      return err;
    return commitFile(**file, options);
  }
  // The bytes of a parameter held outside the model: pending or external.
  auto fetch = [&](const MindIRParameter &parameter) -> llvm::Expected<std::vector<char>> {
    if (!parameter.pending)
      return readParameter(parameter);
    if (!options.weights)
      return fileError(path, "parameter '" + parameter.name + "' has no bytes and nothing supplies them");
    std::vector<char> data(parameter.bytes);
    if (llvm::Error err = options.weights(parameter, 0, data))
      return fileError(path, "parameter '" + parameter.name + "': " + llvm::toString(std::move(err)));
    return data;
  };
  if (!external) {
    // Weights already inline are written from the model itself, uncopied.
    if (llvm::all_of(parameters_, [](const MindIRParameter &p) { return p.location.empty() && !p.pending; }))
      return writeProto(*proto_, path, options, options.encryptWith);
    mind_ir::ModelProto out = *proto_;
    for (const MindIRParameter &parameter : parameters_) {
      mind_ir::TensorProto *tensor = out.mutable_graph()->mutable_parameter(parameter.index);
      if (!tensor->has_raw_data()) {
        auto data = fetch(parameter);
        if (!data)
          return data.takeError();
        tensor->clear_external_data();
        tensor->set_raw_data(data->data(), data->size());
      }
    }
    return writeProto(out, path, options, options.encryptWith);
  }
  if (options.encryptWith)
    return fileError(path, "encrypting a MindIR whose weights go to external data is not supported");
  mind_ir::ModelProto out = *proto_;

  // Split save: <dir>/<prefix>_graph.mindir and <dir>/<prefix>_variables/data_0.
  StringRef prefix = llvm::sys::path::stem(path);
  if (!path.ends_with(".mindir"))
    prefix = llvm::sys::path::filename(path);
  llvm::SmallString<256> directory = llvm::sys::path::parent_path(path);
  std::string variablesName = (prefix + "_variables").str();
  llvm::SmallString<256> variables(directory), staging(directory), graphPath(directory);
  llvm::sys::path::append(variables, variablesName);
  llvm::sys::path::append(staging, variablesName + ".tmp");
  llvm::sys::path::append(graphPath, prefix + "_graph.mindir");
  llvm::sys::fs::remove_directories(staging);
  if (std::error_code ec = llvm::sys::fs::create_directories(staging))
    return fileError(staging, "cannot create: " + ec.message());

  llvm::SmallString<256> dataFile(staging);
  llvm::sys::path::append(dataFile, "data_0");
  auto file = AtomicFile::create(dataFile);
  if (!file)
    return file.takeError();
  (*file)->digestAsWritten();
  std::string header(kExternalHeader, '\0');
  header[0] = 1; // little-endian
  if (llvm::Error err = (*file)->write(llvm::StringRef(header)))
    return err;
  std::string location = variablesName + "/data_0";
  const std::string padding(kExternalAlignment, '\0');
  std::vector<char> chunk;
  for (const MindIRParameter &parameter : parameters_) {
    mind_ir::TensorProto *tensor = out.mutable_graph()->mutable_parameter(parameter.index);
    tensor->clear_raw_data();
    auto *ext = tensor->mutable_external_data();
    ext->set_location(location);
    ext->set_offset(static_cast<int64_t>((*file)->size()));
    ext->set_length(static_cast<int64_t>(parameter.bytes));
    if (parameter.pending) {
      if (llvm::Error err = streamParameter(**file, parameter, options, chunk))
        return err;
    } else {
      auto bytes = readParameter(parameter);
      if (!bytes)
        return bytes.takeError();
      if (llvm::Error err = (*file)->write(llvm::ArrayRef<char>(*bytes)))
        return err;
    }
    uint64_t pad = (kExternalAlignment - (*file)->size() % kExternalAlignment) % kExternalAlignment;
    if (llvm::Error err = (*file)->write(llvm::StringRef(padding.data(), pad)))
      return err;
  }
  // Digests are reported under the final name.
  WriteOptions committed = options;
  committed.digests = nullptr;
  if (llvm::Error err = commitFile(**file, committed))
    return err;
  llvm::sys::fs::remove_directories(variables);
  if (std::error_code ec = llvm::sys::fs::rename(staging, variables))
    return fileError(variables, "cannot rename into place: " + ec.message());
  if (options.digests && (*file)->sha256()) {
    llvm::SmallString<256> finalData(variables);
    llvm::sys::path::append(finalData, "data_0");
    options.digests(finalData, *(*file)->sha256());
  }
  return writeProto(out, graphPath, options, std::nullopt);
}
