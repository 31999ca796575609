//===- NNOps.cpp - nn ops: verification and result-type inference --------===//
//
// Every op infers its result type from its operands and attributes; the
// inference doubles as the shape verifier, so its errors name the op.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNDialect.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dinfer::nn;

namespace {
/// Emits "'nn.op' op <message>" at the op's location, when there is one.
struct OpError {
  std::optional<Location> loc;
  StringRef opName;

  template <typename... Args>
  LogicalResult operator()(Args &&...args) const {
    return emitOptionalError(loc, "'", opName, "' op ", std::forward<Args>(args)...);
  }
};

RankedTensorType tensorOf(Value value) { return llvm::cast<RankedTensorType>(value.getType()); }

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    out += (i ? ", " : "") + std::to_string(d);
  return out + "]";
}

/// Normalises a possibly negative axis of a rank-`rank` tensor.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return std::nullopt;
  return axis;
}

FailureOr<int64_t> checkAxis(const OpError &error, StringRef attrName, int64_t axis, int64_t rank) {
  std::optional<int64_t> normalized = normalizeAxis(axis, rank);
  if (!normalized)
    return error(attrName, " ", axis, " is out of range for rank ", rank);
  return *normalized;
}

LogicalResult checkSameElementType(const OpError &error, StringRef lhsName, Type lhs, StringRef rhsName, Type rhs) {
  Type a = llvm::cast<ShapedType>(lhs).getElementType(), b = llvm::cast<ShapedType>(rhs).getElementType();
  if (a != b)
    return error(lhsName, " and ", rhsName, " have different element types (", a, " and ", b, ")");
  return success();
}

LogicalResult checkRank(const OpError &error, StringRef name, RankedTensorType type, int64_t rank) {
  if (type.getRank() != rank)
    return error(name, " must have rank ", rank, ", got ", type);
  return success();
}

/// Numpy broadcasting of two shapes.
FailureOr<SmallVector<int64_t>> broadcastShapes(const OpError &error, ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return error("operand shapes ", shapeString(a), " and ", shapeString(b), " do not broadcast");
    result[i] = da == 1 ? db : da;
  }
  return result;
}

LogicalResult checkPositive(const OpError &error, StringRef attrName, ArrayRef<int64_t> values, size_t count) {
  if (values.size() != count)
    return error(attrName, " must have ", count, " entries, got ", values.size());
  for (int64_t v : values)
    if (v <= 0)
      return error(attrName, " entries must be positive, got ", shapeString(values));
  return success();
}

LogicalResult checkPads(const OpError &error, ArrayRef<int64_t> pads) {
  if (pads.size() != 4)
    return error("pad must have 4 entries (top, bottom, left, right), got ", pads.size());
  for (int64_t p : pads)
    if (p < 0)
      return error("pad entries must not be negative, got ", shapeString(pads));
  return success();
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The output extent of a sliding window along one spatial dimension.
FailureOr<int64_t> windowOutput(const OpError &error, StringRef padMode, int64_t input, int64_t kernel, int64_t stride,
                                int64_t dilation, int64_t padBefore, int64_t padAfter, bool ceilMode) {
  int64_t effective = (kernel - 1) * dilation + 1;
  int64_t out;
  if (padMode == "same") {
    out = ceilDiv(input, stride);
  } else if (padMode == "valid") {
    if (input < effective)
      return error("window of ", effective, " exceeds the input extent ", input);
    out = (input - effective) / stride + 1;
  } else if (padMode == "pad") {
    int64_t padded = input + padBefore + padAfter;
    if (padded < effective)
      return error("window of ", effective, " exceeds the padded input extent ", padded);
    out = ceilMode ? ceilDiv(padded - effective, stride) + 1 : (padded - effective) / stride + 1;
    // A window must start inside the input or its leading padding.
    if (ceilMode && (out - 1) * stride >= input + padBefore)
      --out;
  } else {
    return error("pad_mode '", padMode, "' is not one of pad, same, valid");
  }
  return out;
}

template <typename OpT, typename = void>
struct HasDefaultProperties : std::false_type {};
template <typename OpT>
struct HasDefaultProperties<OpT, std::void_t<decltype(OpT::populateDefaultProperties(
                                     std::declval<OperationName>(), std::declval<typename OpT::Properties &>()))>>
    : std::true_type {};

/// The generated parser infers result types while the attributes of the
/// attr-dict are still a dictionary and default values are not filled in;
/// inference sees the op's real attributes through this. It also checks them
/// as the op's verifier would: a file that omits a required attribute (a
/// MindIR node without LSTM's input_size) must fail here, not in a getter.
template <typename OpT>
LogicalResult completeAttributes(MLIRContext *context, std::optional<Location> location,
                                 typename OpT::Adaptor &adaptor) {
  typename OpT::Properties properties = adaptor.getProperties();
  if (DictionaryAttr attributes = adaptor.getAttributes())
    (void)OpT::setPropertiesFromAttr(properties, attributes, [&] { return emitError(UnknownLoc::get(context)); });
  if constexpr (HasDefaultProperties<OpT>::value)
    OpT::populateDefaultProperties(OperationName(OpT::getOperationName(), context), properties);
  adaptor = typename OpT::Adaptor(adaptor.getOperands(), nullptr, properties);
  if (location)
    return adaptor.verify(*location);
  // Callers that only ask whether inference succeeds want no diagnostic.
  ScopedDiagnosticHandler quiet(context, [](Diagnostic &) { return success(); });
  return adaptor.verify(UnknownLoc::get(context));
}
} // namespace

