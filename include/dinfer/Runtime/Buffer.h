//===- Buffer.h - host tensors of the runtime -----------------------------===//

#ifndef DINFER_RUNTIME_BUFFER_H
#define DINFER_RUNTIME_BUFFER_H

#include "dinfer/Formats/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace dinfer {

/// A dense, row-major, little-endian tensor in host memory.
struct Buffer {
  DType dtype = DType::Float32;
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<char> data;

  Buffer() = default;
  Buffer(DType dtype, llvm::ArrayRef<int64_t> shape);

  int64_t numElements() const;
  size_t elementBytes() const { return dtypeBits(dtype) / 8; }
  template <typename T>
  T *as() {
    return reinterpret_cast<T *>(data.data());
  }
  template <typename T>
  const T *as() const {
    return reinterpret_cast<const T *>(data.data());
  }

  /// Element `i` as a double / set from a double (numpy's astype rules:
  /// floats truncate toward zero into integers, non-zero is true).
  double get(int64_t i) const;
  void set(int64_t i, double value);
};

} // namespace dinfer

#endif // DINFER_RUNTIME_BUFFER_H
