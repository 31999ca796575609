//===- Layout.h - MindSpore tensor layouts: which rank holds which slice --===//
//
// The layout algebra shared by the dist dialect, the resharding planner and
// the command-line tools. It has MindSpore's semantics exactly:
//
//  * a device matrix is the shape of one pipeline stage's devices, ranks laid
//    out row-major over it (the last axis varies fastest);
//  * a tensor map gives, per tensor dimension, the device-matrix axes that
//    split it, counted from the right; an unsplit dimension has no axes; a
//    dimension split over several axes lists them major first and its piece
//    index is row-major over them;
//  * axes that split no dimension are replication axes;
//  * optimizer sharding cuts the model-parallel slice further along
//    dimension 0 inside the group of ranks that hold the same slice.
//
// This library depends on LLVM Support only, never on MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_LAYOUT_LAYOUT_H
#define DINFER_LAYOUT_LAYOUT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dinfer {

/// The device-matrix axes that split one tensor dimension, major axis first.
/// Empty when the dimension is not split (MindSpore's -1).
using DimAxes = llvm::SmallVector<int64_t, 1>;

/// A MindSpore parameter layout, as a strategy file stores it.
struct TensorLayout {
  llvm::SmallVector<int64_t, 4> devMatrix;
  llvm::SmallVector<DimAxes, 4> tensorMap;
  /// Rank stride inside the replica group; 0 means no optimizer sharding.
  int64_t optShardStep = 0;
  /// Chunk size of the replica group; -1 or 0 mean the whole group.
  int64_t optShardSize = 0;

  int64_t deviceCount() const;
  bool hasOptimizerSharding() const { return optShardStep != 0; }
};

/// A box in a tensor: per dimension, an offset and an extent.
struct Slice {
  llvm::SmallVector<int64_t, 4> offset;
  llvm::SmallVector<int64_t, 4> shape;

  int64_t numElements() const;
  bool operator==(const Slice &other) const { return offset == other.offset && shape == other.shape; }
};

/// Checks what can be checked without a shape: positive device-matrix entries,
/// axes in range and used once, sane optimizer-sharding values.
llvm::Error checkLayout(const TensorLayout &layout);

/// Checks that the device matrix covers exactly `deviceCount` devices.
llvm::Error checkDeviceCount(const TensorLayout &layout, int64_t deviceCount);

/// A layout bound to a global shape: validated once, then answers which slice
/// each rank holds and which ranks cover any region.
///
/// The tensor is cut into a regular grid of equal pieces; `pieceCounts()[d]`
/// pieces along dimension d (dimension 0 includes the optimizer-sharding cut).
/// Every rank holds exactly one piece; several ranks may hold the same one.
class ShardedTensor {
public:
  static llvm::Expected<ShardedTensor> create(llvm::ArrayRef<int64_t> shape, const TensorLayout &layout);
  /// A layout with a manual, uneven split of dimension 0 (MindSpore's
  /// param_split_shape): `dim0Sizes` gives the extent of each dimension-0
  /// piece. Optimizer sharding cannot be combined with it.
  static llvm::Expected<ShardedTensor> create(llvm::ArrayRef<int64_t> shape, const TensorLayout &layout,
                                              llvm::ArrayRef<int64_t> dim0Sizes);

  const TensorLayout &layout() const { return layout_; }
  llvm::ArrayRef<int64_t> shape() const { return shape_; }
  int64_t deviceCount() const { return static_cast<int64_t>(pieceOfRank_.size()); }
  /// Number of pieces along each dimension.
  llvm::ArrayRef<int64_t> pieceCounts() const { return pieceCounts_; }
  /// The shape of every piece (every rank's slice); along an uneven
  /// dimension 0, the extent of the first piece.
  llvm::ArrayRef<int64_t> pieceShape() const { return pieceShape_; }
  int64_t numPieces() const { return static_cast<int64_t>(ranksOfPiece_.size()); }
  /// Whether every piece (every rank's slice) has pieceShape(): false only
  /// for an uneven split of dimension 0.
  bool hasEqualPieces() const { return dim0Bounds_.empty(); }

  /// The row-major grid index of the piece `rank` holds.
  int64_t pieceOfRank(int64_t rank) const { return pieceOfRank_[rank]; }
  llvm::SmallVector<int64_t, 4> pieceCoordinates(int64_t piece) const;
  Slice pieceSlice(int64_t piece) const;
  Slice sliceOfRank(int64_t rank) const { return pieceSlice(pieceOfRank(rank)); }

  /// The ranks that hold `piece`, ascending.
  llvm::ArrayRef<int64_t> ranksOfPiece(int64_t piece) const { return ranksOfPiece_[piece]; }
  /// The lowest rank holding the same slice as `rank`.
  int64_t replicaOf(int64_t rank) const { return ranksOfPiece(pieceOfRank(rank)).front(); }
  /// The ranks holding the same model-parallel slice as `rank` (before any
  /// optimizer sharding), ascending: MindSpore's repeated group.
  llvm::SmallVector<int64_t, 8> replicaGroup(int64_t rank) const;
  /// For optimizer-sharded layouts, the all-gather group of `rank` (its chunk
  /// of the replica group); otherwise just `rank`.
  llvm::SmallVector<int64_t, 8> optShardGroup(int64_t rank) const;

