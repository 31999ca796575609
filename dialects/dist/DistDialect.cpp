//===- DistDialect.cpp - the dist dialect and its attributes --------------===//

#include "dialects/dist/DistOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dinfer;
using namespace dinfer::dist;

#include "dialects/dist/DistDialect.cpp.inc"
#include "dialects/dist/DistEnums.cpp.inc"
#include "dialects/dist/DistInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/dist/DistAttrs.cpp.inc"

void DistDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/dist/DistAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/dist/DistOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Parameter parsers and printers
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<int64_t>> dist::parseIntList(AsmParser &parser) {
  SmallVector<int64_t> values;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                     [&]() -> ParseResult { return parser.parseInteger(values.emplace_back()); }))
    return failure();
  return values;
}

void dist::printIntList(AsmPrinter &printer, ArrayRef<int64_t> values) {
  printer << '[';
  llvm::interleaveComma(values, printer);
  printer << ']';
}

FailureOr<SmallVector<LayoutAttr>> dist::parseLayoutList(AsmParser &parser) {
  SmallVector<LayoutAttr> layouts;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&]() -> ParseResult {
        auto layout = llvm::dyn_cast_or_null<LayoutAttr>(LayoutAttr::parse(parser, Type()));
        if (!layout)
          return failure();
        layouts.push_back(layout);
        return success();
      }))
    return failure();
  return layouts;
}

void dist::printLayoutList(AsmPrinter &printer, ArrayRef<LayoutAttr> layouts) {
  printer << '[';
  llvm::interleaveComma(layouts, printer, [&](LayoutAttr layout) { layout.print(printer); });
  printer << ']';
}

FailureOr<ArrayAttr> dist::parseTensorMap(AsmParser &parser) {
  SmallVector<Attribute> dims;
  MLIRContext *context = parser.getContext();
  auto parseEntry = [&]() -> ParseResult {
    if (succeeded(parser.parseOptionalLSquare())) {
      SmallVector<int64_t> axes;
      if (parser.parseCommaSeparatedList([&]() { return parser.parseInteger(axes.emplace_back()); }) ||
          parser.parseRSquare())
        return failure();
      dims.push_back(DenseI64ArrayAttr::get(context, axes));
      return success();
    }
    int64_t axis;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseInteger(axis))
      return failure();
    if (axis < -1)
      return parser.emitError(loc, "tensor_map entry ") << axis << " is neither -1 nor a device axis";
    dims.push_back(DenseI64ArrayAttr::get(context, axis == -1 ? ArrayRef<int64_t>{} : ArrayRef<int64_t>{axis}));
    return success();
  };
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, parseEntry))
    return failure();
  return ArrayAttr::get(context, dims);
}

void dist::printTensorMap(AsmPrinter &printer, ArrayAttr tensorMap) {
  printer << '[';
  llvm::interleaveComma(tensorMap, printer, [&](Attribute entry) {
    ArrayRef<int64_t> axes = llvm::cast<DenseI64ArrayAttr>(entry).asArrayRef();
    if (axes.empty())
      printer << -1;
    else if (axes.size() == 1)
      printer << axes.front();
    else
      printIntList(printer, axes);
  });
  printer << ']';
}

FailureOr<SmallVector<DenseI64ArrayAttr>> dist::parseSplitLists(AsmParser &parser) {
  SmallVector<DenseI64ArrayAttr> operands;
  auto parseOperand = [&]() -> ParseResult {
    FailureOr<SmallVector<int64_t>> splits = parseIntList(parser);
    if (failed(splits))
      return failure();
    operands.push_back(DenseI64ArrayAttr::get(parser.getContext(), *splits));
    return success();
  };
  if (parser.parseCommaSeparatedList(parseOperand))
    return failure();
  return operands;
}

void dist::printSplitLists(AsmPrinter &printer, ArrayRef<DenseI64ArrayAttr> splits) {
  llvm::interleaveComma(splits, printer, [&](DenseI64ArrayAttr operand) { printIntList(printer, operand.asArrayRef()); });
}

//===----------------------------------------------------------------------===//
// StrategyAttr
//===----------------------------------------------------------------------===//

StrategyAttr StrategyAttr::get(MLIRContext *context, ArrayRef<SmallVector<int64_t>> splits) {
  SmallVector<DenseI64ArrayAttr> operands;
  for (const SmallVector<int64_t> &operand : splits)
    operands.push_back(DenseI64ArrayAttr::get(context, operand));
  return get(context, operands);
}

