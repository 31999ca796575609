//===- collectives.cpp - in-process all_reduce against memcpy -------------===//
//
// N threads, one per rank of an in-process world, each all-reduce (sum) a
// float32 buffer of the given size; side by side, the same N threads each
// memcpy a buffer of the same size. The figure is the all_reduce throughput
// (bytes of one rank's buffer per second) as a ratio of memcpy's (goal:
// >= 0.5). Each measurement is the best of several rounds, so that a noisy
// neighbour on a shared machine costs rounds, not the result.
//
// Usage: dinfer-bench-collectives [RANKS] [MiB] [ROUNDS]
//
//===----------------------------------------------------------------------===//

#include "dinfer/Runtime/Communicator.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

using namespace dinfer;
using clock_type = std::chrono::steady_clock;

namespace {
/// Runs `body(rank)` on `ranks` threads `rounds` times, all threads starting
/// together; returns the fastest round's wall time in seconds.
template <typename Body>
double bestRound(int ranks, int rounds, Body body) {
  double best = 1e30;
  for (int round = 0; round < rounds; ++round) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int rank = 0; rank < ranks; ++rank)
      threads.emplace_back([&, rank] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire))
          std::this_thread::yield();
        body(rank);
      });
    while (ready.load() < ranks)
      std::this_thread::yield();
    auto began = clock_type::now();
    go.store(true, std::memory_order_release);
    for (auto &thread : threads)
      thread.join();
    best = std::min(best, std::chrono::duration<double>(clock_type::now() - began).count());
  }
  return best;
}
} // namespace

int main(int argc, char **argv) {
  int ranks = argc > 1 ? std::atoi(argv[1]) : 2;
  size_t mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64;
  int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
  if (ranks < 1 || mib == 0 || rounds < 1) {
    llvm::errs() << "usage: dinfer-bench-collectives [RANKS>=1] [MiB>0] [ROUNDS>=1]\n";
    return 2;
  }
  size_t count = mib * (1 << 20) / sizeof(float);
  size_t bytes = count * sizeof(float);

  std::vector<std::vector<float>> inputs(ranks), outputs(ranks);
  for (int rank = 0; rank < ranks; ++rank) {
    inputs[rank].assign(count, float(rank + 1));
    outputs[rank].assign(count, 0.0f); // touch every page before timing
  }

  double copySeconds = bestRound(ranks, rounds, [&](int rank) {
    std::memcpy(outputs[rank].data(), inputs[rank].data(), bytes);
  });

  auto world = createInProcessWorld(ranks);
  std::vector<int> group(ranks);
  std::iota(group.begin(), group.end(), 0);
  std::vector<std::string> errors(ranks);
  double reduceSeconds = bestRound(ranks, rounds, [&](int rank) {
    if (llvm::Error err = world[rank]->allReduce(group, DType::Float32, inputs[rank].data(), outputs[rank].data(),
                                                 count, ReduceOp::Sum, std::chrono::seconds(60)))
      errors[rank] = llvm::toString(std::move(err));
  });
  for (int rank = 0; rank < ranks; ++rank)
    if (!errors[rank].empty()) {
      llvm::errs() << "dinfer-bench-collectives: rank " << rank << ": " << errors[rank] << "\n";
      return 1;
    }
  float expected = float(ranks) * float(ranks + 1) / 2;
  for (int rank = 0; rank < ranks; ++rank)
    if (outputs[rank].front() != expected || outputs[rank].back() != expected) {
      llvm::errs() << "dinfer-bench-collectives: rank " << rank << " reduced to " << outputs[rank].front()
                   << ", expected " << expected << "\n";
      return 1;
    }

  double gib = double(bytes) / double(1 << 30);
  llvm::outs() << llvm::formatv("ranks {0}, {1} MiB float32 per rank, best of {2} rounds, "
                                "{3} hardware threads\n",
                                ranks, mib, rounds, std::thread::hardware_concurrency());
  llvm::outs() << llvm::formatv("  memcpy      {0,8:f2} ms  {1,7:f2} GiB/s per rank\n", copySeconds * 1e3,
                                gib / copySeconds);
  llvm::outs() << llvm::formatv("  all_reduce  {0,8:f2} ms  {1,7:f2} GiB/s per rank\n", reduceSeconds * 1e3,
                                gib / reduceSeconds);
  llvm::outs() << llvm::formatv("all_reduce / memcpy throughput: {0:f2} (goal >= 0.5)\n", copySeconds / reduceSeconds);
  return 0;
}
