//===- Checkpoint.cpp - MindSpore checkpoints, indexed and streamed -------===//

#include "dinfer/Formats/Checkpoint.h"

#include "dinfer/Formats/Safetensors.h"

#include "Wire.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstring>
#include <map>

using namespace dinfer;
using llvm::Twine;

namespace {
constexpr char kCrcMagic[] = "crc_num";
constexpr uint64_t kCrcTrailerSize = 7 + 10;
constexpr uint64_t kMaxNameBytes = 1 << 20;
constexpr uint64_t kMaxTypeNameBytes = 64;
constexpr uint64_t kMaxPackedDimsBytes = 1024;
constexpr size_t kMaxDims = 64;

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    out += (i ? "," : "") + std::to_string(d);
  return out + "]";
}

/// Element count of a shape, or nullopt on overflow.
std::optional<int64_t> elementCount(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      return std::nullopt;
  return n;
}

/// Bytes that `count` elements of `type` take; nullopt when unknown (str).
std::optional<uint64_t> contentBytes(DType type, int64_t count) {
  if (type == DType::String)
    return std::nullopt;
  uint64_t bits = static_cast<uint64_t>(count) * dtypeBits(type);
  return (bits + 7) / 8;
}
} // namespace

int64_t CheckpointTensor::numElements() const { return elementCount(shape).value_or(-1); }

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