LogicalResult StrategyAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   ArrayRef<DenseI64ArrayAttr> operandSplits) {
  for (auto [index, operand] : llvm::enumerate(operandSplits))
    for (int64_t split : operand.asArrayRef())
      if (split <= 0)
        return emitError() << "strategy split " << split << " of operand " << index << " is not positive";
  return success();
}

LogicalResult StrategyAttr::verifyForOperands(Operation *op) const {
  if (getNumOperands() != op->getNumOperands())
    return op->emitOpError() << "dist.strategy needs one list of split numbers per operand (" << op->getNumOperands()
                             << ")";
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    ArrayRef<int64_t> splits = getSplits(index);
    auto type = llvm::dyn_cast<RankedTensorType>(operand.getType());
    if (!type || splits.size() != static_cast<size_t>(type.getRank()))
      return op->emitOpError() << "dist.strategy entry " << index << " must give one split number per dimension of "
                               << operand.getType();
    for (auto [d, split] : llvm::enumerate(splits))
      if (type.getDimSize(d) % split != 0)
        return op->emitOpError() << "dist.strategy splits dimension " << d << " of operand " << index << " ("
                                 << type.getDimSize(d) << ") into " << split << " parts";
  }
  return success();
}

StrategyAttr dist::getStrategy(Operation *op) {
  return op->getAttrOfType<StrategyAttr>(DistDialect::kStrategyAttrName);
}

//===----------------------------------------------------------------------===//
// DeviceMatrixAttr
//===----------------------------------------------------------------------===//

LogicalResult DeviceMatrixAttr::verify(function_ref<InFlightDiagnostic()> emitError, ArrayRef<int64_t> dims) {
  if (dims.empty())
    return emitError() << "dev_matrix must have at least one axis";
  TensorLayout layout;
  layout.devMatrix.assign(dims.begin(), dims.end());
  if (llvm::Error err = checkLayout(layout))
    return emitError() << llvm::toString(std::move(err));
  return success();
}

LogicalResult SourceBoxAttr::verify(function_ref<InFlightDiagnostic()> emitError, int64_t rank, ArrayRef<int64_t> offset,
                                    ArrayRef<int64_t> shape, ArrayRef<int64_t> at) {
  if (rank < 0)
    return emitError() << "a source box names rank " << rank;
  if (offset.size() != shape.size() || at.size() != shape.size())
    return emitError() << "a source box has one offset, extent and destination entry per dimension";
  for (size_t d = 0; d < shape.size(); ++d)
    if (offset[d] < 0 || shape[d] < 0 || at[d] < 0)
      return emitError() << "a source box has a negative offset, extent or destination";
  return success();
}

int64_t DeviceMatrixAttr::getDeviceCount() const {
  int64_t count = 1;
  for (int64_t d : getDims())
    count *= d;
  return count;
}

int64_t DeviceMatrixAttr::getGroupSize(ArrayRef<int64_t> axes) const {
  int64_t size = 1;
  for (int64_t axis : axes)
    size *= getAxisSize(axis);
  return size;
}

//===----------------------------------------------------------------------===//
// LayoutAttr
//===----------------------------------------------------------------------===//

static TensorLayout makeTensorLayout(ArrayRef<int64_t> devMatrix, ArrayAttr tensorMap, int64_t optShardStep,
                                     int64_t optShardSize) {
  TensorLayout layout;
  layout.devMatrix.assign(devMatrix.begin(), devMatrix.end());
  for (Attribute entry : tensorMap) {
    ArrayRef<int64_t> axes = llvm::cast<DenseI64ArrayAttr>(entry).asArrayRef();
    layout.tensorMap.emplace_back(axes.begin(), axes.end());
  }
  layout.optShardStep = optShardStep;
  layout.optShardSize = optShardSize;
  return layout;
}

LogicalResult PartsAttr::verify(function_ref<InFlightDiagnostic()> emitError, int64_t dim, ArrayRef<int64_t> sizes,
                                ArrayRef<LayoutAttr> layouts) {
  if (dim < 0)
    return emitError() << "parts along a negative dimension";
  if (sizes.empty() || sizes.size() != layouts.size())
    return emitError() << sizes.size() << " part sizes for " << layouts.size() << " part layouts";
  if (llvm::any_of(sizes, [](int64_t size) { return size <= 0; }))
    return emitError() << "a part's extent must be positive";
  return success();
}

