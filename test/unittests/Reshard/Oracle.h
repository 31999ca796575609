//===- Oracle.h - MindSpore's slicing, done literally on a dense tensor ---===//
//
// MindSpore's `_tensor.py` and `_utils.py` re-implemented word for word on a
// materialised tensor of element ids: chunk the full tensor by the strategy,
// pick the chunk `slice_index(rank)`, and for optimizer sharding find the
// replica group by comparing chunk contents and split the chunk along
// dimension 0. The layout algebra and the resharding planner are checked
// against it; it shares no code with them.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TEST_UNITTESTS_RESHARD_ORACLE_H
#define DINFER_TEST_UNITTESTS_RESHARD_ORACLE_H

#include "dinfer/Layout/Layout.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <vector>

namespace dinfer::oracle {

using llvm::ArrayRef;

struct Array {
  std::vector<int64_t> shape;
  std::vector<int64_t> data;
};

inline Array iota(ArrayRef<int64_t> shape) {
  Array a{std::vector<int64_t>(shape.begin(), shape.end()), {}};
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  a.data.resize(n);
  std::iota(a.data.begin(), a.data.end(), 0);
  return a;
}

/// np.split(a, parts, axis).
inline std::vector<Array> splitAxis(const Array &a, size_t axis, int64_t parts) {
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
inline std::vector<Array> chunkByStrategy(const Array &a, ArrayRef<int64_t> strategy) {
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
inline std::optional<std::vector<Array>> oracleSlices(ArrayRef<int64_t> shape, const TensorLayout &layout) {
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
inline std::vector<int64_t> elementsOf(const Array &full, const Slice &slice) {
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


} // namespace dinfer::oracle

#endif // DINFER_TEST_UNITTESTS_RESHARD_ORACLE_H
