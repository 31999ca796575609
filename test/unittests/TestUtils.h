//===- TestUtils.h - files and folders for unit tests ---------------------===//

#ifndef DINFER_TEST_UNITTESTS_TESTUTILS_H
#define DINFER_TEST_UNITTESTS_TESTUTILS_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <string>

namespace dinfer {

/// A file's bytes; empty (with a test failure) when it cannot be read.
inline std::string readAll(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  EXPECT_TRUE(static_cast<bool>(buffer)) << path.str();
  return buffer ? (*buffer)->getBuffer().str() : "";
}

/// A temporary folder removed at the end of a test.
class TempDir {
public:
  TempDir() { EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("dinfer-test", path_)); }
  ~TempDir() { llvm::sys::fs::remove_directories(path_); }
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<256> p(path_);
    llvm::sys::path::append(p, name);
    return p.str().str();
  }

private:
  llvm::SmallString<256> path_;
};

} // namespace dinfer

#endif // DINFER_TEST_UNITTESTS_TESTUTILS_H
