//===- KernelsTest.cpp - the float32 kernels against double references ----===//
//
// Every kernel on small shapes, exhaustively over permutations, transposes
// and broadcasts, against straightforward double-precision loops; the math
// approximations over a dense sweep of their ranges.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Runtime/Kernels.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

using namespace dinfer;
using namespace dinfer::kernels;

namespace {

std::vector<float> randomData(size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> data(n);
  for (float &v : data)
    v = dist(rng);
  return data;
}

/// A convolution epilogue's activation in double precision; Clip keeps
/// [-0.5, 0.75], the bounds the tests give it.
double activated(Conv2DParams::Activation activation, double v) {
  using Activation = Conv2DParams::Activation;
  switch (activation) {
  case Activation::None: return v;
  case Activation::ReLU: return std::max(v, 0.0);
  case Activation::Clip: return std::min(std::max(v, -0.5), 0.75);
  case Activation::HardSwish: return v * std::min(std::max(v + 3, 0.0), 6.0) / 6;
  case Activation::Sigmoid: return 1 / (1 + std::exp(-v));
  case Activation::SiLU: return v / (1 + std::exp(-v));
  }
  return v;
}

double reference(Unary kind, double x) {
  switch (kind) {
  case Unary::Exp: return std::exp(x);
  case Unary::Erf: return std::erf(x);
  case Unary::Tanh: return std::tanh(x);
  case Unary::Sigmoid: return 1 / (1 + std::exp(-x));
  case Unary::SiLU: return x / (1 + std::exp(-x));
  case Unary::ReLU: return x > 0 ? x : 0;
  case Unary::GeLU: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  case Unary::GeLUTanh: return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  case Unary::FastGeLU: return x / (1 + std::exp(-1.702 * std::abs(x))) * std::exp(0.851 * (x - std::abs(x)));
  case Unary::Neg: return -x;
  case Unary::Sqrt: return std::sqrt(x);
  case Unary::Log: return std::log(x);
  case Unary::HSwish: return x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
  }
  return 0;
}

TEST(KernelsTest, UnaryMathWithinFloatTolerance) {
  // A dense sweep, including the branch points of the approximations.
  std::vector<float> x;
  for (float v = -20.0f; v <= 20.0f; v += 0.001953125f)
    x.push_back(v);
  for (float v : {0.0f, -0.0f, 0.124999f, 0.125f, 0.499999f, 0.5f, 1e-30f, -1e-30f, 88.0f, -87.0f})
    x.push_back(v);
  const Unary kinds[] = {Unary::Exp,  Unary::Erf,  Unary::Tanh,     Unary::Sigmoid,  Unary::SiLU,
                         Unary::ReLU, Unary::GeLU, Unary::GeLUTanh, Unary::FastGeLU, Unary::Neg,
                         Unary::HSwish};
  for (Unary kind : kinds) {
    std::vector<float> y(x.size());
    unary(kind, x.data(), y.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      double want = reference(kind, x[i]);
      double tolerance = 2e-6 * std::abs(want) + 2e-7;
      ASSERT_NEAR(y[i], want, tolerance) << "kind " << static_cast<int>(kind) << " at x = " << x[i];
    }
  }
}

TEST(KernelsTest, ExpLimits) {
  float x[] = {100.0f, -100.0f, INFINITY, -INFINITY, 88.7f};
  float y[5];
  unary(Unary::Exp, x, y, 5);
  EXPECT_TRUE(std::isinf(y[0]));
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_TRUE(std::isinf(y[2]));
  EXPECT_EQ(y[3], 0.0f);
  double top = std::exp(static_cast<double>(88.7f));
  EXPECT_NEAR(y[4], top, top * 2e-6);
}

TEST(KernelsTest, SigmoidSiLUAndGeLULimitsAndTails) {
  // Saturation, NaN, and every length around the 16-lane vector width (the
  // AVX-512 loop's masked tail), in place.
  float x[] = {100.0f, -100.0f, INFINITY, 1000.0f, -1000.0f, NAN, 0.0f, 87.0f, -87.0f};
  float sigmoid[9], silu[9];
  unary(Unary::Sigmoid, x, sigmoid, 9);
  unary(Unary::SiLU, x, silu, 9);
  EXPECT_EQ(sigmoid[0], 1.0f);
  EXPECT_LT(sigmoid[1], 1e-37f);
  EXPECT_GE(sigmoid[1], 0.0f);
  EXPECT_EQ(sigmoid[2], 1.0f);
  EXPECT_EQ(silu[2], INFINITY);
  EXPECT_EQ(silu[3], 1000.0f);
  EXPECT_LE(silu[4], 0.0f);
  EXPECT_GT(silu[4], -1e-33f);
  EXPECT_TRUE(std::isnan(sigmoid[5]));
  EXPECT_TRUE(std::isnan(silu[5]));
  EXPECT_EQ(sigmoid[6], 0.5f);
  EXPECT_EQ(silu[6], 0.0f);
  EXPECT_EQ(silu[7], 87.0f);
  float gelu[9];
  unary(Unary::GeLU, x, gelu, 9);
  EXPECT_EQ(gelu[0], 100.0f);
  EXPECT_EQ(gelu[2], INFINITY);
  EXPECT_LE(gelu[4], 0.0f);
  EXPECT_GT(gelu[4], -1e-30f);
  EXPECT_TRUE(std::isnan(gelu[5]));
  EXPECT_EQ(gelu[6], 0.0f);
  for (Unary kind : {Unary::Sigmoid, Unary::SiLU, Unary::GeLU})
    for (int64_t n = 1; n <= 40; ++n) {
      std::vector<float> data = randomData(n + 1, n), want = data;
      float sentinel = data[n];
      unary(kind, data.data(), data.data(), n);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_NEAR(data[i], reference(kind, want[i]), 2e-6 * std::abs(data[i]) + 2e-7) << "n " << n << " i " << i;
      ASSERT_EQ(data[n], sentinel) << "wrote past the end at n " << n;
    }
}

TEST(KernelsTest, UnaryInPlaceAndLarge) {
  // Large enough to be split over threads.
  std::vector<float> x = randomData(1 << 18, 1), y = x;
  unary(Unary::GeLU, y.data(), y.data(), y.size());
  for (size_t i = 0; i < x.size(); i += 97)
    ASSERT_NEAR(y[i], reference(Unary::GeLU, x[i]), 2e-6 * std::abs(y[i]) + 2e-7);
}

TEST(KernelsTest, BinaryRowsAndScalars) {
  const Binary kinds[] = {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Max, Binary::Min, Binary::Pow};
  auto combine = [](Binary kind, double a, double b) {
    switch (kind) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
    case Binary::Pow: return std::pow(a, b);
    case Binary::Max: return std::max(a, b);
    case Binary::Min: return std::min(a, b);
    }
    return 0.0;
  };
  for (Binary kind : kinds)
    for (int64_t count : {1, 6, 24, 1 << 16})
      for (int64_t yCount : {int64_t(1), int64_t(6), count}) {
        if (count % yCount)
          continue;
        std::vector<float> x = randomData(count, 2), y = randomData(yCount, 3), z(count);
        if (kind == Binary::Pow)
          for (float &v : x)
            v = std::abs(v) + 0.5f;
        binaryRows(kind, x.data(), y.data(), z.data(), count, yCount);
        for (int64_t i = 0; i < count; ++i)
          ASSERT_FLOAT_EQ(z[i], static_cast<float>(combine(kind, x[i], y[i % yCount])))
              << "kind " << static_cast<int>(kind) << " count " << count << " yCount " << yCount;
        binaryScalarLeft(kind, x[0], x.data(), z.data(), count);
        for (int64_t i = 0; i < count; ++i)
          ASSERT_FLOAT_EQ(z[i], static_cast<float>(combine(kind, x[0], x[i])));
      }
}

