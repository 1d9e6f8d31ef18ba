// Matrix multiplication over OpenBLAS sgemm: batched with broadcasting batch dims, fused bias and
// activation. OpenBLAS runs single-threaded inside our own pool (no oversubscription); a large
// GEMM is split into row or column blocks, a batch of small GEMMs is spread over the threads.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cmath>
#include <string>

#include "common.h"
#include "gemm.h"
#include "vmath.h"

namespace pl {

bool gUseOwnGemm = true;

void sgemm1(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
            float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (gUseOwnGemm && K > 0 && sgemmOwn(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc)) return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; i++) {
      float* c = C + i * ldc;
      if (beta == 0.f)
        std::fill(c, c + N, 0.f);
      else
        for (int64_t j = 0; j < N; j++) c[j] *= beta;
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N, (blasint)K,
              1.0f, A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}

void epilogue(float* C, int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1, const float* bias, int biasKind, int act,
              float alpha) {
  if (biasKind == BIAS_NONE && act == ACT_LINEAR) return;
  const float bs = biasKind == BIAS_SCALAR ? bias[0] : 0.f;
  for (int64_t i = i0; i < i1; i++) {
    float* c = C + i * ldc;
    if (biasKind == BIAS_COLUMN) {
      for (int64_t j = j0; j < j1; j++) c[j] += bias[j];
    } else if (biasKind == BIAS_SCALAR) {
      for (int64_t j = j0; j < j1; j++) c[j] += bs;
    }
    switch (act) {
      case ACT_RELU:
        for (int64_t j = j0; j < j1; j++) c[j] = c[j] < 0.f ? 0.f : c[j];
        break;
      case ACT_RELU6:
        for (int64_t j = j0; j < j1; j++) {
          float v = c[j] < 0.f ? 0.f : c[j];
          c[j] = v > 6.f ? 6.f : v;
        }
        break;
      case ACT_ELU:
        for (int64_t j = j0; j < j1; j++) c[j] = velu(c[j]);
        break;
      case ACT_SIGMOID:
        for (int64_t j = j0; j < j1; j++) c[j] = vsigmoid(c[j]);
        break;
      case ACT_LEAKYRELU:
        for (int64_t j = j0; j < j1; j++) c[j] = c[j] < 0.f ? alpha * c[j] : c[j];
        break;
      case ACT_GELU:
        for (int64_t j = j0; j < j1; j++) c[j] = vgelu(c[j]);
        break;
      default:
        break;
    }
  }
}

// Below this many multiply-adds a GEMM runs on one thread (waking the pool costs more).
static const int64_t kParFlops = 1 << 17;

void sgemmPar(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
              float beta, float* C, int64_t ldc, const float* bias, int biasKind, int act, float alpha) {
  if (M <= 0 || N <= 0) return;
  ThreadPool& pool = ThreadPool::get();
  int nt = pool.size();
  if (gUseOwnGemm && nt > 1 && K > 0 && M * N * K >= kParFlops &&
      sgemmOwnPar(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, bias, biasKind, act, alpha)) {
    return;
  }
  if (nt <= 1 || M * N * std::max<int64_t>(K, 1) < kParFlops) {
    sgemm1(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    epilogue(C, ldc, 0, M, 0, N, bias, biasKind, act, alpha);
    return;
  }
  // split along the longer output side, in multiples of 16 rows / 32 columns
  bool splitM = M >= N || N < 32 * nt;
  int64_t len = splitM ? M : N;
  int64_t unit = splitM ? 16 : 32;
  int64_t blocks = (len + unit - 1) / unit;
  int parts = (int)std::min<int64_t>(2 * nt, blocks);
  if (parts <= 1) {
    sgemm1(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    epilogue(C, ldc, 0, M, 0, N, bias, biasKind, act, alpha);
    return;
  }
  pool.run(parts, [&](int tid, int n) {
    int64_t b0 = blocks * tid / n, b1 = blocks * (tid + 1) / n;
    int64_t s = std::min(len, b0 * unit), e = std::min(len, b1 * unit);
    if (s >= e) return;
    if (splitM) {
      const float* a = ta ? A + s : A + s * lda;
      sgemm1(ta, tb, e - s, N, K, a, lda, B, ldb, beta, C + s * ldc, ldc);
      epilogue(C, ldc, s, e, 0, N, bias, biasKind, act, alpha);
    } else {
      const float* b = tb ? B + s * ldb : B + s;
      sgemm1(ta, tb, M, e - s, K, A, lda, b, ldb, beta, C + s, ldc);
      epilogue(C, ldc, 0, M, s, e, bias, biasKind, act, alpha);
    }
  });
}

// matmul(a, aBatch, b, bBatch, out, M, N, K, transA, transB, bias|null, biasKind, act, alpha)
//   a: prod(aBatch)·M·K values laid out [..., M, K] (or [..., K, M] when transA)
//   b: prod(bBatch)·K·N values laid out [..., K, N] (or [..., N, K] when transB)
//   aBatch and bBatch have equal length; each dim is 1 or equal to the other (broadcast).
//   out: prod(max(aBatch, bBatch))·M·N values.
static Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 a = argF32(info, 0, "a");
  std::vector<int64_t> aB = argDims(info, 1, "aBatch");
  F32 b = argF32(info, 2, "b");
  std::vector<int64_t> bB = argDims(info, 3, "bBatch");
  F32 out = argF32(info, 4, "out");
  int64_t M = argInt(info, 5, "M", 0, INT_MAX), N = argInt(info, 6, "N", 0, INT_MAX), K = argInt(info, 7, "K", 0, INT_MAX);
  bool ta = argBool(info, 8, "transA"), tb = argBool(info, 9, "transB");
  F32 bias = argF32Opt(info, 10, "bias");
  int biasKind = (int)argInt(info, 11, "biasKind", 0, 2);
  int act = (int)argInt(info, 12, "act", 0, 6);
  float alpha = (float)argNum(info, 13, "alpha");
  if (aB.size() != bB.size()) fail(env, "aBatch and bBatch must have the same length");
  std::vector<int64_t> oB(aB.size());
  for (size_t i = 0; i < aB.size(); i++) {
    if (aB[i] != bB[i] && aB[i] != 1 && bB[i] != 1) fail(env, "batch dims do not broadcast");
    oB[i] = aB[i] == 1 ? bB[i] : aB[i];
  }
  int64_t na = sizeOf(env, aB, "aBatch"), nb = sizeOf(env, bB, "bBatch"), no = sizeOf(env, oB, "outBatch");
  checkLen(env, a.n, na * M * K, "a");
  checkLen(env, b.n, nb * K * N, "b");
  checkLen(env, out.n, no * M * N, "out");
  if (biasKind == BIAS_SCALAR && bias.n != 1) fail(env, "scalar bias must have 1 element");
  if (biasKind == BIAS_COLUMN && (int64_t)bias.n != N) fail(env, "column bias must have N elements");
  if (biasKind != BIAS_NONE && !bias.p) fail(env, "bias missing");
  checkNoAlias(env, out.p, out.n, a.p, a.n * 4, "a");
  checkNoAlias(env, out.p, out.n, b.p, b.n * 4, "b");
  if (bias.p) checkNoAlias(env, out.p, out.n, bias.p, bias.n * 4, "bias");
  if (no == 0 || M == 0 || N == 0) return env.Undefined();

  const int64_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
  // batch offsets with broadcasting (row-major over oB)
  std::vector<int64_t> aOff(no), bOff(no);
  {
    size_t r = oB.size();
    std::vector<int64_t> idx(r, 0), aStr(r), bStr(r);
    int64_t sa = 1, sb = 1;
    for (size_t i = r; i-- > 0;) {
      aStr[i] = aB[i] == 1 ? 0 : sa;
      bStr[i] = bB[i] == 1 ? 0 : sb;
      sa *= aB[i];
      sb *= bB[i];
    }
    for (int64_t t = 0; t < no; t++) {
      int64_t oa = 0, ob = 0;
      for (size_t i = 0; i < r; i++) {
        oa += idx[i] * aStr[i];
        ob += idx[i] * bStr[i];
      }
      aOff[t] = oa * M * K;
      bOff[t] = ob * K * N;
      for (size_t i = r; i-- > 0;) {
        if (++idx[i] < oB[i]) break;
        idx[i] = 0;
      }
    }
  }
  const float* bp = bias.p;
  // fold a batch that shares one B into the M dimension: one large GEMM
  bool sameB = true, contigA = !ta;
  for (int64_t t = 0; t < no && (sameB || contigA); t++) {
    if (bOff[t] != bOff[0]) sameB = false;
    if (aOff[t] != t * M * K) contigA = false;
  }
  if (no == 1 || (sameB && contigA)) {
    sgemmPar(ta, tb, M * no, N, K, a.p + aOff[0], lda, b.p + bOff[0], ldb, 0.f, out.p, ldc, bp, biasKind, act, alpha);
    return env.Undefined();
  }
  ThreadPool& pool = ThreadPool::get();
  int nt = pool.size();
  if (no >= nt && M * N * std::max<int64_t>(K, 1) < (int64_t)1 << 22) {
    // many small GEMMs: spread the batch over the threads
    const int64_t parts = std::min<int64_t>(no, 1024);
    pool.run(parts, [&](int part, int n) {
      int64_t t0 = no * part / n, t1 = no * (part + 1) / n;
      for (int64_t t = t0; t < t1; t++) {
        float* c = out.p + t * M * N;
        sgemm1(ta, tb, M, N, K, a.p + aOff[t], lda, b.p + bOff[t], ldb, 0.f, c, ldc);
        epilogue(c, ldc, 0, M, 0, N, bp, biasKind, act, alpha);
      }
    });
  } else {
    for (int64_t t = 0; t < no; t++) {
      sgemmPar(ta, tb, M, N, K, a.p + aOff[t], lda, b.p + bOff[t], ldb, 0.f, out.p + t * M * N, ldc, bp, biasKind, act, alpha);
    }
  }
  return env.Undefined();
}

// sgemmDirect(a, b, c, M, N, K, transA, transB, threads): plain cblas_sgemm with OpenBLAS's own
// threading (used by the benchmark as the reference figure).
static Napi::Value SgemmDirect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 a = argF32(info, 0, "a"), b = argF32(info, 1, "b"), c = argF32(info, 2, "c");
  int64_t M = argInt(info, 3, "M", 0, INT_MAX), N = argInt(info, 4, "N", 0, INT_MAX), K = argInt(info, 5, "K", 0, INT_MAX);
  bool ta = argBool(info, 6, "transA"), tb = argBool(info, 7, "transB");
  int threads = (int)argInt(info, 8, "threads", 1, 64);
  checkLen(env, a.n, M * K, "a");
  checkLen(env, b.n, K * N, "b");
  checkLen(env, c.n, M * N, "c");
  checkNoAlias(env, c.p, c.n, a.p, a.n * 4, "a");
  checkNoAlias(env, c.p, c.n, b.p, b.n * 4, "b");
  openblas_set_num_threads(threads);
  if (M > 0 && N > 0 && K > 0) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, 1.0f,
                a.p, (blasint)(ta ? M : K), b.p, (blasint)(tb ? K : N), 0.f, c.p, (blasint)N);
  } else {
    sgemm1(ta, tb, M, N, K, a.p, ta ? M : K, b.p, tb ? K : N, 0.f, c.p, N);
  }
  openblas_set_num_threads(1);
  return env.Undefined();
}

