// Elementwise kernels: broadcasting binary ops, unary ops, softmax, fused LayerNorm and GELU with
// their gradients, AddN. Loops are written so that GCC vectorises them (AVX-512 with -march=native)
// and split over the thread pool in contiguous ranges.
#include <algorithm>
#include <cmath>
#include <string>

#include "common.h"
#include "vmath.h"

namespace pl {

// Minimum elements per thread for memory-bound loops (below it waking a worker costs more).
static const int64_t kGrain = 1 << 14;

// ------------------------------------------------------------------------------------------------
// Binary ops with broadcasting
// ------------------------------------------------------------------------------------------------
enum BinOp : int { B_ADD = 0, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_SQDIFF, B_POW, B_COUNT };

template <int OP>
static inline float binf(float a, float b) {
  if (OP == B_ADD) return a + b;
  if (OP == B_SUB) return a - b;
  if (OP == B_MUL) return a * b;
  if (OP == B_DIV) return a / b;
  if (OP == B_MAX) return (__builtin_isnan(a) || a > b) ? a : b;  // NaN propagates like Math.max
  if (OP == B_MIN) return (__builtin_isnan(a) || a < b) ? a : b;
  if (OP == B_SQDIFF) {
    float d = a - b;
    return d * d;
  }
  return 0.f;
}

static inline float powf64(float a, float b) {
  if (b == 2.f) return a * a;
  if (b == 1.f) return a;
  return (float)std::pow((double)a, (double)b);
}

// Inner loop: n outputs, a advancing by sa (0 or 1), b by sb (0 or 1).
template <int OP>
static void binInner(const float* __restrict a, int64_t sa, const float* __restrict b, int64_t sb, float* __restrict o, int64_t n) {
  if (OP == B_POW) {
    for (int64_t i = 0; i < n; i++) o[i] = powf64(a[i * sa], b[i * sb]);
    return;
  }
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; i++) o[i] = binf<OP>(a[i], b[i]);
  } else if (sa == 1) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; i++) o[i] = binf<OP>(a[i], bv);
  } else if (sb == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; i++) o[i] = binf<OP>(av, b[i]);
  } else {
    const float v = binf<OP>(a[0], b[0]);
    for (int64_t i = 0; i < n; i++) o[i] = v;
  }
}

struct BroadcastPlan {
  // collapsed dims (outermost first) and the element strides of a and b in them (0 = broadcast)
  std::vector<int64_t> dims, sa, sb;
};

static BroadcastPlan planBroadcast(const Napi::Env& env, std::vector<int64_t> as, std::vector<int64_t> bs, const std::vector<int64_t>& os) {
  size_t r = os.size();
  if (as.size() > r || bs.size() > r) fail(env, "operand rank exceeds output rank");
  as.insert(as.begin(), r - as.size(), 1);
  bs.insert(bs.begin(), r - bs.size(), 1);
  for (size_t i = 0; i < r; i++) {
    if (!((as[i] == os[i] || as[i] == 1) && (bs[i] == os[i] || bs[i] == 1))) fail(env, "shapes do not broadcast to the output shape");
    if (os[i] != std::max(as[i], bs[i]) && !(os[i] == 0)) fail(env, "output shape is not the broadcast shape");
  }
  // element strides of a and b (0 where broadcast)
  std::vector<int64_t> sA(r), sB(r);
  int64_t ka = 1, kb = 1;
  for (size_t i = r; i-- > 0;) {
    sA[i] = (as[i] == 1 && os[i] != 1) ? 0 : ka;
    sB[i] = (bs[i] == 1 && os[i] != 1) ? 0 : kb;
    ka *= as[i];
    kb *= bs[i];
  }
  BroadcastPlan p;
  for (size_t i = 0; i < r; i++) {
    if (os[i] == 1) continue;  // size-1 output dims contribute nothing
    if (!p.dims.empty()) {
      size_t k = p.dims.size() - 1;
      // merge with the previous kept dim when both operands stay contiguous (or broadcast) across it
      bool okA = (p.sa[k] == 0 && sA[i] == 0) || (p.sa[k] == sA[i] * os[i] && sA[i] != 0);
      bool okB = (p.sb[k] == 0 && sB[i] == 0) || (p.sb[k] == sB[i] * os[i] && sB[i] != 0);
      if (okA && okB) {
        p.dims[k] *= os[i];
        p.sa[k] = sA[i];
        p.sb[k] = sB[i];
        continue;
      }
    }
    p.dims.push_back(os[i]);
    p.sa.push_back(sA[i]);
    p.sb.push_back(sB[i]);
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    p.sa.push_back(1);
    p.sb.push_back(1);
  }
  return p;
}

