//===- cover_region.cpp - interval intersection against a piece scan ------===//
//
// A resharding planner asks, for every destination slice, which source pieces
// overlap it. The peer approach (MindSpore's merge, and most hand-written
// planners) tests every source piece against every destination slice. The
// layout algebra intersects intervals per dimension instead. This prints both
// timings, measured side by side, and their ratio, for a few layouts.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Layout/Layout.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdio>

using namespace dinfer;

namespace {
TensorLayout layout(std::vector<int64_t> dev, std::vector<std::vector<int64_t>> map) {
  TensorLayout l;
  l.devMatrix.assign(dev.begin(), dev.end());
  for (auto &axes : map)
    l.tensorMap.emplace_back(axes.begin(), axes.end());
  return l;
}

/// Overlapping pieces of every destination slice, by scanning every source piece.
int64_t scanAllPieces(const ShardedTensor &src, const ShardedTensor &dst) {
  int64_t overlaps = 0;
  for (int64_t rank = 0; rank < dst.deviceCount(); ++rank) {
    Slice want = dst.sliceOfRank(rank);
    for (int64_t piece = 0; piece < src.numPieces(); ++piece) {
      Slice have = src.pieceSlice(piece);
      bool hit = true;
      for (size_t d = 0; d < want.shape.size() && hit; ++d)
        hit = std::max(want.offset[d], have.offset[d]) <
              std::min(want.offset[d] + want.shape[d], have.offset[d] + have.shape[d]);
      overlaps += hit;
    }
  }
  return overlaps;
}

int64_t intersectIntervals(const ShardedTensor &src, const ShardedTensor &dst) {
  int64_t overlaps = 0;
  for (int64_t rank = 0; rank < dst.deviceCount(); ++rank)
    overlaps += static_cast<int64_t>(llvm::cantFail(src.coverRegion(dst.sliceOfRank(rank))).size());
  return overlaps;
}

template <typename F>
double secondsPerCall(F &&f, int64_t &result) {
  using clock = std::chrono::steady_clock;
  int iterations = 1;
  while (true) {
    auto start = clock::now();
    for (int i = 0; i < iterations; ++i)
      result = f();
    double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    if (elapsed > 0.2)
      return elapsed / iterations;
    iterations *= 2;
  }
}
} // namespace

int main() {
  struct Case {
    const char *name;
    std::vector<int64_t> shape;
    TensorLayout from, to;
  } cases[] = {
      {"[16384,16384] 64 -> 8 devices", {16384, 16384}, layout({8, 8}, {{1}, {0}}), layout({8}, {{}, {0}})},
      {"[16384,16384] 1024 -> 256 devices", {16384, 16384}, layout({32, 32}, {{1}, {0}}),
       layout({16, 16}, {{0}, {1}})},
      {"[65536,8192] 4096 -> 64 devices", {65536, 8192}, layout({64, 64}, {{1}, {0}}), layout({64}, {{0}, {}})},
  };
  llvm::outs() << llvm::formatv("{0,-36} {1,12} {2,12} {3,14} {4,8}\n", "reshard", "overlaps", "scan (s)",
                                "intervals (s)", "ratio");
  for (const Case &c : cases) {
    ShardedTensor src = llvm::cantFail(ShardedTensor::create(c.shape, c.from));
    ShardedTensor dst = llvm::cantFail(ShardedTensor::create(c.shape, c.to));
    int64_t scanned = 0, intersected = 0;
    double scan = secondsPerCall([&] { return scanAllPieces(src, dst); }, scanned);
    double intervals = secondsPerCall([&] { return intersectIntervals(src, dst); }, intersected);
    if (scanned != intersected) {
      llvm::errs() << "mismatch: " << scanned << " vs " << intersected << "\n";
      return 1;
    }
    llvm::outs() << llvm::formatv("{0,-36} {1,12} {2,12:e2} {3,14:e2} {4,7:f1}x\n", c.name, intersected, scan,
                                  intervals, scan / intervals);
  }
  return 0;
}
