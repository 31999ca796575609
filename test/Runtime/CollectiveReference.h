//===- CollectiveReference.h - the serial reference collective tests use --===//
//
// Shared by the in-process GoogleTest and the MPI driver: each rank's data
// comes from a fixed seed, so every rank can rebuild every other rank's, and
// reductions are computed element by element in group order.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TEST_RUNTIME_COLLECTIVEREFERENCE_H
#define DINFER_TEST_RUNTIME_COLLECTIVEREFERENCE_H

#include "dinfer/Runtime/Communicator.h"

#include <random>
#include <vector>

namespace dinfer::reference {

inline std::vector<float> dataOf(int rank, size_t count) {
  std::mt19937 rng(1000 + rank);
  std::uniform_real_distribution<float> dist(-10, 10);
  std::vector<float> values(count);
  for (float &x : values)
    x = dist(rng);
  return values;
}

inline float combine(float a, float b, ReduceOp op) {
  switch (op) {
  case ReduceOp::Sum: return a + b;
  case ReduceOp::Max: return a > b ? a : b;
  case ReduceOp::Min: return a < b ? a : b;
  case ReduceOp::Prod: return a * b;
  }
  return a;
}

} // namespace dinfer::reference

#endif // DINFER_TEST_RUNTIME_COLLECTIVEREFERENCE_H
