//===- InProcessCommunicator.cpp - collectives between threads ------------===//
//
// Every member of a call publishes its buffers in a rendezvous slot, waits
// for the others, computes its own output straight from their memory, and
// leaves once everyone has read: no copies beyond the result itself.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Runtime/Communicator.h"

#include "CollectiveCommon.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>

using namespace dinfer;

namespace {

/// The memory all ranks of one process share.
class World {
public:
  explicit World(int size) : size_(size), sequence_(size) {}

  struct Slot {
    std::string call;
    size_t count = 0;
    std::vector<const char *> inputs;
    std::vector<char *> outputs;
    int arrived = 0, midway = 0, departed = 0, finished = 0;
  };

  using Work = llvm::function_ref<llvm::Error(Slot &, size_t)>;

  /// Runs `work(slot, position)` once every member has published its
  /// buffers, then waits until every member is done with the others' memory.
  /// A `secondPhase` runs after every member has finished `work`.
  llvm::Error rendezvous(int rank, llvm::ArrayRef<int> group, llvm::StringRef call, size_t count, const void *in,
                         void *out, Communicator::Timeout timeout, Work work, Work secondPhase = nullptr) {
    auto position = llvm::find(group, rank);
    if (position == group.end())
      return fail(rank, call, group, "rank " + std::to_string(rank) + " is not a member of the group");
    size_t me = position - group.begin();
    std::vector<int> key(group.begin(), group.end());
    std::unique_lock<std::mutex> lock(mutex_);
    if (!aborted_.empty())
      return error(aborted_);
    uint64_t sequence = sequence_[rank][key]++;
    Slot &slot = slots_[{key, sequence}];
    if (slot.inputs.empty()) {
      slot.call = call.str();
      slot.count = count;
      slot.inputs.assign(group.size(), nullptr);
      slot.outputs.assign(group.size(), nullptr);
    } else if (slot.call != call || slot.count != count) {
      return abort(llvm::formatv("rank {0} called {1} of {2} elements on group {3} where another member called {4} "
                                 "of {5}",
                                 rank, call, count, groupText(group), slot.call, slot.count)
                       .str());
    }
    slot.inputs[me] = static_cast<const char *>(in);
    slot.outputs[me] = static_cast<char *>(out);
    ++slot.arrived;
    changed_.notify_all();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto waitFor = [&](auto done) -> llvm::Error {
      while (!done()) {
        if (!aborted_.empty())
          return error(aborted_);
        if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && !done()) {
          std::vector<int> missing;
          for (size_t i = 0; i < group.size(); ++i)
            if (!slot.inputs[i])
              missing.push_back(group[i]);
          return abort(
              llvm::formatv("{0} on group {1} timed out after {2} ms in rank {3}, waiting for {4}", call,
                            groupText(group), timeout.count(), rank,
                            missing.empty() ? std::string("the others to finish") : "rank(s) " + groupText(missing))
                  .str());
        }
      }
      return llvm::Error::success();
    };
    if (llvm::Error err = waitFor([&] { return slot.arrived == static_cast<int>(group.size()); }))
      return err;
    lock.unlock();
    llvm::Error result = work(slot, me);
    if (secondPhase) {
      lock.lock();
      ++slot.midway;
      changed_.notify_all();
      if (llvm::Error err = waitFor([&] { return slot.midway == static_cast<int>(group.size()); })) {
        llvm::consumeError(std::move(result));
        return err;
      }
      lock.unlock();
      if (!result)
        result = secondPhase(slot, me);
    }
    lock.lock();
    ++slot.departed;
    changed_.notify_all();
    if (llvm::Error err = waitFor([&] { return slot.departed == static_cast<int>(group.size()); })) {
      llvm::consumeError(std::move(result));
      return err;
    }
    // The last member to see everyone leave frees the slot: nobody reads it after.
    if (++slot.finished == static_cast<int>(group.size()))
      slots_.erase({key, sequence});
    return result;
  }

  llvm::Error post(int from, int to, int tag, const void *data, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!aborted_.empty())
      return error(aborted_);
    mailbox_[{from, to, tag}].emplace_back(static_cast<const char *>(data), static_cast<const char *>(data) + bytes);
    changed_.notify_all();
    return llvm::Error::success();
  }

  llvm::Error take(int from, int to, int tag, void *data, size_t bytes, Communicator::Timeout timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::tuple<int, int, int> key{from, to, tag};
    while (mailbox_[key].empty()) {
      if (!aborted_.empty())
        return error(aborted_);
      if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && mailbox_[key].empty())
        return abort(llvm::formatv("recv in rank {0} from rank {1} (tag {2}) timed out after {3} ms", to, from, tag,
                                   timeout.count())
                         .str());
    }
    std::vector<char> message = std::move(mailbox_[key].front());
    mailbox_[key].erase(mailbox_[key].begin());
    if (message.size() != bytes)
      return abort(llvm::formatv("recv in rank {0} from rank {1} (tag {2}) expected {3} bytes, got {4}", to, from, tag,
                                 bytes, message.size())
                       .str());
    if (bytes)
      std::memcpy(data, message.data(), bytes);
    return llvm::Error::success();
  }

  int size() const { return size_; }

  /// Fails every pending and later call of every rank.
  void stop(const std::string &message) {
    std::lock_guard<std::mutex> lock(mutex_);
    llvm::consumeError(abort(message));
  }