#define NN_ERROR()                                                                                                     \
  OpError { location, getOperationName() }

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

static LogicalResult inferBinary(const OpError &error, Value x, Value y, SmallVectorImpl<Type> &types) {
  if (failed(checkSameElementType(error, "x", x.getType(), "y", y.getType())))
    return failure();
  auto shape = broadcastShapes(error, tensorOf(x).getShape(), tensorOf(y).getShape());
  if (failed(shape))
    return failure();
  types.push_back(tensorOf(x).clone(*shape));
  return success();
}

#define NN_BINARY_INFERENCE(OP)                                                                                        \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> location, Adaptor adaptor,                 \
                                     SmallVectorImpl<Type> &types) {                                                   \
    return inferBinary(NN_ERROR(), adaptor.getX(), adaptor.getY(), types);                                             \
  }
NN_BINARY_INFERENCE(AddOp)
NN_BINARY_INFERENCE(SubOp)
NN_BINARY_INFERENCE(MulOp)
NN_BINARY_INFERENCE(DivOp)
NN_BINARY_INFERENCE(PowOp)
NN_BINARY_INFERENCE(MaximumOp)
NN_BINARY_INFERENCE(MinimumOp)
NN_BINARY_INFERENCE(FloorModOp)
NN_BINARY_INFERENCE(ModOp)
#undef NN_BINARY_INFERENCE

/// A comparison: the broadcast shape of a binary op, of booleans.
static LogicalResult inferCompare(const OpError &error, Value x, Value y, SmallVectorImpl<Type> &types) {
  if (failed(inferBinary(error, x, y, types)))
    return failure();
  types.back() = llvm::cast<RankedTensorType>(types.back()).clone(IntegerType::get(x.getContext(), 1));
  return success();
}

#define NN_COMPARE_INFERENCE(OP)                                                                                       \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> location, Adaptor adaptor,                 \
                                     SmallVectorImpl<Type> &types) {                                                   \
    return inferCompare(NN_ERROR(), adaptor.getX(), adaptor.getY(), types);                                            \
  }
NN_COMPARE_INFERENCE(EqualOp)
NN_COMPARE_INFERENCE(NotEqualOp)
NN_COMPARE_INFERENCE(LessOp)
NN_COMPARE_INFERENCE(LessEqualOp)
NN_COMPARE_INFERENCE(GreaterOp)
NN_COMPARE_INFERENCE(GreaterEqualOp)
NN_COMPARE_INFERENCE(LogicalAndOp)
NN_COMPARE_INFERENCE(LogicalOrOp)
#undef NN_COMPARE_INFERENCE

LogicalResult BroadcastToOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                              Adaptor rawAdaptor, SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<BroadcastToOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  DenseI64ArrayAttr shape = adaptor.getShapeAttr();
  auto broadcast = broadcastShapes(error, tensorOf(adaptor.getX()).getShape(), shape.asArrayRef());
  if (failed(broadcast))
    return failure();
  if (llvm::ArrayRef<int64_t>(*broadcast) != shape.asArrayRef())
    return error("cannot broadcast x (", adaptor.getX().getType(), ") to ", shapeString(shape.asArrayRef()),
                 ": only new leading and size-1 dimensions grow");
  types.push_back(tensorOf(adaptor.getX()).clone(shape.asArrayRef()));
  return success();
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                       SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<TileOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  DenseI64ArrayAttr multiples = adaptor.getMultiplesAttr();
  RankedTensorType x = tensorOf(adaptor.getX());
  if (static_cast<int64_t>(multiples.size()) != x.getRank())
    return error("multiples ", shapeString(multiples.asArrayRef()), " must have one entry per dimension of x (",
                 x, ")");
  SmallVector<int64_t> shape;
  for (auto [d, m] : llvm::zip_equal(x.getShape(), multiples.asArrayRef())) {
    if (m < 0)
      return error("multiples ", shapeString(multiples.asArrayRef()), " has a negative entry");
    shape.push_back(d * m);
  }
  types.push_back(x.clone(shape));
  return success();
}

#define NN_PREDICATE_INFERENCE(OP)                                                                                     \
  LogicalResult OP::inferReturnTypes(MLIRContext *context, std::optional<Location>, Adaptor adaptor,                   \
                                     SmallVectorImpl<Type> &types) {                                                   \
    types.push_back(tensorOf(adaptor.getX()).clone(IntegerType::get(context, 1)));                                     \
    return success();                                                                                                  \
  }
NN_PREDICATE_INFERENCE(IsNanOp)
NN_PREDICATE_INFERENCE(IsInfOp)
#undef NN_PREDICATE_INFERENCE

LogicalResult GeLUOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError() << "approximate must be \"none\" or \"tanh\", got \"" << getApproximate() << "\"";
  return success();
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *, std::optional<Location> location, Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  OpError error = NN_ERROR();
  if (failed(checkSameElementType(error, "x", adaptor.getX().getType(), "y", adaptor.getY().getType())))
    return failure();
  auto shape = broadcastShapes(error, tensorOf(adaptor.getX()).getShape(), tensorOf(adaptor.getY()).getShape());
  if (failed(shape))
    return failure();
  shape = broadcastShapes(error, tensorOf(adaptor.getCond()).getShape(), *shape);
  if (failed(shape))
    return failure();
  types.push_back(tensorOf(adaptor.getX()).clone(*shape));
  return success();
}

