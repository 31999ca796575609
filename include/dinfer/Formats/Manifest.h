//===- Manifest.h - an export folder's manifest.json ------------*- C++ -*-===//
//
// What `dinfer export` writes beside the per-rank files and `dinfer run OUT`
// reads first: the device and stage counts, the global inputs and outputs
// with their layouts, and every file with its size and sha256. The reader
// trusts nothing: every field is checked before use, and a file path may not
// leave the export folder.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_MANIFEST_H
#define DINFER_FORMATS_MANIFEST_H

#include "dinfer/Layout/DType.h"
#include "dinfer/Layout/Layout.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace dinfer {

struct ExportManifest {
  struct File {
    std::string path; ///< Relative to the export folder.
    uint64_t bytes = 0;
    std::string sha256;
  };
  struct Rank {
    int64_t rank = 0, stage = 0;
    std::vector<File> files;
  };
  struct Tensor {
    std::string name;
    std::optional<DType> dtype;
    llvm::SmallVector<int64_t, 4> shape; ///< Global shape.
    std::optional<TensorLayout> layout;  ///< Inputs: how each rank slices it.
  };

  struct Group {
    std::string name; ///< MindSpore's name of the communication group
    std::vector<uint32_t> ranks;
  };
  /// What the export was made from (the paths as given).
  struct Source {
    std::string model, trainStrategy;
    std::string predictStrategy; ///< empty: none (null in the file)
  };

  /// A generation export (`dinfer export --max-length`): beside each rank's
  /// net.mindir (the prefill step: the prompt over an empty cache) a decode
  /// step, one token over a cache of `capacity` slots.
  struct Generation {
    int64_t batch = 0, promptLength = 0, capacity = 0, layers = 0;
    std::string decodeFile; ///< in every rank's folder
    std::vector<Tensor> inputs, outputs; ///< the decode step's
  };

  int64_t deviceNum = 0, pipelineStages = 0;
  std::vector<Tensor> inputs, outputs;
  std::optional<Generation> generation;
  std::vector<Rank> ranks; ///< Indexed by rank.
  std::vector<Group> groups; ///< every communication group of every rank, by name
  Source source;

  int64_t stageSize() const { return deviceNum / pipelineStages; }
};

/// Parses and checks manifest.json; errors name `fileName` and the field.
/// `groups` and `source` are informative and read when present.
llvm::Expected<ExportManifest> parseManifest(llvm::StringRef text, llvm::StringRef fileName);

/// manifest.json as `dinfer export` writes it (docs/contracts.md section 6):
/// indented by 2, keys sorted, a final newline. A tensor without a dtype is
/// written as "unknown".
std::string serializeManifest(const ExportManifest &manifest);

} // namespace dinfer

#endif // DINFER_FORMATS_MANIFEST_H
