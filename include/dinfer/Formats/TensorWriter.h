//===- TensorWriter.h - tensor files written one tensor at a time ---------===//
//
// dinfer writes weights in two formats: MindSpore's checkpoints (.ckpt) and
// safetensors. Both writers stream each tensor from a callback and make the
// file appear under its name only when it is complete; a safetensors header
// lists every tensor before the data, so its writer is told the tensors up
// front. Code that writes either format asks createTensorWriter.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_TENSORWRITER_H
#define DINFER_FORMATS_TENSORWRITER_H

#include "dinfer/Formats/Crypto.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace dinfer {

enum class CheckpointFormat : uint8_t {
  Ckpt,        ///< MindSpore's protobuf checkpoint
  Safetensors, ///< Hugging Face's safetensors
};

/// "ckpt" or "safetensors", as `--format` spells them.
llvm::StringRef checkpointFormatName(CheckpointFormat format);
std::optional<CheckpointFormat> parseCheckpointFormat(llvm::StringRef name);
/// ".ckpt" or ".safetensors".
llvm::StringRef checkpointExtension(CheckpointFormat format);

/// Storage that grows and is never cleared, for bytes streamed through it:
/// every byte is filled before it is read, so zero-filling it, or mapping
/// fresh pages for every chunk and tensor, would only cost time.
class ScratchBuffer {
public:
  char *get(size_t bytes) {
    if (bytes > capacity_) {
      data_.reset(new char[bytes]); // uninitialised on purpose
      capacity_ = bytes;
    }
    return data_.get();
  }

private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
};

/// A tensor a writer will be given, announced before any is written.
struct PlannedTensor {
  std::string name;
  std::string typeName; ///< MindSpore's name ("Float32"), as CheckpointTensor::typeName
  llvm::SmallVector<int64_t, 4> shape;
  uint64_t bytes = 0;
};

class TensorWriter {
public:
  /// Produces `out.size()` bytes of a tensor's content starting at `offset`.
  using Fill = llvm::function_ref<llvm::Error(uint64_t offset, llvm::MutableArrayRef<char> out)>;

  virtual ~TensorWriter();

  /// Appends one tensor. A .ckpt scalar (empty shape) is written with dims
  /// [0] unless `zeroDimScalar` is false; safetensors has one form.
  llvm::Error add(llvm::StringRef name, llvm::StringRef typeName, llvm::ArrayRef<int64_t> shape, uint64_t bytes,
                  Fill fill, bool zeroDimScalar = true) {
    return addTensor(name, typeName, shape, bytes, fill, zeroDimScalar);
  }
  llvm::Error add(llvm::StringRef name, llvm::StringRef typeName, llvm::ArrayRef<int64_t> shape,
                  llvm::ArrayRef<char> data, bool zeroDimScalar = true);
  /// Completes the file, syncs it and renames it into place.
  virtual llvm::Error finish() = 0;

protected:
  /// The chunks tensors stream through, kept from one tensor to the next.
  ScratchBuffer chunks_;

  virtual llvm::Error addTensor(llvm::StringRef name, llvm::StringRef typeName, llvm::ArrayRef<int64_t> shape,
                                uint64_t bytes, Fill fill, bool zeroDimScalar) = 0;
};

struct TensorWriterOptions {
  CheckpointFormat format = CheckpointFormat::Ckpt;
  /// fsync before the rename.
  bool sync = true;
  /// .ckpt only: MindSpore's block encryption. Safetensors has none, and is
  /// refused with a key.
  std::optional<CipherKey> encryptWith;
};

/// A writer of `path` in `options.format` for `planned`, which the tensors
/// added must follow in order (a .ckpt writer does not look at it).
llvm::Expected<std::unique_ptr<TensorWriter>> createTensorWriter(llvm::StringRef path,
                                                                 llvm::ArrayRef<PlannedTensor> planned,
                                                                 const TensorWriterOptions &options);

} // namespace dinfer

#endif // DINFER_FORMATS_TENSORWRITER_H
