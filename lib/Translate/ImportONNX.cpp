//===- ImportONNX.cpp - ONNX models into the nn dialect -------------------===//

#include "dinfer/Translate/ImportONNX.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/ONNX.h"

#include "TranslateUtils.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace dinfer;
using llvm::StringRef;

namespace {

/// ONNX op types that only ever appear folded into shape arithmetic at import
/// (on static shapes): they have no converter of their own.
constexpr llvm::StringLiteral kFoldedOnlyOps[] = {"Shape"};


const onnx::AttributeProto *findAttr(const onnx::NodeProto &node, StringRef name) {
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

int64_t attrInt(const onnx::NodeProto &node, StringRef name, int64_t fallback) {
  const onnx::AttributeProto *attr = findAttr(node, name);
  return attr ? attr->i() : fallback;
}

float attrFloat(const onnx::NodeProto &node, StringRef name, float fallback) {
  const onnx::AttributeProto *attr = findAttr(node, name);
  return attr ? attr->f() : fallback;
}

std::string attrString(const onnx::NodeProto &node, StringRef name, StringRef fallback) {
  const onnx::AttributeProto *attr = findAttr(node, name);
  return attr ? attr->s() : fallback.str();
}

std::optional<SmallVector<int64_t>> attrInts(const onnx::NodeProto &node, StringRef name) {
  const onnx::AttributeProto *attr = findAttr(node, name);
  if (!attr)
    return std::nullopt;
  return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
}

class Importer {
public:
  Importer(const OnnxModel &model, MLIRContext *context, const OnnxImportOptions &options)
      : model_(model), context_(context), builder_(context), options_(options) {}

  OwningOpRef<ModuleOp> run();

private:
  using Converter = LogicalResult (Importer::*)(const onnx::NodeProto &, Location);

  //===--- values and constants ---------------------------------------===//

  FailureOr<Type> elementType(int32_t onnxType, Location loc, const Twine &what) {
    std::optional<DType> dtype = dtypeFromOnnx(onnxType);
    Type type = dtype ? toMLIRType(*dtype, builder_) : Type();
    if (!type)
      return emitError(loc) << what << " has ONNX element type " << onnxType << ", which dinfer does not support";
    return type;
  }

  FailureOr<RankedTensorType> inputType(const onnx::ValueInfoProto &info, Location loc) {
    if (!info.type().has_tensor_type())
      return emitError(loc) << "graph input '" << info.name() << "' is not a tensor";
    const auto &tensorType = info.type().tensor_type();
    auto element = elementType(tensorType.elem_type(), loc, "graph input '" + info.name() + "'");
    if (failed(element))
      return failure();
    SmallVector<int64_t> shape;
    auto given = options_.inputShapes.find(info.name());
    if (given != options_.inputShapes.end()) {
      shape.assign(given->second.begin(), given->second.end());
    } else {
      for (auto [i, dim] : llvm::enumerate(tensorType.shape().dim())) {
        if (!dim.has_dim_value() || dim.dim_value() < 0)
          return emitError(loc) << "graph input '" << info.name() << "' has a dynamic dimension " << i
                                << (dim.has_dim_param() ? " ('" + dim.dim_param() + "')" : std::string())
                                << "; give its shape (--input-shape " << info.name() << "=...)";
        shape.push_back(dim.dim_value());
      }
    }
    return RankedTensorType::get(shape, *element);
  }

  FailureOr<Value> lookup(const onnx::NodeProto &node, int index, Location loc) {
    if (index >= node.input_size() || node.input(index).empty())
      return emitError(loc) << node.op_type() << " needs input " << index;
    auto it = values_.find(node.input(index));
    if (it == values_.end())
      return emitError(loc) << "input '" << node.input(index) << "' is not defined before its use";
    return it->second;
  }

  Value optional(const onnx::NodeProto &node, int index) {
    if (index >= node.input_size() || node.input(index).empty())
      return {};
    auto it = values_.find(node.input(index));
    return it == values_.end() ? Value() : it->second;
  }

  bool hasInput(const onnx::NodeProto &node, int index) {
    return index < node.input_size() && !node.input(index).empty();
  }

  /// An integer list held by a constant input (shape operands).
  /// Input `index` of `node` as a constant: an initializer, a Constant
  /// node, a fold, or a value given with --input-value.
  FailureOr<const onnx::TensorProto *> constantTensor(const onnx::NodeProto &node, int index, Location loc,
                                                      StringRef what) {
    if (index >= node.input_size() || node.input(index).empty())
      return emitError(loc) << node.op_type() << " needs its " << what;
    auto it = constants_.find(node.input(index));
    if (it == constants_.end()) {
      auto given = options_.inputValues.find(node.input(index));
      if (given != options_.inputValues.end()) {
        auto tensor = std::make_unique<onnx::TensorProto>();
        if (!tensor->ParseFromString(given->second))
          return emitError(loc) << "the value given for input '" << node.input(index) << "' is not an onnx.TensorProto";
        it = constants_.insert({node.input(index), tensor.get()}).first;
        ownedTensors_.push_back(std::move(tensor));
      }
    }
    if (it == constants_.end())
      return emitError(loc) << node.op_type() << "'s " << what << " ('" << node.input(index)
                            << "') must be a constant or an initializer";
    return it->second;
  }

  FailureOr<SmallVector<int64_t>> constantInts(const onnx::NodeProto &node, int index, Location loc, StringRef what) {
    auto constant = constantTensor(node, index, loc, what);
    if (failed(constant))
      return failure();
    const onnx::TensorProto &tensor = **constant;
    auto bytes = model_.tensorBytes(tensor);
    if (!bytes)
      return emitError(loc) << llvm::toString(bytes.takeError());
    SmallVector<int64_t> values;
    if (tensor.data_type() == onnx::TensorProto::INT64) {
      for (size_t i = 0; i + 8 <= bytes->size(); i += 8) {
        int64_t v;
        std::memcpy(&v, bytes->data() + i, 8);
        values.push_back(v);
      }
    } else if (tensor.data_type() == onnx::TensorProto::INT32) {
      for (size_t i = 0; i + 4 <= bytes->size(); i += 4) {
        int32_t v;
        std::memcpy(&v, bytes->data() + i, 4);
        values.push_back(v);
      }
    } else {
      return emitError(loc) << node.op_type() << "'s " << what << " must hold integers";
    }
    return values;
  }

  /// The integers of a constant int32/int64 tensor, and its dims.
  struct KnownInts {
    SmallVector<int64_t> values, dims;
  };
  std::optional<KnownInts> knownInts(const std::string &name) {
    auto it = constants_.find(name);
    if (it == constants_.end())
      return std::nullopt;
    const onnx::TensorProto &tensor = *it->second;
    int32_t type = tensor.data_type();
    if (type != onnx::TensorProto::INT64 && type != onnx::TensorProto::INT32)
      return std::nullopt;
    auto bytes = model_.tensorBytes(tensor);
    if (!bytes) {
      llvm::consumeError(bytes.takeError());
      return std::nullopt;
    }
    KnownInts known;
    known.dims.assign(tensor.dims().begin(), tensor.dims().end());
    size_t width = type == onnx::TensorProto::INT64 ? 8 : 4;
    for (size_t i = 0; i + width <= bytes->size(); i += width) {
      if (width == 8) {
        int64_t v;
        std::memcpy(&v, bytes->data() + i, 8);
        known.values.push_back(v);
      } else {
        int32_t v;
        std::memcpy(&v, bytes->data() + i, 4);
        known.values.push_back(v);
      }
    }
    return known;
  }

  /// Shape arithmetic on static shapes (Shape, then Gather, Add, Div,
  /// Unsqueeze, Concat... on its integers) folds into int64 constants, the
  /// way torch's exporter writes the sizes of Slice and Reshape. Returns
  /// false when the node is not such arithmetic and must be converted.
  FailureOr<bool> foldShapeArithmetic(const onnx::NodeProto &node, Location loc) {
    StringRef op = node.op_type();
    KnownInts result;
    if (op == "Shape") {
      auto x = lookup(node, 0, loc);
      if (failed(x))
        return failure();
      auto type = typeOf(*x);
      int64_t rank = type.getRank();
      int64_t start = attrInt(node, "start", 0), end = attrInt(node, "end", rank);
      start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
      end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
      for (int64_t d = start; d < end; ++d)
        result.values.push_back(type.getDimSize(d));
      result.dims = {static_cast<int64_t>(result.values.size())};
    } else {
      static const llvm::StringSet<> foldable = {"Gather",    "Add",     "Sub",    "Mul",  "Div",
                                                 "Unsqueeze", "Squeeze", "Concat", "Cast", "Identity"};
      if (!foldable.contains(op) || node.input_size() == 0)
        return false;
      SmallVector<KnownInts> inputs;
      for (const std::string &name : node.input()) {
        if (name.empty())
          continue;
        auto known = knownInts(name);
        // Only vectors and scalars: shape arithmetic never needs more.
        if (!known || known->dims.size() > 1)
          return false;
        inputs.push_back(std::move(*known));
      }
      if (op == "Cast") {
        int64_t to = attrInt(node, "to", 0);
        if (to != onnx::TensorProto::INT64 && to != onnx::TensorProto::INT32)
          return false;
        result = inputs[0];
      } else if (op == "Identity") {
        result = inputs[0];
      } else if (op == "Gather") {
        if (inputs.size() != 2 || inputs[0].dims.size() != 1 || attrInt(node, "axis", 0) != 0)
          return false;
        int64_t size = inputs[0].values.size();
        for (int64_t index : inputs[1].values) {
          if (index < -size || index >= size)
            return emitError(loc) << "Gather index " << index << " is out of range for a shape of rank " << size;
          result.values.push_back(inputs[0].values[index < 0 ? index + size : index]);
        }
        result.dims = inputs[1].dims;
      } else if (op == "Unsqueeze" || op == "Squeeze") {
        // A scalar becomes [1] and back; nothing else is shape arithmetic.
        bool scalar = inputs[0].dims.empty();
        if (op == "Unsqueeze" ? !scalar : (scalar || inputs[0].values.size() != 1))
          return false;
        result.values = inputs[0].values;
        if (op == "Unsqueeze")
          result.dims = {1};
      } else if (op == "Concat") {
        for (const KnownInts &in : inputs) {
          if (in.dims.size() != 1)
            return false;
          result.values.append(in.values);
        }
        result.dims = {static_cast<int64_t>(result.values.size())};
      } else {
        if (inputs.size() != 2)
          return false;
        const KnownInts &a = inputs[0], &b = inputs[1];
        size_t n = std::max(a.values.size(), b.values.size());
        if ((a.values.size() != n && a.values.size() != 1) || (b.values.size() != n && b.values.size() != 1))
          return false;
        result.dims = a.dims.size() >= b.dims.size() ? a.dims : b.dims;
        for (size_t i = 0; i < n; ++i) {
          int64_t x = a.values[a.values.size() == 1 ? 0 : i], y = b.values[b.values.size() == 1 ? 0 : i];
          if (op == "Div" && y == 0)
            return emitError(loc) << "shape arithmetic divides by zero";
          result.values.push_back(op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
        }
      }
    }
    auto owned = std::make_unique<onnx::TensorProto>();
    owned->set_name(node.output(0));
    owned->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : result.dims)
      owned->add_dims(d);
    for (int64_t v : result.values)
      owned->add_int64_data(v);
    constants_[node.output(0)] = owned.get();
    if (failed(define(node, 0, materialize(*owned, loc))))
      return failure();
    ownedTensors_.push_back(std::move(owned));
    return true;
  }

  /// The value of a tensor as an arith.constant: dense when small, a
  /// resource blob otherwise.
  FailureOr<Value> materialize(const onnx::TensorProto &tensor, Location loc) {
    auto element = elementType(tensor.data_type(), loc, "constant '" + tensor.name() + "'");
    if (failed(element))
      return failure();
    auto bytes = model_.tensorBytes(tensor);
    if (!bytes)
      return emitError(loc) << llvm::toString(bytes.takeError());
    auto type = RankedTensorType::get(SmallVector<int64_t>(tensor.dims().begin(), tensor.dims().end()), *element);
    ElementsAttr value;
    if (element->isInteger(1)) {
      SmallVector<bool> bits(bytes->begin(), bytes->end());
      value = DenseElementsAttr::get(type, bits);
    } else if (type.getNumElements() <= options_.maxInlineConstantElements) {
      value = DenseElementsAttr::getFromRawBuffer(type, *bytes);
    } else {
      std::string name = tensor.name().empty() ? "onnx_constant" : tensor.name();
      value = DenseResourceElementsAttr::get(type, name,
                                             HeapAsmResourceBlob::allocateAndCopyWithAlign(*bytes, alignof(uint64_t)));
    }
    return arith::ConstantOp::create(builder_, loc, llvm::cast<TypedAttr>(value)).getResult();
  }

  Value scalarConstant(float value, Type element, Location loc) {
    auto type = RankedTensorType::get({}, element);
    Attribute attr = llvm::isa<FloatType>(element) ? Attribute(FloatAttr::get(element, value))
                                                   : Attribute(IntegerAttr::get(element, static_cast<int64_t>(value)));
    return arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(type, attr)).getResult();
  }

  template <typename OpT>
  FailureOr<Operation *> make(Location loc, ValueRange operands, ArrayRef<NamedAttribute> attributes = {}) {
    return createInferred<OpT>(builder_, loc, operands, attributes);
  }

  template <typename OpT>
  FailureOr<Value> make1(Location loc, ValueRange operands, ArrayRef<NamedAttribute> attributes = {}) {
    auto op = make<OpT>(loc, operands, attributes);
    if (failed(op))
      return failure();
    return (*op)->getResult(0);
  }

  NamedAttribute named(StringRef name, Attribute value) { return builder_.getNamedAttr(name, value); }
  NamedAttribute i64(StringRef name, int64_t value) { return named(name, builder_.getI64IntegerAttr(value)); }
  NamedAttribute i64s(StringRef name, ArrayRef<int64_t> values) {
    return named(name, builder_.getDenseI64ArrayAttr(values));
  }

  LogicalResult define(const onnx::NodeProto &node, int index, FailureOr<Value> value) {
    if (failed(value))
      return failure();
    if (index < node.output_size() && !node.output(index).empty())
      values_[node.output(index)] = *value;
    return success();
  }

  LogicalResult onlyOutputs(const onnx::NodeProto &node, int count, Location loc) {
    for (int i = count; i < node.output_size(); ++i)
      if (!node.output(i).empty())
        return emitError(loc) << node.op_type() << " output " << i << " ('" << node.output(i)
                              << "') is not supported (only the first " << count << ")";
    return success();
  }

  static RankedTensorType typeOf(Value value) { return llvm::cast<RankedTensorType>(value.getType()); }

  //===--- converters --------------------------------------------------===//

  template <typename OpT>
  LogicalResult unary(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    return define(node, 0, make1<OpT>(loc, *x));
  }

  template <typename OpT>
  LogicalResult binary(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), y = lookup(node, 1, loc);
    if (failed(x) || failed(y))
      return failure();
    Value rhs = *y;
    // ONNX Pow may raise to an exponent of another type.
    if (typeOf(*x).getElementType() != typeOf(rhs).getElementType() && std::is_same_v<OpT, nn::PowOp>) {
      auto cast = make1<nn::CastOp>(loc, rhs, {named("dtype", TypeAttr::get(typeOf(*x).getElementType()))});
      if (failed(cast))
        return failure();
      rhs = *cast;
    }
    return define(node, 0, make1<OpT>(loc, {*x, rhs}));
  }

