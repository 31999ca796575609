//===- Planner.cpp - plan a reshard: which bytes go where -----------------===//

#include "dinfer/Reshard/Planner.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Process.h"

#include <sys/mman.h>

using namespace dinfer;
using llvm::SmallVector;
using llvm::StringRef;

namespace {
template <typename... Ts>
llvm::Error planError(const char *fmt, Ts &&...vals) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 llvm::formatv(fmt, std::forward<Ts>(vals)...).str());
}

std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  return "[" + llvm::join(llvm::map_range(shape, [](int64_t d) { return std::to_string(d); }), ",") + "]";
}

/// The layout of a full tensor of rank `rank` on one device.
TensorLayout wholeLayout(size_t rank) {
  TensorLayout layout;
  layout.devMatrix = {1};
  layout.tensorMap.resize(rank);
  return layout;
}

uint64_t sliceBytes(llvm::ArrayRef<int64_t> shape, StringRef typeName, uint64_t fallbackBytes) {
  std::optional<DType> dtype = parseDType(typeName);
  if (!dtype || *dtype == DType::String)
    return fallbackBytes;
  uint64_t count = 1;
  for (int64_t d : shape)
    count *= static_cast<uint64_t>(d);
  return (count * dtypeBits(*dtype) + 7) / 8;
}
} // namespace

//===----------------------------------------------------------------------===//
// LayoutSet
//===----------------------------------------------------------------------===//

llvm::Expected<LayoutSet> LayoutSet::fromStrategy(const StrategyFile &strategy, std::optional<int64_t> deviceNum,
                                                  StringRef fileName) {
  LayoutSet set;
  int64_t maxStage = 0;
  for (const StrategyLayout &item : strategy.layouts) {
    if (item.field != 0)
      return planError("{0}: parameter '{1}' has field {2}; field slices are refused (as MindSpore refuses them)",
                       fileName, item.param, item.field);
    auto [it, inserted] = set.layouts_.try_emplace(item.param);
    ParamLayout &layout = it->second;
    if (inserted) {
      layout.layout = item.layout;
      layout.paramSplitShape = item.paramSplitShape;
      layout.fullShape = item.tensorShape;
      layout.parts = item.parts;
      if (layout.parts && !layout.paramSplitShape.empty())
        return planError("{0}: parameter '{1}' has both parts and param_split_shape", fileName, item.param);
    } else if (layout.layout.devMatrix != item.layout.devMatrix || layout.layout.tensorMap != item.layout.tensorMap ||
               layout.parts != item.parts) {
      return planError("{0}: parameter '{1}' has different layouts in different stages", fileName, item.param);
    }
    SmallVector<int64_t, 2> stages = item.stages.empty() ? SmallVector<int64_t, 2>{0} : item.stages;
    for (int64_t stage : stages)
      if (!llvm::is_contained(layout.stages, stage))
        layout.stages.push_back(stage);
    llvm::sort(layout.stages);
    maxStage = std::max(maxStage, layout.stages.back());
    set.stageDevices_ = std::max(set.stageDevices_, item.layout.deviceCount());
  }
  set.stages_ = maxStage + 1;
  // A layout over fewer devices than the stage has is replicated on the rest:
  // a leading, unreferenced device axis.
  for (auto &[name, layout] : set.layouts_) {
    int64_t count = layout.layout.deviceCount();
    if (set.stageDevices_ % count != 0)
      return planError("{0}: parameter '{1}' uses {2} devices, which does not divide the stage's {3}", fileName,
                       name, count, set.stageDevices_);
    if (count != set.stageDevices_) {
      layout.layout.devMatrix.insert(layout.layout.devMatrix.begin(), set.stageDevices_ / count);
      if (layout.parts)
        for (TensorLayout &part : layout.parts->layouts)
          part.devMatrix.insert(part.devMatrix.begin(), set.stageDevices_ / part.deviceCount());
    }
  }
  if (deviceNum && *deviceNum != set.deviceNum())
    return planError("{0}: --device-num {1} disagrees with the strategy: {2} stage(s) of {3} devices", fileName,
                     *deviceNum, set.stages_, set.stageDevices_);
  return set;
}

