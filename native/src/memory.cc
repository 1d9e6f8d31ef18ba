// Data-movement and reduction kernels: transpose, slice, concat/split, gather, unsorted segment sum
// (scatter-add) and sum/max/min/mean reductions over [outer, reduce, inner] views.
#include <algorithm>
#include <cmath>
#include <string>

#include "common.h"
#include "vmath.h"

namespace pl {

static const int64_t kGrain = 1 << 14;

// ------------------------------------------------------------------------------------------------
// Transpose
// ------------------------------------------------------------------------------------------------
// transpose(x, shape, perm, out): out[i0..] = x[permuted], out.shape[i] = shape[perm[i]]
static Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  std::vector<int64_t> shape = argDims(info, 1, "shape");
  std::vector<int64_t> perm = argDims(info, 2, "perm");
  F32 o = argF32(info, 3, "out");
  size_t r = shape.size();
  if (perm.size() != r) fail(env, "perm must have one entry per dim");
  std::vector<bool> seen(r, false);
  for (int64_t p : perm) {
    if (p < 0 || (size_t)p >= r || seen[p]) fail(env, "perm is not a permutation");
    seen[p] = true;
  }
  int64_t n = sizeOf(env, shape, "shape");
  checkLen(env, x.n, n, "x");
  checkLen(env, o.n, n, "out");
  checkNoAlias(env, o.p, o.n, x.p, x.n * 4, "x");
  if (n == 0) return env.Undefined();
  // input strides
  std::vector<int64_t> ist(r);
  {
    int64_t s = 1;
    for (size_t i = r; i-- > 0;) ist[i] = s, s *= shape[i];
  }
  // output dims with their input strides, dropping size-1 dims and merging runs that stay adjacent
  std::vector<int64_t> od, os;  // size, input stride
  for (size_t i = 0; i < r; i++) {
    int64_t d = shape[perm[i]];
    if (d == 1) continue;
    int64_t s = ist[perm[i]];
    if (!od.empty() && os.back() == s * d) {
      od.back() *= d;
      os.back() = s;
    } else {
      od.push_back(d);
      os.push_back(s);
    }
  }
  size_t k = od.size();
  if (k <= 1 || (k >= 1 && os[k - 1] == 1 && k == 1)) {
    std::memcpy(o.p, x.p, (size_t)n * 4);
    return env.Undefined();
  }
  // output strides (contiguous)
  std::vector<int64_t> ost(k);
  {
    int64_t s = 1;
    for (size_t i = k; i-- > 0;) ost[i] = s, s *= od[i];
  }
  if (os[k - 1] == 1) {
    // innermost output dim is contiguous in the input: copy runs of od[k-1]
    const int64_t run = od[k - 1];
    const int64_t rowsN = n / run;
    parallel_for(rowsN, std::max<int64_t>(1, kGrain / run), [&](int64_t s, int64_t e) {
      std::vector<int64_t> idx(k - 1);
      int64_t rem = s, off = 0;
      for (size_t i = k - 1; i-- > 0;) {
        idx[i] = rem % od[i];
        rem /= od[i];
        off += idx[i] * os[i];
      }
      for (int64_t row = s; row < e; row++) {
        std::memcpy(o.p + row * run, x.p + off, (size_t)run * 4);
        for (size_t i = k - 1; i-- > 0;) {
          off += os[i];
          if (++idx[i] < od[i]) break;
          off -= os[i] * od[i];
          idx[i] = 0;
        }
      }
    });
    return env.Undefined();
  }
  // general: tile the plane (q = output dim holding the input's innermost dim, k-1 = output's innermost)
  size_t q = k;
  for (size_t i = 0; i < k; i++)
    if (os[i] == 1) q = i;
  if (q == k) fail(env, "internal: no unit-stride dim");
  const int64_t ni = od[q], nj = od[k - 1];
  const int64_t osq = ost[q], isj = os[k - 1];
  // the other dims
  std::vector<int64_t> rd, ris, ros;
  for (size_t i = 0; i + 1 < k; i++) {
    if (i == q) continue;
    rd.push_back(od[i]);
    ris.push_back(os[i]);
    ros.push_back(ost[i]);
  }
  int64_t outerN = 1;
  for (int64_t d : rd) outerN *= d;
  const int64_t T = 16;
  const int64_t tilesI = (ni + T - 1) / T;
  const int64_t work = outerN * tilesI;
  parallel_for(work, std::max<int64_t>(1, kGrain / (T * nj)), [&](int64_t s, int64_t e) {
    for (int64_t w = s; w < e; w++) {
      int64_t ob = w / tilesI, ti = w % tilesI;
      int64_t ioff = 0, ooff = 0, rem = ob;
      for (size_t i = rd.size(); i-- > 0;) {
        int64_t id = rem % rd[i];
        rem /= rd[i];
        ioff += id * ris[i];
        ooff += id * ros[i];
      }
      const int64_t i0 = ti * T, i1 = std::min(ni, i0 + T);
      for (int64_t j0 = 0; j0 < nj; j0 += T) {
        const int64_t j1 = std::min(nj, j0 + T);
        for (int64_t i = i0; i < i1; i++) {
          float* op = o.p + ooff + i * osq;
          const float* ip = x.p + ioff + i;
          for (int64_t j = j0; j < j1; j++) op[j] = ip[j * isj];
        }
      }
    }
  });
  return env.Undefined();
}

