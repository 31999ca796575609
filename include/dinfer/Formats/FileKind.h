//===- FileKind.h - what a file is, from its content ----------------------===//
//
// MindSpore strategy files end in ".ckpt" like checkpoints, so the kind is
// always detected from the bytes, never from the name.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_FILEKIND_H
#define DINFER_FORMATS_FILEKIND_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace dinfer {

enum class FileKind { Checkpoint, Safetensors, Strategy, MindIR, Onnx, Encrypted, Unknown };

llvm::StringRef fileKindName(FileKind kind);
/// What a file of `kind` is, for messages: "it is a MindSpore checkpoint",
/// "its bytes match no format dinfer reads".
llvm::StringRef describeFileKind(FileKind kind);

/// Reads as little of the file as it can to tell its kind. A folder holding
/// model.safetensors.index.json is Safetensors (a sharded checkpoint).
llvm::Expected<FileKind> detectFileKind(llvm::StringRef path);

struct CipherKey;
/// The kind of what a file holds: an encrypted file is decrypted with `key`
/// (when given) and its plaintext classified.
llvm::Expected<FileKind> detectContentKind(llvm::StringRef path, const CipherKey *key);

} // namespace dinfer

#endif // DINFER_FORMATS_FILEKIND_H
