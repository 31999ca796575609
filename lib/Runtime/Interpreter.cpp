//===- Interpreter.cpp - run an nn-dialect program on the host CPU --------===//

#include "dinfer/Runtime/Interpreter.h"

#include "dinfer/Layout/Layout.h"
#include "dinfer/Runtime/Kernels.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

using namespace mlir;
using namespace dinfer;
using llvm::SmallVector;

std::optional<DType> dinfer::runtimeDType(Type t) {
  if (t.isF32())
    return DType::Float32;
  if (t.isF16())
    return DType::Float16;
  if (t.isBF16())
    return DType::BFloat16;
  if (t.isF64())
    return DType::Float64;
  if (auto i = llvm::dyn_cast<IntegerType>(t)) {
    switch (i.getWidth()) {
    case 1: return DType::Bool;
    case 8: return i.isUnsigned() ? DType::UInt8 : DType::Int8;
    case 16: return i.isUnsigned() ? DType::UInt16 : DType::Int16;
    case 32: return i.isUnsigned() ? DType::UInt32 : DType::Int32;
    case 64: return i.isUnsigned() ? DType::UInt64 : DType::Int64;
    default: return std::nullopt;
    }
  }
  return std::nullopt;
}

namespace {

std::string where(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName() << " at " << op->getLoc();
  return text;
}

llvm::Error opError(Operation *op, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), where(op) + ": " + message);
}

RankedTensorType typeOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }

SmallVector<int64_t, 4> stridesOf(llvm::ArrayRef<int64_t> shape) {
  SmallVector<int64_t, 4> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    strides[d - 1] = strides[d] * shape[d];
  return strides;
}

