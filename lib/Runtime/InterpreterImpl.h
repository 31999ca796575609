//===- InterpreterImpl.h - what the interpreter's op kernels share -*- C++ -*-===//
//
// The interpreter of lib/Runtime, seen from its kernels. An Executable picks
// the kernel of every op once, when it is prepared (selectKernel); a run then
// calls them in program order. Kernels live by family in lib/Runtime/Ops/
// (elementwise, linear algebra, normalization and reductions, data movement,
// collectives), each behind a select<Family>Kernel that knows its ops.
// Internal to lib/Runtime: nothing outside includes it.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_LIB_RUNTIME_INTERPRETERIMPL_H
#define DINFER_LIB_RUNTIME_INTERPRETERIMPL_H

#include "dinfer/Runtime/Interpreter.h"
#include "dinfer/Runtime/Kernels.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <vector>

namespace dinfer::interp {
using namespace mlir;
using llvm::SmallVector;

inline std::string where(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName() << " at " << op->getLoc();
  return text;
}

inline llvm::Error opError(Operation *op, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), where(op) + ": " + message);
}

inline RankedTensorType typeOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }

inline SmallVector<int64_t, 4> stridesOf(llvm::ArrayRef<int64_t> shape) {
  SmallVector<int64_t, 4> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    strides[d - 1] = strides[d] * shape[d];
  return strides;
}

