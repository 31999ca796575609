//===- Generate.cpp - greedy decoding with a key/value cache --------------===//

#include "dinfer/Pipeline/Generate.h"

#include "dialects/dist/DistDialect.h"
#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/ONNX.h"
#include "dinfer/Layout/Text.h"
#include "dinfer/Pipeline/Decoder.h"
#include "dinfer/Pipeline/ExportFolder.h"
#include "dinfer/Pipeline/ModelImport.h"
#include "dinfer/Pipeline/RankRunner.h"
#include "dinfer/Runtime/Buffer.h"
#include "dinfer/Runtime/ConstantEvaluation.h"
#include "dinfer/Runtime/Interpreter.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"
#include "dinfer/Transforms/StrategyLayout.h"
#include "dinfer/Translate/ImportONNX.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cstring>
#include <map>

using namespace llvm;
using namespace dinfer;

namespace {
Error modelError(StringRef model, const Twine &message) { return pipelineError(model + ": " + message); }

/// One step's program imported for its shapes and folded (prefill or
/// decode); on ranks, partitioned into one function per rank.
Expected<mlir::OwningOpRef<mlir::ModuleOp>> importStep(const OnnxModel &model, mlir::MLIRContext &context,
                                                       const DiagnosticCollector &diagnostics,
                                                       const std::map<std::string, SmallVector<int64_t, 4>> &shapes,
                                                       StringRef step) {
  OnnxImportOptions options;
  options.evaluateConstant = evaluateConstantArray;
  for (const auto &[name, shape] : shapes)
    options.inputShapes[name] = shape;
  mlir::OwningOpRef<mlir::ModuleOp> module = importOnnx(model, &context, options);
  if (!module || failed(mlir::verify(*module)))
    return modelError(model.path(), "the " + step + " step does not import: " + diagnostics.text("cannot import"));
  mlir::PassManager passes(&context);
  addRunFusions(passes);
  if (failed(passes.run(*module)))
    return modelError(model.path(), diagnostics.text("fusion failed"));
  auto entry = *module->getOps<mlir::func::FuncOp>().begin();
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    auto name = entry.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    auto given = name ? shapes.find(name.str()) : shapes.end();
    auto type = cast<mlir::RankedTensorType>(entry.getArgument(i).getType());
    if (given != shapes.end() && ArrayRef<int64_t>(given->second) != type.getShape())
      return modelError(model.path(), formatv("input '{0}' is {1} in the model, but the {2} step needs {3}",
                                              name.getValue(), formatList(type.getShape()), step,
                                              formatList(given->second)));
  }
  return module;
}

/// Partitions `module` (its only function) over the request's ranks, every
/// present.<i> output left split as this step's keys or values are (the
/// operand of the concatenation that is not the past) and every
/// past_key_values.<i> input given the same layout: the cache then stays
/// on the ranks that make it, step after step, without a collective.
Error partitionStep(mlir::ModuleOp module, mlir::MLIRContext &context, const DiagnosticCollector &diagnostics,
                    const GenerateRequest &request, const DecoderSignature &signature, StringRef step) {
  auto failedTo = [&](StringRef what) {
    return modelError(request.model, "the " + step + " step could not be " + what + ": " +
                                         diagnostics.text("the strategy does not fit"));
  };
  StrategyPipelineOptions options;
  options.strategyFile = request.trainStrategy;
  options.deviceNum = request.deviceNum;
  options.pipelineStages = 1;
  mlir::PassManager adapt(&context);
  addStrategyPipeline(adapt, options);
  if (failed(adapt.run(module)))
    return failedTo("given the training strategy");

  if (Error err = keepCacheOnRanks(module, signature, request.model, step,
                                   [&] { return diagnostics.text("the strategy does not fit"); }))
    return err;

  mlir::PassManager partition(&context);
  addPartitionToRanks(partition);
  if (failed(partition.run(module)))
    return failedTo("partitioned");
  return Error::success();
}

