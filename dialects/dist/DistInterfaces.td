//===- DistInterfaces.td - sharding-rule op interface --------*- tablegen -*-===//

#ifndef DINFER_DIST_INTERFACES_TD
#define DINFER_DIST_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Dist_ShardingRuleOpInterface : OpInterface<"ShardingRuleOpInterface"> {
  let cppNamespace = "::dinfer::dist";
  let description = [{
    An op states how its operands' and results' dimensions relate, in the
    factor form Shardy uses: every dimension is a product of factors, and a
    factor that appears in several operands must be split the same way in
    each. A factor that appears in operands but not in results is a
    reduction factor: splitting it leaves the result a pending sum that needs
    an all_reduce or reduce_scatter. A factor that must not be split (the
    axis of a softmax, say) is marked as needing replication.

    The sharding passes read the rule to choose output layouts and the
    collectives each combination of input layouts requires.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"Returns the op's sharding rule, or failure when the op's "
               "attributes admit none (the op is then replicated).",
      /*retTy=*/"::mlir::FailureOr<::dinfer::dist::ShardingRule>",
      /*methodName=*/"getShardingRule",
      /*args=*/(ins)
    >
  ];
}

#endif // DINFER_DIST_INTERFACES_TD