/// Every pair of broadcast-compatible shapes drawn from {1, 2, 3} per
/// dimension, up to rank 4 (operands of any rank up to the output's),
/// against the index arithmetic of numpy's broadcasting.
TEST(KernelsTest, BinaryBroadcastEveryPatternOfSmallShapes) {
  const Binary kinds[] = {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Max, Binary::Min};
  auto reference = [](Binary kind, double a, double b) {
    switch (kind) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
    case Binary::Max: return std::max(a, b);
    case Binary::Min: return std::min(a, b);
    case Binary::Pow: return std::pow(a, b);
    }
    return 0.0;
  };
  int checked = 0;
  for (int rank = 1; rank <= 4; ++rank) {
    int patterns = 1;
    for (int d = 0; d < rank; ++d)
      patterns *= 9; // per dimension: output extent 1-3 and which operands broadcast
    for (int pattern = 0; pattern < patterns; pattern += 7) {
      std::vector<int64_t> z, x, y;
      int code = pattern;
      for (int d = 0; d < rank; ++d) {
        int digit = code % 9;
        code /= 9;
        int64_t extent = 1 + digit % 3;
        int which = digit / 3; // 0: both full, 1: x broadcast, 2: y broadcast
        z.push_back(extent);
        x.push_back(which == 1 ? 1 : extent);
        y.push_back(which == 2 ? 1 : extent);
      }
      // Operands of lower rank: leading dimensions of 1 dropped.
      std::vector<int64_t> xs(x), ys(y);
      while (xs.size() > 1 && xs.front() == 1)
        xs.erase(xs.begin());
      int64_t zn = 1, xn = 1, yn = 1;
      for (int64_t e : z)
        zn *= e;
      for (int64_t e : x)
        xn *= e;
      for (int64_t e : y)
        yn *= e;
      std::vector<float> a = randomData(xn, 20 + pattern), b = randomData(yn, 21 + pattern);
      for (float &v : b)
        v = v == 0 ? 1 : v;
      for (Binary kind : kinds) {
        std::vector<float> out(zn, NAN);
        binaryBroadcast(kind, a.data(), xs, b.data(), ys, out.data(), z);
        for (int64_t i = 0; i < zn; ++i) {
          int64_t rest = i, ia = 0, ib = 0, sa = 1, sb = 1;
          for (int d = rank; d-- > 0;) {
            int64_t index = rest % z[d];
            rest /= z[d];
            ia += (x[d] == 1 ? 0 : index) * sa;
            ib += (y[d] == 1 ? 0 : index) * sb;
            sa *= x[d];
            sb *= y[d];
          }
          double want = reference(kind, a[ia], b[ib]);
          ASSERT_NEAR(out[i], want, 1e-5 * (1 + std::abs(want))) << "rank " << rank << " pattern " << pattern;
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 500);
}

/// Every pattern of small shapes broadcast to rank up to 4, with 4-byte and
/// 2-byte elements, against numpy's index arithmetic.
TEST(KernelsTest, BroadcastToEveryPatternOfSmallShapes) {
  int checked = 0;
  for (int rank = 1; rank <= 4; ++rank) {
    int patterns = 1;
    for (int d = 0; d < rank; ++d)
      patterns *= 6;
    for (int pattern = 0; pattern < patterns; ++pattern) {
      std::vector<int64_t> y, x;
      int code = pattern;
      for (int d = 0; d < rank; ++d) {
        int digit = code % 6;
        code /= 6;
        y.push_back(1 + digit % 3);
        x.push_back(digit / 3 ? 1 : y.back());
      }
      while (x.size() > 1 && x.front() == 1 && pattern % 2) // lower-rank operands too
        x.erase(x.begin());
      int64_t yn = 1, xn = 1;
      for (int64_t e : y)
        yn *= e;
      for (int64_t e : x)
        xn *= e;
      std::vector<int32_t> a(xn);
      std::iota(a.begin(), a.end(), 100);
      std::vector<int32_t> out(yn, -1);
      broadcastTo(reinterpret_cast<const char *>(a.data()), x, reinterpret_cast<char *>(out.data()), y, 4);
      std::vector<int16_t> a16(a.begin(), a.end()), out16(yn, -1);
      broadcastTo(reinterpret_cast<const char *>(a16.data()), x, reinterpret_cast<char *>(out16.data()), y, 2);
      size_t pad = y.size() - x.size();
      for (int64_t i = 0; i < yn; ++i) {
        int64_t rest = i, source = 0, stride = 1;
        for (int d = rank; d-- > 0;) {
          int64_t index = rest % y[d];
          rest /= y[d];
          if (d >= static_cast<int>(pad) && x[d - pad] != 1)
            source += index * stride;
          if (d >= static_cast<int>(pad))
            stride *= x[d - pad];
        }
        ASSERT_EQ(out[i], a[source]) << "rank " << rank << " pattern " << pattern;
        ASSERT_EQ(out16[i], a16[source]);
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(KernelsTest, MaxAndMinPropagateNaN) {
  const float x[] = {1, NAN, 3, NAN}, y[] = {NAN, 2, 0, NAN};
  for (Binary kind : {Binary::Max, Binary::Min}) {
    float z[4];
    binaryRows(kind, x, y, z, 4, 4);
    EXPECT_TRUE(std::isnan(z[0]) && std::isnan(z[1]) && std::isnan(z[3]));
    EXPECT_EQ(z[2], kind == Binary::Max ? 3.0f : 0.0f);
    float scalar[4];
    binaryBroadcast(kind, x, {4}, y + 1, {1}, scalar, {4}); // against 2
    EXPECT_EQ(scalar[0], kind == Binary::Max ? 2.0f : 1.0f);
    EXPECT_TRUE(std::isnan(scalar[1]));
  }
}

/// [outer, reduced, inner] reductions, including the lengths around the
/// 16-lane row sum, against double loops.
TEST(KernelsTest, ReduceMiddleAgainstLoops) {
  const Reduce kinds[] = {Reduce::Sum, Reduce::Mean, Reduce::Max, Reduce::Min};
  for (int64_t outer : {1, 3})
    // Short rows over many (global pooling of channels-last maps) take the
    // banded path: reduced >= 64 with inner > 1.
    for (int64_t reduced : {1, 2, 15, 16, 17, 40, 64, 301})
      for (int64_t inner : {1, 5, 37}) {
        std::vector<float> x = randomData(outer * reduced * inner, 30 + reduced);
        for (Reduce kind : kinds) {
          std::vector<float> y(outer * inner, NAN);
          reduceMiddle(kind, x.data(), y.data(), outer, reduced, inner);
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
              double acc = kind == Reduce::Max ? -INFINITY : kind == Reduce::Min ? INFINITY : 0;
              for (int64_t r = 0; r < reduced; ++r) {
                double v = x[(o * reduced + r) * inner + i];
                acc = kind == Reduce::Max ? std::max(acc, v) : kind == Reduce::Min ? std::min(acc, v) : acc + v;
              }
              if (kind == Reduce::Mean)
                acc /= reduced;
              ASSERT_NEAR(y[o * inner + i], acc, 1e-5 * (1 + std::abs(acc)))
                  << outer << "x" << reduced << "x" << inner;
            }
        }
      }
}

TEST(KernelsTest, SoftmaxAndLogSoftmaxRows) {
  for (int64_t rows : {1, 3, 512})
    for (int64_t length : {1, 2, 7, 64, 1000}) {
      std::vector<float> x = randomData(rows * length, 4, 3.0f), y(x.size()), logY(x.size());
      softmaxRows(x.data(), y.data(), rows, length, false);
      softmaxRows(x.data(), logY.data(), rows, length, true);
      for (int64_t r = 0; r < rows; ++r) {
        double max = -INFINITY, sum = 0;
        for (int64_t i = 0; i < length; ++i)
          max = std::max<double>(max, x[r * length + i]);
        for (int64_t i = 0; i < length; ++i)
          sum += std::exp(x[r * length + i] - max);
        for (int64_t i = 0; i < length; ++i) {
          double e = x[r * length + i] - max;
          ASSERT_NEAR(y[r * length + i], std::exp(e) / sum, 2e-6 * std::exp(e) / sum + 1e-9);
          ASSERT_NEAR(logY[r * length + i], e - std::log(sum), 1e-5 * (1 + std::abs(e - std::log(sum))));
        }
      }
    }
}

TEST(KernelsTest, LayerNormAndRMSNormRows) {
  for (int64_t rows : {1, 5, 300})
    for (int64_t length : {1, 3, 16, 768}) {
      std::vector<float> x = randomData(rows * length, 5, 2.0f), gamma = randomData(length, 6),
                         beta = randomData(length, 7), y(x.size()), rms(x.size());
      layerNormRows(x.data(), gamma.data(), beta.data(), y.data(), rows, length, 1e-5f);
      rmsNormRows(x.data(), gamma.data(), rms.data(), rows, length, 1e-6f);
      for (int64_t r = 0; r < rows; ++r) {
        const float *row = x.data() + r * length;
        double mean = std::accumulate(row, row + length, 0.0) / length, var = 0, squares = 0;
        for (int64_t i = 0; i < length; ++i) {
          var += (row[i] - mean) * (row[i] - mean);
          squares += double(row[i]) * row[i];
        }
        var /= length;
        for (int64_t i = 0; i < length; ++i) {
          double want = (row[i] - mean) / std::sqrt(var + 1e-5) * gamma[i] + beta[i];
          ASSERT_NEAR(y[r * length + i], want, 1e-4 * (1 + std::abs(want)));
          double wantRms = row[i] / std::sqrt(squares / length + 1e-6) * gamma[i];
          ASSERT_NEAR(rms[r * length + i], wantRms, 1e-4 * (1 + std::abs(wantRms)));
        }
      }
    }
}

TEST(KernelsTest, TransposeEveryPermutationOfSmallShapes) {
  // The last ones are large enough for the blocked planes (8x8 tiles and
  // their remainders) of permutations that move the last dimension.
  const std::vector<std::vector<int64_t>> shapes = {{},        {5},          {2, 3},          {1, 4},     {2, 3, 4},
                                                    {3, 1, 2}, {2, 3, 2, 3}, {2, 2, 3, 2, 2}, {9, 17},    {3, 10, 9},
                                                    {2, 9, 3, 17}};
  std::mt19937 random(7);
  for (const auto &shape : shapes)
    for (size_t elementBytes : {1, 2, 3, 4, 8}) {
      int64_t count = std::accumulate(shape.begin(), shape.end(), int64_t(1), std::multiplies<>());
      std::vector<char> x(count * elementBytes), y(x.size());
      for (char &byte : x)
        byte = static_cast<char>(random());
      std::vector<int64_t> perm(shape.size());
      std::iota(perm.begin(), perm.end(), 0);
      do {
        transpose(x.data(), y.data(), shape, perm, elementBytes);
        std::vector<int64_t> strides(shape.size(), 1), outShape(shape.size());
        for (size_t d = shape.size(); d-- > 1;)
          strides[d - 1] = strides[d] * shape[d];
        for (size_t d = 0; d < shape.size(); ++d)
          outShape[d] = shape[perm[d]];
        for (int64_t i = 0; i < count; ++i) {
          int64_t rest = i, source = 0;
          for (size_t d = shape.size(); d-- > 0;) {
            source += (rest % outShape[d]) * strides[perm[d]];
            rest /= outShape[d];
          }
          ASSERT_EQ(0, std::memcmp(&y[i * elementBytes], &x[source * elementBytes], elementBytes))
              << "rank " << shape.size() << " element " << i;
        }
        // The same bytes one byte off their type's alignment (a weight
        // mapped from a file) give the same result.
        std::vector<char> xOff(x.size() + 1), yOff(y.size() + 1);
        std::memcpy(xOff.data() + 1, x.data(), x.size());
        transpose(xOff.data() + 1, yOff.data() + 1, shape, perm, elementBytes);
        ASSERT_EQ(0, std::memcmp(yOff.data() + 1, y.data(), y.size())) << "misaligned, rank " << shape.size();
      } while (std::next_permutation(perm.begin(), perm.end()));
    }
}

/// z = op(x) · op(y) over broadcast batches, in double.
std::vector<double> referenceMatmul(const std::vector<float> &x, std::vector<int64_t> xs, bool tx,
                                    const std::vector<float> &y, std::vector<int64_t> ys, bool ty,
                                    const std::vector<int64_t> &zs) {
  size_t rank = zs.size();
  while (xs.size() < rank)
    xs.insert(xs.begin(), 1);
  while (ys.size() < rank)
    ys.insert(ys.begin(), 1);
  int64_t m = zs[rank - 2], n = zs[rank - 1], k = tx ? xs[rank - 2] : xs[rank - 1];
  int64_t batches = 1;
  for (size_t d = 0; d + 2 < rank; ++d)
    batches *= zs[d];
  std::vector<double> z(batches * m * n);
  for (int64_t b = 0; b < batches; ++b) {
    int64_t rest = b, xb = 0, yb = 0, xStride = 1, yStride = 1;
    for (size_t d = rank - 2; d-- > 0;) {
      int64_t i = rest % zs[d];
      rest /= zs[d];
      xb += (xs[d] == 1 ? 0 : i) * xStride;
      yb += (ys[d] == 1 ? 0 : i) * yStride;
      xStride *= xs[d];
      yStride *= ys[d];
    }
    const float *xm = x.data() + xb * xs[rank - 2] * xs[rank - 1], *ym = y.data() + yb * ys[rank - 2] * ys[rank - 1];
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += double(tx ? xm[p * m + i] : xm[i * k + p]) * (ty ? ym[j * k + p] : ym[p * n + j]);
        z[(b * m + i) * n + j] = sum;
      }
  }
  return z;
}

TEST(KernelsTest, MatmulTransposesAndBroadcasts) {
  struct Case {
    std::vector<int64_t> xBatch, yBatch, zBatch;
  };
  const Case batches[] = {
      {{}, {}, {}},    {{3}, {}, {3}},          {{}, {3}, {3}}, {{2, 3}, {3}, {2, 3}}, {{2, 1}, {1, 3}, {2, 3}},
      {{1}, {4}, {4}}, {{2, 3}, {2, 3}, {2, 3}}};
  for (const Case &c : batches)
    for (int64_t m : {1, 3})
      for (int64_t k : {1, 5})
        for (int64_t n : {2, 7})
          for (bool tx : {false, true})
            for (bool ty : {false, true}) {
              std::vector<int64_t> xs = c.xBatch, ys = c.yBatch, zs = c.zBatch;
              xs.push_back(tx ? k : m);
              xs.push_back(tx ? m : k);
              ys.push_back(ty ? n : k);
              ys.push_back(ty ? k : n);
              zs.push_back(m);
              zs.push_back(n);
              auto count = [](const std::vector<int64_t> &s) {
                return std::accumulate(s.begin(), s.end(), int64_t(1), std::multiplies<>());
              };
              std::vector<float> x = randomData(count(xs), 8), y = randomData(count(ys), 9), z(count(zs), -1.0f);
              llvm::Error err = matmul(x.data(), xs, tx, y.data(), ys, ty, z.data(), zs);
              ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
              std::vector<double> want = referenceMatmul(x, xs, tx, y, ys, ty, zs);
              for (size_t i = 0; i < want.size(); ++i)
                ASSERT_NEAR(z[i], want[i], 1e-4 * (1 + std::abs(want[i])))
                    << "m " << m << " k " << k << " n " << n << " tx " << tx << " ty " << ty << " element " << i;
            }
}

TEST(KernelsTest, Conv2DAgainstDirectLoops) {
  struct Case {
    int64_t n, c, h, w, o, kh, kw, stride, dilation, padBefore, padAfter, groups;
  };
  const Case cases[] = {{1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1}, {2, 3, 6, 7, 4, 3, 3, 1, 1, 1, 1, 1},
                        {1, 4, 8, 8, 6, 3, 3, 2, 1, 1, 0, 2}, {1, 2, 9, 9, 2, 3, 3, 1, 2, 2, 2, 2},
                        {1, 3, 4, 4, 5, 1, 1, 1, 1, 0, 0, 1}, {1, 4, 7, 5, 4, 2, 3, 2, 1, 1, 1, 4},
                        // One pixel (squeeze-and-excitation): a matrix-vector product per image.
                        {2, 40, 1, 1, 24, 1, 1, 1, 1, 0, 0, 1}, {1, 5, 1, 1, 37, 1, 1, 1, 1, 0, 0, 1},
                        // Depthwise: prepacked, dinfer's channels-last kernel, transposed in and out.
                        {2, 40, 9, 11, 40, 3, 3, 1, 1, 1, 1, 40}, {1, 24, 8, 8, 24, 5, 5, 2, 1, 2, 1, 24}};
  for (const Case &c : cases) {
    int64_t oh = (c.h + c.padBefore + c.padAfter - (c.kh - 1) * c.dilation - 1) / c.stride + 1;
    int64_t ow = (c.w + c.padBefore + c.padAfter - (c.kw - 1) * c.dilation - 1) / c.stride + 1;
    int64_t cg = c.c / c.groups, og = c.o / c.groups;
    std::vector<float> x = randomData(c.n * c.c * c.h * c.w, 10), w = randomData(c.o * cg * c.kh * c.kw, 11),
                       y(c.n * c.o * oh * ow);
    Conv2DParams p{
        {c.stride, c.stride}, {c.dilation, c.dilation}, {c.padBefore, c.padBefore}, {c.padAfter, c.padAfter}, c.groups};
    llvm::Error err =
        conv2d(x.data(), {c.n, c.c, c.h, c.w}, w.data(), {c.o, cg, c.kh, c.kw}, y.data(), {c.n, c.o, oh, ow}, p);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    // With prepacked weights (oneDNN's own layouts, activations reordered
    // around the call), twice: the second call reads the packed copy.
    PrepackedWeights prepacked;
    for (int call = 0; call < 2; ++call) {
      std::vector<float> packedY(y.size(), NAN);
      llvm::Error packedErr = conv2d(x.data(), {c.n, c.c, c.h, c.w}, w.data(), {c.o, cg, c.kh, c.kw}, packedY.data(),
                                     {c.n, c.o, oh, ow}, p, &prepacked);
      ASSERT_FALSE(static_cast<bool>(packedErr)) << llvm::toString(std::move(packedErr));
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(packedY[i], y[i], 1e-4 * (1 + std::abs(y[i]))) << "call " << call << ", element " << i;
    }
    // A bias and each activation in the convolution's own pass.
    using Activation = Conv2DParams::Activation;
    std::vector<float> bias = randomData(c.o, 12);
    // The prepacked convolution with `q`'s epilogue (its bias always).
    auto fusedConv = [&](Conv2DParams q, std::vector<float> &fusedY) {
      q.bias = bias.data();
      PrepackedWeights fused;
      fusedY.assign(y.size(), NAN);
      return conv2d(x.data(), {c.n, c.c, c.h, c.w}, w.data(), {c.o, cg, c.kh, c.kw}, fusedY.data(), {c.n, c.o, oh, ow},
                    q, &fused);
    };
    for (Activation activation : {Activation::None, Activation::ReLU, Activation::Clip, Activation::HardSwish,
                                  Activation::Sigmoid, Activation::SiLU}) {
      Conv2DParams q = p;
      q.activation = activation;
      q.alpha = -0.5f;
      q.beta = 0.75f;
      std::vector<float> fusedY;
      llvm::Error fusedErr = fusedConv(q, fusedY);
      ASSERT_FALSE(static_cast<bool>(fusedErr)) << llvm::toString(std::move(fusedErr));
      for (size_t i = 0; i < y.size(); ++i) {
        double want = activated(activation, double(y[i]) + bias[(i / (oh * ow)) % c.o]);
        ASSERT_NEAR(fusedY[i], want, 1e-4 * (1 + std::abs(want))) << "activation " << static_cast<int>(activation);
      }
    }
    // A residual added after the bias and before the activation (ReLU in
    // oneDNN's pass, SiLU in ours after it), given row-major and
    // channels-last ([N, H, W, C] bytes).
    std::vector<float> residual = randomData(y.size(), 13), residualLast(y.size());
    for (int64_t n = 0; n < c.n; ++n)
      for (int64_t o = 0; o < c.o; ++o)
        for (int64_t i = 0; i < oh * ow; ++i)
          residualLast[(n * oh * ow + i) * c.o + o] = residual[(n * c.o + o) * oh * ow + i];
    for (Activation activation : {Activation::ReLU, Activation::SiLU})
      for (bool channelsLast : {false, true}) {
        Conv2DParams q = p;
        q.activation = activation;
        q.residual = channelsLast ? residualLast.data() : residual.data();
        q.residualChannelsLast = channelsLast;
        std::vector<float> fusedY;
        llvm::Error fusedErr = fusedConv(q, fusedY);
        ASSERT_FALSE(static_cast<bool>(fusedErr)) << llvm::toString(std::move(fusedErr));
        for (size_t i = 0; i < y.size(); ++i) {
          double want = activated(activation, double(y[i]) + bias[(i / (oh * ow)) % c.o] + residual[i]);
          ASSERT_NEAR(fusedY[i], want, 1e-4 * (1 + std::abs(want)))
              << "residual, activation " << static_cast<int>(activation) << ", channels-last " << channelsLast;
        }
      }
    // The residual in the output's own storage (a value that dies at the
    // convolution), in either layout, the output left channels-last or not.
    for (bool channelsLast : {false, true})
      for (bool mayLeave : {false, true}) {
        Conv2DParams q = p;
        q.activation = Activation::ReLU;
        q.bias = bias.data();
        q.mayLeaveChannelsLast = mayLeave;
        std::vector<float> shared = channelsLast ? residualLast : residual;
        q.residual = shared.data();
        q.residualChannelsLast = channelsLast;
        PrepackedWeights fused;
        llvm::Error sharedErr = conv2d(x.data(), {c.n, c.c, c.h, c.w}, w.data(), {c.o, cg, c.kh, c.kw},
                                       shared.data(), {c.n, c.o, oh, ow}, q, &fused);
        ASSERT_FALSE(static_cast<bool>(sharedErr)) << llvm::toString(std::move(sharedErr));
        for (int64_t n = 0; n < c.n; ++n)
          for (int64_t o = 0; o < c.o; ++o)
            for (int64_t i = 0; i < oh * ow; ++i) {
              int64_t plain = (n * c.o + o) * oh * ow + i, last = (n * oh * ow + i) * c.o + o;
              double want = std::max(0.0, double(y[plain]) + bias[o] + residual[plain]);
              ASSERT_NEAR(shared[q.yChannelsLast ? last : plain], want, 1e-4 * (1 + std::abs(want)))
                  << "residual in the output, channels-last " << channelsLast << ", may leave " << mayLeave;
            }
      }
    for (int64_t n = 0; n < c.n; ++n)
      for (int64_t o = 0; o < c.o; ++o)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            double sum = 0;
            int64_t g = o / og;
            for (int64_t ic = 0; ic < cg; ++ic)
              for (int64_t a = 0; a < c.kh; ++a)
                for (int64_t b = 0; b < c.kw; ++b) {
                  int64_t hi = i * c.stride - c.padBefore + a * c.dilation,
                          wi = j * c.stride - c.padBefore + b * c.dilation;
                  if (hi < 0 || hi >= c.h || wi < 0 || wi >= c.w)
                    continue;
                  sum += double(x[((n * c.c + g * cg + ic) * c.h + hi) * c.w + wi]) *
                         w[((o * cg + ic) * c.kh + a) * c.kw + b];
                }
            ASSERT_NEAR(y[((n * c.o + o) * oh + i) * ow + j], sum, 1e-4 * (1 + std::abs(sum)));
          }
  }
}

// The channels-last depthwise kernel over every window it specialises
// (3 and 5 wide at strides 1 and 2) and the general one (other widths,
// dilations, strides), maps smaller than the window, channel counts that
// use each vector width and the chunked path (over 256), with each epilogue.
TEST(KernelsTest, DepthwiseConvolutionChannelsLastAgainstDirectLoops) {
  using Activation = Conv2DParams::Activation;
  const Activation activations[] = {Activation::None, Activation::ReLU,    Activation::Clip,
                                    Activation::HardSwish, Activation::Sigmoid, Activation::SiLU};
  struct Window {
    int64_t kh, kw, strideH, strideW, dilationH, dilationW;
  };
  const Window windows[] = {{3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {5, 5, 1, 1, 1, 1}, {5, 5, 2, 2, 1, 1},
                            {3, 5, 1, 2, 1, 1}, {1, 1, 1, 1, 1, 1}, {7, 7, 1, 1, 1, 1}, {3, 3, 1, 1, 2, 2},
                            {2, 3, 3, 3, 1, 1}, {5, 3, 2, 1, 1, 2}};
  const int64_t channelCounts[] = {1, 5, 8, 16, 27, 48, 72, 300};
  const int64_t sizes[][2] = {{1, 1}, {2, 3}, {5, 5}, {9, 7}, {6, 19}};
  int checked = 0;
  for (const Window &win : windows)
    for (int64_t channels : channelCounts)
      for (const auto &size : sizes)
        for (int padding = 0; padding < 3; ++padding) {
          int64_t h = size[0], w = size[1], batch = channels == 300 ? 1 : 2;
          // No pads, "same" pads, and uneven ones (more before than after).
          int64_t top = padding == 0 ? 0 : padding == 1 ? (win.kh - 1) * win.dilationH / 2 : win.kh - 1;
          int64_t left = padding == 0 ? 0 : padding == 1 ? (win.kw - 1) * win.dilationW / 2 : win.kw - 1;
          int64_t bottom = padding == 2 ? 0 : top, right = padding == 2 ? 0 : left;
          int64_t spanH = (win.kh - 1) * win.dilationH + 1, spanW = (win.kw - 1) * win.dilationW + 1;
          if (h + top + bottom < spanH || w + left + right < spanW)
            continue;
          int64_t oh = (h + top + bottom - spanH) / win.strideH + 1, ow = (w + left + right - spanW) / win.strideW + 1;
          std::vector<float> x = randomData(batch * h * w * channels, 21),
                             filters = randomData(win.kh * win.kw * channels, 22), bias = randomData(channels, 23),
                             residual = randomData(batch * oh * ow * channels, 24),
                             y(batch * oh * ow * channels, NAN);
          Conv2DParams p{{win.strideH, win.strideW}, {win.dilationH, win.dilationW}, {top, left}, {bottom, right},
                         channels};
          Activation activation = activations[checked % 6];
          bool withBias = checked % 2 == 0, withResidual = checked % 3 == 0;
          p.activation = activation;
          p.alpha = -0.5f;
          p.beta = 0.75f;
          p.bias = withBias ? bias.data() : nullptr;
          p.residual = withResidual ? residual.data() : nullptr;
          depthwiseConv2dChannelsLast(x.data(), {batch, channels, h, w}, filters.data(), win.kh, win.kw, y.data(),
                                      {batch, channels, oh, ow}, p);
          for (int64_t n = 0; n < batch; ++n)
            for (int64_t i = 0; i < oh; ++i)
              for (int64_t j = 0; j < ow; ++j)
                for (int64_t c = 0; c < channels; ++c) {
                  double v = withBias ? bias[c] : 0.0;
                  for (int64_t a = 0; a < win.kh; ++a)
                    for (int64_t b = 0; b < win.kw; ++b) {
                      int64_t hi = i * win.strideH - top + a * win.dilationH,
                              wi = j * win.strideW - left + b * win.dilationW;
                      if (hi >= 0 && hi < h && wi >= 0 && wi < w)
                        v += double(x[((n * h + hi) * w + wi) * channels + c]) *
                             filters[(a * win.kw + b) * channels + c];
                    }
                  int64_t at = ((n * oh + i) * ow + j) * channels + c;
                  if (withResidual)
                    v += residual[at];
                  double want = activated(activation, v);
                  ASSERT_NEAR(y[at], want, 1e-4 * (1 + std::abs(want)))
                      << "window " << win.kh << "x" << win.kw << " stride " << win.strideH << "," << win.strideW
                      << " dilation " << win.dilationH << "," << win.dilationW << ", " << channels << " channels, "
                      << h << "x" << w << ", padding " << padding << ", output (" << n << ", " << i << ", " << j
                      << ", " << c << ")";
                }
          ++checked;
        }
  EXPECT_GT(checked, 1000);
}

TEST(KernelsTest, ParallelForCoversEveryIndexOnce) {
  for (int64_t count : {0, 1, 7, 1000, 100000}) {
    std::vector<int> hits(count, 0);
    parallelFor(count, 64, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        ++hits[i];
    });
    EXPECT_EQ(std::count(hits.begin(), hits.end(), 1), count);
  }
}

} // namespace

namespace {

/// Elementwise magnitudes, to bound a bfloat16 product: rounding x and y to
/// 8 significant bits errs by at most 2^-8 of each, so a sum of products by
/// at most about 2^-7 of the sum of |x|·|y|.
std::vector<float> magnitudes(std::vector<float> values) {
  for (float &v : values)
    v = std::abs(v);
  return values;
}

TEST(KernelsTest, BFloat16ProductsWithinTheirRounding) {
  for (bool tx : {false, true})
    for (bool ty : {false, true}) {
      int64_t m = 33, k = 96, n = 80;
      std::vector<int64_t> xs = tx ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k},
                           ys = ty ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, zs{m, n};
      std::vector<float> x = randomData(m * k, 21), y = randomData(k * n, 22);
      std::vector<double> want = referenceMatmul(x, xs, tx, y, ys, ty, zs),
                          bound = referenceMatmul(magnitudes(x), xs, tx, magnitudes(y), ys, ty, zs);
      PrepackedWeights prepacked;
      prepacked.bfloat16 = true;
      for (int call = 0; call < 2; ++call) {
        std::vector<float> z(m * n, NAN);
        llvm::Error err = matmul(x.data(), xs, tx, y.data(), ys, ty, z.data(), zs, &prepacked);
        ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
        for (size_t i = 0; i < want.size(); ++i)
          ASSERT_NEAR(z[i], want[i], bound[i] / 128 + 1e-5) << "tx " << tx << " ty " << ty << " element " << i;
      }
    }
  // Convolutions: a grouped one with a bias and ReLU in its own pass.
  int64_t n = 2, c = 8, h = 9, w = 9, o = 12, groups = 2, cg = c / groups;
  std::vector<float> x = randomData(n * c * h * w, 23), weights = randomData(o * cg * 3 * 3, 24),
                     bias = randomData(o, 25);
  Conv2DParams p{{1, 1}, {1, 1}, {1, 1}, {1, 1}, groups};
  std::vector<float> exact(n * o * h * w), bound(exact.size());
  ASSERT_FALSE(static_cast<bool>(
      conv2d(x.data(), {n, c, h, w}, weights.data(), {o, cg, 3, 3}, exact.data(), {n, o, h, w}, p)));
  std::vector<float> absX = magnitudes(x), absW = magnitudes(weights);
  ASSERT_FALSE(static_cast<bool>(
      conv2d(absX.data(), {n, c, h, w}, absW.data(), {o, cg, 3, 3}, bound.data(), {n, o, h, w}, p)));
  Conv2DParams q = p;
  q.bias = bias.data();
  q.activation = Conv2DParams::Activation::ReLU;
  PrepackedWeights prepacked;
  prepacked.bfloat16 = true;
  std::vector<float> low(exact.size(), NAN);
  llvm::Error err = conv2d(x.data(), {n, c, h, w}, weights.data(), {o, cg, 3, 3}, low.data(), {n, o, h, w}, q,
                           &prepacked);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  for (size_t i = 0; i < exact.size(); ++i) {
    double want = std::max(0.0, double(exact[i]) + bias[(i / (h * w)) % o]);
    ASSERT_NEAR(low[i], want, bound[i] / 128 + 1e-5) << "element " << i;
  }
}

TEST(KernelsTest, PrepackedWeightsMatchAndFollowTheOperand) {
  PrepackedWeights prepacked;
  for (int64_t m : {1, 64})
    for (bool ty : {false, true}) {
      int64_t k = 96, n = 80;
      std::vector<int64_t> xs{2, m, k}, ys = ty ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, zs{2, m, n};
      std::vector<float> x = randomData(2 * m * k, 12), y1 = randomData(k * n, 13), y2 = randomData(k * n, 14);
      for (const std::vector<float> *y : {&y1, &y2, &y1}) {
        std::vector<float> z(2 * m * n);
        llvm::Error err = matmul(x.data(), xs, false, y->data(), ys, ty, z.data(), zs, &prepacked);
        ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
        std::vector<double> want = referenceMatmul(x, xs, false, *y, ys, ty, zs);
        for (size_t i = 0; i < want.size(); ++i)
          ASSERT_NEAR(z[i], want[i], 1e-4 * (1 + std::abs(want[i]))) << "m " << m << " ty " << ty;
      }
    }
}

// One row times a constant matrix (a classifier's head at batch 1): read
// transposed, the weights are read in place as dot products; the other
// orientation stays on oneDNN. Lengths off the vector width, rank 2 and 3.
TEST(KernelsTest, OneRowTimesConstantMatrix) {
  for (int64_t k : {1, 37, 300})
    for (int64_t n : {5, 2100})
      for (bool ty : {false, true})
        for (bool batched : {false, true}) {
          PrepackedWeights prepacked;
          std::vector<int64_t> xs = batched ? std::vector<int64_t>{1, 1, k} : std::vector<int64_t>{1, k},
                               ys = ty ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n},
                               zs = batched ? std::vector<int64_t>{1, 1, n} : std::vector<int64_t>{1, n};
          std::vector<float> x = randomData(k, 31), y = randomData(k * n, 32);
          std::vector<float> z(n, NAN);
          llvm::Error err = matmul(x.data(), xs, false, y.data(), ys, ty, z.data(), zs, &prepacked);
          ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
          if (ty) {
            EXPECT_FALSE(prepacked.holdsOwnCopy()) << "the weights are read where they lie";
          }
          std::vector<double> want = referenceMatmul(x, {1, k}, false, y, ys, ty, {1, n});
          for (int64_t j = 0; j < n; ++j)
            ASSERT_NEAR(z[j], want[j], 1e-4 * (1 + std::abs(want[j]))) << "k " << k << " n " << n << " ty " << ty;
        }
}

} // namespace

