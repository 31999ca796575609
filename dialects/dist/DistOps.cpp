//===- DistOps.cpp - dist dialect operations ------------------------------===//

#include "dialects/dist/DistOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace dinfer;
using namespace dinfer::dist;

//===----------------------------------------------------------------------===//
// Parameters and annotations
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError() << "needs a non-empty parameter name";
  auto layout = getLayoutAttr();
  if (std::optional<ArrayRef<int64_t>> offset = getOffset()) {
    if (static_cast<int64_t>(offset->size()) != getType().getRank())
      return emitOpError() << "has an offset of " << offset->size() << " entries for a tensor of rank "
                           << getType().getRank();
    if (llvm::any_of(*offset, [](int64_t o) { return o < 0; }))
      return emitOpError() << "has a negative offset";
    if (getPartsAttr())
      return emitOpError() << "is a part (offset) or made of parts (parts), not both";
  }
  if (PartsAttr parts = getPartsAttr()) {
    if (!getLocal() || !layout)
      return emitOpError() << "a slice made of parts must be local, with the first part's layout";
    if (parts.getDim() >= getType().getRank())
      return emitOpError() << "has parts along dimension " << parts.getDim() << " of a tensor of rank "
                           << getType().getRank();
    if (parts.getLayouts().front() != layout)
      return emitOpError() << "must carry its first part's layout as layout";
    // The local slice: the first part's local shape, summed along dim.
    SmallVector<int64_t> global(getType().getShape());
    global[parts.getDim()] = 0;
    for (int64_t size : parts.getSizes())
      global[parts.getDim()] += size;
    auto packed = PackedTensor::create(global, parts.toPartsLayout());
    if (!packed)
      return emitOpError() << llvm::toString(packed.takeError());
    if (packed->sliceShape() != getType().getShape())
      return emitOpError() << "has a slice of shape [" << packed->sliceShape() << "] under its parts, not "
                           << getType();
    return success();
  }
  if (!getLocal())
    return layout ? verifyValueLayout(*this, layout, getType(), "") : success();
  if (!layout)
    return emitOpError() << "a local slice needs the layout it is a slice of";
  if (layout.getOptShardStep() != 0)
    return emitOpError() << "a local slice cannot carry optimizer sharding";
  return verifyValueLayout(*this, layout, layout.getGlobalType(getType()), "");
}

LogicalResult AnnotateOp::verify() { return verifyValueLayout(*this, getLayout(), getType(), ""); }

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

namespace {
/// Checks a collective's group and computes what every collective needs.
struct GroupInfo {
  RankedTensorType type;
  int64_t groupSize = 1;
};

FailureOr<GroupInfo> checkGroup(std::optional<Location> loc, StringRef opName, Value input, DenseI64ArrayAttr axesAttr,
                                DeviceMatrixAttr devMatrix) {
  GroupInfo info;
  info.type = llvm::dyn_cast<RankedTensorType>(input.getType());
  if (!info.type)
    return emitOptionalError(loc, "'", opName, "' op needs a ranked tensor");
  if (!axesAttr || !devMatrix)
    return emitOptionalError(loc, "'", opName, "' op needs axes and dev_matrix");
  ArrayRef<int64_t> axes = axesAttr.asArrayRef();
  if (axes.empty())
    return emitOptionalError(loc, "'", opName, "' op axes must name at least one device axis");
  const int64_t numAxes = static_cast<int64_t>(devMatrix.getDims().size());
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t axis : axes) {
    if (axis < 0 || axis >= numAxes)
      return emitOptionalError(loc, "'", opName, "' op axes: device axis ", axis,
                               " is out of range for a dev_matrix of ", numAxes, " axes");
    if (!seen.insert(axis).second)
      return emitOptionalError(loc, "'", opName, "' op axes: device axis ", axis, " is listed twice");
  }
  info.groupSize = devMatrix.getGroupSize(axes);
  return info;
}

