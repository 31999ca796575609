//===- Support.h - what the Python extension needs from dinfer --*- C++ -*-===//
//
// The bridge between pybind11 (built with exceptions and RTTI) and dinfer's
// libraries (built as LLVM builds: neither). Only standard types cross it;
// errors are returned as messages, never thrown.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PYTHON_SUPPORT_H
#define DINFER_PYTHON_SUPPORT_H

#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

namespace dinfer::python {

using Progress = std::function<void(const std::string &phase, uint64_t done, uint64_t total)>;
/// What a library call reports: an empty message on success; `usage` marks
/// the caller's mistakes (DinferUsageError, a ValueError, in Python).
struct Status {
  std::string message;
  bool usage = false;
  bool ok() const { return message.empty(); }
};

/// The key that reading (and, with `encrypt`, writing) checkpoints and MindIR
/// uses from now on: raw bytes and "AES-GCM", "AES-CBC" or "SM4-CBC"; empty
/// bytes: none.
Status setKey(const std::string &keyBytes, const std::string &mode);

/// dinfer/Pipeline/Export.h's request, in standard types.
struct ExportArgs {
  std::string model, trainStrategy, ckptDir, predictStrategy, output;
  std::vector<std::string> inputSpecs; ///< NAME=SHAPE[:DTYPE]
  int64_t deviceNum = 0, pipelineStages = 0;
  unsigned threads = 0;
  bool sync = true;
  bool encrypt = false; ///< MindIR written encrypted with the setKey key
  bool report = false;  ///< also OUT/report.html
  int64_t maxLength = 0; ///< a generation export of a decoder (docs/generate.md)
};
struct ExportDone {
  std::string output;
  int64_t devices = 0, stages = 0;
  uint64_t weightBytes = 0;
  size_t groups = 0;
  double seconds = 0;
};
Status exportModel(const ExportArgs &args, Progress progress, ExportDone &done);

/// docs/contracts.md section 3's JSON of a file (dinfer/Pipeline/Inspect.h).
Status describeFile(const std::string &path, std::string &json);

/// The predict layout (dinfer/Pipeline/PredictLayout.h): section 4's JSON,
/// and the predict strategy file written to `output` when it is not empty.
Status predictLayout(const std::string &model, const std::string &trainStrategy,
                     const std::vector<std::string> &inputSpecs, int64_t deviceNum, int64_t pipelineStages,
                     const std::string &output, std::string &json);

/// A pipeline run's stage strategy files merged (dinfer/Pipeline/MergeStrategy.h);
/// `notes` gets the files skipped as repeats.
Status mergeStrategies(const std::string &folder, const std::string &output, size_t &stageFiles, size_t &layouts,
                       std::vector<std::string> &notes);

/// dinfer/Pipeline/Reshard.h's request, in standard types.
struct ReshardArgs {
  std::string src, srcStrategy, dst, dstStrategy, prefix = "checkpoint_";
  std::vector<std::string> srcList;
  std::vector<int64_t> ranks;
  bool encrypt = false; ///< outputs encrypted with the setKey key
  std::string format;   ///< "ckpt", "safetensors", or empty for the source's
  uint64_t maxShardSize = 0;
  std::map<std::string, std::string> nameMap;
};
struct ReshardDone {
  int64_t srcRanks = 0;
  size_t files = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  /// What the command lists on stderr, (what, names): found while it ran
  /// (printed before its summary line), and about the plan (after it).
  std::vector<std::pair<std::string, std::vector<std::string>>> notices, planNotices;
};
Status reshard(const ReshardArgs &args, Progress progress, ReshardDone &done);

/// A tensor to write: numpy's dtype name, its shape and contiguous data.
struct TensorData {
  std::string name, dtype;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  size_t bytes = 0;
};
/// An array coming out: numpy's dtype name (bfloat16 as its uint16 bits), its
/// shape and bytes.
struct OutputArray {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::vector<char> data;
};
/// dinfer/Pipeline/Run.h's request, in standard types: a model file or an
/// export folder run on arrays in memory.
struct PredictArgs {
  std::string model, trainStrategy;
  int64_t deviceNum = 0, pipelineStages = 0;
  unsigned threads = 0, timeoutSeconds = 300;
  bool bfloat16 = false; ///< products with constant weights in bfloat16
};
Status predict(const PredictArgs &args, const std::vector<TensorData> &inputs, std::vector<OutputArray> &outputs,
               std::string &summary);

/// dinfer/Pipeline/Generate.h's request: greedy decoding of `model` after
/// the int64 [B, T] prompts; `tokens` gets int64 [B, T + newTokens].
struct GenerateArgs {
  std::string model;
  std::vector<int64_t> promptShape;
  const int64_t *prompt = nullptr;
  int64_t newTokens = 0;
  unsigned threads = 0;
  int64_t deviceNum = 0; ///< tensor-parallel ranks, with trainStrategy
  std::string trainStrategy;
  int64_t eosTokenId = -1; ///< < 0: none
};
struct GenerateDone {
  std::vector<int64_t> shape, tokens;
  double prefillMs = 0, decodeMsPerToken = 0, tokensPerSecond = 0;
};
Status generate(const GenerateArgs &args, GenerateDone &done);

/// A tensor's description as numpy names it ("float32", "int64", ...).
struct TensorInfo {
  std::string name;
  std::string dtype;    ///< numpy's name; bfloat16 is read as float32.
  std::string typeName; ///< As the checkpoint stores it ("Float32", "BFloat16").
  std::vector<int64_t> shape;
  bool readable = true; ///< False for strings and MapTensors (listed only).
};

/// A checkpoint file indexed without reading its tensors.
class CheckpointReader {
public:
  /// `key` (raw bytes) and `mode` ("AES-GCM", ...) decrypt an encrypted file.
  static std::unique_ptr<CheckpointReader> open(const std::string &path, const std::string &key,
                                                const std::string &mode, std::string &error);
  ~CheckpointReader();
  const std::vector<TensorInfo> &tensors() const;
  /// Fills `out` (numElements x the numpy dtype's size bytes) with tensor `index`.
  std::string read(size_t index, void *out, size_t bytes) const;

private:
  CheckpointReader();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes a checkpoint as MindSpore 1.7 writes it (atomically). Returns an
/// error message or "".
/// Writes `tensors` as a MindSpore checkpoint, or as safetensors when
/// `format` is "safetensors".
std::string writeCheckpoint(const std::string &path, const std::vector<TensorData> &tensors,
                            const std::string &format);

/// A strategy file's layout item.
struct LayoutItem {
  std::string name, param;
  std::vector<int64_t> stages, devMatrix, paramSplitShape, tensorShape;
  std::vector<std::vector<int64_t>> tensorMap; ///< Device axes per dimension, MindSpore's numbering; {-1}: none.
  int64_t field = 0, optShardStep = 0, optShardSize = 0;
  bool hasTensorShape = false;
};
std::string readStrategy(const std::string &path, std::vector<LayoutItem> &layouts, int64_t &currentStage);

/// The region of the full tensor that `rank` holds under a layout.
std::string rankSlice(const std::vector<int64_t> &shape, const LayoutItem &layout, int64_t rank,
                      std::vector<int64_t> &offset, std::vector<int64_t> &sliceShape);

} // namespace dinfer::python

#endif // DINFER_PYTHON_SUPPORT_H
