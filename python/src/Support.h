//===- Support.h - what the Python extension needs from dinfer --*- C++ -*-===//
//
// The bridge between pybind11 (built with exceptions and RTTI) and dinfer's
// libraries (built as LLVM builds: neither). Only standard types cross it;
// errors are returned as messages, never thrown.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PYTHON_SUPPORT_H
#define DINFER_PYTHON_SUPPORT_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dinfer::python {

/// One run of a `dinfer` subcommand in this process, as the executable runs it.
struct DriverResult {
  int exitCode = 0;
  std::string out, err;
};
using Progress = std::function<void(const std::string &phase, uint64_t done, uint64_t total)>;
/// Runs `dinfer <args...>` with stdout and stderr captured. `progress`, when
/// set, receives the progress of long work (from other threads too).
DriverResult runDriver(const std::vector<std::string> &args, Progress progress);
std::vector<std::string> commandNames();

/// A tensor's description as numpy names it ("float32", "int64", ...).
struct TensorInfo {
  std::string name;
  std::string dtype;    ///< numpy's name; bfloat16 is read as float32.
  std::string typeName; ///< As the checkpoint stores it ("Float32", "BFloat16").
  std::vector<int64_t> shape;
  bool readable = true; ///< False for strings and MapTensors (listed only).
};

/// A checkpoint file indexed without reading its tensors.
class CheckpointReader {
public:
  /// `key` (raw bytes) and `mode` ("AES-GCM", ...) decrypt an encrypted file.
  static std::unique_ptr<CheckpointReader> open(const std::string &path, const std::string &key,
                                                const std::string &mode, std::string &error);
  ~CheckpointReader();
  const std::vector<TensorInfo> &tensors() const;
  /// Fills `out` (numElements x the numpy dtype's size bytes) with tensor `index`.
  std::string read(size_t index, void *out, size_t bytes) const;

private:
  CheckpointReader();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A tensor to write: numpy's dtype name, its shape and contiguous data.
struct TensorData {
  std::string name, dtype;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  size_t bytes = 0;
};
/// Writes a checkpoint as MindSpore 1.7 writes it (atomically). Returns an
/// error message or "".
std::string writeCheckpoint(const std::string &path, const std::vector<TensorData> &tensors);

/// A strategy file's layout item.
struct LayoutItem {
  std::string name, param;
  std::vector<int64_t> stages, devMatrix, paramSplitShape, tensorShape;
  std::vector<std::vector<int64_t>> tensorMap; ///< Device axes per dimension, MindSpore's numbering; {-1}: none.
  int64_t field = 0, optShardStep = 0, optShardSize = 0;
  bool hasTensorShape = false;
};
std::string readStrategy(const std::string &path, std::vector<LayoutItem> &layouts, int64_t &currentStage);

/// The region of the full tensor that `rank` holds under a layout.
std::string rankSlice(const std::vector<int64_t> &shape, const LayoutItem &layout, int64_t rank,
                      std::vector<int64_t> &offset, std::vector<int64_t> &sliceShape);

} // namespace dinfer::python

#endif // DINFER_PYTHON_SUPPORT_H
