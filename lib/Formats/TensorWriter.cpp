//===- TensorWriter.cpp - tensor files written one tensor at a time -------===//

#include "dinfer/Formats/TensorWriter.h"

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/Safetensors.h"

#include <cstring>

using namespace dinfer;

llvm::StringRef dinfer::checkpointFormatName(CheckpointFormat format) {
  return format == CheckpointFormat::Safetensors ? "safetensors" : "ckpt";
}

std::optional<CheckpointFormat> dinfer::parseCheckpointFormat(llvm::StringRef name) {
  if (name == "ckpt")
    return CheckpointFormat::Ckpt;
  if (name == "safetensors")
    return CheckpointFormat::Safetensors;
  return std::nullopt;
}

llvm::StringRef dinfer::checkpointExtension(CheckpointFormat format) {
  return format == CheckpointFormat::Safetensors ? ".safetensors" : ".ckpt";
}

TensorWriter::~TensorWriter() = default;

llvm::Error TensorWriter::add(llvm::StringRef name, llvm::StringRef typeName, llvm::ArrayRef<int64_t> shape,
                              llvm::ArrayRef<char> data, bool zeroDimScalar) {
  return addTensor(
      name, typeName, shape, data.size(),
      [&](uint64_t offset, llvm::MutableArrayRef<char> out) {
        std::memcpy(out.data(), data.data() + offset, out.size());
        return llvm::Error::success();
      },
      zeroDimScalar);
}

llvm::Expected<std::unique_ptr<TensorWriter>> dinfer::createTensorWriter(llvm::StringRef path,
                                                                         llvm::ArrayRef<PlannedTensor> planned,
                                                                         const TensorWriterOptions &options) {
  if (options.format == CheckpointFormat::Safetensors) {
    if (options.encryptWith)
      return fileError(path, "safetensors files cannot be encrypted: write .ckpt (--format ckpt) to encrypt");
    SafetensorsWriter::Options writerOptions;
    writerOptions.sync = options.sync;
    auto writer = SafetensorsWriter::create(path, planned, std::move(writerOptions));
    if (!writer)
      return writer.takeError();
    return std::unique_ptr<TensorWriter>(std::move(*writer));
  }
  for (const PlannedTensor &tensor : planned)
    if (!parseDType(tensor.typeName) && !dtypeFromSafetensors(tensor.typeName) &&
        llvm::StringRef(tensor.typeName).starts_with("F8_"))
      return fileError(path, "tensor '" + tensor.name + "' is " + tensor.typeName +
                                 ", which a MindSpore checkpoint cannot hold (write it as safetensors)");
  CheckpointWriter::Options writerOptions;
  writerOptions.sync = options.sync;
  writerOptions.encryptWith = options.encryptWith;
  auto writer = CheckpointWriter::create(path, writerOptions);
  if (!writer)
    return writer.takeError();
  return std::unique_ptr<TensorWriter>(std::move(*writer));
}
