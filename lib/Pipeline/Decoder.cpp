//===- Decoder.cpp - the key/value cache convention of decoders -----------===//

#include "dinfer/Pipeline/Decoder.h"

#include "dialects/dist/DistDialect.h"
#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/Crypto.h"
#include "dinfer/Formats/FileKind.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Layout/Text.h"
#include "dinfer/Pipeline/Errors.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/StrategyLayout.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

using namespace llvm;
using namespace dinfer;

namespace {
Error modelError(StringRef model, const Twine &message) { return pipelineError(model + ": " + message); }

/// The static extent of `dim`, or -1 when it is symbolic.
int64_t staticDim(const onnx::TensorShapeProto::Dimension &dim) {
  return dim.has_dim_value() && dim.dim_value() >= 0 ? dim.dim_value() : -1;
}

} // namespace

Expected<DecoderSignature> dinfer::readDecoderSignature(const OnnxModel &model) {
  const onnx::GraphProto &graph = model.proto().graph();
  StringSet<> initializers;
  for (const onnx::TensorProto &tensor : graph.initializer())
    initializers.insert(tensor.name());
  std::map<std::string, const onnx::ValueInfoProto *> inputs;
  for (const onnx::ValueInfoProto &input : graph.input())
    if (!initializers.contains(input.name()))
      inputs[input.name()] = &input;
  StringSet<> outputs;
  for (const onnx::ValueInfoProto &output : graph.output())
    outputs.insert(output.name());

  const char *convention = " (generate takes the Hugging Face/Optimum cache convention: input_ids, attention_mask, "
                           "position_ids, past_key_values.<i>.key|value -> logits, present.<i>.key|value)";
  for (StringRef name : {kInputIds, kAttentionMask, kPositionIds})
    if (!inputs.count(name.str()))
      return modelError(model.path(), "the decoder has no '" + name + "' input" + convention);
  if (!outputs.contains(kLogits))
    return modelError(model.path(), "the decoder has no 'logits' output" + Twine(convention));

  DecoderSignature signature;
  for (int64_t layer = 0;; ++layer) {
    std::string key = formatv("past_key_values.{0}.key", layer).str();
    if (!inputs.count(key))
      break;
    for (StringRef kind : {"key", "value"}) {
      std::string past = formatv("past_key_values.{0}.{1}", layer, kind).str();
      std::string present = formatv("present.{0}.{1}", layer, kind).str();
      auto input = inputs.find(past);
      if (input == inputs.end())
        return modelError(model.path(), "input '" + key + "' has no '" + past + "' beside it");
      if (!outputs.contains(present))
        return modelError(model.path(), "input '" + past + "' has no '" + present + "' output to continue it");
      const onnx::TypeProto::Tensor &type = input->second->type().tensor_type();
      std::optional<DType> element;
      switch (type.elem_type()) {
      case onnx::TensorProto::FLOAT: element = DType::Float32; break;
      case onnx::TensorProto::FLOAT16: element = DType::Float16; break;
      case onnx::TensorProto::BFLOAT16: element = DType::BFloat16; break;
      default: break;
      }
      if (!element || type.shape().dim_size() != 4)
        return modelError(model.path(), "cache input '" + past +
                                            "' must be float32, float16 or bfloat16 [batch, kv_heads, past, head_dim]");
      if (!signature.past.empty() && *element != signature.cacheType)
        return modelError(model.path(), "cache input '" + past + "' is " + dtypeName(*element) +
                                            ", but past_key_values.0.key is " + dtypeName(signature.cacheType));
      signature.cacheType = *element;
      int64_t kvHeads = staticDim(type.shape().dim(1)), headDim = staticDim(type.shape().dim(3));
      if (kvHeads <= 0 || headDim <= 0)
        return modelError(model.path(), "cache input '" + past + "' needs static kv_heads and head_dim dimensions");
      if (signature.past.empty()) {
        signature.kvHeads = kvHeads;
        signature.headDim = headDim;
      } else if (kvHeads != signature.kvHeads || headDim != signature.headDim) {
        return modelError(model.path(), "cache input '" + past + "' is not shaped like past_key_values.0.key");
      }
      signature.past.push_back(past);
      signature.present.push_back(present);
      inputs.erase(input);
    }
  }
  if (signature.past.empty())
    return modelError(model.path(), "not a decoder with a key/value cache: it has no past_key_values.0.key input" +
                                        Twine(convention));
  for (StringRef name : {kInputIds, kAttentionMask, kPositionIds})
    inputs.erase(name.str());
  if (!inputs.empty())
    return modelError(model.path(), "input '" + inputs.begin()->first + "' is not part of the cache convention" +
                                        convention);
  return signature;
}