namespace {
struct RawValue {
  std::string tag;
  bool hasTensor = false, isMap = false, hasType = false, hasContent = false;
  llvm::SmallVector<int64_t, 4> dims;
  std::string typeName;
  CheckpointTensor::Segment content{0, 0};
};

llvm::Error parseTensor(wire::Reader &reader, uint64_t begin, uint64_t end, RawValue &value) {
  const std::string &file = reader.source().name();
  uint64_t pos = begin;
  while (pos < end) {
    auto field = reader.next(pos, end);
    if (!field)
      return field.takeError();
    if (field->number == 1 && field->type == wire::Varint) {
      value.dims.push_back(static_cast<int64_t>(field->varint));
    } else if (field->number == 1 && field->type == wire::Len) {
      uint64_t p = field->payloadBegin, e = p + field->payloadSize;
      if (field->payloadSize > kMaxPackedDimsBytes)
        return fileError(file, "tensor '" + value.tag + "' has packed dims of " + Twine(field->payloadSize) + " bytes");
      while (p < e) {
        auto dim = reader.varint(p, e);
        if (!dim)
          return dim.takeError();
        value.dims.push_back(static_cast<int64_t>(*dim));
      }
    } else if (field->number == 2 && field->type == wire::Len) {
      auto name = reader.bytes(field->payloadBegin, field->payloadSize, kMaxTypeNameBytes, "tensor_type");
      if (!name)
        return name.takeError();
      value.typeName = name->str();
      value.hasType = true;
    } else if (field->number == 3 && field->type == wire::Len) {
      value.content = {field->payloadBegin, field->payloadSize};
      value.hasContent = true;
    } else if (field->number <= 3) {
      return fileError(file, "tensor '" + value.tag + "': field " + Twine(field->number) + " has wire type " +
                                 Twine(static_cast<int>(field->type)) + ", which the checkpoint format never uses");
    }
    if (value.dims.size() > kMaxDims)
      return fileError(file, "tensor '" + value.tag + "' has more than " + Twine(kMaxDims) + " dimensions");
  }
  return llvm::Error::success();
}

llvm::Expected<RawValue> parseValue(wire::Reader &reader, uint64_t begin, uint64_t end) {
  const std::string &file = reader.source().name();
  RawValue value;
  bool hasTag = false;
  uint64_t tensorBegin = 0, tensorEnd = 0;
  uint64_t pos = begin;
  while (pos < end) {
    auto field = reader.next(pos, end);
    if (!field)
      return field.takeError();
    if (field->number == 1 && field->type == wire::Len) {
      auto tag = reader.bytes(field->payloadBegin, field->payloadSize, kMaxNameBytes, "tag");
      if (!tag)
        return tag.takeError();
      value.tag = tag->str();
      hasTag = true;
    } else if (field->number == 2 && field->type == wire::Len) {
      value.hasTensor = true;
      tensorBegin = field->payloadBegin;
      tensorEnd = field->payloadBegin + field->payloadSize;
    } else if (field->number == 3 && field->type == wire::Len) {
      value.isMap = true;
    } else if (field->number <= 3) {
      return fileError(file, "offset " + Twine(field->begin) + ": checkpoint value field " + Twine(field->number) +
                                 " has wire type " + Twine(static_cast<int>(field->type)));
    }
  }
  if (!hasTag)
    return fileError(file, "offset " + Twine(begin) + ": checkpoint value without a name (tag)");
  if (value.hasTensor) {
    if (llvm::Error err = parseTensor(reader, tensorBegin, tensorEnd, value))
      return std::move(err);
    if (!value.hasType)
      return fileError(file, "tensor '" + value.tag + "' has no tensor_type");
    if (!value.hasContent)
      return fileError(file, "tensor '" + value.tag + "' has no tensor_content");
  } else if (!value.isMap) {
    return fileError(file, "entry '" + value.tag + "' holds neither a tensor nor a map tensor");
  }
  return value;
}

/// Shape, scalar convention and byte count of an indexed tensor.
llvm::Error finishTensor(const std::string &file, CheckpointTensor &tensor, llvm::ArrayRef<int64_t> dims) {
  for (int64_t d : dims)
    if (d < 0)
      return fileError(file, "tensor '" + tensor.name + "' has a negative dimension in " + shapeString(dims));
  if (!elementCount(dims))
    return fileError(file, "tensor '" + tensor.name + "': the element count of " + shapeString(dims) + " overflows");
  tensor.dtype = parseDType(tensor.typeName);
  // MindSpore up to 2.2 writes scalars as dims [0]; an empty tensor of shape
  // [0] has no content bytes, a scalar has one element's.
  if (dims.size() == 1 && dims[0] == 0 && tensor.bytes > 0) {
    tensor.zeroDimScalar = true;
    tensor.shape.clear();
  } else {
    tensor.shape.assign(dims.begin(), dims.end());
  }
  if (!tensor.dtype)
    return llvm::Error::success(); // Listed with its stored type name.
  auto expected = contentBytes(*tensor.dtype, *elementCount(tensor.shape));
  if (expected && *expected != tensor.bytes)
    return fileError(file, llvm::formatv("tensor '{0}' has {1} bytes of content, but shape {2} of {3} needs {4}",
                                         tensor.name, tensor.bytes, shapeString(dims), tensor.typeName, *expected)
                               .str());
  return llvm::Error::success();
}
} // namespace

llvm::Expected<Checkpoint> Checkpoint::open(llvm::StringRef path, const CipherKey *key) {
  if (llvm::sys::fs::is_directory(path))
    return openShardedFolder(path);
  auto source = ByteSource::openFile(path);
  if (!source)
    return source.takeError();
  char magic[4];
  if ((*source)->size() >= sizeof magic) {
    if (llvm::Error err = (*source)->readAt(0, magic))
      return std::move(err);
    if (std::optional<CipherMode> mode = encryptedMode(llvm::StringRef(magic, sizeof magic))) {
      if (!key)
        return fileError(path, llvm::Twine("the checkpoint is encrypted (") + cipherModeName(*mode) +
                                   "): give its key with --key-file (or DINFER_KEY_FILE)");
      // Mapped, not copied: the plaintext is the one copy in memory.
      auto cipher = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
      if (!cipher)
        return fileError(path, "cannot read: " + cipher.getError().message());
      auto plain = decrypt((*cipher)->getBuffer(), *key, path);
      if (!plain)
        return plain.takeError();
      return index(ByteSource::fromOwnedBuffer(std::move(*plain), path));
    }
  }
  return index(std::move(*source));
}

