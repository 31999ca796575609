//===- DType.cpp - element types as MindSpore names them ------------------===//

#include "dinfer/Layout/DType.h"

#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <cstring>

using namespace dinfer;

llvm::StringRef dinfer::dtypeName(DType type) {
  switch (type) {
  case DType::Bool: return "Bool";
  case DType::Int4: return "Int4";
  case DType::Int8: return "Int8";
  case DType::UInt8: return "UInt8";
  case DType::Int16: return "Int16";
  case DType::UInt16: return "UInt16";
  case DType::Int32: return "Int32";
  case DType::UInt32: return "UInt32";
  case DType::Int64: return "Int64";
  case DType::UInt64: return "UInt64";
  case DType::Float16: return "Float16";
  case DType::BFloat16: return "BFloat16";
  case DType::Float32: return "Float32";
  case DType::Float64: return "Float64";
  case DType::String: return "str";
  }
  return "?";
}

std::optional<DType> dinfer::parseDType(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name)
      .Cases({"Bool", "bool"}, DType::Bool)
      .Cases({"Int4", "int4", "qint4x2"}, DType::Int4)
      .Cases({"Int8", "int8"}, DType::Int8)
      .Cases({"UInt8", "uint8"}, DType::UInt8)
      .Cases({"Int16", "int16"}, DType::Int16)
      .Cases({"UInt16", "uint16"}, DType::UInt16)
      .Cases({"Int32", "int32"}, DType::Int32)
      .Cases({"UInt32", "uint32"}, DType::UInt32)
      .Cases({"Int64", "int64"}, DType::Int64)
      .Cases({"UInt64", "uint64"}, DType::UInt64)
      .Cases({"Float16", "float16"}, DType::Float16)
      .Cases({"BFloat16", "bfloat16"}, DType::BFloat16)
      .Cases({"Float32", "float32"}, DType::Float32)
      .Cases({"Float64", "float64"}, DType::Float64)
      .Case("str", DType::String)
      .Default(std::nullopt);
}

unsigned dinfer::dtypeBits(DType type) {
  switch (type) {
  case DType::Int4: return 4;
  case DType::Bool:
  case DType::Int8:
  case DType::UInt8: return 8;
  case DType::Int16:
  case DType::UInt16:
  case DType::Float16:
  case DType::BFloat16: return 16;
  case DType::Int32:
  case DType::UInt32:
  case DType::Float32:
  case DType::String: return 32;
  case DType::Int64:
  case DType::UInt64:
  case DType::Float64: return 64;
  }
  return 0;
}

bool dinfer::isFloatingPoint(DType type) {
  return type == DType::Float16 || type == DType::BFloat16 || type == DType::Float32 || type == DType::Float64;
}

namespace {
uint32_t bitsOf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
}

float floatOf(uint32_t x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t floatToHalf(float value) {
  uint32_t x = bitsOf(value);
  uint32_t sign = (x >> 16) & 0x8000, mantissa = x & 0x7fffff;
  int32_t exponent = static_cast<int32_t>((x >> 23) & 0xff);
  if (exponent == 0xff) // infinity or NaN (kept quiet)
    return static_cast<uint16_t>(sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >> 13) : 0));
  int32_t e = exponent - 127 + 15;
  if (e >= 0x1f)
    return static_cast<uint16_t>(sign | 0x7c00);
  if (e <= 0) { // a subnormal half, or zero
    if (e < -10)
      return static_cast<uint16_t>(sign);
    mantissa |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mantissa >> shift, rest = mantissa & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1)))
      ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half; // a carry into the exponent rounds up correctly, to infinity at worst
  return static_cast<uint16_t>(half);
}

float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  int32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  if (exponent == 0) {
    if (mantissa == 0)
      return floatOf(sign);
    exponent = 1;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      --exponent;
    }
    mantissa &= 0x3ff;
  } else if (exponent == 0x1f) {
    return floatOf(sign | 0x7f800000 | (mantissa << 13));
  }
  return floatOf(sign | (static_cast<uint32_t>(exponent + 127 - 15) << 23) | (mantissa << 13));
}

