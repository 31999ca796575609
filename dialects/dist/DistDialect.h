//===- DistDialect.h - the dist dialect, its attributes and interface -----===//
//
// Device matrices, tensor layouts and the sharding-rule op interface. The
// layout attribute converts to and from dinfer::TensorLayout, so the dialect
// and the checkpoint tools share one layout algebra.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_DIALECT_DIST_DISTDIALECT_H
#define DINFER_DIALECT_DIST_DISTDIALECT_H

#include "dinfer/Layout/Layout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpDefinition.h"

namespace dinfer::dist {

/// How a factor of a sharding rule may be split.
enum class FactorKind {
  /// Splitting it splits the result the same way.
  Parallel,
  /// It is summed over: splitting it leaves a pending sum.
  Reduction,
  /// It must stay whole (a softmax axis, a reshape that cannot follow).
  NeedReplication,
};

/// A sharding rule in factor form: every operand and result dimension is a
/// product of factors (major first); factors shared between values must be
/// split alike.
struct ShardingRule {
  llvm::SmallVector<int64_t> factorSizes;
  llvm::SmallVector<FactorKind> factorKinds;
  /// Per operand, per dimension: the factors it is made of.
  llvm::SmallVector<llvm::SmallVector<llvm::SmallVector<int64_t, 1>>> operandFactors;
  /// Per result, per dimension: the factors it is made of.
  llvm::SmallVector<llvm::SmallVector<llvm::SmallVector<int64_t, 1>>> resultFactors;
};

// Parsers and printers of the attribute parameters.
mlir::FailureOr<llvm::SmallVector<int64_t>> parseIntList(mlir::AsmParser &parser);
void printIntList(mlir::AsmPrinter &printer, llvm::ArrayRef<int64_t> values);
mlir::FailureOr<mlir::ArrayAttr> parseTensorMap(mlir::AsmParser &parser);
void printTensorMap(mlir::AsmPrinter &printer, mlir::ArrayAttr tensorMap);
mlir::FailureOr<llvm::SmallVector<mlir::DenseI64ArrayAttr>> parseSplitLists(mlir::AsmParser &parser);
void printSplitLists(mlir::AsmPrinter &printer, llvm::ArrayRef<mlir::DenseI64ArrayAttr> splits);

/// Checks `devMatrix` against the device count of the module enclosing `op`
/// (`dist.device_num / dist.pipeline_stages`), when the module states one.
mlir::LogicalResult verifyDeviceCount(mlir::Operation *op, llvm::ArrayRef<int64_t> devMatrix,
                                      llvm::StringRef attrName);

} // namespace dinfer::dist

#include "dialects/dist/DistDialect.h.inc"
#include "dialects/dist/DistEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/dist/DistAttrs.h.inc"

#include "dialects/dist/DistInterfaces.h.inc"

namespace dinfer::dist {

/// `[<dev_matrix = ..., tensor_map = ...>, ...]`: layouts without their prefix.
mlir::FailureOr<llvm::SmallVector<LayoutAttr>> parseLayoutList(mlir::AsmParser &parser);
void printLayoutList(mlir::AsmPrinter &printer, llvm::ArrayRef<LayoutAttr> layouts);
/// Checks a layout against the value it describes (`type`), the module's
/// device count and its pipeline stages. `what` names the value in errors
/// ("argument 0"); empty for an op's own result.
mlir::LogicalResult verifyValueLayout(mlir::Operation *op, LayoutAttr layout, mlir::Type type,
                                      llvm::StringRef what);

/// The strategy `op` carries as `dist.strategy`; null if none.
StrategyAttr getStrategy(mlir::Operation *op);
} // namespace dinfer::dist

#endif // DINFER_DIALECT_DIST_DISTDIALECT_H