/// The collectives a rank function issues, by kind: "4 all_reduce,
/// 1 all_gather" (local splits move nothing between ranks).
std::string collectivesOf(mlir::func::FuncOp function) {
  std::map<std::string, int64_t> counts;
  function.walk([&](mlir::Operation *op) {
    if (isa<dist::AllReduceOp, dist::AllGatherOp, dist::ReduceScatterOp, dist::AllToAllOp, dist::BroadcastOp,
            dist::SendOp, dist::RecvOp>(op))
      ++counts[op->getName().stripDialect().str()];
  });
  std::string text;
  for (const auto &[kind, count] : counts)
    text += (text.empty() ? "" : ", ") + std::to_string(count) + " " + kind;
  return text.empty() ? "no collective" : text;
}

/// One step's function as one rank (or the one device) runs it.
struct StepFunction {
  std::unique_ptr<Executable> executable;
  std::vector<std::string> arguments, results; ///< graph names, in order
  /// Per argument: the layout a global input is sliced by, if any.
  std::vector<std::optional<TensorLayout>> layouts;
  std::vector<SmallVector<int64_t, 4>> argumentShapes; ///< local
};

Expected<StepFunction> prepareFunction(mlir::ModuleOp module, mlir::func::FuncOp function) {
  StepFunction step;
  for (unsigned i = 0; i < function.getNumArguments(); ++i) {
    auto name = function.getArgAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    step.arguments.push_back(name ? name.str() : "input" + std::to_string(i));
    auto layout = function.getArgAttrOfType<dist::LayoutAttr>(i, dist::DistDialect::kLayoutAttrName);
    step.layouts.push_back(layout ? std::optional<TensorLayout>(layout.toTensorLayout()) : std::nullopt);
    auto shape = cast<mlir::RankedTensorType>(function.getArgument(i).getType()).getShape();
    step.argumentShapes.emplace_back(shape.begin(), shape.end());
  }
  for (unsigned i = 0; i < function.getNumResults(); ++i) {
    auto name = function.getResultAttrOfType<mlir::StringAttr>(i, "dinfer.name");
    step.results.push_back(name ? name.str() : "output" + std::to_string(i));
  }
  auto executable = Executable::prepare(module, function.getName());
  if (!executable)
    return executable.takeError();
  step.executable = std::move(*executable);
  return step;
}

/// --nn-compute-in-float32 on `function` before it is prepared: on the thread
/// that owns its context, never from several rank threads at once.
Error widenForRun(mlir::func::FuncOp function) {
  if (failed(computeInFloat32(function)))
    return pipelineError("@" + function.getName() + ": its half-precision values cannot be computed in float32");
  return Error::success();
}

/// What one rank (or the one device) generates with.
struct RankJob {
  StepFunction prefill;
  std::optional<StepFunction> decode;
  std::function<Expected<Buffer>(StringRef)> weights;
  int64_t position = 0; ///< in the stage: which slice of a split input
};

/// Runs `step`: global inputs sliced to the rank, `local` ones (its cache) as
/// they are; the outputs by name.
Expected<StringMap<Buffer>> runStep(StepFunction &step, const RankJob &job, const StringMap<Buffer> &global,
                                    const StringMap<Buffer> &local, const RankContext *rank) {
  std::vector<Buffer> arguments;
  for (auto [name, layout] : llvm::zip_equal(step.arguments, step.layouts)) {
    if (auto it = local.find(name); it != local.end()) {
      arguments.push_back(it->second);
      continue;
    }
    const Buffer &whole = global.find(name)->second;
    if (!layout) {
      arguments.push_back(whole);
      continue;
    }
    auto slice = sliceOf(whole, *layout, job.position);
    if (!slice)
      return slice.takeError();
    arguments.push_back(std::move(*slice));
  }
  auto weights = [&](StringRef name) { return job.weights(name); };
  auto outputs = step.executable->run(std::move(arguments), weights, nullptr, rank);
  if (!outputs)
    return outputs.takeError();
  StringMap<Buffer> named;
  for (auto [name, buffer] : llvm::zip_equal(step.results, *outputs))
    named[name] = std::move(buffer);
  return named;
}

