//===- Kernels.cpp - float32 CPU kernels of the interpreter ---------------===//

#include "dinfer/Runtime/Kernels.h"

#include "dinfer/Runtime/Interpreter.h"

#include "VectorMath.h"

#include "llvm/ADT/SmallVector.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <sys/mman.h>
#include <unistd.h>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

using namespace dinfer;
using namespace dinfer::kernels;
using namespace dinfer::kernels::detail;
using llvm::ArrayRef;
using llvm::SmallVector;

void dinfer::setKernelThreads(unsigned threads) {
  if (threads)
    omp_set_num_threads(static_cast<int>(threads));
}

void kernels::parallelFor(int64_t count, int64_t costPerItem, llvm::function_ref<void(int64_t, int64_t)> body) {
  // Below this much work a fork-join costs more than it saves.
  constexpr int64_t minimumWork = 1 << 15;
  int threads = omp_get_max_threads();
  if (threads <= 1 || count <= 1 || count * costPerItem < minimumWork || omp_in_parallel()) {
    body(0, count);
    return;
  }
  threads = static_cast<int>(std::min<int64_t>(threads, count));
#pragma omp parallel num_threads(threads)
  {
    int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    int64_t begin = count * t / n, end = count * (t + 1) / n;
    if (begin < end)
      body(begin, end);
  }
}

//===----------------------------------------------------------------------===//
// Elementwise math
//===----------------------------------------------------------------------===//

namespace {

template <Unary kind>
DINFER_INLINE float apply(float x) {
  switch (kind) {
  case Unary::Exp: return expApprox(x);
  case Unary::Erf: return erfApprox(x);
  case Unary::Tanh: return tanhApprox(x);
  case Unary::Sigmoid: return sigmoidApprox(x);
  case Unary::SiLU: return x * sigmoidApprox(x);
  case Unary::ReLU: return x > 0.0f ? x : 0.0f;
  // 1 + tanh(u) = 2·sigmoid(2u) does not cancel where x is very negative
  // (geluApprox's erfc does the same for the exact form).
  case Unary::GeLU: return geluApprox(x);
  case Unary::GeLUTanh: return x * sigmoidApprox(1.5957691216057308f * (x + 0.044715f * x * x * x));
  case Unary::FastGeLU: {
    float a = std::fabs(x);
    return x / (1.0f + expApprox(-1.702f * a)) * expApprox(0.851f * (x - a));
  }
  case Unary::Neg: return -x;
  case Unary::Sqrt: return std::sqrt(x);
  case Unary::Log: return std::log(x);
  case Unary::HSwish: return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) * (1.0f / 6.0f);
  }
  return x;
}

template <Unary kind>
DINFER_VECTOR_CLONES void unaryLoop(const float *__restrict x, float *__restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = apply<kind>(x[i]);
}

/// The same loop for x == y: __restrict must not lie.
template <Unary kind>
DINFER_VECTOR_CLONES void unaryInPlace(float *x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    x[i] = apply<kind>(x[i]);
}

template <Unary kind>
void unaryRange(const float *x, float *y, int64_t begin, int64_t end) {
  if (x == y)
    unaryInPlace<kind>(y + begin, end - begin);
  else
    unaryLoop<kind>(x + begin, y + begin, end - begin);
}

template <Binary kind>
DINFER_INLINE float combine(float a, float b) {
  switch (kind) {
  case Binary::Add: return a + b;
  case Binary::Sub: return a - b;
  case Binary::Mul: return a * b;
  case Binary::Div: return a / b;
  case Binary::Pow: return std::pow(a, b);
  // NaN from either side, as numpy's maximum and ONNX's Max.
  case Binary::Max: return (a > b || a != a) ? a : b;
  case Binary::Min: return (a < b || a != a) ? a : b;
  }
  return a;
}

template <Binary kind>
DINFER_VECTOR_CLONES void binaryLoop(const float *x, const float *y, float *z, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    z[i] = combine<kind>(x[i], y[i]);
}

template <Binary kind>
DINFER_VECTOR_CLONES void binaryScalarRight(const float *x, float y, float *z, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    z[i] = combine<kind>(x[i], y);
}

template <Binary kind>
DINFER_VECTOR_CLONES void binaryScalarLeftLoop(float x, const float *y, float *z, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    z[i] = combine<kind>(x, y[i]);
}

template <Binary kind>
void binaryDispatch(const float *x, const float *y, float *z, int64_t count, int64_t yCount) {
  if (yCount == 1) {
    float scalar = *y;
    parallelFor(count, 1, [&](int64_t b, int64_t e) { binaryScalarRight<kind>(x + b, scalar, z + b, e - b); });
    return;
  }
  if (yCount == count) {
    parallelFor(count, 1, [&](int64_t b, int64_t e) { binaryLoop<kind>(x + b, y + b, z + b, e - b); });
    return;
  }
  int64_t rows = count / yCount;
  parallelFor(rows, yCount, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      binaryLoop<kind>(x + r * yCount, y, z + r * yCount, yCount);
  });
}

/// One run of a broadcast: each side contiguous (stride 1) or one value
/// repeated (stride 0).
template <Binary kind>
void broadcastRun(const float *x, int64_t xStride, const float *y, int64_t yStride, float *z, int64_t n) {
  if (xStride && yStride)
    binaryLoop<kind>(x, y, z, n);
  else if (xStride)
    binaryScalarRight<kind>(x, *y, z, n);
  else if (yStride)
    binaryScalarLeftLoop<kind>(*x, y, z, n);
  else
    std::fill(z, z + n, combine<kind>(*x, *y));
}

template <Binary kind>
void broadcastDispatch(const float *x, llvm::ArrayRef<int64_t> xStrides, const float *y,
                       llvm::ArrayRef<int64_t> yStrides, float *z, llvm::ArrayRef<int64_t> shape) {
  size_t rank = shape.size();
  int64_t run = shape[rank - 1], rows = 1;
  for (size_t d = 0; d + 1 < rank; ++d)
    rows *= shape[d];
  parallelFor(rows, run, [&](int64_t begin, int64_t end) {
    llvm::SmallVector<int64_t, 6> index(rank - 1, 0);
    int64_t rest = begin;
    for (size_t d = rank - 1; d-- > 0;) {
      index[d] = rest % shape[d];
      rest /= shape[d];
    }
    for (int64_t r = begin; r < end; ++r) {
      int64_t xOffset = 0, yOffset = 0;
      for (size_t d = 0; d + 1 < rank; ++d) {
        xOffset += index[d] * xStrides[d];
        yOffset += index[d] * yStrides[d];
      }
      broadcastRun<kind>(x + xOffset, xStrides[rank - 1], y + yOffset, yStrides[rank - 1], z + r * run, run);
      for (size_t d = rank - 1; d-- > 0;) {
        if (++index[d] < shape[d])
          break;
        index[d] = 0;
      }
    }
  });
}

/// Sum of a row in 16 running lanes (a sum the compiler may vectorise
/// without reassociating one accumulator), the lanes added in double.
DINFER_VECTOR_CLONES double rowSum(const float *x, int64_t n) {
  constexpr int64_t lanes = 16;
  float partial[lanes] = {};
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (int64_t l = 0; l < lanes; ++l)
      partial[l] += x[i + l];
  double sum = 0;
  for (int64_t l = 0; l < lanes; ++l)
    sum += partial[l];
  for (; i < n; ++i)
    sum += x[i];
  return sum;
}

DINFER_VECTOR_CLONES float rowMin(const float *x, int64_t n) {
  float m = INFINITY;
  for (int64_t i = 0; i < n; ++i)
    m = std::min(m, x[i]);
  return m;
}

/// y[c] = x[c] · scale[c] + shift[c].
DINFER_VECTOR_CLONES void affineChannels(const float *x, float *y, int64_t n, const float *scale, const float *shift) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = x[i] * scale[i] + shift[i];
}

DINFER_VECTOR_CLONES void affineChannelsReLU(const float *x, float *y, int64_t n, const float *scale,
                                             const float *shift) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = std::max(x[i] * scale[i] + shift[i], 0.0f);
}

DINFER_VECTOR_CLONES float rowMax(const float *x, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i)
    m = std::max(m, x[i]);
  return m;
}

DINFER_VECTOR_CLONES float expShiftedSum(const float *__restrict x, float *__restrict y, int64_t n, float shift) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = expApprox(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

DINFER_VECTOR_CLONES void scaleRow(float *y, int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i)
    y[i] *= scale;
}

