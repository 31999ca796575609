//===- ExportMindIR.cpp - nn-dialect programs as MindIR -------------------===//

#include "dinfer/Translate/ExportMindIR.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Version.h"

#include "TranslateUtils.h"

#include "mind_ir.pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <functional>

using namespace mlir;
using namespace dinfer;
using llvm::StringRef;

namespace {


using Attr = mind_ir::AttributeProto;

int32_t mindirDataType(Type element) {
  std::optional<DType> dtype = fromMLIRType(element);
  return dtype ? dtypeToMindIR(*dtype) : mind_ir::TensorProto::UNDEFINED;
}

void setType(mind_ir::TensorProto *tensor, Type type) {
  auto shaped = llvm::cast<ShapedType>(type);
  for (int64_t d : shaped.getShape())
    tensor->add_dims(d);
  tensor->set_data_type(mindirDataType(shaped.getElementType()));
}

StringRef reduceName(dist::ReduceKind kind) {
  switch (kind) {
  case dist::ReduceKind::sum: return "sum";
  case dist::ReduceKind::max: return "max";
  case dist::ReduceKind::min: return "min";
  case dist::ReduceKind::prod: return "prod";
  }
  return "sum";
}

class Exporter {
public:
  Exporter(ModuleOp module, ParameterData parameters, const ExportOptions &options)
      : module_(module), parameters_(parameters), options_(options) {
    dist::DeviceCounts counts = dist::deviceCountsOf(module).value_or(dist::DeviceCounts());
    deviceNum_ = counts.devices;
    stageSize_ = counts.stageSize();
  }

  llvm::Expected<MindIRModel> run();

private:
  //===--- primitives and attributes -----------------------------------===//

  mind_ir::PrimitiveProto *primitive(StringRef opType) {
    mind_ir::PrimitiveProto *prim = model_->add_primitives();
    prim->set_name((opType + ":" + llvm::Twine(++counter_)).str());
    prim->set_op_type(opType.str());
    return prim;
  }
  static Attr *attr(mind_ir::PrimitiveProto *prim, StringRef name, Attr::AttributeType type) {
    Attr *a = prim->add_attribute();
    a->set_name(name.str());
    a->set_type(type);
    return a;
  }
  static void setBool(mind_ir::PrimitiveProto *p, StringRef name, bool v) { attr(p, name, Attr::BOOL)->set_i(v); }
  static void setInt(mind_ir::PrimitiveProto *p, StringRef name, int64_t v) { attr(p, name, Attr::INT64)->set_i(v); }
  static void setFloat(mind_ir::PrimitiveProto *p, StringRef name, float v) { attr(p, name, Attr::FLOAT)->set_f(v); }
  static void setString(mind_ir::PrimitiveProto *p, StringRef name, StringRef v) {
    attr(p, name, Attr::STRING)->set_s(v.str());
  }
  static void fillInts(Attr *a, ArrayRef<int64_t> values) {
    for (int64_t v : values) {
      Attr *element = a->add_values();
      element->set_type(Attr::INT64);
      element->add_ints(v);
    }
  }
  static void setInts(mind_ir::PrimitiveProto *p, StringRef name, ArrayRef<int64_t> values) {
    fillInts(attr(p, name, Attr::TUPLE), values);
  }

  //===--- nodes --------------------------------------------------------===//

  void setShape(mind_ir::NodeProto *node, TypeRange types) {
    Attr *shape = node->add_attribute();
    shape->set_name("shape");
    if (types.size() == 1) {
      shape->set_type(Attr::TENSORS);
      setType(shape->add_tensors(), types.front());
      return;
    }
    shape->set_type(Attr::TUPLE);
    for (Type type : types) {
      Attr *element = shape->add_values();
      element->set_type(Attr::TENSORS);
      setType(element->add_tensors(), type);
    }
  }

  std::string node(mind_ir::PrimitiveProto *prim, ArrayRef<std::string> inputs, TypeRange types) {
    std::string id = std::to_string(++counter_);
    std::string name = graphName_ + ":" + prim->op_type() + ":" + id;
    mind_ir::NodeProto *n = graph_->add_node();
    for (const std::string &input : inputs)
      n->add_input(input);
    n->add_output(name);
    n->set_name(name);
    n->set_op_type("REF::" + prim->name());
    setShape(n, types);
    n->set_domain("Default/" + prim->op_type() + "-op" + id);
    return name;
  }