int64_t product(llvm::ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

int64_t normalize(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

/// memcpy that accepts the null pointers of empty buffers.
void copyBytes(char *dst, const char *src, size_t n) {
  if (n)
    std::memcpy(dst, src, n);
}

/// Input offsets of a numpy-broadcast operand, for each output element.
class BroadcastIndex {
public:
  BroadcastIndex(llvm::ArrayRef<int64_t> in, llvm::ArrayRef<int64_t> out) : out_(out.begin(), out.end()) {
    SmallVector<int64_t, 4> inStrides = stridesOf(in);
    strides_.assign(out.size(), 0);
    size_t offset = out.size() - in.size();
    for (size_t d = 0; d < in.size(); ++d)
      strides_[offset + d] = in[d] == 1 ? 0 : inStrides[d];
  }
  int64_t operator()(int64_t linear) const {
    int64_t result = 0;
    for (size_t d = out_.size(); d-- > 0;) {
      result += (linear % out_[d]) * strides_[d];
      linear /= out_[d];
    }
    return result;
  }

private:
  SmallVector<int64_t, 4> out_, strides_;
};

} // namespace

/// What an Executable keeps from one run to the next: the ops at which each
/// value dies, and the storage of dead values, reused by later ones.
struct dinfer::Executable::State {
  func::FuncOp entry;
  llvm::DenseMap<Operation *, SmallVector<Value, 2>> dying;
  /// Values that are the same in every run: weights, constants, and what is
  /// computed from them alone.
  llvm::DenseSet<Value> runInvariant;
  /// Weights of matrix products, kept in oneDNN's blocked layout.
  llvm::DenseMap<Operation *, std::unique_ptr<kernels::PrepackedWeights>> prepacked;
  std::multimap<size_t, std::vector<char>> pool;
  size_t pooledBytes = 0;
};

namespace {

class Interpreter {
public:
  Interpreter(Executable::State &state, WeightSource weights, OpProfile *profile, const RankContext *rank)
      : weights_(weights), profile_(profile), rank_(rank), state_(state), pool_(state.pool),
        pooledBytes_(state.pooledBytes) {}
  llvm::Expected<std::vector<Buffer>> run(std::vector<Buffer> inputs);

private:
  const Buffer &in(Value v) { return *values_.lookup(v); }
  /// The buffer of a new value: storage of a dead value of the same size
  /// when there is one, or fresh zeroed memory.
  Buffer &define(Value v, DType dtype) {
    auto buffer = std::make_shared<Buffer>();
    buffer->dtype = dtype;
    buffer->shape.assign(typeOf(v).getShape().begin(), typeOf(v).getShape().end());
    size_t bytes = buffer->byteSize();
    auto spare = pool_.find(bytes);
    if (spare != pool_.end() && bytes) {
      buffer->data = std::move(spare->second);
      pool_.erase(spare);
      pooledBytes_ -= bytes;
    } else {
      buffer->data.assign(bytes, 0);
    }
    values_[v] = buffer;
    return *buffer;
  }
  Buffer &define(Value v) { return define(v, *runtimeDType(typeOf(v).getElementType())); }
  /// Defines `result` in the storage of `operand` when the operand dies at
  /// this op and nothing else holds it: elementwise kernels run in place.
  Buffer &defineInPlaceOf(Value result, Value operand) {
    auto it = values_.find(operand);
    DType dtype = *runtimeDType(typeOf(result).getElementType());
    if (it != values_.end() && dyingHere_.contains(operand) && it->second.use_count() == 1 && !it->second->isView() &&
        it->second->dtype == dtype && it->second->shape == SmallVector<int64_t, 4>(typeOf(result).getShape()) &&
        !llvm::is_contained(liveOutputs_, operand)) {
      std::shared_ptr<Buffer> buffer = it->second;
      values_[result] = buffer;
      return *buffer;
    }
    return define(result, dtype);
  }
  /// `result` as the bytes of `operand` under another shape: a dying
  /// operand hands its storage over; otherwise the result is a read-only
  /// view that keeps the operand alive.
  void alias(Value result, Value operand) {
    std::shared_ptr<Buffer> x = values_.lookup(operand);
    llvm::ArrayRef<int64_t> shape = typeOf(result).getShape();
    std::shared_ptr<Buffer> y;
    if (!x->isView() && dyingHere_.contains(operand) && x.use_count() == 2 &&
        !llvm::is_contained(liveOutputs_, operand)) {
      y = std::make_shared<Buffer>();
      y->dtype = x->dtype;
      y->data = std::move(x->data);
      values_[operand] = y; // its storage moved: nothing is left to pool
    } else if (x->isView()) {
      y = std::make_shared<Buffer>(*x);
    } else {
      y = std::make_shared<Buffer>(Buffer::view(x->dtype, shape, x->bytes(), x));
    }
    y->shape.assign(shape.begin(), shape.end());
    values_[result] = y;
  }
  /// Returns the storage of a value that died to the pool.
  void release(Value v) {
    auto it = values_.find(v);
    if (it == values_.end())
      return;
    std::shared_ptr<Buffer> buffer = std::move(it->second);
    values_.erase(it);
    constexpr size_t poolLimit = size_t(1) << 30;
    if (buffer.use_count() == 1 && !buffer->isView() && !buffer->data.empty() &&
        pooledBytes_ + buffer->data.size() <= poolLimit) {
      pooledBytes_ += buffer->data.size();
      pool_.emplace(buffer->data.size(), std::move(buffer->data));
    }
  }

  llvm::Error execute(Operation *op);
  enum class Reduction { Sum, Mean, Max };
  llvm::Error constant(arith::ConstantOp op);
  llvm::Error softmax(Value x, Value y, int64_t axis, bool log);
  llvm::Error reduce(Value x, Value y, llvm::ArrayRef<int64_t> axes, Reduction kind);
  llvm::Error matmul(Operation *op, Value x, Value y, bool ta, bool tb);
  llvm::Error conv2d(nn::Conv2DOp op);
  template <typename PoolOp>
  llvm::Error pool(PoolOp op, bool max);
  llvm::Error collective(Operation *op);
  /// The global ranks of this rank's group for a collective over `axes` of
  /// `devMatrix`, which numbers the ranks of one pipeline stage.
  llvm::Expected<std::vector<int>> groupFor(Operation *op, llvm::ArrayRef<int64_t> devMatrix,
                                            llvm::ArrayRef<int64_t> axes);

  template <typename F>
  void unary(Operation *op, F f, std::optional<kernels::Unary> fast = std::nullopt) {
    const Buffer &x = in(op->getOperand(0));
    if (x.dtype == DType::Float32 && fast) {
      const float *a = x.as<float>();
      Buffer &y = defineInPlaceOf(op->getResult(0), op->getOperand(0));
      kernels::unary(*fast, a, y.as<float>(), y.numElements());
      return;
    }
    Buffer &y = define(op->getResult(0));
    if (x.dtype == DType::Float32) {
      const float *a = x.as<float>();
      float *b = y.as<float>();
      for (int64_t i = 0, n = x.numElements(); i < n; ++i)
        b[i] = static_cast<float>(f(static_cast<double>(a[i])));
      return;
    }
    for (int64_t i = 0, n = x.numElements(); i < n; ++i)
      y.set(i, f(x.get(i)));
  }

  template <typename F>
  void binary(Operation *op, F f, std::optional<kernels::Binary> fast = std::nullopt) {
    Value xv = op->getOperand(0), yv = op->getOperand(1), zv = op->getResult(0);
    const Buffer &x = in(xv), &y = in(yv);
    RankedTensorType zType = typeOf(zv);
    if (fast && x.dtype == DType::Float32 && y.dtype == DType::Float32 && zType.getElementType().isF32()) {
      llvm::ArrayRef<int64_t> zShape = zType.getShape();
      int64_t count = zType.getNumElements();
      // The full operand on the left and a bias row (or scalar) on the
      // right: one row of y per row of x, no per-element index arithmetic.
      if (llvm::ArrayRef<int64_t>(x.shape) == zShape && isTrailingRow(y.shape, zShape)) {
        const float *a = x.as<float>(), *b = y.as<float>();
        Buffer &z = defineInPlaceOf(zv, xv);
        kernels::binaryRows(*fast, a, b, z.as<float>(), count, std::max<int64_t>(y.numElements(), 1));
        return;
      }
      bool commutes = *fast == kernels::Binary::Add || *fast == kernels::Binary::Mul || *fast == kernels::Binary::Max ||
                      *fast == kernels::Binary::Min;
      if (llvm::ArrayRef<int64_t>(y.shape) == zShape && isTrailingRow(x.shape, zShape) &&
          (commutes || x.numElements() == 1)) {
        const float *a = x.as<float>(), *b = y.as<float>();
        Buffer &z = defineInPlaceOf(zv, yv);
        if (commutes)
          kernels::binaryRows(*fast, b, a, z.as<float>(), count, std::max<int64_t>(x.numElements(), 1));
        else
          kernels::binaryScalarLeft(*fast, *a, b, z.as<float>(), count);
        return;
      }
    }
    Buffer &z = define(zv);
    bool integral = !isFloatingPoint(z.dtype);
    BroadcastIndex ix(x.shape, z.shape), iy(y.shape, z.shape);
    for (int64_t i = 0, n = z.numElements(); i < n; ++i)
      z.set(i, f(x.get(ix(i)), y.get(iy(i)), integral));
  }

  /// Whether `part`, leading 1s dropped, is the trailing dimensions of `whole`.
  static bool isTrailingRow(llvm::ArrayRef<int64_t> part, llvm::ArrayRef<int64_t> whole) {
    while (!part.empty() && part.front() == 1)
      part = part.drop_front();
    return part.size() <= whole.size() && part == whole.take_back(part.size()) && !llvm::is_contained(part, 0);
  }

  WeightSource weights_;
  OpProfile *profile_;
  const RankContext *rank_;
  llvm::DenseMap<Value, std::shared_ptr<Buffer>> values_;
  /// Operands whose last use is the op being executed.
  llvm::SmallDenseSet<Value, 4> dyingHere_;
  /// Values the function returns: never overwritten in place.
  SmallVector<Value, 4> liveOutputs_;
  Executable::State &state_;
  std::multimap<size_t, std::vector<char>> &pool_;
  size_t &pooledBytes_;
};

llvm::Error Interpreter::constant(arith::ConstantOp op) {
  auto elements = llvm::dyn_cast<ElementsAttr>(op.getValue());
  auto type = llvm::dyn_cast<RankedTensorType>(op.getType());
  if (!elements || !type || !runtimeDType(type.getElementType()))
    return opError(op, "only tensor constants of supported element types can run");
  DType dtype = *runtimeDType(type.getElementType());
  size_t bytes = static_cast<size_t>(type.getNumElements()) * (dtypeBits(dtype) / 8);
  // Weights are read where the module holds them, never copied.
  auto viewOf = [&](const char *data) {
    values_[op.getResult()] = std::make_shared<Buffer>(Buffer::view(dtype, type.getShape(), data));
    return llvm::Error::success();
  };
  if (auto resource = llvm::dyn_cast<DenseResourceElementsAttr>(elements)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != bytes)
      return opError(op, "resource blob '" + resource.getRawHandle().getKey() + "' has no data of the right size");
    return viewOf(blob->getData().data());
  }
  auto dense = llvm::dyn_cast<DenseElementsAttr>(elements);
  if (!dense)
    return opError(op, "unsupported constant");
  llvm::ArrayRef<char> raw = dense.getRawData();
  bool isBool = type.getElementType().isInteger(1);
  if (!isBool && !dense.isSplat() && raw.size() == bytes)
    return viewOf(raw.data());
  Buffer &out = define(op.getResult());
  if (isBool) {
    int64_t i = 0;
    for (bool b : dense.getValues<bool>())
      out.data[i++] = b;
  } else if (dense.isSplat()) {
    for (size_t i = 0; i < out.data.size(); i += raw.size())
      copyBytes(out.data.data() + i, raw.data(), raw.size());
  } else {
    copyBytes(out.data.data(), raw.data(), out.data.size());
  }
  return llvm::Error::success();
}

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
      if (!slot)
        slot = std::make_unique<kernels::PrepackedWeights>();
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
  const Buffer &x = in(op.getX()), &w = in(op.getW());
  Buffer &y = define(op.getResult());
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
    if (llvm::Error err =
            kernels::conv2d(x.as<float>(), x.shape, w.as<float>(), w.shape, y.as<float>(), y.shape, params))
      return opError(op, llvm::toString(std::move(err)));
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
  const Buffer &x = in(op.getX());
  Buffer &y = define(op.getResult());
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], OH = y.shape[2], OW = y.shape[3];
  auto k = op.getKernelSize(), s = op.getStrides(), pad = op.getPad();
  int64_t top, left;
  windowPads(op.getPadMode(), H, OH, k[0], s[0], 1, pad[0], top);
  windowPads(op.getPadMode(), W, OW, k[1], s[1], 1, pad[2], left);
  int64_t bottom = op.getPadMode() == "pad" ? pad[1] : top, right = op.getPadMode() == "pad" ? pad[3] : left;
  bool includePad = false;
  if constexpr (std::is_same_v<PoolOp, nn::AvgPoolOp>)
    includePad = op.getCountIncludePad();
  // oneDNN counts every pad it is given; the trailing pads that make the
  // declared output extent (ceil mode) must not count, so averages that
  // count pads go to oneDNN only when those are the declared ones.
  int64_t trailing[2] = {(OH - 1) * s[0] + k[0] - H - top, (OW - 1) * s[1] + k[1] - W - left};
  bool trailingDeclared = trailing[0] == bottom && trailing[1] == right;
  if (x.dtype == DType::Float32 && trailing[0] >= 0 && trailing[1] >= 0 && (!includePad || trailingDeclared)) {
    kernels::Pool2DParams params{{k[0], k[1]}, {s[0], s[1]}, {top, left}, {trailing[0], trailing[1]}};
    kernels::Pooling kind = max          ? kernels::Pooling::Max
                            : includePad ? kernels::Pooling::AverageCountingPads
                                         : kernels::Pooling::AverageOfInputs;
    if (llvm::Error err = kernels::pool2d(kind, x.as<float>(), x.shape, y.as<float>(), y.shape, params))
      return opError(op, llvm::toString(std::move(err)));
    return llvm::Error::success();
  }
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
        int64_t count = 0, padded = 0;
        for (int64_t kh = 0; kh < k[0]; ++kh)
          for (int64_t kw = 0; kw < k[1]; ++kw) {
            int64_t ih = oh * s[0] - top + kh, iw = ow * s[1] - left + kw;
            if (ih >= -top && ih < H + bottom && iw >= -left && iw < W + right)
              ++padded;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
              continue;
            double v = x.get((nc * H + ih) * W + iw);
            acc = max ? std::max(acc, v) : acc + v;
            ++count;
          }
        if (!max)
          acc /= std::max<int64_t>(includePad ? padded : count, 1);
        y.set((nc * OH + oh) * OW + ow, acc);
      }
  return llvm::Error::success();
}

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