template <int OP>
static void binaryRun(const BroadcastPlan& p, const float* a, const float* b, float* o) {
  size_t k = p.dims.size();
  int64_t inner = p.dims[k - 1];
  int64_t sia = p.sa[k - 1], sib = p.sb[k - 1];
  int64_t outer = 1;
  for (size_t i = 0; i + 1 < k; i++) outer *= p.dims[i];
  if (outer == 1) {
    parallel_for(inner, kGrain, [&](int64_t s, int64_t e) { binInner<OP>(a + s * sia, sia, b + s * sib, sib, o + s, e - s); });
    return;
  }
  int64_t grainRows = std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1));
  parallel_for(outer, grainRows, [&](int64_t s, int64_t e) {
    // decompose s into the outer multi-index
    std::vector<int64_t> idx(k - 1, 0);
    int64_t rem = s;
    for (size_t i = k - 1; i-- > 0;) {
      idx[i] = rem % p.dims[i];
      rem /= p.dims[i];
    }
    int64_t oa = 0, ob = 0;
    for (size_t i = 0; i + 1 < k; i++) {
      oa += idx[i] * p.sa[i];
      ob += idx[i] * p.sb[i];
    }
    for (int64_t r = s; r < e; r++) {
      binInner<OP>(a + oa, sia, b + ob, sib, o + r * inner, inner);
      for (size_t i = k - 1; i-- > 0;) {
        oa += p.sa[i];
        ob += p.sb[i];
        if (++idx[i] < p.dims[i]) break;
        oa -= p.sa[i] * p.dims[i];
        ob -= p.sb[i] * p.dims[i];
        idx[i] = 0;
      }
    }
  });
}

// binary(op, a, aShape, b, bShape, out, outShape)
static Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = (int)argInt(info, 0, "op", 0, B_COUNT - 1);
  F32 a = argF32(info, 1, "a");
  std::vector<int64_t> as = argDims(info, 2, "aShape");
  F32 b = argF32(info, 3, "b");
  std::vector<int64_t> bs = argDims(info, 4, "bShape");
  F32 o = argF32(info, 5, "out");
  std::vector<int64_t> os = argDims(info, 6, "outShape");
  checkLen(env, a.n, sizeOf(env, as, "aShape"), "a");
  checkLen(env, b.n, sizeOf(env, bs, "bShape"), "b");
  int64_t no = sizeOf(env, os, "outShape");
  checkLen(env, o.n, no, "out");
  checkNoAlias(env, o.p, o.n, a.p, a.n * 4, "a");
  checkNoAlias(env, o.p, o.n, b.p, b.n * 4, "b");
  BroadcastPlan p = planBroadcast(env, as, bs, os);
  if (no == 0) return env.Undefined();
  switch (op) {
    case B_ADD: binaryRun<B_ADD>(p, a.p, b.p, o.p); break;
    case B_SUB: binaryRun<B_SUB>(p, a.p, b.p, o.p); break;
    case B_MUL: binaryRun<B_MUL>(p, a.p, b.p, o.p); break;
    case B_DIV: binaryRun<B_DIV>(p, a.p, b.p, o.p); break;
    case B_MAX: binaryRun<B_MAX>(p, a.p, b.p, o.p); break;
    case B_MIN: binaryRun<B_MIN>(p, a.p, b.p, o.p); break;
    case B_SQDIFF: binaryRun<B_SQDIFF>(p, a.p, b.p, o.p); break;
    case B_POW: binaryRun<B_POW>(p, a.p, b.p, o.p); break;
  }
  return env.Undefined();
}

// ------------------------------------------------------------------------------------------------
// Unary ops
// ------------------------------------------------------------------------------------------------
enum UnOp : int {
  U_EXP = 0, U_LOG, U_TANH, U_SIGMOID, U_RELU, U_RELU6, U_SQRT, U_RSQRT, U_SQUARE, U_NEG, U_ABS, U_ELU, U_LEAKYRELU,
  U_RECIPROCAL, U_STEP, U_GELU, U_COPY, U_COUNT
};

