//===- Errors.cpp - what the pipeline's callers told it wrong -------------===//

#include "dinfer/Pipeline/Errors.h"

#include "llvm/Support/raw_ostream.h"

char dinfer::UsageError::ID = 0;

void dinfer::UsageError::log(llvm::raw_ostream &os) const { os << message_; }
