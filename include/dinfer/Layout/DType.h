//===- DType.h - element types as MindSpore names them --------------------===//

#ifndef DINFER_LAYOUT_DTYPE_H
#define DINFER_LAYOUT_DTYPE_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace dinfer {

/// Element types of checkpoints, MindIR tensors and runtime buffers.
enum class DType : uint8_t {
  Bool,
  Int4, // MindSpore 2.x qint4x2: two values per byte
  Int8,
  UInt8,
  Int16,
  UInt16,
  Int32,
  UInt32,
  Int64,
  UInt64,
  Float16,
  BFloat16,
  Float32,
  Float64,
  String, // 2.x append_dict strings: numpy unicode, 4 bytes per character
};

/// MindSpore's name: "Float32", "BFloat16", "str", ...
llvm::StringRef dtypeName(DType type);
/// Accepts MindSpore's names and numpy's lowercase ones ("float32", "bool").
std::optional<DType> parseDType(llvm::StringRef name);
/// Bits per element (4 for Int4, 32 per character for String).
unsigned dtypeBits(DType type);
bool isFloatingPoint(DType type);

/// Converts floating-point elements between Float16, BFloat16, Float32 and
/// Float64, rounding to nearest even (as numpy does). `out` must hold as many
/// elements as `in`.
void convertFloats(DType from, DType to, const char *in, char *out, size_t count);

} // namespace dinfer

#endif // DINFER_LAYOUT_DTYPE_H