llvm::Expected<Checkpoint> Checkpoint::index(std::unique_ptr<ByteSource> source) {
  Checkpoint ckpt;
  ckpt.path_ = source->name();
  char head[16] = {};
  uint64_t headBytes = std::min<uint64_t>(source->size(), sizeof head);
  if (llvm::Error err = source->readAt(0, llvm::MutableArrayRef<char>(head, headBytes)))
    return std::move(err);
  if (looksLikeSafetensors(llvm::ArrayRef<char>(head, headBytes), source->size())) {
    ckpt.format_ = CheckpointFormat::Safetensors;
    if (llvm::Error err = ckpt.addSafetensors(std::move(source)))
      return std::move(err);
    if (llvm::Error err = ckpt.indexNames())
      return std::move(err);
    return ckpt;
  }
  ckpt.sources_.push_back(std::move(source));
  ckpt.digests_.emplace_back();
  const ByteSource &src = *ckpt.sources_.front();
  const std::string &file = src.name();
  // An empty file is an empty checkpoint (a rank with no parameters).
  uint64_t end = src.size();

  if (end >= kCrcTrailerSize) {
    char tail[kCrcTrailerSize];
    if (llvm::Error err = src.readAt(end - kCrcTrailerSize, tail))
      return std::move(err);
    if (std::memcmp(tail, kCrcMagic, 7) == 0) {
      uint64_t value = 0;
      for (int i = 7; i < 17; ++i)
        value = (value << 8) | static_cast<uint8_t>(tail[i]);
      ckpt.crc_ = Check::Unchecked;
      ckpt.crcValue_ = value;
      end -= kCrcTrailerSize;
    }
  }
  ckpt.contentEnd_ = end;

  wire::Reader reader(src);
  std::vector<llvm::SmallVector<int64_t, 4>> dims;
  uint64_t pos = 0;
  while (pos < end) {
    auto field = reader.next(pos, end);
    if (!field)
      return field.takeError();
    if (field->number != 1 || field->type != wire::Len)
      return fileError(file, "offset " + Twine(field->begin) +
                                 ": not a checkpoint: expected a value (field 1), found field " + Twine(field->number) +
                                 " of wire type " + Twine(static_cast<int>(field->type)));
    auto value = parseValue(reader, field->payloadBegin, field->payloadBegin + field->payloadSize);
    if (!value)
      return value.takeError();
    CheckpointTensor *previous = ckpt.tensors_.empty() ? nullptr : &ckpt.tensors_.back();
    if (previous && previous->name == value->tag && value->hasTensor && !previous->isMapTensor) {
      // A tensor over 512 MiB continues in the next value with the same name.
      if (previous->typeName != value->typeName || dims.back() != value->dims)
        return fileError(file, "tensor '" + value->tag + "' is split over values that disagree on dtype or shape");
      previous->segments.push_back(value->content);
      previous->bytes += value->content.size;
      continue;
    }
    CheckpointTensor tensor;
    tensor.name = value->tag;
    tensor.isMapTensor = value->isMap && !value->hasTensor;
    tensor.typeName = value->hasTensor ? value->typeName : "MapTensor";
    if (value->hasTensor) {
      tensor.segments.push_back(value->content);
      tensor.bytes = value->content.size;
    }
    ckpt.tensors_.push_back(std::move(tensor));
    dims.push_back(value->dims);
  }
  for (auto [tensor, tensorDims] : llvm::zip_equal(ckpt.tensors_, dims))
    if (!tensor.isMapTensor)
      if (llvm::Error err = finishTensor(file, tensor, tensorDims))
        return std::move(err);
  if (llvm::Error err = ckpt.indexNames())
    return std::move(err);
  return ckpt;
}

llvm::Error Checkpoint::indexNames() {
  for (auto [i, tensor] : llvm::enumerate(tensors_))
    if (!byName_.insert({tensor.name, i}).second)
      return fileError(format_ == CheckpointFormat::Ckpt ? path_ : sources_[tensor.file]->name(),
                       "tensor '" + tensor.name +
                           (format_ == CheckpointFormat::Ckpt
                                ? "' appears twice (not as consecutive parts of one tensor)"
                                : "' appears twice (in " + sources_[tensors_[byName_.lookup(tensor.name)].file]->name() +
                                      " too)"));
  return llvm::Error::success();
}