// gemmKernel(name?): 'avx512' (own kernel) or 'openblas'; with a name, switches and returns the new one.
static Napi::Value GemmKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() > 0 && info[0].IsString()) {
    std::string want = info[0].As<Napi::String>().Utf8Value();
    if (want == "openblas") gUseOwnGemm = false;
    else if (want == "avx512") gUseOwnGemm = sgemmOwnAvailable();
    else fail(env, "gemm kernel must be 'avx512' or 'openblas'");
  }
  return Napi::String::New(env, gUseOwnGemm && sgemmOwnAvailable() ? "avx512" : "openblas");
}


// ------------------------------------------------------------------------------------------------
// Fused causal self-attention over N = batch·heads independent [T, D] problems (scale 1/√D):
//   forward:  P = softmax(mask(q·kᵀ·scale)), y = P·v           (P is returned for the backward)
//   backward: dv = Pᵀ·dy; dP = dy·vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P)); dq = dS·k·scale; dk = dSᵀ·q·scale
// Masked entries (j > i) have P = 0 exactly. One pool part per problem.
// ------------------------------------------------------------------------------------------------
// attention(q, k, v, y, p, N, T, D, scale)
static Napi::Value Attention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 q = argF32(info, 0, "q"), k = argF32(info, 1, "k"), v = argF32(info, 2, "v"), y = argF32(info, 3, "y"), p = argF32(info, 4, "p");
  int64_t N = argInt(info, 5, "N", 0, INT_MAX), T = argInt(info, 6, "T", 0, 1 << 20), D = argInt(info, 7, "D", 0, 1 << 20);
  float scale = (float)argNum(info, 8, "scale");
  for (const F32* a : {&q, &k, &v}) checkLen(env, a->n, N * T * D, "q/k/v");
  checkLen(env, y.n, N * T * D, "y");
  checkLen(env, p.n, N * T * T, "p");
  for (const F32* o : {&y, &p})
    for (const F32* i : {&q, &k, &v}) checkNoAlias(env, o->p, o->n, i->p, i->n * 4, "an input");
  checkNoAlias(env, y.p, y.n, p.p, p.n * 4, "p");
  if (N * T == 0) return env.Undefined();
  ThreadPool::get().run(N, [&](int n, int) {
    const float* qn = q.p + n * T * D;
    const float* kn = k.p + n * T * D;
    const float* vn = v.p + n * T * D;
    float* P = p.p + n * T * T;
    sgemm1(false, true, T, T, D, qn, D, kn, D, 0.f, P, T);
    for (int64_t i = 0; i < T; i++) {
      float* row = P + i * T;
      float m = -__builtin_inff();
      for (int64_t j = 0; j <= i; j++) {
        row[j] *= scale;
        m = row[j] > m ? row[j] : m;
      }
      float s = 0.f;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j <= i; j++) {
        float e = vexp(row[j] - m);
        row[j] = e;
        s += e;
      }
      const float inv = 1.f / s;
      for (int64_t j = 0; j <= i; j++) row[j] *= inv;
      for (int64_t j = i + 1; j < T; j++) row[j] = 0.f;
    }
    sgemm1(false, false, T, D, T, P, T, vn, D, 0.f, y.p + n * T * D, D);
  });
  return env.Undefined();
}

