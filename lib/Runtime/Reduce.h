//===- Reduce.h - the reduction every communicator shares -----------------===//
//
// Every communicator reduces element by element in group order, in float32
// for 16-bit floats, so that the in-process and MPI implementations agree
// bit for bit with each other and with a serial reference.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_LIB_RUNTIME_REDUCE_H
#define DINFER_LIB_RUNTIME_REDUCE_H

#include "dinfer/Runtime/Communicator.h"

namespace dinfer {

/// out[i] = inputs[0][offset + i] op inputs[1][offset + i] op ... for `count`
/// elements (offset in bytes). Types without arithmetic (bool, int4,
/// strings) are an error.
llvm::Error reduceInGroupOrder(DType dtype, llvm::ArrayRef<const char *> inputs, size_t offset, char *out,
                               size_t count, ReduceOp op);

} // namespace dinfer

#endif // DINFER_LIB_RUNTIME_REDUCE_H
