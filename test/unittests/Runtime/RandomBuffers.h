//===- RandomBuffers.h - seeded tensors for the runtime's tests -----------===//

#ifndef DINFER_TEST_UNITTESTS_RUNTIME_RANDOMBUFFERS_H
#define DINFER_TEST_UNITTESTS_RUNTIME_RANDOMBUFFERS_H

#include "dinfer/Runtime/Buffer.h"

#include <random>

namespace dinfer::testing {

/// A float32 tensor of standard-normal values, the same for the same seed.
inline Buffer randomBuffer(llvm::ArrayRef<int64_t> shape, unsigned seed) {
  Buffer buffer(DType::Float32, shape);
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int64_t i = 0; i < buffer.numElements(); ++i)
    buffer.as<float>()[i] = dist(rng);
  return buffer;
}

} // namespace dinfer::testing

#endif // DINFER_TEST_UNITTESTS_RUNTIME_RANDOMBUFFERS_H
