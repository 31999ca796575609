//===- CommunicatorTest.cpp - in-process collectives, bit for bit ---------===//

#include "dinfer/Runtime/Communicator.h"

#include "Runtime/CollectiveReference.h"

#include "gtest/gtest.h"

#include <chrono>
#include <cstring>
#include <algorithm>
#include <functional>
#include <numeric>
#include <thread>

using namespace dinfer;
using namespace dinfer::reference;
using namespace std::chrono_literals;

namespace {

/// Runs `body(rank)` on one thread per rank and joins them.
void onRanks(int size, const std::function<void(int)> &body) {
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back(body, r);
  for (std::thread &t : threads)
    t.join();
}

class Collectives : public ::testing::TestWithParam<int> {};

TEST_P(Collectives, MatchTheReferenceBitForBit) {
  const int size = GetParam();
  const size_t count = 37;
  auto world = createInProcessWorld(size);
  std::vector<int> group;
  for (int r = 0; r < size; ++r)
    group.push_back(r);
  std::vector<std::vector<float>> inputs;
  for (int r = 0; r < size; ++r)
    inputs.push_back(dataOf(r, count * size));

  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod}) {
    std::vector<std::vector<float>> reduced(size, std::vector<float>(count)), scattered(size, std::vector<float>(count));
    onRanks(size, [&](int r) {
      ASSERT_FALSE(static_cast<bool>(world[r]->allReduce(group, DType::Float32, inputs[r].data(), reduced[r].data(),
                                                         count, op, 5s)));
      ASSERT_FALSE(static_cast<bool>(world[r]->reduceScatter(group, DType::Float32, inputs[r].data(),
                                                             scattered[r].data(), count, op, 5s)));
    });
    for (int r = 0; r < size; ++r)
      for (size_t i = 0; i < count; ++i) {
        float all = inputs[0][i], piece = inputs[0][r * count + i];
        for (int k = 1; k < size; ++k) {
          all = combine(all, inputs[k][i], op);
          piece = combine(piece, inputs[k][r * count + i], op);
        }
        ASSERT_EQ(std::memcmp(&reduced[r][i], &all, 4), 0) << "all_reduce, rank " << r;
        ASSERT_EQ(std::memcmp(&scattered[r][i], &piece, 4), 0) << "reduce_scatter, rank " << r;
      }
  }

  // In place (in == out), as the runtime calls it on a partial sum it owns.
  std::vector<std::vector<float>> inPlace(inputs);
  onRanks(size, [&](int r) {
    ASSERT_FALSE(static_cast<bool>(world[r]->allReduce(group, DType::Float32, inPlace[r].data(), inPlace[r].data(),
                                                       count * size, ReduceOp::Sum, 5s)));
  });
  for (int r = 0; r < size; ++r)
    for (size_t i = 0; i < count * size; ++i) {
      float all = inputs[0][i];
      for (int k = 1; k < size; ++k)
        all = combine(all, inputs[k][i], ReduceOp::Sum);
      ASSERT_EQ(std::memcmp(&inPlace[r][i], &all, 4), 0) << "in-place all_reduce, rank " << r << ", element " << i;
    }

  std::vector<std::vector<float>> gathered(size, std::vector<float>(count * size)),
      exchanged(size, std::vector<float>(count * size)), broadcast(inputs);
  int root = size - 1;
  onRanks(size, [&](int r) {
    ASSERT_FALSE(static_cast<bool>(
        world[r]->allGather(group, DType::Float32, inputs[r].data(), gathered[r].data(), count, 5s)));
    ASSERT_FALSE(static_cast<bool>(
        world[r]->allToAll(group, DType::Float32, inputs[r].data(), exchanged[r].data(), count, 5s)));
    ASSERT_FALSE(static_cast<bool>(
        world[r]->broadcast(group, DType::Float32, broadcast[r].data(), count * size, root, 5s)));
  });
  for (int r = 0; r < size; ++r) {
    for (int k = 0; k < size; ++k) {
      EXPECT_EQ(std::memcmp(&gathered[r][k * count], inputs[k].data(), count * 4), 0);
      EXPECT_EQ(std::memcmp(&exchanged[r][k * count], &inputs[k][r * count], count * 4), 0);
    }
    EXPECT_EQ(broadcast[r], inputs[root]);
  }

  // A ring of send/recv.
  std::vector<std::vector<float>> received(size, std::vector<float>(count));
  onRanks(size, [&](int r) {
    ASSERT_FALSE(static_cast<bool>(world[r]->send((r + 1) % size, DType::Float32, inputs[r].data(), count, 7, 5s)));
    ASSERT_FALSE(static_cast<bool>(
        world[r]->recv((r + size - 1) % size, DType::Float32, received[r].data(), count, 7, 5s)));
  });
  for (int r = 0; r < size; ++r)
    EXPECT_EQ(std::memcmp(received[r].data(), inputs[(r + size - 1) % size].data(), count * 4), 0);
}