LogicalResult CastOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                       SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<CastOp>(context, location, adaptor)))
    return failure();
  auto dtype = adaptor.getDtypeAttr();
  Type element = dtype.getValue();
  if (!element.isIntOrFloat())
    return NN_ERROR()("dtype must be an integer or float type, got ", element);
  types.push_back(tensorOf(adaptor.getX()).clone(element));
  return success();
}

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                         SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<MatMulOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX()), w = tensorOf(adaptor.getW());
  if (failed(checkRank(error, "x", x, 2)) || failed(checkRank(error, "w", w, 2)) ||
      failed(checkSameElementType(error, "x", x, "w", w)))
    return failure();
  bool ta = adaptor.getTransposeA(), tb = adaptor.getTransposeB();
  int64_t m = x.getDimSize(ta ? 1 : 0), kx = x.getDimSize(ta ? 0 : 1);
  int64_t kw = w.getDimSize(tb ? 1 : 0), n = w.getDimSize(tb ? 0 : 1);
  if (kx != kw)
    return error("contraction dimensions differ: ", kx, " in x (", x, ") and ", kw, " in w (", w, ")");
  types.push_back(x.clone({m, n}));
  return success();
}

LogicalResult BatchMatMulOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                              Adaptor rawAdaptor, SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<BatchMatMulOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX()), y = tensorOf(adaptor.getY());
  if (x.getRank() < 2 || y.getRank() < 2)
    return error("operands must have rank 2 or more, got ", x, " and ", y);
  if (failed(checkSameElementType(error, "x", x, "y", y)))
    return failure();
  bool ta = adaptor.getTransposeA(), tb = adaptor.getTransposeB();
  int64_t rx = x.getRank(), ry = y.getRank();
  int64_t m = x.getDimSize(ta ? rx - 1 : rx - 2), kx = x.getDimSize(ta ? rx - 2 : rx - 1);
  int64_t ky = y.getDimSize(tb ? ry - 1 : ry - 2), n = y.getDimSize(tb ? ry - 2 : ry - 1);
  if (kx != ky)
    return error("contraction dimensions differ: ", kx, " in x (", x, ") and ", ky, " in y (", y, ")");
  auto batch = broadcastShapes(error, x.getShape().drop_back(2), y.getShape().drop_back(2));
  if (failed(batch))
    return failure();
  batch->push_back(m);
  batch->push_back(n);
  types.push_back(x.clone(*batch));
  return success();
}

LogicalResult BiasAddOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                          SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<BiasAddOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX()), bias = tensorOf(adaptor.getBias());
  if (x.getRank() < 2)
    return error("x must have rank 2 or more, got ", x);
  if (failed(checkRank(error, "bias", bias, 1)) || failed(checkSameElementType(error, "x", x, "bias", bias)))
    return failure();
  StringRef format = adaptor.getDataFormat();
  int64_t channel;
  if (format == "NCHW" || format == "NCDHW")
    channel = 1;
  else if (format == "NHWC")
    channel = x.getRank() - 1;
  else
    return error("data_format '", format, "' is not one of NCHW, NHWC, NCDHW");
  if (bias.getDimSize(0) != x.getDimSize(channel))
    return error("bias has ", bias.getDimSize(0), " elements but channel dimension ", channel, " of x has ",
                 x.getDimSize(channel));
  types.push_back(x);
  return success();
}

//===----------------------------------------------------------------------===//
// Normalisations
//===----------------------------------------------------------------------===//

/// Softmax-like ops: the operand's type, after checking `axis`.
static LogicalResult inferAlongAxis(const OpError &error, Value x, int64_t axis, SmallVectorImpl<Type> &types) {
  RankedTensorType type = tensorOf(x);
  if (failed(checkAxis(error, "axis", axis, type.getRank())))
    return failure();
  types.push_back(type);
  return success();
}

#define NN_ALONG_AXIS_INFERENCE(OP)                                                                                    \
  LogicalResult OP::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,       \
                                     SmallVectorImpl<Type> &types) {                                                   \
    Adaptor adaptor = rawAdaptor;                                                                                      \
    if (failed(completeAttributes<OP>(context, location, adaptor)))                                                    \
      return failure();                                                                                                \
    return inferAlongAxis(NN_ERROR(), adaptor.getX(), adaptor.getAxis(), types);                                       \
  }
NN_ALONG_AXIS_INFERENCE(SoftmaxOp)
NN_ALONG_AXIS_INFERENCE(LogSoftmaxOp)
#undef NN_ALONG_AXIS_INFERENCE

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                            SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<LayerNormOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX());
  auto normAxis = checkAxis(error, "begin_norm_axis", adaptor.getBeginNormAxis(), x.getRank());
  auto paramsAxis = checkAxis(error, "begin_params_axis", adaptor.getBeginParamsAxis(), x.getRank());
  if (failed(normAxis) || failed(paramsAxis))
    return failure();
  ArrayRef<int64_t> expected = x.getShape().drop_front(*paramsAxis);
  for (auto [name, value] : {std::pair<StringRef, Value>{"gamma", adaptor.getGamma()}, {"beta", adaptor.getBeta()}}) {
    RankedTensorType type = tensorOf(value);
    if (type.getShape() != expected)
      return error(name, " has shape ", shapeString(type.getShape()), " but x from begin_params_axis has ",
                   shapeString(expected));
    if (failed(checkSameElementType(error, "x", x, name, type)))
      return failure();
  }
  types.push_back(x);
  return success();
}

