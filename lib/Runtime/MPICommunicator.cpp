//===- MPICommunicator.cpp - collectives between processes over Open MPI --===//
//
// Groups become MPI communicators, created once per rank list and cached.
// Every call is posted non-blocking and polled until its deadline; MPI has no
// way to cancel a collective, so a deadline that passes stops the run.
// Element types travel as bytes: reductions happen in dinfer's own code, in
// group order, never in MPI's (whose order is unspecified).
//
//===----------------------------------------------------------------------===//

#include "dinfer/Runtime/MPICommunicator.h"

#include "CollectiveCommon.h"

#include "llvm/Support/FormatVariadic.h"

#include <mpi.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

using namespace dinfer;

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string mpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, length);
}

/// Stops the run if a blocking MPI call (communicator creation, which has no
/// non-blocking form) outlives its deadline.
class Watchdog {
public:
  Watchdog(std::string what, Communicator::Timeout timeout) : what_(std::move(what)) {
    thread_ = std::thread([this, timeout] {
      auto deadline = std::chrono::steady_clock::now() + timeout;
      while (!done_.load()) {
        if (std::chrono::steady_clock::now() > deadline)
          abortMPIRun(what_ + " timed out after " + std::to_string(timeout.count()) + " ms");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
  ~Watchdog() {
    done_.store(true);
    thread_.join();
  }

private:
  std::string what_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

class MPICommunicator final : public Communicator {
public:
  explicit MPICommunicator(bool ownsMPI) : ownsMPI_(ownsMPI) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  ~MPICommunicator() override {
    for (auto &entry : groups_)
      MPI_Comm_free(&entry.second.comm);
    if (ownsMPI_)
      MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void abort(const std::string &reason) override { abortMPIRun(reason); }

  llvm::Error allReduce(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count, ReduceOp op,
                        Timeout timeout) override {
    // Chunk i of every member goes to member i, which reduces it in group
    // order; then every member gathers the reduced chunks in place.
    auto members = groupFor(group, "all_reduce", timeout);
    if (!members)
      return members.takeError();
    if (llvm::Error err = checkReducible(dtype))
      return err;
    size_t elementBytes = dtypeBits(dtype) / 8, n = group.size(), me = members->position;
    std::vector<int> chunkBytes(n), chunkOffsets(n);
    for (size_t i = 0; i < n; ++i) {
      auto [begin, end] = chunkBounds(count, n, i);
      if ((end - begin) * elementBytes > INT_MAX || begin * elementBytes > INT_MAX)
        return tooLarge("all_reduce", group, count * elementBytes);
      chunkBytes[i] = int((end - begin) * elementBytes);
      chunkOffsets[i] = int(begin * elementBytes);
    }
    std::vector<char> pieces(size_t(chunkBytes[me]) * n);
    std::vector<int> myCounts(n, chunkBytes[me]), pieceOffsets(n);
    for (size_t i = 0; i < n; ++i)
      pieceOffsets[i] = int(i * chunkBytes[me]);
    MPI_Request request;
    if (llvm::Error err = post("all_reduce", group,
                               MPI_Ialltoallv(in, chunkBytes.data(), chunkOffsets.data(), MPI_BYTE, pieces.data(),
                                              myCounts.data(), pieceOffsets.data(), MPI_BYTE, members->comm, &request)))
      return err;
    if (llvm::Error err = wait(request, "all_reduce", group, timeout))
      return err;
    std::vector<const char *> inputs(n);
    for (size_t i = 0; i < n; ++i)
      inputs[i] = pieces.data() + pieceOffsets[i];
    char *result = static_cast<char *>(out);
    if (llvm::Error err = reduceInGroupOrder(dtype, inputs, 0, result + chunkOffsets[me],
                                             chunkBytes[me] / std::max<size_t>(elementBytes, 1), op))
      return err;
    if (llvm::Error err = post("all_reduce", group,
                               MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, result, chunkBytes.data(),
                                               chunkOffsets.data(), MPI_BYTE, members->comm, &request)))
      return err;
    return wait(request, "all_reduce", group, timeout);
  }

  llvm::Error allGather(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                        Timeout timeout) override {
    auto members = groupFor(group, "all_gather", timeout);
    if (!members)
      return members.takeError();
    auto bytes = byteCount("all_gather", group, dtype, count, group.size());
    if (!bytes)
      return bytes.takeError();
    MPI_Request request;
    if (llvm::Error err = post("all_gather", group,
                               MPI_Iallgather(in, *bytes, MPI_BYTE, out, *bytes, MPI_BYTE, members->comm, &request)))
      return err;
    return wait(request, "all_gather", group, timeout);
  }

  llvm::Error reduceScatter(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                            ReduceOp op, Timeout timeout) override {
    auto members = groupFor(group, "reduce_scatter", timeout);
    if (!members)
      return members.takeError();
    if (llvm::Error err = checkReducible(dtype))
      return err;
    size_t n = group.size();
    auto bytes = byteCount("reduce_scatter", group, dtype, count, n);
    if (!bytes)
      return bytes.takeError();
    std::vector<char> pieces(size_t(*bytes) * n);
    MPI_Request request;
    if (llvm::Error err =
            post("reduce_scatter", group,
                 MPI_Ialltoall(in, *bytes, MPI_BYTE, pieces.data(), *bytes, MPI_BYTE, members->comm, &request)))
      return err;
    if (llvm::Error err = wait(request, "reduce_scatter", group, timeout))
      return err;
    std::vector<const char *> inputs(n);
    for (size_t i = 0; i < n; ++i)
      inputs[i] = pieces.data() + i * size_t(*bytes);
    return reduceInGroupOrder(dtype, inputs, 0, static_cast<char *>(out), count, op);
  }

  llvm::Error allToAll(llvm::ArrayRef<int> group, DType dtype, const void *in, void *out, size_t count,
                       Timeout timeout) override {
    auto members = groupFor(group, "all_to_all", timeout);
    if (!members)
      return members.takeError();
    auto bytes = byteCount("all_to_all", group, dtype, count, group.size());
    if (!bytes)
      return bytes.takeError();
    MPI_Request request;
    if (llvm::Error err = post("all_to_all", group,
                               MPI_Ialltoall(in, *bytes, MPI_BYTE, out, *bytes, MPI_BYTE, members->comm, &request)))
      return err;
    return wait(request, "all_to_all", group, timeout);
  }

  llvm::Error broadcast(llvm::ArrayRef<int> group, DType dtype, void *buffer, size_t count, int root,
                        Timeout timeout) override {
    auto members = groupFor(group, "broadcast", timeout);
    if (!members)
      return members.takeError();
    if (root < 0 || size_t(root) >= group.size())
      return error(
          llvm::formatv("broadcast on group {0}: root position {1} is outside the group", groupText(group), root));
    auto bytes = byteCount("broadcast", group, dtype, count, 1);
    if (!bytes)
      return bytes.takeError();
    MPI_Request request;
    if (llvm::Error err = post("broadcast", group, MPI_Ibcast(buffer, *bytes, MPI_BYTE, root, members->comm, &request)))
      return err;
    return wait(request, "broadcast", group, timeout);
  }

  llvm::Error send(int peer, DType dtype, const void *in, size_t count, int tag, Timeout timeout) override {
    if (llvm::Error err = checkPeer("send", peer))
      return err;
    auto bytes = byteCount("send", {rank_, peer}, dtype, count, 1);
    if (!bytes)
      return bytes.takeError();
    MPI_Request request;
    if (llvm::Error err =
            post("send", {rank_, peer}, MPI_Isend(in, *bytes, MPI_BYTE, peer, tag, MPI_COMM_WORLD, &request)))
      return err;
    return wait(request, llvm::formatv("send to rank {0} (tag {1})", peer, tag).str(), {rank_, peer}, timeout);
  }

  llvm::Error recv(int peer, DType dtype, void *out, size_t count, int tag, Timeout timeout) override {
    if (llvm::Error err = checkPeer("recv", peer))
      return err;
    auto bytes = byteCount("recv", {peer, rank_}, dtype, count, 1);
    if (!bytes)
      return bytes.takeError();
    MPI_Request request;
    if (llvm::Error err =
            post("recv", {peer, rank_}, MPI_Irecv(out, *bytes, MPI_BYTE, peer, tag, MPI_COMM_WORLD, &request)))
      return err;
    MPI_Status status;
    std::string call = llvm::formatv("recv from rank {0} (tag {1})", peer, tag).str();
    if (llvm::Error err = wait(request, call, {peer, rank_}, timeout, &status))
      return err;
    int received = 0;
    MPI_Get_count(&status, MPI_BYTE, &received);
    if (received != *bytes)
      return error(llvm::formatv("{0} in rank {1}: expected {2} bytes, got {3}", call, rank_, *bytes, received));
    return llvm::Error::success();
  }

private:
  struct Group {
    MPI_Comm comm = MPI_COMM_NULL;
    size_t position = 0;
  };

  llvm::Expected<Group> groupFor(llvm::ArrayRef<int> group, llvm::StringRef call, Timeout timeout) {
    std::vector<int> key(group.begin(), group.end());
    auto found = groups_.find(key);
    if (found != groups_.end())
      return found->second;
    std::vector<int> sorted(key);
    llvm::sort(sorted);
    if (sorted.empty() || sorted.front() < 0 || sorted.back() >= size_ ||
        std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return error(llvm::formatv("{0} on group {1}: a group lists distinct ranks of the {2} in the run", call,
                                 groupText(group), size_));
    auto position = llvm::find(group, rank_);
    if (position == group.end())
      return error(
          llvm::formatv("{0} on group {1}: rank {2} is not a member of the group", call, groupText(group), rank_));
    Group created;
    created.position = position - group.begin();
    MPI_Group world, members;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    MPI_Group_incl(world, int(key.size()), key.data(), &members);
    int rc;
    {
      Watchdog watchdog(llvm::formatv("creating the communicator of group {0} for {1}", groupText(group), call).str(),
                        timeout);
      rc = MPI_Comm_create_group(MPI_COMM_WORLD, members, /*tag=*/0, &created.comm);
    }
    MPI_Group_free(&members);
    MPI_Group_free(&world);
    if (rc != MPI_SUCCESS)
      return error(llvm::formatv("{0} on group {1}: {2}", call, groupText(group), mpiErrorText(rc)));
    MPI_Comm_set_errhandler(created.comm, MPI_ERRORS_RETURN);
    groups_.emplace(std::move(key), created);
    return created;
  }

  static llvm::Error checkReducible(DType dtype) {
    // Every member checks before communicating, so all of them fail alike.
    return reduceInGroupOrder(dtype, {}, 0, nullptr, 0, ReduceOp::Sum);
  }

  llvm::Error checkPeer(llvm::StringRef call, int peer) {
    if (peer < 0 || peer >= size_ || peer == rank_)
      return error(llvm::formatv("{0} in rank {1}: peer {2} is not another rank of the {3} in the run", call, rank_,
                                 peer, size_));
    return llvm::Error::success();
  }

  llvm::Error tooLarge(llvm::StringRef call, llvm::ArrayRef<int> group, size_t bytes) {
    return error(llvm::formatv("{0} on group {1}: {2} bytes is more than one MPI call moves (2 GiB per rank); "
                               "split the tensor",
                               call, groupText(group), bytes));
  }

  /// The bytes of `count` elements, checked against MPI's int counts.
  llvm::Expected<int> byteCount(llvm::StringRef call, llvm::ArrayRef<int> group, DType dtype, size_t count,
                                size_t pieces) {
    size_t bytes = count * dtypeBits(dtype) / 8;
    if (bytes > INT_MAX || bytes * pieces > INT_MAX)
      return tooLarge(call, group, bytes * pieces);
    return int(bytes);
  }

  llvm::Error post(llvm::StringRef call, llvm::ArrayRef<int> group, int rc) {
    if (rc == MPI_SUCCESS)
      return llvm::Error::success();
    return error(llvm::formatv("{0} on group {1} in rank {2}: {3}", call, groupText(group), rank_, mpiErrorText(rc)));
  }

  /// Polls `request` until it completes; past the deadline the run stops.
  llvm::Error wait(MPI_Request &request, llvm::StringRef call, llvm::ArrayRef<int> group, Timeout timeout,
                   MPI_Status *status = MPI_STATUS_IGNORE) {
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + timeout;
    for (unsigned polls = 0;; ++polls) {
      int done = 0;
      int rc = MPI_Test(&request, &done, status);
      if (rc != MPI_SUCCESS)
        return post(call, group, rc);
      if (done)
        return llvm::Error::success();
      auto now = std::chrono::steady_clock::now();
      if (now > deadline)
        abortMPIRun(
            llvm::formatv("{0} on group {1} timed out after {2} ms", call, groupText(group), timeout.count()).str());
      // Open MPI moves non-blocking collectives forward only inside MPI calls,
      // so poll hard while a call is young; past a second it is waiting for a
      // late rank, and polling gently leaves the core to whoever needs it.
      if (now - start > std::chrono::seconds(1))
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      else if (polls % 64 == 63)
        std::this_thread::yield();
    }
  }

  bool ownsMPI_;
  int rank_ = 0, size_ = 1;
  std::map<std::vector<int>, Group> groups_;
};

} // namespace

void dinfer::abortMPIRun(const std::string &message) {
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "dinfer: rank %d: %s; stopping every rank\n", rank, message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 3);
  std::_Exit(3);
}

llvm::Expected<std::unique_ptr<Communicator>> dinfer::createMPICommunicator(int *argc, char ***argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // Multiple: the watchdog of communicator creation may call MPI_Abort from its own thread.
    if (int rc = MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided); rc != MPI_SUCCESS)
      return error("MPI_Init_thread failed: " + mpiErrorText(rc));
  }
  return std::make_unique<MPICommunicator>(!initialized);
}
