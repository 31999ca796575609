//===- Kernels.h - float32 CPU kernels of the interpreter -----------------===//
//
// The hot kernels of the runtime, on contiguous float32 data: vectorised
// elementwise math (exp, erf and tanh as polynomials the compiler vectorises,
// compiled for AVX2 and AVX-512 beside the baseline), row-wise Softmax and
// LayerNorm, and matrix products and convolutions through oneDNN. Work is
// split over the OpenMP threads of the calling thread (setKernelThreads), the
// same pool oneDNN runs on, so no two thread pools spin against each other.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_RUNTIME_KERNELS_H
#define DINFER_RUNTIME_KERNELS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>

namespace dinfer::kernels {

/// Calls body(begin, end) over [0, count) in chunks on the kernel threads;
/// inline when the work (count × costPerItem) is too small to share.
void parallelFor(int64_t count, int64_t costPerItem, llvm::function_ref<void(int64_t, int64_t)> body);

enum class Unary { Exp, Erf, Tanh, Sigmoid, SiLU, ReLU, GeLU, GeLUTanh, FastGeLU, Neg, Sqrt, Log, HSwish };
/// y[i] = f(x[i]); x and y may be the same array.
void unary(Unary kind, const float *x, float *y, int64_t count);

enum class Binary { Add, Sub, Mul, Div, Pow, Max, Min };
/// z[i] = x[i] op y[i] for i < count, y repeating with period yCount (a
/// bias row: yCount divides count; yCount == count is the plain case and
/// yCount == 1 a scalar). x and z may be the same array.
void binaryRows(Binary kind, const float *x, const float *y, float *z, int64_t count, int64_t yCount);
/// z = x op y with y's value repeated: a scalar on the left (x) side.
void binaryScalarLeft(Binary kind, float x, const float *y, float *z, int64_t count);
/// z = x op y with numpy broadcasting (shapes aligned from the right): the
/// output in runs along its innermost dimensions, each operand contiguous or
/// one repeated value over a run ([N, C, H, W] * [N, C, 1, 1]: N·C runs of
/// H·W). z may be x or y when it has that operand's shape.
void binaryBroadcast(Binary kind, const float *x, llvm::ArrayRef<int64_t> xShape, const float *y,
                     llvm::ArrayRef<int64_t> yShape, float *z, llvm::ArrayRef<int64_t> zShape);

enum class Reduce { Sum, Mean, Max, Min };
/// y[o, i] = reduce over r of x[o, r, i], x viewed as [outer, reduced,
/// inner] (every reduction of one run of consecutive axes: the last axis, a
/// feature map's H·W, the batch).
void reduceMiddle(Reduce kind, const float *x, float *y, int64_t outer, int64_t reduced, int64_t inner);

/// y = x broadcast to yShape (numpy's rules, shapes aligned from the right),
/// any element size: runs of y copied or filled, no per-element index.
void broadcastTo(const char *x, llvm::ArrayRef<int64_t> xShape, char *y, llvm::ArrayRef<int64_t> yShape,
                 size_t elementBytes);

/// Softmax (or log-softmax) of each of `rows` contiguous rows of `length`.
void softmaxRows(const float *x, float *y, int64_t rows, int64_t length, bool log);
/// (x - mean) / sqrt(var + eps) * gamma + beta for each row of `length`;
/// gamma and beta hold `length` values (beta may be null).
void layerNormRows(const float *x, const float *gamma, const float *beta, float *y, int64_t rows, int64_t length,
                   float eps);
/// x / sqrt(mean(x²) + eps) * gamma for each row.
void rmsNormRows(const float *x, const float *gamma, float *y, int64_t rows, int64_t length, float eps);

/// y = x · scale[c] + shift[c] over [batches, channels, inner] (inference
/// BatchNorm with its statistics folded into scale and shift).
/// With `relu`, max(., 0) in the same pass.
void channelAffine(const float *x, float *y, int64_t batches, int64_t channels, int64_t inner, const float *scale,
                   const float *shift, bool relu = false);

/// Elements of x ([shape] row-major, elementBytes each) permuted by perm.
void transpose(const char *x, char *y, llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> perm,
               size_t elementBytes);

/// The right operand of a matrix product that stays the same from call to
/// call (a weight), kept in the blocked layout oneDNN's kernels read
/// fastest. The first product given it fills it; later ones reuse it while
/// the operand's address and shapes stay the same, and refill it otherwise.
/// The caller promises that the bytes at that address do not change.
class PrepackedWeights {
public:
  PrepackedWeights();
  ~PrepackedWeights();
  /// Products of this weight in bfloat16: the weight converted once as it is
  /// packed, the activations as they enter; accumulation and outputs stay
  /// float32. Where oneDNN has no native bfloat16 kernel for the product
  /// (a CPU without AVX-512 BF16 or AMX), float32.
  bool bfloat16 = false;
  /// Whether the packed product runs in bfloat16 (set when it is packed).
  bool ranInBFloat16() const;
  /// Whether a packed copy of its own is held (not the operand's memory
  /// itself, where oneDNN reads the plain layout): the operand's bytes are
  /// not read again while its address and shapes stay the same.
  bool holdsOwnCopy() const { return ownBytes() > 0; }
  /// Bytes of that copy (0 without one).
  size_t ownBytes() const;
  struct Storage;
  std::unique_ptr<Storage> storage;
};

/// Gives the pages of `bytes` at `data` back to the system while the
/// address stays valid: pages mapped from a file are read from it again if
/// anything asks, anonymous ones (a converted weight) read as zeros. For
/// data that nothing reads again.
void releasePages(const void *data, size_t bytes, bool fileBacked);

/// A batched float32 matrix product z[b] = op(x[b']) · op(y[b'']) with
/// numpy broadcasting over the batch dimensions, on oneDNN. The shapes are
/// those of the stored (untransposed) operands. With `prepacked`, a 2-D y is
/// taken as constant and read from its prepacked copy.
llvm::Error matmul(const float *x, llvm::ArrayRef<int64_t> xShape, bool transposeX, const float *y,
                   llvm::ArrayRef<int64_t> yShape, bool transposeY, float *z, llvm::ArrayRef<int64_t> zShape,
                   PrepackedWeights *prepacked = nullptr);

struct Conv2DParams {
  int64_t strides[2], dilations[2], padBefore[2], padAfter[2], groups;
  /// With prepacked weights: x's bytes are in [N, H, W, C] order.
  bool xChannelsLast = false;
  /// With prepacked weights: y may be left in [N, H, W, C] order when that
  /// is what oneDNN's kernel writes (conv2d then sets yChannelsLast).
  bool mayLeaveChannelsLast = false;
  bool yChannelsLast = false;
  /// With prepacked weights: a per-output-channel bias added and an
  /// activation applied in the convolution's own pass (oneDNN's bias and
  /// post-op). Clip keeps [alpha, beta].
  const float *bias = nullptr;
  enum class Activation { None, ReLU, Clip, HardSwish, Sigmoid, SiLU } activation = Activation::None;
  float alpha = 0, beta = 0;
  /// With prepacked weights: a tensor of y's shape added after the bias and
  /// before the activation (a residual connection), in [N, H, W, C] byte
  /// order when `residualChannelsLast`. It may be y's own storage (a value
  /// that dies at the convolution): added without a copy where its layout is
  /// the output's.
  const float *residual = nullptr;
  bool residualChannelsLast = false;
};
/// NCHW float32 convolution (OIHW weights, no bias) on oneDNN. With
/// `prepacked` the weights are taken as constant: kept in the layout of
/// oneDNN's fastest kernel, the activations reordered around it, unless
/// they are channels-last already and may stay so (params).
llvm::Error conv2d(const float *x, llvm::ArrayRef<int64_t> xShape, const float *w, llvm::ArrayRef<int64_t> wShape,
                   float *y, llvm::ArrayRef<int64_t> yShape, Conv2DParams &params,
                   PrepackedWeights *prepacked = nullptr);

/// A depthwise convolution (one KH x KW filter per channel, no channel
/// multiplier) of channels-last maps: x holds [N, H, W, C] bytes of the NCHW
/// shape xShape, weights [KH, KW, C], y [N, OH, OW, C] bytes of yShape. The
/// bias, channels-last residual and activation of `params` are applied in the
/// same pass; its layout flags are not read. With KH·KW multiply-adds per
/// output it is bound by memory: each thread takes whole output rows, and a
/// tile of pixels reads its windows once, for all channels, from cache.
void depthwiseConv2dChannelsLast(const float *x, llvm::ArrayRef<int64_t> xShape, const float *weights, int64_t kh,
                                 int64_t kw, float *y, llvm::ArrayRef<int64_t> yShape, const Conv2DParams &params);

enum class Pooling { Max, AverageCountingPads, AverageOfInputs };
/// The window of a pooling over `spatial` (1 to 3) dimensions; dilation 1
/// reads neighbouring elements.
struct PoolParams {
  int spatial;
  int64_t kernel[3], strides[3], dilations[3], padBefore[3], padAfter[3];
  /// Two spatial dimensions in [N, H, W, C] byte order, in and out.
  bool channelsLast = false;
};
/// NCW/NCHW/NCDHW float32 max or average pooling on oneDNN.
/// AverageCountingPads divides by the window size with the pads inside it,
/// AverageOfInputs by the input elements alone.
llvm::Error pool(Pooling kind, const float *x, llvm::ArrayRef<int64_t> xShape, float *y,
                 llvm::ArrayRef<int64_t> yShape, const PoolParams &params);

struct LSTMParams {
  int64_t seq, batch, inputSize, hiddenSize, layers;
  bool bidirectional, hasBias;
};
/// MindSpore's LSTM (the op `nn.lstm` documents): x [seq, batch, input],
/// h0/c0 and hn/cn [layers * directions, batch, hidden], w flat in
/// MindSpore's order, y [seq, batch, hidden * directions]; float32 on
/// oneDNN, one primitive per layer.
llvm::Error lstm(const float *x, const float *h0, const float *c0, const float *w, float *y, float *hn, float *cn,
                 const LSTMParams &params);

} // namespace dinfer::kernels

#endif // DINFER_RUNTIME_KERNELS_H