double gelu(double x, bool tanhForm) {
  if (tanhForm)
    return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}

llvm::Error Interpreter::execute(Operation *op) {
  return llvm::TypeSwitch<Operation *, llvm::Error>(op)
      .Case([&](arith::ConstantOp c) { return constant(c); })
      .Case([&](dist::ParamOp p) -> llvm::Error {
        auto data = weights_(p.getName());
        if (!data)
          return opError(op, llvm::toString(data.takeError()));
        RankedTensorType type = typeOf(p.getResult());
        if (data->shape != SmallVector<int64_t, 4>(type.getShape()) ||
            data->dtype != *runtimeDType(type.getElementType()))
          return opError(op, "the data of parameter '" + p.getName() + "' has another shape or dtype than " +
                                 "its reference");
        values_[p.getResult()] = std::make_shared<Buffer>(std::move(*data));
        return llvm::Error::success();
      })
      .Case([&](dist::AnnotateOp a) {
        values_[a.getResult()] = values_.lookup(a.getInput());
        return llvm::Error::success();
      })
      .Case<dist::AllReduceOp, dist::AllGatherOp, dist::ReduceScatterOp, dist::AllToAllOp, dist::BroadcastOp,
            dist::LocalSplitOp, dist::SendOp, dist::RecvOp>([&](Operation *o) { return collective(o); })
      .Case([&](nn::SqrtOp) {
        return unary(
                   op, [](double x) { return std::sqrt(x); }, kernels::Unary::Sqrt),
               llvm::Error::success();
      })
      .Case([&](nn::NegOp) {
        return unary(
                   op, [](double x) { return -x; }, kernels::Unary::Neg),
               llvm::Error::success();
      })
      .Case([&](nn::ExpOp) {
        return unary(
                   op, [](double x) { return std::exp(x); }, kernels::Unary::Exp),
               llvm::Error::success();
      })
      .Case([&](nn::ErfOp) {
        return unary(
                   op, [](double x) { return std::erf(x); }, kernels::Unary::Erf),
               llvm::Error::success();
      })
      .Case([&](nn::TanhOp) {
        return unary(
                   op, [](double x) { return std::tanh(x); }, kernels::Unary::Tanh),
               llvm::Error::success();
      })
      .Case([&](nn::SigmoidOp) {
        return unary(
                   op, [](double x) { return 1 / (1 + std::exp(-x)); }, kernels::Unary::Sigmoid),
               llvm::Error::success();
      })
      .Case([&](nn::ReLUOp) {
        return unary(
                   op, [](double x) { return x > 0 ? x : 0.0; }, kernels::Unary::ReLU),
               llvm::Error::success();
      })
      .Case([&](nn::SiLUOp) {
        return unary(
                   op, [](double x) { return x / (1 + std::exp(-x)); }, kernels::Unary::SiLU),
               llvm::Error::success();
      })
      .Case([&](nn::FastGeLUOp) {
        return unary(
                   op,
                   [](double x) {
                     return x / (1 + std::exp(-1.702 * std::abs(x))) * std::exp(0.851 * (x - std::abs(x)));
                   },
                   kernels::Unary::FastGeLU),
               llvm::Error::success();
      })
      .Case([&](nn::GeLUOp g) {
        bool tanhForm = g.getApproximate() == "tanh";
        return unary(
                   op, [&](double x) { return gelu(x, tanhForm); },
                   tanhForm ? kernels::Unary::GeLUTanh : kernels::Unary::GeLU),
               llvm::Error::success();
      })
      .Case([&](nn::AddOp) {
        return binary(
                   op, [](double a, double b, bool) { return a + b; }, kernels::Binary::Add),
               llvm::Error::success();
      })
      .Case([&](nn::SubOp) {
        return binary(
                   op, [](double a, double b, bool) { return a - b; }, kernels::Binary::Sub),
               llvm::Error::success();
      })
      .Case([&](nn::MulOp) {
        return binary(
                   op, [](double a, double b, bool) { return a * b; }, kernels::Binary::Mul),
               llvm::Error::success();
      })
      .Case([&](nn::DivOp) -> llvm::Error {
        binary(
            op, [](double a, double b, bool integral) { return integral ? (b == 0 ? 0 : std::trunc(a / b)) : a / b; },
            kernels::Binary::Div);
        return llvm::Error::success();
      })
      .Case([&](nn::PowOp) {
        return binary(
                   op, [](double a, double b, bool) { return std::pow(a, b); }, kernels::Binary::Pow),
               llvm::Error::success();
      })
      .Case([&](nn::SelectOp s) -> llvm::Error {
        const Buffer &c = in(s.getCond()), &x = in(s.getX()), &y = in(s.getY());
        Buffer &z = define(s.getResult());
        BroadcastIndex ic(c.shape, z.shape), ix(x.shape, z.shape), iy(y.shape, z.shape);
        for (int64_t i = 0, n = z.numElements(); i < n; ++i)
          z.set(i, c.get(ic(i)) != 0 ? x.get(ix(i)) : y.get(iy(i)));
        return llvm::Error::success();
      })
      .Case([&](nn::CastOp c) -> llvm::Error {
        const Buffer &x = in(c.getX());
        if (!runtimeDType(c.getDtype()))
          return opError(op, "cast to an unsupported type");
        Buffer &y = define(c.getResult());
        for (int64_t i = 0, n = x.numElements(); i < n; ++i)
          y.set(i, x.get(i));
        return llvm::Error::success();
      })
      .Case([&](nn::MatMulOp m) { return matmul(op, m.getX(), m.getW(), m.getTransposeA(), m.getTransposeB()); })
      .Case([&](nn::BatchMatMulOp m) { return matmul(op, m.getX(), m.getY(), m.getTransposeA(), m.getTransposeB()); })
      .Case([&](nn::BiasAddOp b) -> llvm::Error {
        const Buffer &x = in(b.getX()), &bias = in(b.getBias());
        Buffer &y = define(b.getResult());
        int64_t channel = b.getDataFormat() == "NHWC" ? x.shape.size() - 1 : 1;
        int64_t inner = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(channel + 1)), C = x.shape[channel];
        for (int64_t i = 0, n = x.numElements(); i < n; ++i)
          y.set(i, x.get(i) + bias.get((i / inner) % C));
        return llvm::Error::success();
      })
      .Case([&](nn::SoftmaxOp o) { return softmax(o.getX(), o.getResult(), o.getAxis(), false); })
      .Case([&](nn::LogSoftmaxOp o) { return softmax(o.getX(), o.getResult(), o.getAxis(), true); })
      .Case([&](nn::LayerNormOp o) -> llvm::Error {
        const Buffer &x = in(o.getX()), &g = in(o.getGamma()), &b = in(o.getBeta());
        Buffer &y = define(o.getResult());
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
      })
      .Case([&](nn::RMSNormOp o) -> llvm::Error {
        const Buffer &x = in(o.getX()), &g = in(o.getGamma());
        Buffer &y = define(o.getResult());
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
      })
      .Case([&](nn::BatchNormOp o) -> llvm::Error {
        const Buffer &x = in(o.getX()), &sc = in(o.getScale()), &bi = in(o.getBias()), &mu = in(o.getMean()),
                     &va = in(o.getVariance());
        Buffer &y = define(o.getResult());
        int64_t C = x.shape[1], inner = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(2));
        double eps = o.getEpsilon().convertToDouble();
        if (x.dtype == DType::Float32 && C > 0) {
          std::vector<float> scale(C), shift(C);
          for (int64_t c = 0; c < C; ++c) {
            double a = sc.get(c) / std::sqrt(va.get(c) + eps);
            scale[c] = static_cast<float>(a);
            shift[c] = static_cast<float>(bi.get(c) - mu.get(c) * a);
          }
          kernels::channelAffine(x.as<float>(), y.as<float>(), x.shape[0], C, inner, scale.data(), shift.data());
          return llvm::Error::success();
        }
        for (int64_t i = 0, n = x.numElements(); i < n; ++i) {
          int64_t c = (i / inner) % C;
          y.set(i, (x.get(i) - mu.get(c)) / std::sqrt(va.get(c) + eps) * sc.get(c) + bi.get(c));
        }
        return llvm::Error::success();
      })
      .Case([&](nn::ReduceSumOp o) { return reduce(o.getX(), o.getResult(), o.getAxis(), Reduction::Sum); })
      .Case([&](nn::ReduceMeanOp o) { return reduce(o.getX(), o.getResult(), o.getAxis(), Reduction::Mean); })
      .Case([&](nn::ReduceMaxOp o) { return reduce(o.getX(), o.getResult(), o.getAxis(), Reduction::Max); })
      .Case<nn::ReshapeOp, nn::ExpandDimsOp, nn::SqueezeOp, nn::FlattenOp>([&](Operation *o) -> llvm::Error {
        alias(o->getResult(0), o->getOperand(0));
        return llvm::Error::success();
      })
      .Case([&](nn::TransposeOp o) -> llvm::Error {
        const Buffer &x = in(o.getX());
        SmallVector<int64_t, 4> perm(o.getPerm().begin(), o.getPerm().end());
        // Moving only dimensions of extent 1 leaves the bytes in order.
        SmallVector<int64_t, 4> moved;
        for (int64_t d : perm)
          if (x.shape[d] != 1)
            moved.push_back(d);
        if (llvm::is_sorted(moved)) {
          alias(o.getResult(), o.getX());
          return llvm::Error::success();
        }
        Buffer &y = define(o.getResult());
        kernels::transpose(x.bytes(), y.data.data(), x.shape, perm, x.elementBytes());
        return llvm::Error::success();
      })
      .Case([&](nn::ConcatOp o) -> llvm::Error {
        Buffer &y = define(o.getResult());
        int64_t axis = normalize(static_cast<int64_t>(o.getAxis()), y.shape.size());
        int64_t inner = product(llvm::ArrayRef<int64_t>(y.shape).drop_front(axis + 1)) * y.elementBytes();
        int64_t outer = product(llvm::ArrayRef<int64_t>(y.shape).take_front(axis));
        int64_t offset = 0, row = y.shape[axis] * inner;
        for (Value v : o.getInputs()) {
          const Buffer &x = in(v);
          int64_t chunk = x.shape[axis] * inner;
          for (int64_t b = 0; b < outer; ++b)
            copyBytes(y.data.data() + b * row + offset, x.bytes() + b * chunk, chunk);
          offset += chunk;
        }
        return llvm::Error::success();
      })
      .Case([&](nn::SplitOp o) -> llvm::Error {
        const Buffer &x = in(o.getX());
        int64_t axis = normalize(static_cast<int64_t>(o.getAxis()), x.shape.size());
        int64_t inner = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(axis + 1)) * x.elementBytes();
        int64_t outer = product(llvm::ArrayRef<int64_t>(x.shape).take_front(axis));
        int64_t row = x.shape[axis] * inner, offset = 0;
        for (Value result : o.getResults()) {
          Buffer &y = define(result);
          int64_t chunk = y.shape[axis] * inner;
          for (int64_t b = 0; b < outer; ++b)
            copyBytes(y.data.data() + b * chunk, x.bytes() + b * row + offset, chunk);
          offset += chunk;
        }
        return llvm::Error::success();
      })
      .Case([&](nn::StridedSliceOp o) -> llvm::Error {
        const Buffer &x = in(o.getX());
        Buffer &y = define(o.getResult());
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
      })
      .Case([&](nn::GatherOp o) -> llvm::Error {
        const Buffer &p = in(o.getParams()), &idx = in(o.getIndices());
        Buffer &y = define(o.getResult());
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
      })
      .Case([&](nn::EmbeddingLookupOp o) -> llvm::Error {
        const Buffer &p = in(o.getParams()), &idx = in(o.getIndices());
        Buffer &y = define(o.getResult());
        int64_t offset = static_cast<int64_t>(in(o.getOffset()).get(0)), rows = p.shape[0];
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
      })
      .Case([&](dist::ShardOffsetOp o) -> llvm::Error {
        if (!rank_ || !rank_->communicator)
          return opError(op, "a shard offset needs the ranks of a distributed run");
        auto group = groupFor(op, o.getDevMatrix().getDims(), o.getAxes());
        if (!group)
          return group.takeError();
        int64_t position = llvm::find(*group, rank_->communicator->rank()) - group->begin();
        define(o.getResult()).as<int64_t>()[0] = position * static_cast<int64_t>(o.getPiece());
        return llvm::Error::success();
      })
      .Case([&](nn::Conv2DOp o) { return conv2d(o); })
      .Case([&](nn::MaxPoolOp o) { return pool(o, true); })
      .Case([&](nn::AvgPoolOp o) { return pool(o, false); })
      .Default([&](Operation *other) { return opError(other, "the runtime cannot run this op"); });
}

