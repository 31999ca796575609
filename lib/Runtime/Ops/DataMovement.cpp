//===- DataMovement.cpp - reshapes, transposes, slices, gathers -------------===//

#include "../InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace dinfer;
using namespace dinfer::interp;

namespace {
/// Python slice semantics per dimension, as nn.strided_slice infers them.
struct SliceDim {
  int64_t begin, stride, extent;
  bool shrink;
};

SmallVector<SliceDim, 4> sliceDims(nn::StridedSliceOp op) {
  RankedTensorType type = typeOf(op.getX());
  SmallVector<SliceDim, 4> dims;
  auto begin = op.getBegin(), end = op.getEnd(), strides = op.getStrides();
  uint64_t beginMask = op.getBeginMask(), endMask = op.getEndMask(), shrinkMask = op.getShrinkAxisMask();
  for (int64_t d = 0; d < type.getRank(); ++d) {
    int64_t size = type.getDimSize(d);
    if (d >= static_cast<int64_t>(begin.size())) {
      dims.push_back({0, 1, size, false});
      continue;
    }
    if (shrinkMask >> d & 1) {
      dims.push_back({begin[d] < 0 ? begin[d] + size : begin[d], 1, 1, true});
      continue;
    }
    int64_t stride = strides[d];
    bool forward = stride > 0;
    auto clamp = [&](int64_t index) {
      if (index < 0)
        index += size;
      return forward ? std::clamp<int64_t>(index, 0, size) : std::clamp<int64_t>(index, -1, size - 1);
    };
    int64_t b = (beginMask >> d & 1) ? (forward ? 0 : size - 1) : clamp(begin[d]);
    int64_t e = (endMask >> d & 1) ? (forward ? size : -1) : clamp(end[d]);
    int64_t extent = forward ? (std::max<int64_t>(e - b, 0) + stride - 1) / stride
                             : (std::max<int64_t>(b - e, 0) + (-stride) - 1) / (-stride);
    dims.push_back({b, stride, extent, false});
  }
  return dims;
}
} // namespace

