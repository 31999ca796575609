//===- FileUtils.h - writing outputs that are never half-written ----------===//

#ifndef DINFER_FORMATS_FILEUTILS_H
#define DINFER_FORMATS_FILEUTILS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>

namespace dinfer {

/// A file written under a temporary name beside its final one and renamed
/// into place by commit(); dropped without commit, it leaves nothing behind.
class Sha256;

class AtomicFile {
public:
  static llvm::Expected<std::unique_ptr<AtomicFile>> create(llvm::StringRef path);
  ~AtomicFile();

  /// Appends bytes; a full disk is an error that says so.
  llvm::Error write(llvm::ArrayRef<char> bytes);
  llvm::Error write(llvm::StringRef bytes) { return write(llvm::ArrayRef<char>(bytes.data(), bytes.size())); }
  /// Overwrites bytes already written (a header completed last).
  llvm::Error writeAt(uint64_t offset, llvm::ArrayRef<char> bytes);
  uint64_t size() const { return size_; }
  const std::string &path() const { return path_; }
  /// Hashes every byte as it is appended, so that a writer that must report
  /// the file's SHA-256 never reads it back. Call before the first write.
  void digestAsWritten();
  /// After commit: the file's SHA-256 (64 lowercase hex digits), or none
  /// when it was not digested or was rewritten in place.
  const std::optional<std::string> &sha256() const { return sha256_; }
  /// Syncs (unless `sync` is false), closes and renames into place.
  llvm::Error commit(bool sync = true);

private:
  AtomicFile() = default;
  std::string path_, tempPath_;
  int fd_ = -1;
  uint64_t size_ = 0;
  bool committed_ = false;
  std::unique_ptr<Sha256> digest_;
  std::optional<std::string> sha256_;
};

/// The SHA-256 of a file's bytes as 64 lowercase hex digits (OpenSSL,
/// streamed in 1 MiB reads).
llvm::Expected<std::string> sha256OfFile(llvm::StringRef path);

/// A SHA-256 digest fed in pieces (OpenSSL).
class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256 &) = delete;
  Sha256 &operator=(const Sha256 &) = delete;
  void update(llvm::ArrayRef<char> bytes);
  /// 64 lowercase hex digits; the digest cannot be fed afterwards.
  std::string hexDigest();

private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Writes `bytes` to `path` through an AtomicFile.
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef bytes, bool sync = true);

} // namespace dinfer

#endif // DINFER_FORMATS_FILEUTILS_H
