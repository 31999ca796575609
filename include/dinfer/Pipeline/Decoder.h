//===- Decoder.h - the key/value cache convention of decoders ---*- C++ -*-===//
//
// What `dinfer generate` and a generation export (`dinfer export
// --max-length`) know about a decoder: the Hugging Face/Optimum cache
// convention (inputs input_ids, attention_mask, position_ids and
// past_key_values.<i>.key|value; outputs logits and present.<i>.key|value),
// the input shapes of a step, and how a partitioned step keeps each rank's
// cache on that rank (docs/generate.md).
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_DECODER_H
#define DINFER_PIPELINE_DECODER_H

#include "dinfer/Formats/ONNX.h"
#include "dinfer/Layout/DType.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dinfer {


inline constexpr llvm::StringLiteral kInputIds = "input_ids", kAttentionMask = "attention_mask",
                                     kPositionIds = "position_ids", kLogits = "logits";

/// How a decoder's graph names its cache, and the cache's geometry.
struct DecoderSignature {
  /// Per layer, key then value: "past_key_values.<i>.key|value" and the
  /// "present.<i>.key|value" outputs that continue them.
  std::vector<std::string> past, present;
  int64_t kvHeads = 0, headDim = 0;
  /// Element type of every cache tensor: float32, or float16/bfloat16 for a
  /// half-precision export.
  DType cacheType = DType::Float32;
  int64_t layers() const { return static_cast<int64_t>(past.size() / 2); }

  /// The input shapes of a step of `tokens` new tokens per sequence over a
  /// cache of `cached` slots.
  std::map<std::string, llvm::SmallVector<int64_t, 4>> stepShapes(int64_t batch, int64_t tokens,
                                                                  int64_t cached) const;
  /// The same as NAME=SHAPE:DTYPE input specs (docs/contracts.md section 0).
  std::vector<std::string> stepInputSpecs(int64_t batch, int64_t tokens, int64_t cached) const;
};

/// The cache signature of an ONNX decoder; an error naming the model and
/// the input or output that does not follow the convention.
llvm::Expected<DecoderSignature> readDecoderSignature(const OnnxModel &model);

/// The ONNX decoder at `path` and its signature; a file of another kind is
/// refused with "`path`: `refusal`; this is <its kind>".
struct OpenedDecoder {
  OnnxModel model;
  DecoderSignature signature;
};
llvm::Expected<OpenedDecoder> openDecoder(llvm::StringRef path, llvm::StringRef refusal);

/// Between a strategy's adaptation to the predict devices
/// (--dist-infer-predict-layout) and --dist-propagate: gives every
/// past_key_values.<i> argument and present.<i> result of the module's entry
/// the layout of this step's keys or values (the operand of present's
/// concatenation that is not the past), so that a partitioned step appends to
/// each rank's cache slice in place and the cache never moves between ranks.
/// Errors name `modelPath`, the step and the output.
llvm::Error keepCacheOnRanks(mlir::ModuleOp module, const DecoderSignature &signature, llvm::StringRef modelPath,
                             llvm::StringRef step, llvm::function_ref<std::string()> diagnostics);

} // namespace dinfer

#endif // DINFER_PIPELINE_DECODER_H
