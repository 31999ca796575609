//===- ShardingRules.h - the sharding rule of every nn op -----------------===//
//
// Attaches dist::ShardingRuleOpInterface to the nn ops as external models:
// how each op's operand and result dimensions relate, in factor form. The
// sharding passes read rules only through the interface.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TRANSFORMS_SHARDINGRULES_H
#define DINFER_TRANSFORMS_SHARDINGRULES_H

#include <string>

namespace mlir {
class DialectRegistry;
class Operation;
} // namespace mlir

namespace dinfer {
namespace dist {
struct ShardingRule;
}

/// Registers the rules of every nn op with `registry`.
void registerNNShardingRules(mlir::DialectRegistry &registry);

/// A rule in Shardy's notation: `([i, k], [k, j])->([i, j]) {i=8, j=16, k=32}
/// reduction={k} need_replication={}`, factors named i, j, k, ... in order.
std::string formatShardingRule(const dist::ShardingRule &rule);

} // namespace dinfer

#endif // DINFER_TRANSFORMS_SHARDINGRULES_H
