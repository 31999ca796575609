//===- Indexing.cpp - index search, scans, element gathers and scatters, pads ===//
//
// Ops whose reads or writes follow index data or a scan: argmax/argmin,
// cumsum, GatherD/GatherNd, the TensorScatter family and PadV3. They run on
// doubles through Buffer::get/set, which holds every integer an index or a
// scan of the element types meets exactly.
//
//===----------------------------------------------------------------------===//

#include "../InterpreterImpl.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstring>

using namespace dinfer;
using namespace dinfer::interp;

namespace {
/// The dimensions around `axis`: `outer` blocks of `len` steps of `inner`.
struct AxisSplit {
  int64_t outer, len, inner;
};

AxisSplit splitAt(llvm::ArrayRef<int64_t> shape, int64_t axis) {
  return {product(shape.take_front(axis)), shape[axis], product(shape.drop_front(axis + 1))};
}

/// An index read from `indices`, made non-negative against `size`.
llvm::Expected<int64_t> checkedIndex(Operation *op, const Buffer &indices, int64_t i, int64_t size) {
  int64_t k = static_cast<int64_t>(indices.get(i));
  int64_t normalized = k < 0 ? k + size : k;
  if (normalized < 0 || normalized >= size)
    return opError(op, "index " + std::to_string(k) + " is out of range for a dimension of " + std::to_string(size));
  return normalized;
}

llvm::Error argReduce(Interpreter &self, Operation *op, int64_t axisAttr, bool lastIndex, bool largest) {
  const Buffer &x = self.in(op->getOperand(0));
  Buffer &y = self.define(op->getResult(0));
  AxisSplit s = splitAt(x.shape, normalize(axisAttr, x.shape.size()));
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      int64_t base = o * s.len * s.inner + i, best = 0;
      double bestValue = x.get(base);
      for (int64_t a = 1; a < s.len; ++a) {
        double v = x.get(base + a * s.inner);
        bool better = largest ? v > bestValue : v < bestValue;
        if (better || (lastIndex && v == bestValue)) {
          best = a;
          bestValue = v;
        }
      }
      y.set(o * s.inner + i, static_cast<double>(best));
    }
  return llvm::Error::success();
}

/// Coordinates of element `flat` of a row-major tensor of `shape`.
void unflatten(int64_t flat, llvm::ArrayRef<int64_t> shape, llvm::MutableArrayRef<int64_t> coords) {
  for (size_t d = shape.size(); d-- > 0;) {
    coords[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
}

enum class Combine { Replace, Add, Mul, Max, Min };

double combine(Combine how, double old, double update) {
  switch (how) {
  case Combine::Replace: return update;
  case Combine::Add: return old + update;
  case Combine::Mul: return old * update;
  case Combine::Max: return std::max(old, update);
  case Combine::Min: return std::min(old, update);
  }
  return update;
}

/// x with the slices at the index tuples of `indices` combined with `updates`.
llvm::Error tensorScatter(Interpreter &self, Operation *op, Combine how) {
  const Buffer &x = self.in(op->getOperand(0)), &indices = self.in(op->getOperand(1)),
               &updates = self.in(op->getOperand(2));
  Buffer &y = self.define(op->getResult(0));
  std::memcpy(y.data.data(), x.bytes(), x.byteSize());
  int64_t depth = indices.shape.back(), tuples = indices.numElements() / std::max<int64_t>(depth, 1);
  if (depth == 0)
    tuples = product(llvm::ArrayRef<int64_t>(indices.shape).drop_back());
  int64_t slice = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(depth));
  SmallVector<int64_t, 4> xs = stridesOf(x.shape);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t offset = 0;
    for (int64_t k = 0; k < depth; ++k) {
      auto index = checkedIndex(op, indices, t * depth + k, x.shape[k]);
      if (!index)
        return index.takeError();
      offset += *index * xs[k];
    }
    for (int64_t e = 0; e < slice; ++e)
      y.set(offset + e, combine(how, y.get(offset + e), updates.get(t * slice + e)));
  }
  return llvm::Error::success();
}