  mind_ir::NodeProto *constantNode(std::string &name) {
    name = "[ValueNode]" + std::to_string(++counter_);
    mind_ir::NodeProto *n = graph_->add_node();
    n->add_output(name);
    n->set_name(name);
    n->set_op_type("Constant");
    return n;
  }

  std::string constInts(ArrayRef<int64_t> values) {
    std::string name;
    Attr *value = constantNode(name)->add_attribute();
    value->set_name("value");
    value->set_type(Attr::TUPLE);
    fillInts(value, values);
    return name;
  }

  std::string constInt(int64_t v) {
    std::string name;
    Attr *value = constantNode(name)->add_attribute();
    value->set_name("value");
    value->set_type(Attr::INT64);
    value->set_i(v);
    return name;
  }

  std::string constType(Type element) {
    std::string name;
    Attr *value = constantNode(name)->add_attribute();
    value->set_name("value");
    value->set_type(Attr::TENSORS);
    value->add_tensors()->set_data_type(mindirDataType(element));
    return name;
  }

  FailureOr<std::string> constTensor(ElementsAttr elements, Location loc) {
    auto type = llvm::cast<ShapedType>(elements.getType());
    std::string bytes;
    if (auto dense = llvm::dyn_cast<DenseElementsAttr>(elements)) {
      if (type.getElementType().isInteger(1)) {
        for (bool b : dense.getValues<bool>())
          bytes.push_back(b ? 1 : 0);
      } else {
        ArrayRef<char> raw = dense.getRawData();
        if (dense.isSplat())
          for (int64_t i = 0; i < type.getNumElements(); ++i)
            bytes.append(raw.data(), raw.size());
        else
          bytes.assign(raw.data(), raw.size());
      }
    } else if (auto resource = llvm::dyn_cast<DenseResourceElementsAttr>(elements)) {
      AsmResourceBlob *blob = resource.getRawHandle().getBlob();
      if (!blob)
        return emitError(loc) << "constant blob '" << resource.getRawHandle().getKey() << "' has no data";
      bytes.assign(blob->getData().data(), blob->getData().size());
    } else {
      return emitError(loc) << "constant of kind " << elements << " cannot be exported";
    }
    std::string name;
    Attr *value = constantNode(name)->add_attribute();
    value->set_name("value");
    value->set_type(Attr::TENSORS);
    mind_ir::TensorProto *tensor = value->add_tensors();
    setType(tensor, type);
    tensor->set_name("value0");
    tensor->set_raw_data(bytes);
    return name;
  }

  std::string tupleGetItem(const std::string &tuple, int64_t index, Type type) {
    if (!tupleGetItem_)
      tupleGetItem_ = primitive("TupleGetItem");
    return node(tupleGetItem_, {tuple, constInt(index)}, type);
  }

  std::string makeTuple(ArrayRef<std::string> elements, TypeRange types) {
    if (!makeTuple_)
      makeTuple_ = primitive("MakeTuple");
    return node(makeTuple_, elements, types);
  }

  //===--- ops ----------------------------------------------------------===//

  std::string nameOf(Value value) { return names_.lookup(value); }

  /// One node, one result, operands in order.
  void simple(Operation *op, StringRef opType, llvm::function_ref<void(mind_ir::PrimitiveProto *)> attrs = {}) {
    mind_ir::PrimitiveProto *prim = primitive(opType);
    if (attrs)
      attrs(prim);
    SmallVector<std::string> inputs;
    for (Value operand : op->getOperands())
      inputs.push_back(nameOf(operand));
    names_[op->getResult(0)] = node(prim, inputs, op->getResult(0).getType());
  }

  /// A MindSpore primitive with several outputs of which the program reads
  /// the first.
  void firstOfTuple(Operation *op, mind_ir::PrimitiveProto *prim, ArrayRef<std::string> inputs,
                    ArrayRef<Type> tupleTypes) {
    std::string tuple = node(prim, inputs, tupleTypes);
    names_[op->getResult(0)] = tupleGetItem(tuple, 0, op->getResult(0).getType());
  }

  LogicalResult exportOp(Operation *op);
  /// An nn op as its primitive's node, as its ODS entry's MindIR table says.
  LogicalResult exportPrimitive(nn::MindSporePrimitiveOpInterface op);
  LogicalResult exportCollective(Operation *op);

