//===- FuzzRegressionTest.cpp - inputs the fuzzers once crashed on --------===//
//
// Every file under fuzz/regressions/<harness>/ goes through its harness (the
// same code the libFuzzer target runs) in every build, with or without the
// sanitizers: a crash found once stays fixed.
//
//===----------------------------------------------------------------------===//

#include "Harnesses.h"

#include "dinfer/Formats/Manifest.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

std::vector<std::pair<std::string, std::string>> regressionFiles() {
  std::vector<std::pair<std::string, std::string>> files;
  std::string root = std::string(DINFER_SOURCE_DIR) + "/fuzz/regressions";
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator dir(root, ec), end; dir != end && !ec; dir.increment(ec)) {
    std::string harness = llvm::sys::path::filename(dir->path()).str();
    for (llvm::sys::fs::directory_iterator file(dir->path(), ec), fileEnd; file != fileEnd && !ec; file.increment(ec))
      files.emplace_back(harness, file->path());
  }
  return files;
}

TEST(FuzzRegression, EveryRecordedInputIsHandled) {
  auto files = regressionFiles();
  ASSERT_FALSE(files.empty()) << "fuzz/regressions/ holds no inputs";
  for (const auto &[harness, path] : files) {
    SCOPED_TRACE(path);
    auto run = dinfer::fuzz::harnessNamed(harness);
    ASSERT_NE(run, nullptr) << "fuzz/regressions/" << harness << " names no harness";
    auto buffer = llvm::MemoryBuffer::getFile(path);
    ASSERT_TRUE(static_cast<bool>(buffer));
    run((*buffer)->getBuffer());
  }
}

TEST(FuzzRegression, ManifestFieldsAreCheckedBeforeUse) {
  // An input layout without its device matrix: a crash before the manifest reader existed.
  auto manifest = dinfer::parseManifest(
      R"({"format":"dinfer-export","device_num":1,"pipeline_stages":1,"outputs":[],"ranks":[{"rank":0,"files":[]}],
          "inputs":[{"name":"x","dtype":"float32","shape":[2],"layout":{"tensor_map":[-1]}}]})",
      "manifest.json");
  ASSERT_FALSE(static_cast<bool>(manifest));
  EXPECT_EQ(llvm::toString(manifest.takeError()), "manifest.json: an input 'x'.layout.dev_matrix is missing");

  auto escaping = dinfer::parseManifest(
      R"({"format":"dinfer-export","device_num":1,"pipeline_stages":1,"inputs":[],"outputs":[],
          "ranks":[{"rank":0,"files":[{"path":"rank_0/../../etc/passwd","sha256":"00"}]}]})",
      "manifest.json");
  ASSERT_FALSE(static_cast<bool>(escaping));
  EXPECT_EQ(llvm::toString(escaping.takeError()),
            "manifest.json: file path 'rank_0/../../etc/passwd' leaves the export folder");
}

} // namespace
