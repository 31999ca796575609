//===- DepthwiseConvolution.cpp - channels-last depthwise convolution -----===//
//
// MobileNet's and EfficientNet's depthwise convolutions do 9 or 25
// multiply-adds per output, so the arithmetic is cheap and the loads are
// what counts. For the windows those networks use (3 and 5 wide, column
// stride 1 or 2) a tile of up to 8 output pixels loads each input column
// once into registers, multiplies it into every pixel whose window holds
// it, and does so for a chunk of channels at a time, so that the tile's
// columns stay in L1. The row's outputs get their residual and activation
// while they are in cache. bench/depthwise_conv.cpp measures it against
// oneDNN 2.6's channels-last kernel (brdgmm_dw): about even alone (ahead
// with SiLU, behind with ReLU6 on 7x7 maps); in the zoo's networks, where
// oneDNN also pays its call and layout overhead 16-17 times a run, even at
// one thread and 5-8% faster at two. Other windows take a general path
// (the runtime sends those to oneDNN).
//
//===----------------------------------------------------------------------===//

#include "dinfer/Runtime/Kernels.h"

#include "VectorMath.h"

using namespace dinfer;
using namespace dinfer::kernels;
using namespace dinfer::kernels::detail;

namespace {

// GCC's vector types: one AVX-512 register, or its pieces in the AVX2 and
// baseline clones. They never cross a call (every helper is inlined), so
// the ABI note GCC gives for returning them does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Lanes16 __attribute__((vector_size(64)));
typedef float Lanes8 __attribute__((vector_size(32)));

template <typename V>
DINFER_INLINE V loadLanes(const float *p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}

template <typename V>
DINFER_INLINE void storeLanes(float *p, const V &v) {
  std::memcpy(p, &v, sizeof(V));
}

struct Geometry {
  int64_t h, w, c, oh, ow, kh, kw, strideH, strideW, dilationH, dilationW, top, left;
  const float *weights; // [KH, KW, C]
  const float *bias;    // [C] or null
};

constexpr int64_t kTilePixels = 4;

/// Output pixels [ow, ow + Pixels) of one row, channels [c, c + lanes), all
/// of whose window columns lie inside the map; window rows [khBegin, khEnd).
template <typename V, int Pixels>
DINFER_INLINE void interiorTile(const Geometry &g, const float *image, float *yRow, int64_t ih0, int64_t khBegin,
                                int64_t khEnd, int64_t ow, int64_t c) {
  V acc[Pixels];
  V init = g.bias ? loadLanes<V>(g.bias + c) : V{};
  for (int j = 0; j < Pixels; ++j)
    acc[j] = init;
  int64_t iw0 = ow * g.strideW - g.left;
  for (int64_t kh = khBegin; kh < khEnd; ++kh) {
    const float *row = image + (ih0 + kh * g.dilationH) * g.w * g.c + c;
    const float *filter = g.weights + kh * g.kw * g.c + c;
    for (int64_t kw = 0; kw < g.kw; ++kw) {
      V weight = loadLanes<V>(filter + kw * g.c);
      const float *first = row + (iw0 + kw * g.dilationW) * g.c;
      for (int j = 0; j < Pixels; ++j)
        acc[j] += loadLanes<V>(first + j * g.strideW * g.c) * weight;
    }
  }
  for (int j = 0; j < Pixels; ++j)
    storeLanes(yRow + (ow + j) * g.c + c, acc[j]);
}

/// One output pixel whose window may leave the map on the left or right.
template <typename V>
DINFER_INLINE void edgePixel(const Geometry &g, const float *image, float *yRow, int64_t ih0, int64_t khBegin,
                             int64_t khEnd, int64_t ow, int64_t c) {
  V acc = g.bias ? loadLanes<V>(g.bias + c) : V{};
  int64_t iw0 = ow * g.strideW - g.left;
  for (int64_t kh = khBegin; kh < khEnd; ++kh) {
    const float *row = image + (ih0 + kh * g.dilationH) * g.w * g.c + c;
    const float *filter = g.weights + kh * g.kw * g.c + c;
    for (int64_t kw = 0; kw < g.kw; ++kw) {
      int64_t iw = iw0 + kw * g.dilationW;
      if (iw >= 0 && iw < g.w)
        acc += loadLanes<V>(row + iw * g.c) * loadLanes<V>(filter + kw * g.c);
    }
  }
  storeLanes(yRow + ow * g.c + c, acc);
}

/// Every channel of a tile: 16 lanes at a time, then 8, then one.
template <int Pixels>
DINFER_INLINE void interiorTileAllChannels(const Geometry &g, const float *image, float *yRow, int64_t ih0,
                                           int64_t khBegin, int64_t khEnd, int64_t ow) {
  int64_t c = 0;
  for (; c + 16 <= g.c; c += 16)
    interiorTile<Lanes16, Pixels>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
  for (; c + 8 <= g.c; c += 8)
    interiorTile<Lanes8, Pixels>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
  for (; c < g.c; ++c)
    interiorTile<float, Pixels>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
}

DINFER_INLINE void edgePixelAllChannels(const Geometry &g, const float *image, float *yRow, int64_t ih0,
                                        int64_t khBegin, int64_t khEnd, int64_t ow) {
  int64_t c = 0;
  for (; c + 16 <= g.c; c += 16)
    edgePixel<Lanes16>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
  for (; c + 8 <= g.c; c += 8)
    edgePixel<Lanes8>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
  for (; c < g.c; ++c)
    edgePixel<float>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
}

/// Output pixels [ow, ow + Pixels) of one row, channels [c, c + Blocks ·
/// lanes), for a window KW wide at column stride S (dilation 1) known at
/// compile time: each input column of the tile is loaded once and multiplied
/// into every pixel whose window holds it, with the row's filter taps in
/// registers. Pixels x Blocks independent sums keep the multiply-add units
/// busy (short tiles take more channels). `Checked` tiles skip the columns
/// outside the map (the padding).
template <typename V, int KW, int S, int Pixels, int Blocks, bool Checked>
DINFER_INLINE void registerTile(const Geometry &g, const float *image, float *yRow, int64_t ih0, int64_t khBegin,
                                int64_t khEnd, int64_t ow, int64_t c) {
  constexpr int columns = (Pixels - 1) * S + KW;
  constexpr int64_t lanes = sizeof(V) / sizeof(float);
  V acc[Pixels][Blocks];
#pragma GCC unroll 16
  for (int b = 0; b < Blocks; ++b) {
    V init = g.bias ? loadLanes<V>(g.bias + c + b * lanes) : V{};
#pragma GCC unroll 16
    for (int j = 0; j < Pixels; ++j)
      acc[j][b] = init;
  }
  int64_t iw0 = ow * S - g.left;
  for (int64_t kh = khBegin; kh < khEnd; ++kh) {
    const float *row = image + (ih0 + kh * g.dilationH) * g.w * g.c + c;
    const float *filter = g.weights + kh * KW * g.c + c;
    V taps[KW][Blocks];
#pragma GCC unroll 16
    for (int kw = 0; kw < KW; ++kw)
#pragma GCC unroll 16
      for (int b = 0; b < Blocks; ++b)
        taps[kw][b] = loadLanes<V>(filter + kw * g.c + b * lanes);
    // One pointer stepped from column to column: offsets kept apart run
    // out of registers.
    const float *at = row + iw0 * g.c;
#pragma GCC unroll 64
    for (int i = 0; i < columns; ++i, at += g.c) {
      if (Checked && (iw0 + i < 0 || iw0 + i >= g.w))
        continue;
#pragma GCC unroll 16
      for (int b = 0; b < Blocks; ++b) {
        V column = loadLanes<V>(at + b * lanes);
#pragma GCC unroll 16
        for (int j = 0; j < Pixels; ++j) {
          int kw = i - j * S;
          if (kw >= 0 && kw < KW)
            acc[j][b] += column * taps[kw][b];
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < Pixels; ++j)
#pragma GCC unroll 16
    for (int b = 0; b < Blocks; ++b)
      storeLanes(yRow + (ow + j) * g.c + c + b * lanes, acc[j][b]);
}

/// Channels [c, end) of a tile.
template <int KW, int S, int Pixels, bool Checked>
DINFER_INLINE void registerTileChannels(const Geometry &g, const float *image, float *yRow, int64_t ih0,
                                        int64_t khBegin, int64_t khEnd, int64_t ow, int64_t c, int64_t end) {
  constexpr int blocks = Pixels >= 8 ? 1 : Pixels >= 4 ? 2 : 4;
  if (blocks > 1)
    for (; c + 16 * blocks <= end; c += 16 * blocks)
      registerTile<Lanes16, KW, S, Pixels, blocks, Checked>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
  for (; c + 16 <= end; c += 16)
    registerTile<Lanes16, KW, S, Pixels, 1, Checked>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
  for (; c + 8 <= end; c += 8)
    registerTile<Lanes8, KW, S, Pixels, 1, Checked>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
  for (; c < end; ++c)
    registerTile<float, KW, S, Pixels, 1, Checked>(g, image, yRow, ih0, khBegin, khEnd, ow, c);
}

/// A tile at ow, checked only where its columns leave the map.
template <int KW, int S, int Pixels>
DINFER_INLINE void registerTileAt(const Geometry &g, const float *image, float *yRow, int64_t ih0, int64_t khBegin,
                                  int64_t khEnd, int64_t ow, int64_t c, int64_t end) {
  int64_t first = ow * S - g.left, last = first + (Pixels - 1) * S + KW - 1;
  if (first >= 0 && last < g.w)
    registerTileChannels<KW, S, Pixels, false>(g, image, yRow, ih0, khBegin, khEnd, ow, c, end);
  else
    registerTileChannels<KW, S, Pixels, true>(g, image, yRow, ih0, khBegin, khEnd, ow, c, end);
}

/// y = activation(y + residual) over n outputs, while they are in cache.
/// (The parameters are copied first: y could alias them as far as the
/// compiler knows, and would keep the loops from vectorising.)
DINFER_VECTOR_CLONES void epilogue(float *__restrict y, const float *__restrict residual, int64_t n,
                                   const Conv2DParams &p) {
  if (residual)
    for (int64_t i = 0; i < n; ++i)
      y[i] += residual[i];
  const float low = p.alpha, high = p.beta;
  using Activation = Conv2DParams::Activation;
  switch (p.activation) {
  case Activation::None: break;
  case Activation::ReLU:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::max(y[i], 0.0f);
    break;
  case Activation::Clip:
    for (int64_t i = 0; i < n; ++i)
      y[i] = std::min(std::max(y[i], low), high);
    break;
  case Activation::HardSwish:
    for (int64_t i = 0; i < n; ++i)
      y[i] = y[i] * std::min(std::max(y[i] * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
    break;
  case Activation::Sigmoid: logistic(/*timesInput=*/false, y, y, n); break;
  case Activation::SiLU: logistic(/*timesInput=*/true, y, y, n); break;
  }
}

bool hasEpilogue(const Conv2DParams &p) {
  return p.residual || p.activation != Conv2DParams::Activation::None;
}

/// [begin, end): the window taps k whose input start + k·dilation lies in
/// [0, extent).
void tapsInside(int64_t start, int64_t extent, int64_t kernel, int64_t dilation, int64_t &begin, int64_t &end) {
  begin = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  end = start >= extent ? 0 : std::min(kernel, (extent - start + dilation - 1) / dilation);
  begin = std::min(begin, end);
}

// Above this many channels a row is done a chunk of channels at a time, so
// that a tile's columns (KH x up to 19 of them) stay in L1 from one tile to
// the next: 1152 channels of one column are 4.5 KiB.
constexpr int64_t kChunkChannels = 128, kMostChannelsUnchunked = 256;

/// One output row with the window width and column stride known at compile
/// time: tiles of 8 pixels, then at most one each of 4, 2 and 1.
template <int KW, int S>
DINFER_INLINE void registerRow(const Geometry &g, const float *image, float *yRow, const float *residualRow,
                               int64_t ih0, int64_t khBegin, int64_t khEnd, const Conv2DParams &p) {
  int64_t step = g.c > kMostChannelsUnchunked ? kChunkChannels : g.c;
  for (int64_t c = 0; c < g.c; c += step) {
    int64_t end = std::min(g.c, c + step);
    int64_t ow = 0;
    for (; ow + 8 <= g.ow; ow += 8)
      registerTileAt<KW, S, 8>(g, image, yRow, ih0, khBegin, khEnd, ow, c, end);
    if (ow + 4 <= g.ow) {
      registerTileAt<KW, S, 4>(g, image, yRow, ih0, khBegin, khEnd, ow, c, end);
      ow += 4;
    }
    if (ow + 2 <= g.ow) {
      registerTileAt<KW, S, 2>(g, image, yRow, ih0, khBegin, khEnd, ow, c, end);
      ow += 2;
    }
    if (ow < g.ow)
      registerTileAt<KW, S, 1>(g, image, yRow, ih0, khBegin, khEnd, ow, c, end);
  }
  // The row (OW x C outputs, a few KiB) is still in L1 or L2.
  if (hasEpilogue(p))
    epilogue(yRow, residualRow, g.ow * g.c, p);
}

/// One output row of any window: tiles of 4 pixels inside the map, single
/// pixels at its edges.
DINFER_INLINE void genericRow(const Geometry &g, const float *image, float *yRow, const float *residualRow,
                              int64_t ih0, int64_t khBegin, int64_t khEnd, const Conv2DParams &p) {
  // Output columns whose whole window lies inside the map's columns.
  int64_t interiorBegin = std::min(g.ow, (g.left + g.strideW - 1) / g.strideW);
  int64_t lastStart = g.w - 1 - (g.kw - 1) * g.dilationW + g.left;
  int64_t interiorEnd = lastStart < 0 ? 0 : std::min(g.ow, lastStart / g.strideW + 1);
  interiorEnd = std::max(interiorEnd, interiorBegin);
  bool finish = hasEpilogue(p);
  auto finished = [&](int64_t ow, int64_t pixels) {
    if (finish)
      epilogue(yRow + ow * g.c, residualRow ? residualRow + ow * g.c : nullptr, pixels * g.c, p);
  };
  for (int64_t ow = 0; ow < interiorBegin; ++ow) {
    edgePixelAllChannels(g, image, yRow, ih0, khBegin, khEnd, ow);
    finished(ow, 1);
  }
  int64_t ow = interiorBegin;
  for (; ow + kTilePixels <= interiorEnd; ow += kTilePixels) {
    interiorTileAllChannels<kTilePixels>(g, image, yRow, ih0, khBegin, khEnd, ow);
    finished(ow, kTilePixels);
  }
  for (; ow < interiorEnd; ++ow) {
    interiorTileAllChannels<1>(g, image, yRow, ih0, khBegin, khEnd, ow);
    finished(ow, 1);
  }
  for (; ow < g.ow; ++ow) {
    edgePixelAllChannels(g, image, yRow, ih0, khBegin, khEnd, ow);
    finished(ow, 1);
  }
}

DINFER_VECTOR_CLONES void outputRow(const Geometry &g, const float *image, float *yRow, const float *residualRow,
                                    int64_t oh, const Conv2DParams &p) {
  int64_t ih0 = oh * g.strideH - g.top, khBegin, khEnd;
  tapsInside(ih0, g.h, g.kh, g.dilationH, khBegin, khEnd);
  // MobileNet's and EfficientNet's windows.
  if (g.dilationW == 1 && g.kw == 3 && g.strideW == 1)
    return registerRow<3, 1>(g, image, yRow, residualRow, ih0, khBegin, khEnd, p);
  if (g.dilationW == 1 && g.kw == 3 && g.strideW == 2)
    return registerRow<3, 2>(g, image, yRow, residualRow, ih0, khBegin, khEnd, p);
  if (g.dilationW == 1 && g.kw == 5 && g.strideW == 1)
    return registerRow<5, 1>(g, image, yRow, residualRow, ih0, khBegin, khEnd, p);
  if (g.dilationW == 1 && g.kw == 5 && g.strideW == 2)
    return registerRow<5, 2>(g, image, yRow, residualRow, ih0, khBegin, khEnd, p);
  genericRow(g, image, yRow, residualRow, ih0, khBegin, khEnd, p);
}

} // namespace

void kernels::depthwiseConv2dChannelsLast(const float *x, llvm::ArrayRef<int64_t> xShape, const float *weights,
                                          int64_t kh, int64_t kw, float *y, llvm::ArrayRef<int64_t> yShape,
                                          const Conv2DParams &p) {
  Geometry g;
  g.h = xShape[2];
  g.w = xShape[3];
  g.c = xShape[1];
  g.oh = yShape[2];
  g.ow = yShape[3];
  g.kh = kh;
  g.kw = kw;
  g.strideH = p.strides[0];
  g.strideW = p.strides[1];
  g.dilationH = p.dilations[0];
  g.dilationW = p.dilations[1];
  g.top = p.padBefore[0];
  g.left = p.padBefore[1];
  g.weights = weights;
  g.bias = p.bias;
  int64_t n = xShape[0], rows = n * g.oh;
  if (rows == 0 || g.ow == 0 || g.c == 0)
    return;
  int64_t imageSize = g.h * g.w * g.c, rowSize = g.ow * g.c;
  parallelFor(rows, rowSize * kh * kw, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t image = r / g.oh, oh = r % g.oh;
      outputRow(g, x + image * imageSize, y + r * rowSize, p.residual ? p.residual + r * rowSize : nullptr, oh, p);
    }
  });
}
