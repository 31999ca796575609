//===- MindIRMapping.h - how an nn op is written as a MindIR node ---------===//
//
// Every nn op lists in its ODS entry (`mindirFields`, `mindirResults`,
// `mindirTupleOperands`) how its attributes and operands travel in a MindIR
// node of its primitive. The MindIR importer and exporter read that table
// through MindSporePrimitiveOpInterface and hold no code of their own per
// op. This header is plain data: no protobuf, no translator.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_DIALECT_NN_MINDIRMAPPING_H
#define DINFER_DIALECT_NN_MINDIRMAPPING_H

#include <cstdint>

namespace dinfer::nn {

/// How one field of an op appears in its MindIR node.
enum class MindIRForm : uint8_t {
  // A primitive attribute holding an op attribute of the same kind.
  Bool,
  Int,
  Ints,
  Float,
  String,
  /// An integer attribute written as a one-element list (Softmax's axis).
  IntAsList,
  /// Two spatial values written NCHW-style as [1, 1, h, w]; read back from
  /// four, two or one values.
  Spatial,
  /// `same` written `SAME`, `valid` and zero-padded `pad` written `VALID`
  /// (MindSpore's pooling pad modes); read back in lower case.
  PoolPadMode,
  // A constant node input after the operands, holding an op attribute.
  IntInput,
  IntsInput,
  /// A constant integer input at node position `operand`, before the
  /// operands from there on (GatherD's dim).
  IntInputAt,
  TypeInput,
  /// The result's shape as a constant input (Reshape); read into the
  /// attribute.
  ResultShapeInput,
  /// Operand `operand`, written as a scalar integer constant when it
  /// is a constant (EmbeddingLookup's offset); read back as a tensor.
  ScalarOperand,
  /// `count` dimensions of operand `operand` from `dim` (one: an integer,
  /// more: a list), written for MindSpore and recomputed on import.
  OperandDims,
  /// A primitive attribute of fixed value `value` / `text`; a file giving
  /// another value is refused.
  FixedBool,
  FixedInt,
  FixedString,
  /// Not written: export refuses an op whose attribute `attr` is not
  /// `value` (an integer or bool) / a list not all `value`, as MindSpore
  /// has no equivalent.
  RequireInt,
  RequireAll,
};

/// One row of an op's MindIR table.
struct MindIRField {
  MindIRForm form;
  /// The primitive attribute's name in MindIR (empty for inputs).
  const char *mindir;
  /// The op attribute it maps to.
  const char *attr;
  int64_t value;
  const char *text;
  int64_t operand;
  int64_t dim;
  int64_t count;
  /// For primitive attributes: the value MindSpore's primitive takes when a
  /// file omits the attribute, as the file would write it ("valid", "1",
  /// "1,1"); empty where the op's own default is the same.
  const char *missing;
};

/// How an op's results appear in MindIR.
enum class MindIRResults : uint8_t {
  /// The node's output is the op's one result.
  Value,
  /// The primitive has more outputs (statistics) of which the program reads
  /// the first: the node's output is a tuple.
  FirstOfTuple,
  /// The node's output is a tuple of the op's results (Split), and of
  /// outputs inference never reads (LSTM's workspaces).
  Tuple,
};

} // namespace dinfer::nn

#endif // DINFER_DIALECT_NN_MINDIRMAPPING_H