/// Gives the step's outputs, once read, back to its program for the next step.
void recycle(StepFunction &step, StringMap<Buffer> &&outputs) {
  std::vector<Buffer> buffers;
  for (auto &entry : outputs)
    buffers.push_back(std::move(entry.second));
  step.executable->recycle(std::move(buffers));
}

/// The argmax of the last position of every sequence of `logits` [B, T, V]
/// (the first of equal maxima, as torch and numpy pick).
SmallVector<int64_t> lastArgmax(const Buffer &logits) {
  int64_t batch = logits.shape[0], positions = logits.shape[1], vocab = logits.shape[2];
  SmallVector<int64_t> tokens;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t row = (b * positions + positions - 1) * vocab, best = 0;
    double bestValue = logits.get(row);
    for (int64_t v = 1; v < vocab; ++v)
      if (logits.get(row + v) > bestValue) {
        bestValue = logits.get(row + v);
        best = v;
      }
    tokens.push_back(best);
  }
  return tokens;
}

/// Copies positions [0, count) of `present` [B, KV, S, D] to positions
/// [at, at + count) of `cache` [B, KV, C, D].
void storeInCache(const Buffer &present, int64_t from, int64_t count, Buffer &cache, int64_t at) {
  int64_t rows = present.shape[0] * present.shape[1], presentLength = present.shape[2];
  int64_t capacity = cache.shape[2];
  size_t slot = static_cast<size_t>(present.shape[3]) * present.elementBytes();
  const char *source = present.bytes();
  char *target = cache.data.data();
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(target + (r * capacity + at) * slot, source + (r * presentLength + from) * slot, count * slot);
}

Buffer int64Matrix(int64_t rows, int64_t columns, function_ref<int64_t(int64_t, int64_t)> value) {
  Buffer out(DType::Int64, {rows, columns});
  int64_t *data = out.as<int64_t>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < columns; ++c)
      data[r * columns + c] = value(r, c);
  return out;
}

double millisecondsSince(std::chrono::steady_clock::time_point began) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
}

