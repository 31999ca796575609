//===- TranslateUtils.cpp - what the importers and exporters share --------===//

#include "TranslateUtils.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

Type dinfer::toMLIRType(DType type, Builder &builder) {
  switch (type) {
  case DType::Bool: return builder.getI1Type();
  case DType::Int8: return builder.getIntegerType(8);
  case DType::UInt8: return builder.getIntegerType(8, /*isSigned=*/false);
  case DType::Int16: return builder.getIntegerType(16);
  case DType::UInt16: return builder.getIntegerType(16, /*isSigned=*/false);
  case DType::Int32: return builder.getIntegerType(32);
  case DType::UInt32: return builder.getIntegerType(32, /*isSigned=*/false);
  case DType::Int64: return builder.getIntegerType(64);
  case DType::UInt64: return builder.getIntegerType(64, /*isSigned=*/false);
  case DType::Float16: return builder.getF16Type();
  case DType::BFloat16: return builder.getBF16Type();
  case DType::Float32: return builder.getF32Type();
  case DType::Float64: return builder.getF64Type();
  case DType::Int4:
  case DType::String: return {};
  }
  return {};
}

std::optional<dinfer::DType> dinfer::fromMLIRType(Type type) {
  if (type.isF32())
    return DType::Float32;
  if (type.isF16())
    return DType::Float16;
  if (type.isBF16())
    return DType::BFloat16;
  if (type.isF64())
    return DType::Float64;
  auto integer = llvm::dyn_cast<IntegerType>(type);
  if (!integer)
    return std::nullopt;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 1: return DType::Bool;
  case 8: return isUnsigned ? DType::UInt8 : DType::Int8;
  case 16: return isUnsigned ? DType::UInt16 : DType::Int16;
  case 32: return isUnsigned ? DType::UInt32 : DType::Int32;
  case 64: return isUnsigned ? DType::UInt64 : DType::Int64;
  default: return std::nullopt;
  }
}
