//===- Linalg.cpp - matrix products, convolutions, pooling ------------------===//

#include "../InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace dinfer;
using namespace dinfer::interp;

namespace dinfer::interp {

llvm::Error Interpreter::matmul(Operation *op, Value xv, Value yv, bool ta, bool tb) {
  const Buffer &x = in(xv), &y = in(yv);
  Buffer &z = define(op->getResult(0));
  int64_t rx = x.shape.size(), ry = y.shape.size(), rz = z.shape.size();
  int64_t m = z.shape[rz - 2], n = z.shape[rz - 1];
  int64_t k = ta ? x.shape[rx - 2] : x.shape[rx - 1];
  int64_t xRows = x.shape[rx - 2], xCols = x.shape[rx - 1], yCols = y.shape[ry - 1];
  SmallVector<int64_t, 4> batch(z.shape.begin(), z.shape.end() - 2);
  SmallVector<int64_t, 4> xBatch(x.shape.begin(), x.shape.end() - 2), yBatch(y.shape.begin(), y.shape.end() - 2);
  BroadcastIndex bx(xBatch, batch), by(yBatch, batch);
  int64_t batches = product(batch), xMatrix = xRows * xCols, yMatrix = y.shape[ry - 2] * yCols;
  if (z.dtype == DType::Float32 && x.dtype == DType::Float32 && y.dtype == DType::Float32) {
    kernels::PrepackedWeights *prepacked = nullptr;
    if (state_.runInvariant.contains(yv)) {
      auto &slot = state_.prepacked[op];
      if (!slot) {
        slot = std::make_unique<kernels::PrepackedWeights>();
        slot->bfloat16 = state_.bfloat16Products;
      }
      prepacked = slot.get();
    }
    if (llvm::Error err =
            kernels::matmul(x.as<float>(), x.shape, ta, y.as<float>(), y.shape, tb, z.as<float>(), z.shape, prepacked))
      return opError(op, llvm::toString(std::move(err)));
    return llvm::Error::success();
  }
  for (int64_t b = 0; b < batches; ++b) {
    int64_t xo = bx(b) * xMatrix, yo = by(b) * yMatrix, zo = b * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p) {
          double a = x.get(xo + (ta ? p * xCols + i : i * xCols + p));
          double c = y.get(yo + (tb ? j * yCols + p : p * yCols + j));
          sum += a * c;
        }
        z.set(zo + i * n + j, sum);
      }
  }
  return llvm::Error::success();
}

/// Leading pad of a window along one dimension for a pad mode.
void windowPads(llvm::StringRef mode, int64_t input, int64_t output, int64_t kernel, int64_t stride, int64_t dilation,
                int64_t given, int64_t &before) {
  if (mode == "same") {
    int64_t total = std::max<int64_t>((output - 1) * stride + (kernel - 1) * dilation + 1 - input, 0);
    before = total / 2;
  } else if (mode == "valid") {
    before = 0;
  } else {
    before = given;
  }
}