/// The greedy loop of one rank (or the one device): every rank computes the
/// same tokens from the same whole logits; its cache holds its own slices.
/// A prompt shorter than the prefill program's is padded on the left, the
/// padding masked out and the positions counted from the first real token
/// (as Hugging Face pads a batch of prompts); the decode program's cache has
/// room for the padded prompt and every new token but the last.
/// With `eos`, a sequence that emits it is finished: its later tokens are
/// `eos` too, and the loop stops once every sequence is finished (the tokens
/// then end there, as Hugging Face's generate ends them).
Expected<GenerateResult> decodeLoop(RankJob &job, const DecoderSignature &signature, const Buffer &prompt,
                                    int64_t newTokens, std::optional<int64_t> eos, const RankContext *rank) {
  auto localShape = [](const StepFunction &step, StringRef name) {
    auto at = llvm::find(step.arguments, name) - step.arguments.begin();
    return step.argumentShapes[at];
  };
  int64_t batch = prompt.shape[0], promptLength = prompt.shape[1], length = promptLength + newTokens;
  int64_t slots = localShape(job.prefill, kInputIds)[1], padding = slots - promptLength;
  int64_t capacity = job.decode ? localShape(*job.decode, signature.past.front())[2] : 0;
  GenerateResult result;
  result.layers = signature.layers();
  result.capacity = capacity;
  Buffer tokens(DType::Int64, {batch, length});
  int64_t *tokenData = tokens.as<int64_t>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < promptLength; ++t)
      tokenData[b * length + t] = prompt.as<int64_t>()[b * promptLength + t];
  SmallVector<bool> finished(batch, false);
  int64_t generated = 0; // new tokens per sequence so far
  auto emit = [&](SmallVectorImpl<int64_t> &next, int64_t position) {
    for (int64_t b = 0; b < batch; ++b) {
      if (finished[b])
        next[b] = *eos;
      tokenData[b * length + position] = next[b];
      finished[b] = eos && next[b] == *eos;
    }
    ++generated;
  };
  auto allFinished = [&] { return eos && llvm::all_of(finished, [](bool done) { return done; }); };

  // Prefill: the prompts over an empty cache.
  StringMap<Buffer> global, local;
  global[kInputIds] = int64Matrix(batch, slots, [&](int64_t b, int64_t c) {
    return c < padding ? 0 : prompt.as<int64_t>()[b * promptLength + c - padding];
  });
  global[kAttentionMask] = int64Matrix(batch, slots, [&](int64_t, int64_t c) { return c >= padding; });
  global[kPositionIds] = int64Matrix(batch, slots, [&](int64_t, int64_t c) { return std::max<int64_t>(0, c - padding); });
  for (const std::string &name : signature.past)
    local[name] = Buffer(signature.cacheType, localShape(job.prefill, name));
  std::vector<Buffer> caches;
  if (job.decode)
    for (const std::string &past : signature.past)
      caches.emplace_back(signature.cacheType, localShape(*job.decode, past));

  // Each program runs once before the clock starts, as a served model is
  // warm: a program's first run builds its kernels and packs its weights
  // (ONNX Runtime does that when its session is created). The decode warm-up
  // reads the empty cache with only its new slot visible.
  auto warmed = runStep(job.prefill, job, global, local, rank);
  if (!warmed)
    return warmed.takeError();
  recycle(job.prefill, std::move(*warmed));
  if (job.decode) {
    StringMap<Buffer> warmGlobal, warmLocal;
    warmGlobal[kInputIds] = int64Matrix(batch, 1, [](int64_t, int64_t) { return 0; });
    warmGlobal[kAttentionMask] = int64Matrix(batch, capacity + 1, [&](int64_t, int64_t c) { return c == capacity; });
    warmGlobal[kPositionIds] = int64Matrix(batch, 1, [](int64_t, int64_t) { return 0; });
    for (auto [name, cache] : llvm::zip_equal(signature.past, caches))
      warmLocal[name] = Buffer::view(signature.cacheType, cache.shape, cache.bytes());
    warmed = runStep(*job.decode, job, warmGlobal, warmLocal, rank);
    if (!warmed)
      return warmed.takeError();
    recycle(*job.decode, std::move(*warmed));
  }

  auto began = std::chrono::steady_clock::now();
  auto outputs = runStep(job.prefill, job, global, local, rank);
  if (!outputs)
    return outputs.takeError();
  SmallVector<int64_t> next = lastArgmax(outputs->lookup(kLogits));
  emit(next, promptLength);
  if (job.decode)
    for (auto [present, cache] : llvm::zip_equal(signature.present, caches))
      storeInCache(outputs->lookup(present), 0, slots, cache, 0);
  result.prefillMs = millisecondsSince(began);

  // Decode: one token per sequence per step over the fixed-capacity cache;
  // attention_mask hides the slots not yet written.
  began = std::chrono::steady_clock::now();
  for (int64_t step = 1, valid = slots; step < newTokens && !allFinished(); ++step, ++valid) {
    global[kInputIds] = int64Matrix(batch, 1, [&](int64_t b, int64_t) { return next[b]; });
    global[kAttentionMask] = int64Matrix(
        batch, capacity + 1, [&](int64_t, int64_t c) { return (c >= padding && c < valid) || c == capacity ? 1 : 0; });
    global[kPositionIds] = int64Matrix(batch, 1, [&](int64_t, int64_t) { return valid - padding; });
    for (auto [name, cache] : llvm::zip_equal(signature.past, caches))
      local[name] = Buffer::view(signature.cacheType, cache.shape, cache.bytes());
    outputs = runStep(*job.decode, job, global, local, rank);
    if (!outputs)
      return outputs.takeError();
    next = lastArgmax(outputs->lookup(kLogits));
    emit(next, promptLength + step);
    for (auto [name, cache] : llvm::zip_equal(signature.present, caches))
      storeInCache(outputs->lookup(name), capacity, 1, cache, valid);
    recycle(*job.decode, std::move(*outputs));
  }
  double decodeMs = millisecondsSince(began);
  if (generated > 1)
    result.decodeMsPerToken = decodeMs / static_cast<double>(generated - 1);
  double totalMs = result.prefillMs + decodeMs;
  result.tokensPerSecond = totalMs > 0 ? static_cast<double>(batch * generated) * 1000.0 / totalMs : 0;
  if (generated < newTokens) { // every sequence ended early
    Buffer ended(DType::Int64, {batch, promptLength + generated});
    for (int64_t b = 0; b < batch; ++b)
      std::memcpy(ended.as<int64_t>() + b * (promptLength + generated), tokenData + b * length,
                  static_cast<size_t>(promptLength + generated) * sizeof(int64_t));
    tokens = std::move(ended);
  }
  result.tokens = std::move(tokens);
  if (!caches.empty())
    result.summary = formatv("cache {0} per rank", formatList(caches.front().shape)).str();
  return result;
}

