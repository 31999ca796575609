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
    hand-kept table. The same entry says how the op's attributes and
    operands are written in the primitive's MindIR node (`mindirFields`,
    dialects/nn/MindIRMapping.h), which drives MindIR import and export.
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
    StaticInterfaceMethod<
      /*desc=*/"How the op's attributes and operands travel in its MindIR node, in the node's order",
      /*retTy=*/"::llvm::ArrayRef<::dinfer::nn::MindIRField>",
      /*methodName=*/"getMindIRFields">,
    StaticInterfaceMethod<
      /*desc=*/"How the op's results appear in MindIR",
      /*retTy=*/"::dinfer::nn::MindIRResults",
      /*methodName=*/"getMindIRResults">,
    StaticInterfaceMethod<
      /*desc=*/"Whether the node takes the op's operands as one tuple input (Concat)",
      /*retTy=*/"bool",
      /*methodName=*/"getMindIRTupleOperands">,
    InterfaceMethod<
      /*desc=*/"The types of the primitive's outputs after the first, which the program does not read (FirstOfTuple)",
      /*retTy=*/"::llvm::SmallVector<::mlir::Type>",
      /*methodName=*/"getMindIRExtraResultTypes">,
  ];
}

#endif // DINFER_NN_INTERFACES_TD