namespace {

TEST(KernelsTest, Pool2DAgainstDirectLoops) {
  struct Case {
    int64_t n, c, h, w, k, stride, padBefore, padAfter;
  };
  const Case cases[] = {{1, 1, 4, 4, 2, 2, 0, 0},
                        {2, 3, 7, 5, 3, 2, 1, 1},
                        {1, 2, 6, 6, 3, 1, 1, 1},
                        {1, 1, 5, 5, 2, 2, 0, 1},
                        {1, 4, 8, 8, 3, 3, 0, 1}};
  for (const Case &c : cases)
    for (Pooling kind : {Pooling::Max, Pooling::AverageCountingPads, Pooling::AverageOfInputs}) {
      int64_t oh = (c.h + c.padBefore + c.padAfter - c.k) / c.stride + 1;
      int64_t ow = (c.w + c.padBefore + c.padAfter - c.k) / c.stride + 1;
      std::vector<float> x = randomData(c.n * c.c * c.h * c.w, 15), y(c.n * c.c * oh * ow);
      PoolParams p{2, {c.k, c.k}, {c.stride, c.stride}, {1, 1}, {c.padBefore, c.padBefore}, {c.padAfter, c.padAfter}};
      llvm::Error err = pool(kind, x.data(), {c.n, c.c, c.h, c.w}, y.data(), {c.n, c.c, oh, ow}, p);
      ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
      for (int64_t plane = 0; plane < c.n * c.c; ++plane)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            double acc = kind == Pooling::Max ? -INFINITY : 0.0;
            int64_t inputs = 0, window = 0;
            for (int64_t a = 0; a < c.k; ++a)
              for (int64_t b = 0; b < c.k; ++b) {
                int64_t hi = i * c.stride - c.padBefore + a, wi = j * c.stride - c.padBefore + b;
                if (hi < c.h + c.padAfter && wi < c.w + c.padAfter)
                  ++window;
                if (hi < 0 || hi >= c.h || wi < 0 || wi >= c.w)
                  continue;
                double v = x[(plane * c.h + hi) * c.w + wi];
                acc = kind == Pooling::Max ? std::max(acc, v) : acc + v;
                ++inputs;
              }
            if (kind == Pooling::AverageCountingPads)
              acc /= window;
            else if (kind == Pooling::AverageOfInputs)
              acc /= inputs;
            ASSERT_NEAR(y[(plane * oh + i) * ow + j], acc, 1e-5 * (1 + std::abs(acc)))
                << "kind " << static_cast<int>(kind) << " k " << c.k << " stride " << c.stride;
          }
    }
}

