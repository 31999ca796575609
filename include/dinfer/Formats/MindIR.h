//===- MindIR.h - MindSpore MindIR models, read and written ---------------===//
//
// A MindIR file is a protobuf mind_ir.ModelProto (mindspore-formats.md
// section 1.1). Weights are inline (TensorProto.raw_data) or, past a size
// threshold, in external data: <prefix>_graph.mindir beside
// <prefix>_variables/data_N, each data file a 64-byte header then every
// parameter padded to 64 bytes. The reader accepts MindSpore 1.x and 2.x
// files; writing what was read from a 1.7 file gives the same bytes.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_MINDIR_H
#define DINFER_FORMATS_MINDIR_H

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/Crypto.h"
#include "dinfer/Layout/DType.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mind_ir {
class ModelProto;
class TensorProto;
} // namespace mind_ir

namespace dinfer {

/// A value's name, element type and shape.
struct MindIRValue {
  std::string name;           ///< Without the "<graph>:" prefix.
  std::optional<DType> dtype; ///< None when the type is not a tensor type dinfer knows.
  int32_t dataType = 0;       ///< mind_ir.TensorProto.DataType as stored.
  llvm::SmallVector<int64_t, 4> shape;
};

struct MindIRParameter : MindIRValue {
  uint64_t bytes = 0;
  /// External data: the path relative to the model's folder, and where the
  /// bytes are in it. Empty for inline data.
  std::string location;
  uint64_t offset = 0;
  int index = 0; ///< Position in graph.parameter.
  /// No bytes yet: a model built with weights pending gets them from
  /// WriteOptions::weights while it is written.
  bool pending = false;
};

struct MindIRNode {
  std::string name;
  std::string opType;    ///< The primitive: "MatMul"
  std::string opTypeRaw; ///< As stored: "REF::MatMul:3"
  std::vector<std::string> inputs, outputs;
};

struct MindIRGraph {
  std::string name;
  std::vector<MindIRNode> nodes;
};

class MindIRModel {
public:
  /// Supplies a pending parameter's bytes [offset, offset + out.size()), in
  /// increasing offsets.
  using WeightStream =
      std::function<llvm::Error(const MindIRParameter &parameter, uint64_t offset, llvm::MutableArrayRef<char> out)>;

  struct WriteOptions {
    /// Parameters above this many bytes in total go to external data
    /// (MindSpore 1.7: about 1 GiB).
    uint64_t externalThreshold = uint64_t(1) << 30;
    bool sync = true;
    /// Encrypt the file in MindSpore's block format (inline weights only).
    std::optional<CipherKey> encryptWith;
    /// The bytes of pending parameters, streamed into the file piece by piece
    /// (never a whole parameter in memory, unless the file is encrypted).
    WeightStream weights;
    /// Told the SHA-256 of every file written (hashed as it is written).
    std::function<void(llvm::StringRef path, llvm::StringRef sha256)> digests;
  };

  /// Reads a .mindir file (and checks the external data it references). An
  /// encrypted file is decrypted with `key` (by default the process key).
  static llvm::Expected<MindIRModel> open(llvm::StringRef path, const CipherKey *key);
  static llvm::Expected<MindIRModel> open(llvm::StringRef path) { return open(path, processKey()); }
  /// Takes over a model built in memory (parameters inline). With
  /// `weightsPending`, parameters without data are pending: their size comes
  /// from their type, their bytes from WriteOptions::weights.
  static llvm::Expected<MindIRModel> fromProto(std::unique_ptr<mind_ir::ModelProto> proto, llvm::StringRef name,
                                               bool weightsPending = false);
  /// Parses a model held in memory; `directory` resolves external data.
  static llvm::Expected<MindIRModel> parse(llvm::StringRef bytes, llvm::StringRef name, llvm::StringRef directory = "");

  MindIRModel(MindIRModel &&);
  MindIRModel &operator=(MindIRModel &&);
  ~MindIRModel();

  const std::string &path() const { return path_; }
  const mind_ir::ModelProto &proto() const { return *proto_; }
  mind_ir::ModelProto &proto() { return *proto_; }

  llvm::StringRef irVersion() const;
  llvm::StringRef producerVersion() const; ///< model_version: the MindSpore version.
  std::vector<MindIRValue> inputs() const;
  std::vector<MindIRValue> outputs() const;
  const std::vector<MindIRParameter> &parameters() const { return parameters_; }
  MindIRGraph mainGraph() const;
  std::vector<MindIRGraph> functions() const;

  /// The bytes of one parameter, inline or external.
  llvm::Expected<std::vector<char>> readParameter(const MindIRParameter &parameter) const;
  /// The same bytes without a copy: inside the model for inline data, a
  /// read-only mapping of the external data file otherwise.
  llvm::Expected<MappedBytes> mapParameter(const MindIRParameter &parameter) const;

  /// Writes the model to `path`: inline weights, or `<prefix>_graph.mindir`
  /// and `<prefix>_variables/` past the threshold (`path` then names the
  /// prefix). Outputs appear only when complete.
  llvm::Error write(llvm::StringRef path, const WriteOptions &options) const;
  llvm::Error write(llvm::StringRef path) const { return write(path, WriteOptions()); }

  /// What MindSpore 1.7's loader (anf_model_parser.cc) would refuse, one
  /// line each; empty when the file loads. Checks the version fields, the
  /// byte order, every parameter's data (inline size, or external data in
  /// range behind a little-endian header), every node's primitive or
  /// sub-graph, inputs defined before use, constants with a value, and the
  /// graph outputs.
  std::vector<std::string> loaderProblems() const;

private:
  MindIRModel();
  llvm::Error index(bool weightsPending = false);

  std::string path_, directory_;
  std::unique_ptr<mind_ir::ModelProto> proto_;
  std::vector<MindIRParameter> parameters_;
};

/// MindIR's TensorProto.DataType as a dinfer dtype.
std::optional<DType> dtypeFromMindIR(int32_t dataType);
int32_t dtypeToMindIR(DType type);

} // namespace dinfer

#endif // DINFER_FORMATS_MINDIR_H
