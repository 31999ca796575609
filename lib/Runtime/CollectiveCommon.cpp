//===- CollectiveCommon.cpp - what every communicator shares --------------===//

#include "CollectiveCommon.h"

#include "llvm/ADT/StringExtras.h"

using namespace dinfer;

Communicator::~Communicator() = default;

std::string dinfer::groupText(llvm::ArrayRef<int> group) {
  return "[" + llvm::join(llvm::map_range(group, [](int r) { return std::to_string(r); }), ",") + "]";
}

namespace {

template <typename T>
T combine(T a, T b, ReduceOp op) {
  switch (op) {
  case ReduceOp::Sum: return a + b;
  case ReduceOp::Max: return a > b ? a : b;
  case ReduceOp::Min: return a < b ? a : b;
  case ReduceOp::Prod: return a * b;
  }
  return a;
}

/// out[i] = in_0[i] op in_1[i] op ... in group order.
template <typename T>
void reduceTyped(llvm::ArrayRef<const char *> inputs, size_t offset, char *out, size_t count, ReduceOp op) {
  T *o = reinterpret_cast<T *>(out);
  for (size_t i = 0; i < count; ++i) {
    T acc = reinterpret_cast<const T *>(inputs[0] + offset)[i];
    for (size_t k = 1; k < inputs.size(); ++k)
      acc = combine(acc, reinterpret_cast<const T *>(inputs[k] + offset)[i], op);
    o[i] = acc;
  }
}

void reduceHalf(DType dtype, llvm::ArrayRef<const char *> inputs, size_t offset, char *out, size_t count, ReduceOp op) {
  for (size_t i = 0; i < count; ++i) {
    float acc;
    convertFloats(dtype, DType::Float32, inputs[0] + offset + 2 * i, reinterpret_cast<char *>(&acc), 1);
    for (size_t k = 1; k < inputs.size(); ++k) {
      float v;
      convertFloats(dtype, DType::Float32, inputs[k] + offset + 2 * i, reinterpret_cast<char *>(&v), 1);
      acc = combine(acc, v, op);
    }
    convertFloats(DType::Float32, dtype, reinterpret_cast<const char *>(&acc), out + 2 * i, 1);
  }
}

} // namespace

llvm::Error dinfer::reduceInGroupOrder(DType dtype, llvm::ArrayRef<const char *> inputs, size_t offset, char *out,
                                       size_t count, ReduceOp op) {
  switch (dtype) {
  case DType::Float32: reduceTyped<float>(inputs, offset, out, count, op); break;
  case DType::Float64: reduceTyped<double>(inputs, offset, out, count, op); break;
  case DType::Int8: reduceTyped<int8_t>(inputs, offset, out, count, op); break;
  case DType::UInt8: reduceTyped<uint8_t>(inputs, offset, out, count, op); break;
  case DType::Int16: reduceTyped<int16_t>(inputs, offset, out, count, op); break;
  case DType::UInt16: reduceTyped<uint16_t>(inputs, offset, out, count, op); break;
  case DType::Int32: reduceTyped<int32_t>(inputs, offset, out, count, op); break;
  case DType::UInt32: reduceTyped<uint32_t>(inputs, offset, out, count, op); break;
  case DType::Int64: reduceTyped<int64_t>(inputs, offset, out, count, op); break;
  case DType::UInt64: reduceTyped<uint64_t>(inputs, offset, out, count, op); break;
  case DType::Float16:
  case DType::BFloat16: reduceHalf(dtype, inputs, offset, out, count, op); break;
  default:
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot reduce elements of type " + dtypeName(dtype).str());
  }
  return llvm::Error::success();
}