template <int OP>
static void unaryLoop(const float* __restrict x, float* __restrict y, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    float r;
    if (OP == U_EXP) r = vexp(v);
    else if (OP == U_LOG) r = vlog(v);
    else if (OP == U_TANH) r = vtanh(v);
    else if (OP == U_SIGMOID) r = vsigmoid(v);
    else if (OP == U_RELU) r = v < 0.f ? 0.f : v;
    else if (OP == U_RELU6) { r = v < 0.f ? 0.f : v; r = r > 6.f ? 6.f : r; }
    else if (OP == U_SQRT) r = std::sqrt(v);
    else if (OP == U_RSQRT) r = 1.f / std::sqrt(v);
    else if (OP == U_SQUARE) r = v * v;
    else if (OP == U_NEG) r = -v;
    else if (OP == U_ABS) r = std::fabs(v);
    else if (OP == U_ELU) r = velu(v);
    else if (OP == U_LEAKYRELU) r = v < 0.f ? alpha * v : v;
    else if (OP == U_RECIPROCAL) r = 1.f / v;
    else if (OP == U_STEP) r = __builtin_isnan(v) ? v : (v > 0.f ? 1.f : alpha);
    else if (OP == U_GELU) r = vgelu(v);
    else r = v;
    y[i] = r;
  }
}

template <int OP>
static void unaryRun(const float* x, float* y, int64_t n, float alpha) {
  parallel_for(n, OP <= U_SIGMOID || OP == U_ELU || OP == U_GELU ? kGrain / 4 : kGrain,
               [&](int64_t s, int64_t e) { unaryLoop<OP>(x + s, y + s, e - s, alpha); });
}

// unary(op, x, out, alpha)
static Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = (int)argInt(info, 0, "op", 0, U_COUNT - 1);
  F32 x = argF32(info, 1, "x");
  F32 y = argF32(info, 2, "out");
  float alpha = (float)argNum(info, 3, "alpha");
  checkLen(env, y.n, (int64_t)x.n, "out");
  checkNoAlias(env, y.p, y.n, x.p, x.n * 4, "x");
  int64_t n = (int64_t)x.n;
  switch (op) {
    case U_EXP: unaryRun<U_EXP>(x.p, y.p, n, alpha); break;
    case U_LOG: unaryRun<U_LOG>(x.p, y.p, n, alpha); break;
    case U_TANH: unaryRun<U_TANH>(x.p, y.p, n, alpha); break;
    case U_SIGMOID: unaryRun<U_SIGMOID>(x.p, y.p, n, alpha); break;
    case U_RELU: unaryRun<U_RELU>(x.p, y.p, n, alpha); break;
    case U_RELU6: unaryRun<U_RELU6>(x.p, y.p, n, alpha); break;
    case U_SQRT: unaryRun<U_SQRT>(x.p, y.p, n, alpha); break;
    case U_RSQRT: unaryRun<U_RSQRT>(x.p, y.p, n, alpha); break;
    case U_SQUARE: unaryRun<U_SQUARE>(x.p, y.p, n, alpha); break;
    case U_NEG: unaryRun<U_NEG>(x.p, y.p, n, alpha); break;
    case U_ABS: unaryRun<U_ABS>(x.p, y.p, n, alpha); break;
    case U_ELU: unaryRun<U_ELU>(x.p, y.p, n, alpha); break;
    case U_LEAKYRELU: unaryRun<U_LEAKYRELU>(x.p, y.p, n, alpha); break;
    case U_RECIPROCAL: unaryRun<U_RECIPROCAL>(x.p, y.p, n, alpha); break;
    case U_STEP: unaryRun<U_STEP>(x.p, y.p, n, alpha); break;
    case U_GELU: unaryRun<U_GELU>(x.p, y.p, n, alpha); break;
    case U_COPY: unaryRun<U_COPY>(x.p, y.p, n, alpha); break;
  }
  return env.Undefined();
}

// ------------------------------------------------------------------------------------------------
// Softmax over the last axis of [rows, cols]
// ------------------------------------------------------------------------------------------------
static void softmaxRows(const float* x, float* y, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float m = rowExtreme<true>(xr, cols);
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; j++) {
      float e = vexp(xr[j] - m);
      yr[j] = e;
      s += e;
    }
    const float inv = 1.f / s;
    for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
  }
}

