//===- DifferentialTest.cpp - partitioned programs against one device -----===//
//
// Programs carrying a training strategy go through the sharding passes
// (--dist-infer-predict-layout at several device counts and stage counts,
// --dist-pipeline-split, --dist-propagate, --dist-partition,
// --dist-split-ranks, --dist-verify-spmd); every rank's function then runs on
// its own in-process rank, given the slices of the inputs and weights its
// layouts name (cut here from the full tensors), and the ranks of the last
// stage must give the single-device answer.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Formats/ONNX.h"
#include "dinfer/Layout/Layout.h"
#include "dinfer/Runtime/Communicator.h"
#include "dinfer/Runtime/ConstantEvaluation.h"
#include "dinfer/Pipeline/RankRunner.h"
#include "dinfer/Runtime/Interpreter.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"
#include "dinfer/Translate/ImportONNX.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include "Runtime/RandomBuffers.h"

#include "gtest/gtest.h"
#include <onnx/onnx_pb.h>

#include <map>
#include <random>
#include <thread>

using namespace dinfer;

namespace {

using dinfer::testing::randomBuffer;

class DifferentialTest : public ::testing::Test {
protected:
  DifferentialTest() {
    registerNNShardingRules(registry);
    context.appendDialectRegistry(registry);
    context.loadDialect<nn::NNDialect, dist::DistDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  }

  /// Runs `source` on one device and, partitioned for each of `deviceCounts`,
  /// on that many ranks; every rank's outputs must match.
  void check(const std::string &source, llvm::ArrayRef<int> deviceCounts, double tolerance = 1e-4, int stages = 0) {
    auto global = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
    ASSERT_TRUE(global);
    // Weights seeded by position.
    std::map<std::string, Buffer> weights;
    unsigned seed = 1;
    global->walk([&](dist::ParamOp param) {
      weights[param.getName().str()] = randomBuffer(param.getType().getShape(), seed++);
    });
    check(
        *global, weights, deviceCounts, [](mlir::PassManager &) {}, 0, tolerance, stages);
  }

public:
  mlir::MLIRContext *contextForTests() { return &context; }
  void checkModule(mlir::ModuleOp global, const std::map<std::string, Buffer> &weights,
                   llvm::ArrayRef<int> deviceCounts, llvm::function_ref<void(mlir::PassManager &)> prepare,
                   int64_t trainDevices, double tolerance) {
    check(global, weights, deviceCounts, prepare, trainDevices, tolerance);
  }

protected:
  /// The same for a module in hand: `prepare` adds passes before the
  /// predict layout (a strategy preset, say); `trainDevices` is training's
  /// device count when no parameter carries a layout; `stages` the inference
  /// pipeline stages (0: training's).
  void check(mlir::ModuleOp global, const std::map<std::string, Buffer> &weights, llvm::ArrayRef<int> deviceCounts,
             llvm::function_ref<void(mlir::PassManager &)> prepare, int64_t trainDevices, double tolerance,
             int stages = 0) {
    auto entry = *global.getOps<mlir::func::FuncOp>().begin();
    // Full inputs, seeded by position.
    // Integer inputs are indices: spread over the first 16 rows.
    std::vector<Buffer> inputs;
    for (auto [i, type] : llvm::enumerate(entry.getArgumentTypes())) {
      auto tensor = llvm::cast<mlir::RankedTensorType>(type);
      if (!tensor.getElementType().isInteger(32)) {
        inputs.push_back(randomBuffer(tensor.getShape(), 100 + i));
        continue;
      }
      Buffer indices(DType::Int32, tensor.getShape());
      for (int64_t k = 0; k < indices.numElements(); ++k)
        indices.as<int32_t>()[k] = static_cast<int32_t>((k * 5 + 3) % 16);
      inputs.push_back(std::move(indices));
    }
    auto expected = runProgram(global, inputs,
                               [&](llvm::StringRef name) -> llvm::Expected<Buffer> { return weights.at(name.str()); });
    ASSERT_TRUE(static_cast<bool>(expected)) << llvm::toString(expected.takeError());

    for (int devices : deviceCounts) {
      mlir::OwningOpRef<mlir::ModuleOp> module = global.clone();
      mlir::PassManager passes(&context);
      prepare(passes);
      DistInferPredictLayoutOptions infer;
      infer.deviceNum = devices;
      infer.trainDeviceNum = trainDevices;
      infer.pipelineStages = stages;
      passes.addPass(createDistInferPredictLayout(infer));
      passes.addPass(createDistPipelineSplit());
      passes.addPass(createDistPropagate());
      passes.addPass(createDistPartition());
      passes.addPass(createDistSplitRanks());
      passes.addPass(createDistVerifySPMD());
      ASSERT_TRUE(mlir::succeeded(passes.run(*module))) << devices << " devices";
      auto stagesAttr = (*module)->getAttrOfType<mlir::IntegerAttr>(dist::DistDialect::kPipelineStagesAttrName);
      int stageSize = devices / (stagesAttr ? stagesAttr.getInt() : 1);

      RankRunOptions options;
      options.threads = static_cast<unsigned>(devices); // one kernel thread a rank
      options.timeout = std::chrono::seconds(120);
      EveryRankResult every = runEveryRankInProcess(
          devices, stageSize,
          splitRanksPreparer(*module, inputs,
                             [&](llvm::StringRef name) -> llvm::Expected<Buffer> { return weights.at(name.str()); }),
          options);
      std::vector<std::string> errors(devices);
      std::vector<std::vector<Buffer>> outputs(devices);
      for (int rank = 0; rank < devices; ++rank) {
        errors[rank] = every.ranks[rank].error;
        outputs[rank] = std::move(every.ranks[rank].outputs);
      }
      for (int rank = 0; rank < devices; ++rank)
        ASSERT_EQ(errors[rank], "") << devices << " devices, rank " << rank;
      // The last stage holds the outputs.
      for (int rank = devices - stageSize; rank < devices; ++rank) {
        ASSERT_EQ(outputs[rank].size(), expected->size());
        for (size_t o = 0; o < expected->size(); ++o) {
          const Buffer &want = (*expected)[o], &got = outputs[rank][o];
          ASSERT_EQ(got.shape, want.shape);
          for (int64_t i = 0; i < want.numElements(); ++i)
            ASSERT_NEAR(got.as<float>()[i], want.as<float>()[i], tolerance * (1 + std::abs(want.as<float>()[i])))
                << devices << " devices, rank " << rank << ", output " << o << ", element " << i;
        }
      }
    }
  }