  LogicalResult convertAbs(const onnx::NodeProto &node, Location loc) {
    // |x| = relu(x) + relu(-x): no abs op in the nn dialect.
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto pos = make1<nn::ReLUOp>(loc, *x);
    auto neg = make1<nn::NegOp>(loc, *x);
    if (failed(pos) || failed(neg))
      return failure();
    auto negPos = make1<nn::ReLUOp>(loc, *neg);
    if (failed(negPos))
      return failure();
    return define(node, 0, make1<nn::AddOp>(loc, {*pos, *negPos}));
  }

  LogicalResult convertIdentity(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    return define(node, 0, *x);
  }

  LogicalResult convertConstant(const onnx::NodeProto &node, Location loc) {
    const onnx::AttributeProto *value = findAttr(node, "value");
    if (value && value->has_t()) {
      constants_[node.output(0)] = &value->t();
      return define(node, 0, materialize(value->t(), loc));
    }
    // value_float(s) / value_int(s): build a tensor proto of our own.
    auto owned = std::make_unique<onnx::TensorProto>();
    owned->set_name(node.output(0));
    if (const onnx::AttributeProto *f = findAttr(node, "value_float")) {
      owned->set_data_type(onnx::TensorProto::FLOAT);
      owned->add_float_data(f->f());
    } else if (const onnx::AttributeProto *fs = findAttr(node, "value_floats")) {
      owned->set_data_type(onnx::TensorProto::FLOAT);
      owned->add_dims(fs->floats_size());
      for (float v : fs->floats())
        owned->add_float_data(v);
    } else if (const onnx::AttributeProto *i = findAttr(node, "value_int")) {
      owned->set_data_type(onnx::TensorProto::INT64);
      owned->add_int64_data(i->i());
    } else if (const onnx::AttributeProto *is = findAttr(node, "value_ints")) {
      owned->set_data_type(onnx::TensorProto::INT64);
      owned->add_dims(is->ints_size());
      for (int64_t v : is->ints())
        owned->add_int64_data(v);
    } else {
      return emitError(loc) << "Constant without a supported value attribute "
                               "(value, value_float(s), value_int(s))";
    }
    constants_[node.output(0)] = owned.get();
    FailureOr<Value> result = materialize(*owned, loc);
    ownedTensors_.push_back(std::move(owned));
    return define(node, 0, result);
  }

