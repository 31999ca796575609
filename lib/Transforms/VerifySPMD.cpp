//===- VerifySPMD.cpp - the ranks' communication matches ------------------===//

#include "dinfer/Transforms/Passes.h"

#include "dialects/dist/DistOps.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace dinfer {
#define GEN_PASS_DEF_DISTVERIFYSPMD
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

/// One step of a rank that needs other ranks.
struct Event {
  enum Kind { Collective, Send, Recv } kind;
  Operation *op;
  /// Collectives: the group; transfers: the peer rank alone.
  SmallVector<int64_t> ranks;
  uint64_t tag = 0;
  /// What the members must agree on: the op, its attributes and types.
  std::string signature;
};

/// The op's name, attributes (the group and the stage aside) and types.
std::string signatureOf(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName();
  for (NamedAttribute attr : op->getAttrs())
    if (attr.getName() != dist::DistDialect::kGroupAttrName && attr.getName() != dist::DistDialect::kStageAttrName)
      os << " " << attr.getName().strref() << "=" << attr.getValue();
  os << " :";
  for (Type type : op->getOperandTypes())
    os << " " << type;
  os << " ->";
  for (Type type : op->getResultTypes())
    os << " " << type;
  return text;
}

struct DistVerifySPMDPass : dinfer::impl::DistVerifySPMDBase<DistVerifySPMDPass> {
  int64_t devices = 1, stages = 1, stageSize = 1;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<dist::DeviceCounts> counts = dist::deviceCountsOf(module);
    if (!counts) {
      module.emitError("--dist-verify-spmd needs dist.device_num on the module");
      return signalPassFailure();
    }
    devices = counts->devices;
    stages = counts->stages;
    stageSize = counts->stageSize();

    SmallVector<func::FuncOp> rankFunctions(devices);
    for (auto function : module.getOps<func::FuncOp>()) {
      auto rank = function->getAttrOfType<IntegerAttr>(dist::DistDialect::kRankAttrName);
      if (!rank) {
        function.emitError("has no dist.rank: run --dist-split-ranks before --dist-verify-spmd");
        return signalPassFailure();
      }
      func::FuncOp &slot = rankFunctions[rank.getInt()];
      if (slot) {
        InFlightDiagnostic diag = function.emitError() << "is a second function of rank " << rank.getInt();
        diag.attachNote(slot.getLoc()) << "the first is '" << slot.getName() << "'";
        return signalPassFailure();
      }
      slot = function;
    }
    for (int64_t rank = 0; rank < devices; ++rank)
      if (!rankFunctions[rank]) {
        module.emitError() << "rank " << rank << " of " << devices << " has no function";
        return signalPassFailure();
      }
    for (int64_t rank = 0; rank < devices; ++rank)
      if (failed(sameAsStageLeader(rankFunctions[rank], rankFunctions[rank / stageSize * stageSize])))
        return signalPassFailure();

