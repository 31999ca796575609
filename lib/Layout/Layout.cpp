//===- Layout.cpp - MindSpore tensor layouts ------------------------------===//

#include "dinfer/Layout/Layout.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

using namespace dinfer;
using llvm::ArrayRef;
using llvm::SmallVector;

namespace {
/// Device counts above this are refused: per-rank tables stay small and no
/// product overflows.
constexpr int64_t kMaxDevices = int64_t(1) << 24;

template <typename... Ts>
llvm::Error layoutError(const char *fmt, Ts &&...vals) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), llvm::formatv(fmt, std::forward<Ts>(vals)...).str());
}

int64_t rowMajorIndex(ArrayRef<int64_t> coords, ArrayRef<int64_t> extents) {
  int64_t index = 0;
  for (auto [c, e] : llvm::zip_equal(coords, extents))
    index = index * e + c;
  return index;
}

/// "[0,1,2]"; long lists keep their first and last entries.
std::string joinInts(ArrayRef<int64_t> values) {
  auto text = [](ArrayRef<int64_t> part) {
    return llvm::join(llvm::map_range(part, [](int64_t v) { return std::to_string(v); }), ",");
  };
  if (values.size() > 16)
    return "[" + text(values.take_front(8)) + ",...," + text(values.take_back(2)) + "] (" +
           std::to_string(values.size()) + " ranks)";
  return "[" + text(values) + "]";
}
} // namespace

int64_t TensorLayout::deviceCount() const {
  int64_t count = 1;
  for (int64_t d : devMatrix) {
    if (d <= 0 || count > kMaxDevices)
      return -1;
    count *= d;
  }
  return count > kMaxDevices ? -1 : count;
}

int64_t Slice::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

SmallVector<int64_t, 4> dinfer::rankToCoordinate(int64_t rank, ArrayRef<int64_t> devMatrix) {
  SmallVector<int64_t, 4> coord(devMatrix.size());
  for (size_t i = devMatrix.size(); i-- > 0;) {
    coord[i] = rank % devMatrix[i];
    rank /= devMatrix[i];
  }
  return coord;
}

llvm::Error dinfer::checkLayout(const TensorLayout &layout) {
  const int64_t numAxes = static_cast<int64_t>(layout.devMatrix.size());
  for (auto [i, d] : llvm::enumerate(layout.devMatrix))
    if (d <= 0)
      return layoutError("dev_matrix entry {0} is {1}; entries must be positive", i, d);
  if (layout.deviceCount() < 0)
    return layoutError("dev_matrix {0} has more than {1} devices", joinInts(layout.devMatrix), kMaxDevices);
  SmallVector<int64_t, 4> usedBy(numAxes, -1);
  for (auto [dim, axes] : llvm::enumerate(layout.tensorMap)) {
    for (int64_t axis : axes) {
      if (axis < 0 || axis >= numAxes)
        return layoutError("tensor_map entry {0} uses device axis {1}, out of range for a dev_matrix of {2} axes", dim,
                           axis, numAxes);
      if (usedBy[axis] >= 0)
        return layoutError("tensor_map uses device axis {0} twice (dimensions {1} and {2})", axis, usedBy[axis], dim);
      usedBy[axis] = static_cast<int64_t>(dim);
    }
  }
  if (layout.optShardStep < 0)
    return layoutError("opt_weight_shard_step is {0}; it must be 0 or positive", layout.optShardStep);
  if (layout.optShardSize < -1)
    return layoutError("opt_weight_shard_size is {0}; it must be -1, 0 or positive", layout.optShardSize);
  if (layout.optShardStep == 0 && layout.optShardSize > 0)
    return layoutError("opt_weight_shard_size is {0} but opt_weight_shard_step is 0", layout.optShardSize);
  return llvm::Error::success();
}

llvm::Error dinfer::checkDeviceCount(const TensorLayout &layout, int64_t deviceCount) {
  int64_t count = layout.deviceCount();
  if (count != deviceCount)
    return layoutError("dev_matrix {0} covers {1} devices, but {2} devices are in use", joinInts(layout.devMatrix),
                       count, deviceCount);
  return llvm::Error::success();
}

