//===- FuzzMain.cpp - a libFuzzer target for one harness ------------------===//
//
// Built once per harness with DINFER_FUZZ_HARNESS naming it (fuzz/CMakeLists.txt).
//
//===----------------------------------------------------------------------===//

#include "Harnesses.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dinfer::fuzz::DINFER_FUZZ_HARNESS(llvm::StringRef(reinterpret_cast<const char *>(data), size));
  return 0;
}
