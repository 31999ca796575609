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

//===----------------------------------------------------------------------===//
// How an op travels in MindIR: one row per attribute or constant input, in
// the node's order (dialects/nn/MindIRMapping.h says what each form means).
//===----------------------------------------------------------------------===//

class MindIRField<string fieldForm, string mindirName, string attrName, int fieldValue = 0,
                  string fieldText = "", int fieldOperand = 0, int fieldDim = 0, int fieldCount = 0,
                  string fieldMissing = ""> {
  string form = fieldForm;
  string mindir = mindirName;
  string attr = attrName;
  int value = fieldValue;
  string text = fieldText;
  int operand = fieldOperand;
  int dim = fieldDim;
  int count = fieldCount;
  string missing = fieldMissing;
}

// Primitive attributes holding the op attribute `attr` (by default the same
// name). `missing` is the value MindSpore's primitive takes when a file
// omits the attribute, written as the file would hold it ("valid", "1",
// "1,1"), where that differs from the op's own default.
class MindIRBool<string name, string attr = name> : MindIRField<"Bool", name, attr>;
class MindIRInt<string name, string attr = name, string missing = "">
    : MindIRField<"Int", name, attr, 0, "", 0, 0, 0, missing>;
class MindIRInts<string name, string attr = name> : MindIRField<"Ints", name, attr>;
class MindIRFloat<string name, string attr = name> : MindIRField<"Float", name, attr>;
class MindIRString<string name, string attr = name, string missing = "">
    : MindIRField<"String", name, attr, 0, "", 0, 0, 0, missing>;
class MindIRIntAsList<string name, string attr = name> : MindIRField<"IntAsList", name, attr>;
class MindIRSpatial<string name, string attr = name, string missing = "", int spatial = 2>
    : MindIRField<"Spatial", name, attr, 0, "", 0, 0, spatial, missing>;
class MindIRPoolPadMode<string name, string attr = name, string missing = "">
    : MindIRField<"PoolPadMode", name, attr, 0, "", 0, 0, 0, missing>;
// Constant inputs after the operands.
class MindIRIntInput<string attr> : MindIRField<"IntInput", "", attr>;
class MindIRIntsInput<string attr> : MindIRField<"IntsInput", "", attr>;
// A constant integer input at node position `position`, among the operands.
class MindIRIntInputAt<string attr, int position> : MindIRField<"IntInputAt", "", attr, 0, "", position>;
class MindIRTypeInput<string attr> : MindIRField<"TypeInput", "", attr>;
class MindIRResultShapeInput<string attr> : MindIRField<"ResultShapeInput", "", attr>;
class MindIRScalarOperand<int operand> : MindIRField<"ScalarOperand", "", "", 0, "", operand>;
// Primitive attributes MindSpore wants that the op does not hold.
class MindIROperandDims<string name, int operand, int dim, int count>
    : MindIRField<"OperandDims", name, "", 0, "", operand, dim, count>;
class MindIRFixedBool<string name, bit value> : MindIRField<"FixedBool", name, "", value>;
class MindIRFixedInt<string name, int value> : MindIRField<"FixedInt", name, "", value>;
class MindIRFixedString<string name, string value> : MindIRField<"FixedString", name, "", 0, value>;
// Op attributes MindSpore has no equivalent for unless they hold this value.
class MindIRRequireInt<string attr, int value> : MindIRField<"RequireInt", "", attr, value>;
class MindIRRequireAll<string attr, int value> : MindIRField<"RequireAll", "", attr, value>;
class MindIRRequireZeros<string attr> : MindIRRequireAll<attr, 0>;
class MindIRRequireOnes<string attr> : MindIRRequireAll<attr, 1>;

// Every nn op names its MindSpore primitive here, once, and says how it is
// written in MindIR: the MindIR importer and exporter and the strategy keys
// read both through MindSporePrimitiveOpInterface.
class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits # [Pure, NN_PrimitiveOpInterface]> {
  string mindsporePrimitive = ?;
  list<string> mindsporeAliases = [];
  // The node's attributes and constant inputs, in order.
  list<MindIRField> mindirFields = [];
  // Value, FirstOfTuple or Tuple (MindIRResults).
  string mindirResults = "Value";
  // The operands travel as one tuple input.
  bit mindirTupleOperands = 0;
  // For FirstOfTuple and Tuple: the body of getMindIRExtraResultTypes(), the
  // types of the primitive's outputs after the ones the op has.
  code mindirExtraResultTypes = "return {};";
  let extraClassDeclaration = [{
    static ::llvm::StringRef getPrimitiveName() { return "}] # mindsporePrimitive # [{"; }
    static ::llvm::ArrayRef<::llvm::StringLiteral> getPrimitiveAliases() {
      static constexpr ::llvm::StringLiteral names[] = {""}]
      # !foldl("", mindsporeAliases, text, alias, text # ", \"" # alias # "\"") # [{};
      return ::llvm::ArrayRef<::llvm::StringLiteral>(names).drop_front();
    }
    static ::llvm::ArrayRef<::dinfer::nn::MindIRField> getMindIRFields() {
      static constexpr ::dinfer::nn::MindIRField fields[] = {
        {::dinfer::nn::MindIRForm::Bool, "", "", 0, "", 0, 0, 0, ""} }]
      # !foldl("", mindirFields, text, entry, text # ",\n        {::dinfer::nn::MindIRForm::" # entry.form
             # ", \"" # entry.mindir # "\", \"" # entry.attr # "\", " # entry.value # ", \"" # entry.text
             # "\", " # entry.operand # ", " # entry.dim # ", " # entry.count # ", \"" # entry.missing
             # "\"}") # [{};
      return ::llvm::ArrayRef<::dinfer::nn::MindIRField>(fields).drop_front();
    }
    static ::dinfer::nn::MindIRResults getMindIRResults() {
      return ::dinfer::nn::MindIRResults::}] # mindirResults # [{;
    }
    static bool getMindIRTupleOperands() { return }] # !if(mindirTupleOperands, "true", "false") # [{; }
    ::llvm::SmallVector<::mlir::Type> getMindIRExtraResultTypes() {
      }] # mindirExtraResultTypes # [{
    }
  }];
}

// An op whose result types come from its own inferReturnTypes; ops with
// SameOperandsAndResultType get theirs from ODS.
class NN_InferOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, traits # [InferTypeOpAdaptor]>;

#endif // DINFER_NN_BASE_TD