  mlir::DialectRegistry registry;
  mlir::MLIRContext context;
};

// The Megatron MLP trained on 8 devices (dp 2 x tp 4), run at the training
// count and at 4, 2 and 6 devices (tp shrunk, batch re-split, replicas).
TEST_F(DifferentialTest, MegatronMLP) {
  check(R"(
module attributes {dist.device_num = 8 : i64} {
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w1 = dist.param "w1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>} : tensor<16x32xf32>
    %b1 = dist.param "b1" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0]>} : tensor<32xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, -1]>} : tensor<32x16xf32>
    %b2 = dist.param "b2" : tensor<16xf32>
    %h = nn.matmul %x, %w1 {dist.strategy = #dist.strategy<[2, 1], [1, 4]>} : tensor<8x16xf32>, tensor<16x32xf32>
    %hb = nn.add %h, %b1 {dist.strategy = #dist.strategy<[2, 4], [4]>} : tensor<8x32xf32>, tensor<32xf32>
    %r = nn.gelu %hb : tensor<8x32xf32>
    %y = nn.matmul %r, %w2 {dist.strategy = #dist.strategy<[2, 4], [4, 1]>} : tensor<8x32xf32>, tensor<32x16xf32>
    %z = nn.add %y, %b2 {dist.strategy = #dist.strategy<[2, 1], [1]>} : tensor<8x16xf32>, tensor<16xf32>
    return %z : tensor<8x16xf32>
  }
})",
        {8, 4, 2, 6, 1});
}

// Attention with heads split two ways: a column-parallel Q projection,
// reshaped into heads, per-head products and softmax, then a row-parallel
// output projection.
TEST_F(DifferentialTest, AttentionHeads) {
  check(R"(
module attributes {dist.device_num = 2 : i64} {
  func.func @main(%x: tensor<16x32xf32>) -> tensor<16x32xf32> {
    %wq = dist.param "wq" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<32x32xf32>
    %wo = dist.param "wo" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>} : tensor<32x32xf32>
    %q = nn.matmul %x, %wq {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<16x32xf32>, tensor<32x32xf32>
    %h = nn.reshape %q {shape = array<i64: 16, 4, 8>} : tensor<16x32xf32>
    %t = nn.transpose %h {perm = array<i64: 1, 0, 2>} : tensor<16x4x8xf32>
    %s = nn.batch_matmul %t, %t {transpose_b = true} : tensor<4x16x8xf32>, tensor<4x16x8xf32>
    %p = nn.softmax %s : tensor<4x16x16xf32>
    %a = nn.batch_matmul %p, %t : tensor<4x16x16xf32>, tensor<4x16x8xf32>
    %u = nn.transpose %a {perm = array<i64: 1, 0, 2>} : tensor<4x16x8xf32>
    %m = nn.reshape %u {shape = array<i64: 16, 32>} : tensor<16x4x8xf32>
    %o = nn.matmul %m, %wo {dist.strategy = #dist.strategy<[1, 2], [2, 1]>} : tensor<16x32xf32>, tensor<32x32xf32>
    return %o : tensor<16x32xf32>
  }
})",
        {2, 1});
}