// ------------------------------------------------------------------------------------------------
// Slice: out = x[begin : begin + size] (per dim)
// ------------------------------------------------------------------------------------------------
static Napi::Value Slice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  std::vector<int64_t> shape = argDims(info, 1, "shape");
  std::vector<int64_t> begin = argDims(info, 2, "begin");
  std::vector<int64_t> size = argDims(info, 3, "size");
  F32 o = argF32(info, 4, "out");
  size_t r = shape.size();
  if (begin.size() != r || size.size() != r) fail(env, "begin and size need one entry per dim");
  for (size_t i = 0; i < r; i++)
    if (begin[i] + size[i] > shape[i]) fail(env, "slice exceeds the input shape");
  checkLen(env, x.n, sizeOf(env, shape, "shape"), "x");
  int64_t n = sizeOf(env, size, "size");
  checkLen(env, o.n, n, "out");
  checkNoAlias(env, o.p, o.n, x.p, x.n * 4, "x");
  if (n == 0) return env.Undefined();
  std::vector<int64_t> ist(r);
  {
    int64_t s = 1;
    for (size_t i = r; i-- > 0;) ist[i] = s, s *= shape[i];
  }
  // contiguous run: trailing full dims plus the first non-full dim from the end
  size_t d = r;
  int64_t run = 1;
  while (d > 0 && size[d - 1] == shape[d - 1]) run *= size[--d];
  if (d > 0) run *= size[--d];
  int64_t base = 0;
  for (size_t i = 0; i < r; i++) base += begin[i] * ist[i];
  const int64_t rowsN = n / run;
  parallel_for(rowsN, std::max<int64_t>(1, kGrain / run), [&](int64_t s, int64_t e) {
    std::vector<int64_t> idx(d);
    int64_t rem = s, off = base;
    for (size_t i = d; i-- > 0;) {
      idx[i] = rem % size[i];
      rem /= size[i];
      off += idx[i] * ist[i];
    }
    for (int64_t row = s; row < e; row++) {
      std::memcpy(o.p + row * run, x.p + off, (size_t)run * 4);
      for (size_t i = d; i-- > 0;) {
        off += ist[i];
        if (++idx[i] < size[i]) break;
        off -= ist[i] * size[i];
        idx[i] = 0;
      }
    }
  });
  return env.Undefined();
}

// ------------------------------------------------------------------------------------------------
// Concat / split along an axis, seen as [outer, inner_i] pieces of [outer, Σ inner_i]
// ------------------------------------------------------------------------------------------------
static std::vector<F32> argF32List(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsArray()) throw Napi::TypeError::New(env, std::string("paperlab native: ") + name + " must be an array of Float32Array");
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<F32> out;
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env, std::string("paperlab native: ") + name + " must hold Float32Arrays");
    }
    Napi::Float32Array f = v.As<Napi::Float32Array>();
    out.push_back(F32{f.Data(), f.ElementLength()});
  }
  return out;
}

