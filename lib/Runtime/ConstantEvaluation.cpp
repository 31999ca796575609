//===- ConstantEvaluation.cpp - computing constant values with the kernels ===//

#include "dinfer/Runtime/ConstantEvaluation.h"

#include "InterpreterImpl.h"
#include "dinfer/Runtime/Interpreter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace dinfer;

namespace {
/// The ops `value` needs, producers first; failure when a leaf is not a
/// constant or an op has no kernel or holds regions.
FailureOr<SmallVector<Operation *>> constantSlice(Value value) {
  llvm::SetVector<Operation *> ordered;
  llvm::DenseSet<Operation *> visiting;
  // Post-order walk without recursion: programs can be long chains.
  SmallVector<std::pair<Operation *, unsigned>> stack;
  Operation *root = value.getDefiningOp();
  if (!root)
    return failure();
  stack.push_back({root, 0});
  visiting.insert(root);
  while (!stack.empty()) {
    auto &[op, next] = stack.back();
    if (next == 0) {
      bool leafConstant = llvm::isa<arith::ConstantOp>(op);
      if (!leafConstant && (op->getNumRegions() != 0 || !interp::selectKernel(op) ||
                            op->getDialect()->getNamespace() != "nn"))
        return failure();
    }
    if (next < op->getNumOperands()) {
      Value operand = op->getOperand(next++);
      Operation *producer = operand.getDefiningOp();
      if (!producer)
        return failure();
      if (ordered.contains(producer))
        continue;
      if (!visiting.insert(producer).second)
        return failure(); // a cycle: not SSA dominance order
      stack.push_back({producer, 0});
      continue;
    }
    ordered.insert(op);
    stack.pop_back();
  }
  return SmallVector<Operation *>(ordered.begin(), ordered.end());
}
} // namespace

bool dinfer::isConstantComputable(Value value) { return succeeded(constantSlice(value)); }

llvm::Expected<std::optional<Buffer>> dinfer::evaluateConstant(Value value, int64_t maxElements) {
  auto type = llvm::dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() > maxElements || !runtimeDType(type.getElementType()))
    return std::nullopt;
  auto slice = constantSlice(value);
  if (failed(slice))
    return std::nullopt;
  // The slice, copied into a function of its own: @main() -> value.
  MLIRContext *context = value.getContext();
  OpBuilder builder(context);
  Location loc = value.getLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(builder, loc, "main", builder.getFunctionType({}, {type}));
  builder.setInsertionPointToStart(function.addEntryBlock());
  IRMapping mapping;
  for (Operation *op : *slice)
    builder.clone(*op, mapping);
  func::ReturnOp::create(builder, loc, mapping.lookup(value));
  auto noWeights = [](llvm::StringRef name) -> llvm::Expected<Buffer> {
    return llvm::createStringError("a constant cannot read parameter '" + name.str() + "'");
  };
  auto results = runProgram(*module, {}, noWeights);
  if (!results)
    return results.takeError();
  Buffer result = std::move(results->front());
  result.materialize();
  return std::optional<Buffer>(std::move(result));
}

llvm::Expected<std::optional<NpyArray>> dinfer::evaluateConstantArray(Value value) {
  auto data = evaluateConstant(value);
  if (!data)
    return data.takeError();
  if (!*data)
    return std::nullopt;
  return std::optional<NpyArray>(static_cast<NpyArray &&>(std::move(**data)));
}

DenseElementsAttr dinfer::toElementsAttr(const Buffer &buffer, RankedTensorType type) {
  if (type.getElementType().isInteger(1)) {
    SmallVector<bool> bits;
    bits.reserve(buffer.numElements());
    for (int64_t i = 0, n = buffer.numElements(); i < n; ++i)
      bits.push_back(buffer.get(i) != 0);
    return DenseElementsAttr::get(type, bits);
  }
  return DenseElementsAttr::getFromRawBuffer(type, llvm::ArrayRef<char>(buffer.bytes(), buffer.byteSize()));
}