LayoutSet LayoutSet::full() {
  LayoutSet set;
  set.full_ = true;
  return set;
}

const ParamLayout *LayoutSet::find(StringRef param) const {
  auto it = layouts_.find(param);
  return it == layouts_.end() ? nullptr : &it->second;
}

std::vector<std::string> LayoutSet::params() const {
  std::vector<std::string> names;
  for (const auto &entry : layouts_)
    names.push_back(entry.first);
  return names;
}

void SourceFile::add(StringRef name, SourceTensor tensor) {
  if (contents_.use_count() > 1) {
    auto own = std::make_shared<Contents>();
    own->tensors = contents_->tensors;
    for (StringRef held : contents_->order)
      own->order.push_back(own->tensors.find(held)->first());
    contents_ = std::move(own);
  }
  auto [entry, inserted] = contents_->tensors.try_emplace(name, std::move(tensor));
  if (inserted)
    contents_->order.push_back(entry->first());
}

bool SourceFile::sameTensorsAs(const SourceFile &other) const {
  return contents_ == other.contents_ || contents_->order == other.contents_->order;
}

llvm::Expected<SourceTensors> dinfer::synthesizeSources(const LayoutSet &src, DType dtype) {
  int64_t stages = src.isFull() ? 1 : src.stages(), stageDevices = src.isFull() ? 1 : src.stageDevices();
  // Each tensor's slice shapes once (a ShardedTensor is kilobytes, so it is
  // not kept), and per stage the tensors it holds. The ranks of a stage hold
  // the same tensors, in the same shapes unless a split is uneven.
  std::vector<std::string> params = src.params();
  // One shape for equal pieces, else one per local rank.
  std::vector<SmallVector<SmallVector<int64_t, 4>, 1>> sliceShapes(params.size());
  std::vector<std::vector<size_t>> stageTensors(stages);
  for (auto [index, name] : llvm::enumerate(params)) {
    const ParamLayout *layout = src.find(name);
    if (!layout->fullShape)
      return planError("parameter '{0}' has no full shape in the strategy (only JSON strategies carry it)", name);
    if (layout->parts) {
      auto packed = PackedTensor::create(*layout->fullShape, *layout->parts);
      if (!packed)
        return planError("parameter '{0}': {1}", name, llvm::toString(packed.takeError()));
      sliceShapes[index].emplace_back(packed->sliceShape());
      for (int64_t stage : layout->stages)
        stageTensors[stage].push_back(index);
      continue;
    }
    auto st = ShardedTensor::create(*layout->fullShape, layout->layout, layout->paramSplitShape);
    if (!st)
      return planError("parameter '{0}': {1}", name, llvm::toString(st.takeError()));
    if (st->hasEqualPieces())
      sliceShapes[index].emplace_back(st->pieceShape());
    else
      for (int64_t local = 0; local < stageDevices; ++local)
        sliceShapes[index].push_back(st->sliceOfRank(local).shape);
    for (int64_t stage : layout->stages)
      stageTensors[stage].push_back(index);
  }
  std::string typeName = dtypeName(dtype).str();
  SourceTensors files;
  files.reserve(static_cast<size_t>(stages * stageDevices));
  for (int64_t stage = 0; stage < stages; ++stage) {
    std::optional<SourceFile> previous;
    SmallVector<const SmallVector<int64_t, 4> *> previousShapes;
    for (int64_t local = 0; local < stageDevices; ++local) {
      SmallVector<const SmallVector<int64_t, 4> *> shapes;
      shapes.reserve(stageTensors[stage].size());
      for (size_t index : stageTensors[stage]) {
        const auto &perRank = sliceShapes[index];
        shapes.push_back(&perRank[perRank.size() == 1 ? 0 : local]);
      }
      // Ranks holding the same shapes share one file (equal pieces give every
      // rank the same shape object).
      if (previous &&
          llvm::equal(shapes, previousShapes, [](const auto *a, const auto *b) { return a == b || *a == *b; })) {
        files.push_back(previous->shared());
        continue;
      }
      SourceFile file;
      for (auto [index, shape] : llvm::zip_equal(stageTensors[stage], shapes)) {
        SourceTensor source;
        source.typeName = typeName;
        source.bytes = sliceBytes(*shape, typeName, 0);
        source.shape = *shape;
        file.add(params[index], std::move(source));
      }
      previous = file.shared();
      previousShapes = std::move(shapes);
      files.push_back(std::move(file));
    }
  }
  return files;
}

