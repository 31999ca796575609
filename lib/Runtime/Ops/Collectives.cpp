//===- Collectives.cpp - dist collectives and pipeline transfers ------------===//

#include "../InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace dinfer;
using namespace dinfer::interp;

namespace {
ReduceOp reduceOpOf(dist::ReduceKind kind) {
  switch (kind) {
  case dist::ReduceKind::sum: return ReduceOp::Sum;
  case dist::ReduceKind::max: return ReduceOp::Max;
  case dist::ReduceKind::min: return ReduceOp::Min;
  case dist::ReduceKind::prod: return ReduceOp::Prod;
  }
  return ReduceOp::Sum;
}

/// Bytes of a tensor seen as [outer, parts × piece, inner]: the offset of
/// part `p` of row `o`, where `piece` rows of `inner` bytes make one part.
struct Blocks {
  int64_t outer, pieceBytes, rowBytes;
  Blocks(llvm::ArrayRef<int64_t> shape, int64_t dim, int64_t parts, size_t elementBytes) {
    int64_t inner = elementBytes;
    for (int64_t d : shape.drop_front(dim + 1))
      inner *= d;
    outer = 1;
    for (int64_t d : shape.take_front(dim))
      outer *= d;
    rowBytes = shape[dim] * inner;
    pieceBytes = rowBytes / parts;
  }
};

/// Makes the parts of dimension `dim` contiguous: out = [parts][outer][piece].
void packParts(const char *in, char *out, const Blocks &b, int64_t parts) {
  for (int64_t p = 0; p < parts; ++p)
    for (int64_t o = 0; o < b.outer; ++o)
      std::memcpy(out + (p * b.outer + o) * b.pieceBytes, in + o * b.rowBytes + p * b.pieceBytes, b.pieceBytes);
}

/// The inverse: contiguous parts back into dimension `dim`.
void unpackParts(const char *in, char *out, const Blocks &b, int64_t parts) {
  for (int64_t p = 0; p < parts; ++p)
    for (int64_t o = 0; o < b.outer; ++o)
      std::memcpy(out + o * b.rowBytes + p * b.pieceBytes, in + (p * b.outer + o) * b.pieceBytes, b.pieceBytes);
}
} // namespace