PartsLayout PartsAttr::toPartsLayout() const {
  PartsLayout parts;
  parts.dim = getDim();
  parts.sizes.assign(getSizes().begin(), getSizes().end());
  for (LayoutAttr layout : getLayouts())
    parts.layouts.push_back(layout.toTensorLayout());
  return parts;
}

LogicalResult LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError, ArrayRef<int64_t> devMatrix,
                                 ArrayAttr tensorMap, int64_t optShardStep, int64_t optShardSize, int64_t stage,
                                 ArrayRef<int64_t> partial) {
  if (!tensorMap || !llvm::all_of(tensorMap, llvm::IsaPred<DenseI64ArrayAttr>))
    return emitError() << "tensor_map entries must be lists of device axes";
  if (devMatrix.empty())
    return emitError() << "dev_matrix must have at least one axis";
  TensorLayout layout = makeTensorLayout(devMatrix, tensorMap, optShardStep, optShardSize);
  if (llvm::Error err = checkLayout(layout))
    return emitError() << llvm::toString(std::move(err));
  if (stage < 0)
    return emitError() << "stage is " << stage << "; stages count from 0";
  const int64_t numAxes = static_cast<int64_t>(devMatrix.size());
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t axis : partial) {
    if (axis < 0 || axis >= numAxes)
      return emitError() << "partial uses device axis " << axis << ", out of range for a dev_matrix of " << numAxes
                         << " axes";
    if (!seen.insert(axis).second)
      return emitError() << "partial lists device axis " << axis << " twice";
    for (const DimAxes &axes : layout.tensorMap)
      if (llvm::is_contained(axes, axis))
        return emitError() << "partial device axis " << axis << " also splits the tensor in tensor_map";
  }
  return success();
}

TensorLayout LayoutAttr::toTensorLayout() const {
  return makeTensorLayout(getDevMatrix(), getTensorMap(), getOptShardStep(), getOptShardSize());
}

LayoutAttr LayoutAttr::get(MLIRContext *context, const TensorLayout &layout, int64_t stage, ArrayRef<int64_t> partial) {
  SmallVector<Attribute> dims;
  for (const DimAxes &axes : layout.tensorMap)
    dims.push_back(DenseI64ArrayAttr::get(context, axes));
  return get(context, layout.devMatrix, ArrayAttr::get(context, dims), layout.optShardStep, layout.optShardSize, stage,
             partial);
}

ArrayRef<int64_t> LayoutAttr::getDimAxes(unsigned dim) const {
  return llvm::cast<DenseI64ArrayAttr>(getTensorMap()[dim]).asArrayRef();
}

SmallVector<int64_t> LayoutAttr::getDimSplits() const {
  ArrayRef<int64_t> devMatrix = getDevMatrix();
  SmallVector<int64_t> splits(getTensorMap().size(), 1);
  for (unsigned d = 0; d < splits.size(); ++d)
    for (int64_t axis : getDimAxes(d))
      if (axis >= 0 && axis < static_cast<int64_t>(devMatrix.size()))
        splits[d] *= devMatrix[devMatrix.size() - 1 - axis];
  return splits;
}

RankedTensorType LayoutAttr::getLocalType(RankedTensorType global) const {
  SmallVector<int64_t> shape(global.getShape()), splits = getDimSplits();
  for (size_t d = 0; d < shape.size() && d < splits.size(); ++d)
    shape[d] /= splits[d];
  return RankedTensorType::get(shape, global.getElementType());
}

RankedTensorType LayoutAttr::getGlobalType(RankedTensorType local) const {
  SmallVector<int64_t> shape(local.getShape()), splits = getDimSplits();
  for (size_t d = 0; d < shape.size() && d < splits.size(); ++d)
    shape[d] *= splits[d];
  return RankedTensorType::get(shape, local.getElementType());
}

int64_t LayoutAttr::getDeviceCount() const { return toTensorLayout().deviceCount(); }