  /// The global ranks of a collective of one rank's function.
  FailureOr<ArrayRef<int64_t>> groupOf(Operation *op) {
    auto group = op->getAttrOfType<DenseI64ArrayAttr>(dist::DistDialect::kGroupAttrName);
    if (!group)
      return op->emitOpError() << "has no dist.group: export one rank's function (run --dist-split-ranks first)";
    return group.asArrayRef();
  }
  void setGroup(mind_ir::PrimitiveProto *p, ArrayRef<int64_t> ranks) {
    setString(p, "group", collectiveGroupName(ranks, deviceNum_));
    setInts(p, "group_ranks", ranks);
    setInt(p, "rank_size", static_cast<int64_t>(ranks.size()));
    setInt(p, "fusion", 0);
  }
  /// `input` cut into `n` pieces of type `piece` along `splitAxis` (Split)
  /// and put back together along `concatAxis` (Concat): how MindSpore moves
  /// a collective's dimension to and from dimension 0.
  std::string restack(const std::string &input, RankedTensorType piece, int64_t n, int64_t splitAxis,
                      int64_t concatAxis, Type result) {
    mind_ir::PrimitiveProto *split = primitive("Split");
    setInt(split, "axis", splitAxis);
    setInt(split, "output_num", n);
    SmallVector<Type> pieces(n, piece);
    std::string tuple = node(split, {input}, pieces);
    SmallVector<std::string> items;
    for (int64_t i = 0; i < n; ++i)
      items.push_back(tupleGetItem(tuple, i, piece));
    mind_ir::PrimitiveProto *concat = primitive("Concat");
    setInt(concat, "axis", concatAxis);
    return node(concat, {makeTuple(items, pieces)}, result);
  }

  /// The global rank of this function's peer in pipeline stage `stage`.
  int64_t peerRank(int64_t stage) { return stage * stageSize_ + rank_ % stageSize_; }

  ModuleOp module_;
  ParameterData parameters_;
  ExportOptions options_;
  int64_t deviceNum_ = 1, stageSize_ = 1, rank_ = 0;
  /// Sends: graph outputs of a stage without results, so that they stay reachable.
  SmallVector<std::string> sends_;
  SmallVector<Type> sendTypes_;
  std::unique_ptr<mind_ir::ModelProto> model_ = std::make_unique<mind_ir::ModelProto>();
  mind_ir::GraphProto *graph_ = nullptr;
  std::string graphName_;
  llvm::DenseMap<Value, std::string> names_;
  llvm::StringMap<std::string> parameterNames_;
  int counter_ = 0;
  mind_ir::PrimitiveProto *tupleGetItem_ = nullptr;
  mind_ir::PrimitiveProto *makeTuple_ = nullptr;
};

LogicalResult Exporter::exportOp(Operation *op) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](dist::ParamOp param) -> LogicalResult {
        auto it = parameterNames_.find(param.getName());
        if (it != parameterNames_.end()) {
          names_[param.getResult()] = it->second;
          return success();
        }
        RankedTensorType type = param.getType();
        std::optional<DType> dtype = fromMLIRType(type.getElementType());
        if (!dtype || dtypeBits(*dtype) % 8 != 0)
          return param.emitOpError() << "has an element type MindIR weights cannot hold";
        mind_ir::TensorProto *tensor = graph_->add_parameter();
        setType(tensor, type);
        std::string name = graphName_ + ":" + param.getName().str();
        tensor->set_name(name);
        if (!options_.weightsPending) {
          std::string *raw = tensor->mutable_raw_data();
          raw->resize(static_cast<size_t>(type.getNumElements()) * (dtypeBits(*dtype) / 8));
          if (llvm::Error err = parameters_(param.getName(), llvm::MutableArrayRef<char>(raw->data(), raw->size())))
            return param.emitOpError() << llvm::toString(std::move(err));
        }
        tensor->set_ref_key(param.getName().str());
        parameterNames_[param.getName()] = name;
        names_[param.getResult()] = name;
        return success();
      })
      .Case([&](dist::AnnotateOp annotate) -> LogicalResult {
        names_[annotate.getResult()] = nameOf(annotate.getInput());
        return success();
      })
      .Case([&](arith::ConstantOp constant) -> LogicalResult {
        auto elements = llvm::dyn_cast<ElementsAttr>(constant.getValue());
        if (!elements)
          return constant.emitOpError() << "only tensor constants can be exported";
        auto name = constTensor(elements, constant.getLoc());
        if (failed(name))
          return failure();
        names_[constant.getResult()] = *name;
        return success();
      })
      .Case<dist::AllReduceOp, dist::AllGatherOp, dist::ReduceScatterOp, dist::AllToAllOp, dist::BroadcastOp,
            dist::SendOp, dist::RecvOp>([&](Operation *o) { return exportCollective(o); })
      .Case<dist::LocalSplitOp, dist::ShardOffsetOp>([&](Operation *o) -> LogicalResult {
        return o->emitOpError() << "depends on the rank: export one rank's function (run --dist-split-ranks first)";
      })
      .Default([&](Operation *other) -> LogicalResult {
        if (auto primitive = llvm::dyn_cast<nn::MindSporePrimitiveOpInterface>(other))
          return exportPrimitive(primitive);
        return other->emitOpError() << "cannot be exported to MindIR";
      });
}

