//===- PrimitiveTableTest.cpp - nn ops and their MindSpore primitives -----===//
//
// Every nn op names its MindSpore primitive once, in ODS; the MindIR importer
// and exporter find ops by that name. These tests hold the table to that:
// every op has a name of its own, the lookup goes both ways, and every op
// without attributes survives MindIR export and import with no code of its
// own in either.
//
//===----------------------------------------------------------------------===//

#include "dialects/dist/DistDialect.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Translate/ExportMindIR.h"
#include "dinfer/Translate/ImportMindIR.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include "gtest/gtest.h"

#include <set>

namespace {
using namespace mlir;
using namespace dinfer;

class PrimitiveTable : public ::testing::Test {
protected:
  PrimitiveTable() {
    context.loadDialect<nn::NNDialect, dist::DistDialect, func::FuncDialect, arith::ArithDialect>();
  }
  std::vector<RegisteredOperationName> nnOps() {
    std::vector<RegisteredOperationName> ops;
    for (RegisteredOperationName name : context.getRegisteredOperations())
      if (name.getDialectNamespace() == "nn")
        ops.push_back(name);
    return ops;
  }
  MLIRContext context;
};

TEST_F(PrimitiveTable, EveryOpNamesItsOwnPrimitive) {
  std::set<std::string> seen;
  std::vector<RegisteredOperationName> ops = nnOps();
  ASSERT_GE(ops.size(), 41u);
  llvm::StringMap<RegisteredOperationName> byPrimitive = nn::opsByPrimitive(&context);
  for (RegisteredOperationName name : ops) {
    auto *primitive = name.getInterface<nn::MindSporePrimitiveOpInterface>();
    ASSERT_NE(primitive, nullptr) << name.getStringRef().str() << " does not say its primitive";
    std::string text = primitive->getPrimitiveName().str();
    EXPECT_FALSE(text.empty()) << name.getStringRef().str();
    EXPECT_TRUE(seen.insert(text).second) << text << " names two ops";
    ASSERT_TRUE(byPrimitive.count(text)) << text;
    EXPECT_EQ(byPrimitive.find(text)->second, name) << text;
    for (llvm::StringRef alias : primitive->getPrimitiveAliases())
      EXPECT_EQ(byPrimitive.find(alias)->second, name) << alias.str();
  }
}

/// A function `@main` applying `name` to `arity` tensor arguments, or null
/// when no choice of f32 / i1 operands verifies.
OwningOpRef<ModuleOp> oneOpProgram(MLIRContext &context, RegisteredOperationName name, unsigned arity) {
  for (bool boolFirst : {false, true}) {
    OpBuilder builder(&context);
    Location loc = builder.getUnknownLoc();
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module->getBody());
    SmallVector<Type> argTypes;
    for (unsigned i = 0; i < arity; ++i)
      argTypes.push_back(RankedTensorType::get({2, 3}, i == 0 && boolFirst ? Type(builder.getI1Type()) : Type(builder.getF32Type())));
    auto function = func::FuncOp::create(builder, loc, "main", builder.getFunctionType(argTypes, {}));
    Block *body = function.addEntryBlock();
    builder.setInsertionPointToEnd(body);
    SmallVector<Type> results;
    auto *infer = name.getInterface<InferTypeOpInterface>();
    ScopedDiagnosticHandler quiet(&context, [](Diagnostic &) { return success(); });
    if (failed(infer->inferReturnTypes(&context, loc, body->getArguments(), builder.getDictionaryAttr({}), nullptr, {},
                                       results)))
      continue;
    OperationState state(loc, name);
    state.addOperands(body->getArguments());
    state.addTypes(results);
    Operation *op = builder.create(state);
    func::ReturnOp::create(builder, loc, op->getResults());
    function.setFunctionType(builder.getFunctionType(argTypes, op->getResultTypes()));
    if (succeeded(verify(*module)))
      return module;
  }
  return nullptr;
}

TEST_F(PrimitiveTable, AttributeFreeOpsRoundTripThroughMindIRByTheirNameAlone) {
  int tested = 0;
  for (RegisteredOperationName name : nnOps()) {
    std::optional<unsigned> arity = nn::attributeFreeArity(name);
    if (!arity)
      continue;
    OwningOpRef<ModuleOp> module = oneOpProgram(context, name, *arity);
    if (!module) {
      // Integer operands of their own (indices, offsets): tested by their
      // own import and export tests.
      EXPECT_EQ(name.getStringRef(), "nn.embedding_lookup");
      continue;
    }
    auto model = exportMindIR(*module, [](llvm::StringRef, llvm::MutableArrayRef<char>) {
      return llvm::Error::success();
    });
    ASSERT_TRUE(static_cast<bool>(model)) << name.getStringRef().str() << ": " << llvm::toString(model.takeError());
    EXPECT_TRUE(model->loaderProblems().empty()) << name.getStringRef().str();
    OwningOpRef<ModuleOp> back = importMindIR(*model, &context);
    ASSERT_TRUE(back) << name.getStringRef().str();
    int found = 0;
    back->walk([&](Operation *op) { found += op->getName().getStringRef() == name.getStringRef(); });
    EXPECT_EQ(found, 1) << name.getStringRef().str() << " did not come back from MindIR";
    ++tested;
  }
  EXPECT_GE(tested, 15) << "the unary and binary ops and select";
}

TEST_F(PrimitiveTable, StrategyKeysUseThePrimitiveName) {
  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = oneOpProgram(context, *RegisteredOperationName::lookup("nn.add", &context), 2);
  ASSERT_TRUE(module);
  Operation *add = nullptr;
  module->walk([&](nn::AddOp op) { add = op; });
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(nn::primitiveName(add), "Add");
  Operation *ret = add->getNextNode();
  EXPECT_EQ(nn::primitiveName(ret), "") << "not an nn op";
}

} // namespace