/// What one rank runs: the greedy loop over its own job, its result kept
/// in `results` (every rank computes the same tokens; rank 0's are read).
RankProgram decodingProgram(std::shared_ptr<RankJob> job, int64_t rank, const DecoderSignature &signature,
                            const Buffer &prompt, const GenerateRequest &request,
                            std::vector<std::optional<GenerateResult>> &results) {
  RankProgram program;
  program.body = [job, rank, &signature, &prompt, &request, &results](const RankContext &context)
      -> Expected<std::vector<Buffer>> {
    auto result = decodeLoop(*job, signature, prompt, request.maxNewTokens, request.eosTokenId, &context);
    if (!result)
      return result.takeError();
    results[rank] = std::move(*result);
    return std::vector<Buffer>();
  };
  return program;
}

/// The cache signature of a generation export, from its manifest's decode
/// inputs.
Expected<DecoderSignature> exportSignature(const ExportFolder &folder) {
  const ExportManifest::Generation &generation = *folder.manifest.generation;
  DecoderSignature signature;
  for (const ExportManifest::Tensor &input : generation.inputs) {
    StringRef rest = input.name;
    if (!rest.consume_front("past_key_values."))
      continue;
    if (input.shape.size() != 4)
      return modelError(folder.path, "manifest.json: cache input '" + input.name + "' is not 4-dimensional");
    signature.past.push_back(input.name);
    signature.present.push_back("present." + rest.str());
    signature.kvHeads = input.shape[1];
    signature.headDim = input.shape[3];
    DType type = input.dtype.value_or(DType::Float32);
    if (signature.past.size() > 1 && type != signature.cacheType)
      return modelError(folder.path, "manifest.json: cache input '" + input.name + "' is " + dtypeName(type) +
                                         ", but " + signature.past.front() + " is " + dtypeName(signature.cacheType));
    signature.cacheType = type;
  }
  if (signature.past.empty())
    return modelError(folder.path, "manifest.json: the decode step has no past_key_values input");
  return signature;
}

