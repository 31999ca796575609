//===- LayoutTest.cpp - the layout algebra against MindSpore's algorithm --===//
//
// The oracle below is MindSpore's `_tensor.py` and `_utils.py` done literally
// on a materialised tensor: chunk the full tensor by the strategy, pick the
// chunk `slice_index(rank)`, and for optimizer sharding find the replica
// group by comparing chunk contents and split the chunk along dimension 0.
// The algebra never materialises anything; the tests compare the two on every
// small shape, device matrix and tensor map.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Reshard/Layout.h"

#include "gtest/gtest.h"

#include <map>
#include <numeric>
#include <optional>
#include <set>

using namespace dinfer;
using llvm::ArrayRef;
using llvm::SmallVector;

namespace {

//===----------------------------------------------------------------------===//
// Oracle: a row-major array of element ids and numpy-style chunking.
//===----------------------------------------------------------------------===//

struct Array {
  std::vector<int64_t> shape;
  std::vector<int64_t> data;
};

Array iota(ArrayRef<int64_t> shape) {
  Array a{std::vector<int64_t>(shape.begin(), shape.end()), {}};
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  a.data.resize(n);
  std::iota(a.data.begin(), a.data.end(), 0);
  return a;
}

/// np.split(a, parts, axis).
std::vector<Array> splitAxis(const Array &a, size_t axis, int64_t parts) {
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d)
    outer *= a.shape[d];
  for (size_t d = axis + 1; d < a.shape.size(); ++d)
    inner *= a.shape[d];
  int64_t extent = a.shape[axis], piece = extent / parts;
  std::vector<Array> out(parts);
  for (int64_t p = 0; p < parts; ++p) {
    out[p].shape = a.shape;
    out[p].shape[axis] = piece;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = p * piece; i < (p + 1) * piece; ++i)
        for (int64_t j = 0; j < inner; ++j)
          out[p].data.push_back(a.data[(o * extent + i) * inner + j]);
  }
  return out;
}

/// MindSpore's _chunk_tensor_by_strategy: axis 0 first, then each part along
/// axis 1, and so on; a flat row-major list of chunks.
std::vector<Array> chunkByStrategy(const Array &a, ArrayRef<int64_t> strategy) {
  std::vector<Array> chunks = {a};
  for (size_t axis = 0; axis < strategy.size(); ++axis) {
    std::vector<Array> next;
    for (const Array &c : chunks)
      for (Array &part : splitAxis(c, axis, strategy[axis]))
        next.push_back(std::move(part));
    chunks = std::move(next);
  }
  return chunks;
}

/// What rank `rank` holds, by MindSpore's algorithm; nullopt when MindSpore
/// would refuse the optimizer-sharding parameters.
std::optional<std::vector<Array>> oracleSlices(ArrayRef<int64_t> shape, const TensorLayout &layout) {
  const int64_t numAxes = layout.devMatrix.size();
  std::vector<int64_t> strategy;
  for (const DimAxes &axes : layout.tensorMap) {
    int64_t s = 1;
    for (int64_t axis : axes)
      s *= layout.devMatrix[numAxes - 1 - axis];
    strategy.push_back(s);
  }
  Array full = iota(shape);
  std::vector<Array> chunks = chunkByStrategy(full, strategy);
  int64_t devices = 1;
  for (int64_t d : layout.devMatrix)
    devices *= d;
  std::vector<Array> held(devices);
  for (int64_t rank = 0; rank < devices; ++rank) {
    // _rank_to_coordinate
    std::vector<int64_t> coord(numAxes);
    int64_t r = rank;
    for (int64_t i = numAxes - 1; i >= 0; --i) {
      coord[i] = r % layout.devMatrix[i];
      r /= layout.devMatrix[i];
    }
    // new_coord, then _coordinate_to_rank over the strategy.
    int64_t index = 0;
    for (size_t dim = 0; dim < shape.size(); ++dim) {
      int64_t c = 0;
      for (int64_t axis : layout.tensorMap[dim])
        c = c * layout.devMatrix[numAxes - 1 - axis] + coord[numAxes - 1 - axis];
      index = index * strategy[dim] + c;
    }
    held[rank] = chunks[index];
  }
  if (!layout.hasOptimizerSharding())
    return held;

  // The repeated group: ranks holding identical data, compared by content.
  std::vector<Array> sharded(devices);
  for (int64_t rank = 0; rank < devices; ++rank) {
    std::vector<int64_t> group;
    for (int64_t other = 0; other < devices; ++other)
      if (held[other].data == held[rank].data)
        group.push_back(other);
    if (group.size() < 2 || shape.empty())
      return std::nullopt;
    int64_t step = (group.back() - group.front()) / static_cast<int64_t>(group.size() - 1);
    for (size_t i = 1; i < group.size(); ++i)
      if (group[i] - group[i - 1] != step)
        return std::nullopt;
    if (step != layout.optShardStep)
      return std::nullopt;
    int64_t k = layout.optShardSize > 0 ? layout.optShardSize : static_cast<int64_t>(group.size());
    if (static_cast<int64_t>(group.size()) % k != 0 || held[rank].shape[0] % k != 0)
      return std::nullopt;
    int64_t position = (std::find(group.begin(), group.end(), rank) - group.begin()) % k;
    sharded[rank] = splitAxis(held[rank], 0, k)[position];
  }
  return sharded;
}