LogicalResult LayoutAttr::verifyForType(Type type, function_ref<InFlightDiagnostic()> emitError) const {
  auto tensorType = llvm::dyn_cast<RankedTensorType>(type);
  if (!tensorType || !tensorType.hasStaticShape())
    return emitError() << "dist.layout needs a tensor of static shape, got " << type;
  auto sharded = ShardedTensor::create(tensorType.getShape(), toTensorLayout());
  if (!sharded)
    return emitError() << "dist.layout does not fit " << type << ": " << llvm::toString(sharded.takeError());
  return success();
}

//===----------------------------------------------------------------------===//
// Device counts and dialect attributes
//===----------------------------------------------------------------------===//

LogicalResult dist::verifyDeviceCount(Operation *op, ArrayRef<int64_t> devMatrix, StringRef attrName) {
  auto module = llvm::dyn_cast<ModuleOp>(op);
  if (!module)
    module = op->getParentOfType<ModuleOp>();
  if (!module)
    return success();
  auto deviceNum = module->getAttrOfType<IntegerAttr>(DistDialect::kDeviceNumAttrName);
  if (!deviceNum)
    return success();
  int64_t stages = 1;
  if (auto stagesAttr = module->getAttrOfType<IntegerAttr>(DistDialect::kPipelineStagesAttrName))
    stages = stagesAttr.getInt();
  if (stages <= 0 || deviceNum.getInt() % stages != 0)
    return success(); // Reported by the module's own verifier.
  int64_t stageDevices = deviceNum.getInt() / stages;
  int64_t count = 1;
  for (int64_t d : devMatrix)
    count *= d;
  if (count != stageDevices) {
    InFlightDiagnostic diag = op->emitOpError() << attrName << " [";
    llvm::interleaveComma(devMatrix, diag);
    return diag << "] covers " << count << " devices, but a pipeline stage of the module has " << stageDevices
                << " (dist.device_num = " << deviceNum.getInt() << ", dist.pipeline_stages = " << stages << ")";
  }
  return success();
}

LogicalResult dist::verifyValueLayout(Operation *op, LayoutAttr layout, Type type, StringRef what) {
  auto emitError = [&]() {
    InFlightDiagnostic diag = op->emitOpError();
    if (!what.empty())
      diag << what << ": ";
    return diag;
  };
  if (failed(layout.verifyForType(type, emitError)))
    return failure();
  if (failed(
          verifyDeviceCount(op, layout.getDevMatrix(), what.empty() ? "layout dev_matrix" : "dist.layout dev_matrix")))
    return failure();
  auto module = llvm::isa<ModuleOp>(op) ? llvm::cast<ModuleOp>(op) : op->getParentOfType<ModuleOp>();
  if (module)
    if (auto stages = module->getAttrOfType<IntegerAttr>(DistDialect::kPipelineStagesAttrName))
      if (layout.getStage() >= stages.getInt())
        return emitError() << "layout stage " << layout.getStage() << " is beyond the module's " << stages.getInt()
                           << " pipeline stages";
  return success();
}