inline int64_t product(llvm::ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

inline int64_t normalize(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

/// memcpy that accepts the null pointers of empty buffers.
inline void copyBytes(char *dst, const char *src, size_t n) {
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

class Interpreter;
/// Runs one op in a run of its program; chosen once per op at preparation.
using Kernel = llvm::Error (*)(Interpreter &, Operation *);

Kernel selectCoreKernel(Operation *op);          ///< constants, parameters, annotations
Kernel selectElementwiseKernel(Operation *op);   ///< Ops/Elementwise.cpp
Kernel selectLinalgKernel(Operation *op);        ///< Ops/Linalg.cpp
Kernel selectNormalizationKernel(Operation *op); ///< Ops/Normalization.cpp
Kernel selectDataMovementKernel(Operation *op);  ///< Ops/DataMovement.cpp
Kernel selectIndexingKernel(Operation *op);      ///< Ops/Indexing.cpp
Kernel selectCollectivesKernel(Operation *op);   ///< Ops/Collectives.cpp
/// The kernel of `op`, or null when the runtime has none.
Kernel selectKernel(Operation *op);

} // namespace dinfer::interp

/// What an Executable keeps from one run to the next: every op with its
/// kernel, the ops at which each value dies, and the storage of dead values,
/// reused by later ones.
struct dinfer::Executable::State {
  mlir::func::FuncOp entry;
  /// The entry's ops in order, each with the kernel chosen for it.
  std::vector<std::pair<mlir::Operation *, interp::Kernel>> steps;
  llvm::DenseMap<mlir::Operation *, llvm::SmallVector<mlir::Value, 2>> dying;
  /// Values that are the same in every run: weights, constants, and what is
  /// computed from them alone.
  llvm::DenseSet<mlir::Value> runInvariant;
  /// Weights only oneDNN reads (float32 product and convolution weights):
  /// their bytes may lie at any address.
  llvm::DenseSet<mlir::Value> readByOneDnnOnly;
  /// Aligned copies of weights whose bytes lie misaligned for their type (raw
  /// data at an arbitrary offset of a mapped file), made on the first run
  /// and kept (while the weight source gives the same bytes): dinfer's own
  /// kernels read elements through typed pointers.
  struct AlignedWeight {
    const char *source = nullptr;
    std::shared_ptr<const Buffer> copy;
  };
  llvm::DenseMap<mlir::Value, AlignedWeight> alignedWeights;
  /// Casts of run-invariant values (the float16 weights of a program that
  /// --nn-compute-in-float32 widened): converted on the first run and kept
  /// while the operand's bytes stay where they were.
  struct KeptCast {
    const char *source = nullptr;
    std::shared_ptr<Buffer> result;
    /// Its pages were given back: only products that packed it read it.
    bool released = false;
  };
  llvm::DenseMap<mlir::Operation *, KeptCast> keptCasts;
  /// Products with constant weights in bfloat16 (Executable::computeProductsIn).
  bool bfloat16Products = false;
  /// Weights of matrix products, kept in oneDNN's blocked layout.
  llvm::DenseMap<mlir::Operation *, std::unique_ptr<kernels::PrepackedWeights>> prepacked;
  /// A convolution's bias add and activation, run in its own pass.
  struct ConvEpilogue {
    mlir::Value bias;
    kernels::Conv2DParams::Activation activation = kernels::Conv2DParams::Activation::None;
    float alpha = 0, beta = 0;
    /// Added after the bias, before the activation (a residual connection).
    mlir::Value residual;
  };
  llvm::DenseMap<mlir::Operation *, ConvEpilogue> convEpilogues;
  /// Float32 batch normalizations whose ReLU runs in their own pass.
  llvm::DenseSet<mlir::Operation *> batchNormsWithReLU;
  /// Ops a convolution ran for them: each result is this operand's buffer.
  llvm::DenseMap<mlir::Operation *, mlir::Value> fusedInto;
  /// Storage of dead values, the one that died last at the back.
  std::vector<std::vector<char>> pool;
  size_t pooledBytes = 0;
  /// Bytes of the fresh buffers the first run defined: the storage its
  /// intermediate values and outputs needed, given the pool's reuse, which
  /// later runs take from the pool.
  size_t activationBytes = 0;
  /// Bytes of fresh storage later runs defined, the pool holding none that
  /// fits (0 once the first run's storage serves every run).
  size_t laterActivationBytes = 0;
  bool ranOnce = false;
  /// The storage each take() of the last run returned, by its order in the
  /// run (identified by address; only compared, never dereferenced).
  std::vector<const char *> plan;
  size_t takes = 0;
  /// Storage the pool keeps at most between runs.
  static constexpr size_t kPoolLimit = size_t(1) << 30;
  /// Keeps `data` for a later buffer, within twice what the runs allocated
  /// (and 1 MiB): storage that enters from outside (inputs a caller hands
  /// over every run) is let go beyond what values need.
  void keep(std::vector<char> &&data) {
    size_t limit = std::min(kPoolLimit, 2 * (activationBytes + laterActivationBytes) + (size_t(1) << 20));
    if (data.capacity() == 0 || pooledBytes + data.capacity() > limit)
      return;
    pooledBytes += data.capacity();
    pool.push_back(std::move(data));
  }
  /// Storage for `bytes` (its size): the pooled storage that died last
  /// among those that hold it without wasting more than half, being
  /// likeliest still in cache (a depthwise convolution's output in what
  /// the expansion before it read: MobileNetV2 ~6%, DenseNet-121 ~5% faster
  /// at one thread than exact sizes taken oldest first, in less memory);
  /// else fresh zeroed memory. A later run first looks for the storage the
  /// same step took the run before (`plan`): left to the greedy choice, the
  /// storage that died last in one run is not the same as in the next, and
  /// the pool could grow run after run.
  std::vector<char> take(size_t bytes);
};

namespace dinfer::interp {

/// Plans each convolution's bias add, residual add and activation (ReLU,
/// ReLU6 and other clips, HardSwish, sigmoid, SiLU) into its own oneDNN pass
/// where the convolution takes the prepacked path and nothing else reads what
/// lies between, and a float32 batch normalization's sole ReLU into its pass;
/// those ops then only forward the producer's buffer.
void fuseEpilogues(Executable::State &state);

/// One run of an Executable: the values alive, where their storage comes
/// from, and the helpers kernels build on.
class Interpreter {
public:
  Interpreter(Executable::State &state, WeightSource weights, OpProfile *profile, const RankContext *rank)
      : weights_(weights), profile_(profile), rank_(rank), state_(state) {}
  llvm::Expected<std::vector<Buffer>> run(std::vector<Buffer> inputs);

  // The state of one run.
  /// The value's row-major buffer (a channels-last one is reordered once and
  /// kept).
  const Buffer &in(Value v) {
    std::shared_ptr<Buffer> &buffer = values_[v];
    if (buffer->channelsLast) {
      auto plain = std::make_shared<Buffer>();
      plain->dtype = buffer->dtype;
      plain->shape = buffer->shape;
      plain->data = state_.take(plain->byteSize());
      toRowMajor(*buffer, plain->data.data());
      // Pooled once the op is done (retireReplaced): the kernel may still
      // hold a pointer it took from inAnyLayout.
      retired_.push_back(std::move(buffer));
      buffer = std::move(plain);
    }
    return *buffer;
  }
  /// The value's buffer as it is: kernels that read channels-last data ask
  /// for it here and look at Buffer::channelsLast.
  const Buffer &inAnyLayout(Value v) { return *values_.lookup(v); }
  /// Writes a channels-last buffer's bytes in row-major [N, C, H, W] order.
  static void toRowMajor(const Buffer &nhwc, char *plain);
  /// The buffer of a new value, in storage from the pool (Executable::State::take).
  Buffer &define(Value v, DType dtype) {
    auto buffer = std::make_shared<Buffer>();
    buffer->dtype = dtype;
    buffer->shape.assign(typeOf(v).getShape().begin(), typeOf(v).getShape().end());
    buffer->data = state_.take(buffer->byteSize());
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
  void alias(Value result, Value operand) { relabel(result, operand, /*channelsLast=*/false, /*asStored=*/false); }
  /// `result` as `operand`'s bytes as they are stored (channels-last ones
  /// too), described as `channelsLast` or not: a permutation that only
  /// relabels those bytes ([N, C, H, W] channels-last to [N, H, W, C], and
  /// back).
  void relabel(Value result, Value operand, bool channelsLast, bool asStored = true) {
    if (!asStored)
      (void)in(operand); // row-major first
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
    y->channelsLast = channelsLast;
    values_[result] = y;
  }
  /// `result` is `operand` (an identity): the same buffer, in whatever
  /// layout it has.
  void forward(Value result, Value operand) { values_[result] = values_.lookup(operand); }
  Executable::State &state() { return state_; }
  /// The values the function returns.
  llvm::ArrayRef<Value> liveOutputs() const { return liveOutputs_; }
  /// Returns the storage of a value that died to the pool.
  void release(Value v) {
    auto it = values_.find(v);
    if (it == values_.end())
      return;
    std::shared_ptr<Buffer> buffer = std::move(it->second);
    values_.erase(it);
    retire(std::move(buffer));
  }
  /// Pools a buffer's storage when nothing else holds it.
  void retire(std::shared_ptr<Buffer> buffer) {
    if (buffer.use_count() == 1 && !buffer->isView())
      state_.keep(std::move(buffer->data));
  }
  /// Pools the channels-last buffers the op just run replaced (in()).
  void retireReplaced() {
    for (std::shared_ptr<Buffer> &buffer : retired_)
      retire(std::move(buffer));
    retired_.clear();
  }

  /// A cast of a run-invariant value: converted on the first run (or when
  /// its operand's bytes moved) and kept, the kept result given otherwise.
  llvm::Error runKeptCast(Operation &cast, Kernel kernel, Executable::State::KeptCast &kept);
  /// A kept cast of a weight (keptCasts) that only products holding
  /// packed copies of their own read gives its pages back: nothing reads
  /// them again.
  void releaseIfOnlyPacked(Operation *cast);

  enum class Reduction { Sum, Mean, Max, Min, Prod };
  llvm::Error constant(arith::ConstantOp op);
  llvm::Error softmax(Value x, Value y, int64_t axis, bool log);
  llvm::Error reduce(Value x, Value y, llvm::ArrayRef<int64_t> axes, Reduction kind);
  llvm::Error matmul(Operation *op, Value x, Value y, bool ta, bool tb);
  llvm::Error conv2d(nn::Conv2DOp op);
  template <typename PoolOp>
  llvm::Error pool(PoolOp op, bool max);
  template <typename ConvTransposeOp>
  llvm::Error convTranspose(ConvTransposeOp op);
  llvm::Error collective(Operation *op);
  /// The global ranks of this rank's group for a collective over `axes` of
  /// `devMatrix`, which numbers the ranks of one pipeline stage.
  llvm::Expected<std::vector<int>> groupFor(Operation *op, llvm::ArrayRef<int64_t> devMatrix,
                                            llvm::ArrayRef<int64_t> axes);

  template <typename F>
  void unary(Operation *op, F f, std::optional<kernels::Unary> fast = std::nullopt) {
    const Buffer &any = inAnyLayout(op->getOperand(0));
    if (any.dtype == DType::Float32 && fast) {
      // Elementwise: the layout the operand has, the result keeps.
      const float *a = any.as<float>();
      bool channelsLast = any.channelsLast;
      Buffer &y = defineInPlaceOf(op->getResult(0), op->getOperand(0));
      kernels::unary(*fast, a, y.as<float>(), y.numElements());
      y.channelsLast = channelsLast;
      return;
    }
    const Buffer &x = in(op->getOperand(0));
    Buffer &y = define(op->getResult(0));
    if (x.dtype == DType::Float32 && y.dtype == DType::Float32) {
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
    if (fast && *fast == kernels::Binary::Pow && powerBySquaring(xv, yv, zv))
      return;
    if (fast && binaryChannelsLast(*fast, xv, yv, zv))
      return;
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
      // Any other broadcast ([N, C, H, W] and [N, C, 1, 1], [B, T, D] and
      // [B, T, 1]): runs of the output, each operand contiguous or repeated.
      if (x.numElements() > 0 && y.numElements() > 0) {
        const float *a = x.as<float>(), *b = y.as<float>();
        Buffer &z = llvm::ArrayRef<int64_t>(x.shape) == zShape   ? defineInPlaceOf(zv, xv)
                    : llvm::ArrayRef<int64_t>(y.shape) == zShape ? defineInPlaceOf(zv, yv)
                                                                 : define(zv);
        kernels::binaryBroadcast(*fast, a, x.shape, b, y.shape, z.as<float>(), zShape);
        return;
      }
    }
    Buffer &z = define(zv);
    bool integral = !isFloatingPoint(z.dtype);
    BroadcastIndex ix(x.shape, z.shape), iy(y.shape, z.shape);
    for (int64_t i = 0, n = z.numElements(); i < n; ++i)
      z.set(i, f(x.get(ix(i)), y.get(iy(i)), integral));
  }

  /// x ** 2 and x ** 0.5 with a constant scalar exponent on float32 (the
  /// spelled-out layer norm's square, an L2 norm's root) as a product and a
  /// square root instead of pow. False (nothing done) otherwise.
  bool powerBySquaring(Value xv, Value yv, Value zv) {
    const Buffer &any = inAnyLayout(xv), &y = in(yv);
    if (any.dtype != DType::Float32 || y.dtype != DType::Float32 || y.numElements() != 1 ||
        !typeOf(zv).getElementType().isF32() || llvm::ArrayRef<int64_t>(any.shape) != typeOf(zv).getShape())
      return false;
    float exponent = *y.as<float>();
    if (exponent != 2.0f && exponent != 0.5f)
      return false;
    bool channelsLast = any.channelsLast;
    const float *a = any.as<float>();
    Buffer &z = defineInPlaceOf(zv, xv);
    if (exponent == 2.0f)
      kernels::binaryRows(kernels::Binary::Mul, a, a, z.as<float>(), z.numElements(), z.numElements());
    else
      kernels::unary(kernels::Unary::Sqrt, a, z.as<float>(), z.numElements());
    z.channelsLast = channelsLast;
    return true;
  }

  /// A float32 binary op on channels-last data, kept channels-last: both
  /// operands channels-last of the result's shape, or one of them and a
  /// per-channel operand ([N, C, 1, 1], [C, 1, 1], a scalar). False (nothing
  /// done) otherwise.
  bool binaryChannelsLast(kernels::Binary kind, Value xv, Value yv, Value zv) {
    const Buffer &x = inAnyLayout(xv), &y = inAnyLayout(yv);
    if (!x.channelsLast && !y.channelsLast)
      return false;
    llvm::ArrayRef<int64_t> zShape = typeOf(zv).getShape();
    if (x.dtype != DType::Float32 || y.dtype != DType::Float32 || !typeOf(zv).getElementType().isF32() ||
        zShape.size() != 4 || x.numElements() == 0 || y.numElements() == 0)
      return false;
    // The physical shape of an operand: [N, H, W, C] when channels-last;
    // a per-channel one ([.., C, 1, 1]) reads the same bytes as [.., 1, 1, C].
    auto physical = [&](const Buffer &b) -> std::optional<SmallVector<int64_t, 4>> {
      SmallVector<int64_t, 4> shape(4 - std::min<size_t>(4, b.shape.size()), 1);
      shape.append(b.shape.begin(), b.shape.end());
      if (shape.size() != 4)
        return std::nullopt;
      if (b.channelsLast)
        return SmallVector<int64_t, 4>{shape[0], shape[2], shape[3], shape[1]};
      if (shape[2] != 1 || shape[3] != 1)
        return std::nullopt;
      return SmallVector<int64_t, 4>{shape[0], 1, 1, shape[1]};
    };
    auto px = physical(x), py = physical(y);
    if (!px || !py)
      return false;
    bool xFull = x.channelsLast && llvm::ArrayRef<int64_t>(x.shape) == zShape;
    bool yFull = y.channelsLast && llvm::ArrayRef<int64_t>(y.shape) == zShape;
    if (!xFull && !yFull)
      return false;
    SmallVector<int64_t, 4> pz{zShape[0], zShape[2], zShape[3], zShape[1]};
    const float *a = x.as<float>(), *b = y.as<float>();
    Buffer &z = xFull ? defineInPlaceOf(zv, xv) : defineInPlaceOf(zv, yv);
    kernels::binaryBroadcast(kind, a, *px, b, *py, z.as<float>(), pz);
    z.channelsLast = true;
    return true;
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
  /// Channels-last buffers the current op replaced by row-major copies.
  std::vector<std::shared_ptr<Buffer>> retired_;
  /// Values the function returns: never overwritten in place.
  SmallVector<Value, 4> liveOutputs_;
  Executable::State &state_;
};

} // namespace dinfer::interp

#endif // DINFER_LIB_RUNTIME_INTERPRETERIMPL_H
