//===- Safetensors.cpp - Hugging Face's safetensors files -----------------===//

#include "dinfer/Formats/Safetensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace dinfer;
using llvm::StringRef;
using llvm::Twine;

namespace {
/// safetensors' own limit on the header (the Rust reader refuses larger).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr uint64_t kChunkBytes = 4 << 20;
constexpr size_t kDigestDigits = 64;

struct DTypeName {
  DType type;
  StringRef name;
};
constexpr DTypeName kDTypeNames[] = {
    {DType::Float64, "F64"}, {DType::Float32, "F32"}, {DType::Float16, "F16"}, {DType::BFloat16, "BF16"},
    {DType::Int64, "I64"},   {DType::Int32, "I32"},   {DType::Int16, "I16"},   {DType::Int8, "I8"},
    {DType::UInt64, "U64"},  {DType::UInt32, "U32"},  {DType::UInt16, "U16"},  {DType::UInt8, "U8"},
    {DType::Bool, "BOOL"},
};
/// Listed by the format, one byte each, never converted.
constexpr StringRef kOpaqueDTypes[] = {"F8_E4M3", "F8_E5M2"};

bool isOpaqueDType(StringRef name) { return llvm::is_contained(kOpaqueDTypes, name); }

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    out += (i ? "," : "") + std::to_string(d);
  return out + "]";
}

/// Bytes of `shape` elements of a safetensors dtype; none on overflow.
std::optional<uint64_t> byteCount(llvm::ArrayRef<int64_t> shape, std::optional<DType> type) {
  uint64_t elements = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(elements, static_cast<uint64_t>(d), &elements))
      return std::nullopt;
  uint64_t elementBytes = type ? dtypeBits(*type) / 8 : 1;
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(elements, elementBytes, &bytes))
    return std::nullopt;
  return bytes;
}

/// The safetensors dtype a tensor of MindSpore type `typeName` is written as.
std::optional<StringRef> outputDType(StringRef typeName) {
  if (std::optional<DType> type = parseDType(typeName))
    return safetensorsDType(*type);
  if (isOpaqueDType(typeName))
    return typeName;
  return std::nullopt;
}
} // namespace

std::optional<StringRef> dinfer::safetensorsDType(DType type) {
  for (const DTypeName &entry : kDTypeNames)
    if (entry.type == type)
      return entry.name;
  return std::nullopt;
}

std::optional<DType> dinfer::dtypeFromSafetensors(StringRef name) {
  for (const DTypeName &entry : kDTypeNames)
    if (entry.name == name)
      return entry.type;
  return std::nullopt;
}