// concat(inputs[], inners[], outer, out) / split(x, inners[], outer, outs[])
static Napi::Value ConcatSplit(const Napi::CallbackInfo& info, bool split) {
  Napi::Env env = info.Env();
  std::vector<F32> parts = split ? argF32List(info, 3, "outs") : argF32List(info, 0, "inputs");
  std::vector<int64_t> inners = argDims(info, 1, "inners", 1 << 20);
  int64_t outer = argInt(info, 2, "outer", 0, INT64_C(1) << 40);
  F32 whole = split ? argF32(info, 0, "x") : argF32(info, 3, "out");
  if (inners.size() != parts.size()) fail(env, "inners must have one entry per piece");
  int64_t total = 0;
  std::vector<int64_t> offs;
  for (size_t k = 0; k < parts.size(); k++) {
    checkLen(env, parts[k].n, outer * inners[k], "a piece");
    offs.push_back(total);
    total += inners[k];
  }
  checkLen(env, whole.n, outer * total, split ? "x" : "out");
  for (size_t k = 0; k < parts.size(); k++) {
    if (split) {
      checkNoAlias(env, parts[k].p, parts[k].n, whole.p, whole.n * 4, "x");
      for (size_t j = 0; j < k; j++) checkNoAlias(env, parts[k].p, parts[k].n, parts[j].p, parts[j].n * 4, "another output");
    } else {
      checkNoAlias(env, whole.p, whole.n, parts[k].p, parts[k].n * 4, "an input");
    }
  }
  if (outer * total == 0) return env.Undefined();
  parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(total, 1)), [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; row++) {
      float* w = whole.p + row * total;
      for (size_t k = 0; k < parts.size(); k++) {
        const int64_t len = inners[k];
        if (len == 0) continue;
        if (split)
          std::memcpy(parts[k].p + row * len, w + offs[k], (size_t)len * 4);
        else
          std::memcpy(w + offs[k], parts[k].p + row * len, (size_t)len * 4);
      }
    }
  });
  return env.Undefined();
}
static Napi::Value Concat(const Napi::CallbackInfo& info) { return ConcatSplit(info, false); }
static Napi::Value Split(const Napi::CallbackInfo& info) { return ConcatSplit(info, true); }

// ------------------------------------------------------------------------------------------------
// Gather along an axis: x [outer, dim, inner], indices [m] → out [outer, m, inner]
// Returns -1 on success, else the position of the first out-of-range index (nothing is written).
// ------------------------------------------------------------------------------------------------
static Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  int64_t outer = argInt(info, 1, "outer", 0, INT64_C(1) << 40), dim = argInt(info, 2, "dim", 0, INT64_C(1) << 40),
          inner = argInt(info, 3, "inner", 0, INT64_C(1) << 40);
  I32 idx = argI32(info, 4, "indices");
  F32 o = argF32(info, 5, "out");
  const int64_t m = (int64_t)idx.n;
  checkLen(env, x.n, outer * dim * inner, "x");
  checkLen(env, o.n, outer * m * inner, "out");
  checkNoAlias(env, o.p, o.n, x.p, x.n * 4, "x");
  for (int64_t i = 0; i < m; i++)
    if (idx.p[i] < 0 || idx.p[i] >= dim) return Napi::Number::New(env, (double)i);
  if (o.n == 0) return Napi::Number::New(env, -1);
  parallel_for(outer * m, std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1)), [&](int64_t s, int64_t e) {
    for (int64_t t = s; t < e; t++) {
      int64_t b = t / m, i = t % m;
      std::memcpy(o.p + t * inner, x.p + (b * dim + idx.p[i]) * inner, (size_t)inner * 4);
    }
  });
  return Napi::Number::New(env, -1);
}

