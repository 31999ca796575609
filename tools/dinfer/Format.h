//===- Format.h - text forms shared by dinfer's commands ------------------===//

#ifndef DINFER_TOOLS_DINFER_FORMAT_H
#define DINFER_TOOLS_DINFER_FORMAT_H

#include "dinfer/Reshard/Layout.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dinfer::cli {

/// "[96,16]"
std::string formatList(llvm::ArrayRef<int64_t> values);
/// "600 B", "482.6 KiB", "1.50 GiB"
std::string formatBytes(uint64_t bytes);
llvm::json::Array jsonList(llvm::ArrayRef<int64_t> values);
/// A tensor map in JSON: an int per dimension, a list for several axes.
llvm::json::Array tensorMapJson(llvm::ArrayRef<DimAxes> tensorMap);
/// "[-1,[1,0]]"
std::string tensorMapText(llvm::ArrayRef<DimAxes> tensorMap);

/// Rows printed with every column as wide as its widest cell.
class Table {
public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(llvm::raw_ostream &os, llvm::StringRef indent = "  ") const;

private:
  std::vector<std::vector<std::string>> rows_;
};

} // namespace dinfer::cli

#endif // DINFER_TOOLS_DINFER_FORMAT_H
