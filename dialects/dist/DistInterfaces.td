//===- DistInterfaces.td - sharding rules and collectives ----*- tablegen -*-===//

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

def Dist_CollectiveOpInterface : OpInterface<"CollectiveOpInterface"> {
  let cppNamespace = "::dinfer::dist";
  let description = [{
    A collective: every rank of a group takes part. The group of a rank is
    every rank that differs from it only in the device axes `axes` (counted
    from the right, as MindSpore counts them) of `dev_matrix`, the device
    matrix of one pipeline stage; after --dist-split-ranks, `dist.group`
    names its global ranks. The passes (isCollective), the SPMD check, the
    MindIR exporter and the runtime read the group through this interface;
    it verifies that the device matrix fits the module's devices.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"The device axes the group spans",
      /*retTy=*/"::llvm::ArrayRef<int64_t>",
      /*methodName=*/"getGroupAxes",
      /*args=*/(ins),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{ return $_op.getAxes(); }]>,
    InterfaceMethod<
      /*desc=*/"The device matrix of one pipeline stage that the axes index",
      /*retTy=*/"::dinfer::dist::DeviceMatrixAttr",
      /*methodName=*/"getGroupDevMatrix",
      /*args=*/(ins),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{ return $_op.getDevMatrix(); }]>,
  ];
  let verify = [{
    return ::dinfer::dist::verifyDeviceCount(
        $_op, ::llvm::cast<::dinfer::dist::CollectiveOpInterface>($_op).getGroupDevMatrix().getDims(),
        "dev_matrix");
  }];
}

#endif // DINFER_DIST_INTERFACES_TD