INSTANTIATE_TEST_SUITE_P(Ranks, Collectives, ::testing::Values(2, 3, 4, 8));

TEST(Collectives, UnevenAndConcurrentGroups) {
  auto world = createInProcessWorld(8);
  // Three groups at once, of 3, 4 and 1 ranks, one of them in an unsorted order.
  std::vector<std::vector<int>> groups = {{4, 0, 2}, {1, 3, 5, 7}, {6}};
  std::vector<int64_t> in(8), gathered(8 * 4);
  for (int r = 0; r < 8; ++r)
    in[r] = 100 + r;
  std::vector<std::vector<int64_t>> out(8, std::vector<int64_t>(4, -1));
  onRanks(8, [&](int r) {
    for (const auto &group : groups)
      if (std::find(group.begin(), group.end(), r) != group.end()) {
        int64_t sum = 0;
        ASSERT_FALSE(static_cast<bool>(world[r]->allReduce(group, DType::Int64, &in[r], &sum, 1, ReduceOp::Sum, 5s)));
        EXPECT_EQ(sum, std::accumulate(group.begin(), group.end(), int64_t(0),
                                       [&](int64_t a, int g) { return a + in[g]; }));
        ASSERT_FALSE(static_cast<bool>(
            world[r]->allGather(group, DType::Int64, &in[r], out[r].data(), 1, 5s)));
        for (size_t k = 0; k < group.size(); ++k)
          EXPECT_EQ(out[r][k], in[group[k]]) << "gathered in group order";
      }
  });
}

TEST(Collectives, AMissingRankStopsTheOthersWithinTheTimeout) {
  auto world = createInProcessWorld(3);
  std::vector<int> group = {0, 1, 2};
  std::vector<std::string> errors(3);
  auto start = std::chrono::steady_clock::now();
  onRanks(2, [&](int r) { // rank 2 never calls
    float x = 1, y;
    llvm::Error err = world[r]->allReduce(group, DType::Float32, &x, &y, 1, ReduceOp::Sum, 300ms);
    errors[r] = err ? llvm::toString(std::move(err)) : "";
  });
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 3s);
  for (int r = 0; r < 2; ++r)
    EXPECT_NE(errors[r].find("all_reduce on group [0,1,2] timed out after 300 ms"), std::string::npos) << errors[r];
  EXPECT_NE(errors[0].find("waiting for rank(s) [2]"), std::string::npos) << errors[0];
  // Once a call failed, every later call fails at once.
  float x = 1, y;
  llvm::Error later = world[2]->allReduce(group, DType::Float32, &x, &y, 1, ReduceOp::Sum, 300ms);
  ASSERT_TRUE(static_cast<bool>(later));
  llvm::consumeError(std::move(later));
}

TEST(Collectives, MismatchedCallsAreAnError) {
  auto world = createInProcessWorld(2);
  std::vector<int> group = {0, 1};
  std::vector<std::string> errors(2);
  onRanks(2, [&](int r) {
    float x[2] = {1, 2}, y[4];
    llvm::Error err = r == 0 ? world[r]->allReduce(group, DType::Float32, x, y, 2, ReduceOp::Sum, 1s)
                             : world[r]->allGather(group, DType::Float32, x, y, 2, 1s);
    errors[r] = err ? llvm::toString(std::move(err)) : "";
  });
  bool named = errors[0].find("where another member called") != std::string::npos ||
               errors[1].find("where another member called") != std::string::npos;
  EXPECT_TRUE(named) << errors[0] << " | " << errors[1];
}

} // namespace