/// The elements of `slice` in `full`, row-major.
std::vector<int64_t> elementsOf(const Array &full, const Slice &slice) {
  std::vector<int64_t> out;
  const size_t rank = full.shape.size();
  if (rank == 0)
    return full.data;
  std::vector<int64_t> idx(slice.offset.begin(), slice.offset.end());
  if (slice.numElements() == 0)
    return out;
  while (true) {
    int64_t linear = 0;
    for (size_t d = 0; d < rank; ++d)
      linear = linear * full.shape[d] + idx[d];
    out.push_back(full.data[linear]);
    size_t d = rank;
    while (d-- > 0) {
      if (++idx[d] < slice.offset[d] + slice.shape[d])
        break;
      idx[d] = slice.offset[d];
      if (d == 0)
        return out;
    }
  }
}

TensorLayout makeLayout(std::vector<int64_t> dev, std::vector<std::vector<int64_t>> map, int64_t step = 0,
                        int64_t size = 0) {
  TensorLayout layout;
  layout.devMatrix.assign(dev.begin(), dev.end());
  for (auto &axes : map)
    layout.tensorMap.emplace_back(axes.begin(), axes.end());
  layout.optShardStep = step;
  layout.optShardSize = size;
  return layout;
}

ShardedTensor mustCreate(ArrayRef<int64_t> shape, const TensorLayout &layout) {
  auto st = ShardedTensor::create(shape, layout);
  EXPECT_TRUE(static_cast<bool>(st)) << (st ? "" : llvm::toString(st.takeError()));
  return std::move(*st);
}

std::string errorOf(ArrayRef<int64_t> shape, const TensorLayout &layout) {
  auto st = ShardedTensor::create(shape, layout);
  if (st)
    return "";
  return llvm::toString(st.takeError());
}

