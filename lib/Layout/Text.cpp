//===- Text.cpp - shapes, sizes and layouts as text and JSON --------------===//

#include "dinfer/Layout/Text.h"

#include "llvm/Support/FormatVariadic.h"

std::string dinfer::formatList(llvm::ArrayRef<int64_t> values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i)
    out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

std::string dinfer::formatBytes(uint64_t bytes) {
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return llvm::formatv(value < 10 ? "{0:f2} {1}" : "{0:f1} {1}", value, units[unit]).str();
}

llvm::json::Array dinfer::jsonList(llvm::ArrayRef<int64_t> values) { return llvm::json::Array(values); }

llvm::json::Array dinfer::tensorMapJson(llvm::ArrayRef<DimAxes> tensorMap) {
  llvm::json::Array map;
  for (const DimAxes &axes : tensorMap) {
    if (std::optional<int64_t> axis = singleAxis(axes))
      map.push_back(*axis);
    else
      map.push_back(jsonList(axes));
  }
  return map;
}

std::string dinfer::tensorMapText(llvm::ArrayRef<DimAxes> tensorMap) {
  std::string out = "[";
  for (size_t i = 0; i < tensorMap.size(); ++i) {
    out += i ? "," : "";
    std::optional<int64_t> axis = singleAxis(tensorMap[i]);
    out += axis ? std::to_string(*axis) : formatList(tensorMap[i]);
  }
  return out + "]";
}