DINFER_VECTOR_CLONES void shiftRow(const float *x, float *y, int64_t n, float shift) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = x[i] - shift;
}

DINFER_VECTOR_CLONES void meanAndVariance(const float *x, int64_t n, float &mean, float &variance) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += x[i];
  mean = sum / n;
  float squares = 0;
  for (int64_t i = 0; i < n; ++i)
    squares += (x[i] - mean) * (x[i] - mean);
  variance = squares / n;
}

DINFER_VECTOR_CLONES void normalizeRow(const float *x, const float *gamma, const float *beta, float *y, int64_t n,
                                       float mean, float scale) {
  if (beta) {
    for (int64_t i = 0; i < n; ++i)
      y[i] = (x[i] - mean) * scale * gamma[i] + beta[i];
  } else {
    for (int64_t i = 0; i < n; ++i)
      y[i] = (x[i] - mean) * scale * gamma[i];
  }
}

DINFER_VECTOR_CLONES float sumOfSquares(const float *x, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += x[i] * x[i];
  return sum;
}

} // namespace

void kernels::unary(Unary kind, const float *x, float *y, int64_t count) {
  auto run = [&](auto range) { parallelFor(count, 8, [&](int64_t b, int64_t e) { range(x, y, b, e); }); };
  switch (kind) {
  case Unary::Exp: return run(unaryRange<Unary::Exp>);
  case Unary::Erf: return run(unaryRange<Unary::Erf>);
  case Unary::Tanh: return run(unaryRange<Unary::Tanh>);
  case Unary::Sigmoid: return run([](const float *x, float *y, int64_t b, int64_t e) { logistic(false, x + b, y + b, e - b); });
  case Unary::SiLU: return run([](const float *x, float *y, int64_t b, int64_t e) { logistic(true, x + b, y + b, e - b); });
  case Unary::ReLU: return run(unaryRange<Unary::ReLU>);
  case Unary::GeLU: return run([](const float *x, float *y, int64_t b, int64_t e) { gelu(x + b, y + b, e - b); });
  case Unary::GeLUTanh: return run(unaryRange<Unary::GeLUTanh>);
  case Unary::FastGeLU: return run(unaryRange<Unary::FastGeLU>);
  case Unary::Neg: return run(unaryRange<Unary::Neg>);
  case Unary::Sqrt: return run(unaryRange<Unary::Sqrt>);
  case Unary::Log: return run(unaryRange<Unary::Log>);
  case Unary::HSwish: return run(unaryRange<Unary::HSwish>);
  }
}

void kernels::binaryRows(Binary kind, const float *x, const float *y, float *z, int64_t count, int64_t yCount) {
  switch (kind) {
  case Binary::Add: return binaryDispatch<Binary::Add>(x, y, z, count, yCount);
  case Binary::Sub: return binaryDispatch<Binary::Sub>(x, y, z, count, yCount);
  case Binary::Mul: return binaryDispatch<Binary::Mul>(x, y, z, count, yCount);
  case Binary::Div: return binaryDispatch<Binary::Div>(x, y, z, count, yCount);
  case Binary::Pow: return binaryDispatch<Binary::Pow>(x, y, z, count, yCount);
  case Binary::Max: return binaryDispatch<Binary::Max>(x, y, z, count, yCount);
  case Binary::Min: return binaryDispatch<Binary::Min>(x, y, z, count, yCount);
  }
}

void kernels::binaryBroadcast(Binary kind, const float *x, llvm::ArrayRef<int64_t> xShape, const float *y,
                              llvm::ArrayRef<int64_t> yShape, float *z, llvm::ArrayRef<int64_t> zShape) {
  // Each operand's stride per output dimension (0 where it is broadcast),
  // dimensions of 1 dropped and neighbours that both operands walk alike
  // merged: [N, C, H, W] * [N, C, 1, 1] becomes N·C runs of H·W.
  llvm::SmallVector<int64_t, 6> shape, xStrides, yStrides;
  auto strideOf = [&](llvm::ArrayRef<int64_t> operand, size_t d) {
    size_t offset = zShape.size() - operand.size();
    if (d < offset || operand[d - offset] == 1)
      return int64_t(0);
    int64_t stride = 1;
    for (size_t e = d - offset + 1; e < operand.size(); ++e)
      stride *= operand[e];
    return stride;
  };
  for (size_t d = 0; d < zShape.size(); ++d) {
    if (zShape[d] == 1)
      continue;
    int64_t xs = strideOf(xShape, d), ys = strideOf(yShape, d);
    if (!shape.empty() && xStrides.back() == xs * zShape[d] && yStrides.back() == ys * zShape[d]) {
      shape.back() *= zShape[d];
      xStrides.back() = xs;
      yStrides.back() = ys;
      continue;
    }
    shape.push_back(zShape[d]);
    xStrides.push_back(xs);
    yStrides.push_back(ys);
  }
  if (shape.empty()) { // one element
    shape.push_back(1);
    xStrides.push_back(1);
    yStrides.push_back(1);
  }
  switch (kind) {
  case Binary::Add: return broadcastDispatch<Binary::Add>(x, xStrides, y, yStrides, z, shape);
  case Binary::Sub: return broadcastDispatch<Binary::Sub>(x, xStrides, y, yStrides, z, shape);
  case Binary::Mul: return broadcastDispatch<Binary::Mul>(x, xStrides, y, yStrides, z, shape);
  case Binary::Div: return broadcastDispatch<Binary::Div>(x, xStrides, y, yStrides, z, shape);
  case Binary::Pow: return broadcastDispatch<Binary::Pow>(x, xStrides, y, yStrides, z, shape);
  case Binary::Max: return broadcastDispatch<Binary::Max>(x, xStrides, y, yStrides, z, shape);
  case Binary::Min: return broadcastDispatch<Binary::Min>(x, xStrides, y, yStrides, z, shape);
  }
}

void kernels::broadcastTo(const char *x, llvm::ArrayRef<int64_t> xShape, char *y, llvm::ArrayRef<int64_t> yShape,
                          size_t elementBytes) {
  // As binaryBroadcast: dimensions of 1 dropped, neighbours x walks alike merged.
  llvm::SmallVector<int64_t, 6> shape, strides;
  size_t offset = yShape.size() - xShape.size();
  for (size_t d = 0; d < yShape.size(); ++d) {
    if (yShape[d] == 1)
      continue;
    int64_t stride = 0;
    if (d >= offset && xShape[d - offset] != 1) {
      stride = 1;
      for (size_t e = d - offset + 1; e < xShape.size(); ++e)
        stride *= xShape[e];
    }
    if (!shape.empty() && strides.back() == stride * yShape[d]) {
      shape.back() *= yShape[d];
      strides.back() = stride;
      continue;
    }
    shape.push_back(yShape[d]);
    strides.push_back(stride);
  }
  if (shape.empty()) {
    std::memcpy(y, x, elementBytes);
    return;
  }
  size_t rank = shape.size();
  int64_t run = shape[rank - 1], rows = 1;
  for (size_t d = 0; d + 1 < rank; ++d)
    rows *= shape[d];
  int64_t runBytes = run * static_cast<int64_t>(elementBytes);
  parallelFor(rows, run, [&](int64_t begin, int64_t end) {
    llvm::SmallVector<int64_t, 6> index(rank - 1, 0);
    int64_t rest = begin;
    for (size_t d = rank - 1; d-- > 0;) {
      index[d] = rest % shape[d];
      rest /= shape[d];
    }
    for (int64_t r = begin; r < end; ++r) {
      int64_t source = 0;
      for (size_t d = 0; d + 1 < rank; ++d)
        source += index[d] * strides[d];
      const char *from = x + source * static_cast<int64_t>(elementBytes);
      char *to = y + r * runBytes;
      if (strides[rank - 1]) {
        std::memcpy(to, from, runBytes);
      } else {
        for (int64_t i = 0; i < run; ++i)
          std::memcpy(to + i * static_cast<int64_t>(elementBytes), from, elementBytes);
      }
      for (size_t d = rank - 1; d-- > 0;) {
        if (++index[d] < shape[d])
          break;
        index[d] = 0;
      }
    }
  });
}