llvm::Error Checkpoint::addSafetensors(std::unique_ptr<ByteSource> source) {
  auto header = readSafetensorsHeader(*source);
  if (!header)
    return header.takeError();
  uint32_t file = static_cast<uint32_t>(sources_.size());
  for (CheckpointTensor &tensor : header->tensors) {
    tensor.file = file;
    tensors_.push_back(std::move(tensor));
  }
  std::optional<Digest> digest;
  auto stated = header->metadata.find(kSafetensorsDigestKey.str());
  if (stated != header->metadata.end()) {
    digest = Digest{header->dataOffset, stated->second};
    sha256_ = Check::Unchecked;
  }
  digests_.push_back(std::move(digest));
  sources_.push_back(std::move(source));
  return llvm::Error::success();
}

llvm::Expected<Checkpoint> Checkpoint::openShardedFolder(llvm::StringRef dir) {
  llvm::SmallString<256> indexPath(dir);
  llvm::sys::path::append(indexPath, kSafetensorsIndexName);
  auto buffer = llvm::MemoryBuffer::getFile(indexPath, /*IsText=*/true);
  if (!buffer)
    return fileError(dir, "is a folder without " + kSafetensorsIndexName +
                              ": give a checkpoint file, or a Hugging Face folder of safetensors shards with its index");
  auto parsed = llvm::json::parse((*buffer)->getBuffer());
  if (!parsed)
    return fileError(indexPath, "not valid JSON: " + llvm::toString(parsed.takeError()));
  const llvm::json::Object *root = parsed->getAsObject();
  const llvm::json::Object *weightMap = root ? root->getObject("weight_map") : nullptr;
  if (!weightMap)
    return fileError(indexPath, "has no \"weight_map\" object naming the file of every tensor");
  std::map<std::string, std::string> fileOf;
  for (const auto &[name, file] : *weightMap) {
    std::optional<llvm::StringRef> text = file.getAsString();
    if (!text || text->empty() || llvm::sys::path::has_parent_path(*text))
      return fileError(indexPath, "weight_map entry '" + llvm::StringRef(name) +
                                      "' does not name a file of the folder");
    fileOf[name.str()] = text->str();
  }
  std::vector<std::string> files;
  for (const auto &[name, file] : fileOf)
    files.push_back(file);
  llvm::sort(files);
  files.erase(std::unique(files.begin(), files.end()), files.end());

  Checkpoint ckpt;
  ckpt.path_ = dir.str();
  ckpt.format_ = CheckpointFormat::Safetensors;
  for (const std::string &file : files) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, file);
    auto source = ByteSource::openFile(path);
    if (!source)
      return fileError(indexPath, "names " + file + ", which cannot be opened: " + llvm::toString(source.takeError()));
    if (llvm::Error err = ckpt.addSafetensors(std::move(*source)))
      return std::move(err);
  }
  if (llvm::Error err = ckpt.indexNames())
    return std::move(err);
  for (const auto &[name, file] : fileOf) {
    const CheckpointTensor *tensor = ckpt.find(name);
    if (!tensor)
      return fileError(indexPath, "lists tensor '" + name + "' in " + file + ", which does not hold it");
    if (llvm::sys::path::filename(ckpt.sources_[tensor->file]->name()) != file)
      return fileError(indexPath, "lists tensor '" + name + "' in " + file + ", but " +
                                      ckpt.sources_[tensor->file]->name() + " holds it");
  }
  if (fileOf.size() != ckpt.tensors_.size())
    for (const CheckpointTensor &tensor : ckpt.tensors_)
      if (!fileOf.count(tensor.name))
        return fileError(indexPath, "does not list tensor '" + tensor.name + "' of " +
                                        ckpt.sources_[tensor.file]->name());
  return ckpt;
}

