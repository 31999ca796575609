//===- dinfer-translate.cpp - between model formats and MLIR --------------===//
//
//   dinfer-translate --import-onnx model.onnx [--input-shape x=1,3,224,224]
//
//===----------------------------------------------------------------------===//

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Runtime/ConstantEvaluation.h"
#include "dinfer/Translate/ExportMindIR.h"
#include "dinfer/Translate/ImportMindIR.h"

#include "dinfer/Layout/Layout.h"
#include "dinfer/Translate/ImportONNX.h"
#include "mind_ir.pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

namespace {
llvm::cl::list<std::string> inputShapes("input-shape", llvm::cl::desc("Static shape of a model input: NAME=D0,D1,..."),
                                        llvm::cl::value_desc("name=shape"));

llvm::cl::list<std::string> inputValues(
    "input-value",
    llvm::cl::desc("A graph input's value as an onnx.TensorProto file, used where the program needs it as a "
                   "constant (Reshape's shape, Slice's starts): NAME=FILE.pb"),
    llvm::cl::value_desc("name=file"));

/// "model.onnx: node 'x' (MatMul): error: ..." for diagnostics of binary
/// models, whose "source lines" would be noise.
void printDiagnostic(Diagnostic &diag) {
  std::string where;
  Location loc = diag.getLocation();
  if (auto name = llvm::dyn_cast<NameLoc>(loc)) {
    if (auto file = llvm::dyn_cast<FileLineColLoc>(name.getChildLoc()))
      where = file.getFilename().str() + ": ";
    where += name.getName().str() + ": ";
  } else if (auto file = llvm::dyn_cast<FileLineColLoc>(loc)) {
    where = file.getFilename().str() + ": ";
  }
  StringRef severity = diag.getSeverity() == DiagnosticSeverity::Error     ? "error"
                       : diag.getSeverity() == DiagnosticSeverity::Warning ? "warning"
                                                                           : "note";
  llvm::errs() << where << severity << ": " << diag.str() << "\n";
}

OwningOpRef<Operation *> importOnnxTranslation(const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
                                               MLIRContext *context) {
  ScopedDiagnosticHandler handler(context, [](Diagnostic &diag) {
    printDiagnostic(diag);
    return success();
  });
  const llvm::MemoryBuffer *buffer = sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
  StringRef path = buffer->getBufferIdentifier();
  dinfer::OnnxImportOptions options;
  options.evaluateConstant = dinfer::evaluateConstantArray;
  for (const std::string &spec : inputShapes) {
    auto [name, shapeText] = StringRef(spec).split('=');
    auto shape = dinfer::parseIntList(shapeText, "--input-shape");
    if (name.empty() || !shape || !StringRef(spec).contains('=')) {
      if (!shape)
        llvm::consumeError(shape.takeError());
      emitError(UnknownLoc::get(context)) << "--input-shape expects NAME=D0,D1,..., got '" << spec << "'";
      return nullptr;
    }
    options.inputShapes[name] = *shape;
  }
  for (const std::string &spec : inputValues) {
    auto [name, file] = StringRef(spec).split('=');
    auto bytes = llvm::MemoryBuffer::getFile(file, false, false);
    if (name.empty() || !bytes) {
      emitError(UnknownLoc::get(context))
          << "--input-value expects NAME=FILE.pb with a readable file, got '" << spec << "'";
      return nullptr;
    }
    options.inputValues[name] = (*bytes)->getBuffer().str();
  }
  auto model = dinfer::OnnxModel::parse(buffer->getBuffer(), path, llvm::sys::path::parent_path(path));
  if (!model) {
    emitError(UnknownLoc::get(context)) << llvm::toString(model.takeError());
    return nullptr;
  }
  OwningOpRef<ModuleOp> module = dinfer::importOnnx(*model, context, options);
  if (!module || failed(verify(*module)))
    return nullptr;
  return OwningOpRef<Operation *>(module.release().getOperation());
}

llvm::cl::opt<std::string>
    weightsFile("weights",
                llvm::cl::desc("Checkpoint holding the data of the program's dist.param parameters (--export-mindir)"),
                llvm::cl::value_desc("file.ckpt"));

LogicalResult exportMindIRTranslation(Operation *op, llvm::raw_ostream &output) {
  auto module = llvm::dyn_cast<ModuleOp>(op);
  if (!module)
    return op->emitError("--export-mindir needs a builtin.module");
  std::optional<dinfer::Checkpoint> weights;
  if (!weightsFile.empty()) {
    auto checkpoint = dinfer::Checkpoint::open(weightsFile);
    if (!checkpoint) {
      llvm::errs() << "error: " << llvm::toString(checkpoint.takeError()) << "\n";
      return failure();
    }
    weights.emplace(std::move(*checkpoint));
  }
  auto model = dinfer::exportMindIR(module, [&](StringRef name, llvm::MutableArrayRef<char> out) -> llvm::Error {
    if (!weights)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "parameter '" + name + "' has no data: give --weights FILE.ckpt");
    const dinfer::CheckpointTensor *tensor = weights->find(name);
    if (!tensor)
      return dinfer::fileError(weightsFile, "has no tensor '" + name + "'");
    if (tensor->bytes != out.size())
      return dinfer::fileError(weightsFile, llvm::formatv("tensor '{0}' has {1} bytes; the program's parameter needs "
                                                          "{2}",
                                                          name, tensor->bytes, out.size())
                                                .str());
    return weights->read(*tensor, 0, out);
  });
  if (!model) {
    // The message already names the op and its location.
    llvm::errs() << "error: " << llvm::toString(model.takeError()) << "\n";
    return failure();
  }
  std::string bytes;
  if (!model->proto().SerializeToString(&bytes))
    return module.emitError("cannot serialize the MindIR model");
  output << bytes;
  return success();
}