llvm::Expected<ShardedTensor> ShardedTensor::create(ArrayRef<int64_t> shape, const TensorLayout &layout) {
  if (llvm::Error err = checkLayout(layout))
    return std::move(err);
  if (layout.tensorMap.size() != shape.size())
    return layoutError("tensor_map has {0} entries but the tensor has rank {1}", layout.tensorMap.size(), shape.size());

  ShardedTensor st;
  st.layout_ = layout;
  st.shape_.assign(shape.begin(), shape.end());
  const int64_t numAxes = static_cast<int64_t>(layout.devMatrix.size());
  for (auto [dim, axes] : llvm::enumerate(layout.tensorMap)) {
    if (shape[dim] < 0)
      return layoutError("dimension {0} has negative size {1}", dim, shape[dim]);
    int64_t split = 1;
    for (int64_t axis : axes)
      split *= layout.devMatrix[numAxes - 1 - axis];
    if (shape[dim] % split != 0)
      return layoutError("dimension {0} of size {1} is not divisible by its split {2}", dim, shape[dim], split);
    st.mpPieceCounts_.push_back(split);
  }

  // Model-parallel piece of every rank; ranks grouped by it.
  const int64_t devices = layout.deviceCount();
  st.mpPieceOfRank_.resize(devices);
  int64_t numMpPieces = 1;
  for (int64_t c : st.mpPieceCounts_)
    numMpPieces *= c;
  std::vector<SmallVector<int64_t, 2>> mpGroups(numMpPieces);
  SmallVector<int64_t, 4> pieceCoord(shape.size());
  for (int64_t rank = 0; rank < devices; ++rank) {
    SmallVector<int64_t, 4> coord = rankToCoordinate(rank, layout.devMatrix);
    for (auto [dim, axes] : llvm::enumerate(layout.tensorMap)) {
      int64_t index = 0;
      for (int64_t axis : axes) {
        int64_t devAxis = numAxes - 1 - axis;
        index = index * layout.devMatrix[devAxis] + coord[devAxis];
      }
      pieceCoord[dim] = index;
    }
    int64_t mpPiece = rowMajorIndex(pieceCoord, st.mpPieceCounts_);
    st.mpPieceOfRank_[rank] = mpPiece;
    mpGroups[mpPiece].push_back(rank);
  }

  st.pieceCounts_ = st.mpPieceCounts_;
  for (auto [dim, count] : llvm::enumerate(st.mpPieceCounts_))
    st.pieceShape_.push_back(shape[dim] / count);

  // Position of each rank inside its optimizer-sharding chunk.
  std::vector<int64_t> optPosition(devices, 0);
  if (layout.hasOptimizerSharding()) {
    if (shape.empty())
      return layoutError("opt_weight_shard_step is {0}, but a scalar cannot be optimizer-sharded", layout.optShardStep);
    const auto &group0 = mpGroups.front();
    const int64_t groupSize = static_cast<int64_t>(group0.size());
    if (groupSize < 2)
      return layoutError("opt_weight_shard_step is {0}, but no other rank holds the same slice as rank 0 "
                         "(the layout has no replicas)",
                         layout.optShardStep);
    for (const auto &group : mpGroups) {
      for (size_t i = 1; i < group.size(); ++i) {
        int64_t stride = group[i] - group[i - 1];
        if (stride != layout.optShardStep)
          return layoutError("opt_weight_shard_step is {0}, but the replica group {1} has stride {2}",
                             layout.optShardStep, joinInts(group), stride);
      }
    }
    const int64_t chunk = layout.optShardSize > 0 ? layout.optShardSize : groupSize;
    if (groupSize % chunk != 0)
      return layoutError("opt_weight_shard_size {0} does not divide the replica group of {1} ranks", chunk, groupSize);
    if (st.pieceShape_[0] % chunk != 0)
      return layoutError("dimension 0 of the slice ({0}) is not divisible by the optimizer shard count {1}",
                         st.pieceShape_[0], chunk);
    st.optChunk_ = chunk;
    st.pieceCounts_[0] *= chunk;
    st.pieceShape_[0] /= chunk;
    for (const auto &group : mpGroups)
      for (auto [i, rank] : llvm::enumerate(group))
        optPosition[rank] = static_cast<int64_t>(i) % chunk;
  }

  int64_t numPieces = 1;
  for (int64_t c : st.pieceCounts_)
    numPieces *= c;
  st.ranksOfPiece_.resize(numPieces);
  st.pieceOfRank_.resize(devices);
  for (int64_t rank = 0; rank < devices; ++rank) {
    int64_t piece = st.mpPieceOfRank_[rank];
    if (st.optChunk_ > 1) {
      SmallVector<int64_t, 4> coords(shape.size());
      int64_t rest = piece;
      for (size_t d = shape.size(); d-- > 0;) {
        coords[d] = rest % st.mpPieceCounts_[d];
        rest /= st.mpPieceCounts_[d];
      }
      coords[0] = coords[0] * st.optChunk_ + optPosition[rank];
      piece = rowMajorIndex(coords, st.pieceCounts_);
    }
    st.pieceOfRank_[rank] = piece;
    st.ranksOfPiece_[piece].push_back(rank);
  }
  return st;
}