// Layouts upstream's partitioner gets wrong: a 3-D device matrix with two
// axes on one dimension, resharded to the transposed placement; an axis swap
// ([[0],[1]] to [[1],[0]]) on a 2-D matrix; a non-splat constant split to
// match its user.
const char *kLayoutEdgeCases = R"(
module attributes {dist.device_num = 8 : i64} {
  func.func @main(%x: tensor<16x8xf32>) -> tensor<16x8xf32> {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 2, 2], tensor_map = [[2, 1], 0]>} : tensor<16x8xf32>
    %v = dist.param "v" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [0, 1]>} : tensor<16x8xf32>
    %s = dist.annotate %w layout <dev_matrix = [2, 2, 2], tensor_map = [0, [2, 1]]> : tensor<16x8xf32>
    %t = dist.annotate %v layout <dev_matrix = [2, 4], tensor_map = [1, 0]> : tensor<16x8xf32>
    %c = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]> : tensor<1x8xf32>
    %a = nn.add %s, %c : tensor<16x8xf32>, tensor<1x8xf32>
    %b = nn.mul %a, %x : tensor<16x8xf32>, tensor<16x8xf32>
    %o = nn.add %b, %t : tensor<16x8xf32>, tensor<16x8xf32>
    return %o : tensor<16x8xf32>
  }
})";

TEST_F(DifferentialTest, LayoutEdgeCases) { check(kLayoutEdgeCases, {8}); }

// Sequence parallelism's pattern: a row-parallel product's pending sum is
// wanted split along the rows over the same axis, one reduce_scatter
// (dimension 0, and dimension 1 restacked for MindSpore's dimension 0).
TEST_F(DifferentialTest, PendingSumsSplitBecomeReduceScatter) {
  check(R"(
module attributes {dist.device_num = 4 : i64} {
  func.func @main(%x: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [4], tensor_map = [0, -1]>} : tensor<16x16xf32>
    %xs = dist.annotate %x layout <dev_matrix = [4], tensor_map = [-1, 0]> : tensor<8x16xf32>
    %p = nn.matmul %xs, %w {dist.strategy = #dist.strategy<[1, 4], [4, 1]>} : tensor<8x16xf32>, tensor<16x16xf32>
    %rows = dist.annotate %p layout <dev_matrix = [4], tensor_map = [0, -1]> : tensor<8x16xf32>
    %a = nn.relu %rows : tensor<8x16xf32>
    %cols = dist.annotate %p layout <dev_matrix = [4], tensor_map = [-1, 0]> : tensor<8x16xf32>
    %b = nn.relu %cols : tensor<8x16xf32>
    return %a, %b : tensor<8x16xf32>, tensor<8x16xf32>
  }
})",
        {4});
}

// Device axes moving from one dimension to another become one all_to_all:
// one axis, and two axes together.
TEST_F(DifferentialTest, AxisMovesBecomeAllToAll) {
  check(R"(
module attributes {dist.device_num = 4 : i64} {
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [1, -1]>} : tensor<8x16xf32>
    %s = dist.annotate %w layout <dev_matrix = [2, 2], tensor_map = [-1, 1]> : tensor<8x16xf32>
    %v = dist.param "v" {layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [[1, 0], -1]>} : tensor<8x16xf32>
    %t = dist.annotate %v layout <dev_matrix = [2, 2], tensor_map = [-1, [1, 0]]> : tensor<8x16xf32>
    %a = nn.add %s, %t : tensor<8x16xf32>, tensor<8x16xf32>
    %b = nn.add %a, %x : tensor<8x16xf32>, tensor<8x16xf32>
    return %b : tensor<8x16xf32>
  }
})",
        {4});
}