/// Dilated max pooling over 1 and 3 spatial dimensions (oneDNN's pooling
/// v2): every window of every shape up to 4 wide, against direct loops.
TEST(KernelsTest, DilatedPoolingIn1And3Dimensions) {
  for (int spatial : {1, 3})
    for (int64_t k = 1; k <= 2; ++k)
      for (int64_t dilation = 1; dilation <= 2; ++dilation)
        for (int64_t stride = 1; stride <= 2; ++stride) {
          int64_t extent = 4, span = (k - 1) * dilation + 1, out = (extent - span) / stride + 1, planes = 2;
          int64_t inPlane = 1, outPlane = 1;
          llvm::SmallVector<int64_t> xShape = {1, planes}, yShape = {1, planes};
          PoolParams p{spatial, {}, {}, {}, {}, {}};
          for (int d = 0; d < spatial; ++d) {
            xShape.push_back(extent);
            yShape.push_back(out);
            inPlane *= extent;
            outPlane *= out;
            p.kernel[d] = k;
            p.strides[d] = stride;
            p.dilations[d] = dilation;
          }
          std::vector<float> x = randomData(planes * inPlane, 19), y(planes * outPlane);
          llvm::Error err = pool(Pooling::Max, x.data(), xShape, y.data(), yShape, p);
          ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
          for (int64_t plane = 0; plane < planes; ++plane)
            for (int64_t o = 0; o < outPlane; ++o) {
              float want = -INFINITY;
              int64_t window = 1;
              for (int d = 0; d < spatial; ++d)
                window *= k;
              for (int64_t tap = 0; tap < window; ++tap) {
                int64_t offset = 0;
                for (int64_t d = 0, restO = o, restT = tap; d < spatial; ++d) {
                  int64_t index = (restO % out) * stride + (restT % k) * dilation;
                  restO /= out;
                  restT /= k;
                  int64_t scale = 1;
                  for (int64_t e = 0; e < d; ++e)
                    scale *= extent;
                  offset += index * scale;
                }
                want = std::max(want, x[plane * inPlane + offset]);
              }
              ASSERT_EQ(y[plane * outPlane + o], want) << spatial << "-D k " << k << " dilation " << dilation;
            }
        }
}