/// Generation from an export folder (`dinfer export --max-length`): every
/// rank runs its prefill (net.mindir) and decode (decode.mindir) programs,
/// on threads of this process or, under mpirun, one rank per process.
Expected<GenerateResult> generateFromExport(const GenerateRequest &request, const Buffer &prompt) {
  if (request.deviceNum > 0 || !request.trainStrategy.empty())
    return usageError("an export folder holds its own ranks: leave out --device-num and --train-strategy");
  auto opened = openExportFolder(request.model);
  if (!opened)
    return opened.takeError();
  const ExportFolder &folder = *opened;
  const ExportManifest &manifest = folder.manifest;
  if (!manifest.generation)
    return modelError(request.model, "was not exported for generation (dinfer export --max-length L makes the "
                                     "decode step beside each rank's program)");
  const ExportManifest::Generation &generation = *manifest.generation;
  auto signature = exportSignature(folder);
  if (!signature)
    return signature.takeError();
  int64_t batch = prompt.shape[0], promptLength = prompt.shape[1], newTokens = request.maxNewTokens;
  if (batch != generation.batch || promptLength > generation.promptLength)
    return modelError(request.model,
                      formatv("was exported for {0} prompt(s) of at most {1} tokens, not {2} of {3} (dinfer export "
                              "--input input_ids=BATCH,TOKENS)",
                              generation.batch, generation.promptLength, batch, promptLength));
  // The prompt is padded to the exported prompt length; the cache holds it
  // and every new token but the last.
  int64_t room = generation.capacity - generation.promptLength + 1;
  if (newTokens > 1 && newTokens > room)
    return modelError(request.model, formatv("holds a cache of {0} slots: at most {1} new tokens after its prompt "
                                             "length of {2} (dinfer export --max-length {3} makes room for {4})",
                                             generation.capacity, room, generation.promptLength,
                                             generation.promptLength + newTokens, newTokens));
  int64_t devices = manifest.deviceNum;
  auto layoutsOf = [](ArrayRef<ExportManifest::Tensor> tensors) {
    StringMap<TensorLayout> layouts;
    for (const ExportManifest::Tensor &tensor : tensors)
      if (tensor.layout && llvm::any_of(tensor.layout->tensorMap, [](const DimAxes &axes) { return !axes.empty(); }))
        layouts[tensor.name] = *tensor.layout;
    return layouts;
  };
  StringMap<TensorLayout> prefillLayouts = layoutsOf(manifest.inputs), decodeLayouts = layoutsOf(generation.inputs);

  struct RankModels {
    mlir::MLIRContext context;
    std::optional<MindIRModel> prefill, decode;
    mlir::OwningOpRef<mlir::ModuleOp> prefillModule, decodeModule;
  };
  std::vector<std::unique_ptr<RankModels>> ranks(devices);
  std::vector<std::optional<GenerateResult>> results(devices);
  std::string decodeCollectives;
  RankPreparer prepare = [&](int64_t rank) -> Expected<RankProgram> {
    ranks[rank] = std::make_unique<RankModels>();
    RankModels &models = *ranks[rank];
    models.context.disableMultithreading();
    auto job = std::make_shared<RankJob>();
    for (bool decode : {false, true}) {
      if (decode && newTokens == 1)
        break;
      auto module = importRankMindIR(folder, rank, decode ? StringRef(generation.decodeFile) : "net.mindir",
                                     models.context, decode ? models.decode : models.prefill);
      if (!module)
        return module.takeError();
      mlir::PassManager fusions(&models.context);
      addRunFusions(fusions);
      if (failed(fusions.run(**module)))
        return modelError(request.model, "rank " + Twine(rank) + ": the run-time folds failed");
      auto function = *(*module)->getOps<mlir::func::FuncOp>().begin();
      if (decode && rank == 0)
        decodeCollectives = collectivesOf(function);
      if (Error err = widenForRun(function))
        return err;
      auto prepared = prepareFunction(**module, function);
      if (!prepared)
        return prepared.takeError();
      // A MindIR names its graph's outputs by the tuple that returns them:
      // the manifest lists them in order.
      ArrayRef<ExportManifest::Tensor> outputs = decode ? generation.outputs : manifest.outputs;
      if (outputs.size() != prepared->results.size())
        return modelError(request.model, formatv("rank {0}: {1} returns {2} outputs, but the manifest lists {3}", rank,
                                                 decode ? generation.decodeFile : "net.mindir",
                                                 prepared->results.size(), outputs.size()));
      for (auto [name, output] : llvm::zip_equal(prepared->results, outputs))
        name = output.name;
      const StringMap<TensorLayout> &layouts = decode ? decodeLayouts : prefillLayouts;
      for (auto [name, layout] : llvm::zip_equal(prepared->arguments, prepared->layouts))
        if (auto it = layouts.find(name); it != layouts.end())
          layout = it->second;
      (decode ? models.decodeModule : models.prefillModule) = std::move(*module);
      if (decode)
        job->decode = std::move(*prepared);
      else
        job->prefill = std::move(*prepared);
    }
    // Both steps read the weights of the prefill's file.
    const MindIRModel *mindir = &*models.prefill;
    auto parameters = std::make_shared<StringMap<const MindIRParameter *>>();
    for (const MindIRParameter &p : mindir->parameters())
      (*parameters)[p.name] = &p;
    job->weights = [mindir, parameters](StringRef name) -> Expected<Buffer> {
      if (const MindIRParameter *p = parameters->lookup(name))
        return viewMindIRWeight(*mindir, *p);
      return pipelineError(mindir->path() + ": has no weight '" + name + "'");
    };
    job->position = rank;
    return decodingProgram(std::move(job), rank, *signature, prompt, request, results);
  };
  RankRunOptions options;
  options.threads = request.threads;
  options.timeout = request.timeout;
  // Threads of this process, or this process's own rank under mpirun; the
  // tokens are rank 0's.
  int rank = 0;
  std::string where;
  if (runningUnderMPI()) {
    auto ran = runRankUnderMPI(devices, devices, 0, {}, prepare, options, rank);
    if (!ran)
      return ran.takeError();
    where = formatv("rank 0 of {0} processes under mpirun", devices).str();
  } else {
    auto ran = runRanksInProcess(devices, devices, 0, prepare, options);
    if (!ran)
      return ran.takeError();
    where = formatv("{0} ranks in one process", devices).str();
  }
  GenerateResult result = std::move(*results[rank]);
  result.holdsTokens = rank == 0;
  result.summary = formatv("{0}, from {1} (every file matches the manifest); {2}; rank 0's collectives per decode step: "
                           "{3}",
                           where, request.model, result.summary, decodeCollectives.empty() ? "none" : decodeCollectives)
                       .str();
  return result;
}
} // namespace

