//===- ImportMindIR.cpp - MindIR models into the nn dialect ---------------===//

#include "dinfer/Translate/ImportMindIR.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/MindIR.h"

#include "TranslateUtils.h"

#include "mind_ir.pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace dinfer;
using llvm::StringRef;

namespace {

using AttrList = google::protobuf::RepeatedPtrField<mind_ir::AttributeProto>;

/// Constants with more elements than this become resource blobs.
constexpr int64_t kMaxInlineConstantElements = 1024;

/// What a MindIR name stands for: a tensor, a compile-time constant, a tuple
/// or a monad.
struct Item {
  Value value;
  std::optional<SmallVector<int64_t>> ints;
  std::optional<double> scalar;
  Type dtype;
  std::vector<Item> tuple;
  bool isTuple = false;
  bool monad = false;
};

/// A primitive's attributes, from the primitives table or the node itself.
class Attrs {
public:
  explicit Attrs(const AttrList *list) : list_(list) {}

  const mind_ir::AttributeProto *find(StringRef name) const {
    if (list_)
      for (const mind_ir::AttributeProto &a : *list_)
        if (a.name() == name)
          return &a;
    return nullptr;
  }
  bool getBool(StringRef name, bool fallback) const {
    const auto *a = find(name);
    return a ? a->i() != 0 : fallback;
  }
  int64_t getInt(StringRef name, int64_t fallback) const {
    const auto *a = find(name);
    if (!a)
      return fallback;
    if (a->values_size() == 1)
      return a->values(0).ints_size() ? a->values(0).ints(0) : a->values(0).i();
    if (a->ints_size() == 1)
      return a->ints(0);
    return a->i();
  }
  std::string getString(StringRef name, StringRef fallback) const {
    const auto *a = find(name);
    if (!a)
      return fallback.str();
    if (!a->s().empty())
      return a->s();
    return a->strings_size() ? a->strings(0) : fallback.str();
  }
  std::optional<SmallVector<int64_t>> getInts(StringRef name) const {
    const auto *a = find(name);
    if (!a)
      return std::nullopt;
    SmallVector<int64_t> out;
    if (a->values_size())
      for (const auto &v : a->values())
        out.push_back(v.ints_size() ? v.ints(0) : v.i());
    else if (a->ints_size())
      out.assign(a->ints().begin(), a->ints().end());
    else if (a->type() != mind_ir::AttributeProto::TUPLE && a->type() != mind_ir::AttributeProto::LIST)
      out.push_back(a->i()); // a scalar; an empty tuple stays empty
    return out;
  }

private:
  const AttrList *list_;
};

class Importer {
public:
  Importer(const MindIRModel &model, MLIRContext *context, const MindIRImportOptions &options)
      : model_(model), context_(context), builder_(context), options_(options) {}
  OwningOpRef<ModuleOp> run();

private:
  FailureOr<Type> elementType(int32_t dataType, Location loc) {
    std::optional<DType> dtype = dtypeFromMindIR(dataType);
    Type type = dtype ? toMLIRType(*dtype, builder_) : Type();
    if (!type)
      return emitError(loc) << "MindIR data type " << dataType << " is not supported";
    return type;
  }

  FailureOr<RankedTensorType> tensorType(const mind_ir::TensorProto &tensor, Location loc) {
    auto element = elementType(tensor.data_type(), loc);
    if (failed(element))
      return failure();
    for (int64_t d : tensor.dims())
      if (d < 0)
        return emitError(loc) << "dynamic dimensions are not supported";
    return RankedTensorType::get(SmallVector<int64_t>(tensor.dims().begin(), tensor.dims().end()), *element);
  }

