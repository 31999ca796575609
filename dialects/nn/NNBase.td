//===- NNBase.td - the nn (network) dialect ------------------*- tablegen -*-===//

#ifndef DINFER_NN_BASE_TD
#define DINFER_NN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "NNInterfaces.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let cppNamespace = "::dinfer::nn";
  let summary = "Network ops named after MindSpore primitives";
  let description = [{
    The `nn` dialect holds the ops that inference of MLPs, transformers and
    CNNs needs, one op per MindSpore primitive, on tensors of static shape.
    Every op verifies its operands and infers its result type (shape and
    element type); a shape that does not fit is a verifier error naming the
    op. Layouts are NCHW where an op has spatial dimensions, as MindSpore's
    defaults are.
  }];
}

defvar NN_Tensor = AnyStaticShapeTensor;
def NN_FloatTensor : StaticShapeTensorOf<[AnyFloat]>;
def NN_NumericTensor : StaticShapeTensorOf<[AnyFloat, AnyInteger]>;
def NN_IndexTensor : StaticShapeTensorOf<[AnyInteger]>;
def NN_BoolTensor : StaticShapeTensorOf<[I1]>;

// Every nn op names its MindSpore primitive here, once: the MindIR importer
// and exporter and the strategy keys read it through
// MindSporePrimitiveOpInterface.
class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits # [Pure, NN_PrimitiveOpInterface]> {
  string mindsporePrimitive = ?;
  list<string> mindsporeAliases = [];
  let extraClassDeclaration = [{
    static ::llvm::StringRef getPrimitiveName() { return "}] # mindsporePrimitive # [{"; }
    static ::llvm::ArrayRef<::llvm::StringLiteral> getPrimitiveAliases() {
      static constexpr ::llvm::StringLiteral names[] = {""}]
      # !foldl("", mindsporeAliases, text, alias, text # ", \"" # alias # "\"") # [{};
      return ::llvm::ArrayRef<::llvm::StringLiteral>(names).drop_front();
    }
  }];
}

// An op whose result types come from its own inferReturnTypes; ops with
// SameOperandsAndResultType get theirs from ODS.
class NN_InferOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, traits # [InferTypeOpAdaptor]>;

#endif // DINFER_NN_BASE_TD