namespace {
ReduceOp reduceOpOf(dist::ReduceKind kind) {
  switch (kind) {
  case dist::ReduceKind::sum: return ReduceOp::Sum;
  case dist::ReduceKind::max: return ReduceOp::Max;
  case dist::ReduceKind::min: return ReduceOp::Min;
  case dist::ReduceKind::prod: return ReduceOp::Prod;
  }
  return ReduceOp::Sum;
}

/// Bytes of a tensor seen as [outer, parts × piece, inner]: the offset of
/// part `p` of row `o`, where `piece` rows of `inner` bytes make one part.
struct Blocks {
  int64_t outer, pieceBytes, rowBytes;
  Blocks(llvm::ArrayRef<int64_t> shape, int64_t dim, int64_t parts, size_t elementBytes) {
    int64_t inner = elementBytes;
    for (int64_t d : shape.drop_front(dim + 1))
      inner *= d;
    outer = 1;
    for (int64_t d : shape.take_front(dim))
      outer *= d;
    rowBytes = shape[dim] * inner;
    pieceBytes = rowBytes / parts;
  }
};

/// Makes the parts of dimension `dim` contiguous: out = [parts][outer][piece].
void packParts(const char *in, char *out, const Blocks &b, int64_t parts) {
  for (int64_t p = 0; p < parts; ++p)
    for (int64_t o = 0; o < b.outer; ++o)
      std::memcpy(out + (p * b.outer + o) * b.pieceBytes, in + o * b.rowBytes + p * b.pieceBytes, b.pieceBytes);
}

/// The inverse: contiguous parts back into dimension `dim`.
void unpackParts(const char *in, char *out, const Blocks &b, int64_t parts) {
  for (int64_t p = 0; p < parts; ++p)
    for (int64_t o = 0; o < b.outer; ++o)
      std::memcpy(out + o * b.rowBytes + p * b.pieceBytes, in + (p * b.outer + o) * b.pieceBytes, b.pieceBytes);
}
} // namespace

