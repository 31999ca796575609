//===- Harnesses.h - what each fuzz target feeds its reader -----*- C++ -*-===//
//
// One function per reader of untrusted files. The libFuzzer targets
// (FuzzMain.cpp, one executable per function) and the regression unit test
// (test/unittests/FuzzRegressionTest.cpp, every file under fuzz/regressions/)
// run the same code. A harness returns normally for any input; a crash, an
// out-of-bounds access or undefined behaviour is a bug in the reader.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FUZZ_HARNESSES_H
#define DINFER_FUZZ_HARNESSES_H

#include "llvm/ADT/StringRef.h"

namespace dinfer::fuzz {

void checkpoint(llvm::StringRef bytes);  ///< MindSpore .ckpt: index, read every tensor, CRC.
void safetensors(llvm::StringRef bytes); ///< safetensors: the header, then as a checkpoint (read, SHA-256).
void strategy(llvm::StringRef bytes);    ///< Strategy files, protobuf or JSON, and their round trip.
void mindir(llvm::StringRef bytes);      ///< MindIR: parse, read parameters, the loader's checks.
void onnx(llvm::StringRef bytes);        ///< ONNX through libonnx, every initializer.
void onnxImport(llvm::StringRef bytes);   ///< ONNX into the nn dialect, which must verify.
void mindirImport(llvm::StringRef bytes); ///< MindIR into the nn dialect, which must verify.
void npy(llvm::StringRef bytes);         ///< .npy arrays and serialized ONNX tensors.
void groupConfig(llvm::StringRef bytes); ///< group_config.pb.
void manifest(llvm::StringRef bytes);    ///< An export's manifest.json.

/// The harness called `name` ("checkpoint", "group_config", ...), or null.
void (*harnessNamed(llvm::StringRef name))(llvm::StringRef);

} // namespace dinfer::fuzz

#endif // DINFER_FUZZ_HARNESSES_H
