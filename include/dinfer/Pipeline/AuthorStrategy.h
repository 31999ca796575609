//===- AuthorStrategy.h - the strategy file a training run would write -*- C++ -*-===//
//
// Authors the strategy file a MindSpore training run would have written for
// a model: op strategies keyed `<Primitive>_<first parameter>` and every
// parameter's layout, from a preset (Megatron: column- then row-parallel
// products, vocabulary-parallel embeddings, the batch split dp ways, optional
// optimizer sharding) or from explicit op strategies, with the program cut
// into pipeline stages of balanced cost. `dinfer strategy` runs this.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_AUTHORSTRATEGY_H
#define DINFER_PIPELINE_AUTHORSTRATEGY_H

#include "dinfer/Formats/Strategy.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dinfer {

struct StrategyRequest {
  std::string model;
  int64_t deviceNum = 0, pipelineStages = 1;
  std::string preset;            ///< "megatron:tp=T[,dp=D][,opt-shard]", or empty
  std::vector<std::string> ops;  ///< KEY=((a,b),(c,d))
  std::vector<std::string> inputShapes; ///< NAME=SHAPE where the model's is dynamic
  StrategyFile::Encoding encoding = StrategyFile::Encoding::Protobuf;
};

struct AuthoredStrategy {
  StrategyFile file;
  int64_t optSharded = 0; ///< layouts with optimizer sharding
  int64_t tp = 0, dp = 0; ///< the preset's degrees (0 without a preset)
  std::vector<std::string> remarks; ///< what the preset could not do, per parameter
};

/// The strategy file of `request`. A UsageError when the request itself is
/// wrong (degrees that do not divide the devices, a malformed op strategy).
llvm::Expected<AuthoredStrategy> authorStrategy(const StrategyRequest &request);

} // namespace dinfer

#endif // DINFER_PIPELINE_AUTHORSTRATEGY_H
