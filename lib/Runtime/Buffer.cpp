//===- Buffer.cpp - host tensors of the runtime ---------------------------===//

#include "dinfer/Runtime/Buffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace dinfer;

Buffer::Buffer(DType type, llvm::ArrayRef<int64_t> dims) {
  dtype = type;
  shape.assign(dims.begin(), dims.end());
  data.assign(static_cast<size_t>(numElements()) * elementBytes(), 0);
}

Buffer Buffer::view(DType type, llvm::ArrayRef<int64_t> dims, const char *bytes, std::shared_ptr<const void> owner) {
  Buffer buffer;
  buffer.dtype = type;
  buffer.shape.assign(dims.begin(), dims.end());
  buffer.viewBytes = bytes;
  buffer.viewOwner = std::move(owner);
  return buffer;
}

void Buffer::materialize() {
  if (!viewBytes)
    return;
  data.assign(viewBytes, viewBytes + byteSize());
  viewBytes = nullptr;
  viewOwner.reset();
}

Buffer Buffer::region(llvm::ArrayRef<int64_t> offset, llvm::ArrayRef<int64_t> extent) const {
  Buffer part(dtype, extent);
  size_t rank = shape.size(), e = elementBytes();
  if (part.numElements() == 0)
    return part;
  if (rank == 0) {
    std::memcpy(part.data.data(), bytes(), e);
    return part;
  }
  // Rows along the last dimension are contiguous: one copy each.
  llvm::SmallVector<int64_t, 4> strides(rank, 1), index(rank - 1, 0);
  for (size_t d = rank - 1; d-- > 0;)
    strides[d] = strides[d + 1] * shape[d + 1];
  int64_t row = extent[rank - 1], rows = part.numElements() / row;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t source = offset[rank - 1];
    for (size_t d = 0; d + 1 < rank; ++d)
      source += (offset[d] + index[d]) * strides[d];
    std::memcpy(part.data.data() + r * row * e, bytes() + source * e, row * e);
    for (size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < extent[d])
        break;
      index[d] = 0;
    }
  }
  return part;
}

double Buffer::get(int64_t i) const {
  const char *p = bytes() + i * elementBytes();
  switch (dtype) {
  case DType::Bool: return *reinterpret_cast<const uint8_t *>(p) != 0;
  case DType::Int8: return *reinterpret_cast<const int8_t *>(p);
  case DType::UInt8: return *reinterpret_cast<const uint8_t *>(p);
  case DType::Int16: return *reinterpret_cast<const int16_t *>(p);
  case DType::UInt16: return *reinterpret_cast<const uint16_t *>(p);
  case DType::Int32: return *reinterpret_cast<const int32_t *>(p);
  case DType::UInt32: return *reinterpret_cast<const uint32_t *>(p);
  case DType::Int64: return static_cast<double>(*reinterpret_cast<const int64_t *>(p));
  case DType::UInt64: return static_cast<double>(*reinterpret_cast<const uint64_t *>(p));
  case DType::Float32: return *reinterpret_cast<const float *>(p);
  case DType::Float64: return *reinterpret_cast<const double *>(p);
  case DType::Float16:
  case DType::BFloat16: {
    float f;
    convertFloats(dtype, DType::Float32, p, reinterpret_cast<char *>(&f), 1);
    return f;
  }
  case DType::Int4:
  case DType::String: return 0;
  }
  return 0;
}

void Buffer::set(int64_t i, double value) {
  char *p = data.data() + i * elementBytes();
  // Through int64 so that out-of-range values wrap as numpy's casts do.
  auto integer = [&](auto tag) {
    using T = decltype(tag);
    double t = std::isfinite(value) ? std::trunc(value) : 0.0;
    T v = t >= 9.2e18 ? static_cast<T>(static_cast<uint64_t>(t))
                      : static_cast<T>(static_cast<int64_t>(std::max(t, -9.2e18)));
    std::memcpy(p, &v, sizeof(T));
  };
  switch (dtype) {
  case DType::Bool: *reinterpret_cast<uint8_t *>(p) = value != 0; return;
  case DType::Int8: return integer(int8_t());
  case DType::UInt8: return integer(uint8_t());
  case DType::Int16: return integer(int16_t());
  case DType::UInt16: return integer(uint16_t());
  case DType::Int32: return integer(int32_t());
  case DType::UInt32: return integer(uint32_t());
  case DType::Int64: return integer(int64_t());
  case DType::UInt64: return integer(uint64_t());
  case DType::Float32: {
    float f = static_cast<float>(value);
    std::memcpy(p, &f, 4);
    return;
  }
  case DType::Float64: std::memcpy(p, &value, 8); return;
  case DType::Float16:
  case DType::BFloat16: {
    float f = static_cast<float>(value);
    convertFloats(DType::Float32, dtype, reinterpret_cast<const char *>(&f), p, 1);
    return;
  }
  case DType::Int4:
  case DType::String: return;
  }
}
