//===- Buffer.h - host tensors of the runtime -----------------------------===//

#ifndef DINFER_RUNTIME_BUFFER_H
#define DINFER_RUNTIME_BUFFER_H

#include "dinfer/Formats/DType.h"
#include "dinfer/Formats/Npy.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace dinfer {

/// A dense, row-major, little-endian tensor in host memory: an NpyArray with
/// element access.
struct Buffer : NpyArray {
  Buffer() = default;
  Buffer(DType dtype, llvm::ArrayRef<int64_t> shape);
  explicit Buffer(NpyArray array) : NpyArray(std::move(array)) {}

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