// attentionGrad(dy, q, k, v, p, dq, dk, dv, N, T, D, scale)
static Napi::Value AttentionGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 dy = argF32(info, 0, "dy"), q = argF32(info, 1, "q"), k = argF32(info, 2, "k"), v = argF32(info, 3, "v"), p = argF32(info, 4, "p");
  F32 dq = argF32(info, 5, "dq"), dk = argF32(info, 6, "dk"), dv = argF32(info, 7, "dv");
  int64_t N = argInt(info, 8, "N", 0, INT_MAX), T = argInt(info, 9, "T", 0, 1 << 20), D = argInt(info, 10, "D", 0, 1 << 20);
  float scale = (float)argNum(info, 11, "scale");
  for (const F32* a : {&dy, &q, &k, &v, &dq, &dk, &dv}) checkLen(env, a->n, N * T * D, "an operand");
  checkLen(env, p.n, N * T * T, "p");
  for (const F32* o : {&dq, &dk, &dv}) {
    for (const F32* i : {&dy, &q, &k, &v, &p}) checkNoAlias(env, o->p, o->n, i->p, i->n * 4, "an input");
  }
  checkNoAlias(env, dq.p, dq.n, dk.p, dk.n * 4, "dk");
  checkNoAlias(env, dq.p, dq.n, dv.p, dv.n * 4, "dv");
  checkNoAlias(env, dk.p, dk.n, dv.p, dv.n * 4, "dv");
  if (N * T == 0) return env.Undefined();
  ThreadPool::get().run(N, [&](int n, int) {
    thread_local std::vector<float> scratch;
    if ((int64_t)scratch.size() < T * T) scratch.resize(T * T);
    float* dS = scratch.data();
    const int64_t o = n * T * D;
    const float* P = p.p + n * T * T;
    sgemm1(true, false, T, D, T, P, T, dy.p + o, D, 0.f, dv.p + o, D);        // dv = Pᵀ·dy
    sgemm1(false, true, T, T, D, dy.p + o, D, v.p + o, D, 0.f, dS, T);       // dP = dy·vᵀ
    for (int64_t i = 0; i < T; i++) {
      const float* pr = P + i * T;
      float* dr = dS + i * T;
      float s = 0.f;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j <= i; j++) s += dr[j] * pr[j];
      for (int64_t j = 0; j <= i; j++) dr[j] = pr[j] * (dr[j] - s) * scale;
      for (int64_t j = i + 1; j < T; j++) dr[j] = 0.f;
    }
    sgemm1(false, false, T, D, T, dS, T, k.p + o, D, 0.f, dq.p + o, D);     // dq = dS·k·scale
    sgemm1(true, false, T, D, T, dS, T, q.p + o, D, 0.f, dk.p + o, D);      // dk = dSᵀ·q·scale
  });
  return env.Undefined();
}

void initGemm(Napi::Env env, Napi::Object exports) {
  openblas_set_num_threads(1);
  const char* g = std::getenv("PAPERLAB_GEMM");
  gUseOwnGemm = sgemmOwnAvailable() && !(g && std::string(g) == "openblas");
  exports.Set("gemmKernel", Napi::Function::New(env, GemmKernel, "gemmKernel"));
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
  exports.Set("attentionGrad", Napi::Function::New(env, AttentionGrad, "attentionGrad"));
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("sgemmDirect", Napi::Function::New(env, SgemmDirect, "sgemmDirect"));
}

}  // namespace pl