// softmax(x, out, rows, cols)
static Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  F32 y = argF32(info, 1, "out");
  int64_t rows = argInt(info, 2, "rows", 0, INT64_C(1) << 40), cols = argInt(info, 3, "cols", 0, INT64_C(1) << 40);
  checkLen(env, x.n, rows * cols, "x");
  checkLen(env, y.n, rows * cols, "out");
  checkNoAlias(env, y.p, y.n, x.p, x.n * 4, "x");
  if (cols == 0) return env.Undefined();
  parallel_for(rows, std::max<int64_t>(1, kGrain / 4 / cols), [&](int64_t s, int64_t e) { softmaxRows(x.p, y.p, s, e, cols); });
  return env.Undefined();
}

// ------------------------------------------------------------------------------------------------
// LayerNorm over the last axis: y = (x − mean)·rstd·gamma + beta, rstd = 1/√(var + eps)
// ------------------------------------------------------------------------------------------------
// layerNorm(x, gamma, beta, y, mean, rstd, rows, cols, eps)
static Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x"), g = argF32(info, 1, "gamma"), bt = argF32(info, 2, "beta");
  F32 y = argF32(info, 3, "y"), mu = argF32(info, 4, "mean"), rs = argF32(info, 5, "rstd");
  int64_t rows = argInt(info, 6, "rows", 0, INT64_C(1) << 40), cols = argInt(info, 7, "cols", 0, INT64_C(1) << 40);
  float eps = (float)argNum(info, 8, "eps");
  checkLen(env, x.n, rows * cols, "x");
  checkLen(env, y.n, rows * cols, "y");
  checkLen(env, g.n, cols, "gamma");
  checkLen(env, bt.n, cols, "beta");
  checkLen(env, mu.n, rows, "mean");
  checkLen(env, rs.n, rows, "rstd");
  checkNoAlias(env, y.p, y.n, x.p, x.n * 4, "x");
  checkNoAlias(env, mu.p, mu.n, x.p, x.n * 4, "x");
  checkNoAlias(env, rs.p, rs.n, x.p, x.n * 4, "x");
  if (cols == 0) {
    for (int64_t r = 0; r < rows; r++) mu.p[r] = __builtin_nanf(""), rs.p[r] = __builtin_nanf("");
    return env.Undefined();
  }
  const float invC = 1.f / (float)cols;
  parallel_for(rows, std::max<int64_t>(1, kGrain / 2 / cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x.p + r * cols;
      float* yr = y.p + r * cols;
      float s = 0.f;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < cols; j++) s += xr[j];
      const float m = s * invC;
      float v = 0.f;
#pragma omp simd reduction(+ : v)
      for (int64_t j = 0; j < cols; j++) {
        float d = xr[j] - m;
        v += d * d;
      }
      const float rstd = 1.f / std::sqrt(v * invC + eps);
      mu.p[r] = m;
      rs.p[r] = rstd;
      for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - m) * rstd * g.p[j] + bt.p[j];
    }
  });
  return env.Undefined();
}

