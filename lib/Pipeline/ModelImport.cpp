//===- ModelImport.cpp - an ONNX or MindIR file as an nn-dialect module ---===//

#include "dinfer/Pipeline/ModelImport.h"

#include "dinfer/Formats/FileKind.h"
#include "dinfer/Runtime/ConstantEvaluation.h"
#include "dinfer/Translate/ImportMindIR.h"

#include "dialects/dist/DistDialect.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/onnx_pb.h>

using namespace llvm;
using namespace dinfer;

DiagnosticCollector::DiagnosticCollector(mlir::MLIRContext &context) : context_(context) {
  id_ = context.getDiagEngine().registerHandler([this](mlir::Diagnostic &diag) {
    std::string where;
    if (auto name = dyn_cast<mlir::NameLoc>(diag.getLocation()))
      where = name.getName().str() + ": ";
    else if (auto file = dyn_cast<mlir::FileLineColLoc>(diag.getLocation()); file && file.getLine() > 0)
      where = "line " + std::to_string(file.getLine()) + ": ";
    if (diag.getSeverity() == mlir::DiagnosticSeverity::Error) {
      // The first few in full; a long cascade would bury them.
      if (++errorCount_ <= kShownErrors)
        errors_ += (errors_.empty() ? "" : "; ") + where + diag.str();
      return mlir::success();
    }
    // Warnings and remarks go to stderr as they come (stdout stays clean for --json).
    errs() << "dinfer: " << (diag.getSeverity() == mlir::DiagnosticSeverity::Warning ? "warning: " : "remark: ")
           << where << diag.str() << "\n";
    return mlir::success();
  });
}

DiagnosticCollector::~DiagnosticCollector() { context_.getDiagEngine().eraseHandler(id_); }

static std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    text += (i ? "," : "") + std::to_string(d);
  return text + "]";
}

Expected<Buffer> dinfer::viewOnnxWeight(const OnnxModel &model, const onnx::TensorProto &tensor) {
  auto mapped = model.mapTensor(tensor);
  if (!mapped)
    return mapped.takeError();
  SmallVector<int64_t, 4> shape(tensor.dims().begin(), tensor.dims().end());
  return Buffer::view(*dtypeFromOnnx(tensor.data_type()), shape, mapped->bytes.data(), mapped->owner);
}

Expected<std::unique_ptr<ImportedModel>>
dinfer::importModel(StringRef path, mlir::MLIRContext &context, const DiagnosticCollector &diagnostics,
                         const std::map<std::string, SmallVector<int64_t, 4>> &shapes,
                         const std::map<std::string, std::string> &values, bool checkShapes) {
  context.loadDialect<nn::NNDialect, dist::DistDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  auto imported = std::make_unique<ImportedModel>();
  // An nn-dialect program as text: what the interpreter runs, with no
  // importer in between (weights are its constants).
  if (path.ends_with(".mlir")) {
    imported->module = mlir::parseSourceFile<mlir::ModuleOp>(path, &context);
    if (!imported->module || failed(mlir::verify(*imported->module)))
      return createStringError(inconvertibleErrorCode(), path + ": " + diagnostics.text("cannot parse"));
    if (imported->module->getOps<mlir::func::FuncOp>().empty())
      return createStringError(inconvertibleErrorCode(), path + ": holds no function to run");
    return imported;
  }
  auto kind = detectContentKind(path, processKey());
  if (!kind)
    return kind.takeError();
  if (*kind == FileKind::Onnx) {
    auto model = OnnxModel::open(path);
    if (!model)
      return model.takeError();
    imported->onnx.emplace(std::move(*model));
    OnnxImportOptions options;
    options.evaluateConstant = evaluateConstantArray;
    options.inputShapeFlag = "--input";
    for (const auto &[name, bytes] : values)
      options.inputValues[name] = bytes;
    // A dynamic dimension takes the given extent.
    for (const onnx::ValueInfoProto &input : imported->onnx->proto().graph().input()) {
      auto given = shapes.find(input.name());
      if (given == shapes.end() || !input.type().has_tensor_type())
        continue;
      bool dynamic = false;
      for (const auto &dim : input.type().tensor_type().shape().dim())
        dynamic |= !dim.has_dim_value() || dim.dim_value() < 0;
      if (dynamic)
        options.inputShapes[input.name()] = given->second;
    }
    imported->module = importOnnx(*imported->onnx, &context, options);
  } else if (*kind == FileKind::MindIR) {
    auto model = MindIRModel::open(path);
    if (!model)
      return model.takeError();
    imported->mindir.emplace(std::move(*model));
    imported->module = importMindIR(*imported->mindir, &context);
  } else {
    return createStringError(inconvertibleErrorCode(),
                             path + ": not an ONNX or MindIR model (" + describeFileKind(*kind) + ")");
  }
  if (!imported->module || failed(mlir::verify(*imported->module)))
    return createStringError(inconvertibleErrorCode(), path + ": " + diagnostics.text("cannot import"));
  if (checkShapes) {
    auto entry = *imported->module->getOps<mlir::func::FuncOp>().begin();
    for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
      auto name = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
      auto given = name ? shapes.find(name.str()) : shapes.end();
      auto type = llvm::cast<mlir::RankedTensorType>(entry.getArgument(i).getType());
      if (given != shapes.end() && ArrayRef<int64_t>(given->second) != type.getShape())
        return createStringError(inconvertibleErrorCode(), path + ": input '" + name.str() + "' is " +
                                                               shapeText(type.getShape()) + " in the model, but " +
                                                               shapeText(given->second) + " was given");
    }
  }
  return imported;
}