LogicalResult Exporter::exportPrimitive(nn::MindSporePrimitiveOpInterface primitiveOp) {
  Operation *op = primitiveOp;
  // MindIR spells out every attribute; an op keeps those at their ODS
  // default unset until asked.
  op->getName().populateDefaultProperties(op->getPropertiesStorage());
  ArrayRef<nn::MindIRField> fields = primitiveOp.getMindIRFields();
  for (const nn::MindIRField &field : fields) {
    if (field.form != nn::MindIRForm::RequireInt && field.form != nn::MindIRForm::RequireAll)
      continue;
    Attribute value = op->getInherentAttr(field.attr).value_or(Attribute());
    bool holds = true;
    if (auto flag = llvm::dyn_cast_or_null<BoolAttr>(value))
      holds = flag.getValue() == (field.value != 0);
    else if (auto integer = llvm::dyn_cast_or_null<IntegerAttr>(value))
      holds = integer.getInt() == field.value;
    else if (auto list = llvm::dyn_cast_or_null<DenseI64ArrayAttr>(value))
      holds = llvm::all_of(list.asArrayRef(), [&](int64_t v) { return v == field.value; });
    if (!holds)
      return op->emitOpError() << "has " << field.attr << " = " << value << ", which MindSpore's "
                               << primitiveOp.getPrimitiveName() << " cannot express in MindIR";
  }

  // A node without primitive attributes has its constant inputs numbered
  // before its primitive, one with them after: the order earlier versions
  // wrote, so that re-exporting a model gives the same bytes.
  auto writesNoAttribute = [](const nn::MindIRField &field) {
    switch (field.form) {
    case nn::MindIRForm::IntInput:
    case nn::MindIRForm::IntsInput:
    case nn::MindIRForm::IntInputAt:
    case nn::MindIRForm::TypeInput:
    case nn::MindIRForm::ResultShapeInput:
    case nn::MindIRForm::ScalarOperand:
    case nn::MindIRForm::RequireInt:
    case nn::MindIRForm::RequireAll: return true;
    default: return false;
    }
  };
  mind_ir::PrimitiveProto *prim = nullptr;
  if (!llvm::all_of(fields, writesNoAttribute))
    prim = primitive(primitiveOp.getPrimitiveName());
  SmallVector<std::string> inputs;
  if (primitiveOp.getMindIRTupleOperands()) {
    SmallVector<std::string> elements;
    for (Value operand : op->getOperands())
      elements.push_back(nameOf(operand));
    inputs.push_back(makeTuple(elements, op->getOperandTypes()));
  } else {
    for (Value operand : op->getOperands())
      inputs.push_back(nameOf(operand));
  }
  for (const nn::MindIRField &field : fields) {
    Attribute value = field.attr[0] ? op->getInherentAttr(field.attr).value_or(Attribute()) : Attribute();
    auto ints = [&] { return llvm::cast<DenseI64ArrayAttr>(value).asArrayRef(); };
    auto integer = [&] { return llvm::cast<IntegerAttr>(value).getInt(); };
    switch (field.form) {
    case nn::MindIRForm::Bool: setBool(prim, field.mindir, llvm::cast<BoolAttr>(value).getValue()); break;
    case nn::MindIRForm::Int: setInt(prim, field.mindir, integer()); break;
    case nn::MindIRForm::Ints: setInts(prim, field.mindir, ints()); break;
    case nn::MindIRForm::Float:
      setFloat(prim, field.mindir, llvm::cast<FloatAttr>(value).getValue().convertToFloat());
      break;
    case nn::MindIRForm::String: setString(prim, field.mindir, llvm::cast<StringAttr>(value).getValue()); break;
    case nn::MindIRForm::IntAsList: setInts(prim, field.mindir, {integer()}); break;
    case nn::MindIRForm::Spatial: {
      SmallVector<int64_t> written = {1, 1};
      llvm::append_range(written, ints());
      setInts(prim, field.mindir, written);
      break;
    }
    case nn::MindIRForm::PoolPadMode:
      setString(prim, field.mindir, llvm::cast<StringAttr>(value).getValue() == "same" ? "SAME" : "VALID");
      break;
    case nn::MindIRForm::IntInput: inputs.push_back(constInt(integer())); break;
    case nn::MindIRForm::IntsInput: inputs.push_back(constInts(ints())); break;
    case nn::MindIRForm::IntInputAt: inputs.insert(inputs.begin() + field.operand, constInt(integer())); break;
    case nn::MindIRForm::TypeInput: inputs.push_back(constType(llvm::cast<TypeAttr>(value).getValue())); break;
    case nn::MindIRForm::ResultShapeInput:
      inputs.push_back(constInts(llvm::cast<RankedTensorType>(op->getResult(0).getType()).getShape()));
      break;
    case nn::MindIRForm::ScalarOperand:
      // MindSpore takes it as a scalar: a constant operand is written so.
      if (auto constant = op->getOperand(field.operand).getDefiningOp<arith::ConstantOp>())
        if (auto dense = llvm::dyn_cast<DenseIntElementsAttr>(constant.getValue()))
          inputs[field.operand] = constInt((*dense.begin()).getSExtValue());
      break;
    case nn::MindIRForm::OperandDims: {
      ArrayRef<int64_t> shape = llvm::cast<RankedTensorType>(op->getOperand(field.operand).getType()).getShape();
      if (field.count == 1)
        setInt(prim, field.mindir, shape[field.dim]);
      else
        setInts(prim, field.mindir, shape.slice(field.dim, field.count));
      break;
    }
    case nn::MindIRForm::FixedBool: setBool(prim, field.mindir, field.value != 0); break;
    case nn::MindIRForm::FixedInt: setInt(prim, field.mindir, field.value); break;
    case nn::MindIRForm::FixedString: setString(prim, field.mindir, field.text); break;
    case nn::MindIRForm::RequireInt:
    case nn::MindIRForm::RequireAll: break;
    }
  }

  if (!prim)
    prim = primitive(primitiveOp.getPrimitiveName());
  switch (primitiveOp.getMindIRResults()) {
  case nn::MindIRResults::Value: names_[op->getResult(0)] = node(prim, inputs, op->getResult(0).getType()); break;
  case nn::MindIRResults::FirstOfTuple: {
    SmallVector<Type> types = {op->getResult(0).getType()};
    llvm::append_range(types, primitiveOp.getMindIRExtraResultTypes());
    firstOfTuple(op, prim, inputs, types);
    break;
  }
  case nn::MindIRResults::Tuple: {
    // The primitive's outputs that inference never reads (LSTM's workspaces)
    // follow the op's results in the node's tuple.
    SmallVector<Type> types(op->getResultTypes());
    llvm::append_range(types, primitiveOp.getMindIRExtraResultTypes());
    std::string tuple = node(prim, inputs, types);
    for (auto [i, result] : llvm::enumerate(op->getResults()))
      names_[result] = tupleGetItem(tuple, static_cast<int64_t>(i), result.getType());
    break;
  }
  }
  return success();
}