// layerNormGrad(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols)
//   dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = dy·gamma; dgamma = Σ dy·x̂; dbeta = Σ dy
static Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 dy = argF32(info, 0, "dy"), x = argF32(info, 1, "x"), g = argF32(info, 2, "gamma");
  F32 mu = argF32(info, 3, "mean"), rs = argF32(info, 4, "rstd");
  F32 dx = argF32(info, 5, "dx"), dg = argF32(info, 6, "dgamma"), db = argF32(info, 7, "dbeta");
  int64_t rows = argInt(info, 8, "rows", 0, INT64_C(1) << 40), cols = argInt(info, 9, "cols", 0, INT64_C(1) << 40);
  checkLen(env, dy.n, rows * cols, "dy");
  checkLen(env, x.n, rows * cols, "x");
  checkLen(env, dx.n, rows * cols, "dx");
  checkLen(env, g.n, cols, "gamma");
  checkLen(env, dg.n, cols, "dgamma");
  checkLen(env, db.n, cols, "dbeta");
  checkLen(env, mu.n, rows, "mean");
  checkLen(env, rs.n, rows, "rstd");
  for (const F32* in : {&dy, &x, &g, &mu, &rs}) {
    checkNoAlias(env, dx.p, dx.n, in->p, in->n * 4, "an input");
    checkNoAlias(env, dg.p, dg.n, in->p, in->n * 4, "an input");
    checkNoAlias(env, db.p, db.n, in->p, in->n * 4, "an input");
  }
  std::fill(dg.p, dg.p + cols, 0.f);
  std::fill(db.p, db.p + cols, 0.f);
  if (rows == 0 || cols == 0) return env.Undefined();
  ThreadPool& pool = ThreadPool::get();
  int parts = (int)std::min<int64_t>(pool.size(), std::max<int64_t>(1, rows * cols / kGrain));
  std::vector<float> partial((size_t)parts * 2 * cols, 0.f);
  const float invC = 1.f / (float)cols;
  pool.run(parts, [&](int tid, int n) {
    int64_t r0 = rows * tid / n, r1 = rows * (tid + 1) / n;
    float* pg = partial.data() + (size_t)tid * 2 * cols;
    float* pb = pg + cols;
    for (int64_t r = r0; r < r1; r++) {
      const float* dyr = dy.p + r * cols;
      const float* xr = x.p + r * cols;
      float* dxr = dx.p + r * cols;
      const float m = mu.p[r], rstd = rs.p[r];
      float s1 = 0.f, s2 = 0.f;
#pragma omp simd reduction(+ : s1, s2)
      for (int64_t j = 0; j < cols; j++) {
        float xh = (xr[j] - m) * rstd;
        float gh = dyr[j] * g.p[j];
        s1 += gh;
        s2 += gh * xh;
        pg[j] += dyr[j] * xh;
        pb[j] += dyr[j];
      }
      const float a1 = s1 * invC, a2 = s2 * invC;
      for (int64_t j = 0; j < cols; j++) {
        float xh = (xr[j] - m) * rstd;
        dxr[j] = rstd * (dyr[j] * g.p[j] - a1 - xh * a2);
      }
    }
  });
  for (int t = 0; t < parts; t++) {
    const float* pg = partial.data() + (size_t)t * 2 * cols;
    const float* pb = pg + cols;
    for (int64_t j = 0; j < cols; j++) {
      dg.p[j] += pg[j];
      db.p[j] += pb[j];
    }
  }
  return env.Undefined();
}

// geluGrad(dy, x, dx): dx = dy · gelu'(x)
static Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 dy = argF32(info, 0, "dy"), x = argF32(info, 1, "x"), dx = argF32(info, 2, "dx");
  checkLen(env, dy.n, (int64_t)x.n, "dy");
  checkLen(env, dx.n, (int64_t)x.n, "dx");
  checkNoAlias(env, dx.p, dx.n, x.p, x.n * 4, "x");
  checkNoAlias(env, dx.p, dx.n, dy.p, dy.n * 4, "dy");
  parallel_for((int64_t)x.n, kGrain / 4, [&](int64_t s, int64_t e) {
    const float* __restrict xp = x.p;
    const float* __restrict dyp = dy.p;
    float* __restrict dxp = dx.p;
    for (int64_t i = s; i < e; i++) dxp[i] = dyp[i] * vgeluGrad(xp[i]);
  });
  return env.Undefined();
}

// addN(inputs: Float32Array[], out)
static Napi::Value AddN(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray()) throw Napi::TypeError::New(env, "paperlab native: inputs must be an array of Float32Array");
  Napi::Array arr = info[0].As<Napi::Array>();
  F32 o = argF32(info, 1, "out");
  std::vector<const float*> ps;
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env, "paperlab native: inputs must be Float32Arrays");
    }
    Napi::Float32Array f = v.As<Napi::Float32Array>();
    checkLen(env, f.ElementLength(), (int64_t)o.n, "an input");
    checkNoAlias(env, o.p, o.n, f.Data(), f.ElementLength() * 4, "an input");
    ps.push_back(f.Data());
  }
  if (ps.empty()) fail(env, "addN needs at least one input");
  parallel_for((int64_t)o.n, kGrain, [&](int64_t s, int64_t e) {
    float* __restrict op = o.p;
    const float* __restrict p0 = ps[0];
    for (int64_t i = s; i < e; i++) op[i] = p0[i];
    for (size_t k = 1; k < ps.size(); k++) {
      const float* __restrict pk = ps[k];
      for (int64_t i = s; i < e; i++) op[i] += pk[i];
    }
  });
  return env.Undefined();
}


