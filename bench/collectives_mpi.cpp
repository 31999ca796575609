//===- collectives_mpi.cpp - MPI all_reduce against memcpy ----------------===//
//
// The MPI half of bench/collectives_bench.py: run under `mpirun -np N`, each
// process one rank, it measures what dinfer-bench-collectives measures for
// threads: memcpy of one rank's buffer and all_reduce (sum, float32) of it,
// best of several rounds, every round started together by a small
// all_reduce. Rank 0 prints the figures in the same form, and beside them
// Open MPI's own MPI_Allreduce (blocking, reduction order unspecified) as
// the transport's limit.
//
// Usage: mpirun -np N dinfer-bench-collectives-mpi [MiB] [ROUNDS]
//
//===----------------------------------------------------------------------===//

#include "dinfer/Runtime/MPICommunicator.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <vector>

using namespace dinfer;
using clock_type = std::chrono::steady_clock;

int main(int argc, char **argv) {
  auto created = createMPICommunicator(&argc, &argv);
  if (!created) {
    llvm::errs() << llvm::toString(created.takeError()) << "\n";
    return 1;
  }
  Communicator &comm = **created;
  size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 64;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (mib == 0 || rounds < 1) {
    llvm::errs() << "usage: mpirun -np N dinfer-bench-collectives-mpi [MiB>0] [ROUNDS>=1]\n";
    return 2;
  }
  size_t count = mib * (1 << 20) / sizeof(float), bytes = count * sizeof(float);
  std::vector<int> world(comm.size());
  std::iota(world.begin(), world.end(), 0);
  std::vector<float> input(count, float(comm.rank() + 1)), output(count, 0.0f);
  auto timeout = std::chrono::seconds(120);

  // The slowest rank's time of `body`, best over the rounds.
  auto bestRound = [&](auto body) -> llvm::Expected<double> {
    double best = 1e30;
    for (int round = 0; round < rounds; ++round) {
      float token = 0, ignored;
      if (llvm::Error err = comm.allReduce(world, DType::Float32, &token, &ignored, 1, ReduceOp::Sum, timeout))
        return std::move(err);
      auto began = clock_type::now();
      if (llvm::Error err = body())
        return std::move(err);
      double mine = std::chrono::duration<double>(clock_type::now() - began).count(), slowest;
      if (llvm::Error err = comm.allReduce(world, DType::Float64, &mine, &slowest, 1, ReduceOp::Max, timeout))
        return std::move(err);
      best = std::min(best, slowest);
    }
    return best;
  };
  auto copySeconds = bestRound([&]() -> llvm::Error {
    std::memcpy(output.data(), input.data(), bytes);
    return llvm::Error::success();
  });
  if (!copySeconds)
    abortMPIRun(llvm::toString(copySeconds.takeError()));
  auto reduceSeconds = bestRound([&]() -> llvm::Error {
    return comm.allReduce(world, DType::Float32, input.data(), output.data(), count, ReduceOp::Sum, timeout);
  });
  if (!reduceSeconds)
    abortMPIRun(llvm::toString(reduceSeconds.takeError()));
  auto mpiSeconds = bestRound([&]() -> llvm::Error {
    MPI_Allreduce(input.data(), output.data(), int(count), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    return llvm::Error::success();
  });
  if (!mpiSeconds)
    abortMPIRun(llvm::toString(mpiSeconds.takeError()));
  float expected = float(comm.size()) * float(comm.size() + 1) / 2;
  if (output.front() != expected || output.back() != expected)
    abortMPIRun(llvm::formatv("reduced to {0}, expected {1}", output.front(), expected).str());

  if (comm.rank() == 0) {
    double gib = double(bytes) / double(1 << 30);
    llvm::outs() << llvm::formatv("MPI ranks {0}, {1} MiB float32 per rank, best of {2} rounds\n", comm.size(), mib,
                                  rounds);
    llvm::outs() << llvm::formatv("  memcpy      {0,8:f2} ms  {1,7:f2} GiB/s per rank\n", *copySeconds * 1e3,
                                  gib / *copySeconds);
    llvm::outs() << llvm::formatv("  all_reduce  {0,8:f2} ms  {1,7:f2} GiB/s per rank\n", *reduceSeconds * 1e3,
                                  gib / *reduceSeconds);
    llvm::outs() << llvm::formatv("  MPI_Allreduce {0,6:f2} ms  {1,7:f2} GiB/s per rank\n", *mpiSeconds * 1e3,
                                  gib / *mpiSeconds);
    llvm::outs() << llvm::formatv("all_reduce / memcpy throughput: {0:f2}\n", *copySeconds / *reduceSeconds);
    llvm::outs() << llvm::formatv("all_reduce / MPI_Allreduce throughput: {0:f2}\n", *mpiSeconds / *reduceSeconds);
  }
  return 0;
}
