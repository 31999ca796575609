//===- SampleFiles.h - the real MindSpore files in ../shared/samples ------===//

#ifndef DINFER_TEST_UNITTESTS_FORMATS_SAMPLEFILES_H
#define DINFER_TEST_UNITTESTS_FORMATS_SAMPLEFILES_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <string>

namespace dinfer {

inline constexpr const char *kSamplesMissing =
    "the MindSpore sample folder (" DINFER_SAMPLES_DIR ") is absent; sample-file tests skipped";

/// The path of a sample file, or empty when the folder is absent.
inline std::string samplePath(llvm::StringRef name) {
  llvm::SmallString<256> path(DINFER_SAMPLES_DIR);
  llvm::sys::path::append(path, name);
  return llvm::sys::fs::exists(path) ? path.str().str() : std::string();
}

} // namespace dinfer

#endif
