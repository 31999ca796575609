//===- Run.cpp - `dinfer run`: a model, a partitioned program or an export ===//
//
//   dinfer run MODEL --input NAME=FILE.npy|FILE.pb ... [--output-dir DIR]
//              [--expect NAME=FILE ...] [--rtol R] [--atol A]
//
// Runs an ONNX, MindIR or nn-dialect (.mlir) model with the single-device
// interpreter, partitioned over --device-num ranks, or an export folder
// (`dinfer run OUT`), and writes every graph output as
// <output-dir>/<name>.npy (docs/contracts.md section 7). The runs are the
// pipeline library's (dinfer/Pipeline/Run.h); this file reads and writes the
// arrays and compares them with references.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Format.h"

#include "dinfer/Formats/Npy.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Pipeline/Run.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <map>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand runCommand("run", "Run a model on this machine");

cl::opt<std::string> modelOption(cl::Positional, cl::desc("<model>"), cl::sub(runCommand), cl::cat(category()));
cl::list<std::string> inputOptions("input", cl::desc("A graph input: NAME=FILE.npy (or an ONNX test's FILE.pb)"),
                                   cl::value_desc("name=file"), cl::sub(runCommand), cl::cat(category()));
cl::opt<std::string> outputDirOption("output-dir", cl::desc("Folder for <output>.npy files (default: .)"),
                                     cl::init("."), cl::sub(runCommand), cl::cat(category()));
cl::list<std::string> expectOptions("expect", cl::desc("Compare an output with a reference: NAME=FILE.npy|FILE.pb"),
                                    cl::value_desc("name=file"), cl::sub(runCommand), cl::cat(category()));
cl::opt<double> rtolOption("rtol", cl::desc("Relative tolerance of --expect"), cl::init(1e-3), cl::sub(runCommand),
                           cl::cat(category()));
cl::opt<double> atolOption("atol", cl::desc("Absolute tolerance of --expect"), cl::init(1e-5), cl::sub(runCommand),
                           cl::cat(category()));
cl::opt<unsigned> repeatOption("repeat",
                               cl::desc("Time N more runs after the first and print the best and median (ms)"),
                               cl::init(0), cl::sub(runCommand), cl::cat(category()));
cl::opt<int64_t>
    deviceNumOption("device-num",
                    cl::desc("Run partitioned over N ranks (threads of this process); needs --train-strategy"),
                    cl::init(0), cl::sub(runCommand), cl::cat(category()));
cl::opt<int64_t> pipelineStagesOption("pipeline-stages",
                                      cl::desc("Pipeline stages of a partitioned run (default: the training's)"),
                                      cl::init(0), cl::sub(runCommand), cl::cat(category()));
cl::opt<std::string> trainStrategyOption("train-strategy",
                                         cl::desc("The training strategy the ranks' layouts are inferred from"),
                                         cl::value_desc("file"), cl::sub(runCommand), cl::cat(category()));
cl::opt<unsigned> timeoutOption("timeout", cl::desc("Seconds every collective may take (default 300)"), cl::init(300),
                                cl::sub(runCommand), cl::cat(category()));
cl::opt<bool> noFuseOption("no-fuse", cl::desc("Run the program as imported, without fusing ops"), cl::sub(runCommand),
                           cl::cat(category()));
cl::opt<bool> profileOption("profile", cl::desc("Print the time each kind of op took"), cl::sub(runCommand),
                            cl::cat(category()));
cl::opt<bool> profileShapesOption("profile-shapes",
                                  cl::desc("With --profile: each op apart per operand types (which convolution)"),
                                  cl::sub(runCommand), cl::cat(category()));
cl::opt<unsigned> threadsOption("threads", cl::desc("Kernel threads (default: all cores)"), cl::init(0),
                                cl::sub(runCommand), cl::cat(category()));
cl::opt<std::string> dtypeOption("dtype",
                                 cl::desc("Precision of matrix products and convolutions with constant weights: "
                                          "float32 (default) or bfloat16 (weights converted once, accumulation in "
                                          "float32)"),
                                 cl::value_desc("type"), cl::init("float32"), cl::sub(runCommand),
                                 cl::cat(category()));

Expected<NpyArray> readArray(StringRef file) {
  if (file.ends_with(".pb")) {
    auto buffer = MemoryBuffer::getFile(file, false, false);
    if (!buffer)
      return fileError(file, "cannot open: " + buffer.getError().message());
    return parseOnnxTensor((*buffer)->getBuffer(), file);
  }
  return readNpy(file);
}

Expected<std::map<std::string, NpyArray>> readNamed(const cl::list<std::string> &specs, StringRef flag) {
  std::map<std::string, NpyArray> arrays;
  for (const std::string &spec : specs) {
    auto [name, file] = StringRef(spec).split('=');
    if (name.empty() || file.empty())
      return createStringError(inconvertibleErrorCode(), flag + " expects NAME=FILE, got '" + spec + "'");
    auto array = readArray(file);
    if (!array)
      return array.takeError();
    arrays[name.str()] = std::move(*array);
  }
  return arrays;
}

std::string fileNameFor(StringRef name) {
  std::string out = name.str();
  for (char &c : out)
    if (c == '/' || c == ':' || c == '\\')
      c = '_';
  return out;
}