/// Round to nearest even; a NaN stays a (quiet) NaN. Without branches, so
/// that loops over it vectorize.
inline uint16_t floatToBFloat(float value) {
  uint32_t x = bitsOf(value);
  uint16_t rounded = static_cast<uint16_t>((x + 0x7fff + ((x >> 16) & 1)) >> 16);
  uint16_t quiet = static_cast<uint16_t>((x >> 16) | 0x40);
  return (x & 0x7fffffff) > 0x7f800000 ? quiet : rounded;
}

/// `count` elements converted one by one, inlined into each clone below so
/// that every clone vectorizes the loop for its own vectors.
template <typename From, typename To, To (*convert)(From)>
inline void convertEach(const char *in, char *out, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    From value;
    std::memcpy(&value, in + sizeof(From) * i, sizeof(From));
    To converted = convert(value);
    std::memcpy(out + sizeof(To) * i, &converted, sizeof(To));
  }
}

/// halfToFloat without branches, so that loops over it vectorize: the
/// exponent is rebiased in place; a subnormal half becomes a normal float
/// by subtracting the float whose exponent its bits were rebiased to (no
/// subnormal float arithmetic, which flush-to-zero modes would change).
inline float halfToFloatBranchFree(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h & 0x7fff) << 13;
  uint32_t exponent = bits & 0x0f800000;
  uint32_t normal = bits + ((127 - 15) << 23);
  uint32_t special = normal + ((128 - 16) << 23); // infinity or NaN
  float subnormal = floatOf(normal + (1u << 23)) - floatOf(113u << 23);
  uint32_t magnitude = exponent == 0x0f800000 ? special : exponent == 0 ? bitsOf(subnormal) : normal;
  return floatOf(magnitude | static_cast<uint32_t>(h & 0x8000) << 16);
}

// Compiled for the widest vectors the CPU has, chosen at load time; the
// baseline keeps the binary portable.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define DINFER_CONVERSION_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DINFER_CONVERSION_CLONES
#endif

DINFER_CONVERSION_CLONES void floatsToBFloats(const char *in, char *out, size_t count) {
  convertEach<float, uint16_t, floatToBFloat>(in, out, count);
}

float bfloatToFloat(uint16_t b) { return floatOf(static_cast<uint32_t>(b) << 16); }

DINFER_CONVERSION_CLONES void bfloatsToFloats(const char *in, char *out, size_t count) {
  convertEach<uint16_t, float, bfloatToFloat>(in, out, count);
}

DINFER_CONVERSION_CLONES void halvesToFloats(const char *in, char *out, size_t count) {
  convertEach<uint16_t, float, halfToFloatBranchFree>(in, out, count);
}

float load(DType type, const char *p) {
  switch (type) {
  case DType::Float16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return halfToFloat(h);
  }
  case DType::BFloat16: {
    uint16_t b;
    std::memcpy(&b, p, 2);
    return bfloatToFloat(b);
  }
  case DType::Float64: {
    double d;
    std::memcpy(&d, p, 8);
    return static_cast<float>(d);
  }
  default: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  }
}
} // namespace

void dinfer::convertFloats(DType from, DType to, const char *in, char *out, size_t count) {
  // The conversion resharding asks for most (`--dtype bfloat16`) as a
  // branch-free loop the compiler vectorizes: the generic loop below runs at
  // a fraction of memory speed.
  if (from == DType::Float32 && to == DType::BFloat16)
    return floatsToBFloats(in, out, count);
  if (from == DType::Float16 && to == DType::Float32)
    return halvesToFloats(in, out, count);
  if (from == DType::BFloat16 && to == DType::Float32)
    return bfloatsToFloats(in, out, count);
  size_t inBytes = dtypeBits(from) / 8, outBytes = dtypeBits(to) / 8;
  for (size_t i = 0; i < count; ++i, in += inBytes, out += outBytes) {
    if (from == DType::Float64 && to == DType::Float64) {
      std::memcpy(out, in, 8);
      continue;
    }
    float value = load(from, in);
    switch (to) {
    case DType::Float16: {
      uint16_t h = floatToHalf(value);
      std::memcpy(out, &h, 2);
      break;
    }
    case DType::BFloat16: {
      uint16_t b = floatToBFloat(value);
      std::memcpy(out, &b, 2);
      break;
    }
    case DType::Float64: {
      double d = value;
      std::memcpy(out, &d, 8);
      break;
    }
    default:
      std::memcpy(out, &value, 4);
    }
  }
}