LogicalResult checkDim(std::optional<Location> loc, StringRef opName, StringRef attrName, int64_t dim,
                       RankedTensorType type) {
  if (dim < 0 || dim >= type.getRank())
    return emitOptionalError(loc, "'", opName, "' op ", attrName, " ", dim, " is out of range for ", type);
  return success();
}

LogicalResult checkDivisible(std::optional<Location> loc, StringRef opName, StringRef attrName, int64_t dim,
                             RankedTensorType type, int64_t groupSize) {
  if (type.getDimSize(dim) % groupSize != 0)
    return emitOptionalError(loc, "'", opName, "' op ", attrName, " ", dim, " of size ", type.getDimSize(dim),
                             " is not divisible by the group size ", groupSize);
  return success();
}

RankedTensorType withDim(RankedTensorType type, int64_t dim, int64_t size) {
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = size;
  return type.clone(shape);
}
} // namespace

LogicalResult AllReduceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto info =
      checkGroup(loc, getOperationName(), adaptor.getInput(), adaptor.getAxesAttr(), adaptor.getDevMatrixAttr());
  if (failed(info))
    return failure();
  types.push_back(info->type);
  return success();
}

LogicalResult AllGatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto info =
      checkGroup(loc, getOperationName(), adaptor.getInput(), adaptor.getAxesAttr(), adaptor.getDevMatrixAttr());
  if (failed(info) || !adaptor.getDimAttr())
    return failure();
  int64_t dim = adaptor.getDim();
  if (failed(checkDim(loc, getOperationName(), "dim", dim, info->type)))
    return failure();
  types.push_back(withDim(info->type, dim, info->type.getDimSize(dim) * info->groupSize));
  return success();
}

/// The result of ops that leave each member one piece of dimension `dim`:
/// the input with that dimension divided by the group size.
template <typename Adaptor>
static LogicalResult inferPieceType(std::optional<Location> loc, StringRef name, Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  auto info = checkGroup(loc, name, adaptor.getInput(), adaptor.getAxesAttr(), adaptor.getDevMatrixAttr());
  if (failed(info) || !adaptor.getDimAttr())
    return failure();
  int64_t dim = adaptor.getDim();
  if (failed(checkDim(loc, name, "dim", dim, info->type)) ||
      failed(checkDivisible(loc, name, "dim", dim, info->type, info->groupSize)))
    return failure();
  types.push_back(withDim(info->type, dim, info->type.getDimSize(dim) / info->groupSize));
  return success();
}

LogicalResult ReduceScatterOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  return inferPieceType(loc, getOperationName(), adaptor, types);
}

LogicalResult LocalSplitOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  return inferPieceType(loc, getOperationName(), adaptor, types);
}

LogicalResult AllToAllOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  auto info =
      checkGroup(loc, getOperationName(), adaptor.getInput(), adaptor.getAxesAttr(), adaptor.getDevMatrixAttr());
  if (failed(info) || !adaptor.getSplitDimAttr() || !adaptor.getConcatDimAttr())
    return failure();
  int64_t splitDim = adaptor.getSplitDim(), concatDim = adaptor.getConcatDim();
  if (failed(checkDim(loc, getOperationName(), "split_dim", splitDim, info->type)) ||
      failed(checkDim(loc, getOperationName(), "concat_dim", concatDim, info->type)) ||
      failed(checkDivisible(loc, getOperationName(), "split_dim", splitDim, info->type, info->groupSize)))
    return failure();
  RankedTensorType type = withDim(info->type, splitDim, info->type.getDimSize(splitDim) / info->groupSize);
  types.push_back(withDim(type, concatDim, type.getDimSize(concatDim) * info->groupSize));
  return success();
}

LogicalResult BroadcastOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto info =
      checkGroup(loc, getOperationName(), adaptor.getInput(), adaptor.getAxesAttr(), adaptor.getDevMatrixAttr());
  if (failed(info) || !adaptor.getRootAttr())
    return failure();
  int64_t root = adaptor.getRoot();
  if (root < 0 || root >= info->groupSize)
    return emitOptionalError(loc, "'", getOperationName(), "' op root ", root, " is not a position in a group of ",
                             info->groupSize);
  types.push_back(info->type);
  return success();
}


