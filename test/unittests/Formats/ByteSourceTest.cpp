//===- ByteSourceTest.cpp - reading and mapping ranges of files -----------===//

#include "dinfer/Formats/ByteSource.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace dinfer;

namespace {

struct TempFile {
  llvm::SmallString<128> path;
  explicit TempFile(llvm::StringRef contents) {
    int fd;
    EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("dinfer-bytes", "bin", fd, path));
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << contents;
  }
  ~TempFile() { llvm::sys::fs::remove(path); }
};

TEST(ByteSourceTest, MapFileRangeGivesTheBytesInPlace) {
  std::string contents(100000, 'a');
  for (size_t i = 0; i < contents.size(); ++i)
    contents[i] = static_cast<char>(i * 7);
  TempFile file(contents);
  for (auto [offset, length] :
       {std::pair<uint64_t, uint64_t>{0, 100000}, {4096, 8192}, {12345, 777}, {99999, 1}, {100000, 0}}) {
    auto mapped = mapFileRange(file.path, offset, length);
    ASSERT_TRUE(static_cast<bool>(mapped)) << llvm::toString(mapped.takeError());
    ASSERT_EQ(mapped->bytes.size(), length);
    EXPECT_EQ(0, std::memcmp(mapped->bytes.data(), contents.data() + offset, length));
  }
}

TEST(ByteSourceTest, MapFileRangePastTheEndNamesTheFile) {
  TempFile file("0123456789");
  auto mapped = mapFileRange(file.path, 4, 7);
  ASSERT_FALSE(static_cast<bool>(mapped));
  std::string message = llvm::toString(mapped.takeError());
  EXPECT_NE(message.find(file.path.str().str()), std::string::npos) << message;
  EXPECT_NE(message.find("past the end"), std::string::npos) << message;
  auto missing = mapFileRange("/nonexistent/dinfer/weights.bin", 0, 1);
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(llvm::toString(missing.takeError()).find("/nonexistent/dinfer/weights.bin"), std::string::npos);
}

} // namespace