LogicalResult Exporter::exportCollective(Operation *op) {
  RankedTensorType type = op->getNumResults() ? llvm::cast<RankedTensorType>(op->getResult(0).getType()) : nullptr;
  if (auto send = llvm::dyn_cast<dist::SendOp>(op)) {
    mind_ir::PrimitiveProto *p = primitive("Send");
    setInt(p, "sr_tag", static_cast<int64_t>(send.getSrTag()));
    setInt(p, "dest_rank", peerRank(static_cast<int64_t>(send.getPeerStage())));
    setString(p, "group", collectiveGroupName({}, deviceNum_));
    setString(p, "group_back", collectiveGroupName({}, deviceNum_));
    sends_.push_back(node(p, {nameOf(send.getInput())}, send.getInput().getType()));
    sendTypes_.push_back(send.getInput().getType());
    return success();
  }
  if (auto recv = llvm::dyn_cast<dist::RecvOp>(op)) {
    mind_ir::PrimitiveProto *p = primitive("Receive");
    setInt(p, "sr_tag", static_cast<int64_t>(recv.getSrTag()));
    setInt(p, "src_rank", peerRank(static_cast<int64_t>(recv.getPeerStage())));
    setInts(p, "shape", type.getShape());
    attr(p, "dtype", Attr::TENSORS)->add_tensors()->set_data_type(mindirDataType(type.getElementType()));
    setString(p, "group", collectiveGroupName({}, deviceNum_));
    setString(p, "group_back", collectiveGroupName({}, deviceNum_));
    names_[recv.getResult()] = node(p, {}, type);
    return success();
  }
  FailureOr<ArrayRef<int64_t>> group = groupOf(op);
  if (failed(group))
    return failure();
  int64_t n = static_cast<int64_t>(group->size());
  Value input = op->getOperand(0);
  auto inputType = llvm::cast<RankedTensorType>(input.getType());
  if (auto reduce = llvm::dyn_cast<dist::AllReduceOp>(op)) {
    simple(op, "AllReduce", [&](mind_ir::PrimitiveProto *p) {
      setString(p, "op", reduceName(reduce.getKind()));
      setGroup(p, *group);
    });
    return success();
  }
  if (auto gather = llvm::dyn_cast<dist::AllGatherOp>(op)) {
    // MindSpore gathers along dimension 0: another dimension is gathered
    // there, split back into the members' pieces and concatenated.
    int64_t dim = static_cast<int64_t>(gather.getDim());
    SmallVector<int64_t> stacked(inputType.getShape());
    stacked[0] *= n;
    mind_ir::PrimitiveProto *p = primitive("AllGather");
    setGroup(p, *group);
    std::string gathered = node(p, {nameOf(input)}, inputType.clone(stacked));
    if (dim == 0) {
      names_[gather.getResult()] = gathered;
      return success();
    }
    names_[gather.getResult()] = restack(gathered, inputType, n, 0, dim, type);
    return success();
  }
  if (auto scatter = llvm::dyn_cast<dist::ReduceScatterOp>(op)) {
    // MindSpore scatters along dimension 0: another dimension's pieces are
    // stacked there first.
    int64_t dim = static_cast<int64_t>(scatter.getDim());
    std::string stacked = nameOf(input);
    if (dim != 0) {
      SmallVector<int64_t> pieceShape(inputType.getShape());
      pieceShape[dim] /= n;
      RankedTensorType piece = inputType.clone(pieceShape);
      pieceShape[0] *= n;
      stacked = restack(stacked, piece, n, dim, 0, inputType.clone(pieceShape));
    }
    mind_ir::PrimitiveProto *p = primitive("ReduceScatter");
    setString(p, "op", reduceName(scatter.getKind()));
    setGroup(p, *group);
    names_[scatter.getResult()] = node(p, {stacked}, type);
    return success();
  }
  if (auto all = llvm::dyn_cast<dist::AllToAllOp>(op)) {
    simple(op, "AlltoAll", [&](mind_ir::PrimitiveProto *p) {
      setInt(p, "split_count", n);
      setInt(p, "split_dim", static_cast<int64_t>(all.getSplitDim()));
      setInt(p, "concat_dim", static_cast<int64_t>(all.getConcatDim()));
      setGroup(p, *group);
    });
    return success();
  }
  auto broadcast = llvm::cast<dist::BroadcastOp>(op);
  mind_ir::PrimitiveProto *p = primitive("Broadcast");
  setInt(p, "root_rank", (*group)[static_cast<int64_t>(broadcast.getRoot())]);
  setGroup(p, *group);
  std::string tuple = node(p, {makeTuple({nameOf(input)}, inputType)}, TypeRange{type});
  names_[broadcast.getResult()] = tupleGetItem(tuple, 0, type);
  return success();
}