OwningOpRef<Operation *> importMindIRTranslation(const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
                                                 MLIRContext *context) {
  ScopedDiagnosticHandler handler(context, [](Diagnostic &diag) {
    printDiagnostic(diag);
    return success();
  });
  const llvm::MemoryBuffer *buffer = sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
  StringRef path = buffer->getBufferIdentifier();
  auto model = dinfer::MindIRModel::parse(buffer->getBuffer(), path, llvm::sys::path::parent_path(path));
  if (!model) {
    emitError(UnknownLoc::get(context)) << llvm::toString(model.takeError());
    return nullptr;
  }
  OwningOpRef<ModuleOp> module = dinfer::importMindIR(*model, context);
  if (!module || failed(verify(*module)))
    return nullptr;
  return OwningOpRef<Operation *>(module.release().getOperation());
}

void registerDialects(DialectRegistry &registry) {
  registry.insert<dinfer::nn::NNDialect, dinfer::dist::DistDialect, func::FuncDialect, arith::ArithDialect>();
}
} // namespace

int main(int argc, char **argv) {
  // For scripts: the ONNX op types the importer converts, one per line.
  for (int i = 1; i < argc; ++i)
    if (StringRef(argv[i]) == "--list-onnx-ops") {
      for (StringRef op : dinfer::supportedOnnxOps())
        llvm::outs() << op << "\n";
      return 0;
    }
  TranslateToMLIRRegistration importOnnx("import-onnx", "Import an ONNX model (opset 7 to 17) into the nn dialect",
                                         importOnnxTranslation, registerDialects);
  TranslateToMLIRRegistration importMindIR("import-mindir", "Import a MindIR model into the nn dialect",
                                           importMindIRTranslation, registerDialects);
  TranslateFromMLIRRegistration exportMindIR("export-mindir",
                                             "Export an nn-dialect program as MindIR (weights from --weights)",
                                             exportMindIRTranslation, registerDialects);
  return failed(mlirTranslateMain(argc, argv, "dinfer translation driver")) ? 1 : 0;
}