/// Compares the algebra with the oracle for one case, and checks coverRegion
/// on a few regions against a brute-force intersection of every piece.
/// Returns whether the layout was valid.
bool checkAgainstOracle(ArrayRef<int64_t> shape, const TensorLayout &layout) {
  SCOPED_TRACE("shape " + std::to_string(shape.size()) + "-D, tensor_map " + formatTensorMap(layout.tensorMap));
  auto expected = oracleSlices(shape, layout);
  auto st = ShardedTensor::create(shape, layout);
  if (!expected) {
    EXPECT_FALSE(static_cast<bool>(st)) << "the algebra accepted what MindSpore refuses";
    if (!st)
      llvm::consumeError(st.takeError());
    return false;
  }
  EXPECT_TRUE(static_cast<bool>(st)) << llvm::toString(st.takeError());
  if (!st)
    return false;
  Array full = iota(shape);
  std::map<std::vector<int64_t>, int64_t> firstHolder;
  for (int64_t rank = 0; rank < st->deviceCount(); ++rank) {
    Slice slice = st->sliceOfRank(rank);
    EXPECT_EQ(std::vector<int64_t>(slice.shape.begin(), slice.shape.end()), (*expected)[rank].shape)
        << "rank " << rank;
    EXPECT_EQ(elementsOf(full, slice), (*expected)[rank].data) << "rank " << rank;
    auto [it, inserted] = firstHolder.emplace((*expected)[rank].data, rank);
    EXPECT_EQ(st->replicaOf(rank), it->second) << "rank " << rank;
  }

  // Inverse: which pieces cover a region, against testing every piece.
  std::vector<Slice> regions;
  Slice whole;
  whole.offset.assign(shape.size(), 0);
  whole.shape.assign(shape.begin(), shape.end());
  regions.push_back(whole);
  Slice inner = whole;
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] > 2) {
      inner.offset[d] = 1;
      inner.shape[d] = shape[d] - 2;
    }
  regions.push_back(inner);
  for (int64_t rank = 0; rank < st->deviceCount(); rank += 3)
    regions.push_back(st->sliceOfRank(rank));
  for (const Slice &region : regions) {
    auto covers = st->coverRegion(region);
    EXPECT_TRUE(static_cast<bool>(covers)) << llvm::toString(covers.takeError());
    if (!covers)
      return true;
    std::set<int64_t> found;
    int64_t covered = 0;
    for (const auto &cover : *covers) {
      found.insert(cover.piece);
      covered += cover.overlap.numElements();
      EXPECT_EQ(cover.pieceSlice, st->pieceSlice(cover.piece));
      for (int64_t r : cover.ranks)
        EXPECT_EQ(st->pieceOfRank(r), cover.piece);
    }
    std::set<int64_t> brute;
    for (int64_t piece = 0; piece < st->numPieces(); ++piece) {
      Slice p = st->pieceSlice(piece);
      bool overlaps = true;
      for (size_t d = 0; d < shape.size(); ++d)
        overlaps &= std::max(p.offset[d], region.offset[d]) <
                    std::min(p.offset[d] + p.shape[d], region.offset[d] + region.shape[d]);
      if (overlaps && region.numElements() > 0)
        brute.insert(piece);
    }
    EXPECT_EQ(found, brute);
    EXPECT_EQ(covered, region.numElements());
  }
  return true;
}

//===----------------------------------------------------------------------===//
// The worked examples of mindspore-formats.md section 2
//===----------------------------------------------------------------------===//

TEST(LayoutWorkedExamples, DocsSampleMatmulWeight) {
  // [96,16], 8 devices, strategy ((2,1),(1,4)): dev [2,4], tensor_map [-1,0].
  ShardedTensor st = mustCreate({96, 16}, makeLayout({2, 4}, {{}, {0}}));
  EXPECT_EQ(st.deviceCount(), 8);
  EXPECT_EQ(st.numPieces(), 4);
  for (int64_t r = 0; r < 8; ++r) {
    Slice s = st.sliceOfRank(r);
    EXPECT_EQ(s.offset, (SmallVector<int64_t, 4>{0, 4 * (r % 4)}));
    EXPECT_EQ(s.shape, (SmallVector<int64_t, 4>{96, 4}));
    EXPECT_EQ(st.replicaOf(r), r % 4);
  }
  EXPECT_EQ(st.replicaGroup(1), (SmallVector<int64_t, 8>{1, 5}));
  checkAgainstOracle({96, 16}, makeLayout({2, 4}, {{}, {0}}));
}

TEST(LayoutWorkedExamples, TwoDimensionalSplit) {
  // [8,6], dev [2,2,2], tensor_map [2,0].
  ShardedTensor st = mustCreate({8, 6}, makeLayout({2, 2, 2}, {{2}, {0}}));
  Slice rank5 = st.sliceOfRank(5);
  EXPECT_EQ(rank5.offset, (SmallVector<int64_t, 4>{4, 3}));
  EXPECT_EQ(rank5.shape, (SmallVector<int64_t, 4>{4, 3}));
  EXPECT_EQ(st.sliceOfRank(2), st.sliceOfRank(0));
  EXPECT_EQ(st.replicaOf(2), 0);
}

TEST(LayoutWorkedExamples, MindSporeLoadTensorTest) {
  // [[1,2,3],[4,5,6]], dev [2,3], tensor_map [1,-1]: rank 5 gets row 1.
  ShardedTensor st = mustCreate({2, 3}, makeLayout({2, 3}, {{1}, {}}));
  EXPECT_EQ(st.sliceOfRank(5).offset, (SmallVector<int64_t, 4>{1, 0}));
  EXPECT_EQ(st.sliceOfRank(2).offset, (SmallVector<int64_t, 4>{0, 0}));
  EXPECT_EQ(st.sliceOfRank(5).shape, (SmallVector<int64_t, 4>{1, 3}));
}