llvm::Expected<ShardedTensor> ShardedTensor::create(ArrayRef<int64_t> shape, const TensorLayout &layout,
                                                    ArrayRef<int64_t> dim0Sizes) {
  if (dim0Sizes.empty())
    return create(shape, layout);
  if (shape.empty())
    return layoutError("param_split_shape {0} given for a scalar", joinInts(dim0Sizes));
  if (layout.hasOptimizerSharding())
    return layoutError("param_split_shape cannot be combined with optimizer sharding");
  int64_t total = 0;
  for (int64_t size : dim0Sizes) {
    if (size < 0)
      return layoutError("param_split_shape {0} has a negative entry", joinInts(dim0Sizes));
    total += size;
  }
  if (total != shape[0])
    return layoutError("param_split_shape {0} sums to {1}, but dimension 0 has {2}", joinInts(dim0Sizes), total,
                       shape[0]);
  // Lay the pieces out on a tensor with one row per dimension-0 piece, then
  // give dimension 0 its real extents.
  SmallVector<int64_t, 4> rows(shape.begin(), shape.end());
  rows[0] = static_cast<int64_t>(dim0Sizes.size());
  auto st = create(rows, layout);
  if (!st)
    return st.takeError();
  if (st->pieceCounts_[0] != rows[0])
    return layoutError("param_split_shape has {0} entries, but the layout splits dimension 0 into {1}", rows[0],
                       st->pieceCounts_[0]);
  st->shape_[0] = shape[0];
  st->dim0Bounds_.push_back(0);
  for (int64_t size : dim0Sizes)
    st->dim0Bounds_.push_back(st->dim0Bounds_.back() + size);
  st->pieceShape_[0] = dim0Sizes.front();
  return st;
}

SmallVector<int64_t, 4> ShardedTensor::pieceCoordinates(int64_t piece) const {
  SmallVector<int64_t, 4> coords(shape_.size());
  for (size_t d = shape_.size(); d-- > 0;) {
    coords[d] = piece % pieceCounts_[d];
    piece /= pieceCounts_[d];
  }
  return coords;
}

Slice ShardedTensor::pieceSlice(int64_t piece) const {
  Slice slice;
  slice.shape = pieceShape_;
  for (auto [c, size] : llvm::zip_equal(pieceCoordinates(piece), pieceShape_))
    slice.offset.push_back(c * size);
  if (!dim0Bounds_.empty()) {
    int64_t c0 = pieceCoordinates(piece)[0];
    slice.offset[0] = dim0Bounds_[c0];
    slice.shape[0] = dim0Bounds_[c0 + 1] - dim0Bounds_[c0];
  }
  return slice;
}

SmallVector<int64_t, 8> ShardedTensor::replicaGroup(int64_t rank) const {
  SmallVector<int64_t, 8> group;
  for (int64_t r = 0; r < deviceCount(); ++r)
    if (mpPieceOfRank_[r] == mpPieceOfRank_[rank])
      group.push_back(r);
  return group;
}

SmallVector<int64_t, 8> ShardedTensor::optShardGroup(int64_t rank) const {
  if (optChunk_ <= 1 && !layout_.hasOptimizerSharding())
    return {rank};
  SmallVector<int64_t, 8> group = replicaGroup(rank);
  auto it = llvm::find(group, rank);
  int64_t index = it - group.begin();
  int64_t begin = index / optChunk_ * optChunk_;
  return SmallVector<int64_t, 8>(group.begin() + begin, group.begin() + begin + optChunk_);
}

