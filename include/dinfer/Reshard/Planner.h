//===- Planner.h - plan a reshard: which bytes go where -------------------===//
//
// For every destination rank and tensor, the planner lists the copies that
// build its slice: (source rank, tensor, region of the source slice, region of
// the destination slice). It intersects intervals per dimension through the
// layout algebra, so its cost follows the number of copies, never the product
// of source and destination pieces. It handles replicas (one replica read,
// spread across files), optimizer sharding, manual uneven splits along
// dimension 0 (param_split_shape), parameters laid out part by part (a packed
// projection split per head), pipeline stages (merged strategy files, a
// parameter shared by several stages), different device counts and device
// matrices on the two sides, and full checkpoints on either side.
//
// The planner never touches tensor data; the executor (Executor.h) moves it.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_RESHARD_PLANNER_H
#define DINFER_RESHARD_PLANNER_H

#include "dinfer/Layout/DType.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Layout/Layout.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dinfer {

/// The layout of one parameter on one side.
struct ParamLayout {
  TensorLayout layout;
  /// Manual uneven split along dimension 0 (Gather/EmbeddingLookup tables).
  llvm::SmallVector<int64_t, 4> paramSplitShape;
  /// The stages holding the parameter (several for a shared embedding).
  llvm::SmallVector<int64_t, 2> stages;
  /// The full shape, when the strategy carries it (JSON files).
  std::optional<llvm::SmallVector<int64_t, 4>> fullShape;
  /// Laid out part by part (a packed projection split per head); `layout`
  /// is then the first part's.
  std::optional<PartsLayout> parts;
};

/// The parameter layouts of one side of a reshard: a strategy file, or full
/// tensors on a single device.
class LayoutSet {
public:
  /// `deviceNum`, when given, must agree with what the file implies.
  static llvm::Expected<LayoutSet> fromStrategy(const StrategyFile &strategy, std::optional<int64_t> deviceNum,
                                                llvm::StringRef fileName);
  static LayoutSet full();

  bool isFull() const { return full_; }
  int64_t stages() const { return stages_; }
  int64_t stageDevices() const { return stageDevices_; }
  int64_t deviceNum() const { return stages_ * stageDevices_; }
  /// The layout of `param`, or null when this side has none.
  const ParamLayout *find(llvm::StringRef param) const;
  /// Every parameter with a layout, in name order.
  std::vector<std::string> params() const;

private:
  bool full_ = false;
  int64_t stages_ = 1;
  int64_t stageDevices_ = 1;
  std::map<std::string, ParamLayout, std::less<>> layouts_;
};

/// What the planner knows of a source tensor (from a checkpoint index, or
/// synthesized from full shapes for a plan without data).
struct SourceTensor {
  std::string typeName;
  llvm::SmallVector<int64_t, 4> shape;
  uint64_t bytes = 0;
  bool zeroDimScalar = false;
};

/// The tensors of one source file, in file order. Files that hold the same
/// tensors in the same shapes may share them (`shared`): a plan without
/// data synthesizes one per stage rather than one per rank.
class SourceFile {
public:
  /// Adds a tensor (the first of a name wins); unshares this file first.
  void add(llvm::StringRef name, SourceTensor tensor);
  const SourceTensor *find(llvm::StringRef name) const {
    auto it = contents_->tensors.find(name);
    return it == contents_->tensors.end() ? nullptr : &it->second;
  }
  llvm::ArrayRef<llvm::StringRef> order() const { return contents_->order; }
  /// Another file with this file's tensors, without copying them.
  SourceFile shared() const { return *this; }
  /// Whether `other` holds the same tensors, in the same order.
  bool sameTensorsAs(const SourceFile &other) const;

private:
  struct Contents {
    std::vector<llvm::StringRef> order; ///< refers to the map's own keys
    llvm::StringMap<SourceTensor> tensors;
  };
  std::shared_ptr<Contents> contents_ = std::make_shared<Contents>();
};

/// The source files, one per source rank (global rank).
using SourceTensors = std::vector<SourceFile>;

/// Source files as a checkpoint set with `src`'s layouts and full shapes
/// would hold them, for a plan without data (`dtype` sizes the tensors).
llvm::Expected<SourceTensors> synthesizeSources(const LayoutSet &src, DType dtype);

/// One box copied from a source slice into a destination slice. The box has
/// one shape on both sides; a plan holds one per tensor and rank, so it is
/// stored once.
struct TensorCopy {
  int64_t srcRank = 0;
  llvm::SmallVector<int64_t, 4> srcOffset; ///< In the source slice's own coordinates.
  llvm::SmallVector<int64_t, 4> dstOffset; ///< In the destination slice's own coordinates.
  llvm::SmallVector<int64_t, 4> shape;     ///< The box.
  llvm::SmallVector<int64_t, 4> srcShape;  ///< The whole source slice (to address the box).

  Slice srcRegion() const { return Slice{srcOffset, shape}; }
  Slice dstRegion() const { return Slice{dstOffset, shape}; }
};

struct TensorPlan {
  // User-provided, so that emplace_back() does not zero the whole object
  // before constructing it: a plan holds tens of thousands.
  TensorPlan() {}
  std::string name;
  std::string typeName;
  llvm::SmallVector<int64_t, 4> shape; ///< The destination slice.
  llvm::SmallVector<int64_t, 4> fullShape;
  bool zeroDimScalar = false;
  uint64_t bytes = 0;
  /// Most destination slices are one box of one source slice: held inline,
  /// a plan of many thousand tensors makes no allocation per tensor for it.
  llvm::SmallVector<TensorCopy, 1> copies;
};

struct RankPlan {
  int64_t rank = 0;
  std::vector<TensorPlan> tensors;
  uint64_t bytes = 0;
  std::set<int64_t> srcRanks;
};

struct ReshardPlan {
  std::vector<RankPlan> ranks;
  /// Layouts of the destination with no tensor in the source checkpoints.
  std::vector<std::string> missing;
  /// Source tensors no destination layout uses and that were not copied.
  std::vector<std::string> unused;
  /// Source tensors without a layout, copied as replicated.
  std::vector<std::string> replicated;
  std::vector<std::string> notes;
};

struct PlanOptions {
  /// Destination ranks to plan; empty means all.
  std::vector<int64_t> ranks;
  /// Copy tensors that have no layout (learning rate, step counters) to every
  /// destination rank, from source rank 0.
  bool copyUnlisted = true;
  /// Keep only these tensors (empty: all).
  llvm::StringSet<> only;
  /// Keep only the tensors this accepts (unset: all).
  std::function<bool(llvm::StringRef)> accept;
};

/// Plans the reshard of `sources` (one entry per source rank) from `src` to
/// `dst`. Errors name the rank and tensor.
llvm::Expected<ReshardPlan> planReshard(const LayoutSet &src, const LayoutSet &dst, const SourceTensors &sources,
                                        const PlanOptions &options);

} // namespace dinfer

#endif // DINFER_RESHARD_PLANNER_H
