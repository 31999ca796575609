//===- VectorMath.h - math the kernel loops vectorise -----------*- C++ -*-===//
//
// Private to the runtime's kernel files: the attribute that compiles a loop
// for AVX-512, AVX2 and the baseline, and exp/erf/tanh/sigmoid as branch-free
// polynomials, so that loops over them vectorise.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_LIB_RUNTIME_VECTORMATH_H
#define DINFER_LIB_RUNTIME_VECTORMATH_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

// Each kernel loop is compiled three times, chosen at load time by the CPU:
// the baseline keeps the binary portable, the others give 8 and 16 lanes.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define DINFER_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DINFER_VECTOR_CLONES
#endif
#define DINFER_INLINE inline __attribute__((always_inline))

namespace dinfer::kernels::detail {

/// e^x within 2 ulp over the float range (Cephes' polynomial after reducing
/// by powers of two); branch-free so that loops over it vectorise. Results
/// below 1e-38 flush to zero.
DINFER_INLINE float expApprox(float x) {
  float clamped = std::min(std::max(x, -87.0f), 88.72f);
  float n = std::floor(clamped * 1.44269504088896341f + 0.5f);
  float r = clamped - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n as 2^(n-1) · 2, so that n = 128 near the top of the range fits.
  int32_t bits = (static_cast<int32_t>(n) + 126) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  float result = p * scale * 2.0f;
  result = x > 88.7228f ? INFINITY : result;
  return x < -87.0f ? 0.0f : result;
}

/// erfc(z) with a fractional error below 1.2e-7 everywhere (the Chebyshev
/// fit of Numerical Recipes' erfcc), so that 1 + erf(x) = erfc(-x) keeps its
/// precision where erf is close to -1.
DINFER_INLINE float erfcApprox(float z) {
  float a = std::fabs(z);
  float t = 1.0f / (1.0f + 0.5f * a);
  float poly =
      -1.26551223f +
      t * (1.00002368f +
           t * (0.37409196f +
                t * (0.09678418f +
                     t * (-0.18628806f +
                          t * (0.27886807f +
                               t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
  float positive = t * expApprox(poly - a * a);
  return z < 0.0f ? 2.0f - positive : positive;
}

/// erf(x): a Taylor series near 0 (where 1 - erfc loses digits), erfc beyond.
DINFER_INLINE float erfApprox(float x) {
  float x2 = x * x;
  float near = 1.1283791671f * x * (1.0f + x2 * (-1.0f / 3 + x2 * (1.0f / 10 + x2 * (-1.0f / 42 + x2 / 216))));
  float far = std::copysign(1.0f - erfcApprox(std::fabs(x)), x);
  return std::fabs(x) < 0.5f ? near : far;
}

DINFER_INLINE float tanhApprox(float x) {
  float a = std::fabs(x);
  float far = 1.0f - 2.0f / (expApprox(2.0f * a) + 1.0f);
  float x2 = x * x;
  float near = x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 - x2 * 17.0f / 315)));
  return a < 0.125f ? near : std::copysign(far, x);
}

DINFER_INLINE float sigmoidApprox(float x) { return 1.0f / (1.0f + expApprox(-x)); }

/// GeLU as x/2 · erfc(-x/√2): 1 + erf(x/√2) would cancel where x is very
/// negative, erfc does not.
DINFER_INLINE float geluApprox(float x) { return 0.5f * x * erfcApprox(x * -0.70710678118654752f); }

/// y[i] = sigmoid(x[i]), or x[i] · sigmoid(x[i]) (SiLU) when `timesInput`,
/// for i < n; x and y may be the same array. AVX-512 where the CPU has it
/// (Activations.cpp), sigmoidApprox otherwise.
void logistic(bool timesInput, const float *x, float *y, int64_t n);
/// y[i] = GeLU(x[i]) = x[i]/2 · erfc(-x[i]/√2) for i < n; x and y may be the
/// same array. AVX-512 where the CPU has it, erfcApprox otherwise.
void gelu(const float *x, float *y, int64_t n);

} // namespace dinfer::kernels::detail

#endif // DINFER_LIB_RUNTIME_VECTORMATH_H
