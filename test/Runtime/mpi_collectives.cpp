//===- mpi_collectives.cpp - the MPI communicator under mpirun ------------===//
//
// Run by test/Runtime/mpi-collectives.test under `mpirun -np N`. Every rank
// generates every rank's data from a fixed seed, so each can compute the
// serial reference (element by element in group order) and compare its own
// results bit for bit.
//
//   check    every call on the whole world, on a reversed world, and on two
//            concurrent uneven groups; prints "rank R: ok" per rank
//   missing  the last rank never joins an all_reduce: the others stop the run
//            within the timeout
//   kill     rank 1 dies before an all_reduce: the others stop
//
//===----------------------------------------------------------------------===//

#include "dinfer/Runtime/MPICommunicator.h"

#include "Runtime/CollectiveReference.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

using namespace dinfer;
using namespace dinfer::reference;
using namespace std::chrono_literals;

namespace {

int failures = 0;

void expectSame(const float *got, const float *want, size_t count, const std::string &what, int rank) {
  if (std::memcmp(got, want, count * sizeof(float)) != 0) {
    llvm::errs() << "rank " << rank << ": " << what << " differs from the reference\n";
    ++failures;
  }
}

void expectSuccess(llvm::Error err, int rank) {
  if (err) {
    llvm::errs() << "rank " << rank << ": " << llvm::toString(std::move(err)) << "\n";
    ++failures;
  }
}

/// Every call of the interface on `group`, checked against the reference.
void checkGroup(Communicator &comm, const std::vector<int> &group, const std::string &name) {
  const size_t count = 37;
  int rank = comm.rank();
  size_t n = group.size(), me = std::find(group.begin(), group.end(), rank) - group.begin();
  std::vector<std::vector<float>> inputs;
  for (int member : group)
    inputs.push_back(dataOf(member, count * n));
  const std::vector<float> &mine = inputs[me];

  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod}) {
    std::vector<float> reduced(count * n), scattered(count), wantReduced(count * n), wantScattered(count);
    for (size_t i = 0; i < count * n; ++i) {
      wantReduced[i] = inputs[0][i];
      for (size_t k = 1; k < n; ++k)
        wantReduced[i] = combine(wantReduced[i], inputs[k][i], op);
    }
    for (size_t i = 0; i < count; ++i)
      wantScattered[i] = wantReduced[me * count + i];
    expectSuccess(comm.allReduce(group, DType::Float32, mine.data(), reduced.data(), count * n, op, 20s), rank);
    expectSame(reduced.data(), wantReduced.data(), count * n, name + " all_reduce", rank);
    expectSuccess(comm.reduceScatter(group, DType::Float32, mine.data(), scattered.data(), count, op, 20s), rank);
    expectSame(scattered.data(), wantScattered.data(), count, name + " reduce_scatter", rank);
    std::vector<float> inPlace(mine);
    expectSuccess(comm.allReduce(group, DType::Float32, inPlace.data(), inPlace.data(), count * n, op, 20s), rank);
    expectSame(inPlace.data(), wantReduced.data(), count * n, name + " in-place all_reduce", rank);
  }

  std::vector<float> gathered(count * n), exchanged(count * n), broadcast(mine);
  expectSuccess(comm.allGather(group, DType::Float32, mine.data(), gathered.data(), count, 20s), rank);
  expectSuccess(comm.allToAll(group, DType::Float32, mine.data(), exchanged.data(), count, 20s), rank);
  int root = int(n) - 1;
  expectSuccess(comm.broadcast(group, DType::Float32, broadcast.data(), count * n, root, 20s), rank);
  for (size_t k = 0; k < n; ++k) {
    expectSame(&gathered[k * count], inputs[k].data(), count, name + " all_gather", rank);
    expectSame(&exchanged[k * count], &inputs[k][me * count], count, name + " all_to_all", rank);
  }
  expectSame(broadcast.data(), inputs[root].data(), count * n, name + " broadcast", rank);
}

} // namespace

int main(int argc, char **argv) {
  auto created = createMPICommunicator(&argc, &argv);
  if (!created) {
    llvm::errs() << llvm::toString(created.takeError()) << "\n";
    return 1;
  }
  Communicator &comm = **created;
  std::string mode = argc > 1 ? argv[1] : "check";
  int rank = comm.rank(), size = comm.size();
  std::vector<int> world(size);
  for (int r = 0; r < size; ++r)
    world[r] = r;

  if (mode == "check") {
    checkGroup(comm, world, "world");
    checkGroup(comm, std::vector<int>(world.rbegin(), world.rend()), "reversed world");
    // Two groups at once: the first third of the ranks and the rest, in a shuffled order.
    int split = std::max(1, size / 3);
    std::vector<int> first(world.begin(), world.begin() + split), rest(world.begin() + split, world.end());
    std::rotate(rest.begin(), rest.begin() + rest.size() / 2, rest.end());
    if (!rest.empty() || rank < split)
      checkGroup(comm, rank < split ? first : rest, rank < split ? "first group" : "second group");
    // A ring of send/recv.
    if (size > 1) {
      std::vector<float> mine = dataOf(rank, 11), received(11);
      int next = (rank + 1) % size, previous = (rank + size - 1) % size;
      expectSuccess(comm.send(next, DType::Float32, mine.data(), 11, 7, 20s), rank);
      expectSuccess(comm.recv(previous, DType::Float32, received.data(), 11, 7, 20s), rank);
      expectSame(received.data(), dataOf(previous, 11).data(), 11, "send/recv", rank);
    }
    // Rank 0 reports for everyone, so that the lines of several processes never interleave.
    int32_t mine = failures;
    std::vector<int32_t> all(size);
    expectSuccess(comm.allGather(world, DType::Int32, &mine, all.data(), 1, 20s), rank);
    if (rank == 0) {
      std::vector<int> failed;
      for (int r = 0; r < size; ++r)
        if (all[r])
          failed.push_back(r);
      if (failed.empty())
        llvm::outs() << size << " ranks: every call matches the reference\n";
      for (int r : failed)
        llvm::outs() << "rank " << r << ": " << all[r] << " failures\n";
    }
    return failures ? 1 : 0;
  }

  // One call everyone joins first, so that the failure below hits a running
  // collective rather than the group's creation.
  std::vector<float> data(16, 1.0f), out(16);
  expectSuccess(comm.allReduce(world, DType::Float32, data.data(), out.data(), 16, ReduceOp::Sum, 30s), rank);
  if (mode == "missing") {
    if (rank == size - 1) {
      std::this_thread::sleep_for(60s);
      return 0;
    }
    expectSuccess(comm.allReduce(world, DType::Float32, data.data(), out.data(), 16, ReduceOp::Sum, 1s), rank);
    return 1; // not reached: the timeout stops the run
  }
  if (mode == "kill") {
    if (rank == 1)
      std::raise(SIGKILL);
    expectSuccess(comm.allReduce(world, DType::Float32, data.data(), out.data(), 16, ReduceOp::Sum, 30s), rank);
    return 1;
  }
  llvm::errs() << "unknown mode '" << mode << "': check, missing or kill\n";
  return 2;
}