// unsortedSegmentSum(x, rows, inner, ids, numSegments, out): out[ids[r]] += x[r]; ids outside
// [0, numSegments) are dropped (as TensorFlow does). Deterministic: rows are added in order.
static Napi::Value UnsortedSegmentSum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  int64_t rows = argInt(info, 1, "rows", 0, INT64_C(1) << 40), inner = argInt(info, 2, "inner", 0, INT64_C(1) << 40);
  I32 ids = argI32(info, 3, "ids");
  int64_t ns = argInt(info, 4, "numSegments", 0, INT64_C(1) << 40);
  F32 o = argF32(info, 5, "out");
  checkLen(env, x.n, rows * inner, "x");
  checkLen(env, ids.n, rows, "ids");
  checkLen(env, o.n, ns * inner, "out");
  checkNoAlias(env, o.p, o.n, x.p, x.n * 4, "x");
  checkNoAlias(env, o.p, o.n, ids.p, ids.n * 4, "ids");
  std::fill(o.p, o.p + o.n, 0.f);
  if (o.n == 0 || rows == 0) return env.Undefined();
  // each thread owns a band of columns: no races, same order of additions as a serial loop
  const int64_t unit = 16;
  const int64_t bands = (inner + unit - 1) / unit;
  int64_t grainBands = std::max<int64_t>(1, kGrain / std::max<int64_t>(rows * unit, 1));
  parallel_for(bands, grainBands, [&](int64_t b0, int64_t b1) {
    const int64_t c0 = b0 * unit, c1 = std::min(inner, b1 * unit);
    for (int64_t r = 0; r < rows; r++) {
      const int32_t id = ids.p[r];
      if (id < 0 || id >= ns) continue;
      float* __restrict op = o.p + id * inner;
      const float* __restrict xp = x.p + r * inner;
      for (int64_t c = c0; c < c1; c++) op[c] += xp[c];
    }
  });
  return env.Undefined();
}

// ------------------------------------------------------------------------------------------------
// Reductions over x viewed as [outer, R, inner] → out [outer, inner]
// ------------------------------------------------------------------------------------------------
enum RedOp : int { R_SUM = 0, R_MEAN, R_MAX, R_MIN, R_COUNT };

template <int OP>
static inline float redInit() {
  return OP == R_MAX ? -__builtin_inff() : OP == R_MIN ? __builtin_inff() : 0.f;
}
template <int OP>
static inline float redStep(float acc, float v) {
  if (OP == R_MAX) return (__builtin_isnan(v) || v > acc) ? v : acc;
  if (OP == R_MIN) return (__builtin_isnan(v) || v < acc) ? v : acc;
  return acc + v;
}

// contiguous row reduction (inner == 1)
template <int OP>
static float reduceRow(const float* p, int64_t R) {
  if (OP == R_SUM || OP == R_MEAN) {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < R; j++) s += (double)p[j];
    return OP == R_MEAN ? (float)(s / (double)R) : (float)s;
  }
  return rowExtreme<OP == R_MAX>(p, R);
}