    std::vector<std::vector<Event>> events(devices);
    for (int64_t rank = 0; rank < devices; ++rank)
      if (failed(collectEvents(rankFunctions[rank], rank, events[rank])))
        return signalPassFailure();
    if (failed(play(events)))
      signalPassFailure();
  }

  /// The ranks of one stage run the same ops on the same local types.
  LogicalResult sameAsStageLeader(func::FuncOp function, func::FuncOp leader) {
    if (function == leader)
      return success();
    Block &mine = function.getBody().front(), &theirs = leader.getBody().front();
    auto a = mine.begin(), b = theirs.begin();
    for (; a != mine.end() && b != theirs.end(); ++a, ++b)
      if (a->getName() != b->getName() || a->getResultTypes() != b->getResultTypes()) {
        InFlightDiagnostic diag = a->emitError()
                                  << "differs from the same op of '" << leader.getName() << "' in its stage";
        diag.attachNote(b->getLoc()) << "there it is '" << b->getName() << "'";
        return failure();
      }
    if (a != mine.end() || b != theirs.end())
      return function.emitError() << "has a different number of ops from '" << leader.getName() << "' in its stage";
    return success();
  }

  LogicalResult collectEvents(func::FuncOp function, int64_t rank, std::vector<Event> &out) {
    int64_t stage = rank / stageSize, position = rank % stageSize;
    for (Operation &op : function.getBody().front()) {
      if (auto send = llvm::dyn_cast<dist::SendOp>(op)) {
        int64_t peerStage = static_cast<int64_t>(send.getPeerStage());
        if (peerStage >= stages || peerStage == stage)
          return op.emitError() << "sends from stage " << stage << " to stage " << peerStage << " of " << stages;
        out.push_back({Event::Send, &op, {peerStage * stageSize + position}, send.getSrTag(), signatureOf(&op)});
        continue;
      }
      if (auto recv = llvm::dyn_cast<dist::RecvOp>(op)) {
        int64_t peerStage = static_cast<int64_t>(recv.getPeerStage());
        if (peerStage >= stages || peerStage == stage)
          return op.emitError() << "receives in stage " << stage << " from stage " << peerStage << " of " << stages;
        out.push_back({Event::Recv, &op, {peerStage * stageSize + position}, recv.getSrTag(), signatureOf(&op)});
        continue;
      }
      if (!dist::isCollective(&op))
        continue;
      auto group = op.getAttrOfType<DenseI64ArrayAttr>(dist::DistDialect::kGroupAttrName);
      if (!group)
        return op.emitError("has no dist.group: run --dist-split-ranks before --dist-verify-spmd");
      if (!llvm::is_contained(group.asArrayRef(), rank))
        return op.emitError() << "runs on rank " << rank << " but its group " << group << " does not include it";
      for (int64_t member : group.asArrayRef())
        if (member / stageSize != stage)
          return op.emitError() << "has rank " << member << " of another pipeline stage in its group";
      out.push_back({Event::Collective, &op, SmallVector<int64_t>(group.asArrayRef()), 0, signatureOf(&op)});
    }
    return success();
  }

  /// Plays every rank's events in its own order, an event completing only
  /// when all its parties have reached it (as if every call blocked).
  LogicalResult play(const std::vector<std::vector<Event>> &events) {
    std::vector<size_t> next(devices, 0);
    auto at = [&](int64_t rank) -> const Event * {
      return next[rank] < events[rank].size() ? &events[rank][next[rank]] : nullptr;
    };
    for (bool moved = true; moved;) {
      moved = false;
      for (int64_t rank = 0; rank < devices; ++rank) {
        const Event *event = at(rank);
        if (!event || event->kind == Event::Recv)
          continue;
        if (event->kind == Event::Send) {
          int64_t peer = event->ranks.front();
          const Event *other = at(peer);
          if (!other || other->kind != Event::Recv || other->ranks.front() != rank || other->tag != event->tag)
            continue;
          if (other->op->getResultTypes() != event->op->getOperandTypes()) {
            InFlightDiagnostic diag = event->op->emitError() << "sends " << event->op->getOperandTypes() << " to rank "
                                                             << peer << ", which receives sr_tag " << event->tag
                                                             << " as " << other->op->getResultTypes();
            diag.attachNote(other->op->getLoc()) << "the receive";
            return failure();
          }
          ++next[rank];
          ++next[peer];
          moved = true;
          continue;
        }
        bool ready = true;
        for (int64_t member : event->ranks) {
          const Event *other = at(member);
          if (!other || other->kind != Event::Collective || other->ranks != event->ranks) {
            ready = false;
            break;
          }
          if (other->signature != event->signature) {
            InFlightDiagnostic diag = event->op->emitError()
                                      << "on rank " << rank << " meets a different collective on rank " << member
                                      << " of its group";
            diag.attachNote(other->op->getLoc()) << "rank " << member << " runs '" << other->signature << "'";
            return failure();
          }
        }
        if (!ready)
          continue;
        for (int64_t member : event->ranks)
          ++next[member];
        moved = true;
      }
    }
    SmallVector<int64_t> stuck;
    for (int64_t rank = 0; rank < devices; ++rank)
      if (at(rank))
        stuck.push_back(rank);
    if (stuck.empty())
      return success();
    const Event *first = at(stuck.front());
    InFlightDiagnostic diag = first->op->emitError()
                              << "would deadlock: rank " << stuck.front() << " waits here forever ("
                              << (first->kind == Event::Collective ? "a member of its group never reaches it"
                                  : first->kind == Event::Send     ? "its peer never receives it"
                                                                   : "its peer never sends it")
                              << "); " << stuck.size() << " of " << devices << " ranks are stuck";
    for (int64_t rank : llvm::ArrayRef(stuck).drop_front().take_front(3))
      diag.attachNote(at(rank)->op->getLoc()) << "rank " << rank << " waits at '" << at(rank)->op->getName() << "'";
    return failure();
  }
};

} // namespace