TEST(LayoutWorkedExamples, OptimizerShardingWholeGroup) {
  // ((4,1),(2,1)) on [2560,2560]: dev [4,2], tensor_map [0,-1], step 2.
  ShardedTensor st = mustCreate({2560, 2560}, makeLayout({4, 2}, {{0}, {}}, 2, -1));
  EXPECT_EQ(st.replicaGroup(0), (SmallVector<int64_t, 8>{0, 2, 4, 6}));
  for (int64_t r = 0; r < 8; ++r) {
    int64_t pos = r / 2;
    Slice s = st.sliceOfRank(r);
    EXPECT_EQ(s.shape, (SmallVector<int64_t, 4>{320, 2560}));
    EXPECT_EQ(s.offset[0], (r % 2) * 1280 + pos * 320) << "rank " << r;
  }
  EXPECT_EQ(st.optShardGroup(4), (SmallVector<int64_t, 8>{0, 2, 4, 6}));
}

TEST(LayoutWorkedExamples, OptimizerShardingSizeTwo) {
  ShardedTensor st = mustCreate({2560, 2560}, makeLayout({4, 2}, {{0}, {}}, 2, 2));
  EXPECT_EQ(st.optShardGroup(0), (SmallVector<int64_t, 8>{0, 2}));
  EXPECT_EQ(st.optShardGroup(6), (SmallVector<int64_t, 8>{4, 6}));
  EXPECT_EQ(st.optShardGroup(3), (SmallVector<int64_t, 8>{1, 3}));
  EXPECT_EQ(st.sliceOfRank(0).shape, (SmallVector<int64_t, 4>{640, 2560}));
  EXPECT_EQ(st.sliceOfRank(2).offset[0], 640);
  EXPECT_EQ(st.sliceOfRank(4).offset[0], 0);
  EXPECT_EQ(st.replicaOf(4), 0);
  EXPECT_EQ(st.replicaOf(6), 2);
  checkAgainstOracle({64, 4}, makeLayout({4, 2}, {{0}, {}}, 2, 2));
}

TEST(LayoutWorkedExamples, MultiAxisDimension) {
  // CONTRACTS.md section 1: a dimension over axes a,b has index c[a]*size[b] + c[b].
  ShardedTensor st = mustCreate({8, 6}, makeLayout({2, 2, 2}, {{2, 1}, {}}));
  EXPECT_EQ(st.pieceCounts(), (ArrayRef<int64_t>{4, 1}));
  EXPECT_EQ(st.sliceOfRank(5).offset, (SmallVector<int64_t, 4>{4, 0}));
  EXPECT_EQ(st.sliceOfRank(2).offset, (SmallVector<int64_t, 4>{2, 0}));
  // Minor axis first reverses the order along the dimension.
  ShardedTensor reversed = mustCreate({8, 6}, makeLayout({2, 2, 2}, {{1, 2}, {}}));
  EXPECT_EQ(reversed.sliceOfRank(2).offset, (SmallVector<int64_t, 4>{4, 0}));
  EXPECT_EQ(reversed.sliceOfRank(4).offset, (SmallVector<int64_t, 4>{2, 0}));
}

TEST(LayoutWorkedExamples, ScalarIsReplicatedEverywhere) {
  ShardedTensor st = mustCreate({}, makeLayout({4}, {}));
  EXPECT_EQ(st.numPieces(), 1);
  for (int64_t r = 0; r < 4; ++r)
    EXPECT_EQ(st.replicaOf(r), 0);
  auto covers = st.coverRegion(Slice{});
  ASSERT_TRUE(static_cast<bool>(covers));
  EXPECT_EQ(covers->size(), 1u);
  EXPECT_EQ(covers->front().ranks.size(), 4u);
}

//===----------------------------------------------------------------------===//
// The inverse: which ranks cover a region
//===----------------------------------------------------------------------===//

TEST(LayoutCoverRegion, ColumnsAcrossTwoPieces) {
  ShardedTensor st = mustCreate({96, 16}, makeLayout({2, 4}, {{}, {0}}));
  Slice region{{10, 3}, {20, 6}}; // columns 3..8 touch pieces 0, 1 and 2
  auto covers = st.coverRegion(region);
  ASSERT_TRUE(static_cast<bool>(covers));
  ASSERT_EQ(covers->size(), 3u);
  EXPECT_EQ((*covers)[0].overlap, (Slice{{10, 3}, {20, 1}}));
  EXPECT_EQ((*covers)[1].overlap, (Slice{{10, 4}, {20, 4}}));
  EXPECT_EQ((*covers)[2].overlap, (Slice{{10, 8}, {20, 1}}));
  EXPECT_EQ((*covers)[1].ranks, (ArrayRef<int64_t>{1, 5}));
}

