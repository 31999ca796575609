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

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
class TensorProto;
} // namespace onnx

namespace dinfer {

class OnnxModel {
public:
  static llvm::Expected<OnnxModel> open(llvm::StringRef path);
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
