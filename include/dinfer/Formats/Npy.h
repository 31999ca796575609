//===- Npy.h - numpy .npy arrays: inputs and outputs of runs --------------===//

#ifndef DINFER_FORMATS_NPY_H
#define DINFER_FORMATS_NPY_H

#include "dinfer/Layout/DType.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace dinfer {

/// A C-order, little-endian array.
struct NpyArray {
  DType dtype = DType::Float32;
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<char> data;

  int64_t numElements() const;
};

/// Parses .npy bytes (format versions 1.0, 2.0 and 3.0). Fortran-order and
/// big-endian arrays are refused with an error naming the file.
llvm::Expected<NpyArray> parseNpy(llvm::StringRef bytes, llvm::StringRef fileName);
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// The bytes numpy.save writes for the array (format 1.0, header padded to 64).
llvm::Expected<std::string> serializeNpy(const NpyArray &array);
/// Writes under a temporary name and renames into place.
llvm::Error writeNpy(const NpyArray &array, llvm::StringRef path);

} // namespace dinfer

#endif // DINFER_FORMATS_NPY_H