LogicalResult RMSNormOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                          SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<RMSNormOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX()), gamma = tensorOf(adaptor.getGamma());
  if (gamma.getRank() < 1 || gamma.getRank() > x.getRank() ||
      x.getShape().take_back(gamma.getRank()) != gamma.getShape())
    return error("gamma of shape ", shapeString(gamma.getShape()), " does not match the trailing dimensions of x ",
                 shapeString(x.getShape()));
  if (failed(checkSameElementType(error, "x", x, "gamma", gamma)))
    return failure();
  types.push_back(x);
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                            SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<BatchNormOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX());
  if (x.getRank() < 2)
    return error("x must have rank 2 or more (N, C, ...), got ", x);
  int64_t channels = x.getDimSize(1);
  std::pair<StringRef, Value> params[] = {{"scale", adaptor.getScale()},
                                          {"bias", adaptor.getBias()},
                                          {"mean", adaptor.getMean()},
                                          {"variance", adaptor.getVariance()}};
  for (auto [name, value] : params) {
    RankedTensorType type = tensorOf(value);
    if (type.getRank() != 1 || type.getDimSize(0) != channels)
      return error(name, " must be 1-D with ", channels, " channels, got ", type);
    if (failed(checkSameElementType(error, "x", x, name, type)))
      return failure();
  }
  types.push_back(x);
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

static LogicalResult inferReduce(const OpError &error, RankedTensorType x, ArrayRef<int64_t> axes, bool keepDims,
                                 SmallVectorImpl<Type> &types) {
  int64_t rank = x.getRank();
  SmallVector<bool> reduced(rank, axes.empty());
  for (int64_t axis : axes) {
    auto normalized = checkAxis(error, "axis", axis, rank);
    if (failed(normalized))
      return failure();
    if (reduced[*normalized])
      return error("axis lists dimension ", *normalized, " twice");
    reduced[*normalized] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[d])
      shape.push_back(x.getDimSize(d));
    else if (keepDims)
      shape.push_back(1);
  }
  types.push_back(x.clone(shape));
  return success();
}

#define NN_REDUCE_INFERENCE(OP)                                                                                        \
  LogicalResult OP::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,       \
                                     SmallVectorImpl<Type> &types) {                                                   \
    Adaptor adaptor = rawAdaptor;                                                                                      \
    if (failed(completeAttributes<OP>(context, location, adaptor)))                                                    \
      return failure();                                                                                                \
    return inferReduce(NN_ERROR(), tensorOf(adaptor.getX()), adaptor.getAxis(), adaptor.getKeepDims(), types);         \
  }
NN_REDUCE_INFERENCE(ReduceSumOp)
NN_REDUCE_INFERENCE(ReduceMeanOp)
NN_REDUCE_INFERENCE(ReduceMaxOp)
NN_REDUCE_INFERENCE(ReduceMinOp)
NN_REDUCE_INFERENCE(ReduceProdOp)
#undef NN_REDUCE_INFERENCE

#define NN_ARG_REDUCE_INFERENCE(OP)                                                                                    \
  LogicalResult OP::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,       \
                                     SmallVectorImpl<Type> &types) {                                                   \
    Adaptor adaptor = rawAdaptor;                                                                                      \
    if (failed(completeAttributes<OP>(context, location, adaptor)))                                                    \
      return failure();                                                                                                \
    if (failed(inferReduce(NN_ERROR(), tensorOf(adaptor.getX()), {static_cast<int64_t>(adaptor.getAxis())}, false,   \
                           types)))                                                                            \
      return failure();                                                                                                \
    types.back() = llvm::cast<RankedTensorType>(types.back()).clone(IntegerType::get(context, 32));                    \
    return success();                                                                                                  \
  }
NN_ARG_REDUCE_INFERENCE(ArgmaxOp)
NN_ARG_REDUCE_INFERENCE(ArgminOp)
#undef NN_ARG_REDUCE_INFERENCE

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                          SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<ReshapeOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX());
  SmallVector<int64_t> shape(adaptor.getShape());
  int64_t known = 1, inferred = -1;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == -1) {
      if (inferred >= 0)
        return error("shape ", shapeString(shape), " has more than one -1");
      inferred = static_cast<int64_t>(i);
    } else if (d < 0) {
      return error("shape ", shapeString(shape), " has a negative entry other than -1");
    } else {
      known *= d;
    }
  }
  int64_t count = x.getNumElements();
  if (inferred >= 0) {
    if (known == 0 || count % known != 0)
      return error("cannot infer the -1 in ", shapeString(shape), " from ", count, " elements");
    shape[inferred] = count / known;
  } else if (known != count) {
    return error("shape ", shapeString(shape), " has ", known, " elements but x (", x, ") has ", count);
  }
  types.push_back(x.clone(shape));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                            SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<TransposeOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (static_cast<int64_t>(perm.size()) != x.getRank())
    return error("perm ", shapeString(perm), " has ", perm.size(), " entries but x has rank ", x.getRank());
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= x.getRank() || seen[p])
      return error("perm ", shapeString(perm), " is not a permutation of the dimensions of x");
    seen[p] = true;
    shape.push_back(x.getDimSize(p));
  }
  types.push_back(x.clone(shape));
  return success();
}