const CheckpointTensor *Checkpoint::find(llvm::StringRef name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : &tensors_[it->second];
}

llvm::Error Checkpoint::verifyIntegrity() {
  std::vector<char> chunk(1 << 20);
  for (auto [source, digest] : llvm::zip_equal(sources_, digests_)) {
    if (!digest)
      continue;
    Sha256 sha;
    for (uint64_t pos = digest->dataOffset, end = source->size(); pos < end;) {
      uint64_t n = std::min<uint64_t>(chunk.size(), end - pos);
      llvm::MutableArrayRef<char> piece(chunk.data(), n);
      if (llvm::Error err = source->readAt(pos, piece))
        return err;
      sha.update(piece);
      pos += n;
    }
    std::string actual = sha.hexDigest();
    if (actual != digest->expected)
      return fileError(source->name(), "SHA-256 mismatch: the header says " + digest->expected + ", the data gives " +
                                           actual + " (the file is damaged)");
  }
  if (sha256_ == Check::Unchecked)
    sha256_ = Check::Ok;
  if (crc_ == Check::Absent)
    return llvm::Error::success();
  uint32_t crc = 0;
  for (uint64_t pos = 0; pos < contentEnd_;) {
    uint64_t n = std::min<uint64_t>(chunk.size(), contentEnd_ - pos);
    if (llvm::Error err = sources_.front()->readAt(pos, llvm::MutableArrayRef<char>(chunk.data(), n)))
      return err;
    crc = llvm::crc32(crc, llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(chunk.data()), n));
    pos += n;
  }
  if (crc != crcValue_)
    return fileError(
        path(),
        llvm::formatv("CRC mismatch: the trailer says {0}, the content gives {1} (the file is damaged)", crcValue_, crc)
            .str());
  crc_ = Check::Ok;
  return llvm::Error::success();
}