/// Odometer over per-dimension index intervals, last dimension fastest;
/// false once every combination was visited.
static bool advance(llvm::SmallVectorImpl<int64_t> &coords, ArrayRef<int64_t> first, ArrayRef<int64_t> last) {
  for (size_t d = coords.size(); d-- > 0;) {
    if (++coords[d] <= last[d])
      return true;
    coords[d] = first[d];
  }
  return false;
}

llvm::Expected<SmallVector<ShardedTensor::Cover, 1>> ShardedTensor::coverRegion(const Slice &region) const {
  const size_t rank = shape_.size();
  if (region.offset.size() != rank || region.shape.size() != rank)
    return layoutError("region has rank {0}, the tensor has rank {1}", region.offset.size(), rank);
  SmallVector<int64_t, 4> first(rank), last(rank);
  for (size_t d = 0; d < rank; ++d) {
    int64_t begin = region.offset[d], extent = region.shape[d];
    if (begin < 0 || extent < 0 || begin + extent > shape_[d])
      return layoutError("region [{0}, {1}) of dimension {2} lies outside the tensor's extent {3}", begin,
                         begin + extent, d, shape_[d]);
    if (extent == 0)
      return SmallVector<Cover, 1>{};
    if (d == 0 && !dim0Bounds_.empty()) {
      // The pieces whose [bound[i], bound[i+1]) meet [begin, begin + extent).
      first[d] = std::upper_bound(dim0Bounds_.begin(), dim0Bounds_.end(), begin) - dim0Bounds_.begin() - 1;
      last[d] = std::lower_bound(dim0Bounds_.begin(), dim0Bounds_.end(), begin + extent) - dim0Bounds_.begin() - 1;
      continue;
    }
    first[d] = begin / pieceShape_[d];
    last[d] = (begin + extent - 1) / pieceShape_[d];
  }

  SmallVector<Cover, 1> covers;
  SmallVector<int64_t, 4> coords(first);
  while (true) {
    Cover cover;
    cover.piece = rowMajorIndex(coords, pieceCounts_);
    cover.pieceSlice = pieceSlice(cover.piece);
    if (cover.pieceSlice.numElements() == 0 && !dim0Bounds_.empty()) {
      // An empty manual piece covers nothing.
      if (!advance(coords, first, last))
        return covers;
      continue;
    }
    for (size_t d = 0; d < rank; ++d) {
      int64_t lo = std::max(region.offset[d], cover.pieceSlice.offset[d]);
      int64_t hi = std::min(region.offset[d] + region.shape[d], cover.pieceSlice.offset[d] + cover.pieceSlice.shape[d]);
      cover.overlap.offset.push_back(lo);
      cover.overlap.shape.push_back(hi - lo);
    }
    cover.ranks = ranksOfPiece_[cover.piece];
    covers.push_back(std::move(cover));
    if (!advance(coords, first, last))
      return covers;
  }
}

//===----------------------------------------------------------------------===//
// Packed tensors
//===----------------------------------------------------------------------===//

bool PartsLayout::operator==(const PartsLayout &other) const {
  if (dim != other.dim || sizes != other.sizes || layouts.size() != other.layouts.size())
    return false;
  for (auto [a, b] : llvm::zip_equal(layouts, other.layouts))
    if (a.devMatrix != b.devMatrix || a.tensorMap != b.tensorMap || a.optShardStep != b.optShardStep ||
        a.optShardSize != b.optShardSize)
      return false;
  return true;
}

