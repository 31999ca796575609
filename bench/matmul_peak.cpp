//===- matmul_peak.cpp - a matmul-heavy layer against the sgemm peak ------===//
//
// Measures, side by side in one run:
//   * the sgemm peak of this machine: the better of OpenBLAS's cblas_sgemm
//     and oneDNN's matmul on a square product, best of several rounds;
//   * a transformer feed-forward block run by dinfer's interpreter
//     (matmul -> add bias -> gelu -> matmul -> add bias, weights handed over
//     by the weight source as a model file's would be), counting only the
//     two products' flops.
// The figure is the block's flop rate as a fraction of the peak (goal:
// >= 0.7). OpenBLAS's thread count follows OPENBLAS_NUM_THREADS, the
// interpreter's and oneDNN's OMP_NUM_THREADS.
//
// Usage: dinfer-bench-matmul-peak [TOKENS] [HIDDEN] [FFN] [ROUNDS]
//
//===----------------------------------------------------------------------===//

#include "dinfer/Runtime/Interpreter.h"
#include "dinfer/Runtime/Kernels.h"

#include "dialects/dist/DistDialect.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>

#include <chrono>
#include <cstdlib>
#include <random>

using namespace dinfer;
using clock_type = std::chrono::steady_clock;

namespace {
template <typename Body>
double bestOf(int rounds, Body body) {
  double best = 1e30;
  for (int round = 0; round < rounds; ++round) {
    auto began = clock_type::now();
    body();
    best = std::min(best, std::chrono::duration<double>(clock_type::now() - began).count());
  }
  return best;
}

Buffer randomBuffer(llvm::ArrayRef<int64_t> shape, unsigned seed) {
  Buffer buffer(DType::Float32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-0.05f, 0.05f);
  float *values = buffer.as<float>();
  for (int64_t i = 0, e = buffer.numElements(); i < e; ++i)
    values[i] = dist(rng);
  return buffer;
}
} // namespace