void kernels::binaryScalarLeft(Binary kind, float x, const float *y, float *z, int64_t count) {
  auto run = [&](auto loop) { parallelFor(count, 1, [&](int64_t b, int64_t e) { loop(x, y + b, z + b, e - b); }); };
  switch (kind) {
  case Binary::Add: return run(binaryScalarLeftLoop<Binary::Add>);
  case Binary::Sub: return run(binaryScalarLeftLoop<Binary::Sub>);
  case Binary::Mul: return run(binaryScalarLeftLoop<Binary::Mul>);
  case Binary::Div: return run(binaryScalarLeftLoop<Binary::Div>);
  case Binary::Pow: return run(binaryScalarLeftLoop<Binary::Pow>);
  case Binary::Max: return run(binaryScalarLeftLoop<Binary::Max>);
  case Binary::Min: return run(binaryScalarLeftLoop<Binary::Min>);
  }
}

namespace {
/// Combines `rows` rows of `inner` elements into `acc` (which holds the
/// first): inlined, so a row of a few dozen elements costs no call.
DINFER_VECTOR_CLONES void accumulateRows(kernels::Reduce kind, const float *__restrict x, float *__restrict acc,
                                         int64_t rows, int64_t inner) {
  switch (kind) {
  case kernels::Reduce::Sum:
  case kernels::Reduce::Mean:
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < inner; ++c)
        acc[c] += x[r * inner + c];
    return;
  case kernels::Reduce::Max:
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < inner; ++c)
        acc[c] = std::max(acc[c], x[r * inner + c]);
    return;
  case kernels::Reduce::Min:
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < inner; ++c)
        acc[c] = std::min(acc[c], x[r * inner + c]);
    return;
  }
}
} // namespace

void kernels::reduceMiddle(Reduce kind, const float *x, float *y, int64_t outer, int64_t reduced, int64_t inner) {
  if (inner > 1 && inner <= 4096 && reduced >= 64) {
    // Many short rows (global pooling of a channels-last map: H·W rows of C):
    // each thread combines a band of rows into its own row, then the bands
    // are combined. Splitting the channels instead would give each thread
    // a few elements of every row.
    int64_t bands = std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), reduced / 32));
    std::vector<float> partial(static_cast<size_t>(bands * inner));
    for (int64_t o = 0; o < outer; ++o) {
      const float *block = x + o * reduced * inner;
      parallelFor(bands, reduced * inner / bands, [&](int64_t b, int64_t e) {
        for (int64_t band = b; band < e; ++band) {
          int64_t first = reduced * band / bands, last = reduced * (band + 1) / bands;
          float *acc = partial.data() + band * inner;
          std::copy(block + first * inner, block + (first + 1) * inner, acc);
          accumulateRows(kind, block + (first + 1) * inner, acc, last - first - 1, inner);
        }
      });
      float *out = y + o * inner;
      std::copy(partial.begin(), partial.begin() + inner, out);
      accumulateRows(kind, partial.data() + inner, out, bands - 1, inner);
      if (kind == Reduce::Mean)
        binaryScalarRight<Binary::Mul>(out, 1.0f / static_cast<float>(reduced), out, inner);
    }
    return;
  }
  if (inner == 1) {
    // Each output a contiguous row of the input.
    parallelFor(outer, reduced, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const float *row = x + o * reduced;
        switch (kind) {
        case Reduce::Sum: y[o] = static_cast<float>(rowSum(row, reduced)); break;
        case Reduce::Mean: y[o] = static_cast<float>(rowSum(row, reduced) / static_cast<double>(reduced)); break;
        case Reduce::Max: y[o] = rowMax(row, reduced); break;
        case Reduce::Min: y[o] = rowMin(row, reduced); break;
        }
      }
    });
    return;
  }
  // Rows of `inner` combined elementwise, one output row per outer index.
  parallelFor(outer * inner, reduced, [&](int64_t b, int64_t e) {
    // Whole output rows where the chunk allows; the loops below cover any part.
    for (int64_t i = b; i < e;) {
      int64_t o = i / inner, c = i % inner, n = std::min(inner - c, e - i);
      const float *first = x + o * reduced * inner + c;
      float *out = y + i;
      std::copy(first, first + n, out);
      for (int64_t r = 1; r < reduced; ++r) {
        const float *row = first + r * inner;
        switch (kind) {
        case Reduce::Sum:
        case Reduce::Mean: binaryLoop<Binary::Add>(out, row, out, n); break;
        case Reduce::Max: binaryLoop<Binary::Max>(out, row, out, n); break;
        case Reduce::Min: binaryLoop<Binary::Min>(out, row, out, n); break;
        }
      }
      if (kind == Reduce::Mean)
        binaryScalarRight<Binary::Mul>(out, 1.0f / static_cast<float>(reduced), out, n);
      i += n;
    }
  });
}

void kernels::softmaxRows(const float *x, float *y, int64_t rows, int64_t length, bool log) {
  parallelFor(rows, length * 8, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float *in = x + r * length;
      float *out = y + r * length;
      float max = rowMax(in, length);
      if (std::isinf(max) && max < 0) { // every entry -inf: numpy gives NaN
        std::fill(out, out + length, NAN);
        continue;
      }
      float sum = expShiftedSum(in, out, length, max);
      if (log)
        shiftRow(in, out, length, max + std::log(sum));
      else
        scaleRow(out, length, 1.0f / sum);
    }
  });
}

void kernels::layerNormRows(const float *x, const float *gamma, const float *beta, float *y, int64_t rows,
                            int64_t length, float eps) {
  parallelFor(rows, length * 4, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      float mean, variance;
      meanAndVariance(x + r * length, length, mean, variance);
      normalizeRow(x + r * length, gamma, beta, y + r * length, length, mean, 1.0f / std::sqrt(variance + eps));
    }
  });
}

void kernels::rmsNormRows(const float *x, const float *gamma, float *y, int64_t rows, int64_t length, float eps) {
  parallelFor(rows, length * 3, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      float scale = 1.0f / std::sqrt(sumOfSquares(x + r * length, length) / length + eps);
      normalizeRow(x + r * length, gamma, nullptr, y + r * length, length, 0.0f, scale);
    }
  });
}

namespace {
DINFER_VECTOR_CLONES void affineRow(const float *x, float *y, int64_t n, float scale, float shift) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = x[i] * scale + shift;
}

DINFER_VECTOR_CLONES void affineRowReLU(const float *x, float *y, int64_t n, float scale, float shift) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = std::max(x[i] * scale + shift, 0.0f);
}
} // namespace

void kernels::channelAffine(const float *x, float *y, int64_t batches, int64_t channels, int64_t inner,
                            const float *scale, const float *shift, bool relu) {
  if (inner == 1) { // channels last: each row of `channels` against the two vectors
    parallelFor(batches, channels * 2, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row)
        (relu ? affineChannelsReLU : affineChannels)(x + row * channels, y + row * channels, channels, scale, shift);
    });
    return;
  }
  parallelFor(batches * channels, inner * 2, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row)
      (relu ? affineRowReLU : affineRow)(x + row * inner, y + row * inner, inner, scale[row % channels],
                                         shift[row % channels]);
  });
}