bool dinfer::looksLikeSafetensors(llvm::ArrayRef<char> head, uint64_t size) {
  if (head.size() < 9 || size < 9)
    return false;
  // A header size past the end still says safetensors (a truncated file),
  // so that the reader names what is wrong; a .ckpt cannot look like this,
  // its bytes 4-7 being a tensor name's first characters.
  uint64_t headerBytes = llvm::support::endian::read64le(head.data());
  return headerBytes >= 2 && headerBytes <= kMaxHeaderBytes && head[8] == '{';
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

llvm::Expected<SafetensorsHeader> dinfer::readSafetensorsHeader(const ByteSource &source) {
  const std::string &file = source.name();
  uint64_t size = source.size();
  if (size < 8)
    return fileError(file, "not a safetensors file: " + Twine(size) + " bytes, too short for the header size");
  char sizeBytes[8];
  if (llvm::Error err = source.readAt(0, sizeBytes))
    return std::move(err);
  uint64_t headerBytes = llvm::support::endian::read64le(sizeBytes);
  if (headerBytes > size - 8)
    return fileError(file, llvm::formatv("the safetensors header size {0} runs past the end of the file ({1} bytes): "
                                         "the file is truncated or not safetensors",
                                         headerBytes, size)
                               .str());
  if (headerBytes > kMaxHeaderBytes)
    return fileError(file, "the safetensors header of " + Twine(headerBytes) + " bytes is larger than the format allows (" +
                               Twine(kMaxHeaderBytes) + ")");
  std::string text(headerBytes, '\0');
  if (llvm::Error err = source.readAt(8, llvm::MutableArrayRef<char>(text.data(), text.size())))
    return std::move(err);
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed)
    return fileError(file, "the safetensors header is not valid JSON: " + llvm::toString(parsed.takeError()));
  const llvm::json::Object *root = parsed->getAsObject();
  if (!root)
    return fileError(file, "the safetensors header is not a JSON object");

  SafetensorsHeader header;
  header.dataOffset = 8 + headerBytes;
  uint64_t dataBytes = size - header.dataOffset;
  for (const auto &[key, value] : *root) {
    StringRef name = key;
    if (name == "__metadata__") {
      const llvm::json::Object *metadata = value.getAsObject();
      if (!metadata)
        return fileError(file, "the safetensors __metadata__ is not an object of strings");
      for (const auto &[metaKey, metaValue] : *metadata) {
        std::optional<StringRef> text = metaValue.getAsString();
        if (!text)
          return fileError(file, "the safetensors __metadata__ entry '" + StringRef(metaKey) + "' is not a string");
        header.metadata[metaKey.str()] = text->str();
      }
      continue;
    }
    auto tensorError = [&](const Twine &message) { return fileError(file, "tensor '" + name + "': " + message); };
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry)
      return tensorError("its header entry is not an object");
    std::optional<StringRef> dtypeName = entry->getString("dtype");
    const llvm::json::Array *shapeArray = entry->getArray("shape");
    const llvm::json::Array *offsets = entry->getArray("data_offsets");
    if (!dtypeName || !shapeArray || !offsets)
      return tensorError("its header entry needs \"dtype\", \"shape\" and \"data_offsets\"");
    std::optional<DType> dtype = dtypeFromSafetensors(*dtypeName);
    if (!dtype && !isOpaqueDType(*dtypeName))
      return tensorError("dtype '" + *dtypeName + "' is not a safetensors dtype");
    CheckpointTensor tensor;
    tensor.name = name.str();
    tensor.dtype = dtype;
    tensor.typeName = dtype ? dinfer::dtypeName(*dtype).str() : dtypeName->str();
    for (const llvm::json::Value &d : *shapeArray) {
      std::optional<int64_t> dim = d.getAsInteger();
      if (!dim || *dim < 0)
        return tensorError("its shape holds something other than non-negative integers");
      tensor.shape.push_back(*dim);
    }
    if (offsets->size() != 2 || !(*offsets)[0].getAsInteger() || !(*offsets)[1].getAsInteger())
      return tensorError("data_offsets must be two integers [begin, end]");
    int64_t begin = *(*offsets)[0].getAsInteger(), end = *(*offsets)[1].getAsInteger();
    if (begin < 0 || end < begin || static_cast<uint64_t>(end) > dataBytes)
      return tensorError(llvm::formatv("data_offsets [{0}, {1}] lie outside the data section of {2} bytes", begin,
                                       end, dataBytes)
                             .str());
    tensor.bytes = static_cast<uint64_t>(end - begin);
    std::optional<uint64_t> expected = byteCount(tensor.shape, dtype);
    if (!expected)
      return tensorError("the element count of " + shapeString(tensor.shape) + " overflows");
    if (*expected != tensor.bytes)
      return tensorError(llvm::formatv("data_offsets [{0}, {1}] hold {2} bytes, but shape {3} of {4} needs {5}", begin,
                                       end, tensor.bytes, shapeString(tensor.shape), *dtypeName, *expected)
                             .str());
    tensor.segments.push_back({header.dataOffset + static_cast<uint64_t>(begin), tensor.bytes});
    header.tensors.push_back(std::move(tensor));
  }
  // The order of the data is the file's order (JSON objects have none).
  llvm::sort(header.tensors, [](const CheckpointTensor &a, const CheckpointTensor &b) {
    return std::tie(a.segments[0].offset, a.bytes, a.name) < std::tie(b.segments[0].offset, b.bytes, b.name);
  });
  const CheckpointTensor *previous = nullptr;
  for (const CheckpointTensor &tensor : header.tensors) {
    if (tensor.bytes == 0)
      continue;
    if (previous && tensor.segments[0].offset < previous->segments[0].offset + previous->bytes)
      return fileError(file, "tensors '" + previous->name + "' and '" + tensor.name +
                                 "' overlap in the data section (the header is damaged)");
    previous = &tensor;
  }
  return header;
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

