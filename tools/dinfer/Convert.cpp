//===- Convert.cpp - `dinfer convert`: a model as MindIR and a checkpoint -===//
//
//   dinfer convert MODEL OUT.mindir [--weights OUT.ckpt]
//
// ONNX models go through the nn dialect (import, then MindIR export); MindIR
// models are rewritten (weights inline, or external past the threshold).
// --weights writes every parameter into one MindSpore checkpoint (or
// safetensors file, --format), named as in the model or as --name-map says.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Runtime/ConstantEvaluation.h"
#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/FileKind.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Pipeline/Prediction.h"
#include "dinfer/Pipeline/Reshard.h"
#include "dinfer/Translate/ExportMindIR.h"
#include "dinfer/Translate/ImportONNX.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand convertCommand("convert", "Convert an ONNX or MindIR model to MindIR, weights to a checkpoint");

cl::opt<std::string> modelOption(cl::Positional, cl::desc("<model>"), cl::sub(convertCommand), cl::cat(category()));
cl::opt<std::string> outputOption(cl::Positional, cl::desc("<out.mindir>"), cl::sub(convertCommand),
                                  cl::cat(category()));
cl::opt<std::string> weightsOption("weights", cl::desc("Also write every parameter into this MindSpore checkpoint"),
                                   cl::value_desc("out.ckpt"), cl::sub(convertCommand), cl::cat(category()));
cl::opt<uint64_t> thresholdOption("external-threshold",
                                  cl::desc("Weights above this many bytes in total go to external data "
                                           "(<prefix>_graph.mindir + <prefix>_variables/); default 1 GiB"),
                                  cl::init(uint64_t(1) << 30), cl::sub(convertCommand), cl::cat(category()));
cl::opt<std::string> formatOption("format",
                                  cl::desc("Format of --weights (default: safetensors for a .safetensors name, "
                                           "else ckpt)"),
                                  cl::value_desc("ckpt|safetensors"), cl::sub(convertCommand), cl::cat(category()));
cl::opt<std::string> nameMapOption("name-map",
                                   cl::desc("Rename weights on the way: a JSON object of model name -> output name"),
                                   cl::value_desc("file.json"), cl::sub(convertCommand), cl::cat(category()));
cl::opt<bool> noSyncOption("no-sync", cl::desc("Do not fsync outputs before renaming them into place"),
                           cl::sub(convertCommand), cl::cat(category()));
cl::list<std::string> inputOptions("input",
                                   cl::desc("The shape of an input with symbolic dimensions: NAME=SHAPE[:DTYPE]"),
                                   cl::value_desc("name=shape"), cl::sub(convertCommand), cl::cat(category()));

struct Weight {
  std::string name;
  std::optional<DType> dtype;
  SmallVector<int64_t, 4> shape;
};

Error ensureParent(StringRef path) {
  SmallString<256> parent = sys::path::parent_path(path);
  if (parent.empty())
    return Error::success();
  if (std::error_code ec = sys::fs::create_directories(parent))
    return fileError(parent, "cannot create: " + ec.message());
  return Error::success();
}

/// Writes the weights as a checkpoint (.ckpt or safetensors), one tensor at a
/// time, renamed as `names` says.
Error writeWeights(ArrayRef<Weight> weights, CheckpointFormat format, const std::map<std::string, std::string> &names,
                   function_ref<Expected<std::vector<char>>(const Weight &)> read) {
  if (Error err = ensureParent(weightsOption))
    return err;
  std::vector<PlannedTensor> planned;
  for (const Weight &weight : weights) {
    if (!weight.dtype)
      return fileError(modelOption, "parameter '" + weight.name + "' has a type no MindSpore checkpoint can hold");
    uint64_t elements = 1;
    for (int64_t d : weight.shape)
      elements *= static_cast<uint64_t>(d);
    auto renamed = names.find(weight.name);
    planned.push_back({renamed == names.end() ? weight.name : renamed->second, dtypeName(*weight.dtype).str(),
                       weight.shape, (elements * dtypeBits(*weight.dtype) + 7) / 8});
  }
  TensorWriterOptions options;
  options.format = format;
  options.sync = !noSyncOption;
  options.encryptWith = outputKey();
  auto writer = createTensorWriter(weightsOption, planned, options);
  if (!writer)
    return writer.takeError();
  for (auto [weight, output] : llvm::zip_equal(weights, planned)) {
    auto bytes = read(weight);
    if (!bytes)
      return bytes.takeError();
    if (Error err = (*writer)->add(output.name, output.typeName, output.shape, *bytes))
      return err;
  }
  return (*writer)->finish();
}