namespace {
/// Rows per block of a blocked transpose, and columns.
constexpr int64_t kTransposeBlock = 8;

/// y[i * yRowStride + j] = x[i + j * xColumnStride] for rows i in
/// [rowBegin, rowEnd) and j < columns: one plane of a transpose whose output
/// rows run across the input's rows (attention's K^T, NCHW <-> NHWC). Whole
/// 8x8 blocks go through a local tile, read eight consecutive input elements
/// and written eight consecutive output elements at a time; element by
/// element, with a memcpy call each, it was ten times slower.
template <typename T>
void transposePlane(const T *x, T *y, int64_t columns, int64_t xColumnStride, int64_t yRowStride, int64_t rowBegin,
                    int64_t rowEnd) {
  constexpr int64_t kBlock = kTransposeBlock;
  auto elementwise = [&](int64_t iBegin, int64_t iEnd, int64_t jBegin) {
    for (int64_t i = iBegin; i < iEnd; ++i)
      for (int64_t j = jBegin; j < columns; ++j)
        y[i * yRowStride + j] = x[i + j * xColumnStride];
  };
  int64_t i0 = rowBegin;
  for (; i0 + kBlock <= rowEnd; i0 += kBlock) {
    int64_t j0 = 0;
    for (; j0 + kBlock <= columns; j0 += kBlock) {
      T tile[kBlock][kBlock];
      for (int64_t j = 0; j < kBlock; ++j)
        for (int64_t i = 0; i < kBlock; ++i)
          tile[i][j] = x[i0 + i + (j0 + j) * xColumnStride];
      for (int64_t i = 0; i < kBlock; ++i)
        for (int64_t j = 0; j < kBlock; ++j)
          y[(i0 + i) * yRowStride + j0 + j] = tile[i][j];
    }
    elementwise(i0, i0 + kBlock, j0);
  }
  elementwise(i0, rowEnd, 0);
}

/// A transpose that moves the input's last dimension (stride 1) to output
/// dimension `unitDim`, not last: planes over (unitDim, last), each a
/// blocked 2-D transpose, over every index of the other output dimensions.
template <typename T>
void transposeByPlanes(const T *x, T *y, ArrayRef<int64_t> outShape, ArrayRef<int64_t> stepOf, size_t unitDim) {
  size_t rank = outShape.size(), last = rank - 1;
  SmallVector<int64_t, 6> outStrides(rank, 1);
  for (size_t d = rank; d-- > 1;)
    outStrides[d - 1] = outStrides[d] * outShape[d];
  SmallVector<size_t, 6> outer;
  int64_t planes = 1;
  for (size_t d = 0; d < last; ++d)
    if (d != unitDim) {
      outer.push_back(d);
      planes *= outShape[d];
    }
  int64_t rows = outShape[unitDim], columns = outShape[last];
  int64_t bands = (rows + kTransposeBlock - 1) / kTransposeBlock;
  parallelFor(planes * bands, kTransposeBlock * columns, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      int64_t plane = task / bands, band = task % bands, rest = plane, source = 0, target = 0;
      for (size_t k = outer.size(); k-- > 0;) {
        size_t d = outer[k];
        int64_t index = rest % outShape[d];
        rest /= outShape[d];
        source += index * stepOf[d];
        target += index * outStrides[d];
      }
      int64_t first = band * kTransposeBlock;
      transposePlane(x + source, y + target, columns, stepOf[last], outStrides[unitDim], first,
                     std::min(rows, first + kTransposeBlock));
    }
  });
}
} // namespace

void kernels::transpose(const char *x, char *y, ArrayRef<int64_t> shape, ArrayRef<int64_t> perm, size_t elementBytes) {
  size_t rank = shape.size();
  SmallVector<int64_t, 6> inStrides(rank, 1), outShape(rank), stepOf(rank);
  for (size_t d = rank; d-- > 1;)
    inStrides[d - 1] = inStrides[d] * shape[d];
  int64_t total = 1;
  for (size_t d = 0; d < rank; ++d) {
    outShape[d] = shape[perm[d]];
    stepOf[d] = inStrides[perm[d]];
    total *= outShape[d];
  }
  if (total == 0)
    return;
  if (rank == 0) {
    std::memcpy(y, x, elementBytes);
    return;
  }
  // Rows of the output that are contiguous in the input copy whole.
  bool rowsContiguous = perm.back() == static_cast<int64_t>(rank) - 1;
  // Typed planes need both sides aligned for their element type (weights
  // mapped from a file may not be); the byte copies below take any address.
  bool aligned = elementBytes && (reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(y)) % elementBytes == 0;
  if (!rowsContiguous && aligned) {
    size_t unitDim = llvm::find(perm, static_cast<int64_t>(rank) - 1) - perm.begin();
    auto planes = [&](auto element) {
      using T = decltype(element);
      transposeByPlanes(reinterpret_cast<const T *>(x), reinterpret_cast<T *>(y), outShape, stepOf, unitDim);
    };
    switch (elementBytes) {
    case 1: return planes(uint8_t());
    case 2: return planes(uint16_t());
    case 4: return planes(uint32_t());
    case 8: return planes(uint64_t());
    default: break;
    }
  }
  int64_t row = rowsContiguous ? outShape.back() : 1;
  size_t loopRank = rowsContiguous ? rank - 1 : rank;
  int64_t rows = total / row;
  size_t rowBytes = row * elementBytes;
  parallelFor(rows, row + 8, [&](int64_t begin, int64_t end) {
    // An odometer over the output's outer dimensions.
    SmallVector<int64_t, 6> index(loopRank, 0);
    int64_t rest = begin, source = 0;
    for (size_t d = loopRank; d-- > 0;) {
      index[d] = rest % outShape[d];
      rest /= outShape[d];
      source += index[d] * stepOf[d];
    }
    for (int64_t r = begin; r < end; ++r) {
      std::memcpy(y + r * rowBytes, x + source * elementBytes, rowBytes);
      for (size_t d = loopRank; d-- > 0;) {
        source += stepOf[d];
        if (++index[d] < outShape[d])
          break;
        source -= stepOf[d] * outShape[d];
        index[d] = 0;
      }
    }
  });
}

//===----------------------------------------------------------------------===//
// oneDNN
//===----------------------------------------------------------------------===//

namespace {

using dnnl::memory;

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream &threadStream() {
  thread_local dnnl::stream stream(cpuEngine());
  return stream;
}

/// Primitives by a key of their shapes: building one costs more than a
/// small product, and a program runs the same shapes again and again.
template <typename Primitive>
struct Compiled {
  typename Primitive::primitive_desc descriptor;
  Primitive executable;
  explicit Compiled(typename Primitive::primitive_desc d) : descriptor(d), executable(descriptor) {}
};

template <typename Primitive>
class PrimitiveCache {
public:
  template <typename Build>
  std::shared_ptr<Compiled<Primitive>> get(const std::string &key, Build build) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end())
      return it->second;
    if (cache_.size() >= 4096)
      cache_.clear();
    auto compiled = std::make_shared<Compiled<Primitive>>(build());
    cache_.emplace(key, compiled);
    return compiled;
  }

private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Compiled<Primitive>>> cache_;
};

/// Primitives are shared by every thread that runs a kernel (ranks of an
/// in-process run among them). oneDNN's default scratchpad is shared by all
/// primitives and ties each primitive to the thread that created it, so
/// dinfer gives every execution a scratchpad of its own: one per thread.
dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/// `arguments` plus this thread's scratchpad, large enough for `pd`.
std::unordered_map<int, memory> withScratchpad(const dnnl::primitive_desc_base &pd,
                                               std::unordered_map<int, memory> arguments) {
  thread_local std::vector<char> scratch;
  memory::desc desc = pd.scratchpad_desc();
  size_t bytes = desc.get_size();
  if (scratch.size() < bytes)
    scratch.resize(bytes);
  arguments.insert({DNNL_ARG_SCRATCHPAD, memory(desc, cpuEngine(), scratch.data())});
  return arguments;
}

std::string keyOf(std::initializer_list<ArrayRef<int64_t>> lists) {
  std::string key;
  for (ArrayRef<int64_t> list : lists) {
    for (int64_t v : list)
      key += std::to_string(v) + ",";
    key += ";";
  }
  return key;
}

llvm::Error dnnlError(const char *what, const dnnl::error &e) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), std::string("oneDNN ") + what + ": " + e.what());
}

/// Logical [batch..., rows, cols] dims and strides of a stored matrix
/// operand, padded with leading 1s to `rank`.
void matrixDesc(ArrayRef<int64_t> stored, bool transposed, size_t rank, memory::dims &dims, memory::dims &strides) {
  SmallVector<int64_t, 6> contiguous(stored.size(), 1);
  for (size_t d = stored.size(); d-- > 1;)
    contiguous[d - 1] = contiguous[d] * stored[d];
  size_t pad = rank - stored.size();
  dims.assign(rank, 1);
  strides.assign(rank, 0);
  for (size_t d = 0; d < stored.size(); ++d) {
    dims[pad + d] = stored[d];
    strides[pad + d] = contiguous[d];
  }
  for (size_t d = 0; d < pad; ++d)
    strides[d] = contiguous.empty() ? 1 : contiguous[0] * stored[0];
  if (transposed) {
    std::swap(dims[rank - 1], dims[rank - 2]);
    std::swap(strides[rank - 1], strides[rank - 2]);
  }
}

} // namespace