TEST(KernelsTest, ChannelAffine) {
  std::vector<float> x = randomData(2 * 3 * 50, 16), y(x.size()), scale = randomData(3, 17), shift = randomData(3, 18);
  channelAffine(x.data(), y.data(), 2, 3, 50, scale.data(), shift.data());
  for (size_t i = 0; i < x.size(); ++i) {
    size_t c = i / 50 % 3;
    double want = double(x[i]) * scale[c] + shift[c]; // FMA may round once
    ASSERT_NEAR(y[i], want, 1e-6 * (1 + std::abs(want)));
  }
  // Channels last (inner 1): rows of the 3 channels, in place.
  std::vector<float> z = x;
  channelAffine(z.data(), z.data(), 100, 3, 1, scale.data(), shift.data());
  for (size_t i = 0; i < x.size(); ++i) {
    double want = double(x[i]) * scale[i % 3] + shift[i % 3];
    ASSERT_NEAR(z[i], want, 1e-6 * (1 + std::abs(want)));
  }
  // With the ReLU in the same pass, both layouts.
  for (int64_t inner : {50, 1}) {
    int64_t batches = inner == 1 ? 100 : 2;
    channelAffine(x.data(), y.data(), batches, 3, inner, scale.data(), shift.data(), /*relu=*/true);
    for (size_t i = 0; i < x.size(); ++i) {
      size_t c = inner == 1 ? i % 3 : i / 50 % 3;
      double want = std::max(0.0, double(x[i]) * scale[c] + shift[c]);
      ASSERT_NEAR(y[i], want, 1e-6 * (1 + std::abs(want))) << "inner " << inner;
    }
  }
}