template <int OP>
static void reduceRun(const float* x, float* o, int64_t outer, int64_t R, int64_t inner) {
  if (inner == 1) {
    if (outer >= ThreadPool::get().size() || R < kGrain) {
      parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(R, 1)), [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; i++) o[i] = reduceRow<OP>(x + i * R, R);
      });
    } else {
      // few long rows: split each row over the threads
      for (int64_t i = 0; i < outer; i++) {
        const float* p = x + i * R;
        int nt = ThreadPool::get().size();
        std::vector<double> part(nt, 0.0);
        std::vector<float> partm(nt, redInit<OP>());
        ThreadPool::get().run(nt, [&](int tid, int n) {
          int64_t s = R * tid / n, e = R * (tid + 1) / n;
          if (OP == R_SUM || OP == R_MEAN) {
            double acc = 0.0;
#pragma omp simd reduction(+ : acc)
            for (int64_t j = s; j < e; j++) acc += (double)p[j];
            part[tid] = acc;
          } else {
            partm[tid] = e > s ? reduceRow<OP>(p + s, e - s) : redInit<OP>();
          }
        });
        if (OP == R_SUM || OP == R_MEAN) {
          double t = 0.0;
          for (double v : part) t += v;
          o[i] = OP == R_MEAN ? (float)(t / (double)R) : (float)t;
        } else {
          float r = redInit<OP>();
          for (float v : partm) r = redStep<OP>(r, v);
          o[i] = r;
        }
      }
    }
    return;
  }
  // column reduction: accumulate rows of length inner
  auto block = [&](int64_t oi, int64_t c0, int64_t c1) {
    float* __restrict op = o + oi * inner;
    const float* base = x + oi * R * inner;
    for (int64_t c = c0; c < c1; c++) op[c] = redInit<OP>();
    for (int64_t r = 0; r < R; r++) {
      const float* __restrict xp = base + r * inner;
      for (int64_t c = c0; c < c1; c++) op[c] = redStep<OP>(op[c], xp[c]);
    }
    if (OP == R_MEAN) {
      const float inv = 1.f / (float)R;
      for (int64_t c = c0; c < c1; c++) op[c] *= inv;
    }
  };
  int nt = ThreadPool::get().size();
  if (outer >= nt) {
    parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(R * inner, 1)), [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; i++) block(i, 0, inner);
    });
  } else if (inner >= 64 * nt) {
    for (int64_t i = 0; i < outer; i++) {
      parallel_for((inner + 15) / 16, std::max<int64_t>(1, kGrain / std::max<int64_t>(R * 16, 1)),
                   [&](int64_t s, int64_t e) { block(i, s * 16, std::min(inner, e * 16)); });
    }
  } else {
    // narrow and tall: split R over the threads, combine the partial rows
    for (int64_t i = 0; i < outer; i++) {
      const float* base = x + i * R * inner;
      int parts = (int)std::min<int64_t>(nt, std::max<int64_t>(1, R * inner / kGrain));
      std::vector<float> part((size_t)parts * inner);
      ThreadPool::get().run(parts, [&](int tid, int n) {
        int64_t s = R * tid / n, e = R * (tid + 1) / n;
        float* __restrict pp = part.data() + (size_t)tid * inner;
        for (int64_t c = 0; c < inner; c++) pp[c] = redInit<OP>();
        for (int64_t r = s; r < e; r++) {
          const float* __restrict xp = base + r * inner;
          for (int64_t c = 0; c < inner; c++) pp[c] = redStep<OP>(pp[c], xp[c]);
        }
      });
      float* op = o + i * inner;
      for (int64_t c = 0; c < inner; c++) {
        float acc = redInit<OP>();
        for (int t = 0; t < parts; t++) acc = redStep<OP>(acc, part[(size_t)t * inner + c]);
        op[c] = OP == R_MEAN ? acc / (float)R : acc;
      }
    }
  }
}

// reduce(op, x, outer, R, inner, out)
static Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = (int)argInt(info, 0, "op", 0, R_COUNT - 1);
  F32 x = argF32(info, 1, "x");
  int64_t outer = argInt(info, 2, "outer", 0, INT64_C(1) << 40), R = argInt(info, 3, "R", 0, INT64_C(1) << 40),
          inner = argInt(info, 4, "inner", 0, INT64_C(1) << 40);
  F32 o = argF32(info, 5, "out");
  checkLen(env, x.n, outer * R * inner, "x");
  checkLen(env, o.n, outer * inner, "out");
  checkNoAlias(env, o.p, o.n, x.p, x.n * 4, "x");
  if (o.n == 0) return env.Undefined();
  if (R == 0) {
    float v = op == R_MAX ? -__builtin_inff() : op == R_MIN ? __builtin_inff() : op == R_MEAN ? __builtin_nanf("") : 0.f;
    std::fill(o.p, o.p + o.n, v);
    return env.Undefined();
  }
  switch (op) {
    case R_SUM: reduceRun<R_SUM>(x.p, o.p, outer, R, inner); break;
    case R_MEAN: reduceRun<R_MEAN>(x.p, o.p, outer, R, inner); break;
    case R_MAX: reduceRun<R_MAX>(x.p, o.p, outer, R, inner); break;
    case R_MIN: reduceRun<R_MIN>(x.p, o.p, outer, R, inner); break;
  }
  return env.Undefined();
}