TEST(LayoutCoverRegion, RejectsRegionsOutside) {
  ShardedTensor st = mustCreate({96, 16}, makeLayout({2, 4}, {{}, {0}}));
  auto covers = st.coverRegion(Slice{{0, 10}, {96, 7}});
  ASSERT_FALSE(static_cast<bool>(covers));
  EXPECT_EQ(llvm::toString(covers.takeError()),
            "region [10, 17) of dimension 1 lies outside the tensor's extent 16");
  auto wrongRank = st.coverRegion(Slice{{0}, {96}});
  ASSERT_FALSE(static_cast<bool>(wrongRank));
  llvm::consumeError(wrongRank.takeError());
}

TEST(LayoutCoverRegion, EmptyRegionHasNoCovers) {
  ShardedTensor st = mustCreate({96, 16}, makeLayout({2, 4}, {{}, {0}}));
  auto covers = st.coverRegion(Slice{{0, 4}, {96, 0}});
  ASSERT_TRUE(static_cast<bool>(covers));
  EXPECT_TRUE(covers->empty());
}

//===----------------------------------------------------------------------===//
// Errors name the attribute
//===----------------------------------------------------------------------===//

TEST(LayoutErrors, TensorMapLength) {
  EXPECT_EQ(errorOf({96, 16}, makeLayout({2, 4}, {{0}})), "tensor_map has 1 entries but the tensor has rank 2");
}

TEST(LayoutErrors, AxisOutOfRange) {
  EXPECT_EQ(errorOf({96, 16}, makeLayout({2, 4}, {{2}, {}})),
            "tensor_map entry 0 uses device axis 2, out of range for a dev_matrix of 2 axes");
}

TEST(LayoutErrors, AxisUsedTwice) {
  EXPECT_EQ(errorOf({96, 16}, makeLayout({2, 4}, {{0}, {1, 0}})),
            "tensor_map uses device axis 0 twice (dimensions 0 and 1)");
}

TEST(LayoutErrors, NotDivisible) {
  EXPECT_EQ(errorOf({96, 18}, makeLayout({2, 4}, {{}, {0}})),
            "dimension 1 of size 18 is not divisible by its split 4");
}

TEST(LayoutErrors, NonPositiveDevMatrix) {
  EXPECT_EQ(errorOf({4}, makeLayout({2, 0}, {{}})), "dev_matrix entry 1 is 0; entries must be positive");
  EXPECT_EQ(errorOf({4}, makeLayout({-2}, {{}})), "dev_matrix entry 0 is -2; entries must be positive");
}

TEST(LayoutErrors, TooManyDevices) {
  EXPECT_NE(errorOf({4}, makeLayout({1 << 20, 1 << 20}, {{}})).find("has more than"), std::string::npos);
}

TEST(LayoutErrors, DeviceCountMismatch) {
  llvm::Error err = checkDeviceCount(makeLayout({2, 4}, {{}, {0}}), 4);
  EXPECT_EQ(llvm::toString(std::move(err)), "dev_matrix [2,4] covers 8 devices, but 4 devices are in use");
  EXPECT_FALSE(static_cast<bool>(checkDeviceCount(makeLayout({2, 4}, {{}, {0}}), 8)));
}

TEST(LayoutErrors, OptimizerShardingStepDisagrees) {
  EXPECT_EQ(errorOf({96, 16}, makeLayout({2, 4}, {{}, {0}}, 3, -1)),
            "opt_weight_shard_step is 3, but the replica group [0,4] has stride 4");
}

TEST(LayoutErrors, OptimizerShardingWithoutReplicas) {
  EXPECT_NE(errorOf({96, 16}, makeLayout({4}, {{}, {0}}, 1, -1)).find("no other rank holds the same slice"),
            std::string::npos);
}

TEST(LayoutErrors, OptimizerShardingUnevenGroup) {
  // dev [2,2,2], only the middle axis splits: replicas {0,1,4,5} are not evenly strided.
  EXPECT_NE(errorOf({8}, makeLayout({2, 2, 2}, {{1}}, 1, -1)).find("has stride"), std::string::npos);
}

