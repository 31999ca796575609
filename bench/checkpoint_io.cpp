//===- checkpoint_io.cpp - checkpoint indexing and reads against cat ------===//
//
// Writes a checkpoint set (default: 4 files of 1 GiB, 256 tensors each),
// brings it into the page cache, then measures side by side:
//   * indexing every file against reading every byte of it (goal: < 1%);
//   * reading every tensor through Checkpoint::read against `cat` of the same
//     files to /dev/null (goal: throughput ratio >= 0.8).
//
// Usage: dinfer-bench-checkpoint-io [DIR] [FILES] [MiB_PER_FILE]
//
//===----------------------------------------------------------------------===//

#include "dinfer/Formats/Checkpoint.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace dinfer;
using clock_type = std::chrono::steady_clock;

namespace {
double since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

int fail(llvm::Error err) {
  llvm::errs() << "dinfer-bench-checkpoint-io: " << llvm::toString(std::move(err)) << "\n";
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp/dinfer-bench-ckpt";
  int files = argc > 2 ? std::atoi(argv[2]) : 4;
  uint64_t mibPerFile = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1024;
  const int tensorsPerFile = 256;
  uint64_t tensorBytes = (mibPerFile << 20) / tensorsPerFile / 4 * 4;

  llvm::sys::fs::create_directories(dir);
  std::vector<std::string> paths;
  for (int f = 0; f < files; ++f) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, "rank_" + std::to_string(f) + ".ckpt");
    paths.push_back(path.str().str());
    llvm::sys::fs::file_status status;
    bool exists = !llvm::sys::fs::status(path, status) &&
                  status.getSize() > tensorBytes * tensorsPerFile;
    if (exists)
      continue;
    CheckpointWriter::Options options;
    options.sync = false;
    auto writer = CheckpointWriter::create(path, options);
    if (!writer)
      return fail(writer.takeError());
    for (int t = 0; t < tensorsPerFile; ++t) {
      std::string name = llvm::formatv("layers.{0}.weight", t).str();
      llvm::Error err = (*writer)->add(name, "Float32", {static_cast<int64_t>(tensorBytes / 4)}, tensorBytes,
                                       [&](uint64_t offset, llvm::MutableArrayRef<char> out) {
                                         std::memset(out.data(), static_cast<int>((offset >> 12) & 0xff), out.size());
                                         return llvm::Error::success();
                                       });
      if (err)
        return fail(std::move(err));
    }
    if (llvm::Error err = (*writer)->finish())
      return fail(std::move(err));
  }
  uint64_t totalBytes = 0;
  for (const std::string &path : paths) {
    uint64_t size = 0;
    if (std::error_code ec = llvm::sys::fs::file_size(path, size))
      return fail(llvm::createStringError(ec, path + ": " + ec.message()));
    totalBytes += size;
  }

  std::vector<char> buffer(8 << 20);
  auto readFiles = [&]() -> llvm::Error {
    for (const std::string &path : paths) {
      auto source = ByteSource::openFile(path);
      if (!source)
        return source.takeError();
      for (uint64_t pos = 0; pos < (*source)->size(); pos += buffer.size()) {
        uint64_t n = std::min<uint64_t>(buffer.size(), (*source)->size() - pos);
        if (llvm::Error err = (*source)->readAt(pos, llvm::MutableArrayRef<char>(buffer.data(), n)))
          return err;
      }
    }
    return llvm::Error::success();
  };
  if (llvm::Error err = readFiles()) // warm the page cache
    return fail(std::move(err));

  auto start = clock_type::now();
  if (llvm::Error err = readFiles())
    return fail(std::move(err));
  double fullRead = since(start);

  start = clock_type::now();
  std::vector<Checkpoint> checkpoints;
  for (const std::string &path : paths) {
    auto ckpt = Checkpoint::open(path);
    if (!ckpt)
      return fail(ckpt.takeError());
    checkpoints.push_back(std::move(*ckpt));
  }
  double indexing = since(start);

  start = clock_type::now();
  uint64_t tensorTotal = 0;
  for (const Checkpoint &ckpt : checkpoints)
    for (const CheckpointTensor &tensor : ckpt.tensors())
      for (uint64_t pos = 0; pos < tensor.bytes; pos += buffer.size()) {
        uint64_t n = std::min<uint64_t>(buffer.size(), tensor.bytes - pos);
        if (llvm::Error err = ckpt.read(tensor, pos, llvm::MutableArrayRef<char>(buffer.data(), n)))
          return fail(std::move(err));
        tensorTotal += n;
      }
  double tensorRead = since(start);

  auto cat = llvm::sys::findProgramByName("cat");
  if (!cat)
    return fail(llvm::createStringError(cat.getError(), "cat not found"));
  std::vector<llvm::StringRef> args = {*cat};
  for (const std::string &path : paths)
    args.push_back(path);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef("/dev/null"), std::nullopt};
  start = clock_type::now();
  int rc = llvm::sys::ExecuteAndWait(*cat, args, std::nullopt, redirects);
  double catTime = since(start);
  if (rc != 0)
    return fail(llvm::createStringError(llvm::inconvertibleErrorCode(), "cat failed"));

  double gib = static_cast<double>(totalBytes) / (1 << 30);
  llvm::outs() << llvm::formatv("checkpoint set: {0} files, {1:f2} GiB, {2} tensors each, in the page cache\n", files,
                                gib, tensorsPerFile);
  llvm::outs() << llvm::formatv("index all files      {0,9:f4} s   full read {1,8:f3} s   ratio {2:f3}% (goal < 1%)\n",
                                indexing, fullRead, 100 * indexing / fullRead);
  double ours = tensorTotal / tensorRead / (1 << 30), theirs = totalBytes / catTime / (1 << 30);
  llvm::outs() << llvm::formatv("tensor reads {0,8:f2} GiB/s   cat {1,8:f2} GiB/s   ratio {2:f2} (goal >= 0.8)\n", ours,
                                theirs, ours / theirs);
  return 0;
}
