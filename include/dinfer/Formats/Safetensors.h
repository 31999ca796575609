//===- Safetensors.h - Hugging Face's safetensors files -------------------===//
//
// A safetensors file is an 8-byte little-endian header size N, N bytes of
// JSON naming every tensor's dtype, shape and byte range, then the data
// (docs/contracts.md section 10, docs/formats.md). Checkpoint::open reads
// one, or a Hugging Face folder of shards with its index, as a Checkpoint:
// the header is parsed with LLVM's JSON support and tensors are read in place,
// never copied whole. SafetensorsWriter writes one, with a SHA-256 of the data
// section in `__metadata__` that the reader verifies.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_SAFETENSORS_H
#define DINFER_FORMATS_SAFETENSORS_H

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Formats/TensorWriter.h"
#include "dinfer/Layout/DType.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dinfer {

/// The index of a sharded Hugging Face folder.
inline constexpr llvm::StringLiteral kSafetensorsIndexName = "model.safetensors.index.json";
/// The `__metadata__` key holding the data section's SHA-256.
inline constexpr llvm::StringLiteral kSafetensorsDigestKey = "dinfer_sha256";

/// safetensors' name for a dtype ("F32", "BF16"); none for types it lacks
/// (Int4, str).
std::optional<llvm::StringRef> safetensorsDType(DType type);
/// The dtype of a safetensors name; none for F8_E4M3 and F8_E5M2, which are
/// listed and carried through but never converted.
std::optional<DType> dtypeFromSafetensors(llvm::StringRef name);

/// Whether a file of `size` bytes starting with `head` is safetensors: a
/// plausible header size (at most the format's 100 MB), then `{`.
bool looksLikeSafetensors(llvm::ArrayRef<char> head, uint64_t size);

/// What a safetensors header says.
struct SafetensorsHeader {
  /// Where the data section starts: 8 + the header size.
  uint64_t dataOffset = 0;
  /// In the order of their data; each has one segment, offsets absolute.
  std::vector<CheckpointTensor> tensors;
  std::map<std::string, std::string> metadata;
};

/// Parses and checks the header of `source`: offsets inside the data
/// section and not overlapping, byte counts that match dtype and shape, known
/// dtypes. Errors name the file and the tensor.
llvm::Expected<SafetensorsHeader> readSafetensorsHeader(const ByteSource &source);

class SafetensorsWriter : public TensorWriter {
public:
  struct Options {
    bool sync = true;
    /// Extra `__metadata__` entries (besides "format": "pt" and the digest).
    std::map<std::string, std::string> metadata;
  };

  /// Writes the header for `planned` (the tensors must then be added in that
  /// order); the digest is filled in by finish().
  static llvm::Expected<std::unique_ptr<SafetensorsWriter>> create(llvm::StringRef path,
                                                                   llvm::ArrayRef<PlannedTensor> planned,
                                                                   Options options);
  ~SafetensorsWriter() override;
  llvm::Error finish() override;

protected:
  llvm::Error addTensor(llvm::StringRef name, llvm::StringRef typeName, llvm::ArrayRef<int64_t> shape,
                        uint64_t bytes, Fill fill, bool zeroDimScalar) override;

private:
  SafetensorsWriter() = default;

  std::unique_ptr<AtomicFile> file_;
  Options options_;
  std::vector<PlannedTensor> planned_;
  size_t next_ = 0;
  /// Where the digest's 64 hex digits sit in the file.
  uint64_t digestOffset_ = 0;
  Sha256 digest_;
  bool finished_ = false;
};

} // namespace dinfer

#endif // DINFER_FORMATS_SAFETENSORS_H
