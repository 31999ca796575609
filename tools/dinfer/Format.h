//===- Format.h - text forms shared by dinfer's commands ------------------===//

#ifndef DINFER_TOOLS_DINFER_FORMAT_H
#define DINFER_TOOLS_DINFER_FORMAT_H

#include "dinfer/Layout/Text.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace dinfer::cli {

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