  LogicalResult convertCast(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto element = elementType(static_cast<int32_t>(attrInt(node, "to", 0)), loc, "Cast's target");
    if (failed(element))
      return failure();
    return define(node, 0, make1<nn::CastOp>(loc, *x, {named("dtype", TypeAttr::get(*element))}));
  }

  //===--- activations and logic lowered into nn ops (exact) ----------===//

  /// cond ? a : b, with `cond` computed from x.
  FailureOr<Value> select(Location loc, FailureOr<Value> cond, FailureOr<Value> a, FailureOr<Value> b) {
    if (failed(cond) || failed(a) || failed(b))
      return failure();
    return make1<nn::SelectOp>(loc, {*cond, *a, *b});
  }
  Value scalarLike(Value x, double value, Location loc) {
    return scalarConstant(static_cast<float>(value), typeOf(x).getElementType(), loc);
  }

  /// Clip: bounds as attributes (before opset 11) or optional inputs.
  LogicalResult convertClip(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    Value lo, hi;
    if (opset_ < 11) {
      if (findAttr(node, "min"))
        lo = scalarLike(*x, attrFloat(node, "min", 0), loc);
      if (findAttr(node, "max"))
        hi = scalarLike(*x, attrFloat(node, "max", 0), loc);
    } else {
      lo = optional(node, 1);
      hi = optional(node, 2);
    }
    FailureOr<Value> y = *x;
    if (lo)
      y = make1<nn::MaximumOp>(loc, {*y, lo});
    if (succeeded(y) && hi)
      y = make1<nn::MinimumOp>(loc, {*y, hi});
    return define(node, 0, y);
  }

  /// HardSigmoid: clip(alpha x + beta, 0, 1).
  LogicalResult convertHardSigmoid(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto scaled = make1<nn::MulOp>(loc, {*x, scalarLike(*x, attrFloat(node, "alpha", 0.2f), loc)});
    if (failed(scaled))
      return failure();
    auto shifted = make1<nn::AddOp>(loc, {*scaled, scalarLike(*x, attrFloat(node, "beta", 0.5f), loc)});
    if (failed(shifted))
      return failure();
    auto low = make1<nn::MaximumOp>(loc, {*shifted, scalarLike(*x, 0, loc)});
    if (failed(low))
      return failure();
    return define(node, 0, make1<nn::MinimumOp>(loc, {*low, scalarLike(*x, 1, loc)}));
  }

  /// LeakyRelu (alpha) and PRelu (a slope input): x < 0 ? x * slope : x.
  LogicalResult convertLeakyRelu(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    FailureOr<Value> slope = node.op_type() == "PRelu" ? lookup(node, 1, loc)
                                                       : FailureOr<Value>(scalarLike(*x, attrFloat(node, "alpha",
                                                                                                   0.01f), loc));
    if (failed(slope))
      return failure();
    return define(node, 0,
                  select(loc, make1<nn::LessOp>(loc, {*x, scalarLike(*x, 0, loc)}),
                         make1<nn::MulOp>(loc, {*x, *slope}), *x));
  }

  /// alpha (exp(x) - 1), the negative side of Elu and Selu.
  FailureOr<Value> expMinusOne(Value x, float alpha, Location loc) {
    auto e = make1<nn::ExpOp>(loc, x);
    if (failed(e))
      return failure();
    auto m = make1<nn::SubOp>(loc, {*e, scalarLike(x, 1, loc)});
    if (failed(m))
      return failure();
    return make1<nn::MulOp>(loc, {*m, scalarLike(x, alpha, loc)});
  }

  /// Elu: x > 0 ? x : alpha (exp(x) - 1); Selu: gamma times the same with its alpha.
  LogicalResult convertElu(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    bool selu = node.op_type() == "Selu";
    float alpha = attrFloat(node, "alpha", selu ? 1.67326319217681884765625f : 1.0f);
    auto y = select(loc, make1<nn::GreaterOp>(loc, {*x, scalarLike(*x, 0, loc)}), *x, expMinusOne(*x, alpha, loc));
    if (!selu || failed(y))
      return define(node, 0, y);
    return define(node, 0,
                  make1<nn::MulOp>(loc, {*y, scalarLike(*x, attrFloat(node, "gamma", 1.05070102214813232421875f),
                                                        loc)}));
  }

  /// Celu: max(0, x) + min(0, alpha (exp(x / alpha) - 1)).
  LogicalResult convertCelu(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    float alpha = attrFloat(node, "alpha", 1.0f);
    auto scaled = make1<nn::DivOp>(loc, {*x, scalarLike(*x, alpha, loc)});
    if (failed(scaled))
      return failure();
    auto negative = expMinusOne(*scaled, alpha, loc);
    if (failed(negative))
      return failure();
    auto low = make1<nn::MinimumOp>(loc, {*negative, scalarLike(*x, 0, loc)});
    auto high = make1<nn::MaximumOp>(loc, {*x, scalarLike(*x, 0, loc)});
    if (failed(low) || failed(high))
      return failure();
    return define(node, 0, make1<nn::AddOp>(loc, {*high, *low}));
  }

  /// ThresholdedRelu: x > alpha ? x : 0.
  LogicalResult convertThresholdedRelu(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    return define(node, 0,
                  select(loc, make1<nn::GreaterOp>(loc, {*x, scalarLike(*x, attrFloat(node, "alpha", 1.0f), loc)}),
                         *x, scalarLike(*x, 0, loc)));
  }