private:
  static llvm::Error error(const std::string &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  }
  /// Fails this call and every call of every rank from now on.
  llvm::Error abort(const std::string &message) {
    if (aborted_.empty())
      aborted_ = message;
    changed_.notify_all();
    return error(message);
  }
  llvm::Error fail(int rank, llvm::StringRef call, llvm::ArrayRef<int> group, const std::string &why) {
    return error(llvm::formatv("{0} on group {1}: {2}", call, groupText(group), why).str());
  }

  int size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string aborted_;
  std::vector<std::map<std::vector<int>, uint64_t>> sequence_;
  std::map<std::pair<std::vector<int>, uint64_t>, Slot> slots_;
  std::map<std::tuple<int, int, int>, std::vector<std::vector<char>>> mailbox_;
};

class InProcessCommunicator final : public Communicator {
public:
  InProcessCommunicator(std::shared_ptr<World> world, int rank) : world_(std::move(world)), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return world_->size(); }
  void abort(const std::string &reason) override {
    world_->stop(llvm::formatv("rank {0} stopped the run: {1}", rank_, reason).str());
  }

  llvm::Error allReduce(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count, ReduceOp op,
                        Timeout timeout) override {
    // Each member reduces one chunk of every input into its own output, then
    // copies the others' chunks: every byte is read about twice, as in a
    // reduce-scatter followed by an all-gather, however many members there are.
    size_t members = group.size();
    size_t elementBytes = dtypeBits(dtype) / 8;
    auto chunk = [&](size_t position) {
      auto [begin, end] = chunkBounds(count, members, position);
      return std::pair<size_t, size_t>(begin * elementBytes, end - begin);
    };
    return world_->rendezvous(
        rank_, group, "all_reduce", count, in, out, timeout,
        [&](World::Slot &slot, size_t me) {
          auto [offset, elements] = chunk(me);
          return reduceInGroupOrder(dtype, slot.inputs, offset, slot.outputs[me] + offset, elements, op);
        },
        [&](World::Slot &slot, size_t me) {
          for (size_t other = 0; other < members; ++other) {
            auto [offset, elements] = chunk(other);
            if (other != me && elements)
              std::memcpy(slot.outputs[me] + offset, slot.outputs[other] + offset, elements * elementBytes);
          }
          return llvm::Error::success();
        });
  }

  llvm::Error allGather(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                        Timeout timeout) override {
    size_t bytes = count * dtypeBits(dtype) / 8;
    return world_->rendezvous(rank_, group, "all_gather", count, in, out, timeout, [&](World::Slot &slot, size_t me) {
      for (size_t k = 0; k < slot.inputs.size(); ++k)
        if (bytes)
          std::memcpy(slot.outputs[me] + k * bytes, slot.inputs[k], bytes);
      return llvm::Error::success();
    });
  }

  llvm::Error reduceScatter(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                            ReduceOp op, Timeout timeout) override {
    size_t bytes = count * dtypeBits(dtype) / 8;
    return world_->rendezvous(rank_, group, "reduce_scatter", count, in, out, timeout,
                              [&](World::Slot &slot, size_t me) {
                                return reduceInGroupOrder(dtype, slot.inputs, me * bytes, slot.outputs[me], count, op);
                              });
  }

  llvm::Error allToAll(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                       Timeout timeout) override {
    size_t bytes = count * dtypeBits(dtype) / 8;
    return world_->rendezvous(rank_, group, "all_to_all", count, in, out, timeout, [&](World::Slot &slot, size_t me) {
      for (size_t k = 0; k < slot.inputs.size(); ++k)
        if (bytes)
          std::memcpy(slot.outputs[me] + k * bytes, slot.inputs[k] + me * bytes, bytes);
      return llvm::Error::success();
    });
  }

  llvm::Error broadcast(llvm::ArrayRef<int> group, DType dtype, void *buffer, size_t count, int root,
                        Timeout timeout) override {
    if (root < 0 || root >= static_cast<int>(group.size()))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "broadcast root " + std::to_string(root) + " is not a position in the group");
    size_t bytes = count * dtypeBits(dtype) / 8;
    return world_->rendezvous(rank_, group, "broadcast", count, buffer, buffer, timeout,
                              [&](World::Slot &slot, size_t me) {
                                if (static_cast<int>(me) != root && bytes)
                                  std::memcpy(slot.outputs[me], slot.inputs[root], bytes);
                                return llvm::Error::success();
                              });
  }

  llvm::Error send(int peer, DType dtype, const void *in, size_t count, int tag, Timeout) override {
    return world_->post(rank_, peer, tag, in, count * dtypeBits(dtype) / 8);
  }

  llvm::Error recv(int peer, DType dtype, void *out, size_t count, int tag, Timeout timeout) override {
    return world_->take(peer, rank_, tag, out, count * dtypeBits(dtype) / 8, timeout);
  }

private:
  std::shared_ptr<World> world_;
  int rank_;
};

} // namespace

std::vector<std::unique_ptr<Communicator>> dinfer::createInProcessWorld(int size) {
  auto world = std::make_shared<World>(size);
  std::vector<std::unique_ptr<Communicator>> ranks;
  for (int r = 0; r < size; ++r)
    ranks.push_back(std::make_unique<InProcessCommunicator>(world, r));
  return ranks;
}