// adam(p, m, v, g, pOut, mOut, vOut, beta1, beta2, eps, stepSize, bc2, decay): one AdamW update,
// in the order of src/core/optim.ts:
//   m' = β1·m + (1−β1)·g;  v' = β2·v + (1−β2)·g²;  p' = p − m'/(√(v'/bc2) + ε)·stepSize − p·decay
static Napi::Value Adam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 p = argF32(info, 0, "p"), m = argF32(info, 1, "m"), v = argF32(info, 2, "v"), g = argF32(info, 3, "g");
  F32 po = argF32(info, 4, "pOut"), mo = argF32(info, 5, "mOut"), vo = argF32(info, 6, "vOut");
  const float b1 = (float)argNum(info, 7, "beta1"), b2 = (float)argNum(info, 8, "beta2"), eps = (float)argNum(info, 9, "eps");
  const float step = (float)argNum(info, 10, "stepSize"), bc2 = (float)argNum(info, 11, "bc2"), decay = (float)argNum(info, 12, "decay");
  const int64_t n = (int64_t)p.n;
  for (const F32* a : {&m, &v, &g, &po, &mo, &vo}) checkLen(env, a->n, n, "an Adam operand");
  for (const F32* o : {&po, &mo, &vo})
    for (const F32* i : {&p, &m, &v, &g}) checkNoAlias(env, o->p, o->n, i->p, i->n * 4, "an input");
  checkNoAlias(env, po.p, po.n, mo.p, mo.n * 4, "another output");
  checkNoAlias(env, po.p, po.n, vo.p, vo.n * 4, "another output");
  checkNoAlias(env, mo.p, mo.n, vo.p, vo.n * 4, "another output");
  const float c1 = 1.f - b1, c2 = 1.f - b2;
  parallel_for(n, kGrain, [&](int64_t s0, int64_t e0) {
    const float* __restrict pp = p.p;
    const float* __restrict mp = m.p;
    const float* __restrict vp = v.p;
    const float* __restrict gp = g.p;
    float* __restrict pq = po.p;
    float* __restrict mq = mo.p;
    float* __restrict vq = vo.p;
    for (int64_t i = s0; i < e0; i++) {
      const float gi = gp[i];
      const float m1 = mp[i] * b1 + gi * c1;
      const float v1 = vp[i] * b2 + (gi * gi) * c2;
      const float denom = std::sqrt(v1 / bc2) + eps;
      mq[i] = m1;
      vq[i] = v1;
      pq[i] = (pp[i] - (m1 / denom) * step) - pp[i] * decay;
    }
  });
  return env.Undefined();
}


// softmaxGrad(dy, y, dx, rows, cols): dx = y ⊙ (dy − Σ_j dy·y), per row (the gradient of softmax)
static Napi::Value SoftmaxGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 dy = argF32(info, 0, "dy"), y = argF32(info, 1, "y"), dx = argF32(info, 2, "dx");
  int64_t rows = argInt(info, 3, "rows", 0, INT64_C(1) << 40), cols = argInt(info, 4, "cols", 0, INT64_C(1) << 40);
  checkLen(env, dy.n, rows * cols, "dy");
  checkLen(env, y.n, rows * cols, "y");
  checkLen(env, dx.n, rows * cols, "dx");
  checkNoAlias(env, dx.p, dx.n, dy.p, dy.n * 4, "dy");
  checkNoAlias(env, dx.p, dx.n, y.p, y.n * 4, "y");
  if (cols == 0) return env.Undefined();
  parallel_for(rows, std::max<int64_t>(1, kGrain / 2 / cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* __restrict g = dy.p + r * cols;
      const float* __restrict yr = y.p + r * cols;
      float* __restrict o = dx.p + r * cols;
      float s = 0.f;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < cols; j++) s += g[j] * yr[j];
      for (int64_t j = 0; j < cols; j++) o[j] = yr[j] * (g[j] - s);
    }
  });
  return env.Undefined();
}

void initElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxGrad", Napi::Function::New(env, SoftmaxGrad, "softmaxGrad"));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm, "layerNorm"));
  exports.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad, "layerNormGrad"));
  exports.Set("geluGrad", Napi::Function::New(env, GeluGrad, "geluGrad"));
  exports.Set("addN", Napi::Function::New(env, AddN, "addN"));
  exports.Set("adam", Napi::Function::New(env, Adam, "adam"));
}

}  // namespace pl