  /// IsInf with detect_negative / detect_positive.
  LogicalResult convertIsInf(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    bool negative = attrInt(node, "detect_negative", 1) != 0, positive = attrInt(node, "detect_positive", 1) != 0;
    auto inf = make1<nn::IsInfOp>(loc, *x);
    if (failed(inf) || (negative && positive))
      return define(node, 0, inf);
    if (!negative && !positive)
      return define(node, 0, make1<nn::LogicalAndOp>(loc, {*inf, *make1<nn::LogicalNotOp>(loc, *inf)}));
    Value zero = scalarLike(*x, 0, loc);
    auto side = positive ? make1<nn::GreaterOp>(loc, {*x, zero}) : make1<nn::LessOp>(loc, {*x, zero});
    if (failed(side))
      return failure();
    return define(node, 0, make1<nn::LogicalAndOp>(loc, {*inf, *side}));
  }

  /// Xor of booleans: x != y.
  LogicalResult convertXor(const onnx::NodeProto &node, Location loc) { return binary<nn::NotEqualOp>(node, loc); }

  /// Mod: fmod = 0 takes the divisor's sign (FloorMod), fmod = 1 the dividend's (Mod).
  LogicalResult convertMod(const onnx::NodeProto &node, Location loc) {
    return attrInt(node, "fmod", 0) ? binary<nn::ModOp>(node, loc) : binary<nn::FloorModOp>(node, loc);
  }

  /// Min, Max, Sum and Mean over any number of inputs, with broadcasting.
  template <typename OpT>
  LogicalResult convertVariadic(const onnx::NodeProto &node, Location loc) {
    auto first = lookup(node, 0, loc);
    if (failed(first))
      return failure();
    FailureOr<Value> y = *first;
    for (int i = 1; i < node.input_size() && succeeded(y); ++i) {
      auto next = lookup(node, i, loc);
      if (failed(next))
        return failure();
      y = make1<OpT>(loc, {*y, *next});
    }
    if (node.op_type() == "Mean" && succeeded(y) && node.input_size() > 1)
      y = make1<nn::DivOp>(loc, {*y, scalarLike(*y, node.input_size(), loc)});
    return define(node, 0, y);
  }

  //===--- shapes and constants -----------------------------------------===//

  /// Expand: numpy broadcasting both ways, to a constant shape.
  LogicalResult convertExpand(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    auto shape = constantInts(node, 1, loc, "shape");
    if (failed(x) || failed(shape))
      return failure();
    ArrayRef<int64_t> from = typeOf(*x).getShape();
    size_t rank = std::max(from.size(), shape->size());
    SmallVector<int64_t> target(rank);
    for (size_t i = 0; i < rank; ++i) {
      int64_t a = i < rank - from.size() ? 1 : from[i - (rank - from.size())];
      int64_t b = i < rank - shape->size() ? 1 : (*shape)[i - (rank - shape->size())];
      if (a != b && a != 1 && b != 1)
        return emitError(loc) << "Expand cannot broadcast dimension " << i << " of size " << a << " to " << b;
      target[i] = a == 1 ? b : a;
    }
    return define(node, 0, make1<nn::BroadcastToOp>(loc, *x, {i64s("shape", target)}));
  }

  /// Tile: repeats from a constant input.
  LogicalResult convertTile(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    auto repeats = constantInts(node, 1, loc, "repeats");
    if (failed(x) || failed(repeats))
      return failure();
    return define(node, 0, make1<nn::TileOp>(loc, *x, {i64s("multiples", *repeats)}));
  }

  /// A constant built here (ConstantOfShape, Range): materialized, and kept
  /// where shape arithmetic and other folds look for constants.
  LogicalResult defineConstant(const onnx::NodeProto &node, std::unique_ptr<onnx::TensorProto> tensor, Location loc) {
    constants_[node.output(0)] = tensor.get();
    FailureOr<Value> value = materialize(*tensor, loc);
    ownedTensors_.push_back(std::move(tensor));
    return define(node, 0, value);
  }

  /// ConstantOfShape: `value` (one element, float 0 by default) repeated.
  LogicalResult convertConstantOfShape(const onnx::NodeProto &node, Location loc) {
    auto shape = constantInts(node, 0, loc, "shape");
    if (failed(shape))
      return failure();
    auto tensor = std::make_unique<onnx::TensorProto>();
    tensor->set_name(node.output(0));
    std::string element(4, '\0');
    tensor->set_data_type(onnx::TensorProto::FLOAT);
    if (const onnx::AttributeProto *value = findAttr(node, "value"); value && value->has_t()) {
      auto bytes = model_.tensorBytes(value->t());
      if (!bytes)
        return emitError(loc) << llvm::toString(bytes.takeError());
      std::optional<DType> dtype = dtypeFromOnnx(value->t().data_type());
      if (!dtype || bytes->size() * 8 != dtypeBits(*dtype))
        return emitError(loc) << "ConstantOfShape's value must be one element of a numeric type";
      tensor->set_data_type(value->t().data_type());
      element.assign(bytes->begin(), bytes->end());
    }
    uint64_t count = 1;
    for (int64_t d : *shape) {
      if (d < 0 || __builtin_mul_overflow(count, static_cast<uint64_t>(d), &count) || count > (uint64_t(1) << 31))
        return emitError(loc) << "ConstantOfShape's shape is negative or too large";
      tensor->add_dims(d);
    }
    std::string raw;
    raw.reserve(count * element.size());
    for (uint64_t i = 0; i < count; ++i)
      raw += element;
    tensor->set_raw_data(std::move(raw));
    return defineConstant(node, std::move(tensor), loc);
  }

  /// A constant scalar input as a double (Range's start, limit, delta).
  FailureOr<double> constantScalar(const onnx::NodeProto &node, int index, Location loc, StringRef what) {
    auto constant = constantTensor(node, index, loc, what);
    if (failed(constant))
      return failure();
    auto bytes = model_.tensorBytes(**constant);
    if (!bytes)
      return emitError(loc) << llvm::toString(bytes.takeError());
    const char *p = bytes->data();
    switch ((*constant)->data_type()) {
    case onnx::TensorProto::FLOAT: if (bytes->size() == 4) { float v; std::memcpy(&v, p, 4); return double(v); } break;
    case onnx::TensorProto::DOUBLE: if (bytes->size() == 8) { double v; std::memcpy(&v, p, 8); return v; } break;
    case onnx::TensorProto::INT32: if (bytes->size() == 4) { int32_t v; std::memcpy(&v, p, 4); return double(v); } break;
    case onnx::TensorProto::INT64: if (bytes->size() == 8) { int64_t v; std::memcpy(&v, p, 8); return double(v); } break;
    default: break;
    }
    return emitError(loc) << node.op_type() << "'s " << what << " must be one float or integer";
  }

  /// Range: folded into a constant (start, limit and delta are constants).
  LogicalResult convertRange(const onnx::NodeProto &node, Location loc) {
    FailureOr<double> start = constantScalar(node, 0, loc, "start"), limit = failure(), delta = failure();
    if (failed(start) || failed(limit = constantScalar(node, 1, loc, "limit")) ||
        failed(delta = constantScalar(node, 2, loc, "delta")))
      return failure();
    if (*delta == 0)
      return emitError(loc) << "Range's delta is 0";
    double steps = std::ceil((*limit - *start) / *delta);
    if (!(steps < double(uint64_t(1) << 31)))
      return emitError(loc) << "Range has too many elements";
    int64_t count = std::max<int64_t>(static_cast<int64_t>(steps), 0);
    int32_t type = (*constantTensor(node, 0, loc, "start"))->data_type();
    auto tensor = std::make_unique<onnx::TensorProto>();
    tensor->set_name(node.output(0));
    tensor->set_data_type(type);
    tensor->add_dims(count);
    std::string raw;
    for (int64_t i = 0; i < count; ++i) {
      double v = *start + static_cast<double>(i) * *delta;
      char bytes[8];
      size_t size = 8;
      if (type == onnx::TensorProto::FLOAT) {
        float f = static_cast<float>(*start) + static_cast<float>(i) * static_cast<float>(*delta);
        std::memcpy(bytes, &f, size = 4);
      } else if (type == onnx::TensorProto::DOUBLE) {
        std::memcpy(bytes, &v, 8);
      } else if (type == onnx::TensorProto::INT32) {
        int32_t n = static_cast<int32_t>(v);
        std::memcpy(bytes, &n, size = 4);
      } else {
        int64_t n = static_cast<int64_t>(v);
        std::memcpy(bytes, &n, 8);
      }
      raw.append(bytes, size);
    }
    tensor->set_raw_data(std::move(raw));
    return defineConstant(node, std::move(tensor), loc);
  }