llvm::Error Checkpoint::read(const CheckpointTensor &tensor, uint64_t offset, llvm::MutableArrayRef<char> out) const {
  if (offset > tensor.bytes || out.size() > tensor.bytes - offset)
    return fileError(path(), llvm::formatv("tensor '{0}': bytes [{1}, {2}) are outside its {3} bytes", tensor.name,
                                           offset, offset + out.size(), tensor.bytes)
                                 .str());
  size_t done = 0;
  for (const CheckpointTensor::Segment &segment : tensor.segments) {
    if (done == out.size())
      break;
    if (offset >= segment.size) {
      offset -= segment.size;
      continue;
    }
    uint64_t n = std::min<uint64_t>(segment.size - offset, out.size() - done);
    if (llvm::Error err = sources_[tensor.file]->readAt(segment.offset + offset, out.slice(done, n)))
      return err;
    done += n;
    offset = 0;
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

namespace {
void appendVarint(std::string &out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void appendLenField(std::string &out, uint8_t key, llvm::StringRef payload) {
  out.push_back(static_cast<char>(key));
  appendVarint(out, payload.size());
  out.append(payload.data(), payload.size());
}
} // namespace

llvm::Expected<std::unique_ptr<CheckpointWriter>> CheckpointWriter::create(llvm::StringRef path, Options options) {
  if (options.encryptWith && options.crc)
    return fileError(path, "a checkpoint is either encrypted or has a CRC trailer, not both (as in MindSpore)");
  if (options.encryptWith)
    if (llvm::Error err = checkKey(*options.encryptWith))
      return fileError(path, llvm::toString(std::move(err)));
  std::unique_ptr<CheckpointWriter> writer(new CheckpointWriter());
  writer->options_ = options;
  auto file = AtomicFile::create(path);
  if (!file)
    return file.takeError();
  writer->file_ = std::move(*file);
  return writer;
}

llvm::Error CheckpointWriter::writeBytes(llvm::ArrayRef<char> bytes) {
  if (options_.crc)
    crc_ = llvm::crc32(crc_, llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
  if (options_.encryptWith) {
    plain_.append(bytes.data(), bytes.size());
    return llvm::Error::success();
  }
  return file_->write(bytes);
}

llvm::Error CheckpointWriter::addTensor(llvm::StringRef name, llvm::StringRef typeName, llvm::ArrayRef<int64_t> shape,
                                        uint64_t bytes, Fill fill, bool zeroDimScalar) {
  if (finished_)
    return fileError(file_->path(), "tensor '" + name + "' added after the checkpoint was finished");
  llvm::SmallVector<int64_t, 4> dims(shape);
  if (dims.empty() && zeroDimScalar)
    dims.push_back(0);

  // 1.7 splits the flattened array into near-equal element counts, the first
  // parts one element larger (np.array_split).
  std::optional<DType> dtype = parseDType(typeName);
  uint64_t elementBytes = dtype && dtypeBits(*dtype) % 8 == 0 && *dtype != DType::String ? dtypeBits(*dtype) / 8 : 1;
  uint64_t parts = bytes > options_.sliceBytes ? (bytes + options_.sliceBytes - 1) / options_.sliceBytes : 1;
  uint64_t elements = bytes / elementBytes;

  uint64_t offset = 0;
  for (uint64_t part = 0; part < parts; ++part) {
    uint64_t partElements = elements / parts + (part < elements % parts ? 1 : 0);
    uint64_t partBytes = parts == 1 ? bytes : partElements * elementBytes;

    std::string tensorHeader;
    for (int64_t d : dims) {
      tensorHeader.push_back(0x08);
      appendVarint(tensorHeader, static_cast<uint64_t>(d));
    }
    appendLenField(tensorHeader, 0x12, typeName);
    tensorHeader.push_back(0x1a);
    appendVarint(tensorHeader, partBytes);
    uint64_t tensorSize = tensorHeader.size() + partBytes;

    std::string valueHeader;
    appendLenField(valueHeader, 0x0a, name);
    valueHeader.push_back(0x12);
    appendVarint(valueHeader, tensorSize);
    uint64_t valueSize = valueHeader.size() + tensorSize;

    std::string header;
    header.push_back(0x0a);
    appendVarint(header, valueSize);
    header += valueHeader;
    header += tensorHeader;
    if (llvm::Error err = writeBytes(header))
      return err;

    constexpr uint64_t kChunk = 4 << 20;
    uint64_t chunkBytes = std::min<uint64_t>(kChunk, std::max<uint64_t>(partBytes, 1));
    char *buffer = chunks_.get(chunkBytes);
    for (uint64_t done = 0; done < partBytes;) {
      uint64_t n = std::min<uint64_t>(chunkBytes, partBytes - done);
      llvm::MutableArrayRef<char> chunk(buffer, n);
      if (llvm::Error err = fill(offset + done, chunk))
        return err;
      if (llvm::Error err = writeBytes(chunk))
        return err;
      done += n;
    }
    offset += partBytes;
  }
  return llvm::Error::success();
}

llvm::Error CheckpointWriter::finish() {
  if (finished_)
    return llvm::Error::success();
  if (options_.crc) {
    std::string trailer(kCrcMagic, 7);
    uint64_t value = crc_;
    char digits[10];
    for (int i = 9; i >= 0; --i) {
      digits[i] = static_cast<char>(value & 0xff);
      value >>= 8;
    }
    trailer.append(digits, 10);
    options_.crc = false; // the trailer is not part of the CRC
    if (llvm::Error err = writeBytes(trailer))
      return err;
  }
  if (options_.encryptWith) {
    auto cipher = encrypt(plain_, *options_.encryptWith);
    if (!cipher)
      return fileError(file_->path(), llvm::toString(cipher.takeError()));
    std::string().swap(plain_);
    if (llvm::Error err = file_->write(llvm::ArrayRef<char>(cipher->data(), cipher->size())))
      return err;
  }
  if (llvm::Error err = file_->commit(options_.sync))
    return err;
  finished_ = true;
  return llvm::Error::success();
}
