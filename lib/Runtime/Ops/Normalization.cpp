//===- Normalization.cpp - softmax, norms and reductions --------------------===//

#include "../InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace dinfer;
using namespace dinfer::interp;

namespace dinfer::interp {

llvm::Error Interpreter::softmax(Value xv, Value yv, int64_t axisAttr, bool log) {
  const Buffer &x = in(xv);
  Buffer &y = define(yv);
  int64_t axis = normalize(axisAttr, x.shape.size());
  int64_t len = x.shape[axis], inner = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(axis + 1));
  int64_t outer = x.numElements() / std::max<int64_t>(len * inner, 1);
  if (x.dtype == DType::Float32 && inner == 1 && len > 0) {
    kernels::softmaxRows(x.as<float>(), y.as<float>(), outer, len, log);
    return llvm::Error::success();
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t base = o * len * inner + i;
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int64_t a = 0; a < len; ++a)
        mx = std::max(mx, x.get(base + a * inner));
      for (int64_t a = 0; a < len; ++a)
        sum += std::exp(x.get(base + a * inner) - mx);
      for (int64_t a = 0; a < len; ++a) {
        double v = x.get(base + a * inner) - mx;
        y.set(base + a * inner, log ? v - std::log(sum) : std::exp(v) / sum);
      }
    }
  return llvm::Error::success();
}

llvm::Error Interpreter::reduce(Value xv, Value yv, llvm::ArrayRef<int64_t> axes, Reduction kind) {
  const Buffer &any = inAnyLayout(xv);
  if (any.channelsLast && any.dtype == DType::Float32 && kind != Reduction::Prod && axes.size() == 2 &&
      llvm::is_contained(axes, 2) + llvm::is_contained(axes, -2) == 1 &&
      llvm::is_contained(axes, 3) + llvm::is_contained(axes, -1) == 1 && typeOf(yv).getElementType().isF32()) {
    // Global pooling of a channels-last feature map: [N, H·W, C] over H·W.
    const float *a = any.as<float>();
    int64_t n = any.shape[0], c = any.shape[1], spatial = any.shape[2] * any.shape[3];
    Buffer &y = define(yv);
    kernels::Reduce fast = kind == Reduction::Sum    ? kernels::Reduce::Sum
                           : kind == Reduction::Mean ? kernels::Reduce::Mean
                           : kind == Reduction::Max  ? kernels::Reduce::Max
                                                     : kernels::Reduce::Min;
    kernels::reduceMiddle(fast, a, y.as<float>(), n, spatial, c);
    return llvm::Error::success();
  }
  const Buffer &x = in(xv);
  Buffer &y = define(yv);
  size_t rank = x.shape.size();
  SmallVector<bool, 4> reduced(rank, axes.empty());
  for (int64_t a : axes)
    reduced[normalize(a, rank)] = true;
  // Output strides over the input's dimensions: 0 for reduced ones.
  SmallVector<int64_t, 4> outStrides(rank, 0);
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;)
    if (!reduced[d]) {
      outStrides[d] = stride;
      stride *= x.shape[d];
    }
  int64_t outCount = y.numElements(), inCount = x.numElements();
  // One run of consecutive reduced axes (dimensions of 1 aside) on float32:
  // [outer, reduced, inner], vectorised.
  if (x.dtype == DType::Float32 && y.dtype == DType::Float32 && kind != Reduction::Prod && inCount > 0) {
    int64_t outer = 1, middle = 1, inner = 1;
    int phase = 0; // 0: before the reduced run, 1: in it, 2: after it
    bool oneRun = true;
    for (size_t d = 0; d < rank && oneRun; ++d) {
      if (x.shape[d] == 1)
        continue;
      if (reduced[d]) {
        if (phase == 2)
          oneRun = false;
        phase = 1;
        middle *= x.shape[d];
      } else {
        if (phase == 1)
          phase = 2;
        (phase == 0 ? outer : inner) *= x.shape[d];
      }
    }
    if (oneRun) {
      kernels::Reduce fast = kind == Reduction::Sum    ? kernels::Reduce::Sum
                             : kind == Reduction::Mean ? kernels::Reduce::Mean
                             : kind == Reduction::Max  ? kernels::Reduce::Max
                                                       : kernels::Reduce::Min;
      kernels::reduceMiddle(fast, x.as<float>(), y.as<float>(), outer, middle, inner);
      return llvm::Error::success();
    }
  }
  double start = 0.0;
  if (kind == Reduction::Max)
    start = -std::numeric_limits<double>::infinity();
  else if (kind == Reduction::Min)
    start = std::numeric_limits<double>::infinity();
  else if (kind == Reduction::Prod)
    start = 1.0;
  std::vector<double> acc(outCount, start);
  for (int64_t i = 0; i < inCount; ++i) {
    int64_t rest = i, o = 0;
    for (size_t d = rank; d-- > 0;) {
      o += (rest % x.shape[d]) * outStrides[d];
      rest /= x.shape[d];
    }
    double v = x.get(i);
    switch (kind) {
    case Reduction::Max: acc[o] = std::max(acc[o], v); break;
    case Reduction::Min: acc[o] = std::min(acc[o], v); break;
    case Reduction::Prod: acc[o] *= v; break;
    case Reduction::Sum:
    case Reduction::Mean: acc[o] += v; break;
    }
  }
  int64_t per = outCount ? inCount / outCount : 0;
  for (int64_t o = 0; o < outCount; ++o)
    y.set(o, kind == Reduction::Mean ? acc[o] / std::max<int64_t>(per, 1) : acc[o]);
  return llvm::Error::success();
}

} // namespace dinfer::interp