  /// Dropout in inference is the identity; its mask is refused when read,
  /// and so is training mode unless it is a constant false.
  LogicalResult convertDropout(const onnx::NodeProto &node, Location loc) {
    if (failed(onlyOutputs(node, 1, loc)))
      return failure();
    if (node.input_size() > 2 && !node.input(2).empty()) {
      auto it = constants_.find(node.input(2));
      bool off = false;
      if (it != constants_.end() && it->second->data_type() == onnx::TensorProto::BOOL) {
        auto bytes = model_.tensorBytes(*it->second);
        if (bytes)
          off = llvm::all_of(*bytes, [](char c) { return c == 0; });
        else
          llvm::consumeError(bytes.takeError());
      }
      if (!off)
        return emitError(loc) << "Dropout in training mode (input 'training_mode' not a constant false) is not "
                                 "supported: inference drops nothing";
    }
    return define(node, 0, lookup(node, 0, loc));
  }

  LogicalResult convertWhere(const onnx::NodeProto &node, Location loc) {
    auto c = lookup(node, 0, loc), x = lookup(node, 1, loc), y = lookup(node, 2, loc);
    if (failed(c) || failed(x) || failed(y))
      return failure();
    return define(node, 0, make1<nn::SelectOp>(loc, {*c, *x, *y}));
  }

  /// numpy matmul: 1-D operands gain a dimension that is dropped afterwards.
  LogicalResult convertMatMul(const onnx::NodeProto &node, Location loc) {
    auto a = lookup(node, 0, loc), b = lookup(node, 1, loc);
    if (failed(a) || failed(b))
      return failure();
    Value x = *a, y = *b;
    bool vecA = typeOf(x).getRank() == 1, vecB = typeOf(y).getRank() == 1;
    if (vecA) {
      auto e = make1<nn::ExpandDimsOp>(loc, x, {i64("axis", 0)});
      if (failed(e))
        return failure();
      x = *e;
    }
    if (vecB) {
      auto e = make1<nn::ExpandDimsOp>(loc, y, {i64("axis", 1)});
      if (failed(e))
        return failure();
      y = *e;
    }
    FailureOr<Value> product = typeOf(x).getRank() == 2 && typeOf(y).getRank() == 2
                                   ? make1<nn::MatMulOp>(loc, {x, y})
                                   : make1<nn::BatchMatMulOp>(loc, {x, y});
    if (failed(product))
      return failure();
    Value result = *product;
    int64_t rank = typeOf(result).getRank();
    SmallVector<int64_t> squeeze;
    if (vecA)
      squeeze.push_back(rank - 2);
    if (vecB)
      squeeze.push_back(rank - 1);
    if (!squeeze.empty()) {
      auto s = make1<nn::SqueezeOp>(loc, result, {i64s("axis", squeeze)});
      if (failed(s))
        return failure();
      result = *s;
    }
    return define(node, 0, result);
  }

  LogicalResult convertGemm(const onnx::NodeProto &node, Location loc) {
    auto a = lookup(node, 0, loc), b = lookup(node, 1, loc);
    if (failed(a) || failed(b))
      return failure();
    auto product = make1<nn::MatMulOp>(loc, {*a, *b},
                                       {named("transpose_a", builder_.getBoolAttr(attrInt(node, "transA", 0))),
                                        named("transpose_b", builder_.getBoolAttr(attrInt(node, "transB", 0)))});
    if (failed(product))
      return failure();
    Value result = *product;
    Type element = typeOf(result).getElementType();
    float alpha = attrFloat(node, "alpha", 1.0f), beta = attrFloat(node, "beta", 1.0f);
    if (alpha != 1.0f) {
      auto scaled = make1<nn::MulOp>(loc, {result, scalarConstant(alpha, element, loc)});
      if (failed(scaled))
        return failure();
      result = *scaled;
    }
    if (Value c = optional(node, 2)) {
      if (beta != 1.0f) {
        auto scaled = make1<nn::MulOp>(loc, {c, scalarConstant(beta, element, loc)});
        if (failed(scaled))
          return failure();
        c = *scaled;
      }
      auto sum = make1<nn::AddOp>(loc, {result, c});
      if (failed(sum))
        return failure();
      result = *sum;
    }
    return define(node, 0, result);
  }

