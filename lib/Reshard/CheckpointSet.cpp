//===- CheckpointSet.cpp - a directory of per-rank checkpoints ------------===//

#include "dinfer/Reshard/CheckpointSet.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace dinfer;

Expected<std::string> dinfer::rankCheckpointFile(StringRef dir, int64_t rank, StringRef command) {
  SmallString<256> folder(dir);
  sys::path::append(folder, "rank_" + std::to_string(rank));
  if (!sys::fs::is_directory(folder))
    return createStringError(inconvertibleErrorCode(),
                             "source rank " + std::to_string(rank) + ": " + folder + " is missing");
  std::vector<std::string> files;
  std::error_code ec;
  for (sys::fs::directory_iterator it(folder, ec), end; it != end && !ec; it.increment(ec))
    if (StringRef(it->path()).ends_with(".ckpt") || StringRef(it->path()).ends_with(".safetensors"))
      files.push_back(it->path());
  if (files.empty())
    return createStringError(inconvertibleErrorCode(),
                             "source rank " + std::to_string(rank) + ": no .ckpt or .safetensors in " + folder);
  llvm::sort(files);
  if (files.size() > 1)
    errs() << command << ": note: rank " << rank << " has " << files.size() << " checkpoints; using "
           << sys::path::filename(files.back()) << " (the last by name, as MindSpore does)\n";
  return files.back();
}

std::vector<const Checkpoint *> CheckpointSet::pointers() const {
  std::vector<const Checkpoint *> out;
  for (const Checkpoint &c : checkpoints)
    out.push_back(&c);
  return out;
}

Expected<CheckpointSet> dinfer::openCheckpointSet(ArrayRef<std::string> files) {
  CheckpointSet set;
  for (const std::string &file : files) {
    auto checkpoint = Checkpoint::open(file);
    if (!checkpoint)
      return checkpoint.takeError();
    SourceFile source;
    for (const CheckpointTensor &t : checkpoint->tensors())
      if (!t.isMapTensor)
        source.add(t.name, SourceTensor{t.typeName, t.shape, t.bytes, t.zeroDimScalar});
    set.sources.push_back(std::move(source));
    set.checkpoints.push_back(std::move(*checkpoint));
  }
  // MindSpore 2.x's CRC trailer or dinfer's safetensors SHA-256, when a file
  // has one: a damaged slice is named before any byte of it is used. Digests
  // run one file per core (SHA-256 reads about 2 GB/s on one); the first
  // damaged file in rank order is the one named.
  std::vector<std::optional<std::string>> damaged(set.checkpoints.size());
  llvm::parallelFor(0, set.checkpoints.size(), [&](size_t i) {
    if (Error err = set.checkpoints[i].verifyIntegrity())
      damaged[i] = toString(std::move(err));
  });
  for (std::optional<std::string> &message : damaged)
    if (message)
      return createStringError(inconvertibleErrorCode(), *message);
  return set;
}

Expected<std::vector<std::string>> dinfer::checkpointSetFiles(StringRef dir, int64_t ranks, StringRef command) {
  std::vector<std::string> files;
  for (int64_t rank = 0; rank < ranks; ++rank) {
    auto file = rankCheckpointFile(dir, rank, command);
    if (!file)
      return file.takeError();
    files.push_back(std::move(*file));
  }
  return files;
}