llvm::Error Interpreter::conv2d(nn::Conv2DOp op) {
  // Constant float32 weights: the activations may stay channels-last from
  // one convolution to the next (Buffer::channelsLast).
  bool prepack = state_.runInvariant.contains(op.getW()) && inAnyLayout(op.getX()).dtype == DType::Float32 &&
                 typeOf(op.getResult()).getElementType().isF32();
  const Buffer &x = prepack ? inAnyLayout(op.getX()) : in(op.getX()), &w = in(op.getW());
  // A fused residual that dies here lends its storage to the output: oneDNN
  // adds the output to what it holds (a sum post-op), with no copy first.
  auto fused = prepack ? state_.convEpilogues.find(op) : state_.convEpilogues.end();
  Value fusedResidual = fused != state_.convEpilogues.end() ? fused->second.residual : Value();
  Buffer &y = fusedResidual && fusedResidual != op.getX() ? defineInPlaceOf(op.getResult(), fusedResidual)
                                                          : define(op.getResult());
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  int64_t O = w.shape[0], Cg = w.shape[1], KH = w.shape[2], KW = w.shape[3];
  int64_t OH = y.shape[2], OW = y.shape[3], G = op.getGroup(), Og = O / G;
  auto stride = op.getStride(), dilation = op.getDilation(), pad = op.getPad();
  int64_t top, left;
  windowPads(op.getPadMode(), H, OH, KH, stride[0], dilation[0], pad[0], top);
  windowPads(op.getPadMode(), W, OW, KW, stride[1], dilation[1], pad[2], left);
  bool f32 = y.dtype == DType::Float32;
  if (f32 && x.dtype == DType::Float32 && w.dtype == DType::Float32) {
    kernels::Conv2DParams params;
    params.strides[0] = stride[0];
    params.strides[1] = stride[1];
    params.dilations[0] = dilation[0];
    params.dilations[1] = dilation[1];
    params.padBefore[0] = top;
    params.padBefore[1] = left;
    // The trailing pads that make oneDNN's output extent the declared one.
    params.padAfter[0] = (OH - 1) * stride[0] + (KH - 1) * dilation[0] + 1 - H - top;
    params.padAfter[1] = (OW - 1) * stride[1] + (KW - 1) * dilation[1] + 1 - W - left;
    params.groups = G;
    kernels::PrepackedWeights *prepacked = nullptr;
    if (prepack) {
      auto &slot = state_.prepacked[op];
      if (!slot) {
        slot = std::make_unique<kernels::PrepackedWeights>();
        slot->bfloat16 = state_.bfloat16Products;
      }
      prepacked = slot.get();
      params.xChannelsLast = x.channelsLast;
      // A returned value leaves the run row-major anyway.
      params.mayLeaveChannelsLast = !llvm::is_contained(liveOutputs_, op.getResult());
      if (fused != state_.convEpilogues.end()) {
        params.bias = in(fused->second.bias).as<float>();
        params.activation = fused->second.activation;
        params.alpha = fused->second.alpha;
        params.beta = fused->second.beta;
        if (Value residual = fused->second.residual) {
          const Buffer &r = inAnyLayout(residual);
          if (r.dtype != DType::Float32 || r.shape != y.shape)
            return opError(op, "internal: a fused residual of another type or shape than the convolution's");
          params.residual = r.as<float>();
          params.residualChannelsLast = r.channelsLast;
        }
        params.mayLeaveChannelsLast = true; // what returns it converts it
      }
    } else if (state_.convEpilogues.count(op)) {
      return opError(op, "internal: a fused bias and activation without the prepacked convolution");
    }
    if (llvm::Error err = kernels::conv2d(x.as<float>(), x.shape, w.as<float>(), w.shape, y.as<float>(), y.shape,
                                          params, prepacked))
      return opError(op, llvm::toString(std::move(err)));
    y.channelsLast = params.yChannelsLast;
    return llvm::Error::success();
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      int64_t g = o / Og;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double sum = 0;
          for (int64_t c = 0; c < Cg; ++c) {
            int64_t ic = g * Cg + c;
            for (int64_t kh = 0; kh < KH; ++kh) {
              int64_t ih = oh * stride[0] - top + kh * dilation[0];
              if (ih < 0 || ih >= H)
                continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t iw = ow * stride[1] - left + kw * dilation[1];
                if (iw < 0 || iw >= W)
                  continue;
                int64_t xi = ((n * C + ic) * H + ih) * W + iw, wi = ((o * Cg + c) * KH + kh) * KW + kw;
                sum += f32 ? static_cast<double>(x.as<float>()[xi]) * w.as<float>()[wi] : x.get(xi) * w.get(wi);
              }
            }
          }
          y.set(((n * O + o) * OH + oh) * OW + ow, sum);
        }
    }
  return llvm::Error::success();
}