LogicalResult DistDialect::verifyOperationAttribute(Operation *op, NamedAttribute attribute) {
  StringRef name = attribute.getName().strref();
  if (name == kDeviceNumAttrName || name == kPipelineStagesAttrName) {
    if (!llvm::isa<ModuleOp>(op))
      return op->emitOpError() << name << " belongs on a builtin.module";
    auto value = llvm::dyn_cast<IntegerAttr>(attribute.getValue());
    if (!value || value.getInt() <= 0)
      return op->emitOpError() << name << " must be a positive integer";
    auto deviceNum = op->getAttrOfType<IntegerAttr>(kDeviceNumAttrName);
    auto stages = op->getAttrOfType<IntegerAttr>(kPipelineStagesAttrName);
    if (deviceNum && stages && stages.getInt() > 0 && deviceNum.getInt() % stages.getInt() != 0)
      return op->emitOpError() << "dist.device_num " << deviceNum.getInt()
                               << " is not divisible by dist.pipeline_stages " << stages.getInt();
    return success();
  }
  if (name == kStrategyAttrName) {
    auto strategy = llvm::dyn_cast<StrategyAttr>(attribute.getValue());
    if (!strategy)
      return op->emitOpError() << "dist.strategy must be a #dist.strategy<...>";
    return strategy.verifyForOperands(op);
  }
  if (name == kReplicasLastAttrName) {
    if (!llvm::isa<UnitAttr>(attribute.getValue()) || !op->hasAttr(kStrategyAttrName))
      return op->emitOpError() << "dist.replicas_last is a unit attribute of an op with a dist.strategy";
    return success();
  }
  if (name == kPartitionedAttrName) {
    if (!llvm::isa<FunctionOpInterface>(op) || !llvm::isa<UnitAttr>(attribute.getValue()))
      return op->emitOpError() << "dist.partitioned is a unit attribute of a function";
    return success();
  }
  if (name == kRuleAttrName) {
    if (!llvm::isa<PredictRuleAttr>(attribute.getValue()) || !llvm::isa<ParamOp>(op))
      return op->emitOpError() << "dist.rule is a #dist.rule<...> of a dist.param";
    return success();
  }
  if (name == kStageAttrName) {
    auto stage = llvm::dyn_cast<IntegerAttr>(attribute.getValue());
    if (!stage || stage.getInt() < 0)
      return op->emitOpError() << "dist.stage must be a non-negative integer";
    auto module = op->getParentOfType<ModuleOp>();
    if (module)
      if (auto stages = module->getAttrOfType<IntegerAttr>(kPipelineStagesAttrName))
        if (stage.getInt() >= stages.getInt())
          return op->emitOpError() << "dist.stage " << stage.getInt() << " is beyond the module's " << stages.getInt()
                                   << " pipeline stages";
    return success();
  }
  if (name == kCheckpointsAttrName) {
    auto files = llvm::dyn_cast<ArrayAttr>(attribute.getValue());
    if (!llvm::isa<ModuleOp>(op) || !files || !llvm::all_of(files, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitOpError() << "dist.checkpoints is an array of file names on a builtin.module";
    return success();
  }
  if (name == kSourcesAttrName) {
    auto boxes = llvm::dyn_cast<ArrayAttr>(attribute.getValue());
    auto param = llvm::dyn_cast<ParamOp>(op);
    if (!param || !boxes || !llvm::all_of(boxes, [](Attribute a) { return isa<SourceBoxAttr>(a); }))
      return op->emitOpError() << "dist.sources is an array of #dist.source boxes on a dist.param";
    auto module = op->getParentOfType<ModuleOp>();
    auto files = module ? module->getAttrOfType<ArrayAttr>(kCheckpointsAttrName) : ArrayAttr();
    ArrayRef<int64_t> shape = param.getType().getShape();
    for (SourceBoxAttr box : boxes.getAsRange<SourceBoxAttr>()) {
      if (box.getAt().size() != shape.size())
        return op->emitOpError() << "dist.sources boxes have one entry per dimension of the parameter's "
                                 << param.getType();
      if (files && box.getRank() >= static_cast<int64_t>(files.size()))
        return op->emitOpError() << "dist.sources names source rank " << box.getRank() << " of " << files.size()
                                 << " checkpoints";
      for (size_t d = 0; d < shape.size(); ++d)
        if (box.getAt()[d] + box.getShape()[d] > shape[d])
          return op->emitOpError() << "dist.sources places a box outside the parameter's " << param.getType();
    }
    return success();
  }
  if (name == kRankAttrName || name == kGroupAttrName) {
    SmallVector<int64_t> ranks;
    if (name == kRankAttrName) {
      auto rank = llvm::dyn_cast<IntegerAttr>(attribute.getValue());
      if (!rank || !llvm::isa<FunctionOpInterface>(op))
        return op->emitOpError() << "dist.rank is an integer attribute of a function";
      ranks.push_back(rank.getInt());
    } else {
      auto group = llvm::dyn_cast<DenseI64ArrayAttr>(attribute.getValue());
      if (!group || group.empty())
        return op->emitOpError() << "dist.group must be a non-empty array<i64> of ranks";
      ranks.assign(group.asArrayRef().begin(), group.asArrayRef().end());
      SmallVector<int64_t> sorted = ranks;
      llvm::sort(sorted);
      if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
        return op->emitOpError() << "dist.group names a rank twice";
    }
    auto module = op->getParentOfType<ModuleOp>();
    auto deviceNum = module ? module->getAttrOfType<IntegerAttr>(kDeviceNumAttrName) : IntegerAttr();
    for (int64_t rank : ranks)
      if (rank < 0 || (deviceNum && rank >= deviceNum.getInt()))
        return op->emitOpError() << name << " names rank " << rank << ", outside the module's "
                                 << (deviceNum ? deviceNum.getInt() : 0) << " devices";
    return success();
  }
  if (name == kResultLayoutsAttrName) {
    auto layouts = llvm::dyn_cast<ArrayAttr>(attribute.getValue());
    if (!layouts || layouts.size() != op->getNumResults() || op->getNumResults() < 2)
      return op->emitOpError() << "dist.result_layouts needs one #dist.layout per result of an op with several "
                                  "results ("
                               << op->getNumResults() << ")";
    for (auto [index, entry] : llvm::enumerate(layouts)) {
      auto layout = llvm::dyn_cast<LayoutAttr>(entry);
      if (!layout)
        return op->emitOpError() << "dist.result_layouts entry " << index << " must be a #dist.layout attribute";
      if (failed(verifyValueLayout(op, layout, op->getResult(index).getType(), ("result " + Twine(index)).str())))
        return failure();
    }
    return success();
  }
  if (name == kLayoutAttrName) {
    auto layout = llvm::dyn_cast<LayoutAttr>(attribute.getValue());
    if (!layout)
      return op->emitOpError() << "dist.layout must be a #dist.layout attribute";
    if (op->getNumResults() != 1)
      return op->emitOpError() << "dist.layout on an op needs exactly one result";
    return verifyValueLayout(op, layout, op->getResult(0).getType(), "result");
  }
  return op->emitOpError() << "unknown dist attribute '" << name << "'";
}

static LogicalResult verifyValueLayoutAttr(Operation *op, NamedAttribute attribute, Type type, const Twine &what) {
  if (attribute.getName().strref() != DistDialect::kLayoutAttrName)
    return op->emitOpError() << "unknown dist attribute '" << attribute.getName().strref() << "' on " << what;
  auto layout = llvm::dyn_cast<LayoutAttr>(attribute.getValue());
  if (!layout)
    return op->emitOpError() << "dist.layout on " << what << " must be a #dist.layout attribute";
  return verifyValueLayout(op, layout, type, what.str());
}

LogicalResult DistDialect::verifyRegionArgAttribute(Operation *op, unsigned regionIndex, unsigned argIndex,
                                                    NamedAttribute attribute) {
  // A partitioned function's arguments are local slices of the global inputs
  // their layouts describe.
  if (op->hasAttr(kPartitionedAttrName) && attribute.getName().strref() == kLayoutAttrName)
    if (auto function = llvm::dyn_cast<FunctionOpInterface>(op))
      if (auto layout = llvm::dyn_cast<LayoutAttr>(attribute.getValue()))
        if (auto local = llvm::dyn_cast<RankedTensorType>(function.getArgumentTypes()[argIndex]))
          return verifyValueLayout(op, layout, layout.getGlobalType(local), ("argument " + Twine(argIndex)).str());
  Region &region = op->getRegion(regionIndex);
  if (region.empty() || argIndex >= region.getNumArguments()) {
    if (auto function = llvm::dyn_cast<FunctionOpInterface>(op))
      return verifyValueLayoutAttr(op, attribute, function.getArgumentTypes()[argIndex], "argument " + Twine(argIndex));
    return success();
  }
  return verifyValueLayoutAttr(op, attribute, region.getArgument(argIndex).getType(), "argument " + Twine(argIndex));
}

LogicalResult DistDialect::verifyRegionResultAttribute(Operation *op, unsigned regionIndex, unsigned resultIndex,
                                                       NamedAttribute attribute) {
  auto function = llvm::dyn_cast<FunctionOpInterface>(op);
  if (!function)
    return op->emitOpError() << "dist.layout on a region result needs a function";
  // A partitioned function's results with a layout leave as the local slices
  // of the global outputs it describes (a key/value cache kept split).
  if (op->hasAttr(kPartitionedAttrName) && attribute.getName().strref() == kLayoutAttrName)
    if (auto layout = llvm::dyn_cast<LayoutAttr>(attribute.getValue()))
      if (auto local = llvm::dyn_cast<RankedTensorType>(function.getResultTypes()[resultIndex]))
        return verifyValueLayout(op, layout, layout.getGlobalType(local), ("result " + Twine(resultIndex)).str());
  return verifyValueLayoutAttr(op, attribute, function.getResultTypes()[resultIndex], "result " + Twine(resultIndex));
}
