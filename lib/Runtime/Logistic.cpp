//===- Logistic.cpp - sigmoid and SiLU over arrays ------------------------===//
//
// EfficientNet applies SiLU to every feature map it makes, some 6 million
// values a run at 224x224, and the portable loop (VectorMath.h's exp, then
// a division) costs about one cycle a value: a tenth of the network's time.
// On AVX-512 the division becomes a 14-bit reciprocal estimate refined by
// one Newton step, and 2^n is applied with vscalefps instead of clamps and
// integer shifts; the results stay within a few ulp of the portable loop's.
//
//===----------------------------------------------------------------------===//

#include "VectorMath.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define DINFER_HAVE_AVX512_LOGISTIC 1
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

#ifdef DINFER_HAVE_AVX512_LOGISTIC
/// 1 / (1 + 2^t) for t = -x·log2(e) in 16 lanes: 2^t as 2^round(t) (by
/// vscalefps) times a degree-5 fit of 2^f on [-1/2, 1/2] (relative error
/// 2.4e-7), t clamped to [-126, 126] so that 1 + 2^t stays finite and its
/// reciprocal normal. max/min return their second operand when either is
/// NaN, so NaN passes through.
__attribute__((target("avx512f"))) inline __m512 logistic16(__m512 x) {
  __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(-1.44269504088896341f));
  t = _mm512_min_ps(_mm512_set1_ps(126.0f), _mm512_max_ps(_mm512_set1_ps(-126.0f), t));
  __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 f = _mm512_sub_ps(t, n);
  __m512 p = _mm512_set1_ps(1.3276466634e-3f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6755418926e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5507134646e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022120237e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314694405e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0000001192f));
  __m512 denominator = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_scalef_ps(p, n));
  __m512 estimate = _mm512_rcp14_ps(denominator);
  // One Newton step: 14 correct bits become about 28.
  return _mm512_mul_ps(estimate, _mm512_fnmadd_ps(denominator, estimate, _mm512_set1_ps(2.0f)));
}

__attribute__((target("avx512f"))) void avx512Logistic(bool timesInput, const float *x, float *y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(x + i);
    __m512 s = logistic16(v);
    _mm512_storeu_ps(y + i, timesInput ? _mm512_mul_ps(v, s) : s);
  }
  if (i < n) {
    __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    __m512 s = logistic16(v);
    _mm512_mask_storeu_ps(y + i, mask, timesInput ? _mm512_mul_ps(v, s) : s);
  }
}
#endif

} // namespace

void dinfer::kernels::detail::logistic(bool timesInput, const float *x, float *y, int64_t n) {
#ifdef DINFER_HAVE_AVX512_LOGISTIC
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512)
    return avx512Logistic(timesInput, x, y, n);
#endif
  portableLogistic(timesInput, x, y, n);
}