Kernel dinfer::interp::selectDataMovementKernel(Operation *op) {
  return llvm::TypeSwitch<Operation *, Kernel>(op)
      .Case<nn::ReshapeOp, nn::ExpandDimsOp, nn::SqueezeOp, nn::FlattenOp>([](Operation *) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          Operation *o = op;

          self.alias(o->getResult(0), o->getOperand(0));
          return llvm::Error::success();
        };
      })
      .Case([](nn::TransposeOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::TransposeOp>(op);

          SmallVector<int64_t, 4> perm(o.getPerm().begin(), o.getPerm().end());
          // A channels-last [N, C, H, W] permuted to [N, H, W, C] is its own
          // bytes, row-major; and a row-major [N, H, W, C] permuted back is
          // those bytes read channels-last (ConvNeXt's permutes around its
          // layer norms and linears).
          const Buffer &any = self.inAnyLayout(o.getX());
          if (perm.size() == 4 && perm[0] == 0 && !any.isView()) {
            bool toLast = perm[1] == 2 && perm[2] == 3 && perm[3] == 1, toFirst = perm[1] == 3 && perm[2] == 1 && perm[3] == 2;
            if (toLast && any.channelsLast) {
              self.relabel(o.getResult(), o.getX(), /*channelsLast=*/false);
              return llvm::Error::success();
            }
            if (toFirst && !any.channelsLast && !llvm::is_contained(self.liveOutputs(), o.getResult())) {
              self.relabel(o.getResult(), o.getX(), /*channelsLast=*/true);
              return llvm::Error::success();
            }
          }
          const Buffer &x = self.in(o.getX());
          // Moving only dimensions of extent 1 leaves the bytes in order.
          SmallVector<int64_t, 4> moved;
          for (int64_t d : perm)
            if (x.shape[d] != 1)
              moved.push_back(d);
          if (llvm::is_sorted(moved)) {
            self.alias(o.getResult(), o.getX());
            return llvm::Error::success();
          }
          Buffer &y = self.define(o.getResult());
          kernels::transpose(x.bytes(), y.data.data(), x.shape, perm, x.elementBytes());
          return llvm::Error::success();
        };
      })
      .Case([](nn::ConcatOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::ConcatOp>(op);

          int64_t rank = typeOf(o.getResult()).getRank();
          int64_t axis = normalize(static_cast<int64_t>(o.getAxis()), rank);
          // Channels of channels-last feature maps: each pixel's channels
          // from every input in turn; the result stays channels-last.
          if (rank == 4 && axis == 1 && llvm::all_of(o.getInputs(), [&](Value v) {
                return self.inAnyLayout(v).channelsLast;
              })) {
            Buffer &y = self.define(o.getResult());
            int64_t pixels = y.shape[0] * y.shape[2] * y.shape[3], e = y.elementBytes();
            int64_t row = y.shape[1] * e;
            SmallVector<std::pair<const char *, int64_t>, 8> parts; // each input's bytes and channel bytes
            for (Value v : o.getInputs()) {
              const Buffer &x = self.inAnyLayout(v);
              parts.push_back({x.bytes(), x.shape[1] * e});
            }
            // Pixel by pixel, each output row written front to back; the
            // pixels split between the kernel threads.
            char *out = y.data.data();
            kernels::parallelFor(pixels, row, [&](int64_t begin, int64_t end) {
              for (int64_t p = begin; p < end; ++p) {
                char *target = out + p * row;
                for (auto [bytes, chunk] : parts) {
                  std::memcpy(target, bytes + p * chunk, chunk);
                  target += chunk;
                }
              }
            });
            y.channelsLast = true;
            return llvm::Error::success();
          }
          Buffer &y = self.define(o.getResult());
          int64_t inner = product(llvm::ArrayRef<int64_t>(y.shape).drop_front(axis + 1)) * y.elementBytes();
          int64_t outer = product(llvm::ArrayRef<int64_t>(y.shape).take_front(axis));
          int64_t offset = 0, row = y.shape[axis] * inner;
          for (Value v : o.getInputs()) {
            const Buffer &x = self.in(v);
            int64_t chunk = x.shape[axis] * inner;
            for (int64_t b = 0; b < outer; ++b)
              copyBytes(y.data.data() + b * row + offset, x.bytes() + b * chunk, chunk);
            offset += chunk;
          }
          return llvm::Error::success();
        };
      })
      .Case([](nn::SplitOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::SplitOp>(op);

          const Buffer &x = self.in(o.getX());
          int64_t axis = normalize(static_cast<int64_t>(o.getAxis()), x.shape.size());
          int64_t inner = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(axis + 1)) * x.elementBytes();
          int64_t outer = product(llvm::ArrayRef<int64_t>(x.shape).take_front(axis));
          int64_t row = x.shape[axis] * inner, offset = 0;
          for (Value result : o.getResults()) {
            Buffer &y = self.define(result);
            int64_t chunk = y.shape[axis] * inner;
            for (int64_t b = 0; b < outer; ++b)
              copyBytes(y.data.data() + b * chunk, x.bytes() + b * row + offset, chunk);
            offset += chunk;
          }
          return llvm::Error::success();
        };
      })
      .Case([](nn::StridedSliceOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::StridedSliceOp>(op);

          const Buffer &x = self.in(o.getX());
          Buffer &y = self.define(o.getResult());
          SmallVector<SliceDim, 4> dims = sliceDims(o);
          SmallVector<int64_t, 4> xs = stridesOf(x.shape), extents;
          for (const SliceDim &d : dims)
            extents.push_back(d.extent);
          size_t e = x.elementBytes();
          // Runs along the last dimension are contiguous when its stride is 1:
          // one copy per run, the outer dimensions walked by an odometer.
          size_t rank = dims.size();
          bool contiguousRuns = rank > 0 && dims.back().stride == 1;
          int64_t run = contiguousRuns ? extents.back() : 1, total = y.numElements();
          size_t outerRank = contiguousRuns ? rank - 1 : rank;
          if (total == 0)
            return llvm::Error::success();
          SmallVector<int64_t, 4> index(outerRank, 0);
          int64_t src = 0;
          for (size_t d = 0; d < rank; ++d)
            src += dims[d].begin * xs[d];
          for (int64_t out = 0; out < total; out += run) {
            copyBytes(y.data.data() + out * e, x.bytes() + src * e, run * e);
            for (size_t d = outerRank; d-- > 0;) {
              src += dims[d].stride * xs[d];
              if (++index[d] < extents[d])
                break;
              src -= dims[d].stride * xs[d] * extents[d];
              index[d] = 0;
            }
          }
          return llvm::Error::success();
        };
      })
      .Case([](nn::GatherOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::GatherOp>(op);

          const Buffer &p = self.in(o.getParams()), &idx = self.in(o.getIndices());
          Buffer &y = self.define(o.getResult());
          int64_t axis = normalize(static_cast<int64_t>(o.getAxis()), p.shape.size());
          int64_t size = p.shape[axis];
          int64_t inner = product(llvm::ArrayRef<int64_t>(p.shape).drop_front(axis + 1)) * p.elementBytes();
          int64_t outer = product(llvm::ArrayRef<int64_t>(p.shape).take_front(axis)), count = idx.numElements();
          for (int64_t b = 0; b < outer; ++b)
            for (int64_t j = 0; j < count; ++j) {
              int64_t k = static_cast<int64_t>(idx.get(j));
              if (k < 0)
                k += size;
              if (k < 0 || k >= size)
                return opError(op, "index " + std::to_string(static_cast<int64_t>(idx.get(j))) +
                                       " is out of range for a dimension of " + std::to_string(size));
              copyBytes(y.data.data() + (b * count + j) * inner, p.bytes() + (b * size + k) * inner, inner);
            }
          return llvm::Error::success();
        };
      })
      .Case([](nn::EmbeddingLookupOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<nn::EmbeddingLookupOp>(op);

          const Buffer &p = self.in(o.getParams()), &idx = self.in(o.getIndices());
          Buffer &y = self.define(o.getResult());
          int64_t offset = static_cast<int64_t>(self.in(o.getOffset()).get(0)), rows = p.shape[0];
          int64_t rowBytes = product(llvm::ArrayRef<int64_t>(p.shape).drop_front()) * p.elementBytes();
          for (int64_t j = 0, count = idx.numElements(); j < count; ++j) {
            int64_t k = static_cast<int64_t>(idx.get(j)) - offset;
            char *out = y.data.data() + j * rowBytes;
            if (k < 0 || k >= rows)
              std::memset(out, 0, rowBytes);
            else
              copyBytes(out, p.bytes() + k * rowBytes, rowBytes);
          }
          return llvm::Error::success();
        };
      })
      .Default([](Operation *) -> Kernel { return nullptr; });
}