llvm::Expected<std::vector<int>> Interpreter::groupFor(Operation *op, llvm::ArrayRef<int64_t> devMatrix,
                                                       llvm::ArrayRef<int64_t> axes) {
  int world = rank_->communicator->size(), rank = rank_->communicator->rank();
  // A rank's own program (--dist-split-ranks) names its groups.
  if (auto named = op->getAttrOfType<mlir::DenseI64ArrayAttr>(dist::DistDialect::kGroupAttrName)) {
    std::vector<int> group(named.asArrayRef().begin(), named.asArrayRef().end());
    if (!llvm::is_contained(group, rank) || llvm::any_of(group, [&](int member) { return member >= world; }))
      return opError(op, "its dist.group does not fit rank " + std::to_string(rank) + " of a run of " +
                             std::to_string(world) + " ranks");
    return group;
  }
  int stageSize = rank_->stageSize > 0 ? rank_->stageSize : world;
  int64_t devices = product(devMatrix);
  if (devices != stageSize)
    return opError(op, "its dev_matrix holds " + std::to_string(devices) +
                           " devices, but a pipeline stage of this run "
                           "has " +
                           std::to_string(stageSize) + " ranks");
  int stageBase = rank / stageSize * stageSize;
  std::vector<int> group = deviceGroup(devMatrix, axes, rank - stageBase);
  for (int &member : group)
    member += stageBase;
  return group;
}

