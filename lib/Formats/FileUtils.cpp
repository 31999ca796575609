//===- FileUtils.cpp - writing outputs that are never half-written --------===//

#include "dinfer/Formats/FileUtils.h"

#include "dinfer/Formats/ByteSource.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

llvm::Error dinfer::writeFileAtomically(llvm::StringRef path, llvm::StringRef bytes, bool sync) {
  int fd = -1;
  llvm::SmallString<256> temp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%", fd, temp))
    return fileError(path, "cannot create: " + ec.message());
  auto fail = [&](const llvm::Twine &message) {
    ::close(fd);
    llvm::sys::fs::remove(temp);
    return fileError(path, message);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fail(errno == ENOSPC ? "disk full while writing" : "write failed: " + llvm::Twine(std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd) != 0)
    return fail("fsync failed: " + llvm::Twine(std::strerror(errno)));
  if (::close(fd) != 0) {
    llvm::sys::fs::remove(temp);
    return fileError(path, "close failed: " + llvm::Twine(std::strerror(errno)));
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return fileError(path, "cannot rename into place: " + ec.message());
  }
  return llvm::Error::success();
}
