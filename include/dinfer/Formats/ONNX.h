//===- ONNX.h - ONNX models through libonnx's protobuf classes -------------===//
//
// Reads an ONNX ModelProto (libonnx's generated classes, ONNX_ML build) and
// its weights: initializers, raw or in typed fields, and external data kept
// inside the model's folder.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_ONNX_H
#define DINFER_FORMATS_ONNX_H

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Layout/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace onnx {
class ModelProto;
class TensorProto;
} // namespace onnx

namespace dinfer {

class OnnxModel {
public:
  /// The model in the file at `path`, mapped: initializers' raw_data are read
  /// where they lie in the file, never copied into the parsed message.
  static llvm::Expected<OnnxModel> open(llvm::StringRef path);
  /// The same from a buffer the model keeps (`path` names it in errors).
  static llvm::Expected<OnnxModel> fromFile(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef path,
                                            llvm::StringRef directory);
  static llvm::Expected<OnnxModel> parse(llvm::StringRef bytes, llvm::StringRef name, llvm::StringRef directory = "");

  OnnxModel(OnnxModel &&);
  OnnxModel &operator=(OnnxModel &&);
  ~OnnxModel();

  const std::string &path() const { return path_; }
  const onnx::ModelProto &proto() const { return *proto_; }
  /// The opset of the default ("" / "ai.onnx") domain.
  int64_t opset() const;

  /// The little-endian bytes of a tensor (raw_data, typed fields or external data).
  llvm::Expected<std::vector<char>> tensorBytes(const onnx::TensorProto &tensor) const;
  /// The same bytes without a copy where they lie ready: raw_data inside the
  /// model, or a mapping of the external data file; typed fields are packed.
  llvm::Expected<MappedBytes> mapTensor(const onnx::TensorProto &tensor) const;

private:
  OnnxModel();
  std::string path_, directory_;
  std::unique_ptr<onnx::ModelProto> proto_;
  /// A model opened from a file: the file, mapped, and where each
  /// initializer's raw_data lies in it (the parsed message holds none).
  std::shared_ptr<llvm::MemoryBuffer> file_;
  llvm::DenseMap<const onnx::TensorProto *, llvm::ArrayRef<char>> inFile_;
};

struct NpyArray;

/// A serialized onnx.TensorProto (an ONNX test's input_N.pb) as an array.
llvm::Expected<NpyArray> parseOnnxTensor(llvm::StringRef bytes, llvm::StringRef fileName);
/// An array as serialized onnx.TensorProto bytes named `name`.
std::string serializeOnnxTensor(const NpyArray &array, llvm::StringRef name);

/// ONNX's TensorProto.DataType as a dinfer dtype.
std::optional<DType> dtypeFromOnnx(int32_t dataType);

} // namespace dinfer

#endif // DINFER_FORMATS_ONNX_H
