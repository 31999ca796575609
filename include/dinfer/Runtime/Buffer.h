//===- Buffer.h - host tensors of the runtime -----------------------------===//

#ifndef DINFER_RUNTIME_BUFFER_H
#define DINFER_RUNTIME_BUFFER_H

#include "dinfer/Layout/DType.h"
#include "dinfer/Formats/Npy.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cassert>
#include <memory>
#include <vector>

namespace dinfer {

/// A dense, row-major, little-endian tensor in host memory: an NpyArray with
/// element access. A buffer either owns its bytes (`data`) or is a read-only
/// view of bytes that something else keeps alive (weights inside the module
/// or a mapped file), so that weights are never copied to be read.
struct Buffer : NpyArray {
  Buffer() = default;
  Buffer(DType dtype, llvm::ArrayRef<int64_t> shape);
  explicit Buffer(NpyArray array) : NpyArray(std::move(array)) {}
  /// A view of `bytes` (numElements × elementBytes of them), kept valid by
  /// `owner` when given, otherwise by the caller.
  static Buffer view(DType dtype, llvm::ArrayRef<int64_t> shape, const char *bytes,
                     std::shared_ptr<const void> owner = nullptr);

  bool isView() const { return viewBytes != nullptr; }
  const char *bytes() const { return viewBytes ? viewBytes : data.data(); }
  size_t byteSize() const { return static_cast<size_t>(numElements()) * elementBytes(); }
  /// Copies a view's bytes into `data`; an owning buffer stays as it is.
  void materialize();
  /// A copy of the box at `offset` of extent `shape` (one rank's slice).
  Buffer region(llvm::ArrayRef<int64_t> offset, llvm::ArrayRef<int64_t> shape) const;

  size_t elementBytes() const { return dtypeBits(dtype) / 8; }
  template <typename T>
  T *as() {
    assert(!viewBytes && "a view is read-only");
    return reinterpret_cast<T *>(data.data());
  }
  template <typename T>
  const T *as() const {
    return reinterpret_cast<const T *>(bytes());
  }

  /// Element `i` as a double / set from a double (numpy's astype rules:
  /// floats truncate toward zero into integers, non-zero is true).
  double get(int64_t i) const;
  void set(int64_t i, double value);

  /// Inside a run only: a rank-4 [N, C, H, W] tensor whose bytes are in
  /// [N, H, W, C] order, as convolutions leave it for the next one. Kernels
  /// that do not ask for it get the row-major bytes (Interpreter::in).
  bool channelsLast = false;

private:
  const char *viewBytes = nullptr;
  std::shared_ptr<const void> viewOwner;
};

} // namespace dinfer

#endif // DINFER_RUNTIME_BUFFER_H
