//===- Text.h - shapes, sizes and layouts as text and JSON ------*- C++ -*-===//
//
// The forms every command and the export manifest print (docs/contracts.md
// sections 1 to 6), in one place so that they agree.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_LAYOUT_TEXT_H
#define DINFER_LAYOUT_TEXT_H

#include "dinfer/Layout/Layout.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>

namespace dinfer {

/// "[96,16]"
std::string formatList(llvm::ArrayRef<int64_t> values);
/// "600 B", "482.6 KiB", "1.50 GiB"
std::string formatBytes(uint64_t bytes);
llvm::json::Array jsonList(llvm::ArrayRef<int64_t> values);
/// A tensor map in JSON: an int per dimension, a list for several axes.
llvm::json::Array tensorMapJson(llvm::ArrayRef<DimAxes> tensorMap);
/// "[-1,[1,0]]"
std::string tensorMapText(llvm::ArrayRef<DimAxes> tensorMap);

} // namespace dinfer

#endif // DINFER_LAYOUT_TEXT_H