//===----------------------------------------------------------------------===//
// The plan
//===----------------------------------------------------------------------===//

namespace {
/// Maps the whole pages of [data, data + bytes) in one call. A rank's plan
/// array is hundreds of kilobytes of fresh memory, about to be written
/// front to back; one fault per page costs more than the planning itself on
/// virtual machines. Only a hint: kernels before 5.14 refuse it.
void prefaultForWriting(void *data, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  uintptr_t page = llvm::sys::Process::getPageSizeEstimate();
  uintptr_t begin = llvm::alignTo(reinterpret_cast<uintptr_t>(data), page);
  uintptr_t end = llvm::alignDown(reinterpret_cast<uintptr_t>(data) + bytes, page);
  if (end > begin)
    (void)madvise(reinterpret_cast<void *>(begin), end - begin, MADV_POPULATE_WRITE);
#else
  (void)data;
  (void)bytes;
#endif
}

/// How one tensor lies on the source side.
struct SourceGeometry {
  std::optional<ShardedTensor> sharded;
  std::optional<PackedTensor> packed; ///< Instead of `sharded`, for a layout by parts.
  int64_t baseRank = 0; ///< Global rank of the stage's local rank 0.
  SmallVector<int64_t, 4> fullShape;
  std::string typeName;
  bool zeroDimScalar = false;
};

/// A tensor some destination rank writes.
struct Written {
  StringRef name;
  const ParamLayout *dstLayout; ///< Null: the whole tensor.
  bool wholeCopy;
};

/// Where a written tensor lies on both sides.
struct Placed {
  const SourceGeometry *source = nullptr;
  const ShardedTensor *destination = nullptr; ///< Null: the whole tensor (or packedDestination).
  const PackedTensor *packedDestination = nullptr;
};

class Planner {
public:
  Planner(const LayoutSet &src, const LayoutSet &dst, const SourceTensors &sources, const PlanOptions &options)
      : src_(src), dst_(dst), sources_(sources), options_(options) {}

  llvm::Expected<ReshardPlan> run();

private:
  /// The first source rank (within `ranks`) whose file holds `name`.
  std::optional<int64_t> holder(StringRef name, int64_t first, int64_t count) const {
    for (int64_t r = first; r < first + count && r < static_cast<int64_t>(sources_.size()); ++r)
      if (sources_[r].find(name))
        return r;
    return std::nullopt;
  }

  /// Computed once per tensor and kept: every destination rank reads it.
  llvm::Expected<const SourceGeometry *> sourceGeometry(StringRef name);
  /// The destination layout of `name` over its full shape, once per tensor.
  llvm::Expected<const ShardedTensor *> destinationGeometry(StringRef name, const ParamLayout &layout,
                                                            const SourceGeometry &geometry);
  llvm::Expected<const PackedTensor *> packedDestinationGeometry(StringRef name, const ParamLayout &layout,
                                                                 const SourceGeometry &geometry);

  /// One destination rank's copies, from the geometry in `placed`.
  llvm::Error planRank(int64_t dstRank, llvm::ArrayRef<Written> written, llvm::ArrayRef<Placed> placed,
                       RankPlan &rankPlan) const;

