//===- ByteSource.h - random-access bytes: a file or a buffer -------------===//
//
// Readers take a ByteSource so that the same code indexes a multi-GiB file with
// pread (paying memory only for what it reads) and a fuzz target's buffer.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_BYTESOURCE_H
#define DINFER_FORMATS_BYTESOURCE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace dinfer {

class ByteSource {
public:
  virtual ~ByteSource();
  virtual uint64_t size() const = 0;
  /// Fills `out` with the bytes at `offset`; fails past the end.
  virtual llvm::Error readAt(uint64_t offset, llvm::MutableArrayRef<char> out) const = 0;
  /// The file's path, or a name for a buffer: used in every error.
  const std::string &name() const { return name_; }

  static llvm::Expected<std::unique_ptr<ByteSource>> openFile(llvm::StringRef path);
  /// Wraps bytes the caller keeps alive.
  static std::unique_ptr<ByteSource> fromBuffer(llvm::StringRef bytes, llvm::StringRef name);
  /// A source that owns its bytes (a decrypted file).
  static std::unique_ptr<ByteSource> fromOwnedBuffer(std::string bytes, llvm::StringRef name);

protected:
  explicit ByteSource(std::string name) : name_(std::move(name)) {}

private:
  std::string name_;
};

/// An error "<file>: <message>", the form every reader reports.
llvm::Error fileError(llvm::StringRef file, const llvm::Twine &message);

/// Bytes read in place rather than copied: inside a loaded model, or a
/// read-only mapping of part of a file. `owner` (when set) keeps them valid.
struct MappedBytes {
  llvm::ArrayRef<char> bytes;
  std::shared_ptr<const void> owner;
};

/// Maps `length` bytes of `path` at `offset` read-only (the operating system
/// pages them in on first touch); an error names the file when the range
/// lies past its end.
llvm::Expected<MappedBytes> mapFileRange(llvm::StringRef path, uint64_t offset, uint64_t length);

} // namespace dinfer

#endif // DINFER_FORMATS_BYTESOURCE_H
