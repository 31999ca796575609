//===- DTypeTest.cpp - dtype names and float conversions ------------------===//

#include "dinfer/Layout/DType.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using namespace dinfer;

namespace {

uint16_t toHalf(float f) {
  uint16_t h;
  convertFloats(DType::Float32, DType::Float16, reinterpret_cast<const char *>(&f), reinterpret_cast<char *>(&h), 1);
  return h;
}

float fromHalf(uint16_t h) {
  float f;
  convertFloats(DType::Float16, DType::Float32, reinterpret_cast<const char *>(&h), reinterpret_cast<char *>(&f), 1);
  return f;
}

uint16_t toBFloat(float f) {
  uint16_t b;
  convertFloats(DType::Float32, DType::BFloat16, reinterpret_cast<const char *>(&f), reinterpret_cast<char *>(&b),
                1);
  return b;
}

TEST(DType, Names) {
  EXPECT_EQ(parseDType("Float32"), DType::Float32);
  EXPECT_EQ(parseDType("bfloat16"), DType::BFloat16);
  EXPECT_EQ(parseDType("str"), DType::String);
  EXPECT_EQ(parseDType("Float99"), std::nullopt);
  EXPECT_EQ(dtypeName(DType::UInt64), "UInt64");
  EXPECT_EQ(dtypeBits(DType::Int4), 4u);
}

TEST(DType, HalfConversionEdges) {
  EXPECT_EQ(toHalf(1.0f), 0x3c00);
  EXPECT_EQ(toHalf(-2.0f), 0xc000);
  EXPECT_EQ(toHalf(65504.0f), 0x7bff);                   // the largest half
  EXPECT_EQ(toHalf(65520.0f), 0x7c00);                   // rounds up to infinity
  EXPECT_EQ(toHalf(std::ldexp(1.0f, -24)), 0x0001);      // the smallest subnormal
  EXPECT_EQ(toHalf(std::ldexp(1.0f, -26)), 0x0000);      // below half of it: zero
  EXPECT_EQ(toHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // halfway: to even
  EXPECT_EQ(toHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(toHalf(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(toHalf(std::nanf("")) & 0x7c00, 0x7c00);
  EXPECT_NE(toHalf(std::nanf("")) & 0x03ff, 0);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
      continue; // NaNs
    EXPECT_EQ(toHalf(fromHalf(static_cast<uint16_t>(h))), h) << "half " << h;
  }
}

/// The float32 bits of all 65536 16-bit elements of `type`, converted in one
/// run (the vectorized path).
std::vector<uint32_t> everySixteenBitValueWidened(DType type) {
  std::vector<uint16_t> all(0x10000);
  for (uint32_t v = 0; v < 0x10000; ++v)
    all[v] = static_cast<uint16_t>(v);
  std::vector<uint32_t> floats(all.size());
  convertFloats(type, DType::Float32, reinterpret_cast<const char *>(all.data()),
                reinterpret_cast<char *>(floats.data()), all.size());
  return floats;
}

TEST(DType, EveryHalfConvertsExactlyInOneRun) {
  // Each must be the value its fields define (NaNs keep their payload).
  std::vector<uint32_t> floats = everySixteenBitValueWidened(DType::Float16);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float magnitude = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -24)
                                    : std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
    uint32_t want;
    float expected = (h & 0x8000) ? -magnitude : magnitude;
    std::memcpy(&want, &expected, 4);
    if (exponent == 0x1f)
      want = ((h & 0x8000u) << 16) | 0x7f800000u | (static_cast<uint32_t>(mantissa) << 13);
    EXPECT_EQ(floats[h], want) << "half " << std::hex << h;
  }
}

TEST(DType, EveryBFloatWidensExactlyInOneRun) {
  std::vector<uint32_t> floats = everySixteenBitValueWidened(DType::BFloat16);
  for (uint32_t b = 0; b < 0x10000; ++b)
    EXPECT_EQ(floats[b], b << 16) << "bfloat16 " << std::hex << b;
}

TEST(DType, BFloatRounding) {
  EXPECT_EQ(toBFloat(1.0f), 0x3f80);
  float halfway;
  uint32_t bits = 0x3f808000; // exactly between 0x3f80 and 0x3f81: to even
  std::memcpy(&halfway, &bits, 4);
  EXPECT_EQ(toBFloat(halfway), 0x3f80);
  bits = 0x3f818000;
  std::memcpy(&halfway, &bits, 4);
  EXPECT_EQ(toBFloat(halfway), 0x3f82);
  EXPECT_EQ(toBFloat(std::nanf("")) & 0x7fc0, 0x7fc0);
}

/// The nearest bfloat16 by value, ties to the even pattern; NaN stays NaN.
bool isNearestBFloat(uint32_t x, uint16_t b) {
  float f;
  std::memcpy(&f, &x, 4);
  uint32_t back = static_cast<uint32_t>(b) << 16;
  float g;
  std::memcpy(&g, &back, 4);
  if (std::isnan(f))
    return std::isnan(g) && (b & 0x8000) == ((x >> 16) & 0x8000);
  uint32_t lo = x & 0xffff0000u;
  uint32_t candidates[2] = {lo, lo + 0x10000u};
  if ((x & 0xffff) == 0)
    return back == lo;
  double best = -1;
  uint32_t pick = lo;
  for (uint32_t c : candidates) {
    float v;
    std::memcpy(&v, &c, 4);
    double d = std::fabs(static_cast<double>(v) - static_cast<double>(f));
    if (std::isnan(v))
      continue;
    if (best < 0 || d < best || (d == best && ((c >> 16) & 1) == 0)) {
      best = d;
      pick = c;
    }
  }
  // Past the largest finite bfloat16, rounding goes to infinity.
  if ((x & 0x7fffffff) > 0x7f7f7fff && (x & 0x7fffffff) < 0x7f800000 && (x & 0xffff) >= 0x8000)
    pick = (x & 0x80000000u) | 0x7f800000u;
  return back == pick;
}

TEST(DType, BFloatConversionOfLongRunsMatchesRoundingByValue) {
  // Long runs take the block path; a length that is no multiple of its block
  // checks the tail. Every class of pattern: zeros, subnormals, ties,
  // near-overflow, infinities, NaNs.
  std::vector<uint32_t> bits;
  for (uint32_t high : {0x0000u, 0x0001u, 0x3f80u, 0x3f81u, 0x7f7fu, 0x7f80u, 0x7fc0u, 0x8000u, 0x807fu, 0xff7fu,
                        0xff80u, 0xffc1u})
    for (uint32_t low : {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu})
      bits.push_back(high << 16 | low);
  uint32_t state = 12345;
  while (bits.size() < 5000) {
    state = state * 1664525u + 1013904223u;
    bits.push_back(state);
  }
  std::vector<uint16_t> out(bits.size());
  convertFloats(DType::Float32, DType::BFloat16, reinterpret_cast<const char *>(bits.data()),
                reinterpret_cast<char *>(out.data()), bits.size());
  for (size_t i = 0; i < bits.size(); ++i)
    EXPECT_TRUE(isNearestBFloat(bits[i], out[i])) << std::hex << bits[i] << " -> " << out[i];
}

} // namespace