namespace {
/// Weights given in `plain` layout at `weights`, in the layout `wanted`: the
/// same memory when they agree, a reordered copy otherwise.
memory packedWeights(const memory::desc &plain, const float *weights, const memory::desc &wanted) {
  memory given(plain, cpuEngine(), const_cast<float *>(weights));
  if (wanted == plain)
    return given;
  memory packed(wanted, cpuEngine());
  dnnl::reorder(given, packed).execute(threadStream(), given, packed);
  threadStream().wait();
  // Read once to pack it: a weight mapped from its model file is not held
  // twice (without swap, anonymous memory stays where it is).
  kernels::releasePages(weights, plain.get_size(), /*fileBacked=*/true);
  return packed;
}
} // namespace

struct kernels::PrepackedWeights::Storage {
  const float *source = nullptr;
  std::string key;
  bool bfloat16 = false;
  memory packed;
  std::shared_ptr<Compiled<dnnl::matmul>> compiled;
  std::shared_ptr<Compiled<dnnl::convolution_forward>> convolution;
  /// A depthwise convolution's filters as [KH, KW, C] (our own kernel's).
  std::vector<float> channelsLastFilters;
};

kernels::PrepackedWeights::PrepackedWeights() = default;
kernels::PrepackedWeights::~PrepackedWeights() = default;
bool kernels::PrepackedWeights::ranInBFloat16() const { return storage && storage->bfloat16; }
size_t kernels::PrepackedWeights::ownBytes() const {
  if (!storage)
    return 0;
  if (!storage->channelsLastFilters.empty())
    return storage->channelsLastFilters.size() * sizeof(float);
  const void *copy = storage->packed.get(/*allow_empty=*/true) ? storage->packed.get_data_handle() : nullptr;
  return copy && copy != storage->source ? storage->packed.get_desc().get_size() : 0;
}

void kernels::releasePages(const void *data, size_t bytes, bool fileBacked) {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) & ~(page - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(page - 1);
  if (end <= begin)
    return;
  if (!fileBacked) {
    (void)madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
    return;
  }
#ifdef MADV_PAGEOUT
  (void)madvise(reinterpret_cast<void *>(begin), end - begin, MADV_PAGEOUT);
#endif
}

namespace {
/// A primitive descriptor in bfloat16 when oneDNN has a real kernel for it:
/// none at all, or only its reference implementation (far slower than
/// float32), gives nothing and the caller stays in float32.
template <typename Primitive, typename Build>
std::shared_ptr<Compiled<Primitive>> bfloat16Primitive(PrimitiveCache<Primitive> &cache, const std::string &key,
                                                       Build build) {
  static std::mutex mutex;
  static std::set<std::string> refused;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (refused.count(key))
      return nullptr;
  }
  try {
    auto compiled = cache.get(key, build);
    if (!llvm::StringRef(compiled->descriptor.impl_info_str()).starts_with("ref"))
      return compiled;
  } catch (const dnnl::error &) {
  }
  std::lock_guard<std::mutex> lock(mutex);
  refused.insert(key);
  return nullptr;
}

/// Multiply-adds per output below which a convolution stays float32.
constexpr int64_t kMinBFloat16Depth = 32;

/// sum(w[i] * x[i]) over a weight row that may lie at any address in a mapped
/// model (read through memcpy), in 16 lanes so that it vectorises.
DINFER_VECTOR_CLONES float weightDot(const char *w, const float *x, int64_t n) {
  float lanes[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 16; ++k) {
      float wk;
      std::memcpy(&wk, w + (i + k) * sizeof(float), sizeof(float));
      lanes[k] += wk * x[i + k];
    }
  float sum = 0;
  for (float lane : lanes)
    sum += lane;
  for (; i < n; ++i) {
    float wi;
    std::memcpy(&wi, w + i * sizeof(float), sizeof(float));
    sum += wi * x[i];
  }
  return sum;
}

/// One row times a constant [N, K] matrix read transposed (a classifier's
/// head at batch 1, ONNX's Gemm with transB): N dot products over the rows as
/// they lie, at memory speed. oneDNN's packed kernel took 1.3-1.5x as long on
/// the zoo's heads (1280 -> 1000: 0.43 ms against ORT's 0.28 at one thread),
/// and packing copies the weights. A [K, N] matrix stays on oneDNN, whose
/// kernel splits N over the threads where a row update could not.
void rowTimesTransposed(const float *x, const float *w, float *z, int64_t k, int64_t n) {
  const char *weights = reinterpret_cast<const char *>(w);
  parallelFor(n, k, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j)
      z[j] = weightDot(weights + j * k * static_cast<int64_t>(sizeof(float)), x, k);
  });
}

/// `count` float32 values as bfloat16, in this thread's buffer.
const char *bfloatCopy(const float *x, size_t count) {
  thread_local std::vector<char> lowered;
  if (lowered.size() < count * 2)
    lowered.resize(count * 2);
  convertFloats(DType::Float32, DType::BFloat16, reinterpret_cast<const char *>(x), lowered.data(), count);
  return lowered.data();
}
} // namespace

llvm::Error kernels::matmul(const float *x, ArrayRef<int64_t> xShape, bool transposeX, const float *y,
                            ArrayRef<int64_t> yShape, bool transposeY, float *z, ArrayRef<int64_t> zShape,
                            PrepackedWeights *prepacked) {
  size_t rank = zShape.size();
  memory::dims xDims, xStrides, yDims, yStrides, zDims(zShape.begin(), zShape.end()), zStrides;
  // [batch..., M, K] · [K, N] is one [batch·M, K] · [K, N] product.
  if (!transposeX && yShape.size() == 2 && xShape.size() > 2) {
    int64_t rows = 1;
    for (int64_t d : xShape.drop_back())
      rows *= d;
    SmallVector<int64_t, 2> x2{rows, xShape.back()}, z2{rows, zShape.back()};
    return matmul(x, x2, false, y, yShape, transposeY, z, z2, prepacked);
  }
  matrixDesc(xShape, transposeX, rank, xDims, xStrides);
  matrixDesc(yShape, transposeY, rank, yDims, yStrides);
  memory::dims zContiguous;
  matrixDesc(zShape, false, rank, zDims, zContiguous);
  if (zDims[rank - 2] == 0 || zDims[rank - 1] == 0)
    return llvm::Error::success();
  if (xDims[rank - 1] == 0) { // an empty contraction sums nothing
    int64_t count = 1;
    for (int64_t d : zShape)
      count *= d;
    std::fill(z, z + count, 0.0f);
    return llvm::Error::success();
  }
  for (size_t d = 0; d + 2 < rank; ++d)
    if (zDims[d] == 0)
      return llvm::Error::success();
  // A constant 2-D right operand is reordered once into the layout the
  // kernel reads fastest (format `any`), as ONNX Runtime prepacks weights.
  bool packWeights = prepacked && rank == 2 && yShape.size() == 2;
  if (packWeights && zShape[0] == 1 && !transposeX && transposeY && !prepacked->bfloat16) {
    rowTimesTransposed(x, y, z, xShape.back(), zShape.back());
    return llvm::Error::success();
  }
  try {
    std::string key = keyOf({xDims, xStrides, yDims, yStrides, zDims});
    memory::desc xd(xDims, memory::data_type::f32, xStrides), yd(yDims, memory::data_type::f32, yStrides),
        zd(zDims, memory::data_type::f32, zContiguous);
    if (packWeights) {
      auto &storage = prepacked->storage;
      if (!storage || storage->source != y || storage->key != key) {
        static PrimitiveCache<dnnl::matmul> packedCache;
        std::shared_ptr<Compiled<dnnl::matmul>> compiled;
        if (prepacked->bfloat16)
          compiled = bfloat16Primitive(packedCache, "packed-bf16;" + key, [&] {
            memory::desc lowX(xDims, memory::data_type::bf16, xStrides),
                anyWeights(yDims, memory::data_type::bf16, memory::format_tag::any);
            return dnnl::matmul::primitive_desc(dnnl::matmul::desc(lowX, anyWeights, zd), userScratchpad(),
                                                cpuEngine());
          });
        auto fresh = std::make_unique<PrepackedWeights::Storage>();
        fresh->bfloat16 = compiled != nullptr;
        if (!compiled)
          compiled = packedCache.get("packed;" + key, [&] {
            memory::desc anyWeights(yDims, memory::data_type::f32, memory::format_tag::any);
            return dnnl::matmul::primitive_desc(dnnl::matmul::desc(xd, anyWeights, zd), userScratchpad(),
                                                cpuEngine());
          });
        fresh->source = y;
        fresh->key = key;
        fresh->compiled = compiled;
        fresh->packed = packedWeights(yd, y, compiled->descriptor.weights_desc());
        storage = std::move(fresh);
      }
      const auto &pd = storage->compiled->descriptor;
      const void *src = x;
      if (storage->bfloat16) // [M, K] elements, however they are strided
        src = bfloatCopy(x, static_cast<size_t>(xDims[0] * xDims[1]));
      memory xm(pd.src_desc(), cpuEngine(), const_cast<void *>(src)), zm(pd.dst_desc(), cpuEngine(), z);
      storage->compiled->executable.execute(
          threadStream(),
          withScratchpad(pd, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, storage->packed}, {DNNL_ARG_DST, zm}}));
      threadStream().wait();
      return llvm::Error::success();
    }
    static PrimitiveCache<dnnl::matmul> cache;
    auto compiled = cache.get(key, [&] {
      return dnnl::matmul::primitive_desc(dnnl::matmul::desc(xd, yd, zd), userScratchpad(), cpuEngine());
    });
    const auto &pd = compiled->descriptor;
    memory xm(pd.src_desc(), cpuEngine(), const_cast<float *>(x)),
        ym(pd.weights_desc(), cpuEngine(), const_cast<float *>(y)), zm(pd.dst_desc(), cpuEngine(), z);
    compiled->executable.execute(threadStream(),
                                 withScratchpad(pd, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, ym}, {DNNL_ARG_DST, zm}}));
    threadStream().wait();
  } catch (const dnnl::error &e) {
    return dnnlError("matmul", e);
  }
  return llvm::Error::success();
}