// ------------------------------------------------------------------------------------------------
// Constant padding: out = value everywhere, x copied at offset `before` (out dims = before+dims+after)
// pad(x, shape, before, after, value, out)
// ------------------------------------------------------------------------------------------------
static Napi::Value Pad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  std::vector<int64_t> shape = argDims(info, 1, "shape");
  std::vector<int64_t> before = argDims(info, 2, "before");
  std::vector<int64_t> after = argDims(info, 3, "after");
  float value = (float)argNum(info, 4, "value");
  F32 o = argF32(info, 5, "out");
  size_t r = shape.size();
  if (before.size() != r || after.size() != r) fail(env, "before and after need one entry per dim");
  std::vector<int64_t> os(r);
  for (size_t i = 0; i < r; i++) os[i] = before[i] + shape[i] + after[i];
  int64_t n = sizeOf(env, shape, "shape");
  checkLen(env, x.n, n, "x");
  checkLen(env, o.n, sizeOf(env, os, "out shape"), "out");
  checkNoAlias(env, o.p, o.n, x.p, x.n * 4, "x");
  std::fill(o.p, o.p + o.n, value);
  if (n == 0) return env.Undefined();
  if (r == 0) {
    o.p[0] = x.p[0];
    return env.Undefined();
  }
  std::vector<int64_t> ost(r);
  {
    int64_t st = 1;
    for (size_t i = r; i-- > 0;) ost[i] = st, st *= os[i];
  }
  const int64_t run = shape[r - 1];
  const int64_t rowsN = n / run;
  parallel_for(rowsN, std::max<int64_t>(1, kGrain / run), [&](int64_t s0, int64_t e0) {
    std::vector<int64_t> idx(r - 1);
    int64_t rem = s0;
    for (size_t i = r - 1; i-- > 0;) {
      idx[i] = rem % shape[i];
      rem /= shape[i];
    }
    for (int64_t row = s0; row < e0; row++) {
      int64_t off = before[r - 1];
      for (size_t i = 0; i + 1 < r; i++) off += (idx[i] + before[i]) * ost[i];
      std::memcpy(o.p + off, x.p + row * run, (size_t)run * 4);
      for (size_t i = r - 1; i-- > 0;) {
        if (++idx[i] < shape[i]) break;
        idx[i] = 0;
      }
    }
  });
  return env.Undefined();
}

// oneHot(indices, depth, on, off, out): out[i, j] = indices[i] == j ? on : off (indices outside
// [0, depth) give a row of `off`)
static Napi::Value OneHot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  I32 idx = argI32(info, 0, "indices");
  int64_t depth = argInt(info, 1, "depth", 0, INT64_C(1) << 31);
  float on = (float)argNum(info, 2, "on"), off = (float)argNum(info, 3, "off");
  F32 o = argF32(info, 4, "out");
  checkLen(env, o.n, (int64_t)idx.n * depth, "out");
  checkNoAlias(env, o.p, o.n, idx.p, idx.n * 4, "indices");
  parallel_for((int64_t)idx.n, std::max<int64_t>(1, kGrain / std::max<int64_t>(depth, 1)), [&](int64_t s0, int64_t e0) {
    std::fill(o.p + s0 * depth, o.p + e0 * depth, off);
    for (int64_t i = s0; i < e0; i++) {
      const int32_t j = idx.p[i];
      if (j >= 0 && j < depth) o.p[i * depth + j] = on;
    }
  });
  return env.Undefined();
}

void initMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("transpose", Napi::Function::New(env, Transpose, "transpose"));
  exports.Set("slice", Napi::Function::New(env, Slice, "slice"));
  exports.Set("concat", Napi::Function::New(env, Concat, "concat"));
  exports.Set("split", Napi::Function::New(env, Split, "split"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("unsortedSegmentSum", Napi::Function::New(env, UnsortedSegmentSum, "unsortedSegmentSum"));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("pad", Napi::Function::New(env, Pad, "pad"));
  exports.Set("oneHot", Napi::Function::New(env, OneHot, "oneHot"));
}

}  // namespace pl