template <typename PoolOp>
llvm::Error Interpreter::pool(PoolOp op, bool max) {
  // A channels-last feature map is pooled as it is (oneDNN's NHWC pooling).
  const Buffer *source = &inAnyLayout(op.getX());
  bool channelsLast = source->channelsLast && source->dtype == DType::Float32 && source->shape.size() == 4 &&
                      !llvm::is_contained(liveOutputs_, op.getResult());
  if (source->channelsLast && !channelsLast)
    source = &in(op.getX());
  const Buffer &x = *source;
  Buffer &y = define(op.getResult());
  int spatial = static_cast<int>(x.shape.size()) - 2;
  auto k = op.getKernelSize(), s = op.getStrides(), pad = op.getPad(), dilation = op.getDilation();
  bool padMode = op.getPadMode() == "pad";
  // Per spatial dimension: input and output extents, the leading pad, the
  // pad the declared output extent implies after the input, and the pad
  // the op declares there.
  int64_t in[3], out[3], before[3], trailing[3], declaredAfter[3];
  bool trailingDeclared = true, trailingValid = true;
  for (int d = 0; d < spatial; ++d) {
    in[d] = x.shape[2 + d];
    out[d] = y.shape[2 + d];
    windowPads(op.getPadMode(), in[d], out[d], k[d], s[d], dilation[d], pad[2 * d], before[d]);
    declaredAfter[d] = padMode ? pad[2 * d + 1] : before[d];
    trailing[d] = (out[d] - 1) * s[d] + (k[d] - 1) * dilation[d] + 1 - in[d] - before[d];
    trailingDeclared &= trailing[d] == declaredAfter[d];
    trailingValid &= trailing[d] >= 0;
  }
  bool includePad = false;
  if constexpr (std::is_same_v<PoolOp, nn::AvgPoolOp> || std::is_same_v<PoolOp, nn::AvgPool3DOp>)
    includePad = op.getCountIncludePad();
  // oneDNN counts every pad it is given; the trailing pads that make the
  // declared output extent (ceil mode) must not count, so averages that
  // count pads go to oneDNN only when those are the declared ones.
  if (x.dtype == DType::Float32 && trailingValid && (!includePad || trailingDeclared)) {
    kernels::PoolParams params{spatial, {}, {}, {}, {}, {}};
    for (int d = 0; d < spatial; ++d) {
      params.kernel[d] = k[d];
      params.strides[d] = s[d];
      params.dilations[d] = dilation[d];
      params.padBefore[d] = before[d];
      params.padAfter[d] = trailing[d];
    }
    kernels::Pooling kind = max          ? kernels::Pooling::Max
                            : includePad ? kernels::Pooling::AverageCountingPads
                                         : kernels::Pooling::AverageOfInputs;
    params.channelsLast = channelsLast;
    if (llvm::Error err = kernels::pool(kind, x.as<float>(), x.shape, y.as<float>(), y.shape, params))
      return opError(op, llvm::toString(std::move(err)));
    y.channelsLast = channelsLast;
    return llvm::Error::success();
  }
  // Direct loops over every output element and its window, in double, on
  // row-major bytes.
  const Buffer &rowMajor = channelsLast ? this->in(op.getX()) : x;
  int64_t planes = x.shape[0] * x.shape[1], inPlane = 1, outPlane = 1, window = 1;
  for (int d = 0; d < spatial; ++d) {
    inPlane *= in[d];
    outPlane *= out[d];
    window *= k[d];
  }
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t o = 0; o < outPlane; ++o) {
      int64_t position[3] = {0, 0, 0};
      for (int64_t rest = o, d = spatial - 1; d >= 0; --d) {
        position[d] = rest % out[d];
        rest /= out[d];
      }
      double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
      int64_t count = 0, padded = 0;
      for (int64_t w = 0; w < window; ++w) {
        bool inside = true, withinPads = true;
        int64_t offset = 0;
        for (int64_t rest = w, d = spatial - 1, scale = 1; d >= 0; --d) {
          int64_t tap = rest % k[d];
          rest /= k[d];
          int64_t index = position[d] * s[d] - before[d] + tap * dilation[d];
          withinPads &= index >= -before[d] && index < in[d] + declaredAfter[d];
          inside &= index >= 0 && index < in[d];
          offset += index * scale;
          scale *= in[d];
        }
        padded += withinPads;
        if (!inside)
          continue;
        double v = rowMajor.get(plane * inPlane + offset);
        acc = max ? std::max(acc, v) : acc + v;
        ++count;
      }
      if (!max)
        acc /= std::max<int64_t>(includePad ? padded : count, 1);
      y.set(plane * outPlane + o, acc);
    }
  return llvm::Error::success();
}

