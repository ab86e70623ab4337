#include "quant/fake_quant_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace haq::quant {
namespace {

// The scalar definitions; the AVX2 loops below compute the same operations in the
// same order, eight at a time, and leave the tail to these.
void ForwardScalar(const FakeQuantParams& p, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::min(std::max(x[i], p.pre_lo), p.pre_hi);
    const float c = std::min(std::max(v, p.lo), p.hi);
    const float q = p.binary ? (c >= 0.0f ? p.hi : -p.hi) : std::nearbyint(c / p.scale) * p.scale;
    y[i] = q + (c - c);
  }
}

void BackwardScalar(const FakeQuantParams& p, const float* x, const float* g, float* gx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const bool inside = x[i] > p.pre_lo && x[i] < p.pre_hi && x[i] >= p.lo && x[i] <= p.hi;
    gx[i] = inside ? g[i] : 0.0f;
  }
}

// max_ps(lo, v) and min_ps(hi, t) return their second operand when either is NaN
// or both are equal, as std::max(v, lo) and std::min(t, hi) above return their first.
__attribute__((target("avx2"))) void ForwardAvx2(const FakeQuantParams& p, const float* x, float* y,
                                                 int64_t n) {
  const __m256 lo = _mm256_set1_ps(p.lo), hi = _mm256_set1_ps(p.hi), minus_hi = _mm256_set1_ps(-p.hi);
  const __m256 pre_lo = _mm256_set1_ps(p.pre_lo), pre_hi = _mm256_set1_ps(p.pre_hi);
  const __m256 scale = _mm256_set1_ps(p.scale), zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_min_ps(pre_hi, _mm256_max_ps(pre_lo, _mm256_loadu_ps(x + i)));
    const __m256 c = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
    __m256 q;
    if (p.binary) {
      q = _mm256_blendv_ps(minus_hi, hi, _mm256_cmp_ps(c, zero, _CMP_GE_OQ));
    } else {
      const __m256 d = _mm256_div_ps(c, scale);
      q = _mm256_mul_ps(_mm256_round_ps(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), scale);
    }
    _mm256_storeu_ps(y + i, _mm256_add_ps(q, _mm256_sub_ps(c, c)));
  }
  ForwardScalar(p, x + i, y + i, n - i);
}

__attribute__((target("avx2"))) void BackwardAvx2(const FakeQuantParams& p, const float* x, const float* g,
                                                  float* gx, int64_t n) {
  const __m256 lo = _mm256_set1_ps(p.lo), hi = _mm256_set1_ps(p.hi);
  const __m256 pre_lo = _mm256_set1_ps(p.pre_lo), pre_hi = _mm256_set1_ps(p.pre_hi);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 in_pre = _mm256_and_ps(_mm256_cmp_ps(v, pre_lo, _CMP_GT_OQ), _mm256_cmp_ps(v, pre_hi, _CMP_LT_OQ));
    const __m256 in_q = _mm256_and_ps(_mm256_cmp_ps(v, lo, _CMP_GE_OQ), _mm256_cmp_ps(v, hi, _CMP_LE_OQ));
    _mm256_storeu_ps(gx + i, _mm256_and_ps(_mm256_and_ps(in_pre, in_q), _mm256_loadu_ps(g + i)));
  }
  BackwardScalar(p, x + i, g + i, gx + i, n - i);
}

}  // namespace

bool KernelPathSupported(KernelPath path) {
  return path == KernelPath::kScalar || __builtin_cpu_supports("avx2");
}

KernelPath BestKernelPath() {
  static const KernelPath best = [] {
    const char* cap = std::getenv("ATEN_CPU_CAPABILITY");
    if (cap != nullptr && std::strcmp(cap, "default") == 0) return KernelPath::kScalar;
    return KernelPathSupported(KernelPath::kAvx2) ? KernelPath::kAvx2 : KernelPath::kScalar;
  }();
  return best;
}

void FakeQuantForward(KernelPath path, const FakeQuantParams& p, const float* x, float* y, int64_t n) {
  if (path == KernelPath::kAvx2) {
    ForwardAvx2(p, x, y, n);
  } else {
    ForwardScalar(p, x, y, n);
  }
}

void FakeQuantBackward(KernelPath path, const FakeQuantParams& p, const float* x, const float* g, float* gx,
                       int64_t n) {
  if (path == KernelPath::kAvx2) {
    BackwardAvx2(p, x, g, gx, n);
  } else {
    BackwardScalar(p, x, g, gx, n);
  }
}

}  // namespace haq::quant