void ShardOffsetOp::build(OpBuilder &builder, OperationState &state, ArrayRef<int64_t> axes,
                          ArrayRef<int64_t> devMatrix, int64_t piece) {
  build(builder, state, RankedTensorType::get({}, builder.getI64Type()), builder.getDenseI64ArrayAttr(axes),
        DeviceMatrixAttr::get(builder.getContext(), devMatrix), builder.getI64IntegerAttr(piece));
}

LogicalResult ShardOffsetOp::verify() {
  int64_t dims = static_cast<int64_t>(getDevMatrix().getDims().size());
  llvm::SmallDenseSet<int64_t> seen;
  for (int64_t axis : getAxes())
    if (axis < 0 || axis >= dims || !seen.insert(axis).second)
      return emitOpError() << "axis " << axis << " is outside the " << dims
                           << "-D device matrix or given twice (axes count from the right)";
  if (static_cast<int64_t>(getPiece()) <= 0)
    return emitOpError() << "piece must be positive, got " << static_cast<int64_t>(getPiece());
  return verifyDeviceCount(*this, getDevMatrix().getDims(), "dev_matrix");
}

//===----------------------------------------------------------------------===//
// Pipeline transfers
//===----------------------------------------------------------------------===//

static LogicalResult verifyTransfer(Operation *op, int64_t peerStage, int64_t tag) {
  if (peerStage < 0)
    return op->emitOpError() << "peer_stage is " << peerStage << "; stages count from 0";
  if (tag < 0)
    return op->emitOpError() << "sr_tag is " << tag << "; tags are non-negative";
  if (auto module = op->getParentOfType<ModuleOp>())
    if (auto stages = module->getAttrOfType<IntegerAttr>(DistDialect::kPipelineStagesAttrName))
      if (peerStage >= stages.getInt())
        return op->emitOpError() << "peer_stage " << peerStage << " is beyond the module's " << stages.getInt()
                                 << " pipeline stages";
  return success();
}

LogicalResult SendOp::verify() { return verifyTransfer(*this, getPeerStage(), getSrTag()); }
LogicalResult RecvOp::verify() { return verifyTransfer(*this, getPeerStage(), getSrTag()); }

#define GET_OP_CLASSES
#include "dialects/dist/DistOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers of the passes
//===----------------------------------------------------------------------===//

bool dist::isCollective(Operation *op) { return isa<CollectiveOpInterface>(op); }

std::string dist::strategyKeyName(ParamOp param) {
  std::string name = param.getName().str();
  if (std::optional<ArrayRef<int64_t>> offset = param.getOffset()) {
    name += '@';
    llvm::interleave(
        *offset, [&](int64_t o) { name += std::to_string(o); }, [&] { name += ','; });
  }
  return name;
}

std::optional<int64_t> dist::stageOf(Operation *op) {
  if (auto stage = op->getAttrOfType<IntegerAttr>(DistDialect::kStageAttrName))
    return stage.getInt();
  return std::nullopt;
}

void dist::setStage(Operation *op, int64_t stage) {
  op->setAttr(DistDialect::kStageAttrName, IntegerAttr::get(IntegerType::get(op->getContext(), 64), stage));
}

std::optional<dist::DeviceCounts> dist::deviceCountsOf(ModuleOp module) {
  auto devices = module->getAttrOfType<IntegerAttr>(DistDialect::kDeviceNumAttrName);
  if (!devices)
    return std::nullopt;
  DeviceCounts counts;
  counts.devices = devices.getInt();
  if (auto stages = module->getAttrOfType<IntegerAttr>(DistDialect::kPipelineStagesAttrName))
    counts.stages = stages.getInt();
  return counts;
}