Expected<OpenedDecoder> dinfer::openDecoder(StringRef path, StringRef refusal) {
  auto kind = detectContentKind(path, processKey());
  if (!kind)
    return kind.takeError();
  if (*kind != FileKind::Onnx)
    return modelError(path, refusal + "; this is " + describeFileKind(*kind));
  auto model = OnnxModel::open(path);
  if (!model)
    return model.takeError();
  auto signature = readDecoderSignature(*model);
  if (!signature)
    return signature.takeError();
  return OpenedDecoder{std::move(*model), std::move(*signature)};
}

namespace {
mlir::Value withoutAnnotations(mlir::Value value) {
  while (auto annotate = value.getDefiningOp<dist::AnnotateOp>())
    value = annotate.getInput();
  return value;
}
} // namespace

std::map<std::string, SmallVector<int64_t, 4>> DecoderSignature::stepShapes(int64_t batch, int64_t tokens,
                                                                            int64_t cached) const {
  std::map<std::string, SmallVector<int64_t, 4>> shapes{{kInputIds.str(), {batch, tokens}},
                                                         {kAttentionMask.str(), {batch, cached + tokens}},
                                                         {kPositionIds.str(), {batch, tokens}}};
  for (const std::string &name : past)
    shapes[name] = {batch, kvHeads, cached, headDim};
  return shapes;
}

std::vector<std::string> DecoderSignature::stepInputSpecs(int64_t batch, int64_t tokens, int64_t cached) const {
  std::vector<std::string> specs;
  for (const auto &[name, shape] : stepShapes(batch, tokens, cached)) {
    std::string dims;
    for (int64_t d : shape)
      dims += (dims.empty() ? "" : ",") + std::to_string(d);
    bool ids = name == kInputIds || name == kAttentionMask || name == kPositionIds;
    specs.push_back(name + "=" + dims + ":" + (ids ? "int64" : dtypeName(cacheType).lower()));
  }
  return specs;
}

Error dinfer::keepCacheOnRanks(mlir::ModuleOp module, const DecoderSignature &signature, StringRef modelPath,
                               StringRef step, function_ref<std::string()> diagnostics) {
  // Where this step's keys and values are: propagated on a copy.
  mlir::OwningOpRef<mlir::ModuleOp> probe = module.clone();
  mlir::PassManager propagate(module.getContext());
  propagate.addPass(createDistPropagate());
  if (failed(propagate.run(*probe)))
    return modelError(modelPath, "the " + step + " step could not be placed: " + diagnostics());
  auto probeEntry = *probe->getOps<mlir::func::FuncOp>().begin();
  auto entry = *module.getOps<mlir::func::FuncOp>().begin();
  auto ret = cast<mlir::func::ReturnOp>(probeEntry.getBody().front().getTerminator());
  for (auto [past, present] : llvm::zip_equal(signature.past, signature.present)) {
    int pastIndex = -1, presentIndex = -1;
    for (unsigned i = 0; i < entry.getNumArguments(); ++i)
      if (auto name = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name"); name && name.getValue() == past)
        pastIndex = i;
    for (unsigned i = 0; i < entry.getNumResults(); ++i)
      if (auto name = entry.getResultAttrOfType<mlir::StringAttr>(i, "dinfer.name"); name && name.getValue() == present)
        presentIndex = i;
    if (pastIndex < 0 || presentIndex < 0)
      return modelError(modelPath, "the " + step + " step has no '" + past + "' input or '" + present + "' output");
    auto concat = withoutAnnotations(ret.getOperand(presentIndex)).getDefiningOp<nn::ConcatOp>();
    if (!concat || concat->getNumOperands() != 2 ||
        withoutAnnotations(concat->getOperand(0)) != probeEntry.getArgument(pastIndex))
      return modelError(modelPath, "output '" + present + "' is not '" + past +
                                       "' concatenated with this step's keys or values: its cache cannot stay "
                                       "split across ranks");
    dist::LayoutAttr layout = propagatedLayout(withoutAnnotations(concat->getOperand(1)));
    if (!layout || !layout.getPartial().empty())
      return modelError(modelPath, "the keys or values of '" + present + "' have no layout to keep the cache in");
    entry.setArgAttr(pastIndex, dist::DistDialect::kLayoutAttrName, layout);
    entry.setResultAttr(presentIndex, dist::DistDialect::kLayoutAttrName, layout);
  }
  return Error::success();
}