  const LayoutSet &src_;
  const LayoutSet &dst_;
  const SourceTensors &sources_;
  const PlanOptions &options_;
  std::map<std::string, SourceGeometry, std::less<>> geometry_;
  std::map<std::string, ShardedTensor, std::less<>> destinations_;
  std::map<std::string, PackedTensor, std::less<>> packedDestinations_;
};

llvm::Expected<const SourceGeometry *> Planner::sourceGeometry(StringRef name) {
  auto cached = geometry_.find(name);
  if (cached != geometry_.end())
    return &cached->second;

  SourceGeometry geometry;
  const ParamLayout *layout = src_.isFull() ? nullptr : src_.find(name);
  int64_t stageDevices = src_.isFull() ? 1 : src_.stageDevices();
  std::optional<int64_t> stage;
  if (layout) {
    // Read from the first stage whose files hold the tensor.
    for (int64_t s : layout->stages)
      if (holder(name, s * stageDevices, stageDevices)) {
        stage = s;
        break;
      }
  }
  std::optional<int64_t> rank = stage ? holder(name, *stage * stageDevices, stageDevices)
                                      : holder(name, 0, static_cast<int64_t>(sources_.size()));
  if (!rank)
    return planError("tensor '{0}' is in no source checkpoint", name);
  const SourceTensor &sample = *sources_[*rank].find(name);
  geometry.typeName = sample.typeName;
  geometry.zeroDimScalar = sample.zeroDimScalar;

  TensorLayout tensorLayout;
  SmallVector<int64_t, 4> splitSizes;
  if (layout && stage) {
    tensorLayout = layout->layout;
    splitSizes = layout->paramSplitShape;
    geometry.baseRank = *stage * stageDevices;
  } else {
    // No layout: the whole tensor, as the holding rank stores it.
    tensorLayout = wholeLayout(sample.shape.size());
    geometry.baseRank = *rank;
  }
  if (tensorLayout.tensorMap.size() != sample.shape.size())
    return planError("source rank {0}: tensor '{1}' has rank {2}, but its training layout has {3} dimensions", *rank,
                     name, sample.shape.size(), tensorLayout.tensorMap.size());

  // The full shape: from either strategy, or the slice times its splits.
  const ParamLayout *dstLayout = dst_.isFull() ? nullptr : dst_.find(name);
  if (layout && layout->fullShape)
    geometry.fullShape = *layout->fullShape;
  else if (dstLayout && dstLayout->fullShape)
    geometry.fullShape = *dstLayout->fullShape;
  else {
    auto unit = ShardedTensor::create(SmallVector<int64_t, 4>(sample.shape.size(), 0), tensorLayout);
    if (!unit)
      return planError("tensor '{0}': {1}", name, llvm::toString(unit.takeError()));
    for (auto [d, extent] : llvm::enumerate(sample.shape))
      geometry.fullShape.push_back(extent * unit->pieceCounts()[d]);
    if (layout && stage && layout->parts && layout->parts->dim < static_cast<int64_t>(geometry.fullShape.size())) {
      geometry.fullShape[layout->parts->dim] = 0;
      for (int64_t size : layout->parts->sizes)
        geometry.fullShape[layout->parts->dim] += size;
    }
    if (!splitSizes.empty()) {
      geometry.fullShape[0] = 0;
      for (int64_t size : splitSizes)
        geometry.fullShape[0] += size;
    }
  }
  if (layout && stage && layout->parts) {
    auto packed = PackedTensor::create(geometry.fullShape, *layout->parts);
    if (!packed)
      return planError("tensor '{0}' of full shape {1}: {2}", name, shapeText(geometry.fullShape),
                       llvm::toString(packed.takeError()));
    geometry.packed.emplace(std::move(*packed));
  }
  auto sharded = ShardedTensor::create(geometry.fullShape, tensorLayout, splitSizes);
  if (!sharded)
    return planError("tensor '{0}' of full shape {1}: {2}", name, shapeText(geometry.fullShape),
                     llvm::toString(sharded.takeError()));
  // Every rank holding the tensor must hold the slice its layout gives.
  if (layout && stage) {
    for (int64_t s : layout->stages)
      for (int64_t local = 0; local < stageDevices; ++local) {
        int64_t r = s * stageDevices + local;
        if (r >= static_cast<int64_t>(sources_.size()))
          break;
        const SourceTensor *found = sources_[r].find(name);
        if (!found) {
          if (s == *stage)
            return planError("source rank {0}: tensor '{1}' is missing from its checkpoint", r, name);
          continue;
        }
        SmallVector<int64_t, 4> expected =
            geometry.packed ? SmallVector<int64_t, 4>(geometry.packed->sliceShape()) : sharded->sliceOfRank(local).shape;
        if (found->shape != expected)
          return planError("source rank {0}: tensor '{1}' has shape {2}, but its training layout gives {3}", r,
                           name, shapeText(found->shape), shapeText(expected));
      }
  }
  geometry.sharded.emplace(std::move(*sharded));
  return &geometry_.emplace(name.str(), std::move(geometry)).first->second;
}

llvm::Expected<const ShardedTensor *> Planner::destinationGeometry(StringRef name, const ParamLayout &layout,
                                                                   const SourceGeometry &geometry) {
  auto cached = destinations_.find(name);
  if (cached != destinations_.end())
    return &cached->second;
  auto sharded = ShardedTensor::create(geometry.fullShape, layout.layout, layout.paramSplitShape);
  if (!sharded)
    return planError("tensor '{0}' of full shape {1} does not fit its destination layout: {2}", name,
                     shapeText(geometry.fullShape), llvm::toString(sharded.takeError()));
  return &destinations_.emplace(name.str(), std::move(*sharded)).first->second;
}

llvm::Expected<const PackedTensor *> Planner::packedDestinationGeometry(StringRef name, const ParamLayout &layout,
                                                                        const SourceGeometry &geometry) {
  auto cached = packedDestinations_.find(name);
  if (cached != packedDestinations_.end())
    return &cached->second;
  auto packed = PackedTensor::create(geometry.fullShape, *layout.parts);
  if (!packed)
    return planError("tensor '{0}' of full shape {1} does not fit its destination layout: {2}", name,
                     shapeText(geometry.fullShape), llvm::toString(packed.takeError()));
  return &packedDestinations_.emplace(name.str(), std::move(*packed)).first->second;
}

llvm::Error Planner::planRank(int64_t dstRank, llvm::ArrayRef<Written> written, llvm::ArrayRef<Placed> placed,
                              RankPlan &rankPlan) const {
  rankPlan.rank = dstRank;
  int64_t dstStageDevices = dst_.isFull() ? 1 : dst_.stageDevices();
  int64_t dstStage = dstRank / dstStageDevices, dstLocal = dstRank % dstStageDevices;
  rankPlan.tensors.reserve(written.size());
  prefaultForWriting(rankPlan.tensors.data(), rankPlan.tensors.capacity() * sizeof(TensorPlan));
  for (auto [index, tensorWritten] : llvm::enumerate(written)) {
    auto [name, dstLayout, wholeCopy] = tensorWritten;
    if (dstLayout && !llvm::is_contained(dstLayout->stages, dstStage))
      continue; // another stage's parameter
    const SourceGeometry *geometry = placed[index].source;

    // Built where it stays: a tensor plan is large, and a rank has thousands.
    TensorPlan &tensor = rankPlan.tensors.emplace_back();
    tensor.name = name.str();
    tensor.typeName = geometry->typeName;
    tensor.fullShape = geometry->fullShape;
    tensor.zeroDimScalar = geometry->zeroDimScalar;
    // The boxes of the destination slice, each with where it lies in it.
    SmallVector<std::pair<Slice, SmallVector<int64_t, 4>>, 1> wants;
    if (const PackedTensor *dstPacked = placed[index].packedDestination) {
      for (PackedTensor::Piece &piece : dstPacked->piecesOfRank(dstLocal))
        wants.emplace_back(std::move(piece.global), std::move(piece.local));
      tensor.shape.assign(dstPacked->sliceShape().begin(), dstPacked->sliceShape().end());
    } else {
      Slice want;
      if (const ShardedTensor *dstSharded = placed[index].destination) {
        want = dstSharded->sliceOfRank(dstLocal);
      } else {
        want.offset.assign(geometry->fullShape.size(), 0);
        want.shape = geometry->fullShape;
      }
      tensor.shape = want.shape;
      wants.emplace_back(std::move(want), SmallVector<int64_t, 4>(geometry->fullShape.size(), 0));
    }

    const SourceTensor *firstSource = nullptr;
    // One box `overlap` of the source piece held by `ranks`, at `srcOffset`
    // in each one's slice of shape `pieceShape`.
    auto addCopy = [&](llvm::ArrayRef<int64_t> ranks, const Slice &overlap, llvm::ArrayRef<int64_t> srcOffset,
                       llvm::ArrayRef<int64_t> pieceShape, const Slice &want, llvm::ArrayRef<int64_t> origin) -> llvm::Error {
      if (ranks.empty())
        return planError("tensor '{0}': no source rank holds the piece at {1}", name, shapeText(overlap.offset));
      // Spread reads of replicated pieces across the files that hold them.
      int64_t local = ranks[dstRank % ranks.size()];
      int64_t srcRank = geometry->baseRank + local;
      const SourceTensor *found = sources_[srcRank].find(name);
      if (!found)
        return planError("source rank {0}: tensor '{1}' is missing from its checkpoint", srcRank, name);
      if (llvm::ArrayRef<int64_t>(found->shape) != pieceShape) {
        if (!(found->shape.empty() && pieceShape.empty()))
          return planError("source rank {0}: tensor '{1}' has shape {2}, but its training layout gives {3}", srcRank,
                           name, shapeText(found->shape), shapeText(pieceShape));
      }
      TensorCopy copy;
      copy.srcRank = srcRank;
      copy.srcOffset.assign(srcOffset.begin(), srcOffset.end());
      for (size_t d = 0; d < want.shape.size(); ++d)
        copy.dstOffset.push_back(overlap.offset[d] - want.offset[d] + origin[d]);
      copy.shape = overlap.shape;
      copy.srcShape = found->shape;
      tensor.copies.push_back(std::move(copy));
      rankPlan.srcRanks.insert(srcRank);
      if (!firstSource)
        firstSource = found;
      return llvm::Error::success();
    };
    for (const auto &[want, origin] : wants) {
      if (geometry->packed) {
        auto covers = geometry->packed->coverRegion(want);
        if (!covers)
          return planError("tensor '{0}': {1}", name, llvm::toString(covers.takeError()));
        for (const PackedTensor::Cover &cover : *covers)
          if (llvm::Error error =
                  addCopy(cover.ranks, cover.overlap, cover.local, geometry->packed->sliceShape(), want, origin))
            return error;
        continue;
      }
      auto covers = geometry->sharded->coverRegion(want);
      if (!covers)
        return planError("tensor '{0}': {1}", name, llvm::toString(covers.takeError()));
      tensor.copies.reserve(tensor.copies.size() + covers->size());
      for (auto &cover : *covers) {
        SmallVector<int64_t, 4> srcOffset;
        for (size_t d = 0; d < want.shape.size(); ++d)
          srcOffset.push_back(cover.overlap.offset[d] - cover.pieceSlice.offset[d]);
        if (llvm::Error error = addCopy(cover.ranks, cover.overlap, srcOffset, cover.pieceSlice.shape, want, origin))
          return error;
      }
    }
    tensor.bytes = sliceBytes(tensor.shape, tensor.typeName, firstSource ? firstSource->bytes : 0);
    rankPlan.bytes += tensor.bytes;
  }
  return llvm::Error::success();
}

llvm::Expected<ReshardPlan> Planner::run() {
  ReshardPlan plan;
  int64_t srcDevices = src_.isFull() ? 1 : src_.deviceNum();
  if (static_cast<int64_t>(sources_.size()) != srcDevices)
    return planError("the source layout needs {0} checkpoint files, one per rank, but {1} were given", srcDevices,
                     sources_.size());
  int64_t dstDevices = dst_.isFull() ? 1 : dst_.deviceNum();
  int64_t dstStageDevices = dst_.isFull() ? 1 : dst_.stageDevices();

  // Every tensor of the sources, in file order, first rank first.
  std::vector<StringRef> order;
  llvm::StringSet<> seen;
  const SourceFile *previous = nullptr;
  for (const SourceFile &file : sources_) {
    // The ranks of a stage usually hold the same tensors: skip the lookups.
    if (previous && previous->sameTensorsAs(file))
      continue;
    previous = &file;
    for (StringRef name : file.order())
      if (seen.insert(name).second)
        order.push_back(name);
  }
  if (!dst_.isFull())
    for (const std::string &name : dst_.params())
      if (!seen.count(name))
        plan.missing.push_back(name);
  if (!src_.isFull())
    for (const std::string &name : src_.params())
      if (!seen.count(name) && !llvm::is_contained(plan.missing, name))
        plan.missing.push_back(name);

  std::vector<int64_t> ranks = options_.ranks;
  if (ranks.empty())
    for (int64_t r = 0; r < dstDevices; ++r)
      ranks.push_back(r);
  for (int64_t r : ranks)
    if (r < 0 || r >= dstDevices)
      return planError("destination rank {0} does not exist: the destination has {1} ranks", r, dstDevices);

  // What each tensor becomes is decided once; the rank loop below only places
  // the tensors that are written somewhere.
  std::vector<Written> written;
  for (StringRef name : order) {
    if ((!options_.only.empty() && !options_.only.count(name)) || (options_.accept && !options_.accept(name)))
      continue;
    // A tensor with a layout on neither side (learning rate, step counters)
    // goes whole to every destination; one the destination layout leaves out
    // is not written.
    bool srcLayout = !src_.isFull() && src_.find(name);
    const ParamLayout *dstLayout = dst_.isFull() ? nullptr : dst_.find(name);
    if (dst_.isFull() || dstLayout) {
      written.push_back({name, dstLayout, false});
    } else if (srcLayout || !options_.copyUnlisted) {
      plan.unused.push_back(name.str());
    } else {
      plan.replicated.push_back(name.str());
      written.push_back({name, nullptr, true});
    }
  }

  // Geometry first, once per tensor, in the order a rank-by-rank walk meets
  // it; each rank then only reads it.
  std::vector<Placed> placed(written.size());
  for (int64_t dstRank : ranks) {
    int64_t dstStage = dstRank / dstStageDevices;
    for (auto [index, tensor] : llvm::enumerate(written)) {
      if (placed[index].source || (tensor.dstLayout && !llvm::is_contained(tensor.dstLayout->stages, dstStage)))
        continue;
      auto source = sourceGeometry(tensor.name);
      if (!source)
        return source.takeError();
      placed[index].source = *source;
      if (tensor.dstLayout && !tensor.wholeCopy && tensor.dstLayout->parts) {
        auto destination = packedDestinationGeometry(tensor.name, *tensor.dstLayout, **source);
        if (!destination)
          return destination.takeError();
        placed[index].packedDestination = *destination;
      } else if (tensor.dstLayout && !tensor.wholeCopy) {
        auto destination = destinationGeometry(tensor.name, *tensor.dstLayout, **source);
        if (!destination)
          return destination.takeError();
        placed[index].destination = *destination;
      }
    }
  }

  plan.ranks.resize(ranks.size());
  for (auto [dstRank, rankPlan] : llvm::zip_equal(ranks, plan.ranks))
    if (llvm::Error error = planRank(dstRank, written, placed, rankPlan))
      return std::move(error);
  return plan;
}
} // namespace

llvm::Expected<ReshardPlan> dinfer::planReshard(const LayoutSet &src, const LayoutSet &dst,
                                                const SourceTensors &sources, const PlanOptions &options) {
  return Planner(src, dst, sources, options).run();
}
