//===- dinfer-opt.cpp - dinfer's opt-style driver -------------------------===//
//
// Parses, verifies and transforms MLIR holding the nn and dist dialects, with
// the upstream func, arith and tensor dialects alongside.
//
//===----------------------------------------------------------------------===//

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  dinfer::registerDinferPasses();
  dinfer::registerDinferPassPipelines();
  mlir::DialectRegistry registry;
  registry.insert<dinfer::nn::NNDialect, dinfer::dist::DistDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect>();
  dinfer::registerNNShardingRules(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "dinfer optimizer driver: the nn and dist dialects\n", registry));
}