Expected<GenerateResult> dinfer::generate(const GenerateRequest &request) {
  if (request.maxNewTokens <= 0)
    return usageError(formatv("--max-new-tokens must be at least 1, not {0}", request.maxNewTokens));
  if ((request.deviceNum > 0) != !request.trainStrategy.empty())
    return usageError("--device-num and --train-strategy go together (tensor-parallel generation)");
  const NpyArray &promptArray = request.inputIds;
  if (promptArray.dtype != DType::Int64 || promptArray.shape.size() != 2)
    return pipelineError(formatv("the prompt must be int64 [batch, tokens] token ids, not {0} of {1}",
                                 dtypeName(promptArray.dtype), formatList(promptArray.shape)));
  int64_t batch = promptArray.shape[0], promptLength = promptArray.shape[1], newTokens = request.maxNewTokens;
  if (batch == 0 || promptLength == 0)
    return usageError("the prompt holds no tokens: " + formatList(promptArray.shape));
  const Buffer prompt(promptArray);

  if (llvm::sys::fs::is_directory(request.model))
    return generateFromExport(request, prompt);
  auto decoder = openDecoder(request.model, "generate takes an ONNX decoder or an export folder made by dinfer "
                                            "export --max-length (MindIR decoders are not supported yet)");
  if (!decoder)
    return decoder.takeError();
  OnnxModel *model = &decoder->model;
  const DecoderSignature *signature = &decoder->signature;

  mlir::DialectRegistry registry;
  registerNNShardingRules(registry);
  mlir::MLIRContext context(registry);
  context.loadDialect<nn::NNDialect, dist::DistDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  DiagnosticCollector diagnostics(context);

  // The decode step's cache holds every token but the last one generated.
  int64_t capacity = promptLength + newTokens - 1;
  std::vector<mlir::OwningOpRef<mlir::ModuleOp>> modules;
  for (auto [step, tokens, past] : {std::make_tuple("prefill", promptLength, int64_t(0)),
                                    std::make_tuple("decode", int64_t(1), capacity)}) {
    if (newTokens == 1 && StringRef(step) == "decode")
      break;
    auto module = importStep(*model, context, diagnostics, signature->stepShapes(batch, tokens, past), step);
    if (!module)
      return module.takeError();
    if (request.deviceNum > 0)
      if (Error err = partitionStep(**module, context, diagnostics, request, *signature, step))
        return std::move(err);
    modules.push_back(std::move(*module));
  }

  StringMap<const onnx::TensorProto *> initializers;
  for (const onnx::TensorProto &tensor : model->proto().graph().initializer())
    initializers[tensor.name()] = &tensor;
  std::function<Expected<Buffer>(StringRef)> weights = [&](StringRef name) -> Expected<Buffer> {
    const onnx::TensorProto *tensor = initializers.lookup(name);
    if (!tensor)
      return modelError(request.model, "the model has no weight '" + name + "'");
    return viewOnnxWeight(*model, *tensor);
  };

  // One device: the loop on this thread.
  if (request.deviceNum == 0) {
    setKernelThreads(request.threads);
    RankJob job;
    for (auto [index, module] : llvm::enumerate(modules)) {
      auto entry = *module->getOps<mlir::func::FuncOp>().begin();
      if (Error err = widenForRun(entry))
        return err;
      auto function = prepareFunction(*module, entry);
      if (!function)
        return function.takeError();
      if (index == 0)
        job.prefill = std::move(*function);
      else
        job.decode = std::move(*function);
    }
    job.weights = weights;
    auto result = decodeLoop(job, *signature, prompt, newTokens, request.eosTokenId, nullptr);
    if (result)
      result->summary.clear();
    return result;
  }

  // Ranks: every rank runs the loop on its own thread with its own functions
  // and cache; rank 0's tokens and timings are the answer.
  int64_t devices = request.deviceNum;
  std::vector<std::vector<mlir::func::FuncOp>> rankFunctions;
  for (auto &module : modules) {
    rankFunctions.push_back(rankFunctionsOf(*module, devices));
    // Here, before the rank threads: they share the module's context.
    for (mlir::func::FuncOp function : rankFunctions.back()) {
      Error err = function ? widenForRun(function) : Error::success();
      if (err)
        return std::move(err);
    }
  }
  std::vector<std::optional<GenerateResult>> results(devices);
  RankPreparer prepare = [&](int64_t rank) -> Expected<RankProgram> {
    auto job = std::make_shared<RankJob>();
    for (auto [index, module] : llvm::enumerate(modules)) {
      mlir::func::FuncOp function = rankFunctions[index][rank];
      if (!function)
        return pipelineError("the partitioned program has no function of rank " + Twine(rank));
      auto prepared = prepareFunction(*module, function);
      if (!prepared)
        return prepared.takeError();
      if (index == 0) {
        job->prefill = std::move(*prepared);
        job->weights = rankWeights(function, rank, weights);
      } else {
        job->decode = std::move(*prepared);
      }
    }
    job->position = rank;
    return decodingProgram(std::move(job), rank, *signature, prompt, request, results);
  };
  RankRunOptions options;
  options.threads = request.threads;
  options.timeout = request.timeout;
  auto ran = runRanksInProcess(devices, devices, 0, prepare, options);
  if (!ran)
    return ran.takeError();
  GenerateResult result = std::move(*results[0]);
  result.summary = formatv("{0} ranks in one process, layouts from {1}; {2}; rank 0's collectives per decode step: "
                           "{3}",
                           devices, request.trainStrategy, result.summary,
                           modules.size() > 1 ? collectivesOf(rankFunctions[1][0]) : "none (no decode step)")
                       .str();
  return result;
}