/// numpy.allclose, with the largest differences for the report.
bool close(const Buffer &got, const NpyArray &want, double &maxAbs, double &maxRel) {
  Buffer expected = Buffer(want);
  if (got.dtype == DType::BFloat16 && expected.dtype == DType::UInt16)
    expected.dtype = DType::BFloat16; // bfloat16 bits stored as uint16
  maxAbs = maxRel = 0;
  if (got.shape != expected.shape)
    return false;
  bool ok = true;
  // One bfloat16 ulp is 2^-7 relative: rounding modes may differ by it.
  double rtol = got.dtype == DType::BFloat16 ? std::max<double>(rtolOption, 1.0 / 128) : rtolOption;
  for (int64_t i = 0, n = got.numElements(); i < n; ++i) {
    double a = got.get(i), b = expected.get(i);
    if (std::isnan(a) && std::isnan(b))
      continue;
    if (std::isinf(a) || std::isinf(b)) {
      ok &= a == b;
      continue;
    }
    double diff = std::abs(a - b);
    maxAbs = std::max(maxAbs, diff);
    if (b != 0)
      maxRel = std::max(maxRel, diff / std::abs(b));
    ok &= diff <= atolOption + rtol * std::abs(b);
  }
  return ok;
}

/// Writes every output as <output-dir>/<name>.npy and compares those
/// --expect names.
int writeOutputs(const std::vector<Buffer> &outputs, ArrayRef<std::string> outputNames,
                 const std::map<std::string, NpyArray> &expected) {
  if (std::error_code ec = sys::fs::create_directories(outputDirOption))
    return failure(runCommand, outputDirOption + ": cannot create: " + ec.message());
  bool mismatch = false;
  for (auto [i, output] : llvm::enumerate(outputs)) {
    const std::string &name = outputNames[i];
    SmallString<256> path(outputDirOption);
    sys::path::append(path, fileNameFor(name) + ".npy");
    NpyArray array = output;
    // numpy has no bfloat16: write its bits as uint16.
    if (array.dtype == DType::BFloat16)
      array.dtype = DType::UInt16;
    if (Error err = writeNpy(array, path))
      return failure(runCommand, toString(std::move(err)));
    auto want = expected.find(name);
    if (want != expected.end()) {
      double maxAbs, maxRel;
      bool ok = close(output, want->second, maxAbs, maxRel);
      errs() << formatv("dinfer run: {0}: {1} (max abs diff {2:e2}, max rel diff {3:e2})\n", name,
                        ok ? "matches" : "DIFFERS", maxAbs, maxRel);
      mismatch |= !ok;
    }
  }
  for (const auto &[name, array] : expected)
    if (!llvm::is_contained(outputNames, name))
      return failure(runCommand, "--expect names '" + name + "', which is not an output of the model");
  return mismatch ? kFailure : kSuccess;
}

int runRun() {
  if (modelOption.empty())
    return usageError(runCommand, "usage: dinfer run MODEL --input NAME=FILE.npy ... [--output-dir DIR]");
  auto inputs = readNamed(inputOptions, "--input");
  if (!inputs)
    return usageError(runCommand, toString(inputs.takeError()));
  auto expected = readNamed(expectOptions, "--expect");
  if (!expected)
    return usageError(runCommand, toString(expected.takeError()));
  RunRequest request;
  request.model = modelOption;
  request.inputs = std::move(*inputs);
  request.deviceNum = deviceNumOption;
  request.pipelineStages = pipelineStagesOption;
  request.trainStrategy = trainStrategyOption;
  request.threads = threadsOption;
  request.timeout = std::chrono::seconds(timeoutOption);
  request.fuse = !noFuseOption;
  request.repeat = repeatOption;
  request.profile = profileOption || profileShapesOption;
  request.profileByShape = profileShapesOption;
  if (dtypeOption == "bfloat16")
    request.dtype = DType::BFloat16;
  else if (dtypeOption != "float32")
    return usageError(runCommand, "--dtype " + dtypeOption + ": expected float32 or bfloat16");
  auto result = runModel(request);
  if (!result)
    return report(runCommand, result.takeError());
  if (!result->holdsOutputs)
    return kSuccess;
  if (!result->summary.empty())
    errs() << "dinfer run: " << result->summary << "\n";
  if (request.dtype == DType::BFloat16 && request.deviceNum == 0 && result->packedProducts)
    errs() << formatv("dinfer run: {0} of {1} products with constant weights in bfloat16{2}\n",
                      result->bfloat16Products, result->packedProducts,
                      result->bfloat16Products ? "" : " (oneDNN has no native bfloat16 kernel for them on this CPU)");
  if (!result->timesMs.empty())
    errs() << formatv("dinfer run: {0} runs: best {1:f3} ms, median {2:f3} ms\n", result->timesMs.size(),
                      result->timesMs.front(), result->timesMs[result->timesMs.size() / 2]);
  if (result->profile)
    result->profile->print(errs());
  if (result->memory) {
    constexpr double kMiB = 1024.0 * 1024.0;
    errs() << formatv("memory: peak resident {0:f1} MiB (the process); activations {1:f1} MiB (the first run's, "
                      "reused), packed weights {2:f1} MiB, weight copies {3:f1} MiB (converted or aligned)\n",
                      result->peakResidentBytes / kMiB, result->memory->activations / kMiB,
                      result->memory->packedWeights / kMiB, result->memory->weightCopies / kMiB);
  }
  return writeOutputs(result->outputs, result->names, *expected);
}

CommandRegistration registration(runCommand, runRun);
} // namespace