  /// Before opset 13, softmax normalises over all dimensions from `axis` on.
  template <typename OpT>
  LogicalResult convertSoftmax(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    RankedTensorType type = typeOf(*x);
    int64_t rank = type.getRank();
    if (opset_ >= 13)
      return define(node, 0, make1<OpT>(loc, *x, {i64("axis", attrInt(node, "axis", -1))}));
    int64_t axis = attrInt(node, "axis", 1);
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis > rank)
      return emitError(loc) << node.op_type() << " axis " << attrInt(node, "axis", 1) << " is out of range";
    if (axis == rank - 1)
      return define(node, 0, make1<OpT>(loc, *x, {i64("axis", axis)}));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d)
      (d < axis ? outer : inner) *= type.getDimSize(d);
    auto flat = make1<nn::ReshapeOp>(loc, *x, {i64s("shape", {outer, inner})});
    if (failed(flat))
      return failure();
    auto normalized = make1<OpT>(loc, *flat, {i64("axis", 1)});
    if (failed(normalized))
      return failure();
    return define(node, 0, make1<nn::ReshapeOp>(loc, *normalized, {i64s("shape", type.getShape())}));
  }

  LogicalResult convertLayerNorm(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), scale = lookup(node, 1, loc);
    if (failed(x) || failed(scale))
      return failure();
    Value bias = optional(node, 2);
    if (!bias) {
      RankedTensorType scaleType = typeOf(*scale);
      bias = arith::ConstantOp::create(
                 builder_, loc, DenseElementsAttr::get(scaleType, builder_.getZeroAttr(scaleType.getElementType())))
                 .getResult();
    }
    int64_t axis = attrInt(node, "axis", -1);
    float epsilon = attrFloat(node, "epsilon", 1e-5f);
    if (failed(define(node, 0,
                      make1<nn::LayerNormOp>(loc, {*x, *scale, bias},
                                             {i64("begin_norm_axis", axis), i64("begin_params_axis", axis),
                                              named("epsilon", builder_.getF32FloatAttr(epsilon))}))))
      return failure();
    bool wantsMean = node.output_size() > 1 && !node.output(1).empty();
    bool wantsInvStdDev = node.output_size() > 2 && !node.output(2).empty();
    if (!wantsMean && !wantsInvStdDev)
      return success();
    // The training outputs, spelled with nn ops: Mean and 1 / sqrt(Var + eps)
    // over the normalised dimensions, kept as size 1.
    RankedTensorType type = typeOf(*x);
    int64_t begin = axis < 0 ? axis + type.getRank() : axis;
    SmallVector<int64_t> axes;
    for (int64_t d = begin; d < type.getRank(); ++d)
      axes.push_back(d);
    SmallVector<NamedAttribute> reduce = {i64s("axis", axes), named("keep_dims", builder_.getBoolAttr(true))};
    auto mean = make1<nn::ReduceMeanOp>(loc, *x, reduce);
    if (failed(mean) || failed(define(node, 1, mean)))
      return failure();
    if (!wantsInvStdDev)
      return success();
    auto centered = make1<nn::SubOp>(loc, {*x, *mean});
    if (failed(centered))
      return failure();
    auto squared = make1<nn::MulOp>(loc, {*centered, *centered});
    if (failed(squared))
      return failure();
    auto variance = make1<nn::ReduceMeanOp>(loc, *squared, reduce);
    if (failed(variance))
      return failure();
    Type element = type.getElementType();
    auto shifted = make1<nn::AddOp>(loc, {*variance, scalarConstant(epsilon, element, loc)});
    if (failed(shifted))
      return failure();
    auto deviation = make1<nn::SqrtOp>(loc, *shifted);
    if (failed(deviation))
      return failure();
    return define(node, 2, make1<nn::DivOp>(loc, {scalarConstant(1.0f, element, loc), *deviation}));
  }

  LogicalResult convertBatchNorm(const onnx::NodeProto &node, Location loc) {
    if (attrInt(node, "training_mode", 0) != 0)
      return emitError(loc) << "BatchNormalization in training mode is not supported";
    if (failed(onlyOutputs(node, 1, loc)))
      return failure();
    SmallVector<Value> operands;
    for (int i = 0; i < 5; ++i) {
      auto v = lookup(node, i, loc);
      if (failed(v))
        return failure();
      operands.push_back(*v);
    }
    return define(node, 0,
                  make1<nn::BatchNormOp>(
                      loc, operands, {named("epsilon", builder_.getF32FloatAttr(attrFloat(node, "epsilon", 1e-5f)))}));
  }

  /// Axes from an attribute (older opsets) or an optional constant input.
  FailureOr<std::optional<SmallVector<int64_t>>> axesOf(const onnx::NodeProto &node, int inputIndex, Location loc) {
    if (auto attr = attrInts(node, "axes"))
      return std::optional<SmallVector<int64_t>>(*attr);
    if (hasInput(node, inputIndex)) {
      auto axes = constantInts(node, inputIndex, loc, "axes");
      if (failed(axes))
        return failure();
      return std::optional<SmallVector<int64_t>>(*axes);
    }
    return std::optional<SmallVector<int64_t>>();
  }

  template <typename OpT>
  LogicalResult convertReduce(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto axes = axesOf(node, 1, loc);
    if (failed(axes))
      return failure();
    bool keepDims = attrInt(node, "keepdims", 1) != 0;
    if ((!*axes || (*axes)->empty()) && attrInt(node, "noop_with_empty_axes", 0))
      return define(node, 0, *x);
    SmallVector<int64_t> list = *axes ? **axes : SmallVector<int64_t>();
    return define(node, 0,
                  make1<OpT>(loc, *x, {i64s("axis", list), named("keep_dims", builder_.getBoolAttr(keepDims))}));
  }

  LogicalResult convertGlobalPool(const onnx::NodeProto &node, Location loc, bool max) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    SmallVector<int64_t> axes;
    for (int64_t d = 2; d < typeOf(*x).getRank(); ++d)
      axes.push_back(d);
    SmallVector<NamedAttribute> attrs = {i64s("axis", axes), named("keep_dims", builder_.getBoolAttr(true))};
    return define(node, 0, max ? make1<nn::ReduceMaxOp>(loc, *x, attrs) : make1<nn::ReduceMeanOp>(loc, *x, attrs));
  }

  LogicalResult convertReshape(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto shape = constantInts(node, 1, loc, "shape");
    if (failed(shape))
      return failure();
    bool allowZero = attrInt(node, "allowzero", 0) != 0;
    RankedTensorType type = typeOf(*x);
    for (auto [i, d] : llvm::enumerate(*shape))
      if (d == 0 && !allowZero) {
        if (static_cast<int64_t>(i) >= type.getRank())
          return emitError(loc) << "Reshape copies dimension " << i << " (0 in shape) of a rank-" << type.getRank()
                                << " input";
        d = type.getDimSize(i);
      }
    return define(node, 0, make1<nn::ReshapeOp>(loc, *x, {i64s("shape", *shape)}));
  }

  LogicalResult convertTranspose(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    SmallVector<int64_t> perm;
    if (auto attr = attrInts(node, "perm"))
      perm = *attr;
    else
      for (int64_t d = typeOf(*x).getRank() - 1; d >= 0; --d)
        perm.push_back(d);
    return define(node, 0, make1<nn::TransposeOp>(loc, *x, {i64s("perm", perm)}));
  }

  LogicalResult convertUnsqueeze(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto axes = axesOf(node, 1, loc);
    if (failed(axes))
      return failure();
    if (!*axes)
      return emitError(loc) << "Unsqueeze needs axes";
    int64_t outRank = typeOf(*x).getRank() + static_cast<int64_t>((*axes)->size());
    SmallVector<int64_t> normalized;
    for (int64_t axis : **axes)
      normalized.push_back(axis < 0 ? axis + outRank : axis);
    llvm::sort(normalized);
    Value result = *x;
    for (int64_t axis : normalized) {
      auto e = make1<nn::ExpandDimsOp>(loc, result, {i64("axis", axis)});
      if (failed(e))
        return failure();
      result = *e;
    }
    return define(node, 0, result);
  }

  LogicalResult convertSqueeze(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto axes = axesOf(node, 1, loc);
    if (failed(axes))
      return failure();
    SmallVector<int64_t> list = *axes ? **axes : SmallVector<int64_t>();
    return define(node, 0, make1<nn::SqueezeOp>(loc, *x, {i64s("axis", list)}));
  }

  LogicalResult convertFlatten(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto type = llvm::cast<RankedTensorType>(x->getType());
    int64_t rank = type.getRank(), axis = attrInt(node, "axis", 1);
    if (axis < -rank || axis > rank)
      return emitError(loc) << "Flatten's axis " << axis << " is outside [" << -rank << ", " << rank << "]";
    if (axis < 0)
      axis += rank;
    // MindSpore's Flatten keeps exactly dimension 0; any other split point
    // is the reshape it means.
    if (axis == 1)
      return define(node, 0, make1<nn::FlattenOp>(loc, *x));
    ArrayRef<int64_t> shape = type.getShape();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d)
      (d < axis ? outer : inner) *= shape[d];
    return define(node, 0, make1<nn::ReshapeOp>(loc, *x, {i64s("shape", {outer, inner})}));
  }

  LogicalResult convertConcat(const onnx::NodeProto &node, Location loc) {
    SmallVector<Value> inputs;
    for (int i = 0; i < node.input_size(); ++i) {
      auto v = lookup(node, i, loc);
      if (failed(v))
        return failure();
      inputs.push_back(*v);
    }
    if (!findAttr(node, "axis"))
      return emitError(loc) << "Concat needs an axis";
    return define(node, 0, make1<nn::ConcatOp>(loc, inputs, {i64("axis", attrInt(node, "axis", 0))}));
  }

  LogicalResult convertSplit(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    int64_t parts = node.output_size();
    int64_t axis = attrInt(node, "axis", 0);
    std::optional<SmallVector<int64_t>> sizes = attrInts(node, "split");
    if (!sizes && hasInput(node, 1)) {
      auto given = constantInts(node, 1, loc, "split");
      if (failed(given))
        return failure();
      sizes = *given;
    }
    if (sizes && llvm::any_of(*sizes, [&](int64_t s) { return s != (*sizes)[0]; }))
      return emitError(loc) << "Split into unequal parts is not supported "
                               "(nn.split splits evenly)";
    auto op = make<nn::SplitOp>(loc, *x, {i64("axis", axis), i64("output_num", parts)});
    if (failed(op))
      return failure();
    for (int i = 0; i < parts; ++i)
      if (failed(define(node, i, (*op)->getResult(i))))
        return failure();
    return success();
  }

  LogicalResult convertSlice(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    int64_t rank = typeOf(*x).getRank();
    SmallVector<int64_t> starts, ends, axes, steps;
    if (opset_ < 10) {
      starts = attrInts(node, "starts").value_or(SmallVector<int64_t>());
      ends = attrInts(node, "ends").value_or(SmallVector<int64_t>());
      axes = attrInts(node, "axes").value_or(SmallVector<int64_t>());
    } else {
      auto s = constantInts(node, 1, loc, "starts");
      if (failed(s))
        return failure();
      auto e = constantInts(node, 2, loc, "ends");
      if (failed(e))
        return failure();
      starts = *s;
      ends = *e;
      if (hasInput(node, 3)) {
        auto a = constantInts(node, 3, loc, "axes");
        if (failed(a))
          return failure();
        axes = *a;
      }
      if (hasInput(node, 4)) {
        auto st = constantInts(node, 4, loc, "steps");
        if (failed(st))
          return failure();
        steps = *st;
      }
    }
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i)
        axes.push_back(static_cast<int64_t>(i));
    if (steps.empty())
      steps.assign(starts.size(), 1);
    if (starts.size() != ends.size() || starts.size() != axes.size() || starts.size() != steps.size())
      return emitError(loc) << "Slice's starts, ends, axes and steps differ in length";
    SmallVector<int64_t> begin(rank, 0), end(rank, std::numeric_limits<int64_t>::max()), strides(rank, 1);
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t axis = axes[i] < 0 ? axes[i] + rank : axes[i];
      if (axis < 0 || axis >= rank)
        return emitError(loc) << "Slice axis " << axes[i] << " is out of range for rank " << rank;
      begin[axis] = starts[i];
      end[axis] = ends[i];
      strides[axis] = steps[i];
    }
    return define(
        node, 0,
        make1<nn::StridedSliceOp>(loc, *x, {i64s("begin", begin), i64s("end", end), i64s("strides", strides)}));
  }

  LogicalResult convertGather(const onnx::NodeProto &node, Location loc) {
    auto params = lookup(node, 0, loc), indices = lookup(node, 1, loc);
    if (failed(params) || failed(indices))
      return failure();
    return define(node, 0, make1<nn::GatherOp>(loc, {*params, *indices}, {i64("axis", attrInt(node, "axis", 0))}));
  }

  /// ONNX pads are [begin..., end...]; nn's are [top, bottom, left, right].
  FailureOr<SmallVector<NamedAttribute>> windowAttrs(const onnx::NodeProto &node, Location loc, int64_t spatial) {
    if (spatial != 2)
      return emitError(loc) << node.op_type() << " over " << spatial
                            << " spatial dimensions is not supported (only 2-D)";
    SmallVector<NamedAttribute> attrs;
    std::string autoPad = attrString(node, "auto_pad", "NOTSET");
    if (autoPad == "SAME_UPPER")
      attrs.push_back(named("pad_mode", builder_.getStringAttr("same")));
    else if (autoPad == "VALID")
      attrs.push_back(named("pad_mode", builder_.getStringAttr("valid")));
    else if (autoPad != "NOTSET")
      return emitError(loc) << node.op_type() << " auto_pad " << autoPad << " is not supported";
    if (auto pads = attrInts(node, "pads")) {
      if (pads->size() != 4)
        return emitError(loc) << node.op_type() << " pads must have 4 entries";
      attrs.push_back(i64s("pad", {(*pads)[0], (*pads)[2], (*pads)[1], (*pads)[3]}));
    }
    return attrs;
  }

  LogicalResult convertConv(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), w = lookup(node, 1, loc);
    if (failed(x) || failed(w))
      return failure();
    auto attrs = windowAttrs(node, loc, typeOf(*w).getRank() - 2);
    if (failed(attrs))
      return failure();
    if (auto strides = attrInts(node, "strides"))
      attrs->push_back(i64s("stride", *strides));
    if (auto dilations = attrInts(node, "dilations"))
      attrs->push_back(i64s("dilation", *dilations));
    attrs->push_back(i64("group", attrInt(node, "group", 1)));
    auto conv = make1<nn::Conv2DOp>(loc, {*x, *w}, *attrs);
    if (failed(conv))
      return failure();
    if (Value bias = optional(node, 2))
      return define(node, 0, make1<nn::BiasAddOp>(loc, {*conv, bias}));
    return define(node, 0, *conv);
  }

  LogicalResult convertPool(const onnx::NodeProto &node, Location loc, bool max) {
    if (failed(onlyOutputs(node, 1, loc)))
      return failure();
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto kernel = attrInts(node, "kernel_shape");
    if (!kernel)
      return emitError(loc) << node.op_type() << " needs kernel_shape";
    auto attrs = windowAttrs(node, loc, static_cast<int64_t>(kernel->size()));
    if (failed(attrs))
      return failure();
    if (auto dilations = attrInts(node, "dilations"))
      if (llvm::any_of(*dilations, [](int64_t d) { return d != 1; }))
        return emitError(loc) << node.op_type() << " with dilations is not supported";
    attrs->push_back(i64s("kernel_size", *kernel));
    if (auto strides = attrInts(node, "strides"))
      attrs->push_back(i64s("strides", *strides));
    attrs->push_back(named("ceil_mode", builder_.getBoolAttr(attrInt(node, "ceil_mode", 0))));
    if (!max) {
      attrs->push_back(named("count_include_pad", builder_.getBoolAttr(attrInt(node, "count_include_pad", 0))));
      return define(node, 0, make1<nn::AvgPoolOp>(loc, *x, *attrs));
    }
    return define(node, 0, make1<nn::MaxPoolOp>(loc, *x, *attrs));
  }