Expected<MindIRModel> convertOnnx(std::vector<Weight> &weights) {
  auto model = OnnxModel::open(modelOption);
  if (!model)
    return model.takeError();
  mlir::MLIRContext context;
  context.loadDialect<nn::NNDialect, dist::DistDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    if (diag.getSeverity() != mlir::DiagnosticSeverity::Error)
      return mlir::success();
    std::string where;
    if (auto name = dyn_cast<mlir::NameLoc>(diag.getLocation()))
      where = name.getName().str() + ": ";
    diagnostics += (diagnostics.empty() ? "" : "; ") + where + diag.str();
    return mlir::success();
  });
  OnnxImportOptions options;
  options.evaluateConstant = evaluateConstantArray;
  options.inputShapeFlag = "--input";
  auto specs = parseInputSpecs(std::vector<std::string>(inputOptions.begin(), inputOptions.end()));
  if (!specs)
    return specs.takeError();
  for (const auto &[name, spec] : *specs)
    options.inputShapes[name] = spec.shape;
  auto module = importOnnx(*model, &context, options);
  if (!module || failed(mlir::verify(*module)))
    return fileError(modelOption, diagnostics.empty() ? "the imported program does not verify" : diagnostics);
  std::map<std::string, const onnx::TensorProto *> initializers;
  for (const onnx::TensorProto &tensor : model->proto().graph().initializer()) {
    initializers[tensor.name()] = &tensor;
    weights.push_back({tensor.name(), dtypeFromOnnx(tensor.data_type()),
                       SmallVector<int64_t, 4>(tensor.dims().begin(), tensor.dims().end())});
  }
  auto exported = exportMindIR(*module, [&](StringRef name, MutableArrayRef<char> out) -> Error {
    auto it = initializers.find(name.str());
    if (it == initializers.end())
      return fileError(modelOption, "no initializer named '" + name + "'");
    auto mapped = model->mapTensor(*it->second);
    if (!mapped)
      return mapped.takeError();
    if (mapped->bytes.size() != out.size())
      return fileError(
          modelOption,
          formatv("initializer '{0}' has {1} bytes; its type needs {2}", name, mapped->bytes.size(), out.size()).str());
    std::memcpy(out.data(), mapped->bytes.data(), out.size());
    return Error::success();
  });
  if (!exported)
    return fileError(modelOption, toString(exported.takeError()));
  return exported;
}

int runConvert() {
  if (modelOption.empty() || outputOption.empty())
    return usageError(convertCommand, "usage: dinfer convert MODEL OUT.mindir [--weights OUT.ckpt]");
  CheckpointFormat weightsFormat =
      StringRef(weightsOption).ends_with(".safetensors") ? CheckpointFormat::Safetensors : CheckpointFormat::Ckpt;
  if (!formatOption.empty()) {
    std::optional<CheckpointFormat> format = parseCheckpointFormat(formatOption);
    if (!format)
      return usageError(convertCommand, "--format must be ckpt or safetensors, not '" + formatOption + "'");
    weightsFormat = *format;
  }
  std::map<std::string, std::string> names;
  if (!nameMapOption.empty()) {
    auto parsed = readNameMap(nameMapOption);
    if (!parsed)
      return failure(convertCommand, toString(parsed.takeError()));
    names = std::move(*parsed);
  }
  auto kind = detectContentKind(modelOption, processKey());
  if (!kind)
    return failure(convertCommand, toString(kind.takeError()));

  std::vector<Weight> weights;
  std::optional<MindIRModel> mindir;
  std::optional<OnnxModel> onnxSource;
  if (*kind == FileKind::MindIR) {
    auto model = MindIRModel::open(modelOption);
    if (!model)
      return failure(convertCommand, toString(model.takeError()));
    for (const MindIRParameter &p : model->parameters())
      weights.push_back({p.name, p.dtype, p.shape});
    mindir.emplace(std::move(*model));
  } else if (*kind == FileKind::Onnx) {
    auto model = convertOnnx(weights);
    if (!model)
      return failure(convertCommand, toString(model.takeError()));
    mindir.emplace(std::move(*model));
  } else if (*kind == FileKind::Encrypted) {
    return failure(convertCommand, modelOption + ": the file is encrypted: give its key with --key-file (or "
                                                 "DINFER_KEY_FILE)");
  } else {
    return failure(convertCommand, modelOption + ": not an ONNX or MindIR model (" + describeFileKind(*kind) + ")");
  }

  if (Error err = ensureParent(outputOption))
    return failure(convertCommand, toString(std::move(err)));
  MindIRModel::WriteOptions options;
  options.externalThreshold = thresholdOption;
  options.sync = !noSyncOption;
  options.encryptWith = outputKey();
  if (Error err = mindir->write(outputOption, options))
    return failure(convertCommand, toString(std::move(err)));

  uint64_t weightBytes = 0;
  for (const MindIRParameter &p : mindir->parameters())
    weightBytes += p.bytes;
  if (!weightsOption.empty()) {
    Error err = writeWeights(weights, weightsFormat, names, [&](const Weight &weight) -> Expected<std::vector<char>> {
      for (const MindIRParameter &p : mindir->parameters())
        if (p.name == weight.name)
          return mindir->readParameter(p);
      return fileError(modelOption, "parameter '" + weight.name + "' is not used by the model's graph");
    });
    if (err)
      return failure(convertCommand, toString(std::move(err)));
  }
  errs() << "dinfer convert: " << modelOption << " -> " << outputOption << " (" << mindir->mainGraph().nodes.size()
         << " nodes, " << mindir->parameters().size() << " parameters, " << formatBytes(weightBytes)
         << (weightBytes > thresholdOption ? ", external data" : "") << ")";
  if (!weightsOption.empty())
    errs() << ", weights -> " << weightsOption;
  errs() << "\n";
  return kSuccess;
}

CommandRegistration registration(convertCommand, runConvert);
} // namespace
