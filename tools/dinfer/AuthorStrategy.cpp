//===- AuthorStrategy.cpp - `dinfer strategy`: write a training strategy --===//
//
// The command line of strategy authoring (dinfer/Pipeline/AuthorStrategy.h):
// a preset (`--preset megatron:tp=T[,dp=D][,opt-shard][,sp]`) or explicit
// `--op KEY=((a,b),(c,d))` strategies, written to `-o`.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "dinfer/Pipeline/AuthorStrategy.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand strategyCommand("strategy",
                               "Write the training strategy file of a model from a preset or op strategies");

cl::opt<std::string> modelOption("model", cl::desc("The network (ONNX or MindIR)"), cl::value_desc("file"),
                                 cl::sub(strategyCommand), cl::cat(category()));
cl::opt<int64_t> deviceNumOption("device-num", cl::desc("Training devices"), cl::init(0), cl::sub(strategyCommand),
                                 cl::cat(category()));
cl::opt<int64_t> stagesOption("pipeline-stages", cl::desc("Training pipeline stages"), cl::init(1),
                              cl::sub(strategyCommand), cl::cat(category()));
cl::opt<std::string> presetOption("preset", cl::desc("megatron:tp=T[,dp=D][,opt-shard][,sp]"), cl::value_desc("preset"),
                                  cl::sub(strategyCommand), cl::cat(category()));
cl::list<std::string> opOptions("op", cl::desc("An op strategy: KEY=((a,b),(c,d))"), cl::value_desc("key=strategy"),
                                cl::sub(strategyCommand), cl::cat(category()));
cl::list<std::string> inputOptions("input", cl::desc("An input's shape where the model's is dynamic: NAME=SHAPE"),
                                   cl::value_desc("name=shape"), cl::sub(strategyCommand), cl::cat(category()));
cl::opt<std::string> outputOption("o", cl::desc("Output strategy file (JSON when it ends in .json)"),
                                  cl::value_desc("file"), cl::sub(strategyCommand), cl::cat(category()));

int runStrategy() {
  if (modelOption.empty() || outputOption.empty() || deviceNumOption <= 0 ||
      (presetOption.empty() && opOptions.empty()))
    return usageError(strategyCommand,
                      "usage: dinfer strategy --model MODEL --device-num N [--pipeline-stages P] "
                      "(--preset megatron:tp=T[,dp=D][,opt-shard][,sp] | --op KEY=((a,b),(c,d)) ...) -o FILE");
  StrategyRequest request;
  request.model = modelOption;
  request.deviceNum = deviceNumOption;
  request.pipelineStages = stagesOption;
  request.preset = presetOption;
  request.ops.assign(opOptions.begin(), opOptions.end());
  request.inputShapes.assign(inputOptions.begin(), inputOptions.end());
  request.encoding =
      StringRef(outputOption).ends_with(".json") ? StrategyFile::Encoding::Json : StrategyFile::Encoding::Protobuf;
  auto authored = authorStrategy(request);
  if (!authored)
    return report(strategyCommand, authored.takeError());
  for (const std::string &remark : authored->remarks)
    errs() << "dinfer strategy: remark: " << remark << "\n";
  const StrategyFile &file = authored->file;
  if (Error err = writeStrategy(file, outputOption))
    return failure(strategyCommand, toString(std::move(err)));
  outs() << formatv("wrote {0}: {1} op strategies, {2} parameter layouts ({3} with optimizer sharding) for {4} "
                    "devices",
                    outputOption, file.ops.size(), file.layouts.size(), authored->optSharded, deviceNumOption);
  if (stagesOption > 1)
    outs() << formatv(" in {0} pipeline stages", stagesOption);
  if (!presetOption.empty())
    outs() << formatv(" (megatron: tp {0}, dp {1})", authored->tp, authored->dp);
  outs() << "\n";
  return kSuccess;
}

CommandRegistration registration(strategyCommand, runStrategy);
} // namespace
