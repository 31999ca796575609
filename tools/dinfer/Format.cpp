//===- Format.cpp - text forms shared by dinfer's commands ----------------===//

#include "Format.h"

#include "llvm/Support/raw_ostream.h"

using namespace dinfer::cli;

void Table::print(llvm::raw_ostream &os, llvm::StringRef indent) const {
  std::vector<size_t> widths;
  for (const auto &row : rows_)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i)
        widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto &row : rows_) {
    os << indent;
    for (size_t i = 0; i < row.size(); ++i) {
      os << row[i];
      if (i + 1 < row.size())
        os.indent(widths[i] - row[i].size() + 2);
    }
    os << "\n";
  }
}