llvm::Expected<PackedTensor> PackedTensor::create(ArrayRef<int64_t> shape, const PartsLayout &parts) {
  int64_t rank = static_cast<int64_t>(shape.size());
  if (parts.dim < 0 || parts.dim >= rank)
    return layoutError("parts along dimension {0} of a tensor of rank {1}", parts.dim, rank);
  if (parts.sizes.empty() || parts.sizes.size() != parts.layouts.size())
    return layoutError("{0} part sizes for {1} part layouts", parts.sizes.size(), parts.layouts.size());
  int64_t total = 0;
  for (int64_t size : parts.sizes) {
    if (size <= 0)
      return layoutError("a part's extent must be positive, not {0}", size);
    total += size;
  }
  if (total != shape[parts.dim])
    return layoutError("parts of extents summing to {0} along dimension {1}, which has extent {2}", total, parts.dim,
                       shape[parts.dim]);
  PackedTensor packed;
  packed.dim_ = parts.dim;
  packed.shape_.assign(shape.begin(), shape.end());
  int64_t start = 0, localStart = 0;
  for (auto [index, size, layout] : llvm::enumerate(parts.sizes, parts.layouts)) {
    SmallVector<int64_t, 4> partShape(shape.begin(), shape.end());
    partShape[parts.dim] = size;
    auto part = ShardedTensor::create(partShape, layout);
    if (!part)
      return layoutError("part {0}: {1}", index, llvm::toString(part.takeError()));
    if (index == 0) {
      packed.sliceShape_.assign(part->pieceShape().begin(), part->pieceShape().end());
    } else {
      if (part->deviceCount() != packed.parts_.front().deviceCount())
        return layoutError("part {0} is laid out over {1} devices, part 0 over {2}", index, part->deviceCount(),
                           packed.parts_.front().deviceCount());
      for (int64_t d = 0; d < rank; ++d)
        if (d != parts.dim && part->pieceShape()[d] != packed.sliceShape_[d])
          return layoutError("part {0} cuts dimension {1} into pieces of {2}, part 0 into pieces of {3}: the parts "
                             "of a rank's slice would not line up",
                             index, d, part->pieceShape()[d], packed.sliceShape_[d]);
      packed.sliceShape_[parts.dim] += part->pieceShape()[parts.dim];
    }
    packed.starts_.push_back(start);
    packed.localStarts_.push_back(localStart);
    start += size;
    localStart += part->pieceShape()[parts.dim];
    packed.parts_.push_back(std::move(*part));
  }
  return packed;
}

