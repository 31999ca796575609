//===- DType.cpp - element types as MindSpore names them ------------------===//

#include "dinfer/Formats/DType.h"

#include "llvm/ADT/StringSwitch.h"

using namespace dinfer;

llvm::StringRef dinfer::dtypeName(DType type) {
  switch (type) {
  case DType::Bool: return "Bool";
  case DType::Int4: return "Int4";
  case DType::Int8: return "Int8";
  case DType::UInt8: return "UInt8";
  case DType::Int16: return "Int16";
  case DType::UInt16: return "UInt16";
  case DType::Int32: return "Int32";
  case DType::UInt32: return "UInt32";
  case DType::Int64: return "Int64";
  case DType::UInt64: return "UInt64";
  case DType::Float16: return "Float16";
  case DType::BFloat16: return "BFloat16";
  case DType::Float32: return "Float32";
  case DType::Float64: return "Float64";
  case DType::String: return "str";
  }
  return "?";
}

std::optional<DType> dinfer::parseDType(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name)
      .Cases({"Bool", "bool"}, DType::Bool)
      .Cases({"Int4", "int4", "qint4x2"}, DType::Int4)
      .Cases({"Int8", "int8"}, DType::Int8)
      .Cases({"UInt8", "uint8"}, DType::UInt8)
      .Cases({"Int16", "int16"}, DType::Int16)
      .Cases({"UInt16", "uint16"}, DType::UInt16)
      .Cases({"Int32", "int32"}, DType::Int32)
      .Cases({"UInt32", "uint32"}, DType::UInt32)
      .Cases({"Int64", "int64"}, DType::Int64)
      .Cases({"UInt64", "uint64"}, DType::UInt64)
      .Cases({"Float16", "float16"}, DType::Float16)
      .Cases({"BFloat16", "bfloat16"}, DType::BFloat16)
      .Cases({"Float32", "float32"}, DType::Float32)
      .Cases({"Float64", "float64"}, DType::Float64)
      .Case("str", DType::String)
      .Default(std::nullopt);
}

unsigned dinfer::dtypeBits(DType type) {
  switch (type) {
  case DType::Int4: return 4;
  case DType::Bool:
  case DType::Int8:
  case DType::UInt8: return 8;
  case DType::Int16:
  case DType::UInt16:
  case DType::Float16:
  case DType::BFloat16: return 16;
  case DType::Int32:
  case DType::UInt32:
  case DType::Float32:
  case DType::String: return 32;
  case DType::Int64:
  case DType::UInt64:
  case DType::Float64: return 64;
  }
  return 0;
}

bool dinfer::isFloatingPoint(DType type) {
  return type == DType::Float16 || type == DType::BFloat16 || type == DType::Float32 || type == DType::Float64;
}