Kernel dinfer::interp::selectNormalizationKernel(Operation *op) {
  return llvm::TypeSwitch<Operation *, Kernel>(op)
      .Case([](nn::SoftmaxOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::SoftmaxOp>(op);
          return self.softmax(o.getX(), o.getResult(), o.getAxis(), false);
        };
      })
      .Case([](nn::LogSoftmaxOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::LogSoftmaxOp>(op);
          return self.softmax(o.getX(), o.getResult(), o.getAxis(), true);
        };
      })
      .Case([](nn::LayerNormOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::LayerNormOp>(op);

          const Buffer &x = self.in(o.getX()), &g = self.in(o.getGamma()), &b = self.in(o.getBeta());
          Buffer &y = self.define(o.getResult());
          int64_t axis = normalize(static_cast<int64_t>(o.getBeginNormAxis()), x.shape.size());
          int64_t inner = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(axis)), P = g.numElements();
          double eps = o.getEpsilon().convertToDouble();
          if (x.dtype == DType::Float32 && g.dtype == DType::Float32 && b.dtype == DType::Float32 && P == inner &&
              b.numElements() == inner && inner > 0) {
            kernels::layerNormRows(x.as<float>(), g.as<float>(), b.as<float>(), y.as<float>(), x.numElements() / inner,
                                   inner, static_cast<float>(eps));
            return llvm::Error::success();
          }
          for (int64_t base = 0; base < x.numElements(); base += inner) {
            double mean = 0, var = 0;
            for (int64_t i = 0; i < inner; ++i)
              mean += x.get(base + i);
            mean /= inner;
            for (int64_t i = 0; i < inner; ++i)
              var += (x.get(base + i) - mean) * (x.get(base + i) - mean);
            var /= inner;
            double scale = 1 / std::sqrt(var + eps);
            for (int64_t i = 0; i < inner; ++i) {
              int64_t e = base + i;
              y.set(e, (x.get(e) - mean) * scale * g.get(e % P) + b.get(e % P));
            }
          }
          return llvm::Error::success();
        };
      })
      .Case([](nn::RMSNormOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::RMSNormOp>(op);

          const Buffer &x = self.in(o.getX()), &g = self.in(o.getGamma());
          Buffer &y = self.define(o.getResult());
          int64_t inner = g.numElements();
          double eps = o.getEpsilon().convertToDouble();
          if (x.dtype == DType::Float32 && g.dtype == DType::Float32 && inner > 0) {
            kernels::rmsNormRows(x.as<float>(), g.as<float>(), y.as<float>(), x.numElements() / inner, inner,
                                 static_cast<float>(eps));
            return llvm::Error::success();
          }
          for (int64_t base = 0; base < x.numElements(); base += inner) {
            double ms = 0;
            for (int64_t i = 0; i < inner; ++i)
              ms += x.get(base + i) * x.get(base + i);
            double scale = 1 / std::sqrt(ms / inner + eps);
            for (int64_t i = 0; i < inner; ++i)
              y.set(base + i, x.get(base + i) * scale * g.get(i));
          }
          return llvm::Error::success();
        };
      })
      .Case([](nn::BatchNormOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::BatchNormOp>(op);

          const Buffer &sc = self.in(o.getScale()), &bi = self.in(o.getBias()), &mu = self.in(o.getMean()),
                       &va = self.in(o.getVariance());
          const Buffer &any = self.inAnyLayout(o.getX());
          double eps = o.getEpsilon().convertToDouble();
          if (any.dtype == DType::Float32 && any.shape.size() >= 2 && any.shape[1] > 0 &&
              typeOf(o.getResult()).getElementType().isF32()) {
            int64_t C = any.shape[1], inner = product(llvm::ArrayRef<int64_t>(any.shape).drop_front(2));
            std::vector<float> scale(C), shift(C);
            for (int64_t c = 0; c < C; ++c) {
              double a = sc.get(c) / std::sqrt(va.get(c) + eps);
              scale[c] = static_cast<float>(a);
              shift[c] = static_cast<float>(bi.get(c) - mu.get(c) * a);
            }
            bool channelsLast = any.channelsLast;
            const float *a = any.as<float>();
            Buffer &y = self.defineInPlaceOf(o.getResult(), o.getX());
            // Channels last: every pixel a row of C channels.
            bool relu = self.state().batchNormsWithReLU.contains(op);
            if (channelsLast)
              kernels::channelAffine(a, y.as<float>(), any.shape[0] * inner, C, 1, scale.data(), shift.data(), relu);
            else
              kernels::channelAffine(a, y.as<float>(), any.shape[0], C, inner, scale.data(), shift.data(), relu);
            y.channelsLast = channelsLast;
            return llvm::Error::success();
          }
          const Buffer &x = self.in(o.getX());
          Buffer &y = self.define(o.getResult());
          int64_t C = x.shape[1], inner = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(2));
          for (int64_t i = 0, n = x.numElements(); i < n; ++i) {
            int64_t c = (i / inner) % C;
            y.set(i, (x.get(i) - mu.get(c)) / std::sqrt(va.get(c) + eps) * sc.get(c) + bi.get(c));
          }
          return llvm::Error::success();
        };
      })
      .Case([](nn::ReduceSumOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::ReduceSumOp>(op);
          return self.reduce(o.getX(), o.getResult(), o.getAxis(), Interpreter::Reduction::Sum);
        };
      })
      .Case([](nn::ReduceMeanOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::ReduceMeanOp>(op);
          return self.reduce(o.getX(), o.getResult(), o.getAxis(), Interpreter::Reduction::Mean);
        };
      })
      .Case([](nn::ReduceMaxOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::ReduceMaxOp>(op);
          return self.reduce(o.getX(), o.getResult(), o.getAxis(), Interpreter::Reduction::Max);
        };
      })
      .Case([](nn::ReduceMinOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::ReduceMinOp>(op);
          return self.reduce(o.getX(), o.getResult(), o.getAxis(), Interpreter::Reduction::Min);
        };
      })
      .Case([](nn::ReduceProdOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::ReduceProdOp>(op);
          return self.reduce(o.getX(), o.getResult(), o.getAxis(), Interpreter::Reduction::Prod);
        };
      })
      .Default([](Operation *) -> Kernel { return nullptr; });
}
