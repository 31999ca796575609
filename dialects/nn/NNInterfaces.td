//===- NNInterfaces.td - what every nn op says of itself -----*- tablegen -*-===//

#ifndef DINFER_NN_INTERFACES_TD
#define DINFER_NN_INTERFACES_TD

include "mlir/IR/OpBase.td"

def NN_PrimitiveOpInterface : OpInterface<"MindSporePrimitiveOpInterface"> {
  let cppNamespace = "::dinfer::nn";
  let description = [{
    The MindSpore primitive an nn op stands for, as MindIR files and strategy
    keys (`<Primitive>_<parameter>`) name it, and the other names MindSpore's
    exporters have given it. Every nn op implements it from its ODS entry
    (`mindsporePrimitive`, `mindsporeAliases`): the MindIR importer and
    exporter, strategy keys and tools read the name here, never from a
    hand-kept table.
  }];
  let methods = [
    StaticInterfaceMethod<
      /*desc=*/"MindSpore's name of the op's primitive (\"MatMul\")",
      /*retTy=*/"::llvm::StringRef",
      /*methodName=*/"getPrimitiveName">,
    StaticInterfaceMethod<
      /*desc=*/"Other names the primitive has in MindIR files (\"RealDiv\" for Div)",
      /*retTy=*/"::llvm::ArrayRef<::llvm::StringLiteral>",
      /*methodName=*/"getPrimitiveAliases">,
  ];
}

#endif // DINFER_NN_INTERFACES_TD
