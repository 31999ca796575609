//===- Checkpoint.h - MindSpore checkpoints (.ckpt), indexed and streamed --===//
//
// A checkpoint is a sequence of protobuf messages, one (name, tensor) value
// each (docs/mindspore-formats.md section 4). The reader indexes
// a file without reading tensor data: names, dtypes, shapes and the byte
// ranges of every tensor's content; any range of one tensor is then read on
// demand with pread. It accepts what MindSpore 1.x and 2.x write: scalars
// with dims [0] or none, tensors split over consecutive values, the 2.x CRC
// trailer, every dtype including BFloat16, Int4 and str.
//
// The same class reads safetensors (Safetensors.h): one file, or a Hugging
// Face folder of shards with its index, whose tensors then come from several
// files. Everything that takes a checkpoint takes those.
//
// The writer produces MindSpore 1.7's bytes (unpacked dims, scalars as [0],
// tensors over 512 MiB split as 1.7 splits them), streams each tensor from a
// callback, writes under a temporary name and renames when complete.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_CHECKPOINT_H
#define DINFER_FORMATS_CHECKPOINT_H

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/Crypto.h"
#include "dinfer/Layout/DType.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Formats/TensorWriter.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dinfer {

/// One tensor of a checkpoint.
struct CheckpointTensor {
  struct Segment {
    uint64_t offset; ///< Byte offset of this part of the content in the file.
    uint64_t size;
  };

  std::string name;
  std::string typeName;                ///< As stored: "Float32", "BFloat16", "str", ...
  std::optional<DType> dtype;          ///< None for a type name dinfer does not know.
  llvm::SmallVector<int64_t, 4> shape; ///< Empty for a scalar.
  /// The file stores the scalar with dims [0] (MindSpore up to 2.2).
  bool zeroDimScalar = false;
  /// A 2.x MapTensor entry: listed and carried through, never decoded.
  bool isMapTensor = false;
  llvm::SmallVector<Segment, 1> segments;
  uint64_t bytes = 0;
  /// Which of the checkpoint's files holds the segments (a sharded folder).
  uint32_t file = 0;

  int64_t numElements() const;
};

class Checkpoint {
public:
  /// The state of an integrity check the file carries: MindSpore 2.x's CRC
  /// trailer, or the SHA-256 dinfer writes into a safetensors header.
  enum class Check { Absent, Unchecked, Ok };
  using Crc = Check;

  /// Opens and indexes a checkpoint: a .ckpt, a safetensors file, or a
  /// folder holding model.safetensors.index.json and its shards. An
  /// encrypted .ckpt is decrypted into memory with `key` (by default the
  /// process key, Crypto.h); without one it is an error that says the file is
  /// encrypted.
  static llvm::Expected<Checkpoint> open(llvm::StringRef path, const CipherKey *key);
  static llvm::Expected<Checkpoint> open(llvm::StringRef path) { return open(path, processKey()); }
  /// Indexes a checkpoint held by `source` (either format, by its content).
  static llvm::Expected<Checkpoint> index(std::unique_ptr<ByteSource> source);

  Checkpoint(Checkpoint &&) noexcept = default;
  Checkpoint &operator=(Checkpoint &&) noexcept = default;
  Checkpoint(const Checkpoint &) = delete;
  Checkpoint &operator=(const Checkpoint &) = delete;

  /// The file, or the sharded folder.
  const std::string &path() const { return path_; }
  CheckpointFormat format() const { return format_; }
  llvm::ArrayRef<CheckpointTensor> tensors() const { return tensors_; }
  const CheckpointTensor *find(llvm::StringRef name) const;

  Check crc() const { return crc_; }
  Check sha256() const { return sha256_; }
  /// Checks what the files carry (the 2.x CRC trailer, dinfer's SHA-256 of a
  /// safetensors data section) against their content (reads the files); a
  /// mismatch is an error naming the file.
  llvm::Error verifyIntegrity();

  /// Reads `out.size()` bytes of `tensor`'s content starting at `offset`.
  llvm::Error read(const CheckpointTensor &tensor, uint64_t offset, llvm::MutableArrayRef<char> out) const;

private:
  Checkpoint() = default;
  static llvm::Expected<Checkpoint> openShardedFolder(llvm::StringRef dir);
  llvm::Error addSafetensors(std::unique_ptr<ByteSource> source);
  llvm::Error indexNames();

  /// A safetensors file's data section and the digest its header states.
  struct Digest {
    uint64_t dataOffset = 0;
    std::string expected;
  };

  std::string path_;
  CheckpointFormat format_ = CheckpointFormat::Ckpt;
  std::vector<std::unique_ptr<ByteSource>> sources_;
  std::vector<std::optional<Digest>> digests_; ///< per source
  std::vector<CheckpointTensor> tensors_;
  llvm::StringMap<size_t> byName_;
  Check crc_ = Check::Absent;
  Check sha256_ = Check::Absent;
  uint64_t crcValue_ = 0;
  uint64_t contentEnd_ = 0;
};

/// Streams a checkpoint to disk in MindSpore 1.7's byte layout.
class CheckpointWriter : public TensorWriter {
public:
  struct Options {
    /// Append MindSpore 2.x's CRC trailer.
    bool crc = false;
    /// fsync before the rename.
    bool sync = true;
    /// Tensors above this many bytes are split over several values, as 1.7
    /// splits them (512 MiB).
    uint64_t sliceBytes = uint64_t(512) << 20;
    /// Encrypt the file in MindSpore's block format (the content is then
    /// built in memory). Not with `crc`, as in MindSpore.
    std::optional<CipherKey> encryptWith;
  };

  static llvm::Expected<std::unique_ptr<CheckpointWriter>> create(llvm::StringRef path, Options options);
  static llvm::Expected<std::unique_ptr<CheckpointWriter>> create(llvm::StringRef path) {
    return create(path, Options());
  }

  /// Writes the trailer, syncs and renames the file into place.
  llvm::Error finish() override;

protected:
  llvm::Error addTensor(llvm::StringRef name, llvm::StringRef typeName, llvm::ArrayRef<int64_t> shape, uint64_t bytes,
                        Fill fill, bool zeroDimScalar) override;

private:
  CheckpointWriter() = default;
  llvm::Error writeBytes(llvm::ArrayRef<char> bytes);

  std::unique_ptr<AtomicFile> file_;
  Options options_;
  std::string plain_; ///< The content, when it is encrypted at finish().
  uint32_t crc_ = 0;
  bool finished_ = false;
};

} // namespace dinfer

#endif // DINFER_FORMATS_CHECKPOINT_H