LogicalResult ExpandDimsOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                             SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<ExpandDimsOp>(context, location, adaptor)))
    return failure();
  RankedTensorType x = tensorOf(adaptor.getX());
  auto axis = checkAxis(NN_ERROR(), "axis", adaptor.getAxis(), x.getRank() + 1);
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(x.getShape());
  shape.insert(shape.begin() + *axis, 1);
  types.push_back(x.clone(shape));
  return success();
}

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                          SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<SqueezeOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX());
  SmallVector<bool> drop(x.getRank(), false);
  if (adaptor.getAxis().empty()) {
    for (int64_t d = 0; d < x.getRank(); ++d)
      drop[d] = x.getDimSize(d) == 1;
  }
  for (int64_t axis : adaptor.getAxis()) {
    auto normalized = checkAxis(error, "axis", axis, x.getRank());
    if (failed(normalized))
      return failure();
    if (x.getDimSize(*normalized) != 1)
      return error("cannot squeeze dimension ", *normalized, " of size ", x.getDimSize(*normalized));
    drop[*normalized] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < x.getRank(); ++d)
    if (!drop[d])
      shape.push_back(x.getDimSize(d));
  types.push_back(x.clone(shape));
  return success();
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                          SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<FlattenOp>(context, location, adaptor)))
    return failure();
  RankedTensorType x = tensorOf(adaptor.getX());
  int64_t axis = adaptor.getAxis();
  if (axis < 0)
    axis += x.getRank();
  if (axis < 0 || axis > x.getRank())
    return NN_ERROR()("axis ", adaptor.getAxis(), " is out of range for rank ", x.getRank());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < x.getRank(); ++d)
    (d < axis ? outer : inner) *= x.getDimSize(d);
  types.push_back(x.clone({outer, inner}));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                         SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<ConcatOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  if (adaptor.getInputs().empty())
    return error("needs at least one input");
  RankedTensorType first = tensorOf(adaptor.getInputs().front());
  auto axis = checkAxis(error, "axis", adaptor.getAxis(), first.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(first.getShape());
  for (auto [i, value] : llvm::enumerate(adaptor.getInputs().drop_front())) {
    RankedTensorType type = tensorOf(value);
    if (type.getElementType() != first.getElementType())
      return error("input ", i + 1, " has element type ", type.getElementType(), ", input 0 has ",
                   first.getElementType());
    if (type.getRank() != first.getRank())
      return error("input ", i + 1, " has rank ", type.getRank(), ", input 0 has rank ", first.getRank());
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (d == *axis)
        continue;
      if (type.getDimSize(d) != first.getDimSize(d))
        return error("input ", i + 1, " (", type, ") differs from input 0 (", first, ") in dimension ", d,
                     ", which is not the concat axis");
    }
    shape[*axis] += type.getDimSize(*axis);
  }
  types.push_back(first.clone(shape));
  return success();
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                        SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<SplitOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX());
  auto axis = checkAxis(error, "axis", adaptor.getAxis(), x.getRank());
  if (failed(axis))
    return failure();
  int64_t parts = adaptor.getOutputNum();
  if (parts <= 0)
    return error("output_num must be positive, got ", parts);
  if (x.getDimSize(*axis) % parts != 0)
    return error("dimension ", *axis, " of size ", x.getDimSize(*axis), " does not split into ", parts, " equal parts");
  SmallVector<int64_t> shape(x.getShape());
  shape[*axis] /= parts;
  types.append(parts, x.clone(shape));
  return success();
}

LogicalResult StridedSliceOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                               Adaptor rawAdaptor, SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<StridedSliceOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX());
  ArrayRef<int64_t> begin = adaptor.getBegin(), end = adaptor.getEnd(), strides = adaptor.getStrides();
  if (begin.size() != end.size() || begin.size() != strides.size())
    return error("begin, end and strides must have the same length, got ", begin.size(), ", ", end.size(), ", ",
                 strides.size());
  if (static_cast<int64_t>(begin.size()) > x.getRank())
    return error("begin has ", begin.size(), " entries but x has rank ", x.getRank());
  uint64_t beginMask = adaptor.getBeginMask(), endMask = adaptor.getEndMask(), shrinkMask = adaptor.getShrinkAxisMask();
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < x.getRank(); ++d) {
    int64_t size = x.getDimSize(d);
    if (d >= static_cast<int64_t>(begin.size())) {
      shape.push_back(size);
      continue;
    }
    int64_t stride = strides[d];
    if (stride == 0)
      return error("strides entry ", d, " is 0");
    if (shrinkMask >> d & 1) {
      int64_t index = begin[d] < 0 ? begin[d] + size : begin[d];
      if (index < 0 || index >= size)
        return error("shrink index ", begin[d], " is out of range for dimension ", d, " of size ", size);
      continue;
    }
    // Python slice semantics; -1 stands for "before the first element" when stepping back.
    auto clamp = [&](int64_t index, bool forward) {
      if (index < 0)
        index += size;
      return forward ? std::clamp<int64_t>(index, 0, size) : std::clamp<int64_t>(index, -1, size - 1);
    };
    bool forward = stride > 0;
    int64_t b = (beginMask >> d & 1) ? (forward ? 0 : size - 1) : clamp(begin[d], forward);
    int64_t e = (endMask >> d & 1) ? (forward ? size : -1) : clamp(end[d], forward);
    int64_t extent =
        forward ? ceilDiv(std::max<int64_t>(e - b, 0), stride) : ceilDiv(std::max<int64_t>(b - e, 0), -stride);
    shape.push_back(extent);
  }
  types.push_back(x.clone(shape));
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                         SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<GatherOp>(context, location, adaptor)))
    return failure();
  RankedTensorType params = tensorOf(adaptor.getParams()), indices = tensorOf(adaptor.getIndices());
  auto axis = checkAxis(NN_ERROR(), "axis", adaptor.getAxis(), params.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(params.getShape().take_front(*axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, params.getShape().drop_front(*axis + 1));
  types.push_back(params.clone(shape));
  return success();
}

LogicalResult EmbeddingLookupOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                                  Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpError error = NN_ERROR();
  RankedTensorType params = tensorOf(adaptor.getParams()), indices = tensorOf(adaptor.getIndices()),
                   offset = tensorOf(adaptor.getOffset());
  if (params.getRank() < 1)
    return error("params must have at least one dimension, got ", params);
  if (offset.getRank() != 0)
    return error("offset must be a 0-d tensor, got ", offset);
  SmallVector<int64_t> shape(indices.getShape());
  llvm::append_range(shape, params.getShape().drop_front());
  types.push_back(params.clone(shape));
  return success();
}