namespace {

float activate(Conv2DParams::Activation activation, float v, float alpha, float beta) {
  switch (activation) {
  case Conv2DParams::Activation::None: return v;
  case Conv2DParams::Activation::ReLU: return std::max(v, 0.0f);
  case Conv2DParams::Activation::Clip: return std::min(std::max(v, alpha), beta);
  case Conv2DParams::Activation::HardSwish: return v * std::min(std::max(v / 6.0f + 0.5f, 0.0f), 1.0f);
  case Conv2DParams::Activation::Sigmoid: return 1.0f / (1.0f + std::exp(-v));
  case Conv2DParams::Activation::SiLU: return v / (1.0f + std::exp(-v));
  }
  return v;
}

/// A 1x1 convolution of one-pixel feature maps (squeeze-and-excitation's):
/// per image a [O, C] matrix times a vector. A few thousand multiply-adds,
/// less than the cost of a oneDNN call, whatever the layout (one pixel is
/// row-major and channels-last alike).
void onePixelPointwise(const float *x, const float *w, float *y, int64_t n, int64_t c, int64_t o,
                       const Conv2DParams &p) {
  const char *weights = reinterpret_cast<const char *>(w);
  kernels::parallelFor(n * o, c, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t image = i / o, out = i % o;
      float v = weightDot(weights + out * c * static_cast<int64_t>(sizeof(float)), x + image * c, c);
      if (p.bias)
        v += p.bias[out];
      if (p.residual)
        v += p.residual[i];
      y[i] = activate(p.activation, v, p.alpha, p.beta);
    }
  });
}
/// A depthwise convolution with constant filters on our channels-last
/// kernel; activations given or wanted row-major are transposed around it.
void depthwiseWithPackedFilters(const float *x, ArrayRef<int64_t> xShape, const float *w, ArrayRef<int64_t> wShape,
                                float *y, ArrayRef<int64_t> yShape, Conv2DParams &p, PrepackedWeights &prepacked) {
  int64_t channels = wShape[0], taps = wShape[2] * wShape[3];
  std::string key = "depthwise:" + keyOf({wShape});
  auto &storage = prepacked.storage;
  if (!storage || storage->source != w || storage->key != key || storage->channelsLastFilters.empty()) {
    auto fresh = std::make_unique<PrepackedWeights::Storage>();
    fresh->source = w;
    fresh->key = key;
    fresh->channelsLastFilters.resize(channels * taps);
    int64_t dims[] = {channels, taps}, perm[] = {1, 0};
    kernels::transpose(reinterpret_cast<const char *>(w), reinterpret_cast<char *>(fresh->channelsLastFilters.data()),
                       dims, perm, sizeof(float));
    kernels::releasePages(w, channels * taps * sizeof(float), /*fileBacked=*/true);
    storage = std::move(fresh);
  }
  // [N, C, S] <-> [N, S, C] for S pixels.
  auto toChannelsLast = [](const float *from, ArrayRef<int64_t> shape, std::vector<float> &to) {
    int64_t pixels = shape[2] * shape[3];
    to.resize(shape[0] * shape[1] * pixels);
    int64_t dims[] = {shape[0], shape[1], pixels}, perm[] = {0, 2, 1};
    kernels::transpose(reinterpret_cast<const char *>(from), reinterpret_cast<char *>(to.data()), dims, perm,
                       sizeof(float));
    return to.data();
  };
  thread_local std::vector<float> xBuffer, yBuffer, residualBuffer;
  Conv2DParams q = p;
  bool onePixel = xShape[2] == 1 && xShape[3] == 1;
  const float *xLast = p.xChannelsLast || onePixel ? x : toChannelsLast(x, xShape, xBuffer);
  if (p.residual && !p.residualChannelsLast && !(yShape[2] == 1 && yShape[3] == 1))
    q.residual = toChannelsLast(p.residual, yShape, residualBuffer);
  else if (p.residual == y && p.mayLeaveChannelsLast) { // the kernel writes y before it adds
    residualBuffer.assign(p.residual, p.residual + yShape[0] * yShape[1] * yShape[2] * yShape[3]);
    q.residual = residualBuffer.data();
  }
  p.yChannelsLast = p.mayLeaveChannelsLast;
  float *yLast = y;
  if (!p.yChannelsLast) {
    yBuffer.resize(yShape[0] * yShape[1] * yShape[2] * yShape[3]);
    yLast = yBuffer.data();
  }
  kernels::depthwiseConv2dChannelsLast(xLast, xShape, storage->channelsLastFilters.data(), wShape[2], wShape[3], yLast,
                                       yShape, q);
  if (!p.yChannelsLast) {
    int64_t dims[] = {yShape[0], yShape[2] * yShape[3], yShape[1]}, perm[] = {0, 2, 1};
    kernels::transpose(reinterpret_cast<const char *>(yLast), reinterpret_cast<char *>(y), dims, perm, sizeof(float));
  }
}
} // namespace