// A vocabulary-parallel embedding (rows split 2 ways, replicated 2 ways)
// feeding a column-parallel product, trained on 4 devices, run on 4, 2, 8
// and 1.
TEST_F(DifferentialTest, VocabularyParallelEmbedding) {
  check(R"(
module attributes {dist.device_num = 4 : i64} {
  func.func @main(%ids: tensor<6xi32>) -> tensor<6x8xf32> {
    %table = dist.param "table" {layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [0, -1]>} : tensor<16x8xf32>
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2, 2], tensor_map = [-1, 0]>} : tensor<8x8xf32>
    %e = nn.gather %table, %ids {dist.strategy = #dist.strategy<[2, 1], [1]>} : tensor<16x8xf32>, tensor<6xi32>
    %h = nn.matmul %e, %w {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<6x8xf32>, tensor<8x8xf32>
    return %h : tensor<6x8xf32>
  }
})",
        {4, 2, 8, 1});
}

// A split with two results on a column-parallel product, and a reshape that
// would split its output on a minor factor (gathered first), at 2 and 4.
TEST_F(DifferentialTest, SplitAndMinorFactorReshape) {
  check(R"(
module attributes {dist.device_num = 2 : i64} {
  func.func @main(%x: tensor<4x16xf32>) -> tensor<4x8xf32> {
    %w = dist.param "w" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<16x16xf32>
    %h = nn.matmul %x, %w {dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<4x16xf32>, tensor<16x16xf32>
    %a:2 = nn.split %h {axis = 0 : i64, output_num = 2 : i64} : tensor<4x16xf32>
    %s = nn.add %a#0, %a#1 : tensor<2x16xf32>, tensor<2x16xf32>
    %r = nn.reshape %s {shape = array<i64: 4, 8>} : tensor<2x16xf32>
    return %r : tensor<4x8xf32>
  }
})",
        {2, 4});
}