LogicalResult GatherDOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                          SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<GatherDOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX()), index = tensorOf(adaptor.getIndex());
  if (failed(checkAxis(error, "dim", adaptor.getDim(), x.getRank())) || failed(checkRank(error, "index", index, x.getRank())))
    return failure();
  types.push_back(x.clone(index.getShape()));
  return success();
}

LogicalResult GatherNdOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                           SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<GatherNdOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX()), indices = tensorOf(adaptor.getIndices());
  int64_t batch = adaptor.getBatchDims();
  if (indices.getRank() < 1)
    return error("indices must have at least one dimension, got ", indices);
  int64_t depth = indices.getShape().back();
  if (batch < 0 || batch >= indices.getRank() || batch + depth > x.getRank())
    return error("batch_dims ", batch, " and index depth ", depth, " do not fit x (", x, ") and indices (", indices,
                 ")");
  for (int64_t d = 0; d < batch; ++d)
    if (x.getDimSize(d) != indices.getDimSize(d))
      return error("batch dimension ", d, " differs between x (", x, ") and indices (", indices, ")");
  SmallVector<int64_t> shape(indices.getShape().drop_back());
  llvm::append_range(shape, x.getShape().drop_front(batch + depth));
  types.push_back(x.clone(shape));
  return success();
}

static LogicalResult inferTensorScatter(const OpError &error, Value xValue, Value indicesValue, Value updatesValue,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType x = tensorOf(xValue), indices = tensorOf(indicesValue), updates = tensorOf(updatesValue);
  if (failed(checkSameElementType(error, "x", x, "updates", updates)))
    return failure();
  if (indices.getRank() < 1 || indices.getShape().back() > x.getRank())
    return error("indices (", indices, ") must end in a dimension of at most x's rank (", x, ")");
  SmallVector<int64_t> expected(indices.getShape().drop_back());
  llvm::append_range(expected, x.getShape().drop_front(indices.getShape().back()));
  if (updates.getShape() != ArrayRef<int64_t>(expected))
    return error("updates (", updates, ") must have shape ", shapeString(expected));
  types.push_back(x);
  return success();
}

#define NN_TENSOR_SCATTER_INFERENCE(OP)                                                                                \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> location, Adaptor adaptor,                 \
                                     SmallVectorImpl<Type> &types) {                                                   \
    return inferTensorScatter(NN_ERROR(), adaptor.getX(), adaptor.getIndices(), adaptor.getUpdates(), types);          \
  }
NN_TENSOR_SCATTER_INFERENCE(TensorScatterUpdateOp)
NN_TENSOR_SCATTER_INFERENCE(TensorScatterAddOp)
NN_TENSOR_SCATTER_INFERENCE(TensorScatterMulOp)
NN_TENSOR_SCATTER_INFERENCE(TensorScatterMaxOp)
NN_TENSOR_SCATTER_INFERENCE(TensorScatterMinOp)
#undef NN_TENSOR_SCATTER_INFERENCE

LogicalResult TensorScatterElementsOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                                        Adaptor rawAdaptor, SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<TensorScatterElementsOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX()), indices = tensorOf(adaptor.getIndices()),
                   updates = tensorOf(adaptor.getUpdates());
  if (failed(checkSameElementType(error, "x", x, "updates", updates)) ||
      failed(checkAxis(error, "axis", adaptor.getAxis(), x.getRank())) ||
      failed(checkRank(error, "indices", indices, x.getRank())))
    return failure();
  if (indices.getShape() != updates.getShape())
    return error("indices (", indices, ") and updates (", updates, ") must have one shape");
  types.push_back(x);
  return success();
}