llvm::Expected<MindIRModel> Exporter::run() {
  func::FuncOp entry = module_.lookupSymbol<func::FuncOp>(options_.entry.empty() ? "main" : options_.entry);
  if (!entry && !options_.entry.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "the module has no function @" + options_.entry);
  if (entry)
    if (auto rank = entry->getAttrOfType<IntegerAttr>(dist::DistDialect::kRankAttrName))
      rank_ = rank.getInt();
  if (!entry) {
    auto functions = llvm::to_vector(module_.getOps<func::FuncOp>());
    if (functions.size() != 1)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "the module needs a function @main, or exactly one function, to export");
    entry = functions.front();
  }
  if (!entry.getBody().hasOneBlock())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "@" + entry.getName().str() + " must have a single block to export");

  // The layout MindSpore 1.7's exporter writes.
  model_->set_ir_version("0.1.1");
  model_->set_producer_name("MindSpore");
  model_->set_model_version("1.7.0");
  model_->set_doc_string("exported by dinfer " DINFER_VERSION_STRING);
  graphName_ = entry.getName().str();
  graph_ = model_->mutable_graph();
  graph_->set_name(graphName_);

  for (auto [i, arg] : llvm::enumerate(entry.getArguments())) {
    auto name = entry.getArgAttrOfType<StringAttr>(i, "dinfer.name");
    std::string full = graphName_ + ":" + (name ? name.str() : "input" + std::to_string(i));
    mind_ir::ValueInfoProto *input = graph_->add_input();
    input->set_name(full);
    setType(input->add_tensor(), arg.getType());
    names_[arg] = full;
  }

  bool ok = true;
  std::string errors;
  {
    ScopedDiagnosticHandler handler(module_.getContext(), [&](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error) {
        std::string location;
        llvm::raw_string_ostream os(location);
        if (auto file = llvm::dyn_cast<FileLineColLoc>(diag.getLocation()))
          os << file.getFilename().getValue() << ":" << file.getLine() << ":" << file.getColumn();
        else
          os << diag.getLocation();
        errors += (errors.empty() ? "" : "\n") + location + ": " + diag.str();
      }
      return success();
    });
    for (Operation &op : entry.getBody().front()) {
      if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
        SmallVector<std::string> results;
        SmallVector<Type> types(ret.getOperandTypes());
        for (Value v : ret.getOperands())
          results.push_back(nameOf(v));
        // A pipeline stage without outputs returns its sends.
        if (results.empty()) {
          results.assign(sends_.begin(), sends_.end());
          types.assign(sendTypes_.begin(), sendTypes_.end());
        }
        if (results.empty())
          continue;
        std::string output = results.size() == 1 ? results.front() : makeTuple(results, types);
        mind_ir::ValueInfoProto *info = graph_->add_output();
        info->set_name(output);
        for (Type type : types)
          setType(info->add_tensor(), type);
        continue;
      }
      if (failed(exportOp(&op))) {
        ok = false;
        break;
      }
    }
  }
  if (!ok)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), errors);
  model_->set_little_endian(true);
  model_->set_mind_ir_version(1);
  return MindIRModel::fromProto(std::move(model_), graphName_ + ".mindir", options_.weightsPending);
}

} // namespace

llvm::Expected<MindIRModel> dinfer::exportMindIR(ModuleOp module, ParameterData parameters,
                                                 const ExportOptions &options) {
  return Exporter(module, parameters, options).run();
}

std::string dinfer::collectiveGroupName(ArrayRef<int64_t> ranks, int64_t deviceNum) {
  bool world = ranks.empty() || static_cast<int64_t>(ranks.size()) == deviceNum;
  for (auto [i, rank] : llvm::enumerate(ranks))
    world &= rank == static_cast<int64_t>(i);
  if (world)
    return "hccl_world_group";
  // MindSpore's own naming: the rank count, then std::hash of the sorted
  // ranks joined by '-' (libstdc++'s _Hash_bytes with seed 0xc70f6907,
  // which std::hash<std::string> is here).
  SmallVector<int64_t> sorted(ranks);
  llvm::sort(sorted);
  std::string joined;
  for (int64_t rank : sorted)
    joined += (joined.empty() ? "" : "-") + std::to_string(rank);
  return std::to_string(ranks.size()) + "-" + std::to_string(std::hash<std::string>{}(joined));
}

