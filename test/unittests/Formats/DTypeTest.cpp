//===- DTypeTest.cpp - dtype names and float conversions ------------------===//

#include "dinfer/Layout/DType.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>

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

} // namespace