int main(int argc, char **argv) {
  int64_t tokens = argc > 1 ? std::atoll(argv[1]) : 512;
  int64_t hidden = argc > 2 ? std::atoll(argv[2]) : 1024;
  int64_t ffn = argc > 3 ? std::atoll(argv[3]) : 4096;
  int rounds = argc > 4 ? std::atoi(argv[4]) : 5;
  if (tokens < 1 || hidden < 1 || ffn < 1 || rounds < 1) {
    llvm::errs() << "usage: dinfer-bench-matmul-peak [TOKENS] [HIDDEN] [FFN] [ROUNDS]\n";
    return 2;
  }

  // The peak: a square product big enough for OpenBLAS's best kernel.
  const int square = 2048;
  std::vector<float> a(size_t(square) * square, 0.5f), b(a), c(a.size());
  double peakSeconds = bestOf(rounds, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, square, square, square, 1.0f, a.data(), square, b.data(),
                square, 0.0f, c.data(), square);
  });
  double openblasGflops = 2.0 * square * square * square / peakSeconds / 1e9;
  int64_t squareShape[] = {square, square};
  double dnnlSeconds = bestOf(rounds, [&] {
    llvm::cantFail(kernels::matmul(a.data(), squareShape, false, b.data(), squareShape, false, c.data(), squareShape));
  });
  double dnnlGflops = 2.0 * square * square * square / dnnlSeconds / 1e9;
  double peakGflops = std::max(openblasGflops, dnnlGflops);

  mlir::MLIRContext context;
  context.loadDialect<nn::NNDialect, dist::DistDialect, mlir::func::FuncDialect>();
  std::string source = llvm::formatv(R"mlir(
func.func @main(%x: tensor<{0}x{1}xf32>) -> tensor<{0}x{1}xf32> {
  %w1 = dist.param "w1" : tensor<{1}x{2}xf32>
  %b1 = dist.param "b1" : tensor<{2}xf32>
  %w2 = dist.param "w2" : tensor<{2}x{1}xf32>
  %b2 = dist.param "b2" : tensor<{1}xf32>
  %h = nn.matmul %x, %w1 : tensor<{0}x{1}xf32>, tensor<{1}x{2}xf32>
  %hb = nn.add %h, %b1 : tensor<{0}x{2}xf32>, tensor<{2}xf32>
  %g = nn.gelu %hb : tensor<{0}x{2}xf32>
  %y = nn.matmul %g, %w2 : tensor<{0}x{2}xf32>, tensor<{2}x{1}xf32>
  %yb = nn.add %y, %b2 : tensor<{0}x{1}xf32>, tensor<{1}xf32>
  return %yb : tensor<{0}x{1}xf32>
}
)mlir",
                                     tokens, hidden, ffn)
                           .str();
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module) {
    llvm::errs() << "dinfer-bench-matmul-peak: the block did not parse\n";
    return 1;
  }
  Buffer x = randomBuffer({tokens, hidden}, 1);
  std::map<std::string, Buffer> weights{{"w1", randomBuffer({hidden, ffn}, 2)},
                                        {"b1", randomBuffer({ffn}, 3)},
                                        {"w2", randomBuffer({ffn, hidden}, 4)},
                                        {"b2", randomBuffer({hidden}, 5)}};
  std::string failure;
  double blockSeconds = bestOf(rounds, [&] {
    // Weights are read in place, as those of a loaded model are.
    auto outputs = runProgram(*module, {x}, [&](llvm::StringRef name) -> llvm::Expected<Buffer> {
      const Buffer &w = weights.at(name.str());
      return Buffer::view(w.dtype, w.shape, w.bytes());
    });
    if (!outputs)
      failure = llvm::toString(outputs.takeError());
  });
  if (getenv("DINFER_PROFILE")) {
    OpProfile profile;
    llvm::cantFail(runProgram(
                       *module, {x},
                       [&](llvm::StringRef name) -> llvm::Expected<Buffer> {
                         const Buffer &w = weights.at(name.str());
                         return Buffer::view(w.dtype, w.shape, w.bytes());
                       },
                       &profile)
                       .takeError());
    profile.print(llvm::errs());
  }
  if (!failure.empty()) {
    llvm::errs() << "dinfer-bench-matmul-peak: " << failure << "\n";
    return 1;
  }
  double blockGflops = 2.0 * 2.0 * tokens * hidden * ffn / blockSeconds / 1e9;

  // The same two products straight through cblas_sgemm: what the block would
  // take if everything but the products were free.
  std::vector<float> hiddenOut(size_t(tokens) * ffn), blockOut(size_t(tokens) * hidden);
  double productsSeconds = bestOf(rounds, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, tokens, ffn, hidden, 1.0f, x.as<float>(), hidden,
                weights["w1"].as<float>(), ffn, 0.0f, hiddenOut.data(), ffn);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, tokens, hidden, ffn, 1.0f, hiddenOut.data(), ffn,
                weights["w2"].as<float>(), hidden, 0.0f, blockOut.data(), hidden);
  });

  llvm::outs() << llvm::formatv("sgemm peak ({0}^3, best of {1}): {2:f1} GFLOP/s (OpenBLAS {3:f1}, oneDNN {4:f1})\n",
                                square, rounds, peakGflops, openblasGflops, dnnlGflops);
  llvm::outs() << llvm::formatv("feed-forward block {0}x{1} -> {2} -> {1}: {3:f2} ms, {4:f1} GFLOP/s\n", tokens, hidden,
                                ffn, blockSeconds * 1e3, blockGflops);
  llvm::outs() << llvm::formatv("the two products alone through cblas_sgemm: {0:f2} ms, {1:f1} GFLOP/s\n",
                                productsSeconds * 1e3, 2.0 * 2.0 * tokens * hidden * ffn / productsSeconds / 1e9);
  llvm::outs() << llvm::formatv("block / sgemm peak: {0:f2} (goal >= 0.7)\n", blockGflops / peakGflops);
  return 0;
}
