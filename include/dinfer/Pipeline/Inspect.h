//===- Inspect.h - what a file holds, as `dinfer inspect` tells -*- C++ -*-===//
//
// A checkpoint, strategy file, MindIR or ONNX model described in the JSON of
// docs/contracts.md section 3, and a model's inputs, outputs, parameters and
// nodes whatever its format.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_INSPECT_H
#define DINFER_PIPELINE_INSPECT_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dinfer {

/// A model as inspect presents it, whatever its format.
struct ModelSummary {
  struct Value {
    std::string name, dtype;
    llvm::SmallVector<int64_t, 4> shape; ///< -1 for a dynamic dimension
    uint64_t bytes = 0;
  };
  struct Node {
    std::string name, opType, opTypeRaw;
  };
  struct Function {
    std::string name;
    std::vector<Node> nodes;
  };
  std::string kind;   ///< "mindir" or "onnx"
  std::string header; ///< "MindIR 0.1.1 from MindSpore 1.7.0", "ONNX IR 8, opset 17, from pytorch 1.13.1"
  std::vector<Value> inputs, outputs, parameters;
  std::vector<Node> nodes;
  std::vector<Function> functions;
};

/// The summary of a MindIR or ONNX file (by its content).
llvm::Expected<ModelSummary> summarizeModel(llvm::StringRef path);
llvm::json::Value modelSummaryJson(const ModelSummary &summary);

/// docs/contracts.md section 3's JSON of any file dinfer reads (a checkpoint's
/// CRC verified on the way).
llvm::Expected<llvm::json::Value> describeFile(llvm::StringRef path);

} // namespace dinfer

#endif // DINFER_PIPELINE_INSPECT_H
