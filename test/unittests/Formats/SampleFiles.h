//===- SampleFiles.h - the real MindSpore files in test/data/mindspore ----===//
//
// Files written by MindSpore itself (origins and licence in
// test/data/mindspore/SOURCES.md). They are part of the repository, so every
// test that reads them runs in any clone.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TEST_UNITTESTS_FORMATS_SAMPLEFILES_H
#define DINFER_TEST_UNITTESTS_FORMATS_SAMPLEFILES_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

#include <string>

namespace dinfer {

/// The path of a MindSpore sample file.
inline std::string samplePath(llvm::StringRef name) {
  llvm::SmallString<256> path(DINFER_SAMPLES_DIR);
  llvm::sys::path::append(path, name);
  return path.str().str();
}

} // namespace dinfer

#endif
