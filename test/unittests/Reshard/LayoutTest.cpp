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

#include "dinfer/Layout/Layout.h"

#include "Oracle.h"

#include "gtest/gtest.h"

#include <map>
#include <numeric>
#include <optional>
#include <set>

using namespace dinfer;
using namespace dinfer::oracle;
using llvm::ArrayRef;
using llvm::SmallVector;

namespace {

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
  // docs/contracts.md section 1: a dimension over axes a,b has index c[a]*size[b] + c[b].
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

//===----------------------------------------------------------------------===//
// Packed tensors: parts laid out one by one (a packed projection per head)
//===----------------------------------------------------------------------===//

/// The box `box` of a row-major array of shape `shape`, row-major.
std::vector<int64_t> boxOf(const oracle::Array &array, const Slice &box) { return oracle::elementsOf(array, box); }

/// A 2-D array's columns [begin, end).
oracle::Array columns(const oracle::Array &a, int64_t begin, int64_t end) {
  oracle::Array out{{a.shape[0], end - begin}, {}};
  for (int64_t r = 0; r < a.shape[0]; ++r)
    for (int64_t c = begin; c < end; ++c)
      out.data.push_back(a.data[r * a.shape[1] + c]);
  return out;
}

/// Writes `values` (row-major, of shape `shape`) at `at` into `into`.
void place(oracle::Array &into, ArrayRef<int64_t> at, ArrayRef<int64_t> shape, ArrayRef<int64_t> values) {
  size_t i = 0;
  for (int64_t r = 0; r < shape[0]; ++r)
    for (int64_t c = 0; c < shape[1]; ++c)
      into.data[(at[0] + r) * into.shape[1] + at[1] + c] = values[i++];
}

/// Every 2-D tensor of 4 devices cut into three column parts, each part with
/// any layout over the same device matrix: a rank's slice is the oracle's
/// slice of each part, side by side, and every region is covered exactly
/// once by boxes that hold the region's elements where they say.
TEST(PackedTensorExhaustive, MatchesPartByPartOracle) {
  int cases = 0, refused = 0;
  for (std::vector<int64_t> dev : {std::vector<int64_t>{4}, {2, 2}, {1, 4}}) {
    auto maps = tensorMaps(2, static_cast<int>(dev.size()));
    for (const auto &m0 : maps)
      for (const auto &m1 : maps)
        for (const auto &m2 : maps) {
          PartsLayout parts;
          parts.dim = 1;
          // Extents that every split of 4 devices divides, unequal (GQA's Q, K, V).
          parts.sizes = {8, 4, 4};
          parts.layouts = {makeLayout(dev, m0), makeLayout(dev, m1), makeLayout(dev, m2)};
          std::vector<int64_t> shape = {8, 16};
          auto packed = PackedTensor::create(shape, parts);
          // The parts must cut dimension 0 alike.
          std::set<int64_t> rowPieces;
          for (const TensorLayout &layout : parts.layouts) {
            int64_t s = 1;
            for (int64_t axis : layout.tensorMap[0])
              s *= layout.devMatrix[layout.devMatrix.size() - 1 - axis];
            rowPieces.insert(s);
          }
          if (rowPieces.size() > 1) {
            EXPECT_FALSE(static_cast<bool>(packed));
            if (!packed)
              llvm::consumeError(packed.takeError());
            ++refused;
            continue;
          }
          ASSERT_TRUE(static_cast<bool>(packed)) << llvm::toString(packed.takeError());
          ++cases;
          oracle::Array full = oracle::iota(shape);
          std::vector<oracle::Array> slices(4);
          int64_t start = 0;
          std::vector<std::vector<oracle::Array>> partSlices;
          for (auto [size, layout] : llvm::zip_equal(parts.sizes, parts.layouts)) {
            oracle::Array part = columns(full, start, start + size);
            auto expected = oracle::oracleSlices(part.shape, layout);
            ASSERT_TRUE(expected.has_value());
            // The oracle numbers the part's own elements: map them back.
            for (oracle::Array &slice : *expected)
              for (int64_t &id : slice.data)
                id = part.data[id];
            partSlices.push_back(std::move(*expected));
            start += size;
          }
          for (int64_t rank = 0; rank < 4; ++rank) {
            oracle::Array want{{partSlices[0][rank].shape[0], 0}, {}};
            for (auto &p : partSlices)
              want.shape[1] += p[rank].shape[1];
            want.data.assign(want.shape[0] * want.shape[1], -1);
            int64_t at = 0;
            for (auto &p : partSlices) {
              place(want, {0, at}, p[rank].shape, p[rank].data);
              at += p[rank].shape[1];
            }
            ASSERT_EQ(ArrayRef<int64_t>(want.shape), packed->sliceShape());
            oracle::Array got{want.shape, std::vector<int64_t>(want.data.size(), -1)};
            for (const PackedTensor::Piece &piece : packed->piecesOfRank(rank))
              place(got, piece.local, piece.global.shape, boxOf(full, piece.global));
            ASSERT_EQ(got.data, want.data) << "rank " << rank;
            slices[rank] = std::move(want);
          }
          // Regions: every box of a 4 x 4 grid of the tensor, and the whole.
          for (int64_t r0 = 0; r0 < 8; r0 += 3)
            for (int64_t c0 = 0; c0 < 16; c0 += 5)
              for (int64_t c1 = c0 + 1; c1 <= 16; c1 += 4) {
                Slice region{{r0, c0}, {8 - r0, c1 - c0}};
                auto covers = packed->coverRegion(region);
                ASSERT_TRUE(static_cast<bool>(covers)) << llvm::toString(covers.takeError());
                int64_t covered = 0;
                for (const PackedTensor::Cover &cover : *covers) {
                  covered += cover.overlap.numElements();
                  ASSERT_FALSE(cover.ranks.empty());
                  for (int64_t holder : cover.ranks)
                    ASSERT_EQ(boxOf(slices[holder], Slice{cover.local, cover.overlap.shape}),
                              boxOf(full, cover.overlap));
                }
                ASSERT_EQ(covered, region.numElements());
              }
        }
  }
  RecordProperty("cases", cases);
  EXPECT_GT(cases, 100);
  EXPECT_GT(refused, 0);
}

TEST(PackedTensorErrors, PartsMustFitTheTensor) {
  PartsLayout parts;
  parts.dim = 1;
  parts.sizes = {4, 4};
  parts.layouts = {makeLayout({2}, {{}, {0}}), makeLayout({2}, {{}, {0}})};
  auto wrong = PackedTensor::create({4, 12}, parts);
  ASSERT_FALSE(static_cast<bool>(wrong));
  EXPECT_NE(llvm::toString(wrong.takeError()).find("summing to 8 along dimension 1, which has extent 12"),
            std::string::npos);
  parts.layouts[1] = makeLayout({4}, {{}, {0}});
  auto devices = PackedTensor::create({4, 8}, parts);
  ASSERT_FALSE(static_cast<bool>(devices));
  EXPECT_NE(llvm::toString(devices.takeError()).find("part 1 is laid out over 4 devices, part 0 over 2"),
            std::string::npos);
}

} // namespace
