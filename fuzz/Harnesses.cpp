//===- Harnesses.cpp - what each fuzz target feeds its reader -------------===//

#include "Harnesses.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Formats/GroupConfig.h"
#include "dinfer/Formats/Manifest.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Formats/Npy.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Formats/Safetensors.h"
#include "dinfer/Formats/Strategy.h"
#include "dinfer/Translate/ImportMindIR.h"
#include "dinfer/Translate/ImportONNX.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <string>
#include <vector>

using namespace dinfer;

namespace {
/// A folder where fuzzed models find external data: MindIR's
/// `<prefix>_variables/data_0` and ONNX's `weights.bin`, 64 KiB each, so that
/// offsets and lengths taken from the model are checked against real files.
const std::string &externalDataFolder() {
  static const std::string folder = [] {
    llvm::SmallString<128> dir;
    if (llvm::sys::fs::createUniqueDirectory("dinfer-fuzz-data", dir))
      return std::string("/nonexistent-dinfer-fuzz");
    std::string data(64 << 10, '\x5a');
    for (const char *name : {"weights.bin", "data_0", "net_variables/data_0", "model_variables/data_0"}) {
      llvm::SmallString<128> path(dir);
      llvm::sys::path::append(path, name);
      llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path));
      llvm::consumeError(writeFileAtomically(path, data, /*sync=*/false));
    }
    return dir.str().str();
  }();
  return folder;
}

template <typename T>
void drop(llvm::Expected<T> &value) {
  if (!value)
    llvm::consumeError(value.takeError());
}
} // namespace

void dinfer::fuzz::checkpoint(llvm::StringRef bytes) {
  auto checkpoint = Checkpoint::index(ByteSource::fromBuffer(bytes, "fuzz.ckpt"));
  if (!checkpoint)
    return llvm::consumeError(checkpoint.takeError());
  for (const CheckpointTensor &tensor : checkpoint->tensors()) {
    std::vector<char> out(std::min<uint64_t>(tensor.bytes, 1 << 16));
    llvm::consumeError(checkpoint->read(tensor, 0, out));
  }
  llvm::consumeError(checkpoint->verifyIntegrity());
}

void dinfer::fuzz::safetensors(llvm::StringRef bytes) {
  auto source = ByteSource::fromBuffer(bytes, "fuzz.safetensors");
  auto header = readSafetensorsHeader(*source);
  if (!header)
    return llvm::consumeError(header.takeError());
  // The same bytes through the checkpoint reader, as every command opens them.
  checkpoint(bytes);
}

void dinfer::fuzz::strategy(llvm::StringRef bytes) {
  auto strategy = parseStrategy(bytes, "fuzz_strategy");
  if (!strategy)
    return llvm::consumeError(strategy.takeError());
  for (const StrategyLayout &layout : strategy->layouts)
    llvm::consumeError(checkLayout(layout.layout));
  auto serialized = serializeStrategy(*strategy);
  drop(serialized);
}

void dinfer::fuzz::mindir(llvm::StringRef bytes) {
  auto model = MindIRModel::parse(bytes, "fuzz.mindir", externalDataFolder());
  if (!model)
    return llvm::consumeError(model.takeError());
  for (const MindIRParameter &parameter : model->parameters()) {
    auto content = model->readParameter(parameter);
    drop(content);
  }
  (void)model->inputs();
  (void)model->outputs();
  (void)model->mainGraph();
  (void)model->functions();
  (void)model->loaderProblems();
}

void dinfer::fuzz::onnx(llvm::StringRef bytes) {
  // As `dinfer run` opens a file: the weights split from the message and
  // read from the buffer.
  auto model = OnnxModel::fromFile(llvm::MemoryBuffer::getMemBufferCopy(bytes, "fuzz.onnx"), "fuzz.onnx",
                                   externalDataFolder());
  if (!model)
    return llvm::consumeError(model.takeError());
  (void)model->opset();
  for (const ::onnx::TensorProto &tensor : model->proto().graph().initializer()) {
    auto content = model->tensorBytes(tensor);
    drop(content);
  }
}

namespace {
/// Imports a parsed model into a fresh context whose diagnostics go nowhere:
/// refusing a model is fine, a module that does not verify is a bug.
template <typename Import>
void importAndVerify(Import import) {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  mlir::ScopedDiagnosticHandler quiet(&context, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::OwningOpRef<mlir::ModuleOp> module = import(&context);
  if (module && failed(mlir::verify(*module)))
    llvm::report_fatal_error("an imported module does not verify");
}
} // namespace

void dinfer::fuzz::onnxImport(llvm::StringRef bytes) {
  auto model = OnnxModel::parse(bytes, "fuzz.onnx", externalDataFolder());
  if (!model)
    return llvm::consumeError(model.takeError());
  importAndVerify([&](mlir::MLIRContext *context) { return importOnnx(*model, context); });
}

void dinfer::fuzz::mindirImport(llvm::StringRef bytes) {
  auto model = MindIRModel::parse(bytes, "fuzz.mindir", externalDataFolder());
  if (!model)
    return llvm::consumeError(model.takeError());
  importAndVerify([&](mlir::MLIRContext *context) { return importMindIR(*model, context); });
}

void dinfer::fuzz::npy(llvm::StringRef bytes) {
  auto array = parseNpy(bytes, "fuzz.npy");
  if (array) {
    auto serialized = serializeNpy(*array);
    drop(serialized);
  } else {
    llvm::consumeError(array.takeError());
  }
  auto tensor = parseOnnxTensor(bytes, "fuzz.pb");
  drop(tensor);
}

void dinfer::fuzz::groupConfig(llvm::StringRef bytes) {
  auto config = parseGroupConfig(bytes, "fuzz_group_config.pb");
  if (!config)
    return llvm::consumeError(config.takeError());
  (void)serializeGroupConfig(*config);
}

void dinfer::fuzz::manifest(llvm::StringRef bytes) {
  auto manifest = parseManifest(bytes, "manifest.json");
  drop(manifest);
}

void (*dinfer::fuzz::harnessNamed(llvm::StringRef name))(llvm::StringRef) {
  return llvm::StringSwitch<void (*)(llvm::StringRef)>(name)
      .Case("checkpoint", checkpoint)
      .Case("safetensors", safetensors)
      .Case("strategy", strategy)
      .Case("mindir", mindir)
      .Case("onnx", onnx)
      .Case("onnx_import", onnxImport)
      .Case("mindir_import", mindirImport)
      .Case("npy", npy)
      .Case("group_config", groupConfig)
      .Case("manifest", manifest)
      .Default(nullptr);
}