llvm::Error Interpreter::collective(Operation *op) {
  if (!rank_ || !rank_->communicator)
    return opError(op, "a collective needs the ranks of a distributed run: run the per-rank programs together "
                       "(this one ran alone)");
  Communicator &comm = *rank_->communicator;
  Communicator::Timeout timeout = rank_->timeout;
  auto failed = [&](llvm::Error err) {
    return opError(op, "rank " + std::to_string(comm.rank()) + ": " + llvm::toString(std::move(err)));
  };
  if (auto send = llvm::dyn_cast<dist::SendOp>(op)) {
    const Buffer &x = in(send.getInput());
    int stageSize = rank_->stageSize > 0 ? rank_->stageSize : comm.size();
    int peer = static_cast<int>(send.getPeerStage()) * stageSize + comm.rank() % stageSize;
    if (peer < 0 || peer >= comm.size())
      return opError(op, "stage " + std::to_string(send.getPeerStage()) + " is not in this run");
    if (llvm::Error err =
            comm.send(peer, x.dtype, x.bytes(), x.numElements(), static_cast<int>(send.getSrTag()), timeout))
      return failed(std::move(err));
    return llvm::Error::success();
  }
  if (auto recv = llvm::dyn_cast<dist::RecvOp>(op)) {
    Buffer &y = define(recv.getResult());
    int stageSize = rank_->stageSize > 0 ? rank_->stageSize : comm.size();
    int peer = static_cast<int>(recv.getPeerStage()) * stageSize + comm.rank() % stageSize;
    if (peer < 0 || peer >= comm.size())
      return opError(op, "stage " + std::to_string(recv.getPeerStage()) + " is not in this run");
    if (llvm::Error err =
            comm.recv(peer, y.dtype, y.data.data(), y.numElements(), static_cast<int>(recv.getSrTag()), timeout))
      return failed(std::move(err));
    return llvm::Error::success();
  }
  if (auto reduce = llvm::dyn_cast<dist::AllReduceOp>(op)) {
    auto group = groupFor(op, reduce.getDevMatrix().getDims(), reduce.getAxes());
    if (!group)
      return group.takeError();
    const Buffer &x = in(reduce.getInput());
    Buffer &y = define(reduce.getResult());
    if (llvm::Error err = comm.allReduce(*group, x.dtype, x.bytes(), y.data.data(), x.numElements(),
                                         reduceOpOf(reduce.getKind()), timeout))
      return failed(std::move(err));
    return llvm::Error::success();
  }
  if (auto gather = llvm::dyn_cast<dist::AllGatherOp>(op)) {
    auto group = groupFor(op, gather.getDevMatrix().getDims(), gather.getAxes());
    if (!group)
      return group.takeError();
    const Buffer &x = in(gather.getInput());
    Buffer &y = define(gather.getResult());
    int64_t parts = group->size(), dim = gather.getDim();
    // Members' pieces arrive one after another; along dimension 0 that is
    // the result already, along another they are interleaved into it.
    bool leading = product(llvm::ArrayRef<int64_t>(x.shape).take_front(dim)) == 1;
    std::vector<char> staging(leading ? 0 : y.data.size());
    char *target = leading ? y.data.data() : staging.data();
    if (llvm::Error err = comm.allGather(*group, x.dtype, x.bytes(), target, x.numElements(), timeout))
      return failed(std::move(err));
    if (!leading)
      unpackParts(staging.data(), y.data.data(), Blocks(y.shape, dim, parts, y.elementBytes()), parts);
    return llvm::Error::success();
  }
  if (auto scatter = llvm::dyn_cast<dist::ReduceScatterOp>(op)) {
    auto group = groupFor(op, scatter.getDevMatrix().getDims(), scatter.getAxes());
    if (!group)
      return group.takeError();
    const Buffer &x = in(scatter.getInput());
    Buffer &y = define(scatter.getResult());
    int64_t parts = group->size(), dim = scatter.getDim();
    bool leading = product(llvm::ArrayRef<int64_t>(x.shape).take_front(dim)) == 1;
    std::vector<char> staging(leading ? 0 : x.byteSize());
    if (!leading)
      packParts(x.bytes(), staging.data(), Blocks(x.shape, dim, parts, x.elementBytes()), parts);
    if (llvm::Error err = comm.reduceScatter(*group, x.dtype, leading ? x.bytes() : staging.data(), y.data.data(),
                                             y.numElements(), reduceOpOf(scatter.getKind()), timeout))
      return failed(std::move(err));
    return llvm::Error::success();
  }
  if (auto exchange = llvm::dyn_cast<dist::AllToAllOp>(op)) {
    auto group = groupFor(op, exchange.getDevMatrix().getDims(), exchange.getAxes());
    if (!group)
      return group.takeError();
    const Buffer &x = in(exchange.getInput());
    Buffer &y = define(exchange.getResult());
    int64_t parts = group->size();
    std::vector<char> sent(x.byteSize()), received(y.data.size());
    packParts(x.bytes(), sent.data(), Blocks(x.shape, exchange.getSplitDim(), parts, x.elementBytes()), parts);
    if (llvm::Error err =
            comm.allToAll(*group, x.dtype, sent.data(), received.data(), x.numElements() / parts, timeout))
      return failed(std::move(err));
    unpackParts(received.data(), y.data.data(), Blocks(y.shape, exchange.getConcatDim(), parts, y.elementBytes()),
                parts);
    return llvm::Error::success();
  }
  if (auto split = llvm::dyn_cast<dist::LocalSplitOp>(op)) {
    auto group = groupFor(op, split.getDevMatrix().getDims(), split.getAxes());
    if (!group)
      return group.takeError();
    const Buffer &x = in(split.getInput());
    Buffer &y = define(split.getResult());
    int64_t parts = group->size();
    int64_t position = llvm::find(*group, comm.rank()) - group->begin();
    Blocks b(x.shape, split.getDim(), parts, x.elementBytes());
    for (int64_t o = 0; o < b.outer; ++o)
      copyBytes(y.data.data() + o * b.pieceBytes, x.bytes() + o * b.rowBytes + position * b.pieceBytes, b.pieceBytes);
    return llvm::Error::success();
  }
  auto broadcast = llvm::cast<dist::BroadcastOp>(op);
  auto group = groupFor(op, broadcast.getDevMatrix().getDims(), broadcast.getAxes());
  if (!group)
    return group.takeError();
  const Buffer &x = in(broadcast.getInput());
  Buffer &y = define(broadcast.getResult());
  copyBytes(y.data.data(), x.bytes(), y.data.size());
  if (llvm::Error err = comm.broadcast(*group, y.dtype, y.data.data(), y.numElements(),
                                       static_cast<int>(broadcast.getRoot()), timeout))
    return failed(std::move(err));
  return llvm::Error::success();
}

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
  std::vector<double> acc(outCount, kind == Reduction::Max ? -std::numeric_limits<double>::infinity() : 0.0);
  for (int64_t i = 0; i < inCount; ++i) {
    int64_t rest = i, o = 0;
    for (size_t d = rank; d-- > 0;) {
      o += (rest % x.shape[d]) * outStrides[d];
      rest /= x.shape[d];
    }
    double v = x.get(i);
    acc[o] = kind == Reduction::Max ? std::max(acc[o], v) : acc[o] + v;
  }
  int64_t per = outCount ? inCount / outCount : 0;
  for (int64_t o = 0; o < outCount; ++o)
    y.set(o, kind == Reduction::Mean ? acc[o] / std::max<int64_t>(per, 1) : acc[o]);
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::vector<Buffer>> Interpreter::run(std::vector<Buffer> inputs) {
  func::FuncOp function = state_.entry;
  if (inputs.size() != function.getNumArguments())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the program takes " + std::to_string(function.getNumArguments()) + " inputs, " +
                                       std::to_string(inputs.size()) + " were given");
  for (auto [i, arg] : llvm::enumerate(function.getArguments()))
    values_[arg] = std::make_shared<Buffer>(std::move(inputs[i]));
  if (auto ret = llvm::dyn_cast<func::ReturnOp>(function.getBody().front().getTerminator()))
    liveOutputs_.assign(ret.getOperands().begin(), ret.getOperands().end());

  for (Operation &op : function.getBody().front()) {
    if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
      std::vector<Buffer> outputs;
      for (Value v : ret.getOperands()) {
        std::shared_ptr<Buffer> &buffer = values_[v];
        outputs.push_back(buffer.use_count() == 1 ? std::move(*buffer) : *buffer);
        outputs.back().materialize();
      }
      return outputs;
    }
    dyingHere_.clear();
    auto dead = state_.dying.find(&op);
    if (dead != state_.dying.end())
      dyingHere_.insert(dead->second.begin(), dead->second.end());
    auto began = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    if (llvm::Error err = execute(&op))
      return std::move(err);
    if (profile_) {
      auto &[seconds, calls] = profile_->byOp[op.getName().getStringRef().str()];
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      ++calls;
    }
    for (Value v : dyingHere_)
      release(v);
  }
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "the program has no return");
}