TEST(LayoutErrors, OptimizerShardingSizeDoesNotDivide) {
  EXPECT_EQ(errorOf({96, 16}, makeLayout({4, 2}, {{}, {0}}, 2, 3)),
            "opt_weight_shard_size 3 does not divide the replica group of 4 ranks");
}

TEST(LayoutErrors, OptimizerShardingRowsDoNotDivide) {
  EXPECT_EQ(errorOf({6, 16}, makeLayout({4, 2}, {{}, {0}}, 2, -1)),
            "dimension 0 of the slice (6) is not divisible by the optimizer shard count 4");
}

TEST(LayoutErrors, OptimizerShardingOfScalar) {
  EXPECT_NE(errorOf({}, makeLayout({4}, {}, 1, -1)).find("a scalar cannot be optimizer-sharded"),
            std::string::npos);
}

TEST(LayoutErrors, OptimizerShardingValues) {
  EXPECT_EQ(llvm::toString(checkLayout(makeLayout({4}, {{}}, -1, 0))),
            "opt_weight_shard_step is -1; it must be 0 or positive");
  EXPECT_EQ(llvm::toString(checkLayout(makeLayout({4}, {{}}, 1, -2))),
            "opt_weight_shard_size is -2; it must be -1, 0 or positive");
  EXPECT_EQ(llvm::toString(checkLayout(makeLayout({4}, {{}}, 0, 2))),
            "opt_weight_shard_size is 2 but opt_weight_shard_step is 0");
}

//===----------------------------------------------------------------------===//
// Text forms
//===----------------------------------------------------------------------===//

TEST(LayoutText, ParseTensorMap) {
  auto map = parseTensorMap("1+0,-1,2");
  ASSERT_TRUE(static_cast<bool>(map));
  ASSERT_EQ(map->size(), 3u);
  EXPECT_EQ((*map)[0], (DimAxes{1, 0}));
  EXPECT_TRUE((*map)[1].empty());
  EXPECT_EQ((*map)[2], (DimAxes{2}));
  EXPECT_EQ(formatTensorMap(*map), "1+0,-1,2");
  auto bracketed = parseTensorMap("[-1, 0]");
  ASSERT_TRUE(static_cast<bool>(bracketed));
  EXPECT_EQ(formatTensorMap(*bracketed), "-1,0");
}

TEST(LayoutText, ParseTensorMapErrors) {
  auto bad = parseTensorMap("1+-1");
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()), "--tensor-map: axis -1 in '1+-1' is negative; -1 stands alone");
  auto word = parseTensorMap("a,0");
  ASSERT_FALSE(static_cast<bool>(word));
  EXPECT_EQ(llvm::toString(word.takeError()), "--tensor-map: 'a' is not an integer");
  auto unbalanced = parseTensorMap("[0,1");
  ASSERT_FALSE(static_cast<bool>(unbalanced));
  llvm::consumeError(unbalanced.takeError());
}

TEST(LayoutText, ParseIntList) {
  auto list = parseIntList(" 96, 16 ", "--shape");
  ASSERT_TRUE(static_cast<bool>(list));
  EXPECT_EQ(*list, (SmallVector<int64_t, 4>{96, 16}));
  auto empty = parseIntList("", "--shape");
  ASSERT_TRUE(static_cast<bool>(empty));
  EXPECT_TRUE(empty->empty());
  auto bad = parseIntList("96,,16", "--shape");
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()), "--shape: '' is not an integer");
}

TEST(LayoutText, SingleAxis) {
  EXPECT_EQ(singleAxis(DimAxes{}), -1);
  EXPECT_EQ(singleAxis(DimAxes{3}), 3);
  EXPECT_EQ(singleAxis(DimAxes{1, 0}), std::nullopt);
}

TEST(LayoutText, RankToCoordinate) {
  EXPECT_EQ(rankToCoordinate(5, {2, 2, 2}), (SmallVector<int64_t, 4>{1, 0, 1}));
  EXPECT_EQ(rankToCoordinate(7, {2, 4}), (SmallVector<int64_t, 4>{1, 3}));
}

//===----------------------------------------------------------------------===//
// Exhaustive comparison with the oracle on small cases
//===----------------------------------------------------------------------===//

