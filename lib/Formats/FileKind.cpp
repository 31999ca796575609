//===- FileKind.cpp - what a file is, from its content --------------------===//

#include "dinfer/Formats/FileKind.h"

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/Crypto.h"
#include "dinfer/Formats/Safetensors.h"
#include "dinfer/Formats/Strategy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <vector>

using namespace dinfer;

llvm::StringRef dinfer::fileKindName(FileKind kind) {
  switch (kind) {
  case FileKind::Checkpoint: return "checkpoint";
  case FileKind::Safetensors: return "safetensors";
  case FileKind::Strategy: return "strategy";
  case FileKind::MindIR: return "mindir";
  case FileKind::Onnx: return "onnx";
  case FileKind::Encrypted: return "encrypted";
  case FileKind::Unknown: return "unknown";
  }
  return "unknown";
}

llvm::StringRef dinfer::describeFileKind(FileKind kind) {
  switch (kind) {
  case FileKind::Checkpoint: return "it is a MindSpore checkpoint";
  case FileKind::Safetensors: return "it is a safetensors checkpoint";
  case FileKind::Strategy: return "it is a MindSpore strategy file";
  case FileKind::MindIR: return "it is a MindIR model";
  case FileKind::Onnx: return "it is an ONNX model";
  case FileKind::Encrypted: return "it is encrypted: give its key with --key-file (or DINFER_KEY_FILE)";
  case FileKind::Unknown: break;
  }
  return "its bytes match no format dinfer reads";
}

namespace {
/// Strategy files are small; anything larger is not parsed as one.
constexpr uint64_t kMaxStrategyBytes = 256 << 20;

bool isVersionString(llvm::StringRef s) {
  if (s.empty() || !llvm::isDigit(s.front()))
    return false;
  return llvm::all_of(s, [](char c) { return llvm::isDigit(c) || c == '.'; });
}
/// The kind the first bytes of a file of `size` bytes say, before the
/// strategy-file test.
std::optional<FileKind> kindOfHead(llvm::ArrayRef<char> head, uint64_t size) {
  auto byte = [&](size_t i) { return i < head.size() ? static_cast<uint8_t>(head[i]) : 0; };
  if (encryptedMode(llvm::StringRef(head.data(), head.size())))
    return FileKind::Encrypted;
  if (looksLikeSafetensors(head, size))
    return FileKind::Safetensors;
  // A checkpoint value starts with a nested name field: 0a <len> 0a.
  if (byte(0) == 0x0a) {
    size_t i = 1;
    while (i < head.size() && (byte(i) & 0x80))
      ++i;
    // The reader then says precisely what is wrong with a damaged one.
    if (byte(i + 1) == 0x0a)
      return FileKind::Checkpoint;
    // MindIR: ModelProto.ir_version, a version string such as "0.1.1".
    uint64_t length = byte(1);
    if (length < 0x80 && 2 + length <= head.size() && isVersionString(llvm::StringRef(head.data() + 2, length)))
      return FileKind::MindIR;
  }
  return std::nullopt;
}

FileKind kindOfContent(llvm::StringRef bytes) {
  if (std::optional<FileKind> kind =
          kindOfHead(llvm::ArrayRef<char>(bytes.data(), std::min<size_t>(bytes.size(), 64)), bytes.size()))
    return *kind;
  if (bytes.size() <= kMaxStrategyBytes && looksLikeStrategy(bytes))
    return FileKind::Strategy;
  // ONNX: ModelProto.ir_version is a varint in field 1 (key 0x08).
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == 0x08)
    return FileKind::Onnx;
  return FileKind::Unknown;
}
} // namespace

llvm::Expected<FileKind> dinfer::detectFileKind(llvm::StringRef path) {
  if (llvm::sys::fs::is_directory(path)) {
    llvm::SmallString<256> index(path);
    llvm::sys::path::append(index, kSafetensorsIndexName);
    if (llvm::sys::fs::exists(index))
      return FileKind::Safetensors;
    return fileError(path,
                     "is a directory, not a file (nor a Hugging Face folder holding " + kSafetensorsIndexName + ")");
  }
  auto source = ByteSource::openFile(path);
  if (!source)
    return source.takeError();
  uint64_t size = (*source)->size();
  if (size == 0)
    return fileError(path, "empty file");
  std::vector<char> head(std::min<uint64_t>(size, 64));
  if (llvm::Error err = (*source)->readAt(0, head))
    return std::move(err);
  if (std::optional<FileKind> kind = kindOfHead(head, size))
    return *kind;
  if (size <= kMaxStrategyBytes) {
    auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
    if (buffer && looksLikeStrategy((*buffer)->getBuffer()))
      return FileKind::Strategy;
  }
  // ONNX: ModelProto.ir_version is a varint in field 1 (key 0x08).
  if (static_cast<uint8_t>(head[0]) == 0x08)
    return FileKind::Onnx;
  return FileKind::Unknown;
}

llvm::Expected<FileKind> dinfer::detectContentKind(llvm::StringRef path, const CipherKey *key) {
  auto kind = detectFileKind(path);
  if (!kind || *kind != FileKind::Encrypted || !key)
    return kind;
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buffer)
    return fileError(path, "cannot read: " + buffer.getError().message());
  // The first block tells; the reader decrypts the whole file once, later.
  auto plain = decrypt((*buffer)->getBuffer(), *key, path, /*maxBlocks=*/1);
  if (!plain)
    return plain.takeError();
  return kindOfContent(*plain);
}
