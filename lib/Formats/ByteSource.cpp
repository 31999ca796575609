//===- ByteSource.cpp - random-access bytes: a file or a buffer -----------===//

#include "dinfer/Formats/ByteSource.h"

#include "llvm/Support/MemoryBuffer.h"

#include "llvm/Support/FileSystem.h"

#include <cstring>

using namespace dinfer;

ByteSource::~ByteSource() = default;

llvm::Error dinfer::fileError(llvm::StringRef file, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), (file + ": " + message).str());
}

namespace {
class FileSource final : public ByteSource {
public:
  FileSource(std::string path, llvm::sys::fs::file_t file, uint64_t size)
      : ByteSource(std::move(path)), file_(file), size_(size) {}
  ~FileSource() override { llvm::sys::fs::closeFile(file_); }

  uint64_t size() const override { return size_; }

  llvm::Error readAt(uint64_t offset, llvm::MutableArrayRef<char> out) const override {
    if (offset > size_ || out.size() > size_ - offset)
      return fileError(name(), "unexpected end of file: " + llvm::Twine(out.size()) + " bytes wanted at offset " +
                                   llvm::Twine(offset) + " of " + llvm::Twine(size_));
    size_t done = 0;
    while (done < out.size()) {
      auto got = llvm::sys::fs::readNativeFileSlice(file_, out.drop_front(done), offset + done);
      if (!got)
        return fileError(name(), "read failed: " + llvm::toString(got.takeError()));
      if (*got == 0)
        return fileError(name(), "file shrank while being read");
      done += *got;
    }
    return llvm::Error::success();
  }

private:
  llvm::sys::fs::file_t file_;
  uint64_t size_;
};

class BufferSource final : public ByteSource {
public:
  BufferSource(llvm::StringRef bytes, std::string name) : ByteSource(std::move(name)), bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  llvm::Error readAt(uint64_t offset, llvm::MutableArrayRef<char> out) const override {
    if (offset > bytes_.size() || out.size() > bytes_.size() - offset)
      return fileError(name(), "unexpected end of data: " + llvm::Twine(out.size()) + " bytes wanted at offset " +
                                   llvm::Twine(offset) + " of " + llvm::Twine(bytes_.size()));
    if (!out.empty())
      std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return llvm::Error::success();
  }

private:
  llvm::StringRef bytes_;
};

class OwnedBufferSource final : public ByteSource {
public:
  OwnedBufferSource(std::string bytes, std::string name)
      : ByteSource(name), bytes_(std::move(bytes)), view_(bytes_, std::move(name)) {}
  uint64_t size() const override { return view_.size(); }
  llvm::Error readAt(uint64_t offset, llvm::MutableArrayRef<char> out) const override {
    return view_.readAt(offset, out);
  }

private:
  std::string bytes_;
  BufferSource view_;
};
} // namespace

llvm::Expected<std::unique_ptr<ByteSource>> ByteSource::openFile(llvm::StringRef path) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return fileError(path, "cannot open: " + ec.message());
  if (status.type() == llvm::sys::fs::file_type::directory_file)
    return fileError(path, "is a directory, not a file");
  auto file = llvm::sys::fs::openNativeFileForRead(path);
  if (!file)
    return fileError(path, "cannot open: " + llvm::toString(file.takeError()));
  return std::make_unique<FileSource>(path.str(), *file, status.getSize());
}

std::unique_ptr<ByteSource> ByteSource::fromBuffer(llvm::StringRef bytes, llvm::StringRef name) {
  return std::make_unique<BufferSource>(bytes, name.str());
}

std::unique_ptr<ByteSource> ByteSource::fromOwnedBuffer(std::string bytes, llvm::StringRef name) {
  return std::make_unique<OwnedBufferSource>(std::move(bytes), name.str());
}

llvm::Expected<MappedBytes> dinfer::mapFileRange(llvm::StringRef path, uint64_t offset, uint64_t length) {
  uint64_t size = 0;
  if (std::error_code ec = llvm::sys::fs::file_size(path, size))
    return fileError(path, "cannot open: " + ec.message());
  if (offset > size || length > size - offset)
    return fileError(path, "the range of " + llvm::Twine(length) + " bytes at offset " + llvm::Twine(offset) +
                               " lies past the end of the file (" + llvm::Twine(size) + " bytes)");
  auto mapped = llvm::MemoryBuffer::getFileSlice(path, length, offset, /*IsVolatile=*/false);
  if (!mapped)
    return fileError(path, "cannot map: " + mapped.getError().message());
  std::shared_ptr<llvm::MemoryBuffer> buffer = std::move(*mapped);
  MappedBytes result;
  result.bytes = llvm::ArrayRef<char>(buffer->getBufferStart(), buffer->getBufferSize());
  result.owner = std::move(buffer);
  return result;
}