/// Where output coordinate `c` of a padded dimension reads from, or -1 for
/// the constant.
int64_t padSource(int64_t c, int64_t before, int64_t size, llvm::StringRef mode) {
  int64_t i = c - before;
  if (i >= 0 && i < size)
    return i;
  if (mode == "constant")
    return -1;
  if (mode == "edge")
    return i < 0 ? 0 : size - 1;
  if (mode == "wrap")
    return ((i % size) + size) % size;
  // reflect: mirror about the edge elements, period 2 (size - 1).
  if (size == 1)
    return 0;
  int64_t period = 2 * (size - 1);
  i = ((i % period) + period) % period;
  return i < size ? i : period - i;
}
} // namespace

Kernel dinfer::interp::selectIndexingKernel(Operation *op) {
  return llvm::TypeSwitch<Operation *, Kernel>(op)
      .Case([](nn::ArgmaxOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::ArgmaxOp>(op);
          return argReduce(self, op, o.getAxis(), o.getSelectLastIndex(), /*largest=*/true);
        };
      })
      .Case([](nn::ArgminOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::ArgminOp>(op);
          return argReduce(self, op, o.getAxis(), o.getSelectLastIndex(), /*largest=*/false);
        };
      })
      .Case([](nn::CumSumOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::CumSumOp>(op);
          const Buffer &x = self.in(o.getX());
          Buffer &y = self.define(o.getResult());
          AxisSplit s = splitAt(x.shape, normalize(o.getAxis(), x.shape.size()));
          bool exclusive = o.getExclusive(), reverse = o.getReverse();
          for (int64_t b = 0; b < s.outer; ++b)
            for (int64_t i = 0; i < s.inner; ++i) {
              double sum = 0;
              for (int64_t step = 0; step < s.len; ++step) {
                int64_t a = reverse ? s.len - 1 - step : step;
                int64_t at = (b * s.len + a) * s.inner + i;
                double v = x.get(at);
                if (!exclusive)
                  sum += v;
                y.set(at, sum);
                if (exclusive)
                  sum += v;
              }
            }
          return llvm::Error::success();
        };
      })
      .Case([](nn::GatherDOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::GatherDOp>(op);
          const Buffer &x = self.in(o.getX()), &index = self.in(o.getIndex());
          Buffer &y = self.define(o.getResult());
          size_t rank = x.shape.size();
          int64_t dim = normalize(o.getDim(), rank);
          SmallVector<int64_t, 4> xs = stridesOf(x.shape), coords(rank);
          size_t e = x.elementBytes();
          for (int64_t i = 0, n = index.numElements(); i < n; ++i) {
            unflatten(i, index.shape, coords);
            auto k = checkedIndex(op, index, i, x.shape[dim]);
            if (!k)
              return k.takeError();
            coords[dim] = *k;
            int64_t src = 0;
            for (size_t d = 0; d < rank; ++d)
              src += coords[d] * xs[d];
            std::memcpy(y.data.data() + i * e, x.bytes() + src * e, e);
          }
          return llvm::Error::success();
        };
      })
      .Case([](nn::GatherNdOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::GatherNdOp>(op);
          const Buffer &x = self.in(o.getX()), &indices = self.in(o.getIndices());
          Buffer &y = self.define(o.getResult());
          int64_t batchDims = o.getBatchDims(), depth = indices.shape.back();
          llvm::ArrayRef<int64_t> xShape(x.shape), iShape(indices.shape);
          int64_t batches = product(xShape.take_front(batchDims));
          int64_t perBatch = product(iShape.slice(batchDims, iShape.size() - 1 - batchDims));
          int64_t sliceBytes = product(xShape.drop_front(batchDims + depth)) * x.elementBytes();
          int64_t batchElems = product(xShape.drop_front(batchDims));
          SmallVector<int64_t, 4> xs = stridesOf(xShape.drop_front(batchDims));
          for (int64_t b = 0; b < batches; ++b)
            for (int64_t t = 0; t < perBatch; ++t) {
              int64_t tuple = b * perBatch + t, offset = b * batchElems;
              for (int64_t k = 0; k < depth; ++k) {
                auto index = checkedIndex(op, indices, tuple * depth + k, xShape[batchDims + k]);
                if (!index)
                  return index.takeError();
                offset += *index * xs[k];
              }
              std::memcpy(y.data.data() + tuple * sliceBytes, x.bytes() + offset * x.elementBytes(), sliceBytes);
            }
          return llvm::Error::success();
        };
      })
      .Case([](nn::TensorScatterUpdateOp) -> Kernel {
        return [](Interpreter &self, Operation *op) { return tensorScatter(self, op, Combine::Replace); };
      })
      .Case([](nn::TensorScatterAddOp) -> Kernel {
        return [](Interpreter &self, Operation *op) { return tensorScatter(self, op, Combine::Add); };
      })
      .Case([](nn::TensorScatterMulOp) -> Kernel {
        return [](Interpreter &self, Operation *op) { return tensorScatter(self, op, Combine::Mul); };
      })
      .Case([](nn::TensorScatterMaxOp) -> Kernel {
        return [](Interpreter &self, Operation *op) { return tensorScatter(self, op, Combine::Max); };
      })
      .Case([](nn::TensorScatterMinOp) -> Kernel {
        return [](Interpreter &self, Operation *op) { return tensorScatter(self, op, Combine::Min); };
      })
      .Case([](nn::TensorScatterElementsOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::TensorScatterElementsOp>(op);
          const Buffer &x = self.in(o.getX()), &indices = self.in(o.getIndices()), &updates = self.in(o.getUpdates());
          Buffer &y = self.define(o.getResult());
          std::memcpy(y.data.data(), x.bytes(), x.byteSize());
          Combine how = llvm::StringSwitch<Combine>(o.getReduction())
                            .Case("add", Combine::Add)
                            .Case("mul", Combine::Mul)
                            .Case("max", Combine::Max)
                            .Case("min", Combine::Min)
                            .Default(Combine::Replace);
          size_t rank = x.shape.size();
          int64_t axis = normalize(o.getAxis(), rank);
          SmallVector<int64_t, 4> xs = stridesOf(x.shape), coords(rank);
          for (int64_t i = 0, n = indices.numElements(); i < n; ++i) {
            unflatten(i, indices.shape, coords);
            auto k = checkedIndex(op, indices, i, x.shape[axis]);
            if (!k)
              return k.takeError();
            coords[axis] = *k;
            int64_t at = 0;
            for (size_t d = 0; d < rank; ++d)
              at += coords[d] * xs[d];
            y.set(at, combine(how, y.get(at), updates.get(i)));
          }
          return llvm::Error::success();
        };
      })
      .Case([](nn::PadOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::PadOp>(op);
          // Exporters write Pad with zero pads in front of pooling: nothing to copy.
          if (llvm::all_of(o.getPaddings(), [](int64_t p) { return p == 0; })) {
            self.forward(o.getResult(), o.getX());
            return llvm::Error::success();
          }
          const Buffer &x = self.in(o.getX());
          Buffer &y = self.define(o.getResult());
          size_t rank = x.shape.size(), e = x.elementBytes();
          llvm::ArrayRef<int64_t> paddings = o.getPaddings();
          llvm::StringRef mode = o.getMode();
          SmallVector<int64_t, 4> xs = stridesOf(x.shape), coords(rank);
          // The fill value in the element type, written once and copied.
          Buffer fill(x.dtype, {1});
          fill.set(0, o.getValue().convertToDouble());
          for (int64_t i = 0, n = y.numElements(); i < n; ++i) {
            unflatten(i, y.shape, coords);
            int64_t src = 0;
            for (size_t d = 0; d < rank && src >= 0; ++d) {
              int64_t from = padSource(coords[d], paddings[2 * d], x.shape[d], mode);
              src = from < 0 ? -1 : src + from * xs[d];
            }
            std::memcpy(y.data.data() + i * e, src < 0 ? fill.bytes() : x.bytes() + src * e, e);
          }
          return llvm::Error::success();
        };
      })
      .Default([](Operation *) -> Kernel { return nullptr; });
}
