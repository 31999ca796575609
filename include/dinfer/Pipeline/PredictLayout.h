//===- PredictLayout.h - MindSpore's infer_predict_layout -------*- C++ -*-===//
//
// The model imported with the predict input shapes (full batch), the
// training strategy attached and adapted to the inference devices and
// stages; every parameter's predict layout, and the predict strategy file
// that `dinfer reshard` and `dinfer export` read (docs/contracts.md
// section 4). `dinfer layout` and Python's infer_predict_layout run this.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_PREDICTLAYOUT_H
#define DINFER_PIPELINE_PREDICTLAYOUT_H

#include "dinfer/Formats/Strategy.h"
#include "dinfer/Pipeline/Prediction.h"
#include "dinfer/Transforms/PredictStrategy.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <vector>

namespace dinfer {

struct PredictLayout {
  int64_t devices = 1, stages = 1, trainDevices = 1, trainStages = 1;
  std::vector<PredictParam> params; ///< every parameter, in program order
  StrategyFile strategy;            ///< the predict strategy file
};

/// The predict layout of `request`; `strategyEncoding` is the encoding of the
/// strategy file it would be written as. A UsageError when the request itself
/// is wrong.
llvm::Expected<PredictLayout> inferPredictLayout(const PredictionRequest &request,
                                                 StrategyFile::Encoding strategyEncoding);

/// docs/contracts.md section 4: {"device_num", "pipeline_stages", "layouts": {param: {...}}}.
llvm::json::Value predictLayoutJson(const PredictLayout &layout);

} // namespace dinfer

#endif // DINFER_PIPELINE_PREDICTLAYOUT_H