/// Every device matrix of `numAxes` axes with entries in {1, 2, 3}.
std::vector<std::vector<int64_t>> devMatrices(int numAxes) {
  std::vector<std::vector<int64_t>> out = {{}};
  for (int i = 0; i < numAxes; ++i) {
    std::vector<std::vector<int64_t>> next;
    for (auto &m : out)
      for (int64_t s : {1, 2, 3}) {
        next.push_back(m);
        next.back().push_back(s);
      }
    out = std::move(next);
  }
  return out;
}

/// Every tensor map of a rank-`rank` tensor over `numAxes` axes: each axis
/// splits one dimension or none; a dimension with several axes is tried in
/// both orders.
std::vector<std::vector<std::vector<int64_t>>> tensorMaps(int rank, int numAxes) {
  std::vector<std::vector<std::vector<int64_t>>> out;
  int64_t combos = 1;
  for (int i = 0; i < numAxes; ++i)
    combos *= rank + 1;
  for (int64_t c = 0; c < combos; ++c) {
    std::vector<std::vector<int64_t>> map(rank);
    int64_t rest = c;
    for (int axis = numAxes - 1; axis >= 0; --axis) {
      int64_t dim = rest % (rank + 1);
      rest /= rank + 1;
      if (dim < rank)
        map[dim].push_back(axis); // major (higher) axes first
    }
    out.push_back(map);
    for (int d = 0; d < rank; ++d)
      if (map[d].size() > 1) {
        auto reversed = map;
        std::reverse(reversed[d].begin(), reversed[d].end());
        out.push_back(reversed);
      }
  }
  return out;
}

struct ExhaustiveCase {
  int rank;
  int numAxes;
};

void PrintTo(const ExhaustiveCase &c, std::ostream *os) {
  *os << "rank " << c.rank << ", " << c.numAxes << " device axes";
}

class LayoutExhaustive : public ::testing::TestWithParam<ExhaustiveCase> {};

TEST_P(LayoutExhaustive, MatchesMindSporeAlgorithm) {
  const auto [rank, numAxes] = GetParam();
  int cases = 0, optSharded = 0;
  for (const auto &dev : devMatrices(numAxes)) {
    for (const auto &map : tensorMaps(rank, numAxes)) {
      // Shapes: each dimension is its split times 1 or 2, so every case divides.
      TensorLayout layout = makeLayout(dev, map);
      std::vector<int64_t> splits;
      for (const auto &axes : map) {
        int64_t s = 1;
        for (int64_t axis : axes)
          s *= dev[numAxes - 1 - axis];
        splits.push_back(s);
      }
      for (int64_t multiplier = 0; multiplier < (1 << rank); ++multiplier) {
        std::vector<int64_t> shape;
        for (int d = 0; d < rank; ++d)
          shape.push_back(splits[d] * ((multiplier >> d & 1) ? 2 : 1));
        EXPECT_TRUE(checkAgainstOracle(shape, layout));
        ++cases;
        if (::testing::Test::HasFailure())
          return;
        if (rank == 0)
          continue;
        // Optimizer sharding with every step and chunk size MindSpore could write.
        for (int64_t step = 1; step <= 9; ++step)
          for (int64_t size : {-1, 2, 3, 4}) {
            TensorLayout sharded = makeLayout(dev, map, step, size);
            std::vector<int64_t> tall = shape;
            tall[0] *= 12; // divisible by every chunk size tried
            optSharded += checkAgainstOracle(tall, sharded);
            ++cases;
            if (::testing::Test::HasFailure())
              return;
          }
      }
    }
  }
  RecordProperty("cases", cases);
  RecordProperty("opt_sharded_cases", optSharded);
  EXPECT_GT(cases, 0);
  // Every device matrix with a replica axis admits some optimizer sharding.
  if (rank > 0 && numAxes > 1) {
    EXPECT_GT(optSharded, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(SmallShapes, LayoutExhaustive,
                         ::testing::Values(ExhaustiveCase{0, 1}, ExhaustiveCase{1, 1}, ExhaustiveCase{1, 2},
                                           ExhaustiveCase{1, 3}, ExhaustiveCase{2, 1}, ExhaustiveCase{2, 2},
                                           ExhaustiveCase{2, 3}, ExhaustiveCase{3, 2}, ExhaustiveCase{3, 3}),
                         [](const ::testing::TestParamInfo<ExhaustiveCase> &info) {
                           return "rank" + std::to_string(info.param.rank) + "_axes" +
                                  std::to_string(info.param.numAxes);
                         });

} // namespace