llvm::Error kernels::conv2d(const float *x, ArrayRef<int64_t> xShape, const float *w, ArrayRef<int64_t> wShape,
                            float *y, ArrayRef<int64_t> yShape, Conv2DParams &p, PrepackedWeights *prepacked) {
  for (int64_t d : yShape)
    if (d == 0)
      return llvm::Error::success();
  if (xShape[2] == 1 && xShape[3] == 1 && wShape[2] == 1 && wShape[3] == 1 && p.groups == 1 &&
      yShape[2] == 1 && yShape[3] == 1 && p.padBefore[0] == 0 && p.padBefore[1] == 0 && p.padAfter[0] == 0 &&
      p.padAfter[1] == 0) {
    onePixelPointwise(x, w, y, xShape[0], xShape[1], wShape[0], p);
    p.yChannelsLast = false;
    return llvm::Error::success();
  }
  // Depthwise convolutions of the windows our kernel specialises (MobileNet's
  // and EfficientNet's); others (ConvNeXt's 7x7) run as fast on oneDNN.
  bool depthwise = p.groups > 1 && p.groups == xShape[1] && wShape[0] == p.groups && wShape[1] == 1;
  if (prepacked && depthwise && (wShape[3] == 3 || wShape[3] == 5) && (p.strides[1] == 1 || p.strides[1] == 2) &&
      p.dilations[1] == 1) {
    depthwiseWithPackedFilters(x, xShape, w, wShape, y, yShape, p, *prepacked);
    return llvm::Error::success();
  }
  memory::dims src(xShape.begin(), xShape.end()), dst(yShape.begin(), yShape.end()), weights;
  int64_t groups = p.groups;
  if (groups > 1)
    weights = {groups, wShape[0] / groups, wShape[1], wShape[2], wShape[3]};
  else
    weights.assign(wShape.begin(), wShape.end());
  memory::dims strides{p.strides[0], p.strides[1]}, dilations{p.dilations[0] - 1, p.dilations[1] - 1},
      padL{p.padBefore[0], p.padBefore[1]}, padR{p.padAfter[0], p.padAfter[1]};
  try {
    if (prepacked) {
      // Constant weights: oneDNN picks the layouts its fastest kernel reads
      // (blocked or channels-last); the weights are reordered once, the
      // activations in and out of this thread's buffers around each call.
      // oneDNN 2.6's swish post-op costs more than our own vectorised pass
      // over the output after the primitive (EfficientNet-B0's 16->96
      // expansion at 112x112, one thread: 1.0-1.5 ms with it, 0.95 ms with
      // ours; the network 14.5 -> 14.2 ms). Its logistic post-op costs what
      // our pass does, and stays.
      bool activationAfter = p.activation == Conv2DParams::Activation::SiLU;
      Conv2DParams::Activation inKernel = activationAfter ? Conv2DParams::Activation::None : p.activation;
      memory::dims epilogue{p.bias ? 1 : 0, static_cast<int64_t>(inKernel), p.residual ? 1 : 0};
      // A convolution with few multiply-adds per output (depthwise ones: 9)
      // is bound by memory, and converting its input to bfloat16 would cost
      // more than the arithmetic it saves.
      bool lowPrecision = prepacked->bfloat16 && wShape[1] * wShape[2] * wShape[3] >= kMinBFloat16Depth;
      std::string key = keyOf({src, weights, dst, strides, dilations, padL, padR, epilogue}) +
                        std::to_string(p.alpha) + "," + std::to_string(p.beta) + (lowPrecision ? ";bf16" : "");
      auto &storage = prepacked->storage;
      memory::desc plainWeights(weights, memory::data_type::f32,
                                groups > 1 ? memory::format_tag::goihw : memory::format_tag::oihw);
      if (!storage || storage->source != w || storage->key != key || !storage->convolution) {
        static PrimitiveCache<dnnl::convolution_forward> anyCache;
        // Activations and weights in `type`; the output and bias float32.
        auto build = [&](memory::data_type type) {
          memory::desc sd(src, type, memory::format_tag::any), wd(weights, type, memory::format_tag::any),
              dd(dst, memory::data_type::f32, memory::format_tag::any),
              bd(memory::dims{dst[1]}, memory::data_type::f32, memory::format_tag::x);
          dnnl::primitive_attr attr = userScratchpad();
          if (p.residual || inKernel != Conv2DParams::Activation::None) {
            dnnl::post_ops ops;
            if (p.residual) // added to the output, which holds it when the kernel starts
              ops.append_sum(1.0f);
            switch (inKernel) {
            case Conv2DParams::Activation::ReLU: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0, 0); break;
            case Conv2DParams::Activation::Clip:
              ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, p.alpha, p.beta);
              break;
            case Conv2DParams::Activation::HardSwish:
              ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_hardswish, 0, 0);
              break;
            case Conv2DParams::Activation::Sigmoid:
              ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_logistic, 0, 0);
              break;
            case Conv2DParams::Activation::SiLU: // after the primitive (activationAfter)
            case Conv2DParams::Activation::None: break;
            }
            attr.set_post_ops(ops);
          }
          auto desc = p.bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                               dnnl::algorithm::convolution_direct, sd, wd, bd, dd,
                                                               strides, dilations, padL, padR)
                             : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                               dnnl::algorithm::convolution_direct, sd, wd, dd,
                                                               strides, dilations, padL, padR);
          return dnnl::convolution_forward::primitive_desc(desc, attr, cpuEngine());
        };
        std::shared_ptr<Compiled<dnnl::convolution_forward>> compiled;
        if (lowPrecision)
          compiled = bfloat16Primitive(anyCache, "any-bf16:" + key, [&] { return build(memory::data_type::bf16); });
        auto fresh = std::make_unique<PrepackedWeights::Storage>();
        fresh->bfloat16 = compiled != nullptr;
        if (!compiled)
          compiled = anyCache.get("any:" + key, [&] { return build(memory::data_type::f32); });
        fresh->source = w;
        fresh->key = key;
        fresh->convolution = compiled;
        fresh->packed = packedWeights(plainWeights, w, compiled->descriptor.weights_desc());
        storage = std::move(fresh);
      }
      const auto &pd = storage->convolution->descriptor;
      // With one pixel (squeeze-and-excitation's convolutions) or one
      // channel, row-major bytes are channels-last bytes: no reorder.
      bool sameBytes = (src[2] == 1 && src[3] == 1) || src[1] == 1;
      memory::desc givenSrc(src, memory::data_type::f32,
                            p.xChannelsLast || sameBytes ? memory::format_tag::nhwc : memory::format_tag::nchw),
          plainDst(dst, memory::data_type::f32, memory::format_tag::nchw),
          channelsLastDst(dst, memory::data_type::f32, memory::format_tag::nhwc);
      thread_local std::vector<char> srcBuffer, dstBuffer;
      memory xGiven(givenSrc, cpuEngine(), const_cast<float *>(x));
      memory xm = xGiven;
      if (pd.src_desc() != givenSrc) {
        if (srcBuffer.size() < pd.src_desc().get_size())
          srcBuffer.resize(pd.src_desc().get_size());
        xm = memory(pd.src_desc(), cpuEngine(), srcBuffer.data());
        dnnl::reorder(xGiven, xm).execute(threadStream(), xGiven, xm);
      }
      // The kernel's own output layout when it is channels-last and the
      // caller takes that; otherwise row-major NCHW.
      p.yChannelsLast = p.mayLeaveChannelsLast && pd.dst_desc() == channelsLastDst;
      memory yGiven(p.yChannelsLast ? channelsLastDst : plainDst, cpuEngine(), y);
      memory ym = yGiven;
      if (pd.dst_desc() != yGiven.get_desc()) {
        if (dstBuffer.size() < pd.dst_desc().get_size())
          dstBuffer.resize(pd.dst_desc().get_size());
        ym = memory(pd.dst_desc(), cpuEngine(), dstBuffer.data());
      }
      if (p.residual) {
        memory::desc residualDesc(dst, memory::data_type::f32,
                                  p.residualChannelsLast ? memory::format_tag::nhwc : memory::format_tag::nchw);
        // The caller may give the residual in the output's own storage
        // (it dies here): where it is already what the kernel adds to,
        // nothing moves; in another layout it is moved out of the way first.
        const float *residualData = p.residual;
        bool sharesOutput = p.residual == y && ym.get_data_handle() == y;
        if (sharesOutput && residualDesc != ym.get_desc()) {
          thread_local std::vector<float> residualCopy;
          residualCopy.assign(p.residual, p.residual + residualDesc.get_size() / sizeof(float));
          residualData = residualCopy.data();
          sharesOutput = false;
        }
        if (!sharesOutput) {
          memory residual(residualDesc, cpuEngine(), const_cast<float *>(residualData));
          dnnl::reorder(residual, ym).execute(threadStream(), residual, ym);
        }
      }
      std::unordered_map<int, memory> arguments{{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, storage->packed}, {DNNL_ARG_DST, ym}};
      if (p.bias)
        arguments.insert({DNNL_ARG_BIAS, memory(pd.bias_desc(), cpuEngine(), const_cast<float *>(p.bias))});
      storage->convolution->executable.execute(threadStream(), withScratchpad(pd, std::move(arguments)));
      if (pd.dst_desc() != yGiven.get_desc())
        dnnl::reorder(ym, yGiven).execute(threadStream(), ym, yGiven);
      threadStream().wait();
      if (activationAfter)
        kernels::unary(Unary::SiLU, y, y, dst[0] * dst[1] * dst[2] * dst[3]);
      return llvm::Error::success();
    }
    static PrimitiveCache<dnnl::convolution_forward> cache;
    auto compiled = cache.get(keyOf({src, weights, dst, strides, dilations, padL, padR}), [&] {
      memory::desc sd(src, memory::data_type::f32, memory::format_tag::nchw),
          wd(weights, memory::data_type::f32, groups > 1 ? memory::format_tag::goihw : memory::format_tag::oihw),
          dd(dst, memory::data_type::f32, memory::format_tag::nchw);
      dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, sd,
                                           wd, dd, strides, dilations, padL, padR);
      return dnnl::convolution_forward::primitive_desc(desc, userScratchpad(), cpuEngine());
    });
    const auto &pd = compiled->descriptor;
    memory xm(pd.src_desc(), cpuEngine(), const_cast<float *>(x)),
        wm(pd.weights_desc(), cpuEngine(), const_cast<float *>(w)), ym(pd.dst_desc(), cpuEngine(), y);
    compiled->executable.execute(threadStream(),
                                 withScratchpad(pd, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}}));
    threadStream().wait();
  } catch (const dnnl::error &e) {
    return dnnlError("convolution", e);
  }
  return llvm::Error::success();
}

