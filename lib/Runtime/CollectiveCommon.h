//===- CollectiveCommon.h - what every communicator shares ----------------===//
//
// Every communicator reduces element by element in group order, in float32
// for 16-bit floats, so that the in-process and MPI implementations agree
// bit for bit with each other and with a serial reference.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_LIB_RUNTIME_COLLECTIVECOMMON_H
#define DINFER_LIB_RUNTIME_COLLECTIVECOMMON_H

#include "dinfer/Runtime/Communicator.h"

#include <string>
#include <utility>

namespace dinfer {

/// out[i] = inputs[0][offset + i] op inputs[1][offset + i] op ... for `count`
/// elements (offset in bytes). Types without arithmetic (bool, int4,
/// strings) are an error.
llvm::Error reduceInGroupOrder(DType dtype, llvm::ArrayRef<const char *> inputs, size_t offset, char *out,
                               size_t count, ReduceOp op);

/// The elements [begin, end) of the chunk that member `position` of
/// `members` reduces in a chunked all_reduce: every member computes the same
/// split, so chunks need no negotiation.
inline std::pair<size_t, size_t> chunkBounds(size_t count, size_t members, size_t position) {
  return {count * position / members, count * (position + 1) / members};
}

/// "[0,1,2]": a group as error messages name it.
std::string groupText(llvm::ArrayRef<int> group);

} // namespace dinfer

#endif // DINFER_LIB_RUNTIME_COLLECTIVECOMMON_H