public:
  /// The converter of every ONNX op type the importer takes: the one list of
  /// them (supportedOnnxOps reads its keys).
  static const llvm::StringMap<Converter> &converters() {
    static const llvm::StringMap<Converter> table = {
        {"Abs", &Importer::convertAbs},
        {"Acos", &Importer::unary<nn::AcosOp>},
        {"Acosh", &Importer::unary<nn::AcoshOp>},
        {"And", &Importer::binary<nn::LogicalAndOp>},
        {"Asin", &Importer::unary<nn::AsinOp>},
        {"Asinh", &Importer::unary<nn::AsinhOp>},
        {"Atan", &Importer::unary<nn::AtanOp>},
        {"Atanh", &Importer::unary<nn::AtanhOp>},
        {"Ceil", &Importer::unary<nn::CeilOp>},
        {"Celu", &Importer::convertCelu},
        {"Clip", &Importer::convertClip},
        {"ConstantOfShape", &Importer::convertConstantOfShape},
        {"Cos", &Importer::unary<nn::CosOp>},
        {"Cosh", &Importer::unary<nn::CoshOp>},
        {"Dropout", &Importer::convertDropout},
        {"Elu", &Importer::convertElu},
        {"Equal", &Importer::binary<nn::EqualOp>},
        {"Expand", &Importer::convertExpand},
        {"Floor", &Importer::unary<nn::FloorOp>},
        {"Greater", &Importer::binary<nn::GreaterOp>},
        {"GreaterOrEqual", &Importer::binary<nn::GreaterEqualOp>},
        {"HardSigmoid", &Importer::convertHardSigmoid},
        {"HardSwish", &Importer::unary<nn::HSwishOp>},
        {"IsInf", &Importer::convertIsInf},
        {"IsNaN", &Importer::unary<nn::IsNanOp>},
        {"LeakyRelu", &Importer::convertLeakyRelu},
        {"Less", &Importer::binary<nn::LessOp>},
        {"LessOrEqual", &Importer::binary<nn::LessEqualOp>},
        {"Log", &Importer::unary<nn::LogOp>},
        {"Max", &Importer::convertVariadic<nn::MaximumOp>},
        {"Mean", &Importer::convertVariadic<nn::AddOp>},
        {"Min", &Importer::convertVariadic<nn::MinimumOp>},
        {"Mish", &Importer::unary<nn::MishOp>},
        {"Mod", &Importer::convertMod},
        {"Not", &Importer::unary<nn::LogicalNotOp>},
        {"Or", &Importer::binary<nn::LogicalOrOp>},
        {"PRelu", &Importer::convertLeakyRelu},
        {"Range", &Importer::convertRange},
        {"Reciprocal", &Importer::unary<nn::ReciprocalOp>},
        {"Round", &Importer::unary<nn::RoundOp>},
        {"Selu", &Importer::convertElu},
        {"Sign", &Importer::unary<nn::SignOp>},
        {"Sin", &Importer::unary<nn::SinOp>},
        {"Sinh", &Importer::unary<nn::SinhOp>},
        {"Softplus", &Importer::unary<nn::SoftplusOp>},
        {"Softsign", &Importer::unary<nn::SoftsignOp>},
        {"Sum", &Importer::convertVariadic<nn::AddOp>},
        {"Tan", &Importer::unary<nn::TanOp>},
        {"ThresholdedRelu", &Importer::convertThresholdedRelu},
        {"Xor", &Importer::convertXor},
        {"Add", &Importer::binary<nn::AddOp>},
        {"AveragePool", &Importer::convertAveragePool},
        {"BatchNormalization", &Importer::convertBatchNorm},
        {"Cast", &Importer::convertCast},
        {"Concat", &Importer::convertConcat},
        {"Constant", &Importer::convertConstant},
        {"Conv", &Importer::convertConv},
        {"Div", &Importer::binary<nn::DivOp>},
        {"Erf", &Importer::unary<nn::ErfOp>},
        {"Exp", &Importer::unary<nn::ExpOp>},
        {"Flatten", &Importer::convertFlatten},
        {"Gather", &Importer::convertGather},
        {"Gemm", &Importer::convertGemm},
        {"GlobalAveragePool", &Importer::convertGlobalAveragePool},
        {"GlobalMaxPool", &Importer::convertGlobalMaxPool},
        {"Identity", &Importer::convertIdentity},
        {"LayerNormalization", &Importer::convertLayerNorm},
        {"LogSoftmax", &Importer::convertSoftmax<nn::LogSoftmaxOp>},
        {"MatMul", &Importer::convertMatMul},
        {"MaxPool", &Importer::convertMaxPool},
        {"Mul", &Importer::binary<nn::MulOp>},
        {"Neg", &Importer::unary<nn::NegOp>},
        {"Pow", &Importer::binary<nn::PowOp>},
        {"ReduceMax", &Importer::convertReduce<nn::ReduceMaxOp>},
        {"ReduceMean", &Importer::convertReduce<nn::ReduceMeanOp>},
        {"ReduceSum", &Importer::convertReduce<nn::ReduceSumOp>},
        {"Relu", &Importer::unary<nn::ReLUOp>},
        {"Reshape", &Importer::convertReshape},
        {"Sigmoid", &Importer::unary<nn::SigmoidOp>},
        {"Slice", &Importer::convertSlice},
        {"Softmax", &Importer::convertSoftmax<nn::SoftmaxOp>},
        {"Split", &Importer::convertSplit},
        {"Sqrt", &Importer::unary<nn::SqrtOp>},
        {"Squeeze", &Importer::convertSqueeze},
        {"Sub", &Importer::binary<nn::SubOp>},
        {"Tanh", &Importer::unary<nn::TanhOp>},
        {"Tile", &Importer::convertTile},
        {"Transpose", &Importer::convertTranspose},
        {"Unsqueeze", &Importer::convertUnsqueeze},
        {"Where", &Importer::convertWhere},
    };
    return table;
  }

