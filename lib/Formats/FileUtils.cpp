//===- FileUtils.cpp - writing outputs that are never half-written --------===//

#include "dinfer/Formats/FileUtils.h"

#include "dinfer/Formats/ByteSource.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <unistd.h>
#include <vector>

using namespace dinfer;

namespace {
/// DINFER_FAULT_DISK_FULL_AFTER=N, for the fault tests (docs/reliability.md):
/// the disk is full once this process has written N bytes through AtomicFile.
std::atomic<int64_t> &bytesBeforeDiskFull() {
  static std::atomic<int64_t> left = [] {
    const char *spec = std::getenv("DINFER_FAULT_DISK_FULL_AFTER");
    return spec ? std::strtoll(spec, nullptr, 10) : INT64_MAX;
  }();
  return left;
}

ssize_t writeSome(int fd, const char *data, size_t size) {
  std::atomic<int64_t> &left = bytesBeforeDiskFull();
  if (left.load(std::memory_order_relaxed) != INT64_MAX) {
    int64_t allowed = left.fetch_sub(static_cast<int64_t>(size));
    if (allowed <= 0) {
      errno = ENOSPC;
      return -1;
    }
    size = std::min<size_t>(size, static_cast<size_t>(allowed));
  }
  return ::write(fd, data, size);
}
} // namespace

llvm::Expected<std::unique_ptr<AtomicFile>> AtomicFile::create(llvm::StringRef path) {
  std::unique_ptr<AtomicFile> file(new AtomicFile());
  file->path_ = path.str();
  llvm::SmallString<256> temp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%", file->fd_, temp))
    return fileError(path, "cannot create: " + ec.message());
  file->tempPath_ = temp.str().str();
  return file;
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!committed_ && !tempPath_.empty())
    llvm::sys::fs::remove(tempPath_);
}

llvm::Error AtomicFile::write(llvm::ArrayRef<char> bytes) {
  if (fd_ < 0)
    return fileError(path_, "written after it was committed");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = writeSome(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == ENOSPC || errno == EDQUOT))
      return fileError(path_, "no space left on the device after " + llvm::Twine(size_ + done) +
                                  " bytes: free some and run again (nothing was written under this name)");
    if (n < 0 && errno == EFBIG)
      return fileError(path_, "the file-size limit (ulimit -f) was reached after " + llvm::Twine(size_ + done) +
                                  " bytes (nothing was written under this name)");
    if (n < 0)
      return fileError(path_, "write failed: " + llvm::Twine(std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  size_ += bytes.size();
  if (digest_)
    digest_->update(bytes);
  return llvm::Error::success();
}

void AtomicFile::digestAsWritten() {
  if (size_ == 0)
    digest_ = std::make_unique<Sha256>();
}

llvm::Error AtomicFile::writeAt(uint64_t offset, llvm::ArrayRef<char> bytes) {
  if (fd_ < 0)
    return fileError(path_, "written after it was committed");
  digest_.reset(); // what was hashed is no longer the file
  if (offset + bytes.size() > size_)
    return fileError(path_, "rewrite of bytes [" + llvm::Twine(offset) + ", " + llvm::Twine(offset + bytes.size()) +
                                ") past the " + llvm::Twine(size_) + " written");
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fileError(path_, "write failed: " + llvm::Twine(std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  return llvm::Error::success();
}

llvm::Error AtomicFile::commit(bool sync) {
  if (committed_)
    return llvm::Error::success();
  if (sync && ::fsync(fd_) != 0)
    return fileError(path_, "fsync failed: " + llvm::Twine(std::strerror(errno)));
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0)
    return fileError(path_, "close failed: " + llvm::Twine(std::strerror(errno)));
  if (std::error_code ec = llvm::sys::fs::rename(tempPath_, path_))
    return fileError(path_, "cannot rename " + tempPath_ + " into place: " + ec.message());
  committed_ = true;
  if (digest_)
    sha256_ = digest_->hexDigest();
  return llvm::Error::success();
}

llvm::Error dinfer::writeFileAtomically(llvm::StringRef path, llvm::StringRef bytes, bool sync) {
  auto file = AtomicFile::create(path);
  if (!file)
    return file.takeError();
  if (llvm::Error err = (*file)->write(bytes))
    return err;
  return (*file)->commit(sync);
}

llvm::Expected<std::string> dinfer::sha256OfFile(llvm::StringRef path) {
  int fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fileError(path, "cannot open: " + llvm::Twine(std::strerror(errno)));
  Sha256 digest;
  std::vector<char> chunk(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return fileError(path, "read failed: " + llvm::Twine(std::strerror(error)));
    }
    if (n == 0)
      break;
    digest.update(llvm::ArrayRef<char>(chunk.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  return digest.hexDigest();
}

struct Sha256::State {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  // Only allocation can fail here; OpenSSL's SHA-256 itself always exists.
  if (!state_->context || EVP_DigestInit_ex(state_->context.get(), EVP_sha256(), nullptr) != 1)
    llvm::report_fatal_error("cannot start a SHA-256 digest (OpenSSL)");
}

Sha256::~Sha256() = default;

void Sha256::update(llvm::ArrayRef<char> bytes) {
  if (!bytes.empty())
    EVP_DigestUpdate(state_->context.get(), bytes.data(), bytes.size());
}

std::string Sha256::hexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->context.get(), digest, &length);
  return llvm::toHex(llvm::ArrayRef<uint8_t>(digest, length), /*LowerCase=*/true);
}
