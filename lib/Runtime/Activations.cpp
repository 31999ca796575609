//===- Activations.cpp - sigmoid, SiLU and GeLU over arrays ---------------===//
//
// EfficientNet applies SiLU to every feature map it makes, some 6 million
// values a run at 224x224, and the portable loop (VectorMath.h's exp, then
// a division) costs about one cycle a value: a tenth of the network's time.
// On AVX-512 the division becomes a 14-bit reciprocal estimate refined by
// one Newton step, and 2^n is applied with vscalefps instead of clamps and
// integer shifts; the results stay within a few ulp of the portable loop's.
// GeLU (ConvNeXt's 7%, Swin's 4%) gets the same treatment of the division
// and exponential inside its erfc, keeping the erfc form's precision where
// GeLU tends to zero.
//
//===----------------------------------------------------------------------===//

#include "VectorMath.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define DINFER_HAVE_AVX512_ACTIVATIONS 1
// GCC 12's own intrinsics header trips this warning (its undefined-vector
// idiom), in every function that inlines the masked loads.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

using namespace dinfer::kernels::detail;

namespace {

DINFER_VECTOR_CLONES void portableLogistic(bool timesInput, const float *x, float *y, int64_t n) {
  if (timesInput)
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] * sigmoidApprox(x[i]);
  else
    for (int64_t i = 0; i < n; ++i)
      y[i] = sigmoidApprox(x[i]);
}

DINFER_VECTOR_CLONES void portableGelu(const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = geluApprox(x[i]);
}

#ifdef DINFER_HAVE_AVX512_ACTIVATIONS
/// 2^t for 16 lanes: 2^round(t) by vscalefps times a degree-5 fit of 2^f
/// on [-1/2, 1/2] (relative error 2.4e-7); t finite (callers clamp it).
__attribute__((target("avx512f"))) inline __m512 exp2Of16(__m512 t) {
  __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 f = _mm512_sub_ps(t, n);
  __m512 p = _mm512_set1_ps(1.3276466634e-3f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6755418926e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5507134646e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022120237e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314694405e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0000001192f));
  return _mm512_scalef_ps(p, n);
}

/// 1 / d for 16 finite, normal d: the 14-bit estimate and one Newton step
/// (about 28 correct bits).
__attribute__((target("avx512f"))) inline __m512 reciprocal16(__m512 d) {
  __m512 estimate = _mm512_rcp14_ps(d);
  return _mm512_mul_ps(estimate, _mm512_fnmadd_ps(d, estimate, _mm512_set1_ps(2.0f)));
}

/// 1 / (1 + 2^t) for t = -x·log2(e) in 16 lanes, t clamped to [-126, 126]
/// so that 1 + 2^t stays finite and its reciprocal normal. max/min return
/// their second operand when either is NaN, so NaN passes through.
__attribute__((target("avx512f"))) inline __m512 logistic16(__m512 x) {
  __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(-1.44269504088896341f));
  t = _mm512_min_ps(_mm512_set1_ps(126.0f), _mm512_max_ps(_mm512_set1_ps(-126.0f), t));
  return reciprocal16(_mm512_add_ps(_mm512_set1_ps(1.0f), exp2Of16(t)));
}

/// x · sigmoid(x) given s = logistic16(x): zero below -104, where it
/// rounds to zero (the clamped sigmoid would make -inf of x = -inf).
__attribute__((target("avx512f"))) inline __m512 silu16(__m512 x, __m512 s) {
  __mmask16 vanishing = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-104.0f), _CMP_LT_OQ);
  return _mm512_mask_mov_ps(_mm512_mul_ps(x, s), vanishing, _mm512_setzero_ps());
}

/// GeLU as 0.5·x·erfc(-x/√2), erfc as VectorMath.h's erfcApprox (the same
/// Chebyshev fit), its 1 / (1 + a/2) a refined reciprocal estimate.
__attribute__((target("avx512f"))) inline __m512 gelu16(__m512 x) {
  __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(-0.70710678118654752f));
  // Beyond 30 erfc is 0 or 2 in float; the clamp keeps an infinite x from
  // making 0 · infinity in the reciprocal step.
  __m512 a = _mm512_min_ps(_mm512_abs_ps(z), _mm512_set1_ps(30.0f));
  __m512 d = _mm512_fmadd_ps(a, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.0f));
  __m512 t = reciprocal16(d);
  __m512 poly = _mm512_set1_ps(0.17087277f);
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-0.82215223f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(1.48851587f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-1.13520398f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(0.27886807f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-0.18628806f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(0.09678418f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(0.37409196f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(1.00002368f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-1.26551223f));
  // e^(poly - a²) <= e^0.25; below 2^-150 it rounds to zero.
  __m512 exponent = _mm512_mul_ps(_mm512_fnmadd_ps(a, a, poly), _mm512_set1_ps(1.44269504088896341f));
  __m512 positive = _mm512_mul_ps(t, exp2Of16(_mm512_max_ps(_mm512_set1_ps(-150.0f), exponent)));
  __mmask16 negative = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_LT_OQ);
  __m512 erfc = _mm512_mask_sub_ps(positive, negative, _mm512_set1_ps(2.0f), positive);
  return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), erfc);
}

/// y[i] = f(x[i]) for i < n, 16 lanes at a time and a masked tail.
template <typename F>
__attribute__((target("avx512f"))) inline void map16(const float *x, float *y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));
  if (i < n) {
    __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, mask, f(_mm512_maskz_loadu_ps(mask, x + i)));
  }
}

// The lane functions as function objects whose call operator carries the
// target (a lambda's would not), so that map16 inlines them.
struct Gelu16 {
  __attribute__((target("avx512f"))) __m512 operator()(__m512 x) const { return gelu16(x); }
};
struct Logistic16 {
  __attribute__((target("avx512f"))) __m512 operator()(__m512 x) const { return logistic16(x); }
};
struct Silu16 {
  __attribute__((target("avx512f"))) __m512 operator()(__m512 x) const { return silu16(x, logistic16(x)); }
};

bool hasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}
#endif

} // namespace

void dinfer::kernels::detail::gelu(const float *x, float *y, int64_t n) {
#ifdef DINFER_HAVE_AVX512_ACTIVATIONS
  if (hasAvx512())
    return map16(x, y, n, Gelu16());
#endif
  portableGelu(x, y, n);
}

void dinfer::kernels::detail::logistic(bool timesInput, const float *x, float *y, int64_t n) {
#ifdef DINFER_HAVE_AVX512_ACTIVATIONS
  if (hasAvx512())
    return timesInput ? map16(x, y, n, Silu16()) : map16(x, y, n, Logistic16());
#endif
  portableLogistic(timesInput, x, y, n);
}