/// MindSpore's LSTM written out step by step in double: every layer and
/// direction with weights at the offsets the flat w documents.
void referenceLSTM(const std::vector<float> &x, const std::vector<float> &h0, const std::vector<float> &c0,
                   const std::vector<float> &w, const LSTMParams &p, std::vector<double> &y, std::vector<double> &hn,
                   std::vector<double> &cn) {
  int64_t dirs = p.bidirectional ? 2 : 1, H = p.hiddenSize, G = 4 * H, B = p.batch, S = p.seq;
  int64_t inputWeights = 0;
  for (int64_t l = 0; l < p.layers; ++l)
    inputWeights += G * (l == 0 ? p.inputSize : H * dirs) * dirs;
  int64_t recurrentWeights = G * H * dirs * p.layers, layerOffset = 0;
  std::vector<double> in(x.begin(), x.end());
  hn.assign(p.layers * dirs * B * H, 0);
  cn = hn;
  for (int64_t l = 0; l < p.layers; ++l) {
    int64_t I = l == 0 ? p.inputSize : H * dirs;
    std::vector<double> out(S * B * H * dirs);
    for (int64_t d = 0; d < dirs; ++d) {
      const float *wi = w.data() + layerOffset + d * G * I;
      const float *wh = w.data() + inputWeights + (l * dirs + d) * G * H;
      const float *bias = p.hasBias ? w.data() + inputWeights + recurrentWeights + (l * dirs + d) * G : nullptr;
      int64_t state = (l * dirs + d) * B * H;
      std::vector<double> h(h0.begin() + state, h0.begin() + state + B * H), c(c0.begin() + state, c0.begin() + state + B * H);
      for (int64_t k = 0; k < S; ++k) {
        int64_t t = d == 0 ? k : S - 1 - k;
        std::vector<double> next(B * H), nextC(B * H);
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < H; ++j) {
            double gate[4];
            for (int g = 0; g < 4; ++g) {
              int64_t row = g * H + j;
              double sum = bias ? bias[row] : 0.0;
              for (int64_t q = 0; q < I; ++q)
                sum += in[(t * B + b) * I + q] * wi[row * I + q];
              for (int64_t q = 0; q < H; ++q)
                sum += h[b * H + q] * wh[row * H + q];
              gate[g] = sum;
            }
            auto sigmoid = [](double v) { return 1 / (1 + std::exp(-v)); };
            nextC[b * H + j] = sigmoid(gate[1]) * c[b * H + j] + sigmoid(gate[0]) * std::tanh(gate[2]);
            next[b * H + j] = sigmoid(gate[3]) * std::tanh(nextC[b * H + j]);
            out[(t * B + b) * H * dirs + d * H + j] = next[b * H + j];
          }
        h = next;
        c = nextC;
      }
      std::copy(h.begin(), h.end(), hn.begin() + state);
      std::copy(c.begin(), c.end(), cn.begin() + state);
    }
    layerOffset += G * I * dirs;
    in = out;
  }
  y = in;
}