/// Each input element scatters its products with the kernel: direct loops
/// over 2 or 3 spatial dimensions, in double for any float type (no oneDNN
/// path yet).
template <typename ConvTransposeOp>
llvm::Error Interpreter::convTranspose(ConvTransposeOp op) {
  const Buffer &x = in(op.getX()), &w = in(op.getW());
  Buffer &y = define(op.getResult());
  int spatial = static_cast<int>(x.shape.size()) - 2;
  int64_t batch = x.shape[0], cin = x.shape[1], group = op.getGroup(), cinPer = cin / group, coutPer = w.shape[1];
  int64_t cout = y.shape[1];
  llvm::ArrayRef<int64_t> stride = op.getStride(), dilation = op.getDilation(), pad = op.getPad();
  int64_t inPlane = 1, outPlane = 1, window = 1;
  for (int d = 0; d < spatial; ++d) {
    inPlane *= x.shape[2 + d];
    outPlane *= y.shape[2 + d];
    window *= w.shape[2 + d];
  }
  std::vector<double> acc(y.numElements(), 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < cin; ++c) {
      int64_t g = c / cinPer;
      for (int64_t i = 0; i < inPlane; ++i) {
        double v = x.get((b * cin + c) * inPlane + i);
        int64_t position[3] = {0, 0, 0};
        for (int64_t rest = i, d = spatial - 1; d >= 0; --d) {
          position[d] = rest % x.shape[2 + d];
          rest /= x.shape[2 + d];
        }
        for (int64_t tap = 0; tap < window; ++tap) {
          int64_t offset = 0;
          bool inside = true;
          for (int64_t rest = tap, d = spatial - 1, scale = 1; d >= 0; --d) {
            int64_t k = rest % w.shape[2 + d];
            rest /= w.shape[2 + d];
            int64_t index = position[d] * stride[d] - pad[2 * d] + k * dilation[d];
            inside &= index >= 0 && index < y.shape[2 + d];
            offset += index * scale;
            scale *= y.shape[2 + d];
          }
          if (!inside)
            continue;
          for (int64_t oc = 0; oc < coutPer; ++oc)
            acc[(b * cout + g * coutPer + oc) * outPlane + offset] += v * w.get((c * coutPer + oc) * window + tap);
        }
      }
    }
  for (int64_t i = 0, total = y.numElements(); i < total; ++i)
    y.set(i, acc[i]);
  return llvm::Error::success();
}

} // namespace dinfer::interp

Kernel dinfer::interp::selectLinalgKernel(Operation *op) {
  return llvm::TypeSwitch<Operation *, Kernel>(op)
      .Case([](nn::MatMulOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto m = llvm::cast<nn::MatMulOp>(op);
          return self.matmul(op, m.getX(), m.getW(), m.getTransposeA(), m.getTransposeB());
        };
      })
      .Case([](nn::BatchMatMulOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto m = llvm::cast<nn::BatchMatMulOp>(op);
          return self.matmul(op, m.getX(), m.getY(), m.getTransposeA(), m.getTransposeB());
        };
      })
      .Case([](nn::Conv2DOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::Conv2DOp>(op);
          return self.conv2d(o);
        };
      })
      .Case([](nn::MaxPoolOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::MaxPoolOp>(op);
          return self.pool(o, true);
        };
      })
      .Case([](nn::AvgPoolOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::AvgPoolOp>(op);
          return self.pool(o, false);
        };
      })
      .Case([](nn::MaxPool3DOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.pool(llvm::cast<nn::MaxPool3DOp>(op), true);
        };
      })
      .Case([](nn::AvgPool3DOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.pool(llvm::cast<nn::AvgPool3DOp>(op), false);
        };
      })
      .Case([](nn::Conv2DTransposeOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.convTranspose(llvm::cast<nn::Conv2DTransposeOp>(op));
        };
      })
      .Case([](nn::Conv3DTransposeOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.convTranspose(llvm::cast<nn::Conv3DTransposeOp>(op));
        };
      })
      .Case([](nn::LSTMOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::LSTMOp>(op);
          const Buffer &x = self.in(o.getX()), &h = self.in(o.getH()), &c = self.in(o.getC()), &w = self.in(o.getW());
          Buffer &y = self.define(o.getOutput()), &hn = self.define(o.getHN()), &cn = self.define(o.getCN());
          if (x.dtype != DType::Float32)
            return opError(op, "LSTM runs on float32 only");
          kernels::LSTMParams params{x.shape[0], x.shape[1], x.shape[2], h.shape[2], static_cast<int64_t>(o.getNumLayers()),
                                     o.getBidirectional(), o.getHasBias()};
          if (llvm::Error err = kernels::lstm(x.as<float>(), h.as<float>(), c.as<float>(), w.as<float>(),
                                              y.as<float>(), hn.as<float>(), cn.as<float>(), params))
            return opError(op, llvm::toString(std::move(err)));
          return llvm::Error::success();
        };
      })
      .Default([](Operation *) -> Kernel { return nullptr; });
}
