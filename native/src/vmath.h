// Branch-free float math that GCC vectorises (AVX-512 with -march=native): exp, log, tanh, sigmoid
// and the tanh-approximated GELU. Cephes-style polynomials, about 1-2 ulp over the normal range;
// NaN propagates, overflow gives ±Inf, underflow gives 0 or a denormal as IEEE does.
#pragma once
#include <cstdint>
#include <cstring>

namespace pl {

static inline float bitsToFloat(int32_t i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
static inline int32_t floatToBits(float f) {
  int32_t i;
  std::memcpy(&i, &f, 4);
  return i;
}

// round-to-nearest of |v| < 2^31 without libm (vectorises to cvtps2dq/cvtdq2ps)
static inline float roundNear(float v) { return (float)(int32_t)(v + (v >= 0.f ? 0.5f : -0.5f)); }

static inline float vexp(float x) {
  // Clamping to [-104, 89] lets overflow (→ +Inf) and underflow (→ 0 / denormal) happen in the final
  // multiplications, which keeps the loop free of branches so that it vectorises.
  float xc = x > 89.f ? 89.f : x;
  xc = xc < -104.f ? -104.f : xc;
  float n = roundNear(xc * 1.44269504088896341f);
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  // 2^n in two factors so that n in [-150, 129] stays representable
  int32_t ni = (int32_t)n;
  int32_t n1 = ni >> 1;
  int32_t n2 = ni - n1;
  float res = p * bitsToFloat((n1 + 127) << 23) * bitsToFloat((n2 + 127) << 23);
  return __builtin_isnan(x) ? x : res;
}

static inline float vlog(float x) {
  // denormals: scale up by 2^23
  bool den = x < 1.17549435e-38f;
  float xs = den ? x * 8388608.0f : x;
  int32_t bits = floatToBits(xs);
  float e = (float)(((bits >> 23) & 0xff) - 126);
  e = den ? e - 23.f : e;
  float m = bitsToFloat((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  bool small = m < 0.707106781186547524f;
  e = small ? e - 1.f : e;
  m = small ? m + m - 1.f : m - 1.f;
  float z = m * m;
  float y = 7.0376836292E-2f;
  y = y * m - 1.1514610310E-1f;
  y = y * m + 1.1676998740E-1f;
  y = y * m - 1.2420140846E-1f;
  y = y * m + 1.4249322787E-1f;
  y = y * m - 1.6668057665E-1f;
  y = y * m + 2.0000714765E-1f;
  y = y * m - 2.4999993993E-1f;
  y = y * m + 3.3333331174E-1f;
  y = y * m * z;
  y = y + e * -2.12194440e-4f;
  y = y - 0.5f * z;
  float r = m + y;
  r = r + e * 0.693359375f;
  r = x == __builtin_inff() ? x : r;
  r = x == 0.f ? -__builtin_inff() : r;
  r = x < 0.f ? __builtin_nanf("") : r;
  return __builtin_isnan(x) ? x : r;
}

static inline float vtanh(float x) {
  float ax = x < 0.f ? -x : x;
  // small |x|: odd polynomial (Cephes tanhf)
  float z = x * x;
  float ps = -5.70498872745E-3f;
  ps = ps * z + 2.06390887954E-2f;
  ps = ps * z - 5.37397155531E-2f;
  ps = ps * z + 1.33314422036E-1f;
  ps = ps * z - 3.33332819422E-1f;
  float small = ps * z * x + x;
  // large |x|: 1 - 2/(e^{2|x|}+1)
  float ax2 = ax > 20.f ? 20.f : ax;
  float big = 1.f - 2.f / (vexp(2.f * ax2) + 1.f);
  big = x < 0.f ? -big : big;
  float r = ax < 0.625f ? small : big;
  return __builtin_isnan(x) ? x : r;
}

// e^x − 1 for x ≤ 0 (ELU): a short series near 0 keeps the relative error small there
static inline float vexpm1neg(float x) {
  float big = vexp(x) - 1.f;
  float small = x * (1.f + x * (0.5f + x * (0.16666667f + x * (0.041666668f + x * 0.008333334f))));
  return x > -0.0625f ? small : big;
}

// ELU with NaN propagation: x ≥ 0 ? x : e^x − 1
static inline float velu(float x) {
  float em = vexpm1neg(x >= 0.f ? 0.f : x);
  return x >= 0.f ? x : em;
}

static inline float vsigmoid(float x) { return 1.f / (1.f + vexp(-x)); }

// GELU, tanh approximation: 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), u = √(2/π)(x + 0.044715x³)
static const float kGeluC = 0.7978845608028654f;
static inline float vgelu(float x) {
  float u = kGeluC * (x + 0.044715f * x * x * x);
  return x * vsigmoid(2.f * u);
}
// d gelu / dx = s + 2·x·s·(1−s)·u', s = sigmoid(2u)
static inline float vgeluGrad(float x) {
  float x2 = x * x;
  float u = kGeluC * (x + 0.044715f * x2 * x);
  float du = kGeluC * (1.f + 3.f * 0.044715f * x2);
  float s = vsigmoid(2.f * u);
  return s + 2.f * x * s * (1.f - s) * du;
}

// Max / min of p[0..n) with NaN propagation (any NaN gives NaN), in 16-lane vectors (GCC vector
// extensions, lowered to AVX-512 / AVX2 / SSE as the target allows). n = 0 gives ∓Inf.
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
template <bool MAX>
static inline float rowExtreme(const float* p, int64_t n) {
  const float init = MAX ? -__builtin_inff() : __builtin_inff();
  v16f acc = {init, init, init, init, init, init, init, init, init, init, init, init, init, init, init, init};
  v16i nan = {0};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    v16f x;
    std::memcpy(&x, p + j, 64);
    acc = MAX ? (x > acc ? x : acc) : (x < acc ? x : acc);
    nan |= (x != x);
  }
  float m = init;
  bool anyNan = false;
  for (int l = 0; l < 16; l++) {
    m = MAX ? (acc[l] > m ? acc[l] : m) : (acc[l] < m ? acc[l] : m);
    anyNan |= nan[l] != 0;
  }
  for (; j < n; j++) {
    m = MAX ? (p[j] > m ? p[j] : m) : (p[j] < m ? p[j] : m);
    anyNan |= __builtin_isnan(p[j]);
  }
  return anyNan ? __builtin_nanf("") : m;
}

}  // namespace pl
