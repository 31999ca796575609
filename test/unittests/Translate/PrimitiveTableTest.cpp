//===- PrimitiveTableTest.cpp - nn ops and their MindSpore primitives -----===//
//
// Every nn op names its MindSpore primitive once, in ODS; the MindIR importer
// and exporter find ops by that name and read its MindIR table. These tests
// hold the table to that: every op has a name of its own, the lookup goes
// both ways, and every op that builds from tensor operands alone survives
// MindIR export and import with no code of its own in either.
//
//===----------------------------------------------------------------------===//

#include "dialects/dist/DistDialect.h"
#include "dialects/nn/NNDialect.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Translate/ExportMindIR.h"
#include "dinfer/Translate/ImportMindIR.h"

#include "mind_ir.pb.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

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

TEST_F(PrimitiveTable, OpsRoundTripThroughMindIRByTheirTableAlone) {
  int tested = 0;
  for (RegisteredOperationName name : nnOps()) {
    std::optional<unsigned> arity = nn::fixedOperandCount(name);
    if (!arity)
      continue;
    // Ops that need an attribute (a shape, a type) or integer operands of
    // their own (indices, offsets) are tested by their own import and
    // export tests.
    OwningOpRef<ModuleOp> module = oneOpProgram(context, name, *arity);
    if (!module)
      continue;
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
  EXPECT_GE(tested, 24) << "the unary and binary ops, select, products, norms, reductions, softmax, squeeze";
}

/// The MindIR of a program written in MLIR, with no weights.
MindIRModel exportText(MLIRContext &context, llvm::StringRef text) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
  EXPECT_TRUE(module);
  auto model = exportMindIR(*module, [](llvm::StringRef, llvm::MutableArrayRef<char>) {
    return llvm::Error::success();
  });
  EXPECT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  return std::move(*model);
}

/// The primitive attribute `name` of the model's primitive `type`.
mind_ir::AttributeProto *primitiveAttribute(MindIRModel &model, llvm::StringRef type, llvm::StringRef name) {
  for (mind_ir::PrimitiveProto &primitive : *model.proto().mutable_primitives())
    if (primitive.op_type() == type)
      for (mind_ir::AttributeProto &attribute : *primitive.mutable_attribute())
        if (attribute.name() == name)
          return &attribute;
  return nullptr;
}

/// The messages import reports, joined, and whether it succeeded.
std::pair<bool, std::string> importReporting(MLIRContext &context, const MindIRModel &model) {
  std::string messages;
  ScopedDiagnosticHandler collect(&context, [&](Diagnostic &diag) {
    messages += diag.str() + "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module = importMindIR(model, &context);
  return {static_cast<bool>(module), messages};
}

constexpr llvm::StringLiteral kBatchNorm = R"mlir(
func.func @main(%x: tensor<1x2x3x3xf32>, %c: tensor<2xf32>) -> tensor<1x2x3x3xf32> {
  %y = nn.batch_norm %x, %c, %c, %c, %c : tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  return %y : tensor<1x2x3x3xf32>
})mlir";

TEST_F(PrimitiveTable, ImportRefusesAFixedAttributeWithAnotherValue) {
  MindIRModel model = exportText(context, kBatchNorm);
  mind_ir::AttributeProto *training = primitiveAttribute(model, "BatchNorm", "is_training");
  ASSERT_NE(training, nullptr) << "BatchNorm's table writes is_training";
  EXPECT_EQ(training->i(), 0);
  EXPECT_TRUE(importReporting(context, model).first);

  training->set_i(1);
  auto [imported, messages] = importReporting(context, model);
  EXPECT_FALSE(imported);
  EXPECT_NE(messages.find("BatchNorm with is_training = true is not supported (dinfer runs is_training = false)"),
            std::string::npos)
      << messages;
}

TEST_F(PrimitiveTable, ImportGivesAnOmittedAttributeMindSporesDefault) {
  MindIRModel model = exportText(context, R"mlir(
func.func @main(%x: tensor<1x2x6x6xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %y = nn.conv2d %x, %w {pad_mode = "valid"} : tensor<1x2x6x6xf32>, tensor<4x2x3x3xf32>
  return %y : tensor<1x4x4x4xf32>
})mlir");
  // MindSpore's Conv2D pads 'valid' unless told otherwise; nn.conv2d's own
  // default is 'pad'.
  for (mind_ir::PrimitiveProto &primitive : *model.proto().mutable_primitives()) {
    auto *attributes = primitive.mutable_attribute();
    for (int i = attributes->size() - 1; i >= 0; --i)
      if (attributes->Get(i).name() == "pad_mode")
        attributes->DeleteSubrange(i, 1);
  }
  OwningOpRef<ModuleOp> module = importMindIR(model, &context);
  ASSERT_TRUE(module);
  int found = 0;
  module->walk([&](nn::Conv2DOp conv) {
    EXPECT_EQ(conv.getPadMode(), "valid");
    ++found;
  });
  EXPECT_EQ(found, 1);
}

TEST_F(PrimitiveTable, ImportRefusesARequiredAttributeWithoutAValue) {
  MindIRModel model = exportText(context, R"mlir(
func.func @main(%x: tensor<4x6xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %y:2 = nn.split %x {axis = 1 : i64, output_num = 2 : i64} : tensor<4x6xf32>
  return %y#0, %y#1 : tensor<4x3xf32>, tensor<4x3xf32>
})mlir");
  mind_ir::AttributeProto *count = primitiveAttribute(model, "Split", "output_num");
  ASSERT_NE(count, nullptr);
  count->set_i(4);
  auto [imported, messages] = importReporting(context, model);
  EXPECT_FALSE(imported) << "6 columns do not split in 4";
  EXPECT_NE(messages.find("nn.split"), std::string::npos) << messages;
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