llvm::Error kernels::pool(Pooling kind, const float *x, ArrayRef<int64_t> xShape, float *y, ArrayRef<int64_t> yShape,
                          const PoolParams &p) {
  for (int64_t d : yShape)
    if (d == 0)
      return llvm::Error::success();
  if (p.spatial < 1 || p.spatial > 3 || static_cast<int64_t>(xShape.size()) != 2 + p.spatial)
    return llvm::createStringError("pooling over %d spatial dimensions of rank-%zu data", p.spatial, xShape.size());
  memory::dims src(xShape.begin(), xShape.end()), dst(yShape.begin(), yShape.end()), kernel, strides, dilations, padL,
      padR;
  for (int d = 0; d < p.spatial; ++d) {
    kernel.push_back(p.kernel[d]);
    strides.push_back(p.strides[d]);
    dilations.push_back(p.dilations[d] - 1); // oneDNN counts the gaps
    padL.push_back(p.padBefore[d]);
    padR.push_back(p.padAfter[d]);
  }
  dnnl::algorithm algorithm = kind == Pooling::Max                   ? dnnl::algorithm::pooling_max
                              : kind == Pooling::AverageCountingPads ? dnnl::algorithm::pooling_avg_include_padding
                                                                     : dnnl::algorithm::pooling_avg_exclude_padding;
  memory::dims kindDims{static_cast<int64_t>(kind)};
  memory::format_tag plain = p.spatial == 1   ? memory::format_tag::ncw
                             : p.spatial == 2 ? (p.channelsLast ? memory::format_tag::nhwc : memory::format_tag::nchw)
                                              : memory::format_tag::ncdhw;
  memory::dims layoutKey{p.channelsLast ? 1 : 0};
  try {
    static PrimitiveCache<dnnl::pooling_v2_forward> cache;
    auto compiled = cache.get(keyOf({kindDims, layoutKey, src, dst, kernel, strides, dilations, padL, padR}), [&] {
      memory::desc sd(src, memory::data_type::f32, plain), dd(dst, memory::data_type::f32, plain);
      dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, sd, dd, strides, kernel,
                                          dilations, padL, padR);
      return dnnl::pooling_v2_forward::primitive_desc(desc, userScratchpad(), cpuEngine());
    });
    const auto &pd = compiled->descriptor;
    memory xm(pd.src_desc(), cpuEngine(), const_cast<float *>(x)), ym(pd.dst_desc(), cpuEngine(), y);
    compiled->executable.execute(threadStream(), withScratchpad(pd, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}}));
    threadStream().wait();
  } catch (const dnnl::error &e) {
    return dnnlError("pooling", e);
  }
  return llvm::Error::success();
}

llvm::Error kernels::lstm(const float *x, const float *h0, const float *c0, const float *w, float *y, float *hn,
                          float *cn, const LSTMParams &p) {
  int64_t directions = p.bidirectional ? 2 : 1, hidden = p.hiddenSize, gates = 4 * hidden;
  int64_t stateSize = directions * p.batch * hidden;
  if (p.seq == 0 || p.batch == 0) {
    std::memcpy(hn, h0, sizeof(float) * p.layers * stateSize);
    std::memcpy(cn, c0, sizeof(float) * p.layers * stateSize);
    return llvm::Error::success();
  }
  // w: every layer's input weights, then every recurrent weight, then the biases.
  int64_t inputWeights = 0;
  for (int64_t layer = 0; layer < p.layers; ++layer)
    inputWeights += gates * (layer == 0 ? p.inputSize : hidden * directions) * directions;
  int64_t recurrentWeights = gates * hidden * directions * p.layers;
  std::vector<float> zeroBias(p.hasBias ? 0 : gates * directions, 0.0f);
  std::vector<float> between[2];
  dnnl::rnn_direction direction =
      p.bidirectional ? dnnl::rnn_direction::bidirectional_concat : dnnl::rnn_direction::unidirectional_left2right;
  using tag = memory::format_tag;
  const memory::data_type f32 = memory::data_type::f32;
  try {
    static PrimitiveCache<dnnl::lstm_forward> cache;
    const float *src = x, *layerWeights = w;
    for (int64_t layer = 0; layer < p.layers; ++layer) {
      int64_t channels = layer == 0 ? p.inputSize : hidden * directions;
      float *dst = y;
      if (layer + 1 < p.layers) {
        between[layer % 2].resize(p.seq * p.batch * hidden * directions);
        dst = between[layer % 2].data();
      }
      memory::dims srcDims{p.seq, p.batch, channels}, stateDims{1, directions, p.batch, hidden},
          weightDims{1, directions, channels, 4, hidden}, iterDims{1, directions, hidden, 4, hidden},
          biasDims{1, directions, 4, hidden}, dstDims{p.seq, p.batch, hidden * directions};
      auto compiled = cache.get(keyOf({srcDims, weightDims, dstDims}), [&] {
        dnnl::lstm_forward::desc desc(
            dnnl::prop_kind::forward_inference, direction, memory::desc(srcDims, f32, tag::tnc),
            memory::desc(stateDims, f32, tag::ldnc), memory::desc(stateDims, f32, tag::ldnc),
            memory::desc(weightDims, f32, tag::any), memory::desc(iterDims, f32, tag::any),
            memory::desc(biasDims, f32, tag::ldgo), memory::desc(dstDims, f32, tag::tnc),
            memory::desc(stateDims, f32, tag::ldnc), memory::desc(stateDims, f32, tag::ldnc));
        return dnnl::lstm_forward::primitive_desc(desc, userScratchpad(), cpuEngine());
      });
      const auto &pd = compiled->descriptor;
      // MindSpore's weights are [gate, out, in] per direction (ldgoi);
      // oneDNN reads its own blocked form.
      auto reordered = [&](const memory::dims &dims, const float *data, const memory::desc &target) {
        memory given(memory::desc(dims, f32, tag::ldgoi), cpuEngine(), const_cast<float *>(data));
        memory packed(target, cpuEngine());
        dnnl::reorder(given, packed).execute(threadStream(), given, packed);
        return packed;
      };
      const float *iterWeights = w + inputWeights + layer * directions * gates * hidden;
      const float *bias =
          p.hasBias ? w + inputWeights + recurrentWeights + layer * directions * gates : zeroBias.data();
      memory weightsLayer = reordered(weightDims, layerWeights, pd.weights_layer_desc());
      memory weightsIter = reordered(iterDims, iterWeights, pd.weights_iter_desc());
      int64_t stateOffset = layer * stateSize;
      auto plain = [&](const memory::desc &desc, const float *data) {
        return memory(desc, cpuEngine(), const_cast<float *>(data));
      };
      compiled->executable.execute(
          threadStream(), withScratchpad(pd, {{DNNL_ARG_SRC_LAYER, plain(pd.src_layer_desc(), src)},
                                              {DNNL_ARG_SRC_ITER, plain(pd.src_iter_desc(), h0 + stateOffset)},
                                              {DNNL_ARG_SRC_ITER_C, plain(pd.src_iter_c_desc(), c0 + stateOffset)},
                                              {DNNL_ARG_WEIGHTS_LAYER, weightsLayer},
                                              {DNNL_ARG_WEIGHTS_ITER, weightsIter},
                                              {DNNL_ARG_BIAS, plain(pd.bias_desc(), bias)},
                                              {DNNL_ARG_DST_LAYER, plain(pd.dst_layer_desc(), dst)},
                                              {DNNL_ARG_DST_ITER, plain(pd.dst_iter_desc(), hn + stateOffset)},
                                              {DNNL_ARG_DST_ITER_C, plain(pd.dst_iter_c_desc(), cn + stateOffset)}}));
      threadStream().wait();
      src = dst;
      layerWeights += gates * channels * directions;
    }
  } catch (const dnnl::error &e) {
    return dnnlError("LSTM", e);
  }
  return llvm::Error::success();
}