  /// One piece that overlaps a queried region.
  struct Cover {
    int64_t piece;
    Slice pieceSlice;              ///< The whole piece in global coordinates.
    Slice overlap;                 ///< Its intersection with the region, global.
    llvm::ArrayRef<int64_t> ranks; ///< Every rank holding the piece.
  };
  /// The pieces that together cover `region` exactly once, in row-major piece
  /// order, found by intersecting intervals per dimension. Fails when the
  /// region lies outside the tensor.
  /// Held inline for the usual single piece: planners call this per tensor
  /// and rank.
  llvm::Expected<llvm::SmallVector<Cover, 1>> coverRegion(const Slice &region) const;

private:
  ShardedTensor() = default;

  TensorLayout layout_;
  llvm::SmallVector<int64_t, 4> shape_;
  llvm::SmallVector<int64_t, 4> pieceCounts_;
  llvm::SmallVector<int64_t, 4> pieceShape_;
  llvm::SmallVector<int64_t, 4> mpPieceCounts_;
  int64_t optChunk_ = 1; ///< Pieces per model-parallel slice along dim 0.
  /// Piece boundaries along dimension 0 when it is split unevenly (count + 1
  /// offsets); empty when every piece has the same extent.
  llvm::SmallVector<int64_t, 8> dim0Bounds_;
  std::vector<int64_t> pieceOfRank_;
  std::vector<int64_t> mpPieceOfRank_;
  std::vector<llvm::SmallVector<int64_t, 2>> ranksOfPiece_;
};

/// A tensor a program reads as parts along one dimension, each laid out on
/// its own: a packed projection (torch's `in_proj`, Q, K and V in one
/// weight; a fused gate/up weight) split per head within each part. MindSpore's
/// layouts have no such form; a rank's slice is its pieces of the parts,
/// concatenated along `dim` in part order.
struct PartsLayout {
  int64_t dim = 0;
  llvm::SmallVector<int64_t, 4> sizes;        ///< Each part's extent along `dim`, in order.
  llvm::SmallVector<TensorLayout, 4> layouts; ///< Each part's layout over its own extent.

  bool operator==(const PartsLayout &other) const;
  bool operator!=(const PartsLayout &other) const { return !(*this == other); }
};

/// A parts layout bound to a global shape: which boxes each rank's slice is
/// made of, and which ranks cover any region.
class PackedTensor {
public:
  /// Every part must cut the other dimensions alike, so that each rank's
  /// pieces concatenate; parts cannot split dimension 0 unevenly.
  static llvm::Expected<PackedTensor> create(llvm::ArrayRef<int64_t> shape, const PartsLayout &parts);

  llvm::ArrayRef<int64_t> shape() const { return shape_; }
  int64_t deviceCount() const { return parts_.front().deviceCount(); }
  const ShardedTensor &part(size_t index) const { return parts_[index]; }
  size_t numParts() const { return parts_.size(); }
  /// The shape of every rank's slice (the same on every rank).
  llvm::ArrayRef<int64_t> sliceShape() const { return sliceShape_; }

  /// A box of the tensor and where it lies in a rank's slice.
  struct Piece {
    Slice global;
    llvm::SmallVector<int64_t, 4> local;
  };
  /// The boxes `rank`'s slice is made of, in part order.
  llvm::SmallVector<Piece, 4> piecesOfRank(int64_t rank) const;

  /// One box of a queried region, held whole by `ranks`, at `local` in each
  /// one's slice.
  struct Cover {
    Slice overlap;
    llvm::SmallVector<int64_t, 4> local;
    llvm::ArrayRef<int64_t> ranks;
  };
  /// The boxes that cover `region` exactly once, part by part.
  llvm::Expected<llvm::SmallVector<Cover, 4>> coverRegion(const Slice &region) const;

private:
  PackedTensor() = default;

  int64_t dim_ = 0;
  llvm::SmallVector<int64_t, 4> shape_;
  llvm::SmallVector<int64_t, 4> sliceShape_;
  llvm::SmallVector<int64_t, 4> starts_;      ///< Each part's offset along dim_ in the tensor.
  llvm::SmallVector<int64_t, 4> localStarts_; ///< ... and in every rank's slice.
  std::vector<ShardedTensor> parts_;
};

/// The coordinates of `rank` in a row-major device matrix.
llvm::SmallVector<int64_t, 4> rankToCoordinate(int64_t rank, llvm::ArrayRef<int64_t> devMatrix);

//===----------------------------------------------------------------------===//
// Text forms shared by the tools (docs/contracts.md section 1).
//===----------------------------------------------------------------------===//

/// The group of `rank` (an index into `devMatrix`, row-major) over device
/// axes `axes`, counted from the right as MindSpore counts them: every rank
/// that differs from it only in those axes, in row-major order over them.
/// Axes out of range are ignored.
std::vector<int> deviceGroup(llvm::ArrayRef<int64_t> devMatrix, llvm::ArrayRef<int64_t> axes, int rank);

/// Parses "96,16" (also "[96,16]"); `what` names the flag in errors.
llvm::Expected<llvm::SmallVector<int64_t, 4>> parseIntList(llvm::StringRef text, llvm::StringRef what);
/// Parses a command-line tensor map: "1+0,-1".
llvm::Expected<llvm::SmallVector<DimAxes, 4>> parseTensorMap(llvm::StringRef text);
/// Formats a tensor map as on the command line.
std::string formatTensorMap(llvm::ArrayRef<DimAxes> tensorMap);
/// The MindSpore integer form of a dimension: -1, an axis, or none when the
/// dimension uses several axes.
std::optional<int64_t> singleAxis(const DimAxes &axes);

} // namespace dinfer

#endif // DINFER_LAYOUT_LAYOUT_H