TEST(KernelsTest, LSTMAgainstStepByStep) {
  const LSTMParams cases[] = {{5, 2, 4, 3, 1, false, true},  {4, 3, 2, 5, 1, true, true}, {3, 2, 4, 3, 2, true, true},
                              {6, 1, 3, 4, 3, false, false}, {1, 4, 2, 2, 1, true, false}};
  for (const LSTMParams &p : cases) {
    int64_t dirs = p.bidirectional ? 2 : 1, states = p.layers * dirs * p.batch * p.hiddenSize;
    int64_t count = 0;
    for (int64_t l = 0; l < p.layers; ++l)
      count += 4 * p.hiddenSize * (l == 0 ? p.inputSize : p.hiddenSize * dirs) * dirs;
    count += 4 * p.hiddenSize * p.hiddenSize * dirs * p.layers + (p.hasBias ? 4 * p.hiddenSize * dirs * p.layers : 0);
    std::vector<float> x = randomData(p.seq * p.batch * p.inputSize, 20), h0 = randomData(states, 21, 0.5f),
                       c0 = randomData(states, 22, 0.5f), w = randomData(count, 23, 0.5f);
    std::vector<float> y(p.seq * p.batch * p.hiddenSize * dirs), hn(states), cn(states);
    llvm::Error err = lstm(x.data(), h0.data(), c0.data(), w.data(), y.data(), hn.data(), cn.data(), p);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    std::vector<double> wantY, wantH, wantC;
    referenceLSTM(x, h0, c0, w, p, wantY, wantH, wantC);
    for (size_t i = 0; i < y.size(); ++i)
      ASSERT_NEAR(y[i], wantY[i], 1e-5) << "output " << i << " of layers=" << p.layers << " dirs=" << dirs;
    for (size_t i = 0; i < hn.size(); ++i) {
      ASSERT_NEAR(hn[i], wantH[i], 1e-5) << "h_n " << i;
      ASSERT_NEAR(cn[i], wantC[i], 1e-5) << "c_n " << i;
    }
  }
}

} // namespace