LogicalResult TensorScatterElementsOp::verify() {
  if (!llvm::is_contained({"none", "add", "mul", "max", "min"}, getReduction()))
    return emitOpError() << "reduction must be none, add, mul, max or min, got \"" << getReduction() << "\"";
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                      SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<PadOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX());
  DenseI64ArrayAttr paddings = adaptor.getPaddingsAttr();
  if (static_cast<int64_t>(paddings.size()) != 2 * x.getRank())
    return error("paddings ", shapeString(paddings.asArrayRef()), " must hold [before, after] for each of the ",
                 x.getRank(), " dimensions of x");
  StringRef mode = adaptor.getMode();
  if (!llvm::is_contained({"constant", "reflect", "edge", "wrap"}, mode))
    return error("mode must be constant, reflect, edge or wrap, got \"", mode, "\"");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < x.getRank(); ++d) {
    int64_t extent = x.getDimSize(d) + paddings[2 * d] + paddings[2 * d + 1];
    if (extent < 0)
      return error("paddings ", shapeString(paddings.asArrayRef()), " remove more than dimension ", d, " holds");
    if (mode != "constant" && x.getDimSize(d) == 0 && extent > 0)
      return error(mode, " padding of the empty dimension ", d);
    shape.push_back(extent);
  }
  types.push_back(x.clone(shape));
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                         SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<Conv2DOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX()), w = tensorOf(adaptor.getW());
  if (failed(checkRank(error, "x", x, 4)) || failed(checkRank(error, "w", w, 4)) ||
      failed(checkSameElementType(error, "x", x, "w", w)) ||
      failed(checkPositive(error, "stride", adaptor.getStride(), 2)) ||
      failed(checkPositive(error, "dilation", adaptor.getDilation(), 2)) || failed(checkPads(error, adaptor.getPad())))
    return failure();
  int64_t group = adaptor.getGroup();
  if (group <= 0)
    return error("group must be positive, got ", group);
  int64_t channels = x.getDimSize(1), outChannels = w.getDimSize(0);
  if (channels % group != 0 || outChannels % group != 0)
    return error("group ", group, " does not divide the input channels ", channels, " and output channels ",
                 outChannels);
  if (w.getDimSize(1) * group != channels)
    return error("w has ", w.getDimSize(1), " input channels per group but x has ", channels, " channels in ", group,
                 " group(s)");
  ArrayRef<int64_t> stride = adaptor.getStride(), dilation = adaptor.getDilation(), pad = adaptor.getPad();
  SmallVector<int64_t> shape = {x.getDimSize(0), outChannels};
  for (int i = 0; i < 2; ++i) {
    auto out = windowOutput(error, adaptor.getPadMode(), x.getDimSize(2 + i), w.getDimSize(2 + i), stride[i],
                            dilation[i], pad[2 * i], pad[2 * i + 1], /*ceilMode=*/false);
    if (failed(out))
      return failure();
    shape.push_back(*out);
  }
  types.push_back(x.clone(shape));
  return success();
}

template <typename Adaptor>
static LogicalResult inferConvTranspose(const OpError &error, Adaptor adaptor, int spatial,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType x = tensorOf(adaptor.getX()), w = tensorOf(adaptor.getW());
  if (failed(checkRank(error, "x", x, 2 + spatial)) || failed(checkRank(error, "w", w, 2 + spatial)) ||
      failed(checkSameElementType(error, "x", x, "w", w)) ||
      failed(checkPositive(error, "stride", adaptor.getStride(), spatial)) ||
      failed(checkPositive(error, "dilation", adaptor.getDilation(), spatial)))
    return failure();
  ArrayRef<int64_t> stride = adaptor.getStride(), dilation = adaptor.getDilation(), pad = adaptor.getPad(),
                    outputPadding = adaptor.getOutputPadding();
  if (static_cast<int64_t>(pad.size()) != 2 * spatial || static_cast<int64_t>(outputPadding.size()) != spatial)
    return error("pad must have ", 2 * spatial, " entries and output_padding ", spatial);
  int64_t group = adaptor.getGroup(), channels = x.getDimSize(1);
  if (group <= 0 || channels % group != 0)
    return error("group ", group, " does not divide the input channels ", channels);
  if (w.getDimSize(0) != channels)
    return error("w has ", w.getDimSize(0), " input channels but x has ", channels);
  SmallVector<int64_t> shape = {x.getDimSize(0), w.getDimSize(1) * group};
  for (int i = 0; i < spatial; ++i) {
    int64_t out = (x.getDimSize(2 + i) - 1) * stride[i] - pad[2 * i] - pad[2 * i + 1] +
                  dilation[i] * (w.getDimSize(2 + i) - 1) + outputPadding[i] + 1;
    if (out <= 0)
      return error("spatial dimension ", i, " would have extent ", out);
    shape.push_back(out);
  }
  types.push_back(x.clone(shape));
  return success();
}

LogicalResult Conv2DTransposeOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                                  Adaptor rawAdaptor, SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<Conv2DTransposeOp>(context, location, adaptor)))
    return failure();
  return inferConvTranspose(NN_ERROR(), adaptor, 2, types);
}

LogicalResult Conv3DTransposeOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location,
                                                  Adaptor rawAdaptor, SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<Conv3DTransposeOp>(context, location, adaptor)))
    return failure();
  return inferConvTranspose(NN_ERROR(), adaptor, 3, types);
}

template <typename Adaptor>
static LogicalResult inferPool(const OpError &error, Adaptor adaptor, int spatial, SmallVectorImpl<Type> &types) {
  RankedTensorType x = tensorOf(adaptor.getX());
  if (failed(checkRank(error, "x", x, 2 + spatial)) ||
      failed(checkPositive(error, "kernel_size", adaptor.getKernelSize(), spatial)) ||
      failed(checkPositive(error, "strides", adaptor.getStrides(), spatial)) ||
      failed(checkPositive(error, "dilation", adaptor.getDilation(), spatial)))
    return failure();
  ArrayRef<int64_t> kernel = adaptor.getKernelSize(), strides = adaptor.getStrides(), pad = adaptor.getPad(),
                    dilation = adaptor.getDilation();
  if (static_cast<int64_t>(pad.size()) != 2 * spatial)
    return error("pad must have ", 2 * spatial, " entries, got ", pad.size());
  if (llvm::any_of(pad, [](int64_t p) { return p < 0; }))
    return error("pad entries must not be negative, got ", shapeString(pad));
  SmallVector<int64_t> shape = {x.getDimSize(0), x.getDimSize(1)};
  for (int i = 0; i < spatial; ++i) {
    auto out = windowOutput(error, adaptor.getPadMode(), x.getDimSize(2 + i), kernel[i], strides[i], dilation[i],
                            pad[2 * i], pad[2 * i + 1], adaptor.getCeilMode());
    if (failed(out))
      return failure();
    shape.push_back(*out);
  }
  types.push_back(x.clone(shape));
  return success();
}