llvm::Expected<std::unique_ptr<SafetensorsWriter>>
SafetensorsWriter::create(StringRef path, llvm::ArrayRef<PlannedTensor> planned, Options options) {
  std::unique_ptr<SafetensorsWriter> writer(new SafetensorsWriter());
  writer->options_ = std::move(options);
  writer->planned_.assign(planned.begin(), planned.end());

  std::string header;
  llvm::raw_string_ostream stream(header);
  llvm::json::OStream json(stream);
  uint64_t offset = 0;
  std::string placeholder(kDigestDigits, '0');
  json.object([&] {
    json.attributeObject("__metadata__", [&] {
      json.attribute("format", "pt");
      json.attribute(kSafetensorsDigestKey, placeholder);
      for (const auto &[key, value] : writer->options_.metadata)
        if (key != "format" && key != kSafetensorsDigestKey)
          json.attribute(key, value);
    });
    for (const PlannedTensor &tensor : writer->planned_) {
      json.attributeObject(tensor.name, [&] {
        json.attribute("dtype", outputDType(tensor.typeName).value_or(""));
        json.attributeArray("shape", [&] {
          for (int64_t d : tensor.shape)
            json.value(d);
        });
        json.attributeArray("data_offsets", [&] {
          json.value(static_cast<int64_t>(offset));
          json.value(static_cast<int64_t>(offset + tensor.bytes));
        });
      });
      offset += tensor.bytes;
    }
  });
  for (const PlannedTensor &tensor : writer->planned_) {
    std::optional<StringRef> dtype = outputDType(tensor.typeName);
    if (!dtype)
      return fileError(path, "tensor '" + tensor.name + "' is " + tensor.typeName +
                                 ", which safetensors cannot hold (write it as .ckpt)");
    std::optional<uint64_t> expected = byteCount(tensor.shape, parseDType(tensor.typeName));
    if (!expected || *expected != tensor.bytes)
      return fileError(path, llvm::formatv("tensor '{0}' has {1} bytes, but shape {2} of {3} needs {4}", tensor.name,
                                           tensor.bytes, shapeString(tensor.shape), tensor.typeName,
                                           expected.value_or(0))
                                 .str());
  }
  // Hugging Face pads the header with spaces so that the data starts on an
  // 8-byte boundary.
  header.append((8 - header.size() % 8) % 8, ' ');
  size_t digestAt = header.find("\"" + kSafetensorsDigestKey.str() + "\":\"" + placeholder + "\"");
  writer->digestOffset_ = 8 + digestAt + kSafetensorsDigestKey.size() + 4;

  auto file = AtomicFile::create(path);
  if (!file)
    return file.takeError();
  writer->file_ = std::move(*file);
  char sizeBytes[8];
  llvm::support::endian::write64le(sizeBytes, header.size());
  if (llvm::Error err = writer->file_->write(llvm::ArrayRef<char>(sizeBytes, 8)))
    return std::move(err);
  if (llvm::Error err = writer->file_->write(llvm::StringRef(header)))
    return std::move(err);
  return writer;
}

SafetensorsWriter::~SafetensorsWriter() = default;

llvm::Error SafetensorsWriter::addTensor(StringRef name, StringRef typeName, llvm::ArrayRef<int64_t> shape,
                                         uint64_t bytes, Fill fill, bool /*zeroDimScalar*/) {
  if (finished_)
    return fileError(file_->path(), "tensor '" + name + "' added after the file was finished");
  if (next_ >= planned_.size() || planned_[next_].name != name || planned_[next_].bytes != bytes ||
      planned_[next_].typeName != typeName || llvm::ArrayRef<int64_t>(planned_[next_].shape) != shape)
    return fileError(file_->path(), "tensor '" + name + "' is not the next one its header announced" +
                                        (next_ < planned_.size() ? " ('" + planned_[next_].name + "')" : ""));
  ++next_;
  uint64_t chunkBytes = std::min<uint64_t>(kChunkBytes, std::max<uint64_t>(bytes, 1));
  char *buffer = chunks_.get(chunkBytes);
  for (uint64_t done = 0; done < bytes;) {
    uint64_t n = std::min<uint64_t>(chunkBytes, bytes - done);
    llvm::MutableArrayRef<char> chunk(buffer, n);
    if (llvm::Error err = fill(done, chunk))
      return err;
    digest_.update(chunk);
    if (llvm::Error err = file_->write(chunk))
      return err;
    done += n;
  }
  return llvm::Error::success();
}

llvm::Error SafetensorsWriter::finish() {
  if (finished_)
    return llvm::Error::success();
  if (next_ != planned_.size())
    return fileError(file_->path(), "finished after " + Twine(next_) + " of the " + Twine(planned_.size()) +
                                        " tensors its header announced");
  std::string digest = digest_.hexDigest();
  if (llvm::Error err = file_->writeAt(digestOffset_, llvm::ArrayRef<char>(digest.data(), digest.size())))
    return err;
  if (llvm::Error err = file_->commit(options_.sync))
    return err;
  finished_ = true;
  return llvm::Error::success();
}
