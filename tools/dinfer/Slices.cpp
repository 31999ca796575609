//===- Slices.cpp - `dinfer slices`: which slice each rank holds ----------===//

#include "Command.h"
#include "Format.h"

#include "dinfer/Layout/Layout.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand slicesCommand("slices", "Print which slice of a tensor each rank holds under a layout");

cl::opt<std::string> shapeOption("shape", cl::desc("Global tensor shape, e.g. 96,16"), cl::value_desc("dims"),
                                 cl::sub(slicesCommand), cl::cat(cli::category()));
cl::opt<std::string> devMatrixOption("dev-matrix", cl::desc("Device matrix of one stage, e.g. 2,4"),
                                     cl::value_desc("dims"), cl::sub(slicesCommand), cl::cat(cli::category()));
cl::opt<std::string> tensorMapOption("tensor-map",
                                     cl::desc("Device axis per tensor dimension, counted from the right; -1 = "
                                              "not split; several axes joined with +, e.g. 1+0,-1"),
                                     cl::value_desc("map"), cl::sub(slicesCommand), cl::cat(cli::category()));
cl::opt<int64_t> optShardStepOption("opt-shard-step",
                                    cl::desc("Optimizer sharding: rank stride inside the replica group (0 = none)"),
                                    cl::init(0), cl::sub(slicesCommand), cl::cat(cli::category()));
cl::opt<int64_t> optShardSizeOption("opt-shard-size",
                                    cl::desc("Optimizer sharding: ranks per shard group (-1 or 0 = whole group)"),
                                    cl::init(0), cl::sub(slicesCommand), cl::cat(cli::category()));
cl::opt<bool> jsonOption("json", cl::desc("Print JSON (docs/contracts.md section 2)"), cl::sub(slicesCommand),
                         cl::cat(cli::category()));

int runSlices() {
  for (const cl::opt<std::string> *option : {&shapeOption, &devMatrixOption, &tensorMapOption})
    if (option->getNumOccurrences() == 0)
      return cli::usageError(slicesCommand, "--" + option->ArgStr + " is required");
  auto shape = parseIntList(shapeOption, "--shape");
  if (!shape)
    return cli::usageError(slicesCommand, toString(shape.takeError()));
  auto devMatrix = parseIntList(devMatrixOption, "--dev-matrix");
  if (!devMatrix)
    return cli::usageError(slicesCommand, toString(devMatrix.takeError()));
  if (devMatrix->empty())
    return cli::usageError(slicesCommand, "--dev-matrix: needs at least one axis");
  auto tensorMap = parseTensorMap(tensorMapOption);
  if (!tensorMap)
    return cli::usageError(slicesCommand, toString(tensorMap.takeError()));

  TensorLayout layout;
  layout.devMatrix = *devMatrix;
  layout.tensorMap = *tensorMap;
  layout.optShardStep = optShardStepOption;
  layout.optShardSize = optShardSizeOption;
  auto sharded = ShardedTensor::create(*shape, layout);
  if (!sharded)
    return cli::usageError(slicesCommand, toString(sharded.takeError()));

  if (jsonOption) {
    json::Array ranks;
    for (int64_t rank = 0; rank < sharded->deviceCount(); ++rank) {
      Slice slice = sharded->sliceOfRank(rank);
      ranks.push_back(json::Object{{"rank", rank},
                                   {"offset", jsonList(slice.offset)},
                                   {"shape", jsonList(slice.shape)},
                                   {"replica_of", sharded->replicaOf(rank)}});
    }
    json::Object root{{"shape", jsonList(*shape)},
                      {"dev_matrix", jsonList(*devMatrix)},
                      {"tensor_map", tensorMapJson(*tensorMap)},
                      {"opt_weight_shard_step", layout.optShardStep},
                      {"opt_weight_shard_size", layout.optShardSize},
                      {"slice_shape", jsonList(sharded->pieceShape())},
                      {"distinct_slices", sharded->numPieces()},
                      {"ranks", std::move(ranks)}};
    outs() << json::Value(std::move(root)) << "\n";
    return cli::kSuccess;
  }

  outs() << formatv("shape {0}, dev_matrix {1}, tensor_map {2}", formatList(*shape), formatList(*devMatrix),
                    formatTensorMap(*tensorMap));
  if (layout.hasOptimizerSharding())
    outs() << formatv(", opt_shard_step {0}, opt_shard_size {1}", layout.optShardStep, layout.optShardSize);
  outs() << formatv("\n{0} ranks, {1} distinct slices of shape {2}\n", sharded->deviceCount(), sharded->numPieces(),
                    formatList(sharded->pieceShape()));
  outs() << formatv("{0,6}  {1,-20}  {2,-20}  {3}\n", "rank", "offset", "shape", "replica_of");
  for (int64_t rank = 0; rank < sharded->deviceCount(); ++rank) {
    Slice slice = sharded->sliceOfRank(rank);
    outs() << formatv("{0,6}  {1,-20}  {2,-20}  {3}\n", rank, formatList(slice.offset), formatList(slice.shape),
                      sharded->replicaOf(rank));
  }
  return cli::kSuccess;
}

cli::CommandRegistration registration(slicesCommand, runSlices);
} // namespace
