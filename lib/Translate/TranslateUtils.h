//===- TranslateUtils.h - what the importers and exporters share ----------===//

#ifndef DINFER_LIB_TRANSLATE_TRANSLATEUTILS_H
#define DINFER_LIB_TRANSLATE_TRANSLATEUTILS_H

#include "dinfer/Layout/DType.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/IR/Operation.h"

#include <optional>

namespace dinfer {

/// The MLIR element type of a dtype: signless integers for signed types,
/// unsigned integers (ui8) for unsigned ones; String and Int4 have none.
mlir::Type toMLIRType(DType type, mlir::Builder &builder);
/// The dtype of an MLIR element type (signless integers read as signed).
std::optional<DType> fromMLIRType(mlir::Type type);

/// Builds an op after asking it to infer its result types, so that a shape
/// it rejects is an error at `loc` rather than an assertion in a builder.
template <typename OpT>
mlir::FailureOr<mlir::Operation *> createInferred(mlir::OpBuilder &builder, mlir::Location loc,
                                                  mlir::ValueRange operands,
                                                  llvm::ArrayRef<mlir::NamedAttribute> attributes) {
  llvm::SmallVector<mlir::Type> types;
  if (mlir::failed(OpT::inferReturnTypes(builder.getContext(), loc, operands,
                                         builder.getDictionaryAttr(attributes), /*properties=*/nullptr, {}, types)))
    return mlir::failure();
  mlir::OperationState state(loc, OpT::getOperationName());
  state.addOperands(operands);
  state.addAttributes(attributes);
  state.addTypes(types);
  // Operand constraints (a float-only op given integers) are checked here,
  // so that a refused node is an error naming it, never a module that does
  // not verify.
  mlir::Operation *op = builder.create(state);
  if (mlir::failed(mlir::verify(op, /*verifyRecursively=*/false))) {
    op->erase();
    return mlir::failure();
  }
  return op;
}

} // namespace dinfer

#endif // DINFER_LIB_TRANSLATE_TRANSLATEUTILS_H
