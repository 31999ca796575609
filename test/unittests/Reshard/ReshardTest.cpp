//===- ReshardTest.cpp - the planner and executor against a dense oracle --===//
//
// Thousands of random cases on small shapes: random device matrices, tensor
// maps with multi-axis dimensions, optimizer sharding, manual uneven splits,
// pipeline stages, dtypes, full checkpoints on either side, and different
// device counts in training and inference. The source checkpoint set is cut
// from a dense tensor by the MindSpore-literal oracle; every destination
// slice is compared with the oracle's slice of the same dense tensor, element
// by element (the plan) and byte for byte (the files the executor writes,
// from and to any mix of .ckpt and safetensors). Full checkpoints are merged
// into Hugging Face shards and read back.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Pipeline/Reshard.h"
#include "dinfer/Reshard/Executor.h"
#include "dinfer/Reshard/Planner.h"

#include "Oracle.h"
#include "TestUtils.h"

#include "gtest/gtest.h"

#include <map>
#include <random>

using namespace dinfer;
using namespace dinfer::oracle;
using llvm::SmallVector;

namespace {

/// One side of a random case.
struct Side {
  bool full = false;
  int64_t stages = 1;
  int64_t stage = 0; ///< The stage holding the parameter.
  TensorLayout layout;
  SmallVector<int64_t, 4> split; ///< param_split_shape
  int64_t stageDevices() const { return full ? 1 : layout.deviceCount(); }
  int64_t devices() const { return full ? 1 : stages * stageDevices(); }
};

/// MindSpore's slices of `full` for every stage-local rank of `side`.
std::optional<std::vector<Array>> slicesOf(ArrayRef<int64_t> shape, const Side &side) {
  if (side.full)
    return std::vector<Array>{iota(shape)};
  if (side.split.empty())
    return oracleSlices(shape, side.layout);
  // Manual split: the chunk index of each rank along dimension 0 picks rows
  // [prefix[i], prefix[i + 1]) (merge_sliced_parameter's uneven path).
  SmallVector<int64_t, 4> rows(shape.begin(), shape.end());
  rows[0] = static_cast<int64_t>(side.split.size());
  auto pieces = oracleSlices(rows, side.layout);
  if (!pieces)
    return std::nullopt;
  Array full = iota(shape);
  std::vector<int64_t> prefix = {0};
  for (int64_t s : side.split)
    prefix.push_back(prefix.back() + s);
  int64_t rowElements = full.data.size() / std::max<int64_t>(shape[0], 1);
  std::vector<Array> out;
  for (const Array &piece : *pieces) {
    int64_t index = piece.data.empty() ? 0 : piece.data.front() / (rowElements ? rowElements : 1);
    Array slice;
    slice.shape = std::vector<int64_t>(shape.begin(), shape.end());
    slice.shape[0] = side.split[index];
    slice.data.assign(full.data.begin() + prefix[index] * rowElements,
                      full.data.begin() + prefix[index + 1] * rowElements);
    out.push_back(std::move(slice));
  }
  return out;
}

TensorLayout randomLayout(std::mt19937 &rng, size_t rank) {
  TensorLayout layout;
  int numAxes = 1 + rng() % 3;
  for (int i = 0; i < numAxes; ++i)
    layout.devMatrix.push_back(1 + rng() % 3);
  layout.tensorMap.resize(rank);
  for (int axis = numAxes - 1; axis >= 0; --axis) {
    int64_t dim = rng() % (rank + 1);
    if (dim < static_cast<int64_t>(rank))
      layout.tensorMap[dim].push_back(axis);
  }
  return layout;
}

int64_t splitOf(const Side &side, size_t dim) {
  if (side.full)
    return 1;
  int64_t split = 1;
  int64_t numAxes = side.layout.devMatrix.size();
  for (int64_t axis : side.layout.tensorMap[dim])
    split *= side.layout.devMatrix[numAxes - 1 - axis];
  return split;
}

struct Case {
  SmallVector<int64_t, 4> shape;
  Side src, dst;
  DType dtype;
  std::vector<Array> srcSlices, dstSlices;
};

std::optional<Case> randomCase(std::mt19937 &rng) {
  Case c;
  size_t rank = rng() % 4;
  const DType dtypes[] = {DType::Float32, DType::Float16, DType::Int8, DType::Int64, DType::Bool};
  c.dtype = dtypes[rng() % 5];
  c.src.full = rng() % 8 == 0;
  c.dst.full = !c.src.full && rng() % 8 == 0;
  for (Side *side : {&c.src, &c.dst}) {
    if (side->full)
      continue;
    side->layout = randomLayout(rng, rank);
    side->stages = 1 + rng() % 2;
    side->stage = rng() % side->stages;
  }
  bool opt = false;
  for (Side *side : {&c.src, &c.dst})
    if (!side->full && rank > 0 && rng() % 2 == 0) {
      side->layout.optShardStep = 1 + rng() % 8;
      side->layout.optShardSize = std::vector<int64_t>{-1, 2, 3}[rng() % 3];
      opt = true;
    }
  for (size_t d = 0; d < rank; ++d) {
    int64_t a = splitOf(c.src, d), b = splitOf(c.dst, d);
    c.shape.push_back(std::lcm(a, b) * (1 + rng() % 2) * (d == 0 && opt ? 72 : 1));
  }
  // A manual uneven split of dimension 0 on the source, now and then.
  if (!c.src.full && rank > 0 && !c.src.layout.hasOptimizerSharding() && rng() % 6 == 0) {
    bool onlyDim0 = true;
    for (size_t d = 1; d < rank; ++d)
      onlyDim0 &= c.src.layout.tensorMap[d].empty();
    int64_t pieces = splitOf(c.src, 0);
    if (onlyDim0 && pieces > 1) {
      int64_t left = c.shape[0];
      for (int64_t i = 0; i + 1 < pieces; ++i) {
        int64_t size = left > 0 ? static_cast<int64_t>(rng() % (left + 1)) : 0;
        c.src.split.push_back(size);
        left -= size;
      }
      c.src.split.push_back(left);
    }
  }
  auto srcSlices = slicesOf(c.shape, c.src);
  auto dstSlices = slicesOf(c.shape, c.dst);
  if (!srcSlices || !dstSlices)
    return std::nullopt; // optimizer sharding MindSpore would refuse
  c.srcSlices = std::move(*srcSlices);
  c.dstSlices = std::move(*dstSlices);
  return c;
}

std::optional<LayoutSet> layoutSet(const Side &side,
                                   std::optional<SmallVector<int64_t, 4>> fullShape = std::nullopt) {
  if (side.full)
    return LayoutSet::full();
  StrategyFile file;
  StrategyLayout item;
  item.name = item.param = "w";
  item.layout = side.layout;
  item.paramSplitShape = side.split;
  item.stages = {side.stage};
  item.tensorShape = fullShape;
  file.layouts.push_back(item);
  // The other stages exist: give them a parameter of their own.
  for (int64_t s = 0; s < side.stages; ++s) {
    if (s == side.stage)
      continue;
    StrategyLayout other;
    other.name = other.param = "other" + std::to_string(s);
    other.layout.devMatrix = side.layout.devMatrix;
    other.layout.tensorMap = {{}};
    other.stages = {s};
    if (fullShape)
      other.tensorShape = SmallVector<int64_t, 4>{3};
    file.layouts.push_back(other);
  }
  auto set = LayoutSet::fromStrategy(file, std::nullopt, "random.json");
  EXPECT_TRUE(static_cast<bool>(set)) << llvm::toString(set.takeError());
  return std::move(*set);
}

/// The bytes of element ids: element e is E bytes (e*E + k) & 0xff.
std::string bytesOf(const Array &array, DType dtype) {
  size_t e = dtypeBits(dtype) / 8;
  std::string out(array.data.size() * e, '\0');
  for (size_t i = 0; i < array.data.size(); ++i)
    for (size_t k = 0; k < e; ++k)
      out[i * e + k] = static_cast<char>((array.data[i] * e + k) & 0xff);
  return out;
}

SourceTensors sourcesOf(const Case &c) {
  SourceTensors files(c.src.devices());
  int64_t base = c.src.full ? 0 : c.src.stage * c.src.stageDevices();
  for (size_t local = 0; local < c.srcSlices.size(); ++local) {
    SourceTensor tensor;
    tensor.typeName = dtypeName(c.dtype).str();
    tensor.shape.assign(c.srcSlices[local].shape.begin(), c.srcSlices[local].shape.end());
    tensor.bytes = c.srcSlices[local].data.size() * dtypeBits(c.dtype) / 8;
    files[base + local].add("w", tensor);
  }
  return files;
}

/// The element ids a tensor plan's copies write into a destination slice of
/// shape `shape` (-1 where none does), from the source slices `sourceOf` gives.
std::vector<int64_t> replayCopies(const TensorPlan &tensor, ArrayRef<int64_t> shape,
                                  llvm::function_ref<const Array &(int64_t)> sourceOf) {
  int64_t elements = 1;
  for (int64_t extent : shape)
    elements *= extent;
  std::vector<int64_t> got(elements, -1);
  for (const TensorCopy &copy : tensor.copies) {
    const Array &source = sourceOf(copy.srcRank);
    size_t r = copy.shape.size();
    std::vector<int64_t> index(r, 0);
    int64_t count = copy.srcRegion().numElements();
    for (int64_t n = 0; n < count; ++n) {
      int64_t s = 0, d = 0;
      for (size_t k = 0; k < r; ++k) {
        s = s * source.shape[k] + copy.srcOffset[k] + index[k];
        d = d * shape[k] + copy.dstOffset[k] + index[k];
      }
      EXPECT_EQ(got[d], -1) << "element written twice";
      got[d] = source.data[s];
      for (size_t k = r; k-- > 0;) {
        if (++index[k] < copy.shape[k])
          break;
        index[k] = 0;
      }
    }
  }
  return got;
}

TEST(ReshardPlan, RandomCasesMatchTheDenseOracle) {
  std::mt19937 rng(20261128);
  int checked = 0, optimizer = 0, uneven = 0, staged = 0, full = 0, attempts = 0;
  while (checked < 3000 && attempts < 20000) {
    ++attempts;
    auto c = randomCase(rng);
    if (!c)
      continue;
    auto src = layoutSet(c->src), dst = layoutSet(c->dst);
    SourceTensors sources = sourcesOf(*c);
    auto plan = planReshard(*src, *dst, sources, PlanOptions());
    ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
    int64_t dstBase = c->dst.full ? 0 : c->dst.stage * c->dst.stageDevices();
    int64_t planned = 0;
    for (const RankPlan &rank : plan->ranks) {
      for (const TensorPlan &tensor : rank.tensors) {
        if (tensor.name != "w")
          continue;
        ++planned;
        int64_t local = rank.rank - dstBase;
        ASSERT_GE(local, 0);
        ASSERT_LT(local, static_cast<int64_t>(c->dstSlices.size()));
        const Array &expected = c->dstSlices[local];
        ASSERT_EQ(std::vector<int64_t>(tensor.shape.begin(), tensor.shape.end()), expected.shape);
        std::vector<int64_t> got = replayCopies(tensor, expected.shape, [&](int64_t srcRank) -> const Array & {
          return c->srcSlices[srcRank - (c->src.full ? 0 : c->src.stage * c->src.stageDevices())];
        });
        ASSERT_EQ(got, expected.data) << "destination rank " << rank.rank;
      }
    }
    ASSERT_EQ(planned, static_cast<int64_t>(c->dstSlices.size()));
    ++checked;
    optimizer += c->src.layout.hasOptimizerSharding() || c->dst.layout.hasOptimizerSharding();
    uneven += !c->src.split.empty();
    staged += c->src.stages > 1 || c->dst.stages > 1;
    full += c->src.full || c->dst.full;
  }
  RecordProperty("cases", checked);
  EXPECT_EQ(checked, 3000);
  EXPECT_GT(optimizer, 50);
  EXPECT_GT(uneven, 20);
  EXPECT_GT(staged, 500);
  EXPECT_GT(full, 100);
}

/// Each rank's slice of a [rows, sum(sizes)] tensor laid out part by part:
/// the oracle's slice of every part (its columns), side by side.
std::optional<std::vector<Array>> packedSlices(ArrayRef<int64_t> shape, const PartsLayout &parts) {
  Array full = iota(shape);
  std::vector<Array> out;
  int64_t start = 0;
  for (auto [size, layout] : llvm::zip_equal(parts.sizes, parts.layouts)) {
    Array part{{shape[0], size}, {}};
    for (int64_t r = 0; r < shape[0]; ++r)
      for (int64_t c = start; c < start + size; ++c)
        part.data.push_back(full.data[r * shape[1] + c]);
    auto slices = oracleSlices(part.shape, layout);
    if (!slices)
      return std::nullopt;
    if (out.empty())
      out.resize(slices->size(), Array{{(*slices)[0].shape[0], 0}, {}});
    for (auto [held, slice] : llvm::zip_equal(out, *slices)) {
      if (held.shape[0] != slice.shape[0])
        return std::nullopt;
      // Append the slice's columns to every row.
      Array joined{{held.shape[0], held.shape[1] + slice.shape[1]}, {}};
      for (int64_t r = 0; r < held.shape[0]; ++r) {
        joined.data.insert(joined.data.end(), held.data.begin() + r * held.shape[1],
                           held.data.begin() + (r + 1) * held.shape[1]);
        for (int64_t c = 0; c < slice.shape[1]; ++c)
          joined.data.push_back(part.data[slice.data[r * slice.shape[1] + c]]);
      }
      held = std::move(joined);
    }
    start += size;
  }
  return out;
}

/// Packed projections (Q, K and V in one weight) laid out per head on either
/// side or both, against plain layouts and each other, over different device
/// counts: every destination slice is the oracle's, part by part.
TEST(ReshardPlan, PartsLayoutsMatchThePartByPartOracle) {
  std::mt19937 rng(20261207);
  const SmallVector<int64_t, 4> shape = {12, 24};
  const std::vector<std::vector<int64_t>> devMatrices = {{2}, {4}, {2, 2}, {1, 4}, {2, 1}};
  int checked = 0, packedBoth = 0, attempts = 0;
  while (checked < 400 && attempts < 20000) {
    ++attempts;
    struct PackedSide {
      TensorLayout layout;
      std::optional<PartsLayout> parts;
      std::vector<Array> slices;
    } sides[2];
    bool ok = true;
    for (PackedSide &side : sides) {
      const auto &dev = devMatrices[rng() % devMatrices.size()];
      auto randomMap = [&] {
        TensorLayout layout;
        layout.devMatrix.assign(dev.begin(), dev.end());
        layout.tensorMap.resize(2);
        for (int axis = static_cast<int>(dev.size()) - 1; axis >= 0; --axis)
          if (int64_t dim = rng() % 3; dim < 2)
            layout.tensorMap[dim].push_back(axis);
        return layout;
      };
      side.layout = randomMap();
      std::optional<std::vector<Array>> slices;
      if (rng() % 3 != 0) {
        PartsLayout parts;
        parts.dim = 1;
        parts.sizes = rng() % 2 ? SmallVector<int64_t, 4>{8, 8, 8} : SmallVector<int64_t, 4>{16, 4, 4};
        parts.layouts = {side.layout, randomMap(), randomMap()};
        if (auto packed = PackedTensor::create(shape, parts); !packed) {
          llvm::consumeError(packed.takeError());
          ok = false;
          break;
        }
        slices = packedSlices(shape, parts);
        side.parts = std::move(parts);
      } else {
        if (auto sharded = ShardedTensor::create(shape, side.layout); !sharded) {
          llvm::consumeError(sharded.takeError());
          ok = false;
          break;
        }
        slices = oracleSlices(shape, side.layout);
      }
      if (!slices) {
        ok = false;
        break;
      }
      side.slices = std::move(*slices);
    }
    if (!ok)
      continue;
    auto setOf = [&](const PackedSide &side) {
      StrategyFile file;
      StrategyLayout item;
      item.name = item.param = "w";
      item.layout = side.layout;
      item.parts = side.parts;
      file.layouts.push_back(item);
      return LayoutSet::fromStrategy(file, std::nullopt, "packed.json");
    };
    auto src = setOf(sides[0]), dst = setOf(sides[1]);
    ASSERT_TRUE(src && dst);
    SourceTensors sources(sides[0].slices.size());
    for (auto [file, slice] : llvm::zip_equal(sources, sides[0].slices)) {
      SourceTensor tensor;
      tensor.typeName = "Float32";
      tensor.shape.assign(slice.shape.begin(), slice.shape.end());
      tensor.bytes = slice.data.size() * 4;
      file.add("w", tensor);
    }
    auto plan = planReshard(*src, *dst, sources, PlanOptions());
    ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
    ASSERT_EQ(plan->ranks.size(), sides[1].slices.size());
    for (const RankPlan &rank : plan->ranks) {
      ASSERT_EQ(rank.tensors.size(), 1u);
      const Array &expected = sides[1].slices[rank.rank];
      ASSERT_EQ(std::vector<int64_t>(rank.tensors[0].shape.begin(), rank.tensors[0].shape.end()), expected.shape);
      std::vector<int64_t> got = replayCopies(rank.tensors[0], expected.shape,
                                              [&](int64_t srcRank) -> const Array & { return sides[0].slices[srcRank]; });
      ASSERT_EQ(got, expected.data) << "destination rank " << rank.rank;
    }
    ++checked;
    packedBoth += sides[0].parts && sides[1].parts;
  }
  RecordProperty("cases", checked);
  EXPECT_EQ(checked, 400);
  EXPECT_GT(packedBoth, 50);
}

/// A checkpoint file's bytes, encoded here independently of dinfer's writer.
std::string encodeCheckpoint(const std::string &name, const std::string &type, ArrayRef<int64_t> shape,
                             const std::string &content) {
  auto varint = [](uint64_t v) {
    std::string out;
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
    return out;
  };
  auto field = [&](char key, const std::string &payload) { return std::string(1, key) + varint(payload.size()) + payload; };
  std::string dims;
  SmallVector<int64_t, 4> stored(shape.begin(), shape.end());
  if (stored.empty())
    stored.push_back(0); // a scalar, as MindSpore up to 2.2 writes it
  for (int64_t d : stored)
    dims += std::string(1, 0x08) + varint(d);
  std::string tensor = dims + field(0x12, type) + field(0x1a, content);
  return field(0x0a, field(0x0a, name) + field(0x12, tensor));
}

/// A safetensors file's bytes, encoded here independently of dinfer's writer
/// (no digest: other writers leave it out).
std::string encodeSafetensors(const std::string &name, DType type, ArrayRef<int64_t> shape,
                              const std::string &content) {
  const std::map<DType, std::string> names = {{DType::Float32, "F32"}, {DType::Float16, "F16"}, {DType::Int8, "I8"},
                                              {DType::Int64, "I64"},   {DType::Bool, "BOOL"},   {DType::Int32, "I32"}};
  std::string dims;
  for (auto [i, d] : llvm::enumerate(shape))
    dims += (i ? "," : "") + std::to_string(d);
  std::string header = "{\"" + name + "\":{\"dtype\":\"" + names.at(type) + "\",\"shape\":[" + dims +
                       "],\"data_offsets\":[0," + std::to_string(content.size()) + "]}}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string size(8, '\0');
  for (int i = 0; i < 8; ++i)
    size[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return size + header + content;
}

TEST(ReshardExecute, RandomCasesWriteTheOracleBytes) {
  std::mt19937 rng(7);
  TempDir dir;
  int checked = 0, attempts = 0;
  while (checked < 300 && attempts < 5000) {
    ++attempts;
    auto c = randomCase(rng);
    if (!c)
      continue;
    auto src = layoutSet(c->src), dst = layoutSet(c->dst);
    SourceTensors sources = sourcesOf(*c);
    auto planned = planReshard(*src, *dst, sources, PlanOptions());
    ASSERT_TRUE(static_cast<bool>(planned)) << llvm::toString(planned.takeError());
    ReshardPlan plan = std::move(*planned);

    // The source set, as checkpoints held in memory.
    std::vector<std::string> bytes(sources.size());
    int64_t base = c->src.full ? 0 : c->src.stage * c->src.stageDevices();
    // Any mix of .ckpt and safetensors sources, and either format out.
    for (size_t local = 0; local < c->srcSlices.size(); ++local)
      bytes[base + local] = rng() % 2 ? encodeSafetensors("w", c->dtype, c->srcSlices[local].shape,
                                                          bytesOf(c->srcSlices[local], c->dtype))
                                      : encodeCheckpoint("w", dtypeName(c->dtype).str(), c->srcSlices[local].shape,
                                                         bytesOf(c->srcSlices[local], c->dtype));
    std::vector<Checkpoint> checkpoints;
    for (size_t r = 0; r < bytes.size(); ++r) {
      if (bytes[r].empty())
        bytes[r] = rng() % 2 ? encodeSafetensors("unrelated", DType::Int32, {}, std::string(4, '\0'))
                             : encodeCheckpoint("unrelated", "Int32", {}, std::string(4, '\0'));
      auto checkpoint = Checkpoint::index(ByteSource::fromBuffer(bytes[r], "rank.ckpt"));
      ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
      checkpoints.push_back(std::move(*checkpoint));
    }
    std::vector<const Checkpoint *> pointers;
    for (const Checkpoint &ckpt : checkpoints)
      pointers.push_back(&ckpt);
    std::vector<std::string> outputs;
    for (const RankPlan &rank : plan.ranks)
      outputs.push_back(dir.file("case" + std::to_string(checked) + "_rank" + std::to_string(rank.rank) + ".ckpt"));
    ExecuteOptions options;
    options.sync = false;
    options.threads = 2;
    options.maxMemory = 1 + rng() % 4096; // tiny slabs: many partial rows
    options.format = rng() % 2 ? CheckpointFormat::Safetensors : CheckpointFormat::Ckpt;
    llvm::Error err = executeReshard(plan, pointers, outputs, options);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));

    int64_t dstBase = c->dst.full ? 0 : c->dst.stage * c->dst.stageDevices();
    for (size_t i = 0; i < plan.ranks.size(); ++i) {
      auto opened = Checkpoint::open(outputs[i]);
      ASSERT_TRUE(static_cast<bool>(opened)) << llvm::toString(opened.takeError());
      Checkpoint written = std::move(*opened);
      ASSERT_EQ(written.format(), options.format);
      llvm::cantFail(written.verifyIntegrity());
      EXPECT_EQ(written.sha256(), options.format == CheckpointFormat::Safetensors ? Checkpoint::Check::Ok
                                                                                 : Checkpoint::Check::Absent);
      const CheckpointTensor *w = written.find("w");
      if (!w)
        continue;
      const Array &expected = c->dstSlices[plan.ranks[i].rank - dstBase];
      std::vector<char> data(w->bytes);
      llvm::cantFail(written.read(*w, 0, data));
      ASSERT_EQ(std::string(data.begin(), data.end()), bytesOf(expected, c->dtype))
          << "destination rank " << plan.ranks[i].rank;
      // The same tensor streamed in pieces of random sizes (a MindIR export).
      for (const TensorPlan &tensor : plan.ranks[i].tensors) {
        if (tensor.name != "w")
          continue;
        TensorStream stream(tensor, pointers);
        std::string streamed(tensor.bytes, '\0');
        for (uint64_t offset = 0; offset < tensor.bytes;) {
          uint64_t n = std::min<uint64_t>(1 + rng() % 97, tensor.bytes - offset);
          llvm::cantFail(stream.fill(offset, llvm::MutableArrayRef<char>(streamed.data() + offset, n)));
          offset += n;
        }
        ASSERT_EQ(streamed, bytesOf(expected, c->dtype)) << "streamed, destination rank " << plan.ranks[i].rank;
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 300);
}

// A plan without data (`--plan` from strategies alone) synthesizes the
// sources: each rank's file must hold the slice shapes its checkpoint would,
// ranks of equal slices sharing one set of tensors, and the plan must be the
// plan of the real files.
TEST(ReshardPlan, SynthesizedSourcesAreWhatTheCheckpointsHold) {
  std::mt19937 rng(20261206);
  int checked = 0, shared = 0, attempts = 0;
  while (checked < 500 && attempts < 5000) {
    ++attempts;
    auto c = randomCase(rng);
    if (!c || c->src.full)
      continue;
    auto src = layoutSet(c->src, c->shape), dst = layoutSet(c->dst);
    auto synthesized = synthesizeSources(*src, c->dtype);
    ASSERT_TRUE(static_cast<bool>(synthesized)) << llvm::toString(synthesized.takeError());
    SourceTensors real = sourcesOf(*c);
    ASSERT_EQ(synthesized->size(), real.size());
    int64_t base = c->src.stage * c->src.stageDevices();
    for (size_t local = 0; local < c->srcSlices.size(); ++local) {
      const SourceTensor *tensor = (*synthesized)[base + local].find("w");
      ASSERT_NE(tensor, nullptr);
      EXPECT_EQ(ArrayRef<int64_t>(tensor->shape), ArrayRef<int64_t>(c->srcSlices[local].shape));
      if (local > 0)
        shared += (*synthesized)[base + local].find("w") == (*synthesized)[base + local - 1].find("w");
    }
    PlanOptions onlyW; // the synthesized files also hold the other stages' parameters
    onlyW.only.insert("w");
    auto fromSynthesized = planReshard(*src, *dst, *synthesized, onlyW);
    auto fromReal = planReshard(*src, *dst, real, onlyW);
    ASSERT_TRUE(fromSynthesized && fromReal);
    ASSERT_EQ(fromSynthesized->ranks.size(), fromReal->ranks.size());
    for (auto [a, b] : llvm::zip_equal(fromSynthesized->ranks, fromReal->ranks)) {
      ASSERT_EQ(a.tensors.size(), b.tensors.size());
      for (auto [x, y] : llvm::zip_equal(a.tensors, b.tensors)) {
        EXPECT_EQ(x.name, y.name);
        ASSERT_EQ(x.copies.size(), y.copies.size());
        for (auto [p, q] : llvm::zip_equal(x.copies, y.copies)) {
          EXPECT_EQ(p.srcRank, q.srcRank);
          EXPECT_EQ(p.srcOffset, q.srcOffset);
          EXPECT_EQ(p.dstOffset, q.dstOffset);
          EXPECT_EQ(p.srcShape, q.srcShape);
        }
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 500);
  EXPECT_GT(shared, 0); // even splits: one set of tensors for the stage
}

TEST(SourceFile, AddingToASharedFileLeavesTheOtherAsItWas) {
  SourceFile first;
  first.add("a", SourceTensor{"Float32", {2, 3}, 24, false});
  first.add("b", SourceTensor{"Float32", {4}, 16, false});
  SourceFile second = first.shared();
  EXPECT_TRUE(second.sameTensorsAs(first));
  EXPECT_EQ(first.find("a"), second.find("a"));
  second.add("c", SourceTensor{"Int64", {1}, 8, false});
  EXPECT_FALSE(second.sameTensorsAs(first));
  EXPECT_EQ(first.find("c"), nullptr);
  ASSERT_NE(second.find("c"), nullptr);
  EXPECT_EQ(std::vector<llvm::StringRef>(second.order().begin(), second.order().end()),
            (std::vector<llvm::StringRef>{"a", "b", "c"}));
  EXPECT_EQ(std::vector<llvm::StringRef>(first.order().begin(), first.order().end()), (std::vector<llvm::StringRef>{"a", "b"}));
  EXPECT_NE(first.find("a"), second.find("a"));
  EXPECT_EQ(second.find("a")->shape, (SmallVector<int64_t, 4>{2, 3}));
}

TEST(ReshardPlan, ErrorsNameTheRankAndTensor) {
  Side side;
  side.layout.devMatrix = {2, 4};
  side.layout.tensorMap = {{}, {0}};
  auto src = layoutSet(side);
  SourceTensors sources(8);
  for (int r = 0; r < 8; ++r)
    sources[r].add("w", SourceTensor{"Float32", {96, r == 5 ? 8 : 4}, 0, false});
  auto plan = planReshard(*src, LayoutSet::full(), sources, PlanOptions());
  ASSERT_FALSE(static_cast<bool>(plan));
  EXPECT_EQ(llvm::toString(plan.takeError()),
            "source rank 5: tensor 'w' has shape [96,8], but its training layout gives [96,4]");

  SourceTensors tooFew(4);
  auto short_ = planReshard(*src, LayoutSet::full(), tooFew, PlanOptions());
  ASSERT_FALSE(static_cast<bool>(short_));
  EXPECT_EQ(llvm::toString(short_.takeError()),
            "the source layout needs 8 checkpoint files, one per rank, but 4 were given");
}

TEST(ReshardPlan, FieldIsRefused) {
  StrategyFile file;
  StrategyLayout item;
  item.name = item.param = "wide";
  item.layout.devMatrix = {2};
  item.layout.tensorMap = {{0}};
  item.field = 3;
  file.layouts.push_back(item);
  auto set = LayoutSet::fromStrategy(file, std::nullopt, "s.ckpt");
  ASSERT_FALSE(static_cast<bool>(set));
  EXPECT_EQ(llvm::toString(set.takeError()),
            "s.ckpt: parameter 'wide' has field 3; field slices are refused (as MindSpore refuses them)");
}

} // namespace

namespace dinfer {
namespace {
/// Hugging Face shards of random full checkpoints, in either source format,
/// read back equal: every tensor once, in source order, no shard past the
/// limit unless it holds one tensor larger than it, and the index right.
TEST(ReshardShards, RandomSetsMergeIntoShardsThatReadBackEqual) {
  std::mt19937 rng(11);
  TempDir dir;
  const DType dtypes[] = {DType::Float32, DType::BFloat16, DType::Float16, DType::Int64, DType::Int8, DType::Bool};
  for (int round = 0; round < 40; ++round) {
    std::string source = dir.file("full" + std::to_string(round) + (round % 2 ? ".safetensors" : ".ckpt"));
    std::vector<PlannedTensor> planned;
    std::vector<std::string> contents;
    for (int t = 0, n = 1 + rng() % 12; t < n; ++t) {
      DType dtype = dtypes[rng() % 6];
      llvm::SmallVector<int64_t, 4> shape;
      for (int d = 0, rank = rng() % 3; d < rank; ++d)
        shape.push_back(1 + rng() % 40);
      uint64_t elements = 1;
      for (int64_t d : shape)
        elements *= d;
      std::string content(elements * dtypeBits(dtype) / 8, '\0');
      for (char &c : content)
        c = static_cast<char>(dtype == DType::Bool ? rng() % 2 : rng());
      planned.push_back({"t" + std::to_string(t), dtypeName(dtype).str(), shape, content.size()});
      contents.push_back(std::move(content));
    }
    TensorWriterOptions writerOptions;
    writerOptions.format = round % 2 ? CheckpointFormat::Safetensors : CheckpointFormat::Ckpt;
    writerOptions.sync = false;
    auto writer = createTensorWriter(source, planned, writerOptions);
    ASSERT_TRUE(static_cast<bool>(writer)) << llvm::toString(writer.takeError());
    for (auto [tensor, content] : llvm::zip_equal(planned, contents))
      llvm::cantFail((*writer)->add(tensor.name, tensor.typeName, tensor.shape,
                                    llvm::ArrayRef<char>(content.data(), content.size())));
    llvm::cantFail((*writer)->finish());

    ReshardRequest request;
    request.src = source;
    request.srcStrategy = "none";
    request.dst = dir.file("shards" + std::to_string(round));
    request.dstStrategy = "none";
    request.maxShardSize = 1 + rng() % 8192;
    request.sync = false;
    auto result = reshardCheckpoints(request);
    ASSERT_TRUE(static_cast<bool>(result)) << llvm::toString(result.takeError());
    EXPECT_EQ(result->format, CheckpointFormat::Safetensors);

    for (const std::string &shard : result->outputs) {
      auto opened = Checkpoint::open(shard);
      ASSERT_TRUE(static_cast<bool>(opened)) << llvm::toString(opened.takeError());
      uint64_t bytes = 0;
      for (const CheckpointTensor &t : opened->tensors())
        bytes += t.bytes;
      EXPECT_TRUE(bytes <= request.maxShardSize || opened->tensors().size() == 1)
          << shard << ": " << bytes << " bytes in " << opened->tensors().size() << " tensors";
    }
    auto merged = Checkpoint::open(request.dst);
    ASSERT_TRUE(static_cast<bool>(merged)) << llvm::toString(merged.takeError());
    llvm::cantFail(merged->verifyIntegrity());
    EXPECT_EQ(merged->sha256(), Checkpoint::Check::Ok);
    ASSERT_EQ(merged->tensors().size(), planned.size());
    for (auto [i, tensor] : llvm::enumerate(merged->tensors())) {
      EXPECT_EQ(tensor.name, planned[i].name) << "source order";
      EXPECT_EQ(tensor.typeName, planned[i].typeName);
      EXPECT_EQ(llvm::ArrayRef<int64_t>(tensor.shape), llvm::ArrayRef<int64_t>(planned[i].shape));
      std::vector<char> data(tensor.bytes);
      llvm::cantFail(merged->read(tensor, 0, data));
      EXPECT_EQ(std::string(data.begin(), data.end()), contents[i]) << tensor.name;
    }
  }
}
} // namespace
} // namespace dinfer