void OpProfile::print(llvm::raw_ostream &os) const {
  double total = 0;
  for (const auto &[name, entry] : byOp)
    total += entry.first;
  std::vector<std::pair<std::string, std::pair<double, int64_t>>> rows(byOp.begin(), byOp.end());
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) { return a.second.first > b.second.first; });
  os << llvm::formatv("{0,-24} {1,10} {2,7} {3,6}\n", "op", "ms", "calls", "share");
  for (const auto &[name, entry] : rows)
    os << llvm::formatv("{0,-24} {1,10:f3} {2,7} {3,5:f1}%\n", name, entry.first * 1e3, entry.second,
                        total > 0 ? 100 * entry.first / total : 0.0);
  os << llvm::formatv("{0,-24} {1,10:f3}\n", "total", total * 1e3);
}

Executable::Executable() : state_(std::make_unique<State>()) {}
Executable::~Executable() = default;

llvm::Expected<std::unique_ptr<Executable>> Executable::prepare(ModuleOp module) { return prepare(module, ""); }

llvm::Expected<std::unique_ptr<Executable>> Executable::prepare(ModuleOp module, llvm::StringRef entryName) {
  func::FuncOp entry = module.lookupSymbol<func::FuncOp>(entryName.empty() ? "main" : entryName);
  if (!entry && !entryName.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the module has no function @" + entryName.str() + " to run");
  if (!entry) {
    auto functions = llvm::to_vector(module.getOps<func::FuncOp>());
    if (functions.size() != 1)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "the module needs a function @main, or exactly one function, to run");
    entry = functions.front();
  }
  for (Operation &op : entry.getBody().front())
    for (Value result : op.getResults())
      if (auto type = llvm::dyn_cast<RankedTensorType>(result.getType()); !type || !runtimeDType(type.getElementType()))
        return opError(&op, "produces a value of a type the runtime does not support");
  std::unique_ptr<Executable> executable(new Executable());
  executable->state_->entry = entry;
  // The op at which each value is used for the last time: its storage goes
  // back to the pool there.
  llvm::DenseMap<Value, Operation *> lastUse;
  for (Operation &op : entry.getBody().front())
    for (Value operand : op.getOperands())
      lastUse[operand] = &op;
  for (auto &[value, op] : lastUse)
    executable->state_->dying[op].push_back(value);
  // Run-invariant values: an op without side effects whose operands are all
  // run-invariant (weights and constants have none) gives the same result in
  // every run, given that weights do not change between runs.
  for (Operation &op : entry.getBody().front()) {
    if (op.getNumResults() == 0 || !isMemoryEffectFree(&op))
      continue;
    if (llvm::all_of(op.getOperands(), [&](Value v) { return executable->state_->runInvariant.contains(v); }))
      executable->state_->runInvariant.insert(op.result_begin(), op.result_end());
  }
  return executable;
}

llvm::Expected<std::vector<Buffer>> Executable::run(std::vector<Buffer> inputs, WeightSource weights,
                                                    OpProfile *profile, const RankContext *rank) {
  auto outputs = Interpreter(*state_, weights, profile, rank).run(std::move(inputs));
  // A rank that cannot go on stops the others rather than leave them
  // waiting for it until their timeouts.
  if (!outputs && rank && rank->communicator) {
    std::string message = llvm::toString(outputs.takeError());
    rank->communicator->abort(message);
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  }
  return outputs;
}

llvm::Expected<std::vector<Buffer>> dinfer::runProgram(ModuleOp module, std::vector<Buffer> inputs,
                                                       WeightSource weights, OpProfile *profile) {
  auto executable = Executable::prepare(module);
  if (!executable)
    return executable.takeError();
  return (*executable)->run(std::move(inputs), weights, profile);
}
