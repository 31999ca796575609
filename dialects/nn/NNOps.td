//===- NNOps.td - nn dialect operations ----------------------*- tablegen -*-===//

#ifndef DINFER_NN_OPS_TD
#define DINFER_NN_OPS_TD

include "NNBase.td"

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class NN_UnaryOp<string mnemonic, string primitive, string formula,
                 Type operandType = NN_FloatTensor>
    : NN_Op<mnemonic, [SameOperandsAndResultType]> {
  let mindsporePrimitive = primitive;
  let summary = "MindSpore " # primitive # ": " # formula;
  let description = "Elementwise `" # formula # "`; the result has the operand's type.";
  let arguments = (ins operandType:$x);
  let results = (outs operandType:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_SqrtOp : NN_UnaryOp<"sqrt", "Sqrt", "sqrt(x)">;
def NN_NegOp : NN_UnaryOp<"neg", "Neg", "-x", NN_NumericTensor>;
def NN_ExpOp : NN_UnaryOp<"exp", "Exp", "exp(x)">;
def NN_ErfOp : NN_UnaryOp<"erf", "Erf", "erf(x)">;
def NN_TanhOp : NN_UnaryOp<"tanh", "Tanh", "tanh(x)">;
def NN_SigmoidOp : NN_UnaryOp<"sigmoid", "Sigmoid", "1 / (1 + exp(-x))">;
def NN_ReLUOp : NN_UnaryOp<"relu", "ReLU", "max(x, 0)", NN_NumericTensor>;
def NN_FastGeLUOp : NN_UnaryOp<"fast_gelu", "FastGeLU",
    "x / (1 + exp(-1.702 |x|)) * exp(0.851 (x - |x|))"> {
  let mindsporeAliases = ["FastGelu"];
}
def NN_SiLUOp : NN_UnaryOp<"silu", "SiLU", "x * sigmoid(x)">;
def NN_LogOp : NN_UnaryOp<"log", "Log", "ln(x)">;
def NN_FloorOp : NN_UnaryOp<"floor", "Floor", "floor(x)">;
def NN_CeilOp : NN_UnaryOp<"ceil", "Ceil", "ceil(x)">;
def NN_RoundOp : NN_UnaryOp<"round", "Round", "x rounded to the nearest integer, halves to even">;
def NN_SinOp : NN_UnaryOp<"sin", "Sin", "sin(x)">;
def NN_CosOp : NN_UnaryOp<"cos", "Cos", "cos(x)">;
def NN_TanOp : NN_UnaryOp<"tan", "Tan", "tan(x)">;
def NN_AsinOp : NN_UnaryOp<"asin", "Asin", "asin(x)">;
def NN_AcosOp : NN_UnaryOp<"acos", "ACos", "acos(x)">;
def NN_AtanOp : NN_UnaryOp<"atan", "Atan", "atan(x)">;
def NN_SinhOp : NN_UnaryOp<"sinh", "Sinh", "sinh(x)">;
def NN_CoshOp : NN_UnaryOp<"cosh", "Cosh", "cosh(x)">;
def NN_AsinhOp : NN_UnaryOp<"asinh", "Asinh", "asinh(x)">;
def NN_AcoshOp : NN_UnaryOp<"acosh", "Acosh", "acosh(x)">;
def NN_AtanhOp : NN_UnaryOp<"atanh", "Atanh", "atanh(x)">;
def NN_ReciprocalOp : NN_UnaryOp<"reciprocal", "Reciprocal", "1 / x">;
def NN_SignOp : NN_UnaryOp<"sign", "Sign", "-1, 0 or 1 as x is negative, zero or positive", NN_NumericTensor>;
def NN_SoftplusOp : NN_UnaryOp<"softplus", "Softplus", "ln(1 + exp(x))">;
def NN_SoftsignOp : NN_UnaryOp<"softsign", "Softsign", "x / (1 + |x|)">;
def NN_MishOp : NN_UnaryOp<"mish", "Mish", "x * tanh(softplus(x))">;
def NN_HSwishOp : NN_UnaryOp<"hswish", "HSwish", "x * relu6(x + 3) / 6">;
def NN_LogicalNotOp : NN_UnaryOp<"logical_not", "LogicalNot", "not x", NN_BoolTensor>;

class NN_PredicateOp<string mnemonic, string primitive, string formula> : NN_InferOp<mnemonic> {
  let mindsporePrimitive = primitive;
  let summary = "MindSpore " # primitive # ": " # formula;
  let description = "Elementwise `" # formula # "`: a boolean tensor of the operand's shape.";
  let arguments = (ins NN_FloatTensor:$x);
  let results = (outs NN_BoolTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_IsNanOp : NN_PredicateOp<"isnan", "IsNan", "x is NaN">;
def NN_IsInfOp : NN_PredicateOp<"isinf", "IsInf", "x is +inf or -inf">;

def NN_GeLUOp : NN_Op<"gelu", [SameOperandsAndResultType]> {
  let mindsporePrimitive = "GeLU";
  let mindirFields = [MindIRString<"approximate">];
  let mindsporeAliases = ["Gelu"];
  let summary = "MindSpore GeLU: 0.5 x (1 + erf(x / sqrt(2)))";
  let description = [{
    With `approximate = "tanh"`, `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`,
    the form MindSpore's GeLU computes on Ascend and ONNX's Gelu offers.
  }];
  let arguments = (ins NN_FloatTensor:$x, DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
  let hasVerifier = 1;
}

class NN_BinaryOp<string mnemonic, string primitive, string formula>
    : NN_InferOp<mnemonic, []> {
  let mindsporePrimitive = primitive;
  let summary = "MindSpore " # primitive # ": " # formula # ", with broadcasting";
  let description = [{
    Elementwise with numpy broadcasting: shapes are aligned on the right and
    a dimension of size 1 stretches. Both operands have one element type.
  }];
  let arguments = (ins NN_NumericTensor:$x, NN_NumericTensor:$y);
  let results = (outs NN_NumericTensor:$z);
  let assemblyFormat = "$x `,` $y attr-dict `:` type($x) `,` type($y)";
}

def NN_AddOp : NN_BinaryOp<"add", "Add", "x + y"> {
  let mindsporeAliases = ["AddN"];
}
def NN_SubOp : NN_BinaryOp<"sub", "Sub", "x - y">;
def NN_MulOp : NN_BinaryOp<"mul", "Mul", "x * y">;
def NN_DivOp : NN_BinaryOp<"div", "Div", "x / y"> {
  let mindsporeAliases = ["RealDiv"];
}
def NN_PowOp : NN_BinaryOp<"pow", "Pow", "x ^ y">;
def NN_MaximumOp : NN_BinaryOp<"maximum", "Maximum", "max(x, y)">;
def NN_MinimumOp : NN_BinaryOp<"minimum", "Minimum", "min(x, y)">;
def NN_FloorModOp : NN_BinaryOp<"floor_mod", "FloorMod", "x - floor(x / y) * y (the sign of y)">;
def NN_ModOp : NN_BinaryOp<"mod", "Mod", "x - trunc(x / y) * y (the sign of x, C's fmod)">;

class NN_CompareOp<string mnemonic, string primitive, string formula, Type operandType = NN_Tensor>
    : NN_InferOp<mnemonic> {
  let mindsporePrimitive = primitive;
  let summary = "MindSpore " # primitive # ": " # formula # ", with broadcasting";
  let description = [{
    Elementwise with numpy broadcasting; both operands have one element type
    and the result is boolean.
  }];
  let arguments = (ins operandType:$x, operandType:$y);
  let results = (outs NN_BoolTensor:$z);
  let assemblyFormat = "$x `,` $y attr-dict `:` type($x) `,` type($y)";
}

def NN_EqualOp : NN_CompareOp<"equal", "Equal", "x == y">;
def NN_NotEqualOp : NN_CompareOp<"not_equal", "NotEqual", "x != y">;
def NN_LessOp : NN_CompareOp<"less", "Less", "x < y">;
def NN_LessEqualOp : NN_CompareOp<"less_equal", "LessEqual", "x <= y">;
def NN_GreaterOp : NN_CompareOp<"greater", "Greater", "x > y">;
def NN_GreaterEqualOp : NN_CompareOp<"greater_equal", "GreaterEqual", "x >= y">;
def NN_LogicalAndOp : NN_CompareOp<"logical_and", "LogicalAnd", "x and y", NN_BoolTensor>;
def NN_LogicalOrOp : NN_CompareOp<"logical_or", "LogicalOr", "x or y", NN_BoolTensor>;

def NN_SelectOp : NN_InferOp<"select"> {
  let mindsporePrimitive = "Select";
  let summary = "MindSpore Select / Where: cond ? x : y, with broadcasting";
  let arguments = (ins NN_BoolTensor:$cond, NN_Tensor:$x, NN_Tensor:$y);
  let results = (outs NN_Tensor:$z);
  let assemblyFormat = "$cond `,` $x `,` $y attr-dict `:` type($cond) `,` type($x) `,` type($y)";
}

def NN_CastOp : NN_InferOp<"cast"> {
  let mindsporePrimitive = "Cast";
  let mindirFields = [MindIRTypeInput<"dtype">];
  let summary = "MindSpore Cast: converts the element type";
  let arguments = (ins NN_Tensor:$x, TypeAttr:$dtype);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x `to` $dtype attr-dict `:` type($x)";
}

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

def NN_MatMulOp : NN_InferOp<"matmul"> {
  let mindsporePrimitive = "MatMul";
  let mindirFields = [MindIRBool<"transpose_a">, MindIRBool<"transpose_b">];
  let summary = "MindSpore MatMul: a 2-D matrix product";
  let description = [{
    `[M, K] x [K, N] -> [M, N]`; `transpose_a` and `transpose_b` transpose an
    operand first. Element types must agree.

    ```mlir
    %y = nn.matmul %x, %w {transpose_b = true} : tensor<128x96xf32>, tensor<16x96xf32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$x, NN_NumericTensor:$w,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_a,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_b);
  let results = (outs NN_NumericTensor:$y);
  let assemblyFormat = "$x `,` $w attr-dict `:` type($x) `,` type($w)";
}

def NN_BatchMatMulOp : NN_InferOp<"batch_matmul"> {
  let mindsporePrimitive = "BatchMatMul";
  let mindirFields = [MindIRBool<"transpose_a">, MindIRBool<"transpose_b">];
  let summary = "MindSpore BatchMatMul: matrix products over broadcast batch dimensions";
  let description = [{
    The last two dimensions of each operand are matrices; the leading ones
    broadcast as in numpy.

    ```mlir
    %s = nn.batch_matmul %q, %k {transpose_b = true} : tensor<2x8x16x64xf32>, tensor<2x8x16x64xf32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$x, NN_NumericTensor:$y,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_a,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_b);
  let results = (outs NN_NumericTensor:$z);
  let assemblyFormat = "$x `,` $y attr-dict `:` type($x) `,` type($y)";
}

def NN_BiasAddOp : NN_InferOp<"bias_add"> {
  let mindsporePrimitive = "BiasAdd";
  let mindirFields = [MindIRString<"format", "data_format">];
  let summary = "MindSpore BiasAdd: adds a 1-D bias along the channel dimension";
  let description = [{
    The channel dimension is 1 for `NCHW` and `NCDHW` (the default) and the
    last one for `NHWC`.
  }];
  let arguments = (ins NN_NumericTensor:$x, NN_NumericTensor:$bias,
                       DefaultValuedStrAttr<StrAttr, "NCHW">:$data_format);
  let results = (outs NN_NumericTensor:$y);
  let assemblyFormat = "$x `,` $bias attr-dict `:` type($x) `,` type($bias)";
}

//===----------------------------------------------------------------------===//
// Normalisations
//===----------------------------------------------------------------------===//

def NN_SoftmaxOp : NN_InferOp<"softmax"> {
  let mindsporePrimitive = "Softmax";
  let mindirFields = [MindIRIntAsList<"axis">];
  let summary = "MindSpore Softmax along one axis";
  let arguments = (ins NN_FloatTensor:$x, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_LogSoftmaxOp : NN_InferOp<"log_softmax"> {
  let mindsporePrimitive = "LogSoftmax";
  let mindirFields = [MindIRInt<"axis">];
  let summary = "MindSpore LogSoftmax along one axis";
  let arguments = (ins NN_FloatTensor:$x, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_LayerNormOp : NN_InferOp<"layer_norm"> {
  let mindsporePrimitive = "LayerNorm";
  let mindirFields = [MindIRInt<"begin_norm_axis">, MindIRInt<"begin_params_axis">, MindIRFloat<"epsilon">];
  let mindirResults = "FirstOfTuple";
  // MindSpore's LayerNorm also returns the mean and variance, of the input's
  // shape with ones from begin_norm_axis on.
  let mindirExtraResultTypes = [{
    auto type = ::llvm::cast<::mlir::RankedTensorType>(getType());
    int64_t axis = static_cast<int64_t>(getBeginNormAxis());
    if (axis < 0)
      axis += type.getRank();
    ::llvm::SmallVector<int64_t> shape(type.getShape());
    for (int64_t d = axis; d < type.getRank(); ++d)
      shape[d] = 1;
    return {type.clone(shape), type.clone(shape)};
  }];
  let summary = "MindSpore LayerNorm (inference: the normalised output only)";
  let description = [{
    Normalises over the dimensions from `begin_norm_axis` on; `gamma` and
    `beta` have the shape of the dimensions from `begin_params_axis` on.
    MindSpore's primitive also returns the mean and variance, which
    inference never reads; this op returns the output alone.
  }];
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$gamma, NN_FloatTensor:$beta,
                       DefaultValuedAttr<I64Attr, "-1">:$begin_norm_axis,
                       DefaultValuedAttr<I64Attr, "-1">:$begin_params_axis,
                       DefaultValuedAttr<F32Attr, "1.0e-7">:$epsilon);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $gamma `,` $beta attr-dict `:` type($x) `,` type($gamma) `,` type($beta)";
}

def NN_RMSNormOp : NN_InferOp<"rms_norm"> {
  let mindsporePrimitive = "RmsNorm";
  let mindirFields = [MindIRFloat<"epsilon">];
  let mindirResults = "FirstOfTuple";
  // MindSpore's RmsNorm also returns rstd, with ones where gamma spans.
  let mindirExtraResultTypes = [{
    auto type = ::llvm::cast<::mlir::RankedTensorType>(getType());
    int64_t from = type.getRank() - ::llvm::cast<::mlir::RankedTensorType>(getGamma().getType()).getRank();
    ::llvm::SmallVector<int64_t> shape(type.getShape());
    for (int64_t d = from; d < type.getRank(); ++d)
      shape[d] = 1;
    return {type.clone(shape)};
  }];
  let summary = "MindSpore RmsNorm: x / sqrt(mean(x^2) + epsilon) * gamma";
  let description = [{
    Normalises over the trailing dimensions that `gamma` spans. Returns the
    output alone (MindSpore's primitive also returns rstd).
  }];
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$gamma,
                       DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $gamma attr-dict `:` type($x) `,` type($gamma)";
}

def NN_BatchNormOp : NN_InferOp<"batch_norm"> {
  let mindsporePrimitive = "BatchNorm";
  let mindirFields = [MindIRFixedBool<"is_training", 0>, MindIRFloat<"epsilon">,
                      MindIRFixedString<"format", "NCHW">];
  let mindirResults = "FirstOfTuple";
  // MindSpore's BatchNorm also returns four per-channel statistics.
  let mindirExtraResultTypes = [{
    ::mlir::Type channel = getMean().getType();
    return {channel, channel, channel, channel};
  }];
  let summary = "MindSpore BatchNorm in inference mode";
  let description = [{
    `(x - mean) / sqrt(variance + epsilon) * scale + bias` per channel
    (dimension 1); the four parameters are 1-D of the channel count.
  }];
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$scale, NN_FloatTensor:$bias,
                       NN_FloatTensor:$mean, NN_FloatTensor:$variance,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = [{
    $x `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:` type($x) `,` type($scale) `,`
    type($bias) `,` type($mean) `,` type($variance)
  }];
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class NN_ReduceOp<string mnemonic, string primitive> : NN_InferOp<mnemonic> {
  let mindsporePrimitive = primitive;
  let mindirFields = [MindIRBool<"keep_dims">, MindIRIntsInput<"axis">];
  let summary = "MindSpore " # primitive # " over the listed axes";
  let description = [{
    An empty `axis` reduces every dimension. With `keep_dims` the reduced
    dimensions stay as size 1.
  }];
  let arguments = (ins NN_NumericTensor:$x,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$keep_dims);
  let results = (outs NN_NumericTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_ReduceSumOp : NN_ReduceOp<"reduce_sum", "ReduceSum">;
def NN_ReduceMeanOp : NN_ReduceOp<"reduce_mean", "ReduceMean">;
def NN_ReduceMaxOp : NN_ReduceOp<"reduce_max", "ReduceMax">;
def NN_ReduceMinOp : NN_ReduceOp<"reduce_min", "ReduceMin">;
def NN_ReduceProdOp : NN_ReduceOp<"reduce_prod", "ReduceProd">;

class NN_ArgReduceOp<string mnemonic, string primitive, string which> : NN_InferOp<mnemonic> {
  let mindsporePrimitive = primitive;
  // MindSpore's primitive always takes the first of equal values.
  let mindirFields = [MindIRInt<"axis">, MindIRRequireInt<"select_last_index", 0>];
  let summary = "MindSpore " # primitive # ": the index of the " # which # " along `axis`";
  let description = [{
    The result drops `axis` and holds int32 indices, as MindSpore's primitive
    does. Of equal values the first wins, or the last with
    `select_last_index`. NaN compares as neither larger nor smaller.
  }];
  let arguments = (ins NN_NumericTensor:$x, DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs StaticShapeTensorOf<[I32]>:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_ArgmaxOp : NN_ArgReduceOp<"argmax", "Argmax", "largest value">;
def NN_ArgminOp : NN_ArgReduceOp<"argmin", "Argmin", "smallest value">;

def NN_CumSumOp : NN_Op<"cumsum", [SameOperandsAndResultType]> {
  let mindsporePrimitive = "CumSum";
  let mindirFields = [MindIRBool<"exclusive">, MindIRBool<"reverse">, MindIRIntInput<"axis">];
  let summary = "MindSpore CumSum: running sums along `axis`";
  let description = [{
    With `exclusive` element i sums the elements before it (not itself);
    with `reverse` the sums run from the end.
  }];
  let arguments = (ins NN_NumericTensor:$x, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs NN_NumericTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def NN_ReshapeOp : NN_InferOp<"reshape"> {
  let mindsporePrimitive = "Reshape";
  let mindirFields = [MindIRResultShapeInput<"shape">];
  let summary = "MindSpore Reshape to a static shape";
  let description = [{
    One entry of `shape` may be -1: it takes what the element count leaves.

    ```mlir
    %y = nn.reshape %x {shape = array<i64: 4, -1>} : tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$shape);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_BroadcastToOp : NN_InferOp<"broadcast_to"> {
  let mindsporePrimitive = "BroadcastTo";
  let mindirFields = [MindIRInts<"shape">];
  let summary = "MindSpore BroadcastTo: x repeated along new leading and size-1 dimensions to `shape`";
  let description = [{
    `shape` must be what numpy broadcasting of x's shape to it gives (ONNX's
    Expand broadcasts both ways; its importer computes that shape).
  }];
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$shape);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_TileOp : NN_InferOp<"tile"> {
  let mindsporePrimitive = "Tile";
  let mindirFields = [MindIRIntsInput<"multiples">];
  let summary = "MindSpore Tile: x repeated `multiples[i]` times along dimension i";
  let description = "`multiples` has one non-negative entry per dimension of x.";
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$multiples);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_TransposeOp : NN_InferOp<"transpose"> {
  let mindsporePrimitive = "Transpose";
  let mindirFields = [MindIRIntsInput<"perm">];
  let summary = "MindSpore Transpose: result dimension i is operand dimension perm[i]";
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$perm);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_ExpandDimsOp : NN_InferOp<"expand_dims"> {
  let mindsporePrimitive = "ExpandDims";
  let mindirFields = [MindIRIntInput<"axis">];
  let summary = "MindSpore ExpandDims: inserts a dimension of size 1 at `axis`";
  let arguments = (ins NN_Tensor:$x, I64Attr:$axis);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_SqueezeOp : NN_InferOp<"squeeze"> {
  let mindsporePrimitive = "Squeeze";
  let mindirFields = [MindIRInts<"axis">];
  let summary = "MindSpore Squeeze: removes dimensions of size 1";
  let description = "An empty `axis` removes every dimension of size 1.";
  let arguments = (ins NN_Tensor:$x, DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$axis);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_FlattenOp : NN_InferOp<"flatten"> {
  let mindsporePrimitive = "Flatten";
  // MindSpore 1.7's Flatten keeps dimension 0; ONNX import writes other
  // axes as nn.reshape.
  let mindirFields = [MindIRRequireInt<"axis", 1>];
  let summary = "MindSpore Flatten: [d0, ..., dn] -> [d0 * ... * d(axis-1), d(axis) * ... * dn]";
  let description = "`axis` defaults to 1, MindSpore's behaviour (keep the batch).";
  let arguments = (ins NN_Tensor:$x, DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_ConcatOp : NN_InferOp<"concat"> {
  let mindsporePrimitive = "Concat";
  let mindirFields = [MindIRInt<"axis">];
  let mindirTupleOperands = 1;
  let summary = "MindSpore Concat along `axis`";
  let arguments = (ins Variadic<NN_Tensor>:$inputs, DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
}

def NN_SplitOp : NN_InferOp<"split"> {
  let mindsporePrimitive = "Split";
  let mindirFields = [MindIRInt<"axis">, MindIRInt<"output_num", "output_num", "1">];
  let mindirResults = "Tuple";
  let summary = "MindSpore Split into `output_num` equal parts along `axis`";
  let arguments = (ins NN_Tensor:$x, DefaultValuedAttr<I64Attr, "0">:$axis, I64Attr:$output_num);
  let results = (outs Variadic<NN_Tensor>:$outputs);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_StridedSliceOp : NN_InferOp<"strided_slice"> {
  let mindsporePrimitive = "StridedSlice";
  let mindirFields = [MindIRInt<"begin_mask">, MindIRInt<"end_mask">, MindIRFixedInt<"ellipsis_mask", 0>,
                      MindIRFixedInt<"new_axis_mask", 0>, MindIRInt<"shrink_axis_mask">,
                      MindIRIntsInput<"begin">, MindIRIntsInput<"end">, MindIRIntsInput<"strides">];
  let summary = "MindSpore StridedSlice: x[begin:end:strides] per dimension";
  let description = [{
    `begin`, `end` and `strides` have one entry per leading dimension they
    slice (trailing dimensions are kept whole). Negative indices count from
    the end, as in Python. Bit i of `begin_mask` / `end_mask` ignores
    `begin[i]` / `end[i]`; bit i of `shrink_axis_mask` takes the single
    element `begin[i]` and drops the dimension. Ellipsis and new-axis masks
    are not supported.
  }];
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$begin, DenseI64ArrayAttr:$end,
                       DenseI64ArrayAttr:$strides,
                       DefaultValuedAttr<I64Attr, "0">:$begin_mask,
                       DefaultValuedAttr<I64Attr, "0">:$end_mask,
                       DefaultValuedAttr<I64Attr, "0">:$shrink_axis_mask);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_EmbeddingLookupOp : NN_InferOp<"embedding_lookup"> {
  let mindsporePrimitive = "EmbeddingLookup";
  let mindirFields = [MindIRScalarOperand<2>]; // the offset
  let summary = "MindSpore EmbeddingLookup: rows of a vocabulary slice, zero outside it";
  let description = [{
    Row `indices[i] - offset` of `params` where it lies in
    `[0, params.shape[0])`, and zeros elsewhere: the lookup of one rank of a
    vocabulary-parallel embedding, whose slice starts at row `offset` (a
    0-d integer tensor) of the whole table. The result shape is
    `indices.shape + params.shape[1:]`; summed over the ranks of the
    vocabulary split it gives the whole table's lookup.
  }];
  let arguments = (ins NN_Tensor:$params, NN_IndexTensor:$indices, NN_IndexTensor:$offset);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = [{
    $params `,` $indices `,` $offset attr-dict `:` type($params) `,` type($indices) `,` type($offset)
  }];
}

def NN_GatherOp : NN_InferOp<"gather"> {
  let mindsporePrimitive = "Gather";
  let mindirFields = [MindIRIntInput<"axis">];
  let mindsporeAliases = ["GatherV2"];
  let summary = "MindSpore Gather: rows of `params` along `axis` picked by `indices`";
  let description = [{
    The result shape is `params.shape[:axis] + indices.shape + params.shape[axis+1:]`.
  }];
  let arguments = (ins NN_Tensor:$params, NN_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$params `,` $indices attr-dict `:` type($params) `,` type($indices)";
}

def NN_GatherDOp : NN_InferOp<"gather_d"> {
  let mindsporePrimitive = "GatherD";
  let mindirFields = [MindIRIntInputAt<"dim", 1>];
  let summary = "MindSpore GatherD: y[i][j][k] = x[index[i][j][k]][j][k] along `dim` (ONNX GatherElements)";
  let description = [{
    `index` has the rank of `x` and gives the result's shape; it may be
    smaller than `x` in every dimension. Negative indices count from the end.
  }];
  let arguments = (ins NN_Tensor:$x, NN_IndexTensor:$index, I64Attr:$dim);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x `,` $index attr-dict `:` type($x) `,` type($index)";
}

def NN_GatherNdOp : NN_InferOp<"gather_nd"> {
  let mindsporePrimitive = "GatherNd";
  let mindirFields = [MindIRRequireInt<"batch_dims", 0>];
  let summary = "MindSpore GatherNd: slices of `x` at the index tuples in the last dimension of `indices`";
  let description = [{
    `indices[..., :]` holds `K` leading coordinates into `x` after the first
    `batch_dims` dimensions, which `x` and `indices` share; the result shape
    is `indices.shape[:-1] + x.shape[batch_dims + K:]`.
  }];
  let arguments = (ins NN_Tensor:$x, NN_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x `,` $indices attr-dict `:` type($x) `,` type($indices)";
}

class NN_TensorScatterOp<string mnemonic, string primitive, string how> : NN_InferOp<mnemonic> {
  let mindsporePrimitive = primitive;
  let summary = "MindSpore " # primitive # ": a copy of `x` with slices at `indices` " # how # " `updates`";
  let description = [{
    `indices[..., :]` holds index tuples of `K` leading coordinates into `x`;
    `updates` has the shape `indices.shape[:-1] + x.shape[K:]`. Indices that
    repeat apply in order. ONNX ScatterND imports to these.
  }];
  let arguments = (ins NN_Tensor:$x, NN_IndexTensor:$indices, NN_Tensor:$updates);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = [{
    $x `,` $indices `,` $updates attr-dict `:` type($x) `,` type($indices) `,` type($updates)
  }];
}

def NN_TensorScatterUpdateOp : NN_TensorScatterOp<"tensor_scatter_update", "TensorScatterUpdate", "replaced by">;
def NN_TensorScatterAddOp : NN_TensorScatterOp<"tensor_scatter_add", "TensorScatterAdd", "plus">;
def NN_TensorScatterMulOp : NN_TensorScatterOp<"tensor_scatter_mul", "TensorScatterMul", "times">;
def NN_TensorScatterMaxOp : NN_TensorScatterOp<"tensor_scatter_max", "TensorScatterMax", "raised to">;
def NN_TensorScatterMinOp : NN_TensorScatterOp<"tensor_scatter_min", "TensorScatterMin", "lowered to">;

def NN_TensorScatterElementsOp : NN_InferOp<"tensor_scatter_elements"> {
  let mindsporePrimitive = "TensorScatterElements";
  let mindirFields = [MindIRInt<"axis">, MindIRString<"reduction">];
  let summary = "MindSpore TensorScatterElements: x with y[.., indices[i][j], ..] = updates[i][j] along `axis`";
  let description = [{
    `indices` and `updates` share a shape of x's rank (ONNX
    ScatterElements). `reduction` is `none` (replace), `add`, `mul`, `max`
    or `min`; repeated indices apply in order.
  }];
  let arguments = (ins NN_Tensor:$x, NN_IndexTensor:$indices, NN_Tensor:$updates,
                       DefaultValuedAttr<I64Attr, "0">:$axis,
                       DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = [{
    $x `,` $indices `,` $updates attr-dict `:` type($x) `,` type($indices) `,` type($updates)
  }];
  let hasVerifier = 1;
}

def NN_PadOp : NN_InferOp<"pad"> {
  let mindsporePrimitive = "PadV3";
  let mindirFields = [MindIRString<"mode">, MindIRFixedBool<"paddings_contiguous", 1>,
                      MindIRInts<"paddings">, MindIRFloat<"constant_value", "value">];
  let summary = "MindSpore PadV3: pads (or crops, where negative) every dimension";
  let description = [{
    `paddings` holds `[before, after]` per dimension in order; a negative
    amount removes elements. `mode` is `constant` (fill with `value`),
    `reflect` (mirror without the edge), `edge` (repeat the edge) or `wrap`
    (continue from the other end).
  }];
  let arguments = (ins NN_Tensor:$x, DenseI64ArrayAttr:$paddings,
                       DefaultValuedStrAttr<StrAttr, "constant">:$mode,
                       DefaultValuedAttr<F32Attr, "0.0">:$value);
  let results = (outs NN_Tensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

//===----------------------------------------------------------------------===//
// Convolution and pooling (NCHW)
//===----------------------------------------------------------------------===//

def NN_Conv2DOp : NN_InferOp<"conv2d"> {
  let mindsporePrimitive = "Conv2D";
  let mindirFields = [MindIROperandDims<"out_channel", 1, 0, 1>, MindIROperandDims<"kernel_size", 1, 2, 2>,
                      MindIRFixedInt<"mode", 1>, MindIRString<"pad_mode", "pad_mode", "valid">, MindIRInts<"pad">,
                      MindIRSpatial<"stride">, MindIRSpatial<"dilation">, MindIRInt<"group">,
                      MindIRInt<"groups", "group">, MindIRFixedString<"format", "NCHW">];
  let summary = "MindSpore Conv2D on NCHW data with an [O, C/group, kH, kW] weight";
  let description = [{
    `pad_mode` is `pad` (use `pad` = [top, bottom, left, right]), `same`
    (output = ceil(input / stride)) or `valid` (no padding). The bias, if any,
    is a following `nn.bias_add`.
  }];
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$w,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$stride,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pad,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilation,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       DefaultValuedStrAttr<StrAttr, "pad">:$pad_mode);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $w attr-dict `:` type($x) `,` type($w)";
}

// The gradient of a convolution over `spatial` (2 or 3) dimensions with
// respect to its input, as MindSpore's Conv2DTranspose (NCHW) and
// Conv3DTranspose (NCDHW) take it.
class NN_ConvTransposeOp<string mnemonic, string primitive, int spatial> : NN_InferOp<mnemonic> {
  defvar ones = !if(!eq(spatial, 3), "{1, 1, 1}", "{1, 1}");
  defvar zeros = !if(!eq(spatial, 3), "{0, 0, 0}", "{0, 0}");
  defvar pads = !if(!eq(spatial, 3), "{0, 0, 0, 0, 0, 0}", "{0, 0, 0, 0}");
  defvar layout = !if(!eq(spatial, 3), "NCDHW", "NCHW");
  let mindsporePrimitive = primitive;
  let mindirFields = [MindIROperandDims<"kernel_size", 1, 2, spatial>, MindIRFixedInt<"mode", 1>,
                      MindIRFixedString<"pad_mode", "pad">, MindIRInts<"pad">,
                      MindIRSpatial<"stride", "stride", "", spatial>, MindIRSpatial<"dilation", "dilation", "", spatial>,
                      MindIRInt<"group">, MindIRInts<"output_padding">, MindIRFixedString<"format", layout>];
  let summary = "MindSpore " # primitive # " on " # layout # " data with a [C, O/group, k...] weight";
  let description = [{
    The gradient of the convolution with respect to its input: each input
    element scatters its products with the kernel into the output. Along
    each spatial dimension the output extent is `(in - 1) * stride -
    pad_before - pad_after + dilation * (k - 1) + output_padding + 1`; `pad`
    holds [before, after] per spatial dimension, and a negative pad extends
    the output instead. The bias, if any, is a following `nn.bias_add`.
  }];
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$w,
                       DefaultValuedAttr<DenseI64ArrayAttr, ones>:$stride,
                       DefaultValuedAttr<DenseI64ArrayAttr, pads>:$pad,
                       DefaultValuedAttr<DenseI64ArrayAttr, ones>:$dilation,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       DefaultValuedAttr<DenseI64ArrayAttr, zeros>:$output_padding);
  let results = (outs NN_FloatTensor:$y);
  let assemblyFormat = "$x `,` $w attr-dict `:` type($x) `,` type($w)";
}

def NN_Conv2DTransposeOp : NN_ConvTransposeOp<"conv2d_transpose", "Conv2DTranspose", 2>;
def NN_Conv3DTransposeOp : NN_ConvTransposeOp<"conv3d_transpose", "Conv3DTranspose", 3>;

// Pooling over `spatial` (2 or 3) dimensions after N and C. The MindIR
// tables hold what MindSpore's MaxPool/AvgPool (NCHW) and MaxPool3D/AvgPool3D
// (NCDHW) take: explicit pads, ceil mode and dilation have no MindIR form.
class NN_PoolOp<string mnemonic, string primitive, int spatial, dag extraArgs = (ins),
                list<MindIRField> extraFields = []> : NN_InferOp<mnemonic> {
  defvar ones = !if(!eq(spatial, 3), "{1, 1, 1}", "{1, 1}");
  defvar pads = !if(!eq(spatial, 3), "{0, 0, 0, 0, 0, 0}", "{0, 0, 0, 0}");
  defvar layout = !if(!eq(spatial, 3), "NCDHW", "NCHW");
  let mindsporePrimitive = primitive;
  let mindirFields = [MindIRPoolPadMode<"pad_mode", "pad_mode", "valid">,
                      MindIRSpatial<"kernel_size", "kernel_size", "1", spatial>,
                      MindIRSpatial<"strides", "strides", "", spatial>, MindIRFixedString<"format", layout>] # extraFields #
                     [MindIRRequireZeros<"pad">, MindIRRequireInt<"ceil_mode", 0>, MindIRRequireOnes<"dilation">];
  let summary = "MindSpore " # primitive # " over " # layout # " data";
  let description = [{
    `pad_mode` as in `nn.conv2d`, with `pad` holding [before, after] per
    spatial dimension; with `ceil_mode` the output size rounds up; the
    window reads every `dilation`-th element.
  }];
  let arguments = !con((ins NN_NumericTensor:$x, DenseI64ArrayAttr:$kernel_size,
                            DefaultValuedAttr<DenseI64ArrayAttr, ones>:$strides,
                            DefaultValuedAttr<DenseI64ArrayAttr, pads>:$pad,
                            DefaultValuedStrAttr<StrAttr, "pad">:$pad_mode,
                            DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                            DefaultValuedAttr<DenseI64ArrayAttr, ones>:$dilation), extraArgs);
  let results = (outs NN_NumericTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def NN_MaxPoolOp : NN_PoolOp<"max_pool", "MaxPool", 2>;
def NN_AvgPoolOp : NN_PoolOp<"avg_pool", "AvgPool", 2,
    (ins DefaultValuedAttr<BoolAttr, "false">:$count_include_pad)>;
def NN_MaxPool3DOp : NN_PoolOp<"max_pool3d", "MaxPool3D", 3, (ins), [MindIRInts<"pad_list", "pad">]>;
def NN_AvgPool3DOp : NN_PoolOp<"avg_pool3d", "AvgPool3D", 3,
    (ins DefaultValuedAttr<BoolAttr, "false">:$count_include_pad),
    [MindIRInts<"pad">, MindIRBool<"count_include_pad">, MindIRFixedInt<"divisor_override", 0>]>;

//===----------------------------------------------------------------------===//
// Recurrent layers
//===----------------------------------------------------------------------===//

def NN_LSTMOp : NN_InferOp<"lstm"> {
  let mindsporePrimitive = "LSTM";
  let mindirFields = [MindIRInt<"input_size">, MindIRInt<"hidden_size">, MindIRInt<"num_layers">,
                      MindIRBool<"has_bias">, MindIRBool<"bidirectional">, MindIRFloat<"dropout">];
  let mindirResults = "Tuple";
  // MindSpore's LSTM also returns a reserve and a state workspace, [1, 1]
  // in the files its CPU backend writes; inference never reads them.
  let mindirExtraResultTypes = [{
    auto type = ::llvm::cast<::mlir::RankedTensorType>(getOutput().getType());
    return {type.clone(::llvm::ArrayRef<int64_t>{1, 1}), type.clone(::llvm::ArrayRef<int64_t>{1, 1})};
  }];
  let summary = "MindSpore LSTM: a stack of (bi)directional LSTM layers over [seq, batch, input]";
  let description = [{
    `x` is [seq, batch, input_size]; `h` and `c` are the initial states,
    [num_layers * directions, batch, hidden_size]. Each layer's gates are
    `i, f, g, o` (input, forget, cell, output; torch's and oneDNN's order):
    `c' = sigmoid(f) * c + sigmoid(i) * tanh(g)`, `h' = sigmoid(o) * tanh(c')`.
    `w` holds every weight flat, as MindSpore's primitive takes them: the
    input weights of each layer and direction ([4 * hidden, layer input],
    row-major; a layer after the first reads `hidden * directions` values),
    then the recurrent weights ([4 * hidden, hidden] each), then with
    `has_bias` one summed bias ([4 * hidden]) each. The backward direction
    reads the sequence from its end; its outputs are concatenated after the
    forward ones. `output` is the last layer's [seq, batch, hidden *
    directions]; `h_n` and `c_n` the final states, shaped as `h`. `dropout`
    applies between layers in training only.
  }];
  let arguments = (ins NN_FloatTensor:$x, NN_FloatTensor:$h, NN_FloatTensor:$c, NN_FloatTensor:$w,
                       I64Attr:$input_size, I64Attr:$hidden_size,
                       DefaultValuedAttr<I64Attr, "1">:$num_layers,
                       DefaultValuedAttr<BoolAttr, "true">:$has_bias,
                       DefaultValuedAttr<BoolAttr, "false">:$bidirectional,
                       DefaultValuedAttr<F32Attr, "0.0f">:$dropout);
  let results = (outs NN_FloatTensor:$output, NN_FloatTensor:$h_n, NN_FloatTensor:$c_n);
  let assemblyFormat = "$x `,` $h `,` $c `,` $w attr-dict `:` type($x) `,` type($h) `,` type($c) `,` type($w)";
}

#endif // DINFER_NN_OPS_TD
