//===- Strategy.h - MindSpore parallel strategy files ---------------------===//
//
// The training strategy file: op strategies and parameter layouts, as the
// protobuf ParallelStrategyMap (every MindSpore version) or the 2.x JSON form.
// Merged pipeline files name layouts "<stage>-<param>"; one parameter may
// appear under several stages. From 2.6 a layout whose dimensions use several
// device axes is stored as one TensorMap entry per dimension.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_STRATEGY_H
#define DINFER_FORMATS_STRATEGY_H

#include "dinfer/Layout/Layout.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace dinfer {

/// One parameter layout item.
struct StrategyLayout {
  std::string name;  ///< As stored, with any "<stage>-" prefix.
  std::string param; ///< Without the prefix.
  /// The stages of the prefix, when the file was merged; empty otherwise.
  llvm::SmallVector<int64_t, 2> stages;
  TensorLayout layout;
  int64_t field = 0;
  llvm::SmallVector<int64_t, 4> paramSplitShape;
  llvm::SmallVector<int64_t, 4> indicesOffset;
  /// The full shape (JSON files only).
  std::optional<llvm::SmallVector<int64_t, 4>> tensorShape;
  /// A parameter laid out part by part (a packed projection split per head;
  /// dinfer's JSON files only, key "parts"); `layout` is then the first part's.
  std::optional<PartsLayout> parts;
};

/// One op strategy item: the split numbers of each input.
struct StrategyOp {
  std::string name; ///< "<Primitive>_<first parameter name>"
  int64_t stage = 0;
  std::vector<llvm::SmallVector<int64_t, 4>> inputs;
};

struct StrategyFile {
  enum class Encoding { Protobuf, Json };
  Encoding encoding = Encoding::Protobuf;
  int64_t currentStage = 1;
  std::vector<StrategyOp> ops;
  std::vector<StrategyLayout> layouts;

  /// The layout items of parameter `param` (several in a merged pipeline file).
  std::vector<const StrategyLayout *> findLayouts(llvm::StringRef param) const;
};

/// Parses a strategy file's bytes; the encoding comes from the content.
llvm::Expected<StrategyFile> parseStrategy(llvm::StringRef bytes, llvm::StringRef fileName);
llvm::Expected<StrategyFile> readStrategy(llvm::StringRef path);
/// Whether `bytes` parse as a protobuf ParallelStrategyMap or a JSON strategy.
bool looksLikeStrategy(llvm::StringRef bytes);

/// Serializes as `encoding` says (MindSpore's byte layout for protobuf, its
/// compact sorted-key form for JSON).
llvm::Expected<std::string> serializeStrategy(const StrategyFile &strategy);
/// Writes a strategy file under a temporary name and renames it into place.
/// A name ending in ".json" selects JSON.
llvm::Error writeStrategy(const StrategyFile &strategy, llvm::StringRef path);

/// MindSpore's merge_pipeline_strategys: concatenates per-stage files,
/// renaming every layout "<stage>-<param>" (the stage of the file's first op
/// item), skipping duplicate stages; current_stage becomes 1.
llvm::Expected<StrategyFile> mergePipelineStrategies(llvm::ArrayRef<StrategyFile> stages,
                                                     llvm::ArrayRef<std::string> names);

} // namespace dinfer

#endif // DINFER_FORMATS_STRATEGY_H