private:
  Converter converterFor(StringRef op) {
    auto it = converters().find(op);
    return it == converters().end() ? nullptr : it->second;
  }

  LogicalResult convertAveragePool(const onnx::NodeProto &node, Location loc) { return convertPool(node, loc, false); }
  LogicalResult convertMaxPool(const onnx::NodeProto &node, Location loc) { return convertPool(node, loc, true); }
  LogicalResult convertGlobalAveragePool(const onnx::NodeProto &node, Location loc) {
    return convertGlobalPool(node, loc, false);
  }
  LogicalResult convertGlobalMaxPool(const onnx::NodeProto &node, Location loc) {
    return convertGlobalPool(node, loc, true);
  }

  Location nodeLoc(const onnx::NodeProto &node, int index) {
    std::string name = node.name().empty() ? "node " + std::to_string(index) : node.name();
    return NameLoc::get(builder_.getStringAttr(name + " (" + node.op_type() + ")"),
                        FileLineColLoc::get(context_, model_.path(), index + 1, 1));
  }

  const OnnxModel &model_;
  MLIRContext *context_;
  OpBuilder builder_;
  const OnnxImportOptions &options_;
  int64_t opset_ = 0;
  llvm::StringMap<Value> values_;
  llvm::StringMap<const onnx::TensorProto *> constants_;
  std::vector<std::unique_ptr<onnx::TensorProto>> ownedTensors_;
};

OwningOpRef<ModuleOp> Importer::run() {
  context_->loadDialect<nn::NNDialect, dist::DistDialect, func::FuncDialect, arith::ArithDialect>();
  const onnx::GraphProto &graph = model_.proto().graph();
  opset_ = model_.opset();
  Location fileLoc = FileLineColLoc::get(context_, model_.path(), 0, 0);
  if (opset_ != 0 && (opset_ < 7 || opset_ > 17))
    emitWarning(fileLoc) << "ONNX opset " << opset_ << " is outside the tested range 7 to 17";

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  (*module)->setAttr("dinfer.source", builder_.getStringAttr("onnx"));

  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &tensor : graph.initializer())
    initializers.insert(tensor.name());

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializers.contains(input.name()))
      continue;
    auto type = inputType(input, fileLoc);
    if (failed(type))
      return nullptr;
    argTypes.push_back(*type);
    argNames.push_back(input.name());
  }

  builder_.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(builder_, fileLoc, "main", builder_.getFunctionType(argTypes, {}));
  Block *entry = function.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    values_[name] = entry->getArgument(i);
    function.setArgAttr(i, "dinfer.name", builder_.getStringAttr(name));
  }
  builder_.setInsertionPointToStart(entry);

  for (const onnx::TensorProto &tensor : graph.initializer()) {
    Location loc = NameLoc::get(builder_.getStringAttr(tensor.name()), fileLoc);
    auto element = elementType(tensor.data_type(), loc, "initializer '" + tensor.name() + "'");
    if (failed(element))
      return nullptr;
    auto type = RankedTensorType::get(SmallVector<int64_t>(tensor.dims().begin(), tensor.dims().end()), *element);
    values_[tensor.name()] = dist::ParamOp::create(builder_, loc, type, tensor.name(), nullptr).getResult();
    constants_[tensor.name()] = &tensor;
  }

  for (auto [index, node] : llvm::enumerate(graph.node())) {
    Location loc = nodeLoc(node, static_cast<int>(index));
    bool standardDomain = node.domain().empty() || node.domain() == "ai.onnx";
    Converter converter = standardDomain ? converterFor(node.op_type()) : nullptr;
    if (standardDomain) {
      auto folded = foldShapeArithmetic(node, loc);
      if (failed(folded))
        return nullptr;
      if (*folded)
        continue;
    }
    if (!converter) {
      emitError(loc) << "unsupported ONNX op '"
                     << (standardDomain ? node.op_type() : node.domain() + "." + node.op_type()) << "' (node '"
                     << (node.name().empty() ? "#" + std::to_string(index) : node.name()) << "')";
      return nullptr;
    }
    if (failed((this->*converter)(node, loc)))
      return nullptr;
  }

  SmallVector<Value> results;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    auto it = values_.find(output.name());
    if (it == values_.end()) {
      emitError(fileLoc) << "graph output '" << output.name() << "' is not produced by any node";
      return nullptr;
    }
    results.push_back(it->second);
  }
  func::ReturnOp::create(builder_, fileLoc, results);
  function.setFunctionType(builder_.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    function.setResultAttr(i, "dinfer.name", builder_.getStringAttr(output.name()));
  return module;
}

} // namespace

OwningOpRef<ModuleOp> dinfer::importOnnx(const OnnxModel &model, MLIRContext *context,
                                         const OnnxImportOptions &options) {
  return Importer(model, context, options).run();
}

std::vector<llvm::StringRef> dinfer::supportedOnnxOps() {
  std::vector<llvm::StringRef> ops(std::begin(kFoldedOnlyOps), std::end(kFoldedOnlyOps));
  for (const auto &entry : Importer::converters())
    ops.push_back(entry.getKey());
  llvm::sort(ops);
  return ops;
}
