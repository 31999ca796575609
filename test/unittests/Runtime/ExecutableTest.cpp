//===- ExecutableTest.cpp - what an Executable keeps from run to run ------===//
//
// A float16 weight widened by a cast (--nn-compute-in-float32) is converted
// on the first run and kept; where only products holding packed copies read
// it, its pages go back. Later runs must give the first run's answer, which
// must be the float32 program's.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Layout/DType.h"
#include "dinfer/Runtime/Interpreter.h"

#include "dialects/dist/DistDialect.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "Runtime/RandomBuffers.h"

#include "gtest/gtest.h"

#include <map>
#include <string>

using namespace dinfer;

namespace {

/// The program with weights of `weightType`, each cast to float32 when it is
/// not float32 already.
std::string program(const std::string &weightType) {
  auto weight = [&](const std::string &name, const std::string &shape) {
    if (weightType == "f32")
      return "  %" + name + " = dist.param \"" + name + "\" : tensor<" + shape + "xf32>\n";
    return "  %" + name + "0 = dist.param \"" + name + "\" : tensor<" + shape + "x" + weightType + ">\n  %" + name +
           " = nn.cast %" + name + "0 to f32 : tensor<" + shape + "x" + weightType + ">\n";
  };
  // "q" is a weight read as a product's left operand (learned queries,
  // several pages of them):
  // read on every run, never from a packed copy.
  return "func.func @main(%x: tensor<8x64xf32>, %img: tensor<1x16x10x10xf32>) -> "
         "(tensor<8x32xf32>, tensor<1x32x10x10xf32>, tensor<32xf32>, tensor<256x32xf32>) {\n" +
         weight("w", "64x32") + weight("f", "32x16x3x3") + weight("b", "32") + weight("q", "256x64") +
         "  %y = nn.matmul %x, %w : tensor<8x64xf32>, tensor<64x32xf32>\n"
         "  %z = nn.matmul %q, %w : tensor<256x64xf32>, tensor<64x32xf32>\n"
         "  %c = nn.conv2d %img, %f {pad = array<i64: 1, 1, 1, 1>} : tensor<1x16x10x10xf32>, tensor<32x16x3x3xf32>\n"
         "  %r = nn.sigmoid %b : tensor<32xf32>\n"
         "  return %y, %c, %r, %z : tensor<8x32xf32>, tensor<1x32x10x10xf32>, tensor<32xf32>, tensor<256x32xf32>\n"
         "}\n";
}

TEST(ExecutableTest, WidenedFloat16WeightsGiveTheSameAnswerInEveryRun) {
  mlir::MLIRContext context;
  context.loadDialect<nn::NNDialect, dist::DistDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  // Weights exactly representable in float16, so both programs compute on
  // the same values.
  std::map<std::string, Buffer> halves, floats;
  unsigned seed = 1;
  for (auto [name, shape] : std::map<std::string, std::vector<int64_t>>{
           {"w", {64, 32}}, {"f", {32, 16, 3, 3}}, {"b", {32}}, {"q", {256, 64}}}) {
    Buffer values = dinfer::testing::randomBuffer(shape, seed++);
    Buffer half(DType::Float16, shape);
    convertFloats(DType::Float32, DType::Float16, values.bytes(), half.data.data(), values.numElements());
    convertFloats(DType::Float16, DType::Float32, half.bytes(), values.data.data(), values.numElements());
    halves[name] = std::move(half);
    floats[name] = std::move(values);
  }
  auto viewOf = [](std::map<std::string, Buffer> &weights) {
    return [&weights](llvm::StringRef name) -> llvm::Expected<Buffer> {
      const Buffer &w = weights.at(name.str());
      return Buffer::view(w.dtype, w.shape, w.bytes());
    };
  };
  std::vector<Buffer> inputs{dinfer::testing::randomBuffer({8, 64}, 11), dinfer::testing::randomBuffer({1, 16, 10, 10}, 12)};

  auto reference = mlir::parseSourceString<mlir::ModuleOp>(program("f32"), &context);
  auto widened = mlir::parseSourceString<mlir::ModuleOp>(program("f16"), &context);
  ASSERT_TRUE(reference && widened);
  auto expected = runProgram(*reference, inputs, viewOf(floats));
  ASSERT_TRUE(static_cast<bool>(expected)) << llvm::toString(expected.takeError());

  auto executable = Executable::prepare(*widened);
  ASSERT_TRUE(static_cast<bool>(executable)) << llvm::toString(executable.takeError());
  for (int run = 0; run < 3; ++run) {
    auto outputs = (*executable)->run(inputs, viewOf(halves));
    ASSERT_TRUE(static_cast<bool>(outputs)) << llvm::toString(outputs.takeError());
    ASSERT_EQ(outputs->size(), 4u);
    for (size_t o = 0; o < outputs->size(); ++o) {
      const Buffer &got = (*outputs)[o], &want = (*expected)[o];
      ASSERT_EQ(got.shape, want.shape);
      for (int64_t i = 0; i < want.numElements(); ++i)
        ASSERT_NEAR(got.as<float>()[i], want.as<float>()[i], 1e-4f * (1 + std::abs(want.as<float>()[i])))
            << "run " << run << ", output " << o << ", element " << i;
    }
  }
  EXPECT_EQ((*executable)->packedProducts(), 3u);
}

TEST(ExecutableTest, RunsAfterTheFirstReuseItsStorage) {
  // Values of many sizes, channels-last ones read row-major, outputs handed
  // back: every run gives the first run's answer, and after the first few
  // the pool serves every value (its greedy choice, storage that died last,
  // must not leave a later value short run after run).
  mlir::MLIRContext context;
  context.loadDialect<nn::NNDialect, dist::DistDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  const char *text = R"(
func.func @main(%x: tensor<1x8x12x12xf32>) -> (tensor<1x8x6x6xf32>, tensor<1x24x12x12xf32>) {
  %w1 = dist.param "w1" : tensor<24x8x1x1xf32>
  %w2 = dist.param "w2" : tensor<24x1x3x3xf32>
  %w3 = dist.param "w3" : tensor<8x24x1x1xf32>
  %w4 = dist.param "w4" : tensor<8x8x3x3xf32>
  %e = nn.conv2d %x, %w1 : tensor<1x8x12x12xf32>, tensor<24x8x1x1xf32>
  %r = nn.relu %e : tensor<1x24x12x12xf32>
  %d = nn.conv2d %r, %w2 {group = 24 : i64, pad = array<i64: 1, 1, 1, 1>} : tensor<1x24x12x12xf32>, tensor<24x1x3x3xf32>
  %s = nn.sigmoid %d : tensor<1x24x12x12xf32>
  %p = nn.conv2d %s, %w3 : tensor<1x24x12x12xf32>, tensor<8x24x1x1xf32>
  %a = nn.add %p, %x : tensor<1x8x12x12xf32>, tensor<1x8x12x12xf32>
  %q = nn.conv2d %a, %w4 {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>} : tensor<1x8x12x12xf32>, tensor<8x8x3x3xf32>
  %t = nn.tanh %q : tensor<1x8x6x6xf32>
  return %t, %s : tensor<1x8x6x6xf32>, tensor<1x24x12x12xf32>
}
)";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  ASSERT_TRUE(module);
  std::map<std::string, Buffer> weights;
  unsigned seed = 1;
  for (auto [name, shape] : std::map<std::string, std::vector<int64_t>>{
           {"w1", {24, 8, 1, 1}}, {"w2", {24, 1, 3, 3}}, {"w3", {8, 24, 1, 1}}, {"w4", {8, 8, 3, 3}}})
    weights[name] = dinfer::testing::randomBuffer(shape, seed++);
  auto source = [&weights](llvm::StringRef name) -> llvm::Expected<Buffer> {
    const Buffer &w = weights.at(name.str());
    return Buffer::view(w.dtype, w.shape, w.bytes());
  };
  std::vector<Buffer> inputs{dinfer::testing::randomBuffer({1, 8, 12, 12}, 9)};
  auto executable = Executable::prepare(*module);
  ASSERT_TRUE(static_cast<bool>(executable)) << llvm::toString(executable.takeError());
  std::vector<std::vector<float>> first;
  size_t laterAfterThirdRun = 0;
  for (int run = 0; run < 8; ++run) {
    auto outputs = (*executable)->run(inputs, source);
    ASSERT_TRUE(static_cast<bool>(outputs)) << llvm::toString(outputs.takeError());
    for (size_t o = 0; o < outputs->size(); ++o) {
      const Buffer &got = (*outputs)[o];
      std::vector<float> values(got.as<float>(), got.as<float>() + got.numElements());
      if (run == 0)
        first.push_back(values);
      else
        ASSERT_EQ(values, first[o]) << "run " << run << ", output " << o;
    }
    (*executable)->recycle(std::move(*outputs));
    if (run == 2)
      laterAfterThirdRun = (*executable)->memoryUse().laterActivations;
  }
  EXPECT_GT((*executable)->memoryUse().activations, 0u);
  EXPECT_EQ((*executable)->memoryUse().laterActivations, laterAfterThirdRun);
}

} // namespace
