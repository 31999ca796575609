//===- TestShardingRules.cpp - report sharding rules as remarks -----------===//

#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/ShardingRules.h"

#include "dialects/dist/DistDialect.h"

namespace dinfer {
#define GEN_PASS_DEF_TESTDISTSHARDINGRULES
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

struct TestDistShardingRulesPass : dinfer::impl::TestDistShardingRulesBase<TestDistShardingRulesPass> {
  void runOnOperation() override {
    getOperation().walk([](Operation *op) {
      auto ruled = llvm::dyn_cast<dist::ShardingRuleOpInterface>(op);
      if (!ruled)
        return;
      FailureOr<dist::ShardingRule> rule = ruled.getShardingRule();
      if (failed(rule))
        op->emitRemark("no sharding rule: replicated");
      else
        op->emitRemark("sharding rule ") << formatShardingRule(*rule);
    });
  }
};

} // namespace
