//===- Errors.h - what the pipeline's callers told it wrong -----*- C++ -*-===//
//
// The pipeline's entry points report two kinds of errors: the caller's
// (a missing input shape, a device count that the stage count does not
// divide) as UsageError, and everything else (bad files, programs that cannot
// be partitioned) as plain string errors naming the file, tensor, op or rank.
// The driver turns the first into exit code 2, the Python package into
// ValueError.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_ERRORS_H
#define DINFER_PIPELINE_ERRORS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <string>

namespace dinfer {

class UsageError : public llvm::ErrorInfo<UsageError> {
public:
  static char ID;
  explicit UsageError(const llvm::Twine &message) : message_(message.str()) {}
  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override { return llvm::inconvertibleErrorCode(); }

private:
  std::string message_;
};

inline llvm::Error usageError(const llvm::Twine &message) { return llvm::make_error<UsageError>(message); }
inline llvm::Error pipelineError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Where long work reports how far it is: a phase ("reshard", "export"), the
/// units done and the units in all. Called from worker threads, one call at a
/// time.
using ProgressSink = std::function<void(llvm::StringRef phase, uint64_t done, uint64_t total)>;

} // namespace dinfer

#endif // DINFER_PIPELINE_ERRORS_H