  FailureOr<Item> constant(const mind_ir::NodeProto &node, Location loc) {
    const mind_ir::AttributeProto *value = nullptr;
    for (const auto &a : node.attribute())
      if (a.name() == "value")
        value = &a;
    Item item;
    if (!value)
      return emitError(loc) << "Constant without a value";
    // The 0.1.0 scheme names monads in ref_attr_name.
    if (StringRef(value->ref_attr_name()).starts_with("Monad:")) {
      item.monad = true;
      return item;
    }
    switch (value->type()) {
    case mind_ir::AttributeProto::UMONAD:
    case mind_ir::AttributeProto::IOMONAD:
    case mind_ir::AttributeProto::NONE: item.monad = true; return item;
    case mind_ir::AttributeProto::TUPLE:
    case mind_ir::AttributeProto::LIST: {
      SmallVector<int64_t> ints(value->ints().begin(), value->ints().end());
      for (const auto &v : value->values())
        ints.push_back(v.ints_size() ? v.ints(0) : v.i());
      item.ints = ints;
      return item;
    }
    case mind_ir::AttributeProto::INT8:
    case mind_ir::AttributeProto::INT16:
    case mind_ir::AttributeProto::INT32:
    case mind_ir::AttributeProto::INT64:
    case mind_ir::AttributeProto::UINT8:
    case mind_ir::AttributeProto::BOOL:
      // The 0.1.0 scheme writes tuples as repeated ints of an INT64 attribute.
      if (value->ints_size())
        item.ints = SmallVector<int64_t>(value->ints().begin(), value->ints().end());
      else
        item.ints = SmallVector<int64_t>{value->i()};
      return item;
    case mind_ir::AttributeProto::FLOAT: item.scalar = value->f(); return item;
    case mind_ir::AttributeProto::DOUBLE: item.scalar = value->d(); return item;
    case mind_ir::AttributeProto::TENSORS:
    case mind_ir::AttributeProto::TENSOR: {
      const mind_ir::TensorProto &t = value->tensors_size() ? value->tensors(0) : value->t();
      auto element = elementType(t.data_type(), loc);
      if (failed(element))
        return failure();
      if (!t.has_raw_data()) { // a type object: Cast's dtype
        item.dtype = *element;
        return item;
      }
      auto type = tensorType(t, loc);
      if (failed(type))
        return failure();
      uint64_t expected = (type->getNumElements() * type->getElementTypeBitWidth() + 7) / 8;
      if (element->isInteger(1))
        expected = type->getNumElements();
      if (t.raw_data().size() != expected)
        return emitError(loc) << "constant of " << *type << " has " << t.raw_data().size() << " bytes, expected "
                              << expected;
      ElementsAttr attr;
      ArrayRef<char> raw(t.raw_data().data(), t.raw_data().size());
      if (element->isInteger(1)) {
        SmallVector<bool> bits(raw.begin(), raw.end());
        attr = DenseElementsAttr::get(*type, bits);
      } else if (type->getNumElements() <= kMaxInlineConstantElements) {
        attr = DenseElementsAttr::getFromRawBuffer(*type, raw);
      } else {
        // Weights held as constants stay out of the IR text: a resource blob.
        attr = DenseResourceElementsAttr::get(*type, node.name(),
                                              HeapAsmResourceBlob::allocateAndCopyWithAlign(raw, alignof(uint64_t)));
      }
      item.value = arith::ConstantOp::create(builder_, loc, llvm::cast<TypedAttr>(attr)).getResult();
      return item;
    }
    default:
      return emitError(loc) << "Constant of attribute type " << static_cast<int>(value->type()) << " is not supported";
    }
  }

  LogicalResult convert(const mind_ir::NodeProto &node, StringRef op, const Attrs &attrs, Location loc);
  /// An nn op from its primitive's node, as its ODS entry's MindIR table says.
  LogicalResult importPrimitive(const mind_ir::NodeProto &node, RegisteredOperationName name, const Attrs &attrs,
                                Location loc);
  /// The op attribute a primitive attribute field reads (null: the node
  /// leaves it at the op's default).
  FailureOr<Attribute> primitiveAttribute(const nn::MindIRField &field, StringRef primitive, const Attrs &attrs,
                                          Location loc);

  FailureOr<Item> input(const mind_ir::NodeProto &node, int index, Location loc) {
    if (index >= node.input_size())
      return emitError(loc) << "needs input " << index;
    auto it = items_.find(node.input(index));
    if (it == items_.end())
      return emitError(loc) << "input '" << node.input(index) << "' is not defined before its use";
    return it->second;
  }
  FailureOr<Value> tensorInput(const mind_ir::NodeProto &node, int index, Location loc) {
    auto item = input(node, index, loc);
    if (failed(item))
      return failure();
    if (!item->value)
      return emitError(loc) << "input " << index << " ('" << node.input(index) << "') is not a tensor";
    return item->value;
  }
  FailureOr<SmallVector<int64_t>> intsInput(const mind_ir::NodeProto &node, int index, Location loc) {
    auto item = input(node, index, loc);
    if (failed(item))
      return failure();
    if (!item->ints)
      return emitError(loc) << "input " << index << " ('" << node.input(index)
                            << "') must be a constant integer or tuple";
    return *item->ints;
  }

