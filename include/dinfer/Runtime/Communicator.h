//===- Communicator.h - collectives between the ranks of a run ------------===//
//
// The calls map one to one onto HCCL's and NCCL's: all_reduce (sum, max, min,
// prod), all_gather, reduce_scatter, all_to_all, broadcast, send and recv.
// A group is an ordered list of global ranks; positions in it order gathered
// pieces and name broadcast roots. Every call takes a timeout: a call that
// expires fails, names the ranks that never arrived, and fails every other
// member of the run so that no rank waits forever.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_RUNTIME_COMMUNICATOR_H
#define DINFER_RUNTIME_COMMUNICATOR_H

#include "dinfer/Layout/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace dinfer {

enum class ReduceOp { Sum, Max, Min, Prod };

class Communicator {
public:
  using Timeout = std::chrono::milliseconds;
  virtual ~Communicator();

  virtual int rank() const = 0;
  virtual int size() const = 0;

  /// out = reduction over the group of every member's `in` (count elements).
  virtual llvm::Error allReduce(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                                ReduceOp op, Timeout timeout) = 0;
  /// out = the members' `in` (count elements each) concatenated in group order.
  virtual llvm::Error allGather(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                                Timeout timeout) = 0;
  /// in holds group.size() pieces of `count`; out = the reduction of piece i
  /// for the member at position i.
  virtual llvm::Error reduceScatter(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                                    ReduceOp op, Timeout timeout) = 0;
  /// in holds group.size() pieces of `count`; piece j goes to position j, and
  /// out piece i comes from position i.
  virtual llvm::Error allToAll(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                               Timeout timeout) = 0;
  /// Every member's `buffer` receives the buffer of position `root`.
  virtual llvm::Error broadcast(llvm::ArrayRef<int> group, DType dtype, void *buffer, size_t count, int root,
                                Timeout timeout) = 0;
  /// Stops the run: every pending and later call of every rank fails with
  /// `reason` (in-process), or every process ends (MPI_Abort). For a rank
  /// that cannot go on, so that the others do not wait out their timeouts.
  virtual void abort(const std::string &reason) = 0;
  virtual llvm::Error send(int peer, DType dtype, const void *in, size_t count, int tag, Timeout timeout) = 0;
  virtual llvm::Error recv(int peer, DType dtype, void *out, size_t count, int tag, Timeout timeout) = 0;
};

/// `size` communicators sharing memory, one per thread of one process.
std::vector<std::unique_ptr<Communicator>> createInProcessWorld(int size);

} // namespace dinfer

#endif // DINFER_RUNTIME_COMMUNICATOR_H
