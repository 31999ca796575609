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

std::optional<SmallVector<float>> attrFloats(const onnx::NodeProto &node, StringRef name) {
  const onnx::AttributeProto *attr = findAttr(node, name);
  if (!attr)
    return std::nullopt;
  return SmallVector<float>(attr->floats().begin(), attr->floats().end());
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
                                << "; give its shape (" << options_.inputShapeFlag << " " << info.name() << "=...)";
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
    auto known = knownConstant(node, index, loc, what);
    if (failed(known))
      return failure();
    if (!*known)
      return emitError(loc) << node.op_type() << "'s " << what << " ('" << node.input(index)
                            << "') must be a constant or an initializer";
    return *known;
  }

  /// Input `index` of `node` as a constant, or null when it is only known
  /// at run time; an error only when computing it fails.
  FailureOr<const onnx::TensorProto *> knownConstant(const onnx::NodeProto &node, int index, Location loc,
                                                     StringRef what) {
    return knownConstant(node.input(index), node.op_type(), loc, what);
  }
  FailureOr<const onnx::TensorProto *> knownConstant(const std::string &name, StringRef op, Location loc,
                                                     StringRef what) {
    auto it = constants_.find(name);
    if (it == constants_.end()) {
      auto given = options_.inputValues.find(name);
      if (given != options_.inputValues.end()) {
        auto tensor = std::make_unique<onnx::TensorProto>();
        if (!tensor->ParseFromString(given->second))
          return emitError(loc) << "the value given for input '" << name << "' is not an onnx.TensorProto";
        it = constants_.insert({name, tensor.get()}).first;
        ownedTensors_.push_back(std::move(tensor));
      }
    }
    if (it == constants_.end()) {
      // Computed from constants by earlier nodes: evaluated with the
      // runtime's kernels, once.
      auto produced = values_.find(name);
      if (produced != values_.end() && options_.evaluateConstant) {
        auto data = options_.evaluateConstant(produced->second);
        if (!data)
          return emitError(loc) << op << "'s " << what << " ('" << name
                                << "') could not be computed: " << llvm::toString(data.takeError());
        if (*data) {
          auto tensor = std::make_unique<onnx::TensorProto>();
          if (!tensor->ParseFromString(serializeOnnxTensor(**data, name)))
            return emitError(loc) << "internal error: a folded constant does not serialize";
          it = constants_.insert({name, tensor.get()}).first;
          ownedTensors_.push_back(std::move(tensor));
        }
      }
    }
    return it == constants_.end() ? nullptr : it->second;
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

  /// Constants the importer builds itself (masks, tables, indices) stay
  /// below this many elements; a larger one is a refused model, not an
  /// allocation that fails.
  static constexpr int64_t kMaxBuiltElements = int64_t(1) << 26;
  LogicalResult checkBuiltSize(ArrayRef<int64_t> shape, Location loc, StringRef what) {
    int64_t count = 1;
    for (int64_t d : shape)
      if (d < 0 || __builtin_mul_overflow(count, d, &count) || count > kMaxBuiltElements)
        return emitError(loc) << what << " would hold more than " << kMaxBuiltElements << " elements";
    return success();
  }

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
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    return define(node, 0, absOf(*x, loc));
  }

  /// Gelu (opset 20): exact (erf) or its tanh approximation.
  LogicalResult convertGelu(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    std::string approximate = attrString(node, "approximate", "none");
    if (approximate != "none" && approximate != "tanh")
      return emitError(loc) << "Gelu approximate '" << approximate << "' is not supported (none or tanh)";
    return define(node, 0, make1<nn::GeLUOp>(loc, *x, {named("approximate", builder_.getStringAttr(approximate))}));
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

  /// BitShift of unsigned integers: x * 2^y (LEFT; exact while the result
  /// fits the type) or x / 2^y (RIGHT; truncation is the floor for unsigned).
  LogicalResult convertBitShift(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), y = lookup(node, 1, loc);
    if (failed(x) || failed(y))
      return failure();
    std::string direction = attrString(node, "direction", "");
    if (direction != "LEFT" && direction != "RIGHT")
      return emitError(loc) << "BitShift direction must be LEFT or RIGHT, got '" << direction << "'";
    auto factor = make1<nn::PowOp>(loc, {scalarLike(*x, 2, loc), *y});
    if (failed(factor))
      return failure();
    if (direction == "LEFT")
      return define(node, 0, make1<nn::MulOp>(loc, {*x, *factor}));
    return define(node, 0, make1<nn::DivOp>(loc, {*x, *factor}));
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
      if (d < 0 || __builtin_mul_overflow(count, static_cast<uint64_t>(d), &count) || count > uint64_t(kMaxBuiltElements))
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
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16:
      if (bytes->size() == 2) { // a float16 export's Dropout ratio
        float v;
        DType half = (*constant)->data_type() == onnx::TensorProto::FLOAT16 ? DType::Float16 : DType::BFloat16;
        convertFloats(half, DType::Float32, p, reinterpret_cast<char *>(&v), 1);
        return double(v);
      }
      break;
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
    if (!(steps <= double(kMaxBuiltElements)))
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

  /// Dropout in inference is the identity and its mask all true (torch's
  /// exporter names the mask even when nothing reads it); training mode is
  /// refused unless it is a constant false or the ratio a constant 0.
  LogicalResult convertDropout(const onnx::NodeProto &node, Location loc) {
    if (failed(onlyOutputs(node, 2, loc)))
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
      // Training mode at ratio 0 drops nothing either (torchvision 0.14's
      // Swin calls F.dropout(p=0.0) without training=False).
      if (!off && hasInput(node, 1) && constants_.count(node.input(1))) {
        auto ratio = constantScalar(node, 1, loc, "ratio");
        off = succeeded(ratio) && *ratio == 0.0;
      }
      if (!off)
        return emitError(loc) << "Dropout in training mode (input 'training_mode' not a constant false) is not "
                                 "supported: inference drops nothing";
    }
    auto x = lookup(node, 0, loc);
    if (failed(x) || failed(define(node, 0, *x)))
      return failure();
    if (node.output_size() < 2 || node.output(1).empty())
      return success();
    auto maskType = typeOf(*x).clone(builder_.getI1Type());
    return define(node, 1,
                  arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(maskType, true)).getResult());
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
    RankedTensorType type = typeOf(*x);
    int64_t rank = type.getRank(), d = axis < 0 ? axis + rank : axis;
    if (d < 0 || d >= rank)
      return emitError(loc) << "Split axis " << axis << " is out of range for rank " << rank;
    int64_t extent = type.getDimSize(d);
    // Opset 18's num_outputs: parts of ceil(extent / parts), the last smaller.
    if (!sizes && extent % parts) {
      int64_t chunk = (extent + parts - 1) / parts;
      sizes.emplace();
      for (int64_t i = 0; i < parts; ++i)
        sizes->push_back(std::clamp<int64_t>(extent - i * chunk, 0, chunk));
    }
    if (sizes && llvm::any_of(*sizes, [&](int64_t s) { return s != (*sizes)[0]; })) {
      if (static_cast<int64_t>(sizes->size()) != parts)
        return emitError(loc) << "Split has " << sizes->size() << " sizes for " << parts << " outputs";
      // Unequal parts: one slice each.
      int64_t offset = 0;
      for (int64_t i = 0; i < parts; ++i) {
        SmallVector<int64_t> begin(d + 1, 0), end(d + 1, std::numeric_limits<int64_t>::max()), strides(d + 1, 1);
        begin[d] = offset;
        end[d] = offset + (*sizes)[i];
        offset += (*sizes)[i];
        if (failed(define(node, i,
                          make1<nn::StridedSliceOp>(
                              loc, *x, {i64s("begin", begin), i64s("end", end), i64s("strides", strides)}))))
          return failure();
      }
      if (offset != extent)
        return emitError(loc) << "Split sizes add up to " << offset << ", not the extent " << extent;
      return success();
    }
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

  /// ONNX pads are [begin..., end...]; nn's are [before, after] per
  /// spatial dimension. `input` and `kernel` are the spatial extents of the
  /// data and the window (for SAME_LOWER, whose padding nn writes out).
  FailureOr<SmallVector<NamedAttribute>> windowAttrs(const onnx::NodeProto &node, Location loc, int64_t spatial,
                                                     ArrayRef<int64_t> input, ArrayRef<int64_t> kernel) {
    if (spatial != 2 && spatial != 3)
      return emitError(loc) << node.op_type() << " over " << spatial << " spatial dimensions is not supported";
    SmallVector<NamedAttribute> attrs;
    std::string autoPad = attrString(node, "auto_pad", "NOTSET");
    if (autoPad == "SAME_UPPER") {
      attrs.push_back(named("pad_mode", builder_.getStringAttr("same")));
    } else if (autoPad == "SAME_LOWER") {
      // The same total padding as SAME_UPPER, its odd element before.
      SmallVector<int64_t> strides = attrInts(node, "strides").value_or(SmallVector<int64_t>(spatial, 1));
      SmallVector<int64_t> dilations = attrInts(node, "dilations").value_or(SmallVector<int64_t>(spatial, 1));
      auto positive = [&](ArrayRef<int64_t> v) {
        return static_cast<int64_t>(v.size()) == spatial && llvm::all_of(v, [](int64_t e) { return e > 0; });
      };
      if (!positive(strides) || !positive(dilations) || !positive(kernel))
        return emitError(loc) << node.op_type() << " needs " << spatial
                              << " positive strides, dilations and kernel extents";
      SmallVector<int64_t> pad(2 * spatial);
      for (int64_t d = 0; d < spatial; ++d) {
        int64_t out = (input[d] + strides[d] - 1) / strides[d];
        int64_t total = std::max<int64_t>((out - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - input[d], 0);
        pad[2 * d] = total - total / 2;
        pad[2 * d + 1] = total / 2;
      }
      attrs.push_back(i64s("pad", pad));
      return attrs;
    } else if (autoPad == "VALID")
      attrs.push_back(named("pad_mode", builder_.getStringAttr("valid")));
    else if (autoPad != "NOTSET")
      return emitError(loc) << node.op_type() << " auto_pad " << autoPad << " is not supported";
    if (auto pads = attrInts(node, "pads")) {
      if (static_cast<int64_t>(pads->size()) != 2 * spatial)
        return emitError(loc) << node.op_type() << " pads must have " << 2 * spatial << " entries";
      SmallVector<int64_t> pad;
      for (int64_t d = 0; d < spatial; ++d) {
        pad.push_back((*pads)[d]);
        pad.push_back((*pads)[spatial + d]);
      }
      attrs.push_back(i64s("pad", pad));
    }
    return attrs;
  }

  /// A 1-D window op (Conv, pooling) as the 2-D one over [.., 1, L]: its
  /// data and weight gain a dimension of 1 before the last, its window
  /// attributes a leading 1 (and 0 padding), and the result loses it again.
  FailureOr<bool> convertLiftedTo2D(const onnx::NodeProto &node, Location loc, Converter converter) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    bool conv = node.op_type() == "Conv" || node.op_type() == "ConvTranspose";
    if (typeOf(*x).getRank() < 3)
      return emitError(loc) << node.op_type() << " needs data of rank 3 or more, got " << typeOf(*x);
    int64_t spatial = typeOf(*x).getRank() - 2;
    if (conv) {
      auto w = lookup(node, 1, loc);
      if (failed(w))
        return failure();
      spatial = typeOf(*w).getRank() - 2;
    }
    if (spatial != 1)
      return false;
    onnx::NodeProto lifted = node;
    for (onnx::AttributeProto &attr : *lifted.mutable_attribute()) {
      StringRef name = attr.name();
      if (name == "kernel_shape" || name == "strides" || name == "dilations") {
        SmallVector<int64_t> values = {1};
        values.append(attr.ints().begin(), attr.ints().end());
        attr.clear_ints();
        for (int64_t v : values)
          attr.add_ints(v);
      } else if (name == "output_padding" || name == "output_shape") {
        SmallVector<int64_t> values = {name == "output_shape" ? int64_t(1) : int64_t(0)};
        values.append(attr.ints().begin(), attr.ints().end());
        attr.clear_ints();
        for (int64_t v : values)
          attr.add_ints(v);
      } else if (name == "pads" && attr.ints_size() == 2) {
        int64_t begin = attr.ints(0), end = attr.ints(1);
        attr.clear_ints();
        for (int64_t v : {int64_t(0), begin, int64_t(0), end})
          attr.add_ints(v);
      }
    }
    for (int i = 0; i < (conv ? 2 : 1); ++i) {
      auto operand = lookup(node, i, loc);
      auto raised = make1<nn::ExpandDimsOp>(loc, *operand, {i64("axis", 2)});
      if (failed(raised))
        return failure();
      std::string name = node.input(i) + "#2d";
      values_[name] = *raised;
      lifted.set_input(i, name);
    }
    std::string result = node.output(0) + "#2d";
    lifted.set_output(0, result);
    if (failed((this->*converter)(lifted, loc)))
      return failure();
    if (failed(define(node, 0, make1<nn::SqueezeOp>(loc, values_[result], {i64s("axis", {2})}))))
      return failure();
    return true;
  }

  LogicalResult convertConv(const onnx::NodeProto &node, Location loc) {
    auto lifted = convertLiftedTo2D(node, loc, &Importer::convertConv);
    if (failed(lifted) || *lifted)
      return failure(failed(lifted));
    auto x = lookup(node, 0, loc), w = lookup(node, 1, loc);
    if (failed(x) || failed(w))
      return failure();
    if (typeOf(*x).getRank() < 3 || typeOf(*x).getRank() != typeOf(*w).getRank())
      return emitError(loc) << "Conv needs data and weight of one rank, at least 3, got " << typeOf(*x) << " and "
                            << typeOf(*w);
    if (typeOf(*w).getRank() != 4)
      return emitError(loc) << "Conv over " << typeOf(*w).getRank() - 2
                            << " spatial dimensions is not supported (1-D and 2-D only)";
    auto attrs = windowAttrs(node, loc, typeOf(*w).getRank() - 2, typeOf(*x).getShape().drop_front(2),
                             typeOf(*w).getShape().drop_front(2));
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

  /// ConvTranspose over 2 or 3 spatial dimensions (1-D lifted to 2-D):
  /// pads given, or derived from output_shape or SAME auto_pad as ONNX's
  /// reference derives them (a negative pad extends the output); the bias a
  /// following nn.bias_add.
  LogicalResult convertConvTranspose(const onnx::NodeProto &node, Location loc) {
    auto lifted = convertLiftedTo2D(node, loc, &Importer::convertConvTranspose);
    if (failed(lifted) || *lifted)
      return failure(failed(lifted));
    auto x = lookup(node, 0, loc), w = lookup(node, 1, loc);
    if (failed(x) || failed(w))
      return failure();
    RankedTensorType xType = typeOf(*x), wType = typeOf(*w);
    int64_t spatial = xType.getRank() - 2;
    if ((spatial != 2 && spatial != 3) || wType.getRank() != xType.getRank())
      return emitError(loc) << "ConvTranspose over " << spatial << " spatial dimensions (weight " << wType
                            << ") is not supported (1-D, 2-D and 3-D only)";
    auto list = [&](StringRef name, int64_t fallback) {
      return attrInts(node, name).value_or(SmallVector<int64_t>(spatial, fallback));
    };
    SmallVector<int64_t> strides = list("strides", 1), dilations = list("dilations", 1),
                         outputPadding = list("output_padding", 0);
    auto sized = [&](ArrayRef<int64_t> v) { return static_cast<int64_t>(v.size()) == spatial; };
    if (!sized(strides) || !sized(dilations) || !sized(outputPadding))
      return emitError(loc) << "ConvTranspose needs " << spatial << " strides, dilations and output paddings";
    SmallVector<int64_t> pads = attrInts(node, "pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
    if (static_cast<int64_t>(pads.size()) != 2 * spatial)
      return emitError(loc) << "ConvTranspose pads must have " << 2 * spatial << " entries";
    std::string autoPad = attrString(node, "auto_pad", "NOTSET");
    std::optional<SmallVector<int64_t>> outputShape = attrInts(node, "output_shape");
    if (outputShape && static_cast<int64_t>(outputShape->size()) > spatial)
      outputShape->erase(outputShape->begin(), outputShape->end() - spatial);
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" || outputShape) {
      if (outputShape && !sized(*outputShape))
        return emitError(loc) << "ConvTranspose output_shape must give the " << spatial << " spatial extents";
      for (int64_t d = 0; d < spatial; ++d) {
        int64_t in = xType.getDimSize(2 + d), k = wType.getDimSize(2 + d);
        int64_t out = outputShape ? (*outputShape)[d] : in * strides[d];
        int64_t total = strides[d] * (in - 1) + outputPadding[d] + ((k - 1) * dilations[d] + 1) - out;
        int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); // floor, as Python's //
        bool upper = autoPad == "SAME_UPPER";
        pads[d] = upper ? half : total - half;
        pads[d + spatial] = upper ? total - half : half;
      }
    } else if (autoPad != "NOTSET" && autoPad != "VALID") {
      return emitError(loc) << "ConvTranspose auto_pad " << autoPad << " is not supported";
    }
    SmallVector<int64_t> pad;
    for (int64_t d = 0; d < spatial; ++d) {
      pad.push_back(pads[d]);
      pad.push_back(pads[spatial + d]);
    }
    SmallVector<NamedAttribute> attrs = {i64s("stride", strides), i64s("dilation", dilations), i64s("pad", pad),
                                         i64("group", attrInt(node, "group", 1)),
                                         i64s("output_padding", outputPadding)};
    auto y = spatial == 3 ? make1<nn::Conv3DTransposeOp>(loc, {*x, *w}, attrs)
                          : make1<nn::Conv2DTransposeOp>(loc, {*x, *w}, attrs);
    if (failed(y))
      return failure();
    if (Value bias = optional(node, 2))
      return define(node, 0, make1<nn::BiasAddOp>(loc, {*y, bias}));
    return define(node, 0, *y);
  }

  LogicalResult convertPool(const onnx::NodeProto &node, Location loc, bool max) {
    bool wantsIndices = max && node.output_size() > 1 && !node.output(1).empty();
    if (failed(onlyOutputs(node, wantsIndices ? 2 : 1, loc)))
      return failure();
    if (wantsIndices) {
      auto x = lookup(node, 0, loc);
      if (failed(x))
        return failure();
      if (typeOf(*x).getRank() != 4)
        return emitError(loc) << "MaxPool's Indices output is supported over 2 spatial dimensions only, got "
                              << typeOf(*x);
    }
    auto lifted = convertLiftedTo2D(node, loc, max ? &Importer::convertMaxPool : &Importer::convertAveragePool);
    if (failed(lifted) || *lifted)
      return failure(failed(lifted));
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto kernel = attrInts(node, "kernel_shape");
    if (!kernel)
      return emitError(loc) << node.op_type() << " needs kernel_shape";
    int64_t spatial = static_cast<int64_t>(kernel->size());
    if (spatial + 2 != typeOf(*x).getRank())
      return emitError(loc) << node.op_type() << "'s kernel_shape has " << spatial << " entries for " << typeOf(*x);
    auto attrs = windowAttrs(node, loc, spatial, typeOf(*x).getShape().drop_front(2), *kernel);
    if (failed(attrs))
      return failure();
    attrs->push_back(i64s("kernel_size", *kernel));
    if (auto strides = attrInts(node, "strides"))
      attrs->push_back(i64s("strides", *strides));
    if (auto dilations = attrInts(node, "dilations"))
      attrs->push_back(i64s("dilation", *dilations));
    attrs->push_back(named("ceil_mode", builder_.getBoolAttr(attrInt(node, "ceil_mode", 0))));
    if (!max) {
      attrs->push_back(named("count_include_pad", builder_.getBoolAttr(attrInt(node, "count_include_pad", 0))));
      return define(node, 0,
                    spatial == 3 ? make1<nn::AvgPool3DOp>(loc, *x, *attrs) : make1<nn::AvgPoolOp>(loc, *x, *attrs));
    }
    FailureOr<Value> y =
        spatial == 3 ? make1<nn::MaxPool3DOp>(loc, *x, *attrs) : make1<nn::MaxPoolOp>(loc, *x, *attrs);
    if (failed(define(node, 0, y)))
      return failure();
    if (wantsIndices)
      return define(node, 1, maxPoolIndices(node, *x, typeOf(*y), *kernel, loc));
    return success();
  }

  /// MaxPool's Indices: each window's taps as strided slices of the input
  /// padded with -inf, stacked; their argmax (the first of equal values, as
  /// ONNX's reference) picks a tap, whose offset in the flattened input is
  /// added to the window's origin. storage_order 1 counts columns first.
  FailureOr<Value> maxPoolIndices(const onnx::NodeProto &node, Value x, RankedTensorType yType,
                                  ArrayRef<int64_t> kernel, Location loc) {
    std::string autoPad = attrString(node, "auto_pad", "NOTSET");
    if (autoPad != "NOTSET" && autoPad != "VALID")
      return emitError(loc) << "MaxPool's Indices output with auto_pad " << autoPad << " is not supported";
    ArrayRef<int64_t> in = typeOf(x).getShape();
    int64_t n = in[0], c = in[1], h = in[2], w = in[3], oh = yType.getDimSize(2), ow = yType.getDimSize(3);
    SmallVector<int64_t> strides = attrInts(node, "strides").value_or(SmallVector<int64_t>{1, 1});
    SmallVector<int64_t> dilations = attrInts(node, "dilations").value_or(SmallVector<int64_t>{1, 1});
    SmallVector<int64_t> pads = attrInts(node, "pads").value_or(SmallVector<int64_t>{0, 0, 0, 0});
    if (autoPad == "VALID")
      pads = {0, 0, 0, 0};
    if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
      return emitError(loc) << "MaxPool needs two strides and dilations and four pads";
    bool columnsFirst = attrInt(node, "storage_order", 0) == 1;
    int64_t top = pads[0], left = pads[1];
    // Enough padding after the input for every window (ceil mode's last).
    int64_t bottom = std::max(pads[2], (oh - 1) * strides[0] + (kernel[0] - 1) * dilations[0] + 1 - h - top);
    int64_t right = std::max(pads[3], (ow - 1) * strides[1] + (kernel[1] - 1) * dilations[1] + 1 - w - left);
    if (failed(checkBuiltSize({n, c, oh, ow, kernel[0] * kernel[1]}, loc, "MaxPool's Indices")))
      return failure();
    auto padded = make1<nn::PadOp>(
        loc, x,
        {i64s("paddings", {0, 0, 0, 0, top, bottom, left, right}), named("mode", builder_.getStringAttr("constant")),
         named("value", builder_.getF32FloatAttr(-std::numeric_limits<float>::infinity()))});
    if (failed(padded))
      return failure();
    SmallVector<Value> taps;
    SmallVector<int64_t> tapOffsets;
    for (int64_t i = 0; i < kernel[0]; ++i)
      for (int64_t j = 0; j < kernel[1]; ++j) {
        int64_t row = i * dilations[0], col = j * dilations[1];
        auto tap = make1<nn::StridedSliceOp>(
            loc, *padded,
            {i64s("begin", {0, 0, row, col}),
             i64s("end", {n, c, row + (oh - 1) * strides[0] + 1, col + (ow - 1) * strides[1] + 1}),
             i64s("strides", {1, 1, strides[0], strides[1]})});
        auto raised = failed(tap) ? tap : make1<nn::ExpandDimsOp>(loc, *tap, {i64("axis", 4)});
        if (failed(raised))
          return failure();
        taps.push_back(*raised);
        tapOffsets.push_back(columnsFirst ? col * h + row : row * w + col);
      }
    FailureOr<Value> stacked = taps.size() == 1 ? FailureOr<Value>(taps[0])
                                                : make1<nn::ConcatOp>(loc, taps, {i64("axis", 4)});
    auto chosen = failed(stacked) ? stacked : make1<nn::ArgmaxOp>(loc, *stacked, {i64("axis", 4)});
    if (failed(chosen))
      return failure();
    Type i64Type = builder_.getI64Type();
    auto offsetsType = RankedTensorType::get({static_cast<int64_t>(tapOffsets.size())}, i64Type);
    Value offsets =
        arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(offsetsType, ArrayRef<int64_t>(tapOffsets)))
            .getResult();
    auto tapOffset = make1<nn::GatherOp>(loc, {offsets, *chosen}, {i64("axis", 0)});
    if (failed(tapOffset))
      return failure();
    SmallVector<int64_t> origins;
    origins.reserve(n * c * oh * ow);
    for (int64_t plane = 0; plane < n * c; ++plane)
      for (int64_t r = 0; r < oh; ++r)
        for (int64_t q = 0; q < ow; ++q) {
          int64_t row = r * strides[0] - top, col = q * strides[1] - left;
          origins.push_back(columnsFirst ? (plane * w + col) * h + row : (plane * h + row) * w + col);
        }
    auto originsType = RankedTensorType::get({n, c, oh, ow}, i64Type);
    Value origin =
        arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(originsType, ArrayRef<int64_t>(origins)))
            .getResult();
    return make1<nn::AddOp>(loc, {origin, *tapOffset});
  }

  //===--- reductions, index search and scans ---------------------------===//

  /// The reduction of `node` over x (axes and keepdims as ONNX gives them),
  /// through `OpT`; x may be a transformed input (ReduceL1's |x|).
  template <typename OpT>
  FailureOr<Value> reduceAs(const onnx::NodeProto &node, Value x, Location loc, std::optional<bool> keep = {}) {
    auto axes = axesOf(node, 1, loc);
    if (failed(axes))
      return failure();
    bool keepDims = keep.value_or(attrInt(node, "keepdims", 1) != 0);
    if ((!*axes || (*axes)->empty()) && attrInt(node, "noop_with_empty_axes", 0))
      return x;
    SmallVector<int64_t> list = *axes ? **axes : SmallVector<int64_t>();
    return make1<OpT>(loc, x, {i64s("axis", list), named("keep_dims", builder_.getBoolAttr(keepDims))});
  }

  /// |x| = relu(x) + relu(-x): no abs op in the nn dialect.
  FailureOr<Value> absOf(Value x, Location loc) {
    auto pos = make1<nn::ReLUOp>(loc, x);
    auto neg = make1<nn::NegOp>(loc, x);
    if (failed(pos) || failed(neg))
      return failure();
    auto negPos = make1<nn::ReLUOp>(loc, *neg);
    if (failed(negPos))
      return failure();
    return make1<nn::AddOp>(loc, {*pos, *negPos});
  }

  /// ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum and ReduceLogSumExp,
  /// written with the nn reductions.
  LogicalResult convertComposedReduce(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    StringRef op = node.op_type();
    if (op == "ReduceL1") {
      auto a = absOf(*x, loc);
      return failed(a) ? failure() : define(node, 0, reduceAs<nn::ReduceSumOp>(node, *a, loc));
    }
    if (op == "ReduceL2" || op == "ReduceSumSquare") {
      auto squared = make1<nn::MulOp>(loc, {*x, *x});
      if (failed(squared))
        return failure();
      auto sum = reduceAs<nn::ReduceSumOp>(node, *squared, loc);
      if (failed(sum) || op == "ReduceSumSquare")
        return define(node, 0, sum);
      return define(node, 0, make1<nn::SqrtOp>(loc, *sum));
    }
    if (op == "ReduceLogSum") {
      auto sum = reduceAs<nn::ReduceSumOp>(node, *x, loc);
      return failed(sum) ? failure() : define(node, 0, make1<nn::LogOp>(loc, *sum));
    }
    // log(sum(exp(x - m))) + m with m the maximum, so that exp cannot overflow.
    auto peak = reduceAs<nn::ReduceMaxOp>(node, *x, loc, /*keep=*/true);
    if (failed(peak))
      return failure();
    if (*peak == *x) // noop_with_empty_axes
      return define(node, 0, *x);
    auto shifted = make1<nn::SubOp>(loc, {*x, *peak});
    if (failed(shifted))
      return failure();
    auto exps = make1<nn::ExpOp>(loc, *shifted);
    if (failed(exps))
      return failure();
    auto sum = reduceAs<nn::ReduceSumOp>(node, *exps, loc);
    if (failed(sum))
      return failure();
    auto logs = make1<nn::LogOp>(loc, *sum);
    if (failed(logs))
      return failure();
    auto peakAsSum = make1<nn::ReshapeOp>(loc, *peak, {i64s("shape", typeOf(*sum).getShape())});
    if (failed(peakAsSum))
      return failure();
    return define(node, 0, make1<nn::AddOp>(loc, {*logs, *peakAsSum}));
  }

  /// ArgMax / ArgMin: MindSpore's int32 indices, widened to ONNX's int64.
  template <typename OpT>
  LogicalResult convertArgReduce(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    int64_t rank = typeOf(*x).getRank(), axis = attrInt(node, "axis", 0);
    if (axis < -rank || axis >= rank)
      return emitError(loc) << node.op_type() << " axis " << axis << " is out of range for rank " << rank;
    axis = axis < 0 ? axis + rank : axis;
    auto index = make1<OpT>(loc, *x,
                            {i64("axis", axis), named("select_last_index",
                                                      builder_.getBoolAttr(attrInt(node, "select_last_index", 0)))});
    if (failed(index))
      return failure();
    auto wide = make1<nn::CastOp>(loc, *index, {named("dtype", TypeAttr::get(builder_.getI64Type()))});
    if (failed(wide) || !attrInt(node, "keepdims", 1))
      return define(node, 0, wide);
    return define(node, 0, make1<nn::ExpandDimsOp>(loc, *wide, {i64("axis", axis)}));
  }

  /// A constant of `type` counting 0, 1, ... along dimension `axis` (every
  /// other dimension of extent 1).
  Value iotaAlong(int64_t rank, int64_t axis, int64_t count, Type element, Location loc) {
    SmallVector<int64_t> shape(rank, 1);
    shape[axis] = count;
    auto type = RankedTensorType::get(shape, element);
    SmallVector<Attribute> values;
    for (int64_t i = 0; i < count; ++i)
      values.push_back(llvm::isa<FloatType>(element) ? Attribute(FloatAttr::get(element, static_cast<double>(i)))
                                                     : Attribute(IntegerAttr::get(element, i)));
    return arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(type, values)).getResult();
  }

  /// Hardmax: 1 at the first largest value along the axis, 0 elsewhere.
  LogicalResult convertHardmax(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    RankedTensorType type = typeOf(*x);
    int64_t rank = type.getRank(), axis = attrInt(node, "axis", opset_ < 13 ? 1 : -1);
    if (axis < -rank || axis >= rank)
      return emitError(loc) << "Hardmax axis " << axis << " is out of range for rank " << rank;
    axis = axis < 0 ? axis + rank : axis;
    Value input = *x;
    // Before opset 13 the input is a matrix of [outer, inner] around axis.
    if (opset_ < 13) {
      int64_t outer = 1, inner = 1;
      for (int64_t d = 0; d < rank; ++d)
        (d < axis ? outer : inner) *= type.getDimSize(d);
      auto flat = make1<nn::ReshapeOp>(loc, input, {i64s("shape", {outer, inner})});
      if (failed(flat))
        return failure();
      input = *flat;
      axis = 1;
    }
    int64_t count = typeOf(input).getDimSize(axis);
    if (failed(checkBuiltSize({count}, loc, "Hardmax's index table")))
      return failure();
    auto index = make1<nn::ArgmaxOp>(loc, input, {i64("axis", axis)});
    if (failed(index))
      return failure();
    auto kept = make1<nn::ExpandDimsOp>(loc, *index, {i64("axis", axis)});
    if (failed(kept))
      return failure();
    auto hit = make1<nn::EqualOp>(
        loc, {*kept, iotaAlong(typeOf(input).getRank(), axis, count, builder_.getI32Type(), loc)});
    if (failed(hit))
      return failure();
    auto y = make1<nn::CastOp>(loc, *hit, {named("dtype", TypeAttr::get(type.getElementType()))});
    if (failed(y) || opset_ >= 13)
      return define(node, 0, y);
    return define(node, 0, make1<nn::ReshapeOp>(loc, *y, {i64s("shape", type.getShape())}));
  }

  LogicalResult convertCumSum(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    auto axis = constantInts(node, 1, loc, "axis");
    if (failed(x) || failed(axis))
      return failure();
    if (axis->size() != 1)
      return emitError(loc) << "CumSum's axis must be one integer";
    return define(node, 0,
                  make1<nn::CumSumOp>(loc, *x,
                                      {i64("axis", axis->front()),
                                       named("exclusive", builder_.getBoolAttr(attrInt(node, "exclusive", 0))),
                                       named("reverse", builder_.getBoolAttr(attrInt(node, "reverse", 0)))}));
  }

  //===--- element gathers and scatters ---------------------------------===//

  LogicalResult convertGatherElements(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), index = lookup(node, 1, loc);
    if (failed(x) || failed(index))
      return failure();
    return define(node, 0, make1<nn::GatherDOp>(loc, {*x, *index}, {i64("dim", attrInt(node, "axis", 0))}));
  }

  LogicalResult convertGatherND(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), indices = lookup(node, 1, loc);
    if (failed(x) || failed(indices))
      return failure();
    return define(node, 0,
                  make1<nn::GatherNdOp>(loc, {*x, *indices}, {i64("batch_dims", attrInt(node, "batch_dims", 0))}));
  }

  LogicalResult convertScatterND(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), indices = lookup(node, 1, loc), updates = lookup(node, 2, loc);
    if (failed(x) || failed(indices) || failed(updates))
      return failure();
    std::string reduction = attrString(node, "reduction", "none");
    SmallVector<Value> operands = {*x, *indices, *updates};
    if (reduction == "none")
      return define(node, 0, make1<nn::TensorScatterUpdateOp>(loc, operands));
    if (reduction == "add")
      return define(node, 0, make1<nn::TensorScatterAddOp>(loc, operands));
    if (reduction == "mul")
      return define(node, 0, make1<nn::TensorScatterMulOp>(loc, operands));
    if (reduction == "max")
      return define(node, 0, make1<nn::TensorScatterMaxOp>(loc, operands));
    if (reduction == "min")
      return define(node, 0, make1<nn::TensorScatterMinOp>(loc, operands));
    return emitError(loc) << "ScatterND reduction '" << reduction << "' is not supported";
  }

  /// ScatterElements, and Scatter (its name before opset 11).
  LogicalResult convertScatterElements(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), indices = lookup(node, 1, loc), updates = lookup(node, 2, loc);
    if (failed(x) || failed(indices) || failed(updates))
      return failure();
    std::string reduction = attrString(node, "reduction", "none");
    if (!llvm::is_contained({"none", "add", "mul", "max", "min"}, reduction))
      return emitError(loc) << node.op_type() << " reduction '" << reduction << "' is not supported";
    return define(node, 0,
                  make1<nn::TensorScatterElementsOp>(
                      loc, {*x, *indices, *updates},
                      {i64("axis", attrInt(node, "axis", 0)), named("reduction", builder_.getStringAttr(reduction))}));
  }

  /// OneHot: indices (negative ones count from depth) compared with 0..depth-1
  /// along the new axis, choosing values[1] (on) or values[0] (off).
  LogicalResult convertOneHot(const onnx::NodeProto &node, Location loc) {
    auto indices = lookup(node, 0, loc), values = lookup(node, 2, loc);
    auto depthValue = constantScalar(node, 1, loc, "depth");
    if (failed(indices) || failed(values) || failed(depthValue))
      return failure();
    if (typeOf(*values).getNumElements() != 2)
      return emitError(loc) << "OneHot's values must hold [off, on]";
    auto depth = static_cast<int64_t>(*depthValue);
    if (depth <= 0)
      return emitError(loc) << "OneHot's depth must be positive, got " << depth;
    if (failed(checkBuiltSize({depth}, loc, "OneHot's index table")))
      return failure();
    int64_t rank = typeOf(*indices).getRank() + 1, axis = attrInt(node, "axis", -1);
    if (axis < -rank || axis >= rank)
      return emitError(loc) << "OneHot axis " << axis << " is out of range for rank " << rank;
    axis = axis < 0 ? axis + rank : axis;
    Type wide = builder_.getI64Type();
    auto index = make1<nn::CastOp>(loc, *indices, {named("dtype", TypeAttr::get(wide))});
    if (failed(index))
      return failure();
    Value zero = scalarConstant(0, wide, loc), depthConstant = scalarConstant(static_cast<float>(depth), wide, loc);
    auto wrapped = select(loc, make1<nn::LessOp>(loc, {*index, zero}), make1<nn::AddOp>(loc, {*index, depthConstant}),
                          *index);
    if (failed(wrapped))
      return failure();
    auto kept = make1<nn::ExpandDimsOp>(loc, *wrapped, {i64("axis", axis)});
    if (failed(kept))
      return failure();
    auto hit = make1<nn::EqualOp>(loc, {*kept, iotaAlong(rank, axis, depth, wide, loc)});
    auto flat = make1<nn::ReshapeOp>(loc, *values, {i64s("shape", {2})});
    if (failed(hit) || failed(flat))
      return failure();
    auto pick = [&](int64_t i) {
      return make1<nn::StridedSliceOp>(loc, *flat, {i64s("begin", {i}), i64s("end", {i + 1}), i64s("strides", {1})});
    };
    return define(node, 0, select(loc, *hit, pick(1), pick(0)));
  }

  //===--- shapes, padding and constants --------------------------------===//

  LogicalResult convertPad(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    int64_t rank = typeOf(*x).getRank();
    SmallVector<int64_t> pads;
    double value = 0;
    if (opset_ < 11) {
      pads = attrInts(node, "pads").value_or(SmallVector<int64_t>());
      value = attrFloat(node, "value", 0.0f);
    } else {
      auto given = constantInts(node, 1, loc, "pads");
      if (failed(given))
        return failure();
      pads = *given;
      if (hasInput(node, 2)) {
        auto fill = constantScalar(node, 2, loc, "constant_value");
        if (failed(fill))
          return failure();
        value = *fill;
      }
    }
    SmallVector<int64_t> axes;
    if (hasInput(node, 3)) {
      auto given = constantInts(node, 3, loc, "axes");
      if (failed(given))
        return failure();
      axes = *given;
    } else {
      for (int64_t d = 0; d < rank; ++d)
        axes.push_back(d);
    }
    if (pads.size() != 2 * axes.size())
      return emitError(loc) << "Pad's pads hold " << pads.size() << " values for " << axes.size() << " axes";
    SmallVector<int64_t> paddings(2 * rank, 0);
    for (auto [i, axis] : llvm::enumerate(axes)) {
      int64_t d = axis < 0 ? axis + rank : axis;
      if (d < 0 || d >= rank)
        return emitError(loc) << "Pad axis " << axis << " is out of range for rank " << rank;
      paddings[2 * d] = pads[i];
      paddings[2 * d + 1] = pads[i + axes.size()];
    }
    std::string mode = attrString(node, "mode", "constant");
    if (!llvm::is_contained({"constant", "reflect", "edge", "wrap"}, mode))
      return emitError(loc) << "Pad mode '" << mode << "' is not supported";
    return define(node, 0,
                  make1<nn::PadOp>(loc, *x,
                                   {i64s("paddings", paddings), named("mode", builder_.getStringAttr(mode)),
                                    named("value", builder_.getF32FloatAttr(static_cast<float>(value)))}));
  }

  /// Trilu: x where the column minus the row is at least k (upper) or at
  /// most k (lower), zero elsewhere; the mask is a constant.
  LogicalResult convertTrilu(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    int64_t k = 0;
    if (hasInput(node, 1)) {
      auto given = constantInts(node, 1, loc, "k");
      if (failed(given))
        return failure();
      if (given->size() != 1)
        return emitError(loc) << "Trilu's k must be one integer";
      k = given->front();
    }
    RankedTensorType type = typeOf(*x);
    if (type.getRank() < 2)
      return emitError(loc) << "Trilu needs at least two dimensions, got " << type;
    int64_t rows = type.getDimSize(type.getRank() - 2), cols = type.getDimSize(type.getRank() - 1);
    if (rows == 0 || cols == 0)
      return define(node, 0, *x);
    if (failed(checkBuiltSize({rows, cols}, loc, "Trilu's mask")))
      return failure();
    bool upper = attrInt(node, "upper", 1) != 0;
    SmallVector<bool> keep;
    keep.reserve(rows * cols);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        keep.push_back(upper ? c - r >= k : c - r <= k);
    auto maskType = RankedTensorType::get({rows, cols}, builder_.getI1Type());
    Value mask = arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(maskType, keep)).getResult();
    return define(node, 0, select(loc, mask, *x, scalarLike(*x, 0, loc)));
  }

  LogicalResult convertCastLike(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), like = lookup(node, 1, loc);
    if (failed(x) || failed(like))
      return failure();
    return define(node, 0, make1<nn::CastOp>(loc, *x, {named("dtype", TypeAttr::get(typeOf(*like).getElementType()))}));
  }

  /// Size: the element count of a static shape, a constant.
  LogicalResult convertSize(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    auto tensor = std::make_unique<onnx::TensorProto>();
    tensor->set_name(node.output(0));
    tensor->set_data_type(onnx::TensorProto::INT64);
    tensor->add_int64_data(typeOf(*x).getNumElements());
    return defineConstant(node, std::move(tensor), loc);
  }

  /// EyeLike: ones on the k-th diagonal of x's 2-D shape, a constant.
  LogicalResult convertEyeLike(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    RankedTensorType type = typeOf(*x);
    if (type.getRank() != 2)
      return emitError(loc) << "EyeLike needs a 2-D input, got " << type;
    Type element = type.getElementType();
    if (const onnx::AttributeProto *dtype = findAttr(node, "dtype")) {
      auto given = elementType(static_cast<int32_t>(dtype->i()), loc, "EyeLike's dtype");
      if (failed(given))
        return failure();
      element = *given;
    }
    if (failed(checkBuiltSize(type.getShape(), loc, "EyeLike's result")))
      return failure();
    int64_t k = attrInt(node, "k", 0);
    SmallVector<Attribute> values;
    for (int64_t r = 0; r < type.getDimSize(0); ++r)
      for (int64_t c = 0; c < type.getDimSize(1); ++c) {
        double v = c - r == k ? 1.0 : 0.0;
        values.push_back(llvm::isa<FloatType>(element) ? Attribute(FloatAttr::get(element, v))
                                                       : Attribute(IntegerAttr::get(element, static_cast<int64_t>(v))));
      }
    return define(node, 0,
                  arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(type.clone(element), values))
                      .getResult());
  }

  /// DepthToSpace and SpaceToDepth: a reshape, a transpose and a reshape.
  LogicalResult convertDepthSpace(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    RankedTensorType type = typeOf(*x);
    int64_t b = attrInt(node, "blocksize", 0);
    if (type.getRank() != 4 || b <= 0)
      return emitError(loc) << node.op_type() << " needs a 4-D input and a positive blocksize";
    int64_t n = type.getDimSize(0), c = type.getDimSize(1), h = type.getDimSize(2), w = type.getDimSize(3);
    SmallVector<int64_t> split, perm, out;
    if (node.op_type() == "DepthToSpace") {
      if (c % (b * b))
        return emitError(loc) << "DepthToSpace: " << c << " channels do not divide by blocksize^2 = " << b * b;
      if (attrString(node, "mode", "DCR") == "CRD") {
        split = {n, c / (b * b), b, b, h, w};
        perm = {0, 1, 4, 2, 5, 3};
      } else {
        split = {n, b, b, c / (b * b), h, w};
        perm = {0, 3, 4, 1, 5, 2};
      }
      out = {n, c / (b * b), h * b, w * b};
    } else {
      if (h % b || w % b)
        return emitError(loc) << "SpaceToDepth: " << h << "x" << w << " does not divide by blocksize " << b;
      split = {n, c, h / b, b, w / b, b};
      perm = {0, 3, 5, 1, 2, 4};
      out = {n, c * b * b, h / b, w / b};
    }
    auto a = make1<nn::ReshapeOp>(loc, *x, {i64s("shape", split)});
    if (failed(a))
      return failure();
    auto t = make1<nn::TransposeOp>(loc, *a, {i64s("perm", perm)});
    if (failed(t))
      return failure();
    return define(node, 0, make1<nn::ReshapeOp>(loc, *t, {i64s("shape", out)}));
  }

  //===--- normalisations written with reductions -----------------------===//

  /// (x - mean) / sqrt(var + eps) over `axes`, kept for broadcasting.
  FailureOr<Value> standardize(Value x, ArrayRef<int64_t> axes, float epsilon, Location loc) {
    SmallVector<NamedAttribute> keep = {i64s("axis", axes), named("keep_dims", builder_.getBoolAttr(true))};
    auto mean = make1<nn::ReduceMeanOp>(loc, x, keep);
    if (failed(mean))
      return failure();
    auto centered = make1<nn::SubOp>(loc, {x, *mean});
    if (failed(centered))
      return failure();
    auto squared = make1<nn::MulOp>(loc, {*centered, *centered});
    if (failed(squared))
      return failure();
    auto variance = make1<nn::ReduceMeanOp>(loc, *squared, keep);
    if (failed(variance))
      return failure();
    auto shifted = make1<nn::AddOp>(loc, {*variance, scalarLike(x, epsilon, loc)});
    if (failed(shifted))
      return failure();
    auto deviation = make1<nn::SqrtOp>(loc, *shifted);
    if (failed(deviation))
      return failure();
    return make1<nn::DivOp>(loc, {*centered, *deviation});
  }

  /// y * scale + bias with both reshaped to `shape` (a channel axis followed
  /// by ones).
  FailureOr<Value> affine(Value y, Value scale, Value bias, ArrayRef<int64_t> shape, Location loc) {
    auto s = make1<nn::ReshapeOp>(loc, scale, {i64s("shape", shape)});
    auto b = make1<nn::ReshapeOp>(loc, bias, {i64s("shape", shape)});
    if (failed(s) || failed(b))
      return failure();
    auto scaled = make1<nn::MulOp>(loc, {y, *s});
    if (failed(scaled))
      return failure();
    return make1<nn::AddOp>(loc, {*scaled, *b});
  }

  /// InstanceNormalization: statistics per sample and channel, over the
  /// spatial dimensions.
  LogicalResult convertInstanceNorm(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), scale = lookup(node, 1, loc), bias = lookup(node, 2, loc);
    if (failed(x) || failed(scale) || failed(bias))
      return failure();
    RankedTensorType type = typeOf(*x);
    if (type.getRank() < 3 || typeOf(*scale).getNumElements() != type.getDimSize(1) ||
        typeOf(*bias).getNumElements() != type.getDimSize(1))
      return emitError(loc) << "InstanceNormalization needs [N, C, ...] data and C scales and biases";
    SmallVector<int64_t> axes, channel(type.getRank() - 1, 1);
    for (int64_t d = 2; d < type.getRank(); ++d)
      axes.push_back(d);
    channel[0] = type.getDimSize(1);
    auto y = standardize(*x, axes, attrFloat(node, "epsilon", 1e-5f), loc);
    if (failed(y))
      return failure();
    return define(node, 0, affine(*y, *scale, *bias, channel, loc));
  }

  /// GroupNormalization (opsets 18 and 21): statistics per sample over each
  /// group of C / num_groups channels and their spatial extent, on the data
  /// viewed as [N, G, C/G * spatial]. Opset 18 scales per group ([G]), 21
  /// per channel ([C]); the scale's length says which (they agree when
  /// G = C).
  LogicalResult convertGroupNorm(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc), scale = lookup(node, 1, loc), bias = lookup(node, 2, loc);
    if (failed(x) || failed(scale) || failed(bias))
      return failure();
    RankedTensorType type = typeOf(*x);
    int64_t groups = attrInt(node, "num_groups", 0);
    if (type.getRank() < 3)
      return emitError(loc) << "GroupNormalization needs [N, C, ...] data, got " << type;
    int64_t channels = type.getDimSize(1);
    if (groups <= 0 || channels % groups != 0)
      return emitError(loc) << "GroupNormalization num_groups " << groups << " must divide the " << channels
                            << " channels";
    int64_t scales = typeOf(*scale).getNumElements();
    if ((scales != groups && scales != channels) || typeOf(*bias).getNumElements() != scales)
      return emitError(loc) << "GroupNormalization needs " << groups << " (per group) or " << channels
                            << " (per channel) scales and biases, got " << scales << " and "
                            << typeOf(*bias).getNumElements();
    int64_t perGroup = type.getNumElements() / std::max<int64_t>(type.getDimSize(0) * groups, 1);
    auto grouped = reshaped(*x, {type.getDimSize(0), groups, perGroup}, loc);
    if (failed(grouped))
      return failure();
    FailureOr<Value> y = standardize(*grouped, {2}, attrFloat(node, "epsilon", 1e-5f), loc);
    if (failed(y))
      return failure();
    if (scales == groups && groups != channels) {
      y = affine(*y, *scale, *bias, {groups, 1}, loc);
      return define(node, 0, reshaped(y, type.getShape(), loc));
    }
    SmallVector<int64_t> channel(type.getRank() - 1, 1);
    channel[0] = channels;
    y = reshaped(y, type.getShape(), loc);
    if (failed(y))
      return failure();
    return define(node, 0, affine(*y, *scale, *bias, channel, loc));
  }

  /// LpNormalization: x divided by its L1 (sum of |x|) or L2 norm along
  /// `axis`.
  LogicalResult convertLpNorm(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    int64_t rank = typeOf(*x).getRank(), axis = attrInt(node, "axis", -1), p = attrInt(node, "p", 2);
    if (axis < -rank || axis >= rank)
      return emitError(loc) << "LpNormalization axis " << axis << " is out of range for " << typeOf(*x);
    if (p != 1 && p != 2)
      return emitError(loc) << "LpNormalization p must be 1 or 2, got " << p;
    SmallVector<NamedAttribute> keep = {i64s("axis", {axis < 0 ? axis + rank : axis}),
                                        named("keep_dims", builder_.getBoolAttr(true))};
    FailureOr<Value> norm = failure();
    if (p == 1) {
      auto magnitude = absOf(*x, loc);
      if (failed(magnitude))
        return failure();
      norm = make1<nn::ReduceSumOp>(loc, *magnitude, keep);
    } else {
      auto squared = make1<nn::MulOp>(loc, {*x, *x});
      if (failed(squared))
        return failure();
      auto sum = make1<nn::ReduceSumOp>(loc, *squared, keep);
      if (failed(sum))
        return failure();
      norm = make1<nn::SqrtOp>(loc, *sum);
    }
    if (failed(norm))
      return failure();
    return define(node, 0, make1<nn::DivOp>(loc, {*x, *norm}));
  }

  //===--- recurrent layers: LSTM as nn.lstm, GRU and RNN unrolled --------===//

  /// `x[begin:end]` along `axis`; with `shrink`, the single index `begin`
  /// and the axis dropped.
  FailureOr<Value> sliceAlong(Value x, int64_t axis, int64_t begin, int64_t end, Location loc, bool shrink = false,
                              int64_t stride = 1) {
    SmallVector<int64_t> b(axis + 1, 0), e(axis + 1, std::numeric_limits<int64_t>::max()), s(axis + 1, 1);
    b[axis] = begin;
    e[axis] = end;
    s[axis] = stride;
    SmallVector<NamedAttribute> attributes = {i64s("begin", b), i64s("end", e), i64s("strides", s)};
    if (shrink)
      attributes.push_back(i64("shrink_axis_mask", int64_t(1) << axis));
    return make1<nn::StridedSliceOp>(loc, x, attributes);
  }
  FailureOr<Value> reshaped(FailureOr<Value> x, ArrayRef<int64_t> shape, Location loc) {
    if (failed(x))
      return failure();
    return make1<nn::ReshapeOp>(loc, *x, {i64s("shape", shape)});
  }
  FailureOr<Value> transposed(FailureOr<Value> x, ArrayRef<int64_t> perm, Location loc) {
    if (failed(x))
      return failure();
    return make1<nn::TransposeOp>(loc, *x, {i64s("perm", perm)});
  }
  Value zerosOf(ArrayRef<int64_t> shape, Type element, Location loc) {
    auto type = RankedTensorType::get(shape, element);
    return arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(type, FloatAttr::get(element, 0.0)))
        .getResult();
  }

  /// What LSTM, GRU and RNN share, in ONNX's time-major form.
  struct Recurrence {
    Value x;          ///< [seq, batch, input]
    Value w, r, b;    ///< [D, G*H, input], [D, G*H, H], [D, 2*G*H] or null
    Value h0;         ///< [D, batch, H] or null
    int64_t seq, batch, input, hidden, directions;
    bool reverse;     ///< direction "reverse": the one direction reads from the end
    bool batchFirst;  ///< layout 1: X, Y and the states put the batch first
  };

  FailureOr<Recurrence> recurrence(const onnx::NodeProto &node, int64_t gates, ArrayRef<StringRef> activations,
                                   Location loc) {
    StringRef op = node.op_type();
    auto x = lookup(node, 0, loc), w = lookup(node, 1, loc), r = lookup(node, 2, loc);
    if (failed(x) || failed(w) || failed(r))
      return failure();
    Recurrence rec;
    rec.batchFirst = attrInt(node, "layout", 0) != 0;
    std::string direction = attrString(node, "direction", "forward");
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
      return emitError(loc) << op << " direction '" << direction << "' is not forward, reverse or bidirectional";
    rec.reverse = direction == "reverse";
    rec.directions = direction == "bidirectional" ? 2 : 1;
    if (findAttr(node, "clip"))
      return emitError(loc) << op << "'s clip attribute is not supported";
    if (auto given = findAttr(node, "activations")) {
      for (auto [i, name] : llvm::enumerate(given->strings()))
        if (name != activations[i % activations.size()] &&
            (op == "LSTM" || (name != "Tanh" && name != "Sigmoid" && name != "Relu")))
          return emitError(loc) << op << " activation '" << name << "' is not supported"
                                << (op == "LSTM" ? " (LSTM: Sigmoid, Tanh, Tanh only)" : " (Sigmoid, Tanh, Relu)");
    }
    RankedTensorType xt = typeOf(*x), wt = typeOf(*w), rt = typeOf(*r);
    if (xt.getRank() != 3 || wt.getRank() != 3 || rt.getRank() != 3)
      return emitError(loc) << op << " needs X, W and R of rank 3";
    if (!llvm::isa<FloatType>(xt.getElementType()))
      return emitError(loc) << op << " needs floating-point X, got " << xt.getElementType();
    rec.x = *x;
    if (rec.batchFirst) {
      auto timeMajor = transposed(*x, {1, 0, 2}, loc);
      if (failed(timeMajor))
        return failure();
      rec.x = *timeMajor;
    }
    rec.seq = typeOf(rec.x).getDimSize(0);
    rec.batch = typeOf(rec.x).getDimSize(1);
    rec.input = typeOf(rec.x).getDimSize(2);
    rec.hidden = rt.getDimSize(2);
    if (wt.getDimSize(0) != rec.directions || wt.getDimSize(1) != gates * rec.hidden || wt.getDimSize(2) != rec.input ||
        rt.getShape() != ArrayRef<int64_t>{rec.directions, gates * rec.hidden, rec.hidden})
      return emitError(loc) << op << " with " << rec.directions << " direction(s), " << rec.input
                            << " inputs and hidden size " << rec.hidden << " needs W " << rec.directions << "x"
                            << gates * rec.hidden << "x" << rec.input << " and R " << rec.directions << "x"
                            << gates * rec.hidden << "x" << rec.hidden << ", got " << wt << " and " << rt;
    if (int64_t size = attrInt(node, "hidden_size", rec.hidden); size != rec.hidden)
      return emitError(loc) << op << " hidden_size " << size << " differs from R's " << rec.hidden;
    rec.w = *w;
    rec.r = *r;
    rec.b = optional(node, 3);
    if (rec.b && typeOf(rec.b).getShape() != ArrayRef<int64_t>{rec.directions, 2 * gates * rec.hidden})
      return emitError(loc) << op << " needs B " << rec.directions << "x" << 2 * gates * rec.hidden << ", got "
                            << typeOf(rec.b);
    if (hasInput(node, 4)) {
      auto lengths = constantInts(node, 4, loc, "sequence_lens");
      if (failed(lengths))
        return failure();
      for (int64_t length : *lengths)
        if (length != rec.seq)
          return emitError(loc) << op << " with sequence_lens shorter than the sequence (" << length << " of "
                                << rec.seq << ") is not supported";
    }
    if (failed(initialState(node, 5, rec, rec.h0, loc)))
      return failure();
    return rec;
  }

  /// Initial state input `index` as [D, batch, H] (null when absent).
  LogicalResult initialState(const onnx::NodeProto &node, int index, const Recurrence &rec, Value &state,
                             Location loc) {
    state = optional(node, index);
    if (!state)
      return success();
    SmallVector<int64_t> expected = {rec.directions, rec.batch, rec.hidden};
    if (rec.batchFirst)
      std::swap(expected[0], expected[1]);
    if (typeOf(state).getShape() != ArrayRef<int64_t>(expected))
      return emitError(loc) << node.op_type() << " input " << index << " must be " << RankedTensorType::get(expected, typeOf(rec.x).getElementType()) << ", got "
                            << typeOf(state);
    if (rec.batchFirst) {
      auto stateMajor = transposed(state, {1, 0, 2}, loc);
      if (failed(stateMajor))
        return failure();
      state = *stateMajor;
    }
    return success();
  }

  /// Y ([seq, D, batch, H], or [batch, seq, D, H] with layout 1) and Y_h.
  LogicalResult defineSequenceOutputs(const onnx::NodeProto &node, const Recurrence &rec, Value y, Value yh,
                                      Location loc) {
    if (failed(define(node, 0, rec.batchFirst ? transposed(y, {2, 0, 1, 3}, loc) : FailureOr<Value>(y))))
      return failure();
    return define(node, 1, rec.batchFirst ? transposed(yh, {1, 0, 2}, loc) : FailureOr<Value>(yh));
  }

  /// ONNX's LSTM gates are i, o, f, c; MindSpore's (and torch's) i, f, c, o.
  FailureOr<Value> lstmGateOrder(Value x, int64_t hidden, Location loc) {
    SmallVector<Value> pieces;
    for (int64_t gate : {0, 2, 3, 1}) {
      auto piece = sliceAlong(x, 1, gate * hidden, (gate + 1) * hidden, loc);
      if (failed(piece))
        return failure();
      pieces.push_back(*piece);
    }
    return make1<nn::ConcatOp>(loc, pieces, {i64("axis", 1)});
  }

  /// LSTM as MindSpore's primitive: the gates reordered and the weights
  /// flattened into its one `w`, the two biases summed; the reverse
  /// direction reads and writes the sequence backwards.
  LogicalResult convertLSTM(const onnx::NodeProto &node, Location loc) {
    if (hasInput(node, 7))
      return emitError(loc) << "LSTM peepholes (input P) are not supported: MindSpore's LSTM has none";
    if (attrInt(node, "input_forget", 0) != 0)
      return emitError(loc) << "LSTM input_forget is not supported: MindSpore's LSTM has no coupled gates";
    auto rec = recurrence(node, 4, {"Sigmoid", "Tanh", "Tanh"}, loc);
    if (failed(rec) || failed(onlyOutputs(node, 3, loc)))
      return failure();
    Value c0;
    if (failed(initialState(node, 6, *rec, c0, loc)))
      return failure();
    int64_t d = rec->directions, h = rec->hidden;
    Type element = typeOf(rec->x).getElementType();
    Value h0 = rec->h0 ? rec->h0 : zerosOf({d, rec->batch, h}, element, loc);
    if (!c0)
      c0 = rec->h0 ? zerosOf({d, rec->batch, h}, element, loc) : h0;
    SmallVector<Value> flat;
    for (Value weight : {rec->w, rec->r}) {
      auto ordered = reshaped(lstmGateOrder(weight, h, loc), {typeOf(weight).getNumElements()}, loc);
      if (failed(ordered))
        return failure();
      flat.push_back(*ordered);
    }
    if (rec->b) {
      auto summed = make1<nn::AddOp>(loc, {*sliceAlong(rec->b, 1, 0, 4 * h, loc), *sliceAlong(rec->b, 1, 4 * h, 8 * h, loc)});
      if (failed(summed))
        return failure();
      auto ordered = reshaped(lstmGateOrder(*summed, h, loc), {d * 4 * h}, loc);
      if (failed(ordered))
        return failure();
      flat.push_back(*ordered);
    }
    auto joined = make1<nn::ConcatOp>(loc, flat, {i64("axis", 0)});
    int64_t count = nn::lstmWeightCount(rec->input, h, 1, rec->b != nullptr, d == 2);
    auto w = reshaped(joined, {count, 1, 1}, loc);
    if (failed(w))
      return failure();
    Value x = rec->x;
    if (rec->reverse) {
      auto backwards = sliceAlong(x, 0, -1, std::numeric_limits<int64_t>::min(), loc, false, -1);
      if (failed(backwards))
        return failure();
      x = *backwards;
    }
    auto lstm = make<nn::LSTMOp>(loc, {x, h0, c0, *w},
                                 {i64("input_size", rec->input), i64("hidden_size", h),
                                  named("has_bias", builder_.getBoolAttr(rec->b != nullptr)),
                                  named("bidirectional", builder_.getBoolAttr(d == 2))});
    if (failed(lstm))
      return failure();
    Value y = (*lstm)->getResult(0);
    if (rec->reverse) {
      auto forwards = sliceAlong(y, 0, -1, std::numeric_limits<int64_t>::min(), loc, false, -1);
      if (failed(forwards))
        return failure();
      y = *forwards;
    }
    auto y4 = transposed(reshaped(y, {rec->seq, rec->batch, d, h}, loc), {0, 2, 1, 3}, loc);
    if (failed(y4) || failed(defineSequenceOutputs(node, *rec, *y4, (*lstm)->getResult(1), loc)))
      return failure();
    Value cn = (*lstm)->getResult(2);
    if (node.output_size() < 3 || node.output(2).empty())
      return success();
    return define(node, 2, rec->batchFirst ? transposed(cn, {1, 0, 2}, loc) : FailureOr<Value>(cn));
  }

  FailureOr<Value> activation(StringRef name, Value x, Location loc) {
    if (name == "Sigmoid")
      return make1<nn::SigmoidOp>(loc, x);
    if (name == "Relu")
      return make1<nn::ReLUOp>(loc, x);
    return make1<nn::TanhOp>(loc, x);
  }

  /// GRU (gates z, r, h) and RNN (one gate) unrolled over the sequence into
  /// products and element-wise ops: MindSpore 1.7 has no CPU primitive for
  /// either, and its own nn.GRU and nn.RNN run the same cell step by step.
  LogicalResult convertUnrolledRecurrence(const onnx::NodeProto &node, Location loc) {
    bool gru = node.op_type() == "GRU";
    int64_t gates = gru ? 3 : 1;
    SmallVector<StringRef> defaults = gru ? SmallVector<StringRef>{"Sigmoid", "Tanh"} : SmallVector<StringRef>{"Tanh"};
    auto rec = recurrence(node, gates, defaults, loc);
    if (failed(rec) || failed(onlyOutputs(node, 2, loc)))
      return failure();
    int64_t d = rec->directions, h = rec->hidden, s = rec->seq, n = rec->batch, gh = gates * h;
    if (failed(checkBuiltSize({s, d, n, h}, loc, node.op_type() + " unrolled")) || s > 4096)
      return emitError(loc) << node.op_type() << " over " << s << " steps is too long to unroll (4096 at most)";
    SmallVector<std::string> names;
    if (auto given = findAttr(node, "activations"))
      names.assign(given->strings().begin(), given->strings().end());
    bool linearBeforeReset = attrInt(node, "linear_before_reset", 0) != 0;
    SmallVector<Value> sequences, finals;
    for (int64_t dir = 0; dir < d; ++dir) {
      auto act = [&](int64_t k) -> StringRef {
        size_t i = dir * defaults.size() + k;
        return i < names.size() ? StringRef(names[i]) : defaults[k];
      };
      auto w = reshaped(sliceAlong(rec->w, 0, dir, dir + 1, loc), {gh, rec->input}, loc);
      auto r = reshaped(sliceAlong(rec->r, 0, dir, dir + 1, loc), {gh, h}, loc);
      if (failed(w) || failed(r))
        return failure();
      Value wb, rb;
      if (rec->b) {
        auto wbias = reshaped(sliceAlong(rec->b, 0, dir, dir + 1, loc), {2 * gh}, loc);
        if (failed(wbias))
          return failure();
        wb = *sliceAlong(*wbias, 0, 0, gh, loc);
        rb = *sliceAlong(*wbias, 0, gh, 2 * gh, loc);
      }
      // The input's share of every step in one product.
      auto xw = make1<nn::MatMulOp>(loc, {*reshaped(rec->x, {s * n, rec->input}, loc), *w},
                                    {named("transpose_b", builder_.getBoolAttr(true))});
      if (failed(xw))
        return failure();
      Value projected = *xw;
      if (wb)
        projected = *make1<nn::AddOp>(loc, {projected, wb});
      projected = *reshaped(projected, {s, n, gh}, loc);
      // The reset gate multiplies the state before the candidate's product
      // (linear_before_reset 0): that product is separate from z's and r's.
      Value rZR = *r, rH, rbZR = rb, rbH;
      if (gru && !linearBeforeReset) {
        rZR = *sliceAlong(*r, 0, 0, 2 * h, loc);
        rH = *sliceAlong(*r, 0, 2 * h, 3 * h, loc);
        if (rb) {
          rbZR = *sliceAlong(rb, 0, 0, 2 * h, loc);
          rbH = *sliceAlong(rb, 0, 2 * h, 3 * h, loc);
        }
      }
      Value state = rec->h0 ? *reshaped(sliceAlong(rec->h0, 0, dir, dir + 1, loc), {n, h}, loc)
                            : zerosOf({n, h}, typeOf(rec->x).getElementType(), loc);
      SmallVector<Value> outputs(s);
      bool backwards = rec->reverse || dir == 1;
      for (int64_t k = 0; k < s; ++k) {
        int64_t t = backwards ? s - 1 - k : k;
        auto xt = sliceAlong(projected, 0, t, t + 1, loc, /*shrink=*/true);
        auto hr = make1<nn::MatMulOp>(loc, {state, rZR}, {named("transpose_b", builder_.getBoolAttr(true))});
        if (failed(xt) || failed(hr))
          return failure();
        Value recurrent = rbZR ? *make1<nn::AddOp>(loc, {*hr, rbZR}) : *hr;
        if (!gru) {
          auto next = activation(act(0), *make1<nn::AddOp>(loc, {*xt, recurrent}), loc);
          if (failed(next))
            return failure();
          state = *next;
        } else {
          auto gate = [&](Value a, Value b, int64_t g) {
            return make1<nn::AddOp>(loc, {*sliceAlong(a, 1, g * h, (g + 1) * h, loc),
                                          *sliceAlong(b, 1, g * h, (g + 1) * h, loc)});
          };
          auto z = activation(act(0), *gate(*xt, recurrent, 0), loc);
          auto reset = activation(act(0), *gate(*xt, recurrent, 1), loc);
          if (failed(z) || failed(reset))
            return failure();
          Value candidateInput;
          if (linearBeforeReset) {
            candidateInput = *make1<nn::MulOp>(loc, {*reset, *sliceAlong(recurrent, 1, 2 * h, 3 * h, loc)});
          } else {
            auto product = make1<nn::MatMulOp>(loc, {*make1<nn::MulOp>(loc, {*reset, state}), rH},
                                               {named("transpose_b", builder_.getBoolAttr(true))});
            if (failed(product))
              return failure();
            candidateInput = rbH ? *make1<nn::AddOp>(loc, {*product, rbH}) : *product;
          }
          auto candidate =
              activation(act(1), *make1<nn::AddOp>(loc, {*sliceAlong(*xt, 1, 2 * h, 3 * h, loc), candidateInput}), loc);
          if (failed(candidate))
            return failure();
          // (1 - z) * candidate + z * state
          auto kept = make1<nn::MulOp>(loc, {*z, *make1<nn::SubOp>(loc, {state, *candidate})});
          if (failed(kept))
            return failure();
          state = *make1<nn::AddOp>(loc, {*candidate, *kept});
        }
        outputs[t] = *reshaped(state, {1, 1, n, h}, loc);
      }
      sequences.push_back(*make1<nn::ConcatOp>(loc, outputs, {i64("axis", 0)}));
      finals.push_back(*reshaped(state, {1, n, h}, loc));
    }
    Value y = d == 1 ? sequences[0] : *make1<nn::ConcatOp>(loc, sequences, {i64("axis", 1)});
    Value yh = d == 1 ? finals[0] : *make1<nn::ConcatOp>(loc, finals, {i64("axis", 0)});
    return defineSequenceOutputs(node, *rec, y, yh, loc);
  }

  //===--- Resize and Upsample as separable gathers --------------------===//

  /// One output position of a resized axis: the input indices it reads and
  /// their weights, or outside the input (tf_crop_and_resize extrapolates).
  struct ResizeTaps {
    SmallVector<int64_t, 4> index;
    SmallVector<double, 4> weight;
    bool outside = false;
  };

  /// The taps of every output position of one axis, as ONNX's reference
  /// computes them: the source coordinate by the coordinate transformation,
  /// then the nearest element or the linear or cubic neighbours (edge
  /// elements repeat past the border).
  /// `scale × in`, not the whole output extent, scales ONNX's coordinates.
  FailureOr<SmallVector<ResizeTaps>> resizeAxis(const onnx::NodeProto &node, int64_t in, int64_t out, double scale,
                                                double roiStart, double roiEnd, StringRef mode, StringRef transform,
                                                StringRef nearestMode, Location loc) {
    double outWidth = scale * in;
    double a = attrFloat(node, "cubic_coeff_a", -0.75f);
    bool excludeOutside = attrInt(node, "exclude_outside", 0) != 0;
    SmallVector<ResizeTaps> taps(out);
    for (int64_t i = 0; i < out; ++i) {
      double x;
      if (transform == "half_pixel") {
        x = (i + 0.5) / scale - 0.5;
      } else if (transform == "half_pixel_symmetric") {
        double adjustment = out / outWidth, center = in / 2.0;
        x = center * (1 - adjustment) + (i + 0.5) / scale - 0.5;
      } else if (transform == "pytorch_half_pixel") {
        x = outWidth > 1 ? (i + 0.5) / scale - 0.5 : -0.5;
      } else if (transform == "align_corners") {
        x = outWidth == 1 ? 0 : i * double(in - 1) / (outWidth - 1);
      } else if (transform == "asymmetric") {
        x = i / scale;
      } else if (transform == "tf_crop_and_resize") {
        x = out > 1 ? roiStart * (in - 1) + i * (roiEnd - roiStart) * (in - 1) / double(out - 1)
                    : 0.5 * (roiStart + roiEnd) * (in - 1);
        if (x < 0 || x > in - 1)
          taps[i].outside = true;
      } else {
        return emitError(loc) << "Resize coordinate_transformation_mode '" << transform << "' is not supported";
      }
      auto clampIndex = [&](int64_t k) { return std::clamp<int64_t>(k, 0, in - 1); };
      ResizeTaps &t = taps[i];
      if (mode == "nearest") {
        double f = std::floor(x), frac = x - f;
        int64_t k;
        if (nearestMode == "round_prefer_floor")
          k = frac == 0.5 ? int64_t(f) : int64_t(std::round(x));
        else if (nearestMode == "round_prefer_ceil")
          k = frac == 0.5 ? int64_t(f) + 1 : int64_t(std::round(x));
        else if (nearestMode == "floor")
          k = int64_t(f);
        else if (nearestMode == "ceil")
          k = int64_t(std::ceil(x));
        else
          return emitError(loc) << "Resize nearest_mode '" << nearestMode << "' is not supported";
        t.index = {clampIndex(k)};
        t.weight = {1.0};
      } else if (mode == "linear") {
        double c = std::clamp(x, 0.0, double(in - 1)), f = std::floor(c), w = c - f;
        t.index = {clampIndex(int64_t(f)), clampIndex(int64_t(f) + 1)};
        t.weight = {1 - w, w};
      } else if (mode == "cubic") {
        double f = std::floor(x), s = x - f;
        double coeffs[4] = {((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
                            ((a + 2) * s - (a + 3)) * s * s + 1,
                            ((a + 2) * (1 - s) - (a + 3)) * (1 - s) * (1 - s) + 1,
                            ((a * (2 - s) - 5 * a) * (2 - s) + 8 * a) * (2 - s) - 4 * a};
        double total = 0;
        for (int tap = 0; tap < 4; ++tap) {
          int64_t k = int64_t(f) - 1 + tap;
          double w = coeffs[tap];
          if (excludeOutside && (k < 0 || k >= in))
            w = 0;
          t.index.push_back(clampIndex(k));
          t.weight.push_back(w);
          total += w;
        }
        if (excludeOutside && total != 0)
          for (double &w : t.weight)
            w /= total;
      } else {
        return emitError(loc) << "Resize mode '" << mode << "' is not supported";
      }
    }
    return taps;
  }

  /// Resize (opset 10 on), and Upsample: every axis whose size or
  /// coordinates change becomes gathers of the neighbours it reads, weighted
  /// by constants and summed. Exact for nearest; linear and cubic round as
  /// a float sum of products does.
  LogicalResult convertResize(const onnx::NodeProto &node, Location loc) {
    auto x = lookup(node, 0, loc);
    if (failed(x))
      return failure();
    RankedTensorType type = typeOf(*x);
    int64_t rank = type.getRank();
    if (!llvm::isa<FloatType>(type.getElementType()))
      return emitError(loc) << node.op_type() << " of " << type << " is not supported (floating point only)";
    if (attrInt(node, "antialias", 0))
      return emitError(loc) << "Resize with antialias is not supported";
    bool legacy = node.op_type() == "Upsample" || opset_ < 11;
    std::string mode = attrString(node, "mode", "nearest");
    std::string transform =
        legacy ? "asymmetric" : attrString(node, "coordinate_transformation_mode", "half_pixel");
    int scalesInput = legacy ? 1 : 2, sizesInput = 3;
    // Upsample and Resize before opset 11 repeat elements: floor(i / scale).
    std::string nearestMode = legacy ? "floor" : attrString(node, "nearest_mode", "round_prefer_floor");
    SmallVector<int64_t> axes;
    if (auto given = attrInts(node, "axes")) {
      for (int64_t axis : *given)
        axes.push_back(axis < 0 ? axis + rank : axis);
    } else {
      for (int64_t d = 0; d < rank; ++d)
        axes.push_back(d);
    }
    for (int64_t axis : axes)
      if (axis < 0 || axis >= rank)
        return emitError(loc) << node.op_type() << " axis out of range for rank " << rank;
    // A scaled extent, rounded; out of range (refused below) when it would
    // not fit the index tables.
    auto extentOf = [](double value, double (*round)(double)) -> int64_t {
      double rounded = round(value);
      return rounded >= 0 && rounded <= double(kMaxBuiltElements) ? static_cast<int64_t>(rounded) : -1;
    };
    SmallVector<double> scales(rank, 1.0), roi;
    SmallVector<int64_t> sizes(type.getShape());
    auto elementCount = [&](int index) -> int64_t {
      if (!hasInput(node, index))
        return 0;
      auto constant = constantTensor(node, index, loc, "input");
      if (failed(constant))
        return -1;
      int64_t count = 1;
      for (int64_t d : (*constant)->dims())
        count *= d;
      return count;
    };
    auto floats = [&](int index, StringRef what) -> FailureOr<SmallVector<double>> {
      auto constant = constantTensor(node, index, loc, what);
      if (failed(constant))
        return failure();
      auto bytes = model_.tensorBytes(**constant);
      if (!bytes)
        return emitError(loc) << llvm::toString(bytes.takeError());
      SmallVector<double> values;
      int32_t kind = (*constant)->data_type();
      size_t width = kind == onnx::TensorProto::DOUBLE ? 8 : 4;
      if (kind != onnx::TensorProto::FLOAT && kind != onnx::TensorProto::DOUBLE)
        return emitError(loc) << node.op_type() << "'s " << what << " must be float";
      for (size_t i = 0; i + width <= bytes->size(); i += width) {
        if (width == 8) {
          double v;
          std::memcpy(&v, bytes->data() + i, 8);
          values.push_back(v);
        } else {
          float v;
          std::memcpy(&v, bytes->data() + i, 4);
          values.push_back(v);
        }
      }
      return values;
    };
    if (node.op_type() == "Upsample" && opset_ < 9) {
      auto given = attrFloats(node, "scales");
      if (!given)
        return emitError(loc) << "Upsample needs scales";
      for (auto [axis, s] : llvm::zip_equal(axes, *given))
        scales[axis] = s;
      for (int64_t d = 0; d < rank; ++d)
        sizes[d] = extentOf(type.getDimSize(d) * scales[d], std::floor);
    } else if (int64_t sizeCount = elementCount(sizesInput); sizeCount > 0 && !legacy) {
      auto given = constantInts(node, sizesInput, loc, "sizes");
      if (failed(given))
        return failure();
      if (given->size() != axes.size())
        return emitError(loc) << "Resize's sizes hold " << given->size() << " values for " << axes.size() << " axes";
      std::string policy = attrString(node, "keep_aspect_ratio_policy", "stretch");
      if (policy == "stretch") {
        for (auto [axis, s] : llvm::zip_equal(axes, *given)) {
          sizes[axis] = s;
          scales[axis] = double(s) / double(type.getDimSize(axis));
        }
      } else {
        double common = policy == "not_larger" ? std::numeric_limits<double>::infinity() : 0;
        for (auto [axis, s] : llvm::zip_equal(axes, *given)) {
          double r = double(s) / double(type.getDimSize(axis));
          common = policy == "not_larger" ? std::min(common, r) : std::max(common, r);
        }
        for (int64_t axis : axes) {
          scales[axis] = common;
          sizes[axis] = extentOf(common * type.getDimSize(axis), std::round);
        }
      }
    } else {
      if (sizeCount < 0 || elementCount(scalesInput) < 0)
        return failure();
      auto given = floats(scalesInput, "scales");
      if (failed(given))
        return failure();
      if (given->size() != axes.size())
        return emitError(loc) << node.op_type() << "'s scales hold " << given->size() << " values for " << axes.size()
                              << " axes";
      for (auto [axis, s] : llvm::zip_equal(axes, *given)) {
        if (!(s > 0))
          return emitError(loc) << node.op_type() << " scale " << s << " is not positive";
        scales[axis] = s;
        sizes[axis] = extentOf(type.getDimSize(axis) * s, std::floor);
      }
    }
    if (transform == "tf_crop_and_resize") {
      auto given = floats(1, "roi");
      if (failed(given))
        return failure();
      if (given->size() != 2 * axes.size())
        return emitError(loc) << "Resize's roi must hold a start and an end per axis";
      roi.assign(2 * rank, 0);
      for (int64_t d = 0; d < rank; ++d)
        roi[rank + d] = 1;
      for (auto [i, axis] : llvm::enumerate(axes)) {
        roi[axis] = (*given)[i];
        roi[rank + axis] = (*given)[i + axes.size()];
      }
    }
    float extrapolation = attrFloat(node, "extrapolation_value", 0.0f);
    Value y = *x;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t in = type.getDimSize(d), out = sizes[d];
      bool identity = in == out && scales[d] == 1.0 && transform != "tf_crop_and_resize";
      if (identity)
        continue;
      if (in == 0 || out <= 0)
        return emitError(loc) << node.op_type() << " of dimension " << d << " from " << in << " to " << out;
      if (failed(checkBuiltSize({out, 4}, loc, node.op_type() + "'s index table")))
        return failure();
      auto taps = resizeAxis(node, in, out, scales[d], roi.empty() ? 0 : roi[d], roi.empty() ? 1 : roi[rank + d],
                             mode, transform, nearestMode, loc);
      if (failed(taps))
        return failure();
      size_t count = taps->front().index.size();
      Value sum;
      for (size_t t = 0; t < count; ++t) {
        SmallVector<int64_t> index;
        SmallVector<Attribute> weights;
        bool unit = true;
        for (const ResizeTaps &tap : *taps) {
          index.push_back(tap.index[t]);
          weights.push_back(FloatAttr::get(type.getElementType(), tap.weight[t]));
          unit &= tap.weight[t] == 1.0;
        }
        auto indexType = RankedTensorType::get({out}, builder_.getI64Type());
        Value indices =
            arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(indexType, ArrayRef<int64_t>(index)));
        auto picked = make1<nn::GatherOp>(loc, {y, indices}, {i64("axis", d)});
        if (failed(picked))
          return failure();
        Value term = *picked;
        if (!unit) {
          SmallVector<int64_t> shape(rank, 1);
          shape[d] = out;
          Value w = arith::ConstantOp::create(
              builder_, loc, DenseElementsAttr::get(RankedTensorType::get(shape, type.getElementType()), weights));
          auto weighted = make1<nn::MulOp>(loc, {term, w});
          if (failed(weighted))
            return failure();
          term = *weighted;
        }
        if (!sum) {
          sum = term;
          continue;
        }
        auto added = make1<nn::AddOp>(loc, {sum, term});
        if (failed(added))
          return failure();
        sum = *added;
      }
      if (llvm::any_of(*taps, [](const ResizeTaps &t) { return t.outside; })) {
        SmallVector<int64_t> shape(rank, 1);
        shape[d] = out;
        SmallVector<bool> inside;
        for (const ResizeTaps &t : *taps)
          inside.push_back(!t.outside);
        Value mask = arith::ConstantOp::create(
            builder_, loc, DenseElementsAttr::get(RankedTensorType::get(shape, builder_.getI1Type()), inside));
        auto masked = select(loc, mask, sum, scalarLike(sum, extrapolation, loc));
        if (failed(masked))
          return failure();
        sum = *masked;
      }
      y = sum;
    }
    return define(node, 0, y);
  }

