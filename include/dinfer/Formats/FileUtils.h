//===- FileUtils.h - writing outputs that are never half-written ----------===//

#ifndef DINFER_FORMATS_FILEUTILS_H
#define DINFER_FORMATS_FILEUTILS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace dinfer {

/// Writes `bytes` to a temporary file beside `path`, syncs it (unless `sync`
/// is false) and renames it to `path`. Nothing appears under `path` unless
/// the whole content was written.
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef bytes, bool sync = true);

} // namespace dinfer

#endif // DINFER_FORMATS_FILEUTILS_H