  /// The global ranks of a primitive's `group` attribute.
  FailureOr<SmallVector<int64_t>> groupRanks(const Attrs &attrs, Location loc) {
    std::string name = attrs.getString("group", "hccl_world_group");
    auto it = options_.groups.find(name);
    if (it != options_.groups.end())
      return SmallVector<int64_t>(it->second.begin(), it->second.end());
    if (name == "hccl_world_group") {
      SmallVector<int64_t> all;
      for (int64_t r = 0; r < options_.deviceNum; ++r)
        all.push_back(r);
      return all;
    }
    if (auto ranks = attrs.getInts("group_ranks"))
      return *ranks;
    return emitError(loc) << "communication group '" << name
                          << "' is not in the rank's group_config.pb and has no group_ranks attribute";
  }
  int64_t stageOfRank(int64_t rank) const { return options_.stageSize > 0 ? rank / options_.stageSize : 0; }
  LogicalResult convertCommunication(const mind_ir::NodeProto &node, StringRef op, const Attrs &attrs, Location loc,
                                     bool &handled);

  const MindIRModel &model_;
  MLIRContext *context_;
  OpBuilder builder_;
  llvm::StringMap<RegisteredOperationName> opsByPrimitive_ = nn::opsByPrimitive(builder_.getContext());
  MindIRImportOptions options_;
  llvm::StringMap<Item> items_;
};

LogicalResult Importer::convertCommunication(const mind_ir::NodeProto &node, StringRef op, const Attrs &attrs,
                                             Location loc, bool &handled) {
  std::string out = node.output_size() ? node.output(0) : node.name();
  auto defineValue = [&](FailureOr<Value> value) -> LogicalResult {
    if (failed(value))
      return failure();
    items_[out] = Item{*value};
    return success();
  };
  handled = true;
  if (op == "Send") {
    auto x = tensorInput(node, 0, loc);
    if (failed(x))
      return failure();
    dist::SendOp::create(builder_, loc, *x, stageOfRank(attrs.getInt("dest_rank", 0)), attrs.getInt("sr_tag", 0));
    // What reads a Send (a stage's output tuple) sees its input.
    items_[out] = Item{*x};
    return success();
  }
  if (op == "Receive") {
    auto shape = attrs.getInts("shape");
    const mind_ir::AttributeProto *dtype = attrs.find("dtype");
    if (!shape || !dtype || dtype->tensors_size() == 0)
      return emitError(loc) << "Receive needs its shape and dtype attributes";
    auto element = elementType(dtype->tensors(0).data_type(), loc);
    if (failed(element))
      return failure();
    auto recv = dist::RecvOp::create(builder_, loc, RankedTensorType::get(*shape, *element),
                                     stageOfRank(attrs.getInt("src_rank", 0)), attrs.getInt("sr_tag", 0));
    items_[out] = Item{recv.getResult()};
    return success();
  }
  bool collective =
      op == "AllReduce" || op == "AllGather" || op == "ReduceScatter" || op == "AlltoAll" || op == "Broadcast";
  if (!collective) {
    handled = false;
    return success();
  }
  auto ranks = groupRanks(attrs, loc);
  if (failed(ranks))
    return failure();
  DenseI64ArrayAttr axes = builder_.getDenseI64ArrayAttr({0});
  auto devMatrix = dist::DeviceMatrixAttr::get(context_, {static_cast<int64_t>(ranks->size())});
  auto withGroup = [&](Operation *created) -> Value {
    created->setAttr(dist::DistDialect::kGroupAttrName, builder_.getDenseI64ArrayAttr(*ranks));
    return created->getResult(0);
  };
  auto reduceKind = [&]() -> FailureOr<dist::ReduceKindAttr> {
    std::string kind = attrs.getString("op", "sum");
    std::optional<dist::ReduceKind> parsed = dist::symbolizeReduceKind(kind);
    if (!parsed)
      return emitError(loc) << op << " reduces with '" << kind << "', which dinfer does not run";
    return dist::ReduceKindAttr::get(context_, *parsed);
  };
  if (op == "Broadcast") {
    auto tuple = input(node, 0, loc);
    if (failed(tuple))
      return failure();
    Value x = tuple->isTuple && tuple->tuple.size() == 1 ? tuple->tuple.front().value : tuple->value;
    if (!x)
      return emitError(loc) << "Broadcast of something other than one tensor";
    int64_t rootRank = attrs.getInt("root_rank", 0);
    auto position = llvm::find(*ranks, rootRank);
    if (position == ranks->end())
      return emitError(loc) << "Broadcast's root_rank " << rootRank << " is not in its group";
    Value result = withGroup(dist::BroadcastOp::create(
        builder_, loc, x, builder_.getI64IntegerAttr(position - ranks->begin()), axes, devMatrix));
    Item tupleItem;
    tupleItem.isTuple = true;
    tupleItem.tuple.push_back(Item{result});
    items_[out] = tupleItem;
    return success();
  }
  auto x = tensorInput(node, 0, loc);
  if (failed(x))
    return failure();
  if (op == "AllReduce" || op == "ReduceScatter") {
    auto kind = reduceKind();
    if (failed(kind))
      return failure();
    if (op == "AllReduce")
      return defineValue(withGroup(dist::AllReduceOp::create(builder_, loc, *x, *kind, axes, devMatrix)));
    return defineValue(withGroup(
        dist::ReduceScatterOp::create(builder_, loc, *x, *kind, axes, builder_.getI64IntegerAttr(0), devMatrix)));
  }
  if (op == "AllGather")
    return defineValue(
        withGroup(dist::AllGatherOp::create(builder_, loc, *x, axes, builder_.getI64IntegerAttr(0), devMatrix)));
  return defineValue(withGroup(
      dist::AllToAllOp::create(builder_, loc, *x, axes, builder_.getI64IntegerAttr(attrs.getInt("split_dim", 0)),
                               builder_.getI64IntegerAttr(attrs.getInt("concat_dim", 0)), devMatrix)));
}

LogicalResult Importer::convert(const mind_ir::NodeProto &node, StringRef op, const Attrs &attrs, Location loc) {
  std::string out = node.output_size() ? node.output(0) : node.name();
  bool handled = false;
  if (failed(convertCommunication(node, op, attrs, loc, handled)))
    return failure();
  if (handled)
    return success();

  // MindSpore's plumbing.
  if (op == "Load" || op == "Depend" || op == "UpdateState") {
    auto item = input(node, 0, loc);
    if (failed(item))
      return failure();
    items_[out] = *item;
    return success();
  }
  if (op == "MakeTuple") {
    Item tuple;
    tuple.isTuple = true;
    for (int i = 0; i < node.input_size(); ++i) {
      auto item = input(node, i, loc);
      if (failed(item))
        return failure();
      tuple.tuple.push_back(*item);
    }
    items_[out] = tuple;
    return success();
  }
  if (op == "TupleGetItem") {
    auto tuple = input(node, 0, loc);
    auto index = intsInput(node, 1, loc);
    if (failed(tuple) || failed(index))
      return failure();
    if (!tuple->isTuple || index->size() != 1 || (*index)[0] < 0 ||
        (*index)[0] >= static_cast<int64_t>(tuple->tuple.size()))
      return emitError(loc) << "TupleGetItem index out of range";
    items_[out] = tuple->tuple[(*index)[0]];
    return success();
  }

  if (auto known = opsByPrimitive_.find(op); known != opsByPrimitive_.end())
    return importPrimitive(node, known->second, attrs, loc);

  return emitError(loc) << "unsupported MindSpore primitive '" << op << "'";
}

FailureOr<Attribute> Importer::primitiveAttribute(const nn::MindIRField &field, StringRef primitive,
                                                  const Attrs &attrs, Location loc) {
  const mind_ir::AttributeProto *given = attrs.find(field.mindir);
  StringRef missing = field.missing;
  if (!given && missing.empty())
    return Attribute();
  SmallVector<int64_t> ints;
  std::string text;
  if (given) {
    ints = attrs.getInts(field.mindir).value_or(SmallVector<int64_t>());
    text = attrs.getString(field.mindir, "");
  } else {
    text = missing.str();
    SmallVector<StringRef> pieces;
    missing.split(pieces, ',');
    for (StringRef piece : pieces) {
      int64_t value = 0;
      if (!piece.trim().getAsInteger(10, value))
        ints.push_back(value);
    }
  }
  auto noValue = [&]() -> FailureOr<Attribute> {
    return emitError(loc) << primitive << "'s attribute '" << field.mindir << "' holds no value";
  };
  switch (field.form) {
  case nn::MindIRForm::Bool: return Attribute(builder_.getBoolAttr(given ? given->i() != 0 : missing == "true"));
  case nn::MindIRForm::Int:
  case nn::MindIRForm::IntAsList:
    if (ints.empty())
      return noValue();
    return Attribute(builder_.getI64IntegerAttr(ints.front()));
  case nn::MindIRForm::Ints: return Attribute(builder_.getDenseI64ArrayAttr(ints));
  case nn::MindIRForm::Float: {
    double value = given ? given->f() : 0.0;
    if (!given && missing.getAsDouble(value))
      return noValue();
    return Attribute(builder_.getF32FloatAttr(static_cast<float>(value)));
  }
  case nn::MindIRForm::String: return Attribute(builder_.getStringAttr(text));
  case nn::MindIRForm::PoolPadMode: return Attribute(builder_.getStringAttr(StringRef(text).lower()));
  case nn::MindIRForm::Spatial: {
    // Written NCHW-style (NCDHW for three) with N and C first, or as the
    // spatial values alone, or one for all of them.
    size_t spatial = static_cast<size_t>(field.count);
    if (ints.size() == spatial + 2)
      return Attribute(builder_.getDenseI64ArrayAttr(ArrayRef<int64_t>(ints).drop_front(2)));
    if (ints.size() == 1)
      return Attribute(builder_.getDenseI64ArrayAttr(SmallVector<int64_t>(spatial, ints[0])));
    if (ints.size() == spatial)
      return Attribute(builder_.getDenseI64ArrayAttr(ints));
    return emitError(loc) << primitive << "'s attribute '" << field.mindir << "' has " << ints.size()
                          << " values, expected 1, " << spatial << " or " << spatial + 2;
  }
  default: return Attribute();
  }
}

LogicalResult Importer::importPrimitive(const mind_ir::NodeProto &node, RegisteredOperationName name,
                                        const Attrs &attrs, Location loc) {
  auto *primitive = name.getInterface<nn::MindSporePrimitiveOpInterface>();
  auto *infer = name.getInterface<InferTypeOpInterface>();
  StringRef primitiveName = primitive->getPrimitiveName();
  ArrayRef<nn::MindIRField> fields = primitive->getMindIRFields();

  SmallVector<Value> operands;
  NamedAttrList positional;
  int nextInput = 0;
  if (primitive->getMindIRTupleOperands()) {
    auto tuple = input(node, nextInput++, loc);
    if (failed(tuple))
      return failure();
    for (const Item &item : tuple->isTuple ? tuple->tuple : std::vector<Item>{*tuple}) {
      if (!item.value)
        return emitError(loc) << primitiveName << " of something other than tensors";
      operands.push_back(item.value);
    }
  } else {
    std::optional<unsigned> count = nn::fixedOperandCount(name);
    if (!count)
      return emitError(loc) << name << " has no fixed operand count and no tuple input: it cannot be read from MindIR";
    for (unsigned i = 0; i < *count; ++i) {
      for (const nn::MindIRField &field : fields) {
        if (field.form != nn::MindIRForm::IntInputAt || field.operand != nextInput)
          continue;
        auto given = intsInput(node, nextInput++, loc);
        if (failed(given))
          return failure();
        if (given->size() != 1)
          return emitError(loc) << primitiveName << "'s " << field.attr << " must be one integer";
        positional.set(field.attr, builder_.getI64IntegerAttr(given->front()));
      }
      auto item = input(node, nextInput++, loc);
      if (failed(item))
        return failure();
      Value value = item->value;
      bool scalar = llvm::any_of(fields, [&](const nn::MindIRField &field) {
        return field.form == nn::MindIRForm::ScalarOperand && field.operand == static_cast<int64_t>(i);
      });
      if (!value && scalar && item->ints && item->ints->size() == 1) {
        auto type = RankedTensorType::get({}, builder_.getI64Type());
        value = arith::ConstantOp::create(builder_, loc, DenseElementsAttr::get(type, item->ints->front()));
      }
      if (!value)
        return emitError(loc) << "input " << i << " ('" << node.input(i) << "') is not a tensor";
      operands.push_back(value);
    }
  }

  NamedAttrList attributes(positional);
  for (const nn::MindIRField &field : fields) {
    switch (field.form) {
    case nn::MindIRForm::IntInput:
    case nn::MindIRForm::IntsInput:
    case nn::MindIRForm::ResultShapeInput: {
      // Older files hold some of these as primitive attributes instead.
      std::optional<SmallVector<int64_t>> ints;
      if (nextInput < node.input_size()) {
        auto given = intsInput(node, nextInput++, loc);
        if (failed(given))
          return failure();
        ints = *given;
      } else {
        ints = attrs.getInts(field.attr);
      }
      if (!ints)
        break;
      if (field.form != nn::MindIRForm::IntInput)
        attributes.set(field.attr, builder_.getDenseI64ArrayAttr(*ints));
      else if (ints->size() == 1)
        attributes.set(field.attr, builder_.getI64IntegerAttr(ints->front()));
      else
        return emitError(loc) << primitiveName << "'s " << field.attr << " must be one integer";
      break;
    }
    case nn::MindIRForm::TypeInput: {
      auto item = input(node, nextInput++, loc);
      if (failed(item))
        return failure();
      if (!item->dtype)
        return emitError(loc) << primitiveName << "'s " << field.attr << " must be a constant type";
      attributes.set(field.attr, TypeAttr::get(item->dtype));
      break;
    }
    case nn::MindIRForm::FixedBool:
    case nn::MindIRForm::FixedInt:
    case nn::MindIRForm::FixedString: {
      const mind_ir::AttributeProto *given = attrs.find(field.mindir);
      if (!given)
        break;
      std::string got, expected;
      if (field.form == nn::MindIRForm::FixedString) {
        got = attrs.getString(field.mindir, "");
        expected = field.text;
      } else if (field.form == nn::MindIRForm::FixedBool) {
        got = attrs.getBool(field.mindir, false) ? "true" : "false";
        expected = field.value ? "true" : "false";
      } else {
        got = std::to_string(attrs.getInt(field.mindir, 0));
        expected = std::to_string(field.value);
      }
      if (got != expected)
        return emitError(loc) << primitiveName << " with " << field.mindir << " = " << got
                              << " is not supported (dinfer runs " << field.mindir << " = " << expected << ")";
      break;
    }
    case nn::MindIRForm::IntInputAt:
    case nn::MindIRForm::ScalarOperand:
    case nn::MindIRForm::OperandDims:
    case nn::MindIRForm::RequireInt:
    case nn::MindIRForm::RequireAll: break;
    default: {
      // Two primitive attributes may hold one op attribute (Conv2D's group
      // and groups): the first the file gives wins.
      if (attributes.get(field.attr))
        break;
      auto value = primitiveAttribute(field, primitiveName, attrs, loc);
      if (failed(value))
        return failure();
      if (*value)
        attributes.set(field.attr, *value);
      break;
    }
    }
  }

  SmallVector<Type> types;
  DictionaryAttr dictionary = attributes.getDictionary(context_);
  if (!infer || failed(infer->inferReturnTypes(context_, loc, operands, dictionary, /*properties=*/nullptr, {}, types)))
    return failure();
  OperationState state(loc, name);
  state.addOperands(operands);
  state.addAttributes(attributes);
  state.addTypes(types);
  Operation *op = builder_.create(state);

  std::string out = node.output_size() ? node.output(0) : node.name();
  switch (primitive->getMindIRResults()) {
  case nn::MindIRResults::Value: items_[out] = Item{op->getResult(0)}; break;
  case nn::MindIRResults::FirstOfTuple:
  case nn::MindIRResults::Tuple: {
    // FirstOfTuple: the statistics outputs are never read in inference;
    // only element 0 is.
    Item tuple;
    tuple.isTuple = true;
    for (Value result : op->getResults())
      tuple.tuple.push_back(Item{result});
    items_[out] = tuple;
    break;
  }
  }
  return success();
}

OwningOpRef<ModuleOp> Importer::run() {
  context_->loadDialect<nn::NNDialect, dist::DistDialect, func::FuncDialect, arith::ArithDialect>();
  const mind_ir::ModelProto &proto = model_.proto();
  const mind_ir::GraphProto &graph = proto.graph();
  Location fileLoc = FileLineColLoc::get(context_, model_.path(), 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  (*module)->setAttr("dinfer.source", builder_.getStringAttr("mindir"));

  llvm::StringMap<const mind_ir::PrimitiveProto *> primitives;
  for (const mind_ir::PrimitiveProto &p : proto.primitives())
    primitives[p.name()] = &p;

  SmallVector<Type> argTypes;
  for (const mind_ir::ValueInfoProto &input : graph.input()) {
    if (input.tensor_size() == 0) {
      emitError(fileLoc) << "graph input '" << input.name() << "' has no tensor type";
      return nullptr;
    }
    auto type = tensorType(input.tensor(0), fileLoc);
    if (failed(type))
      return nullptr;
    argTypes.push_back(*type);
  }
  builder_.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(builder_, fileLoc, "main", builder_.getFunctionType(argTypes, {}));
  Block *entry = function.addEntryBlock();
  for (auto [i, input] : llvm::enumerate(graph.input())) {
    items_[input.name()].value = entry->getArgument(i);
    StringRef local = StringRef(input.name()).split(':').second;
    function.setArgAttr(i, "dinfer.name", builder_.getStringAttr(local.empty() ? input.name() : local.str()));
  }
  builder_.setInsertionPointToStart(entry);
  for (const MindIRParameter &parameter : model_.parameters()) {
    const mind_ir::TensorProto &tensor = graph.parameter(parameter.index);
    Location loc = NameLoc::get(builder_.getStringAttr(parameter.name), fileLoc);
    auto type = tensorType(tensor, loc);
    if (failed(type))
      return nullptr;
    items_[tensor.name()].value = dist::ParamOp::create(builder_, loc, *type, parameter.name, dist::LayoutAttr(), false, mlir::DenseI64ArrayAttr(), dist::PartsAttr()).getResult();
  }

  for (auto [index, node] : llvm::enumerate(graph.node())) {
    StringRef raw = node.op_type();
    const AttrList *attrList = &node.attribute();
    std::string op = raw.str();
    if (raw.consume_front("REF::")) {
      auto it = primitives.find(raw);
      if (it == primitives.end()) {
        emitError(fileLoc) << "node '" << node.name() << "' calls '" << raw
                           << "', which is not a primitive (sub-graph calls are not supported)";
        return nullptr;
      }
      op = it->second->op_type();
      attrList = &it->second->attribute();
    }
    StringRef opName = op;
    opName.consume_front("S-Prim-");
    Location loc = NameLoc::get(builder_.getStringAttr(node.name() + " (" + opName.str() + ")"),
                                FileLineColLoc::get(context_, model_.path(), static_cast<unsigned>(index) + 1, 1));
    if (opName == "Constant") {
      auto item = constant(node, loc);
      if (failed(item))
        return nullptr;
      items_[node.output_size() ? node.output(0) : node.name()] = *item;
      continue;
    }
    if (opName == "Return")
      continue;
    if (failed(convert(node, opName, Attrs(attrList), loc)))
      return nullptr;
  }

  SmallVector<Value> results;
  for (const mind_ir::ValueInfoProto &output : graph.output()) {
    auto it = items_.find(output.name());
    if (it == items_.end()) {
      emitError(fileLoc) << "graph output '" << output.name() << "' is not produced by any node";
      return nullptr;
    }
    std::vector<Item> flat = it->second.isTuple ? it->second.tuple : std::vector<Item>{it->second};
    for (const Item &item : flat) {
      if (!item.value) {
        emitError(fileLoc) << "graph output '" << output.name() << "' is not a tensor";
        return nullptr;
      }
      results.push_back(item.value);
    }
  }
  func::ReturnOp::create(builder_, fileLoc, results);
  function.setFunctionType(builder_.getFunctionType(argTypes, ValueRange(results).getTypes()));
  if (results.size() == static_cast<size_t>(graph.output_size()))
    for (auto [i, output] : llvm::enumerate(graph.output())) {
      StringRef local = StringRef(output.name()).split(':').second;
      function.setResultAttr(i, "dinfer.name", builder_.getStringAttr(local.empty() ? output.name() : local.str()));
    }
  return module;
}

} // namespace

OwningOpRef<ModuleOp> dinfer::importMindIR(const MindIRModel &model, MLIRContext *context,
                                           const MindIRImportOptions &options) {
  return Importer(model, context, options).run();
}
