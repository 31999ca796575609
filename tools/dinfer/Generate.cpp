//===- Generate.cpp - `dinfer generate`: greedy decoding with a cache -----===//
//
//   dinfer generate MODEL --input-ids FILE.npy --max-new-tokens N
//                   [-o FILE.npy] [--json] [--threads T]
//                   [--device-num N --train-strategy FILE] [--timeout SECONDS]
//
// Greedy decoding of an ONNX decoder in the Hugging Face/Optimum cache
// convention (dinfer/Pipeline/Generate.h, docs/generate.md). Writes the
// prompts and the new tokens as int64 [B, T+N] with -o; --json prints
// {"tokens", "prefill_ms", "decode_ms_per_token", "tokens_per_s"} and nothing
// else on stdout; otherwise each sequence's tokens go to stdout, one line each.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "dinfer/Pipeline/Generate.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand generateCommand("generate", "Generate tokens with a decoder and its key/value cache (greedy)");

cl::opt<std::string> modelOption(cl::Positional, cl::desc("<model>"), cl::sub(generateCommand), cl::cat(category()));
cl::opt<std::string> inputIdsOption("input-ids", cl::desc("The prompts: int64 [batch, tokens] token ids (.npy)"),
                                    cl::value_desc("file"), cl::sub(generateCommand), cl::cat(category()));
cl::opt<int64_t> maxNewTokensOption("max-new-tokens", cl::desc("Tokens to generate after each prompt"), cl::init(0),
                                    cl::sub(generateCommand), cl::cat(category()));
cl::opt<std::string> outputOption("o", cl::desc("Write the prompts and new tokens, int64 [batch, tokens + N] (.npy)"),
                                  cl::value_desc("file"), cl::sub(generateCommand), cl::cat(category()));
cl::opt<bool> jsonOption("json", cl::desc("Print the tokens and timings as JSON on stdout"), cl::sub(generateCommand),
                         cl::cat(category()));
cl::opt<unsigned> threadsOption("threads", cl::desc("Kernel threads (default: all cores)"), cl::init(0),
                                cl::sub(generateCommand), cl::cat(category()));
cl::opt<int64_t> deviceNumOption("device-num",
                                 cl::desc("Generate on N tensor-parallel ranks (threads); needs --train-strategy"),
                                 cl::init(0), cl::sub(generateCommand), cl::cat(category()));
cl::opt<std::string> trainStrategyOption("train-strategy",
                                         cl::desc("The training strategy the ranks' layouts are inferred from"),
                                         cl::value_desc("file"), cl::sub(generateCommand), cl::cat(category()));
cl::opt<int64_t> eosOption("eos-token-id",
                           cl::desc("End a sequence at this token; stop when every sequence has ended"),
                           cl::init(-1), cl::sub(generateCommand), cl::cat(category()));
cl::opt<unsigned> timeoutOption("timeout", cl::desc("Seconds every collective may take (default 300)"), cl::init(300),
                                cl::sub(generateCommand), cl::cat(category()));

int runGenerate() {
  if (modelOption.empty() || inputIdsOption.empty())
    return usageError(generateCommand,
                      "usage: dinfer generate MODEL --input-ids FILE.npy --max-new-tokens N [-o FILE.npy] [--json] "
                      "[--eos-token-id ID]");
  if (maxNewTokensOption <= 0)
    return usageError(generateCommand, formatv("--max-new-tokens must be at least 1, not {0}",
                                               static_cast<int64_t>(maxNewTokensOption)));
  auto prompt = readNpy(inputIdsOption);
  if (!prompt)
    return failure(generateCommand, toString(prompt.takeError()));
  GenerateRequest request;
  request.model = modelOption;
  request.inputIds = std::move(*prompt);
  request.maxNewTokens = maxNewTokensOption;
  request.threads = threadsOption;
  request.deviceNum = deviceNumOption;
  request.trainStrategy = trainStrategyOption;
  request.timeout = std::chrono::seconds(timeoutOption);
  if (eosOption.getNumOccurrences()) {
    if (eosOption < 0)
      return usageError(generateCommand, formatv("--eos-token-id must be a token id (>= 0), not {0}",
                                                 static_cast<int64_t>(eosOption)));
    request.eosTokenId = eosOption;
  }
  auto result = generate(request);
  if (!result)
    return report(generateCommand, result.takeError());
  if (!result->holdsTokens) // another process of the mpirun: rank 0 answers
    return kSuccess;
  if (!outputOption.empty())
    if (Error err = writeNpy(result->tokens, outputOption))
      return failure(generateCommand, toString(std::move(err)));

  int64_t batch = result->tokens.shape[0], length = result->tokens.shape[1];
  const auto *tokens = reinterpret_cast<const int64_t *>(result->tokens.data.data());
  if (jsonOption) {
    json::Array rows;
    for (int64_t b = 0; b < batch; ++b)
      rows.push_back(json::Array(ArrayRef<int64_t>(tokens + b * length, length)));
    outs() << json::Value(json::Object{{"tokens", std::move(rows)},
                                       {"prefill_ms", result->prefillMs},
                                       {"decode_ms_per_token", result->decodeMsPerToken},
                                       {"tokens_per_s", result->tokensPerSecond}})
           << "\n";
  } else if (outputOption.empty()) {
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t t = 0; t < length; ++t)
        outs() << (t ? " " : "") << tokens[b * length + t];
      outs() << "\n";
    }
  }
  if (!result->summary.empty())
    errs() << "dinfer generate: " << result->summary << "\n";
  errs() << formatv("dinfer generate: {0} sequence(s), {1} prompt + {2} new tokens, {3} layers, cache of {4}: "
                    "prefill {5:f2} ms, {6:f2} ms per token, {7:f1} tokens/s\n",
                    batch, request.inputIds.shape[1], length - request.inputIds.shape[1], result->layers,
                    result->capacity, result->prefillMs, result->decodeMsPerToken, result->tokensPerSecond);
  return kSuccess;
}

CommandRegistration registration(generateCommand, runGenerate);
} // namespace