public:
  /// Converts the nodes of `graph` in order (the main graph, or an If
  /// branch imported in place).
  LogicalResult importNodes(const onnx::GraphProto &graph) {
    for (auto [index, node] : llvm::enumerate(graph.node())) {
      Location loc = nodeLoc(node, static_cast<int>(index));
      if (node.output_size() == 0)
        return emitError(loc) << node.op_type() << " node has no outputs";
      bool standardDomain = node.domain().empty() || node.domain() == "ai.onnx";
      Converter converter = standardDomain ? converterFor(node.op_type()) : nullptr;
      if (standardDomain) {
        auto folded = foldShapeArithmetic(node, loc);
        if (failed(folded))
          return failure();
        if (*folded)
          continue;
      }
      if (!converter)
        return emitError(loc) << "unsupported ONNX op '"
                              << (standardDomain ? node.op_type() : node.domain() + "." + node.op_type())
                              << "' (node '" << (node.name().empty() ? "#" + std::to_string(index) : node.name())
                              << "')";
      if (failed((this->*converter)(node, loc)))
        return failure();
    }
    return success();
  }

  /// A branch or loop body imported in place: its initializers as
  /// constants, then its nodes.
  LogicalResult importSubgraph(const onnx::GraphProto &graph, Location loc) {
    for (const onnx::TensorProto &tensor : graph.initializer()) {
      constants_[tensor.name()] = &tensor;
      auto value = materialize(tensor, loc);
      if (failed(value))
        return failure();
      values_[tensor.name()] = *value;
    }
    return importNodes(graph);
  }

  /// If: a condition known at import (an initializer, a Constant node, a
  /// value computed from constants, or one given with --input-value)
  /// selects its branch, whose initializers and nodes are imported in place
  /// (ONNX names are unique across a graph and its branches). A condition
  /// known only at run time is refused.
  LogicalResult convertIf(const onnx::NodeProto &node, Location loc) {
    if (node.input_size() < 1 || node.input(0).empty())
      return emitError(loc) << "If needs its condition";
    auto condition = knownConstant(node, 0, loc, "condition");
    if (failed(condition))
      return failure();
    if (!*condition)
      return emitError(loc) << "If whose condition ('" << node.input(0)
                            << "') is only known at run time is not supported: dinfer imports an If whose "
                               "condition folds to a constant";
    auto bytes = model_.tensorBytes(**condition);
    if (!bytes)
      return emitError(loc) << llvm::toString(bytes.takeError());
    if ((*condition)->data_type() != onnx::TensorProto::BOOL || bytes->size() != 1)
      return emitError(loc) << "If's condition ('" << node.input(0) << "') must be a single bool";
    bool taken = (*bytes)[0] != 0;
    const onnx::AttributeProto *branch = findAttr(node, taken ? "then_branch" : "else_branch");
    if (!branch || !branch->has_g())
      return emitError(loc) << "If has no " << (taken ? "then_branch" : "else_branch") << " graph";
    const onnx::GraphProto &graph = branch->g();
    if (failed(importSubgraph(graph, loc)))
      return failure();
    if (graph.output_size() != node.output_size())
      return emitError(loc) << "If's " << (taken ? "then_branch" : "else_branch") << " has " << graph.output_size()
                            << " outputs for the node's " << node.output_size();
    for (int i = 0; i < graph.output_size(); ++i) {
      auto it = values_.find(graph.output(i).name());
      if (it == values_.end())
        return emitError(loc) << "If branch output '" << graph.output(i).name() << "' is not produced by any node";
      if (failed(define(node, i, it->second)))
        return failure();
      auto constant = constants_.find(graph.output(i).name());
      if (constant != constants_.end() && !node.output(i).empty())
        constants_[node.output(i)] = constant->second;
    }
    return success();
  }

  /// A scalar constant of the importer's own, known to later folds.
  Value ownScalar(const std::string &name, int32_t dataType, int64_t value, Location loc) {
    auto owned = std::make_unique<onnx::TensorProto>();
    owned->set_name(name);
    owned->set_data_type(dataType);
    if (dataType == onnx::TensorProto::INT64)
      owned->add_int64_data(value);
    else
      owned->add_int32_data(static_cast<int32_t>(value));
    constants_[name] = owned.get();
    FailureOr<Value> materialized = materialize(*owned, loc);
    ownedTensors_.push_back(std::move(owned));
    return succeeded(materialized) ? *materialized : Value();
  }

  /// One bool or integer scalar of a known tensor.
  FailureOr<int64_t> scalarOf(const onnx::TensorProto &tensor, StringRef what, Location loc) {
    auto bytes = model_.tensorBytes(tensor);
    if (!bytes)
      return emitError(loc) << llvm::toString(bytes.takeError());
    switch (tensor.data_type()) {
    case onnx::TensorProto::BOOL:
      if (bytes->size() == 1)
        return int64_t((*bytes)[0] != 0);
      break;
    case onnx::TensorProto::INT64:
      if (bytes->size() == 8) {
        int64_t v;
        std::memcpy(&v, bytes->data(), 8);
        return v;
      }
      break;
    case onnx::TensorProto::INT32:
      if (bytes->size() == 4) {
        int32_t v;
        std::memcpy(&v, bytes->data(), 4);
        return int64_t(v);
      }
      break;
    default: break;
    }
    return emitError(loc) << what << " must be a single bool or integer";
  }

  /// Loop whose trip count and condition are known at import, unrolled:
  /// the body's nodes are imported once per iteration with the iteration
  /// number and condition as constants and the loop-carried values bound to
  /// the previous iteration's; scan outputs are stacked along a new first
  /// axis. The condition the body computes must fold to a constant too.
  static constexpr int64_t kMaxUnrolledLoopNodes = int64_t(1) << 16;
  LogicalResult convertLoop(const onnx::NodeProto &node, Location loc) {
    const onnx::AttributeProto *bodyAttr = findAttr(node, "body");
    if (!bodyAttr || !bodyAttr->has_g())
      return emitError(loc) << "Loop has no body graph";
    const onnx::GraphProto &body = bodyAttr->g();
    int carried = node.input_size() - 2;
    if (carried < 0 || body.input_size() != carried + 2 || body.output_size() < carried + 1)
      return emitError(loc) << "Loop's body must take the iteration number, the condition and the " << carried
                            << " loop-carried values, and give the condition and them back";
    int scans = body.output_size() - 1 - carried;
    auto known = [&](int index, StringRef what) -> FailureOr<std::optional<int64_t>> {
      if (!hasInput(node, index))
        return std::optional<int64_t>();
      auto tensor = knownConstant(node, index, loc, what);
      if (failed(tensor))
        return failure();
      if (!*tensor)
        return emitError(loc) << "Loop whose " << what << " ('" << node.input(index)
                              << "') is only known at run time is not supported: dinfer unrolls a Loop whose trip "
                                 "count and condition fold to constants";
      auto value = scalarOf(**tensor, ("Loop's " + what).str(), loc);
      if (failed(value))
        return failure();
      return std::optional<int64_t>(*value);
    };
    auto tripCount = known(0, "trip count");
    if (failed(tripCount))
      return failure();
    auto initialCondition = known(1, "condition");
    if (failed(initialCondition))
      return failure();
    if (!*tripCount && !*initialCondition)
      return emitError(loc) << "Loop with neither a trip count nor a condition never ends";
    bool condition = initialCondition->value_or(1) != 0;
    int64_t limit = std::max<int64_t>(tripCount->value_or(std::numeric_limits<int64_t>::max()), 0);
    int64_t bodyNodes = std::max<int64_t>(body.node_size(), 1);

    SmallVector<Value> state;
    SmallVector<const onnx::TensorProto *> stateConstants;
    for (int i = 0; i < carried; ++i) {
      auto value = lookup(node, 2 + i, loc);
      if (failed(value))
        return failure();
      state.push_back(*value);
      auto constant = constants_.find(node.input(2 + i));
      stateConstants.push_back(constant == constants_.end() ? nullptr : constant->second);
    }
    SmallVector<SmallVector<Value>> scanned(scans);
    for (int64_t iteration = 0; iteration < limit && condition; ++iteration) {
      if ((iteration + 1) * bodyNodes > kMaxUnrolledLoopNodes)
        return emitError(loc) << "Loop would unroll into more than " << kMaxUnrolledLoopNodes << " nodes";
      // Names the body defines hold the previous iteration's values: none
      // of them may pass for a constant now.
      for (const onnx::NodeProto &inner : body.node())
        for (const std::string &output : inner.output())
          constants_.erase(output);
      const std::string &iterationName = body.input(0).name(), &conditionName = body.input(1).name();
      values_[iterationName] = ownScalar(iterationName, onnx::TensorProto::INT64, iteration, loc);
      values_[conditionName] = ownScalar(conditionName, onnx::TensorProto::BOOL, 1, loc);
      if (!values_[iterationName] || !values_[conditionName])
        return failure();
      for (int i = 0; i < carried; ++i) {
        const std::string &name = body.input(2 + i).name();
        values_[name] = state[i];
        if (stateConstants[i])
          constants_[name] = stateConstants[i];
        else
          constants_.erase(name);
      }
      if (failed(importSubgraph(body, loc)))
        return failure();
      auto produced = [&](int index) -> FailureOr<Value> {
        auto it = values_.find(body.output(index).name());
        if (it == values_.end())
          return emitError(loc) << "Loop body output '" << body.output(index).name()
                                << "' is not produced by any node";
        return it->second;
      };
      for (int i = 0; i < carried; ++i) {
        auto value = produced(1 + i);
        if (failed(value))
          return failure();
        state[i] = *value;
        auto constant = constants_.find(body.output(1 + i).name());
        stateConstants[i] = constant == constants_.end() ? nullptr : constant->second;
      }
      for (int k = 0; k < scans; ++k) {
        auto value = produced(1 + carried + k);
        if (failed(value))
          return failure();
        auto raised = make1<nn::ExpandDimsOp>(loc, *value, {i64("axis", 0)});
        if (failed(raised))
          return failure();
        scanned[k].push_back(*raised);
      }
      auto next = knownConstant(body.output(0).name(), "Loop", loc, "body condition");
      if (failed(next))
        return failure();
      if (!*next)
        return emitError(loc) << "Loop whose body condition ('" << body.output(0).name()
                              << "') is only known at run time is not supported: dinfer unrolls a Loop whose trip "
                                 "count and condition fold to constants";
      auto value = scalarOf(**next, "Loop's body condition", loc);
      if (failed(value))
        return failure();
      condition = *value != 0;
    }
    for (int i = 0; i < carried; ++i) {
      if (failed(define(node, i, state[i])))
        return failure();
      if (stateConstants[i] && i < node.output_size() && !node.output(i).empty())
        constants_[node.output(i)] = stateConstants[i];
    }
    for (int k = 0; k < scans; ++k) {
      if (1 + carried + k >= node.output_size() + 1)
        break;
      if (scanned[k].empty())
        return emitError(loc) << "Loop runs no iteration, so its scan output '" << body.output(1 + carried + k).name()
                              << "' has no shape";
      FailureOr<Value> stacked = scanned[k].size() == 1 ? FailureOr<Value>(scanned[k][0])
                                                         : make1<nn::ConcatOp>(loc, scanned[k], {i64("axis", 0)});
      if (failed(define(node, carried + k, stacked)))
        return failure();
    }
    return success();
  }

  /// The converter of every ONNX op type the importer takes: the one list of
  /// them (supportedOnnxOps reads its keys).
  static const llvm::StringMap<Converter> &converters() {
    static const llvm::StringMap<Converter> table = {
        {"Abs", &Importer::convertAbs},
        {"ArgMax", &Importer::convertArgReduce<nn::ArgmaxOp>},
        {"ArgMin", &Importer::convertArgReduce<nn::ArgminOp>},
        {"BitShift", &Importer::convertBitShift},
        {"CastLike", &Importer::convertCastLike},
        {"ConvTranspose", &Importer::convertConvTranspose},
        {"CumSum", &Importer::convertCumSum},
        {"DepthToSpace", &Importer::convertDepthSpace},
        {"EyeLike", &Importer::convertEyeLike},
        {"GatherElements", &Importer::convertGatherElements},
        {"GatherND", &Importer::convertGatherND},
        {"Gelu", &Importer::convertGelu},
        {"GroupNormalization", &Importer::convertGroupNorm},
        {"If", &Importer::convertIf},
        {"Loop", &Importer::convertLoop},
        {"InstanceNormalization", &Importer::convertInstanceNorm},
        {"LpNormalization", &Importer::convertLpNorm},
        {"LSTM", &Importer::convertLSTM},
        {"GRU", &Importer::convertUnrolledRecurrence},
        {"RNN", &Importer::convertUnrolledRecurrence},
        {"Hardmax", &Importer::convertHardmax},
        {"OneHot", &Importer::convertOneHot},
        {"Pad", &Importer::convertPad},
        {"ReduceL1", &Importer::convertComposedReduce},
        {"ReduceL2", &Importer::convertComposedReduce},
        {"ReduceLogSum", &Importer::convertComposedReduce},
        {"ReduceLogSumExp", &Importer::convertComposedReduce},
        {"ReduceMin", &Importer::convertReduce<nn::ReduceMinOp>},
        {"ReduceProd", &Importer::convertReduce<nn::ReduceProdOp>},
        {"ReduceSumSquare", &Importer::convertComposedReduce},
        {"Resize", &Importer::convertResize},
        {"Scatter", &Importer::convertScatterElements},
        {"ScatterElements", &Importer::convertScatterElements},
        {"ScatterND", &Importer::convertScatterND},
        {"Size", &Importer::convertSize},
        {"SpaceToDepth", &Importer::convertDepthSpace},
        {"Trilu", &Importer::convertTrilu},
        {"Upsample", &Importer::convertResize},
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
  if (opset_ != 0 && (opset_ < 7 || opset_ > 21))
    emitWarning(fileLoc) << "ONNX opset " << opset_ << " is outside the tested range 7 to 21";

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
    values_[tensor.name()] = dist::ParamOp::create(builder_, loc, type, tensor.name(), dist::LayoutAttr(), false, mlir::DenseI64ArrayAttr(), dist::PartsAttr()).getResult();
    constants_[tensor.name()] = &tensor;
  }

  if (failed(importNodes(graph)))
    return nullptr;

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