// Every reshape of a 24-element matrix into another, its input split along
// either dimension over 2, 3 or 4 devices: the result must be the
// single-device one whether the split survives the reshape or not.
TEST_F(DifferentialTest, ReshapeSplitsExhaustive) {
  std::vector<std::pair<int, int>> shapes;
  for (int rows = 1; rows <= 24; ++rows)
    if (24 % rows == 0)
      shapes.push_back({rows, 24 / rows});
  int runs = 0;
  for (auto [p, q] : shapes)
    for (auto [r, c] : shapes)
      for (int devices : {2, 3, 4})
        for (int dim : {0, 1}) {
          if ((dim == 0 ? p : q) % devices != 0)
            continue;
          std::string map = dim == 0 ? "[0, -1]" : "[-1, 0]";
          std::string source = llvm::formatv(R"(
module attributes {{dist.device_num = {0} : i64} {{
  func.func @main(%x: tensor<{1}x{2}xf32> {{dist.layout = #dist.layout<dev_matrix = [{0}], tensor_map = {5}>})
      -> tensor<{3}x{4}xf32> {{
    %r = nn.reshape %x {{shape = array<i64: {3}, {4}>} : tensor<{1}x{2}xf32>
    %y = nn.relu %r : tensor<{3}x{4}xf32>
    return %y : tensor<{3}x{4}xf32>
  }
})",
                                             devices, p, q, r, c, map);
          SCOPED_TRACE(source);
          auto module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
          ASSERT_TRUE(module);
          check(
              *module, {}, {devices}, [](mlir::PassManager &) {}, devices, 1e-6);
          ++runs;
        }
  EXPECT_EQ(runs, 224);
}

// A two-stage pipeline trained on 4 devices (2 stages of tp 2): Megatron
// pairs in each stage and a weight tied between the first and the last op
// (read by both stages). Run with the training stages on 4 and 2 devices,
// restaged into 3 stages on 6 and 3 devices, in one stage on 2, and on 1.
TEST_F(DifferentialTest, TwoStagePipeline) {
  const char *source = R"(
module attributes {dist.device_num = 4 : i64, dist.pipeline_stages = 2 : i64} {
  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    %tied = dist.param "tied" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, -1]>} : tensor<16x16xf32>
    %w1 = dist.param "w1" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0]>} : tensor<16x32xf32>
    %w2 = dist.param "w2" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1]>} : tensor<32x16xf32>
    %w3 = dist.param "w3" {layout = #dist.layout<dev_matrix = [2], tensor_map = [-1, 0], stage = 1>} : tensor<16x32xf32>
    %w4 = dist.param "w4" {layout = #dist.layout<dev_matrix = [2], tensor_map = [0, -1], stage = 1>} : tensor<32x16xf32>
    %e = nn.matmul %x, %tied {dist.stage = 0 : i64} : tensor<8x16xf32>, tensor<16x16xf32>
    %h1 = nn.matmul %e, %w1 {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<8x16xf32>, tensor<16x32xf32>
    %g1 = nn.gelu %h1 : tensor<8x32xf32>
    %h2 = nn.matmul %g1, %w2 {dist.stage = 0 : i64, dist.strategy = #dist.strategy<[1, 2], [2, 1]>} : tensor<8x32xf32>, tensor<32x16xf32>
    %r2 = nn.add %h2, %e : tensor<8x16xf32>, tensor<8x16xf32>
    %h3 = nn.matmul %r2, %w3 {dist.stage = 1 : i64, dist.strategy = #dist.strategy<[1, 1], [1, 2]>} : tensor<8x16xf32>, tensor<16x32xf32>
    %g3 = nn.gelu %h3 : tensor<8x32xf32>
    %h4 = nn.matmul %g3, %w4 {dist.stage = 1 : i64, dist.strategy = #dist.strategy<[1, 2], [2, 1]>} : tensor<8x32xf32>, tensor<32x16xf32>
    %r4 = nn.add %h4, %e : tensor<8x16xf32>, tensor<8x16xf32>
    %o = nn.matmul %r4, %tied {transpose_b = true, dist.stage = 1 : i64} : tensor<8x16xf32>, tensor<16x16xf32>
    return %o : tensor<8x16xf32>
  }
})";
  check(source, {4, 2}, 1e-4, /*stages=*/2);
  check(source, {6, 3}, 1e-4, /*stages=*/3);
  check(source, {2, 1}, 1e-4, /*stages=*/1);
}

/// A torch-exported model of test/models with its own weights, given the
/// Megatron preset for `trainDevices` (tp, dp), run on `deviceCounts`.
void checkTorchModel(DifferentialTest &test, const std::string &name, int64_t tp, int64_t dp,
                     llvm::ArrayRef<int> deviceCounts) {
  std::string path = std::string(DINFER_SOURCE_DIR) + "/test/models/" + name + "/model.onnx";
  auto model = OnnxModel::open(path);
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  OnnxImportOptions options;
  options.evaluateConstant = evaluateConstantArray; // shapes computed from constants, as the tools do
  auto module = importOnnx(*model, test.contextForTests(), options);
  ASSERT_TRUE(module);
  std::map<std::string, Buffer> weights;
  for (const onnx::TensorProto &tensor : model->proto().graph().initializer()) {
    auto bytes = model->tensorBytes(tensor);
    ASSERT_TRUE(static_cast<bool>(bytes));
    NpyArray array;
    array.dtype = DType::Float32;
    array.shape.assign(tensor.dims().begin(), tensor.dims().end());
    array.data = std::move(*bytes);
    weights[tensor.name()] = Buffer(std::move(array));
  }
  test.checkModule(
      *module, weights, deviceCounts,
      [&](mlir::PassManager &passes) {
        passes.addNestedPass<mlir::func::FuncOp>(createNNFuseGeLU());
        DistAuthorStrategyOptions megatron;
        megatron.tp = tp;
        megatron.dp = dp;
        passes.addPass(createDistAuthorStrategy(megatron));
      },
      /*trainDevices=*/tp * dp, 1e-4);
}

// The GPT block (test/models/gpt_block): Megatron on 4 training devices (tp 2,
// dp 2), run on 4 and 2.
TEST_F(DifferentialTest, TorchGPTBlockMegatron) { checkTorchModel(*this, "gpt_block", 2, 2, {4, 2}); }

// The torch MLP with tp 2 on 4 devices; the CNN data parallel over its batch.
TEST_F(DifferentialTest, TorchMLPAndCNN) {
  checkTorchModel(*this, "mlp", 2, 2, {4, 2, 1});
  checkTorchModel(*this, "cnn", 1, 2, {2, 1});
}

// torchvision's ViT, small (sequence-first attention, spelled-out layer
// norms): tp 2 x dp 2, run on 4, 2 and 1.
TEST_F(DifferentialTest, TorchViTMegatron) { checkTorchModel(*this, "vit_tiny", 2, 2, {4, 2, 1}); }

} // namespace