SmallVector<PackedTensor::Piece, 4> PackedTensor::piecesOfRank(int64_t rank) const {
  SmallVector<Piece, 4> pieces;
  for (auto [part, start, localStart] : llvm::zip_equal(parts_, starts_, localStarts_)) {
    Piece piece;
    piece.global = part.sliceOfRank(rank);
    piece.global.offset[dim_] += start;
    piece.local.assign(shape_.size(), 0);
    piece.local[dim_] = localStart;
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

llvm::Expected<SmallVector<PackedTensor::Cover, 4>> PackedTensor::coverRegion(const Slice &region) const {
  if (region.offset.size() != shape_.size() || region.shape.size() != shape_.size())
    return layoutError("region has rank {0}, the tensor has rank {1}", region.offset.size(), shape_.size());
  for (size_t d = 0; d < shape_.size(); ++d)
    if (region.offset[d] < 0 || region.shape[d] < 0 || region.offset[d] + region.shape[d] > shape_[d])
      return layoutError("region [{0}, {1}) of dimension {2} lies outside the tensor's extent {3}", region.offset[d],
                         region.offset[d] + region.shape[d], d, shape_[d]);
  SmallVector<Cover, 4> covers;
  int64_t begin = region.offset[dim_], end = begin + region.shape[dim_];
  for (auto [part, start, localStart] : llvm::zip_equal(parts_, starts_, localStarts_)) {
    int64_t lo = std::max(begin, start), hi = std::min(end, start + part.shape()[dim_]);
    if (lo >= hi)
      continue;
    Slice within = region;
    within.offset[dim_] = lo - start;
    within.shape[dim_] = hi - lo;
    auto partCovers = part.coverRegion(within);
    if (!partCovers)
      return partCovers.takeError();
    for (ShardedTensor::Cover &cover : *partCovers) {
      Cover packedCover;
      packedCover.local.resize(shape_.size());
      for (size_t d = 0; d < shape_.size(); ++d)
        packedCover.local[d] = cover.overlap.offset[d] - cover.pieceSlice.offset[d];
      packedCover.local[dim_] += localStart;
      packedCover.overlap = std::move(cover.overlap);
      packedCover.overlap.offset[dim_] += start;
      packedCover.ranks = cover.ranks;
      covers.push_back(std::move(packedCover));
    }
  }
  return covers;
}

//===----------------------------------------------------------------------===//
// Text forms
//===----------------------------------------------------------------------===//

static llvm::Expected<int64_t> parseInt(llvm::StringRef token, llvm::StringRef what) {
  int64_t value;
  token = token.trim();
  if (token.empty() || token.getAsInteger(10, value))
    return layoutError("{0}: '{1}' is not an integer", what, token);
  return value;
}

llvm::Expected<SmallVector<int64_t, 4>> dinfer::parseIntList(llvm::StringRef text, llvm::StringRef what) {
  text = text.trim();
  if (text.consume_front("[") && !text.consume_back("]"))
    return layoutError("{0}: unbalanced '['", what);
  SmallVector<int64_t, 4> values;
  if (text.trim().empty())
    return values;
  SmallVector<llvm::StringRef, 8> tokens;
  text.split(tokens, ',');
  for (llvm::StringRef token : tokens) {
    auto value = parseInt(token, what);
    if (!value)
      return value.takeError();
    values.push_back(*value);
  }
  return values;
}

llvm::Expected<SmallVector<DimAxes, 4>> dinfer::parseTensorMap(llvm::StringRef text) {
  SmallVector<DimAxes, 4> map;
  text = text.trim();
  if (text.consume_front("[") && !text.consume_back("]"))
    return layoutError("--tensor-map: unbalanced '['");
  if (text.trim().empty())
    return map;
  SmallVector<llvm::StringRef, 8> entries;
  text.split(entries, ',');
  for (llvm::StringRef entry : entries) {
    SmallVector<llvm::StringRef, 4> parts;
    entry.split(parts, '+');
    DimAxes axes;
    for (llvm::StringRef part : parts) {
      auto axis = parseInt(part, "--tensor-map");
      if (!axis)
        return axis.takeError();
      if (*axis == -1 && parts.size() == 1)
        break;
      if (*axis < 0)
        return layoutError("--tensor-map: axis {0} in '{1}' is negative; -1 stands alone", *axis, entry.trim());
      axes.push_back(*axis);
    }
    map.push_back(std::move(axes));
  }
  return map;
}

std::string dinfer::formatTensorMap(ArrayRef<DimAxes> tensorMap) {
  std::string out;
  for (auto [i, axes] : llvm::enumerate(tensorMap)) {
    if (i)
      out += ",";
    if (axes.empty())
      out += "-1";
    else
      out += llvm::join(llvm::map_range(axes, [](int64_t a) { return std::to_string(a); }), "+");
  }
  return out;
}

std::optional<int64_t> dinfer::singleAxis(const DimAxes &axes) {
  if (axes.empty())
    return -1;
  if (axes.size() == 1)
    return axes.front();
  return std::nullopt;
}

std::vector<int> dinfer::deviceGroup(llvm::ArrayRef<int64_t> devMatrix, llvm::ArrayRef<int64_t> axes, int rank) {
  size_t dims = devMatrix.size();
  std::vector<int64_t> strides(dims, 1), coordinates(dims, 0);
  for (size_t d = dims; d-- > 1;)
    strides[d - 1] = strides[d] * devMatrix[d];
  int64_t rest = rank;
  for (size_t d = 0; d < dims; ++d) {
    coordinates[d] = rest / strides[d];
    rest %= strides[d];
  }
  // The dev_matrix dimensions the group varies, leftmost (slowest) first.
  std::vector<size_t> varying;
  for (size_t d = 0; d < dims; ++d)
    if (llvm::is_contained(axes, static_cast<int64_t>(dims - 1 - d)))
      varying.push_back(d);
  int64_t base = 0;
  for (size_t d = 0; d < dims; ++d)
    if (!llvm::is_contained(varying, d))
      base += coordinates[d] * strides[d];
  std::vector<int> group{static_cast<int>(base)};
  for (size_t d : varying) {
    std::vector<int> grown;
    for (int member : group)
      for (int64_t c = 0; c < devMatrix[d]; ++c)
        grown.push_back(member + static_cast<int>(c * strides[d]));
    group = std::move(grown);
  }
  return group;
}