#define DINFER_POOL_INFERENCE(OpT, spatial)                                                                          \
  LogicalResult OpT::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,   \
                                      SmallVectorImpl<Type> &types) {                                              \
    Adaptor adaptor = rawAdaptor;                                                                                  \
    if (failed(completeAttributes<OpT>(context, location, adaptor)))                                               \
      return failure();                                                                                            \
    return inferPool(NN_ERROR(), adaptor, spatial, types);                                                         \
  }
DINFER_POOL_INFERENCE(MaxPoolOp, 2)
DINFER_POOL_INFERENCE(AvgPoolOp, 2)
DINFER_POOL_INFERENCE(MaxPool3DOp, 3)
DINFER_POOL_INFERENCE(AvgPool3DOp, 3)
#undef DINFER_POOL_INFERENCE

#define GET_OP_CLASSES
#include "dialects/nn/NNOps.cpp.inc"

llvm::StringRef dinfer::nn::primitiveName(Operation *op) {
  if (auto primitive = llvm::dyn_cast<MindSporePrimitiveOpInterface>(op))
    return primitive.getPrimitiveName();
  return "";
}

llvm::StringMap<RegisteredOperationName> dinfer::nn::opsByPrimitive(MLIRContext *context) {
  context->getOrLoadDialect<NNDialect>();
  llvm::StringMap<RegisteredOperationName> ops;
  for (RegisteredOperationName name : context->getRegisteredOperations()) {
    auto *primitive = name.getInterface<MindSporePrimitiveOpInterface>();
    if (!primitive)
      continue;
    ops.try_emplace(primitive->getPrimitiveName(), name);
    for (llvm::StringLiteral alias : primitive->getPrimitiveAliases())
      ops.try_emplace(alias, name);
  }
  return ops;
}

std::optional<unsigned> dinfer::nn::fixedOperandCount(RegisteredOperationName name) {
  if (name.hasTrait<OpTrait::ZeroOperands>())
    return 0;
  if (name.hasTrait<OpTrait::OneOperand>())
    return 1;
  if (name.hasTrait<OpTrait::NOperands<2>::Impl>())
    return 2;
  if (name.hasTrait<OpTrait::NOperands<3>::Impl>())
    return 3;
  if (name.hasTrait<OpTrait::NOperands<4>::Impl>())
    return 4;
  if (name.hasTrait<OpTrait::NOperands<5>::Impl>())
    return 5;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Recurrent layers
//===----------------------------------------------------------------------===//

int64_t dinfer::nn::lstmWeightCount(int64_t inputSize, int64_t hiddenSize, int64_t numLayers, bool hasBias,
                                    bool bidirectional) {
  int64_t directions = bidirectional ? 2 : 1, gates = 4 * hiddenSize;
  int64_t count = 0;
  for (int64_t layer = 0; layer < numLayers; ++layer)
    count += gates * (layer == 0 ? inputSize : hiddenSize * directions) * directions;
  count += gates * hiddenSize * numLayers * directions;
  if (hasBias)
    count += gates * numLayers * directions;
  return count;
}

LogicalResult LSTMOp::inferReturnTypes(MLIRContext *context, std::optional<Location> location, Adaptor rawAdaptor,
                                       SmallVectorImpl<Type> &types) {
  Adaptor adaptor = rawAdaptor;
  if (failed(completeAttributes<LSTMOp>(context, location, adaptor)))
    return failure();
  OpError error = NN_ERROR();
  RankedTensorType x = tensorOf(adaptor.getX()), h = tensorOf(adaptor.getH()), c = tensorOf(adaptor.getC()),
                   w = tensorOf(adaptor.getW());
  if (failed(checkRank(error, "x", x, 3)) || failed(checkRank(error, "h", h, 3)) ||
      failed(checkRank(error, "c", c, 3)) || failed(checkRank(error, "w", w, 3)) ||
      failed(checkSameElementType(error, "x", x, "h", h)) ||
      failed(checkSameElementType(error, "x", x, "c", c)) || failed(checkSameElementType(error, "x", x, "w", w)))
    return failure();
  int64_t inputSize = adaptor.getInputSize(), hiddenSize = adaptor.getHiddenSize(), layers = adaptor.getNumLayers();
  if (inputSize <= 0 || hiddenSize <= 0 || layers <= 0)
    return error("input_size, hidden_size and num_layers must be positive, got ", inputSize, ", ", hiddenSize, ", ",
                 layers);
  if (x.getDimSize(2) != inputSize)
    return error("x has ", x.getDimSize(2), " features but input_size is ", inputSize);
  int64_t directions = adaptor.getBidirectional() ? 2 : 1, batch = x.getDimSize(1);
  SmallVector<int64_t> state = {layers * directions, batch, hiddenSize};
  if (h.getShape() != ArrayRef<int64_t>(state) || c.getShape() != ArrayRef<int64_t>(state))
    return error("h and c must be ", shapeString(state), " (layers * directions, batch, hidden_size), got ",
                 shapeString(h.getShape()), " and ", shapeString(c.getShape()));
  int64_t expected = lstmWeightCount(inputSize, hiddenSize, layers, adaptor.getHasBias(), adaptor.getBidirectional());
  if (w.getNumElements() != expected)
    return error("w holds ", w.getNumElements(), " values but the layers need ", expected);
  types.push_back(x.clone({x.getDimSize(0), batch, hiddenSize * directions}));
  types.push_back(h);
  types.push_back(h);
  return success();
}
