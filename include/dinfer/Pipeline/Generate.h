//===- Generate.h - greedy decoding with a key/value cache -----*- C++ -*-===//
//
// What `dinfer generate` and Python's `dinfer.generate` do: autoregressive
// greedy decoding of a decoder exported in the Hugging Face/Optimum cache
// convention (inputs input_ids, attention_mask, position_ids and
// past_key_values.<i>.key|value; outputs logits and present.<i>.key|value).
//
// The model is imported and prepared twice, once per step shape, and never
// again: a prefill program (the prompt, an empty cache) and a decode program
// (one token over a fixed-capacity cache of prompt + new - 1 slots, the free
// slots masked out through attention_mask, as MindSpore's use_past keeps a
// fixed-length cache). The cache lives between steps as host buffers that the
// decode program reads in place (docs/generate.md).
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_GENERATE_H
#define DINFER_PIPELINE_GENERATE_H

#include "dinfer/Formats/Npy.h"
#include "dinfer/Pipeline/Errors.h"

#include "llvm/Support/Error.h"

#include <chrono>
#include <optional>
#include <string>

namespace dinfer {

struct GenerateRequest {
  /// An ONNX decoder with cache inputs and outputs, or an export folder of
  /// one (`dinfer export --max-length`), run on threads or under mpirun.
  std::string model;
  NpyArray inputIds;     ///< the prompts: int64 [B, T], T >= 1
  int64_t maxNewTokens = 0; ///< N >= 1
  /// A sequence that emits this token ends: its later tokens are this token,
  /// and generation stops once every sequence has ended (tokens [B, T + n],
  /// n <= N).
  std::optional<int64_t> eosTokenId;
  unsigned threads = 0;  ///< kernel threads (of all ranks together); 0: the cores
  /// Tensor-parallel generation: the decoder partitioned over `deviceNum`
  /// ranks (threads of this process) from the training strategy, each rank's
  /// cache holding the key/value heads its layout gives it.
  int64_t deviceNum = 0;
  std::string trainStrategy;
  std::chrono::seconds timeout{300}; ///< what every collective may take
};

struct GenerateResult {
  NpyArray tokens; ///< int64 [B, T + N] (fewer with eosTokenId): the prompts and the new tokens
  double prefillMs = 0;
  /// Decode steps' time over their count (N - 1 steps; 0 when N is 1).
  double decodeMsPerToken = 0;
  /// New tokens of the whole batch per second of prefill and decode.
  double tokensPerSecond = 0;
  int64_t layers = 0;   ///< decoder layers (cache pairs)
  int64_t capacity = 0; ///< slots of the decode program's cache
  /// On ranks: "4 ranks in one process, cache [2,1,12,16] per rank of
  /// [2,2,12,16]"; empty on one device.
  std::string summary;
  /// False on the processes of an mpirun other than rank 0: rank 0 prints.
  bool holdsTokens = true;
};

/// Generates `maxNewTokens` tokens after each prompt. A UsageError for a
/// request that cannot be right (N <= 0, an empty prompt); other errors name
/// the file and the input or output that does not fit the convention.
llvm::Expected<GenerateResult> generate(const GenerateRequest &request);

} // namespace dinfer

#endif // DINFER_PIPELINE_GENERATE_H