namespace dinfer::interp {

llvm::Expected<std::vector<int>> Interpreter::groupFor(Operation *op, llvm::ArrayRef<int64_t> devMatrix,
                                                       llvm::ArrayRef<int64_t> axes) {
  int world = rank_->communicator->size(), rank = rank_->communicator->rank();
  // A rank's own program (--dist-split-ranks) names its groups.
  if (auto named = op->getAttrOfType<mlir::DenseI64ArrayAttr>(dist::DistDialect::kGroupAttrName)) {
    std::vector<int> group(named.asArrayRef().begin(), named.asArrayRef().end());
    if (!llvm::is_contained(group, rank) || llvm::any_of(group, [&](int member) { return member >= world; }))
      return opError(op, "its dist.group does not fit rank " + std::to_string(rank) + " of a run of " +
                             std::to_string(world) + " ranks");
    return group;
  }
  int stageSize = rank_->stageSize > 0 ? rank_->stageSize : world;
  int64_t devices = product(devMatrix);
  if (devices != stageSize)
    return opError(op, "its dev_matrix holds " + std::to_string(devices) +
                           " devices, but a pipeline stage of this run "
                           "has " +
                           std::to_string(stageSize) + " ranks");
  int stageBase = rank / stageSize * stageSize;
  std::vector<int> group = deviceGroup(devMatrix, axes, rank - stageBase);
  for (int &member : group)
    member += stageBase;
  return group;
}

llvm::Error Interpreter::collective(Operation *op) {
  if (!rank_ || !rank_->communicator)
    return opError(op, "a collective needs the ranks of a distributed run: run the per-rank programs together "
                       "(this one ran alone)");
  Communicator &comm = *rank_->communicator;
  Communicator::Timeout timeout = rank_->timeout;
  auto failed = [&](llvm::Error err) {
    return opError(op, "rank " + std::to_string(comm.rank()) + ": " + llvm::toString(std::move(err)));
  };
  if (auto send = llvm::dyn_cast<dist::SendOp>(op)) {
    const Buffer &x = in(send.getInput());
    int stageSize = rank_->stageSize > 0 ? rank_->stageSize : comm.size();
    int peer = static_cast<int>(send.getPeerStage()) * stageSize + comm.rank() % stageSize;
    if (peer < 0 || peer >= comm.size())
      return opError(op, "stage " + std::to_string(send.getPeerStage()) + " is not in this run");
    if (llvm::Error err =
            comm.send(peer, x.dtype, x.bytes(), x.numElements(), static_cast<int>(send.getSrTag()), timeout))
      return failed(std::move(err));
    return llvm::Error::success();
  }
  if (auto recv = llvm::dyn_cast<dist::RecvOp>(op)) {
    Buffer &y = define(recv.getResult());
    int stageSize = rank_->stageSize > 0 ? rank_->stageSize : comm.size();
    int peer = static_cast<int>(recv.getPeerStage()) * stageSize + comm.rank() % stageSize;
    if (peer < 0 || peer >= comm.size())
      return opError(op, "stage " + std::to_string(recv.getPeerStage()) + " is not in this run");
    if (llvm::Error err =
            comm.recv(peer, y.dtype, y.data.data(), y.numElements(), static_cast<int>(recv.getSrTag()), timeout))
      return failed(std::move(err));
    return llvm::Error::success();
  }
  // Every collective's group, through the interface all of them implement.
  auto collectiveOp = llvm::cast<dist::CollectiveOpInterface>(op);
  auto group = groupFor(op, collectiveOp.getGroupDevMatrix().getDims(), collectiveOp.getGroupAxes());
  if (!group)
    return group.takeError();
  if (auto reduce = llvm::dyn_cast<dist::AllReduceOp>(op)) {
    const Buffer &x = in(reduce.getInput());
    Buffer &y = define(reduce.getResult());
    if (llvm::Error err = comm.allReduce(*group, x.dtype, x.bytes(), y.data.data(), x.numElements(),
                                         reduceOpOf(reduce.getKind()), timeout))
      return failed(std::move(err));
    return llvm::Error::success();
  }
  if (auto gather = llvm::dyn_cast<dist::AllGatherOp>(op)) {
    const Buffer &x = in(gather.getInput());
    Buffer &y = define(gather.getResult());
    int64_t parts = group->size(), dim = gather.getDim();
    // Members' pieces arrive one after another; along dimension 0 that is
    // the result already, along another they are interleaved into it.
    bool leading = product(llvm::ArrayRef<int64_t>(x.shape).take_front(dim)) == 1;
    std::vector<char> staging(leading ? 0 : y.data.size());
    char *target = leading ? y.data.data() : staging.data();
    if (llvm::Error err = comm.allGather(*group, x.dtype, x.bytes(), target, x.numElements(), timeout))
      return failed(std::move(err));
    if (!leading)
      unpackParts(staging.data(), y.data.data(), Blocks(y.shape, dim, parts, y.elementBytes()), parts);
    return llvm::Error::success();
  }
  if (auto scatter = llvm::dyn_cast<dist::ReduceScatterOp>(op)) {
    const Buffer &x = in(scatter.getInput());
    Buffer &y = define(scatter.getResult());
    int64_t parts = group->size(), dim = scatter.getDim();
    bool leading = product(llvm::ArrayRef<int64_t>(x.shape).take_front(dim)) == 1;
    std::vector<char> staging(leading ? 0 : x.byteSize());
    if (!leading)
      packParts(x.bytes(), staging.data(), Blocks(x.shape, dim, parts, x.elementBytes()), parts);
    if (llvm::Error err = comm.reduceScatter(*group, x.dtype, leading ? x.bytes() : staging.data(), y.data.data(),
                                             y.numElements(), reduceOpOf(scatter.getKind()), timeout))
      return failed(std::move(err));
    return llvm::Error::success();
  }
  if (auto exchange = llvm::dyn_cast<dist::AllToAllOp>(op)) {
    const Buffer &x = in(exchange.getInput());
    Buffer &y = define(exchange.getResult());
    int64_t parts = group->size();
    std::vector<char> sent(x.byteSize()), received(y.data.size());
    packParts(x.bytes(), sent.data(), Blocks(x.shape, exchange.getSplitDim(), parts, x.elementBytes()), parts);
    if (llvm::Error err =
            comm.allToAll(*group, x.dtype, sent.data(), received.data(), x.numElements() / parts, timeout))
      return failed(std::move(err));
    unpackParts(received.data(), y.data.data(), Blocks(y.shape, exchange.getConcatDim(), parts, y.elementBytes()),
                parts);
    return llvm::Error::success();
  }
  if (auto split = llvm::dyn_cast<dist::LocalSplitOp>(op)) {
    const Buffer &x = in(split.getInput());
    Buffer &y = define(split.getResult());
    int64_t parts = group->size();
    int64_t position = llvm::find(*group, comm.rank()) - group->begin();
    Blocks b(x.shape, split.getDim(), parts, x.elementBytes());
    for (int64_t o = 0; o < b.outer; ++o)
      copyBytes(y.data.data() + o * b.pieceBytes, x.bytes() + o * b.rowBytes + position * b.pieceBytes, b.pieceBytes);
    return llvm::Error::success();
  }
  auto broadcast = llvm::cast<dist::BroadcastOp>(op);
  const Buffer &x = in(broadcast.getInput());
  Buffer &y = define(broadcast.getResult());
  copyBytes(y.data.data(), x.bytes(), y.data.size());
  if (llvm::Error err = comm.broadcast(*group, y.dtype, y.data.data(), y.numElements(),
                                       static_cast<int>(broadcast.getRoot()), timeout))
    return failed(std::move(err));
  return llvm::Error::success();
}

} // namespace dinfer::interp

Kernel dinfer::interp::selectCollectivesKernel(Operation *op) {
  return llvm::TypeSwitch<Operation *, Kernel>(op)
      .Case<dist::CollectiveOpInterface, dist::SendOp, dist::RecvOp>([](Operation *) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          Operation *o = op;
          return self.collective(o);
        };
      })
      .Case([](dist::ShardOffsetOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto o = llvm::cast<dist::ShardOffsetOp>(op);

          if (!self.rank_ || !self.rank_->communicator)
            return opError(op, "a shard offset needs the ranks of a distributed run");
          auto group = self.groupFor(op, o.getDevMatrix().getDims(), o.getAxes());
          if (!group)
            return group.takeError();
          int64_t position = llvm::find(*group, self.rank_->communicator->rank()) - group->begin();
          self.define(o.getResult()).as<int64_t>()[0] = position * static_cast<int64_t>(o.getPiece());
          return llvm::Error::success();
        };
      })
      .Default([](Operation *) -> Kernel { return nullptr; });
}
