// A single-threaded AVX-512 SGEMM (GotoBLAS-style blocking: packed B panels of 32 columns stay in
// L1, packed A blocks of 12-row panels in L2, a 12×32 register-tile micro-kernel). OpenBLAS in this
// environment is pinned to its AVX2 kernels (OPENBLAS_CORETYPE=Haswell); on AVX-512 machines this
// kernel is faster for the small and medium shapes of the models here. Compiled only when the
// target has AVX-512F; otherwise sgemmOwn() returns false and the caller uses cblas_sgemm.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common.h"
#include "gemm.h"

namespace pl {

#if defined(__AVX512F__)

static const int64_t MR = 12, NR = 32, KC = 512, MC = 144, NC = 2048;

// B[k0:k0+kc, j0:j0+nc] (op(B) is K×N) → panels of NR columns: dst[(jp/NR)·kc·NR + k·NR + jj]
static void packB(bool tb, const float* B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int64_t nr = std::min(NR, nc - jp);
    float* d = dst + jp * kc;
    if (!tb) {
      for (int64_t k = 0; k < kc; k++) {
        const float* s = B + (k0 + k) * ldb + j0 + jp;
        float* dk = d + k * NR;
        if (nr == NR) {
          _mm512_storeu_ps(dk, _mm512_loadu_ps(s));
          _mm512_storeu_ps(dk + 16, _mm512_loadu_ps(s + 16));
        } else {
          for (int64_t jj = 0; jj < nr; jj++) dk[jj] = s[jj];
          for (int64_t jj = nr; jj < NR; jj++) dk[jj] = 0.f;
        }
      }
    } else {
      // B stored N×K: column j of op(B) is row j of B (contiguous in k)
      for (int64_t jj = 0; jj < nr; jj++) {
        const float* s = B + (j0 + jp + jj) * ldb + k0;
        for (int64_t k = 0; k < kc; k++) d[k * NR + jj] = s[k];
      }
      if (nr < NR)
        for (int64_t k = 0; k < kc; k++)
          for (int64_t jj = nr; jj < NR; jj++) d[k * NR + jj] = 0.f;
    }
  }
}

// A[i0:i0+mc, k0:k0+kc] (op(A) is M×K) → panels of MR rows: dst[(ip/MR)·kc·MR + k·MR + ii]
static void packA(bool ta, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t mr = std::min(MR, mc - ip);
    float* d = dst + ip * kc;
    if (!ta) {
      for (int64_t ii = 0; ii < mr; ii++) {
        const float* s = A + (i0 + ip + ii) * lda + k0;
        for (int64_t k = 0; k < kc; k++) d[k * MR + ii] = s[k];
      }
      if (mr < MR)
        for (int64_t k = 0; k < kc; k++)
          for (int64_t ii = mr; ii < MR; ii++) d[k * MR + ii] = 0.f;
    } else {
      // A stored K×M: row k of A holds op(A)[:, k], contiguous in i
      for (int64_t k = 0; k < kc; k++) {
        const float* s = A + (k0 + k) * lda + i0 + ip;
        float* dk = d + k * MR;
        for (int64_t ii = 0; ii < mr; ii++) dk[ii] = s[ii];
        for (int64_t ii = mr; ii < MR; ii++) dk[ii] = 0.f;
      }
    }
  }
}

#define PL_ROW(i)                                                   \
  {                                                                 \
    const __m512 ai = _mm512_set1_ps(a[i]);                         \
    c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                     \
    c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                     \
  }
#define PL_STORE(i)                                                                                  \
  if (i < mr) {                                                                                      \
    float* cr = C + i * ldc;                                                                         \
    if (acc) {                                                                                       \
      c##i##0 = _mm512_add_ps(c##i##0, _mm512_maskz_loadu_ps(m0, cr));                               \
      c##i##1 = _mm512_add_ps(c##i##1, _mm512_maskz_loadu_ps(m1, cr + 16));                          \
    }                                                                                                \
    _mm512_mask_storeu_ps(cr, m0, c##i##0);                                                          \
    _mm512_mask_storeu_ps(cr + 16, m1, c##i##1);                                                     \
  }

// C[0:mr, 0:nr] (+)= Apanel(kc×MR) · Bpanel(kc×NR)
static void micro12x32(int64_t kc, const float* __restrict a, const float* __restrict b, float* C, int64_t ldc, bool acc, int64_t mr,
                       int64_t nr) {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  __m512 c80 = c00, c81 = c00, c90 = c00, c91 = c00, c100 = c00, c101 = c00, c110 = c00, c111 = c00;
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
    PL_ROW(0) PL_ROW(1) PL_ROW(2) PL_ROW(3) PL_ROW(4) PL_ROW(5)
    PL_ROW(6) PL_ROW(7) PL_ROW(8) PL_ROW(9) PL_ROW(10) PL_ROW(11)
    a += MR;
    b += NR;
  }
  const __mmask16 m0 = nr >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? (__mmask16)0xffff : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1);
  PL_STORE(0) PL_STORE(1) PL_STORE(2) PL_STORE(3) PL_STORE(4) PL_STORE(5)
  PL_STORE(6) PL_STORE(7) PL_STORE(8) PL_STORE(9) PL_STORE(10) PL_STORE(11)
}
#undef PL_ROW
#undef PL_STORE

bool sgemmOwn(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
              float* C, int64_t ldc) {
  if (beta != 0.f && beta != 1.f) return false;
  if (M <= 0 || N <= 0 || K <= 0) return false;
  thread_local std::vector<float> bufA, bufB;
  const int64_t ncMax = std::min(NC, ((N + NR - 1) / NR) * NR);
  const int64_t kcMax = std::min(KC, K);
  const int64_t mcMax = std::min(MC, ((M + MR - 1) / MR) * MR);
  if ((int64_t)bufB.size() < kcMax * ncMax) bufB.resize(kcMax * ncMax);
  if ((int64_t)bufA.size() < kcMax * mcMax) bufA.resize(kcMax * mcMax);
  float* Bp = bufB.data();
  float* Ap = bufA.data();
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool acc = pc > 0 || beta == 1.f;
      packB(tb, B, ldb, pc, kc, jc, nc, Bp);
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        packA(ta, A, lda, ic, mc, pc, kc, Ap);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = std::min(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            micro12x32(kc, Ap + ir * kc, Bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, acc, std::min(MR, mc - ir), nr);
          }
        }
      }
    }
  }
  return true;
}

bool sgemmOwnAvailable() { return true; }

// Multithreaded: B is packed once per (column block, depth block), in parallel by panels; then the
// row blocks of C are parts of a pool job (each packs its own A block, runs the micro-kernels and,
// after the last depth block, the epilogue on its rows).
bool sgemmOwnPar(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                 float* C, int64_t ldc, const float* bias, int biasKind, int act, float alpha) {
  if (beta != 0.f && beta != 1.f) return false;
  if (M <= 0 || N <= 0 || K <= 0) return false;
  ThreadPool& pool = ThreadPool::get();
  const int nt = pool.size();
  // row block: a multiple of MR, small enough for a few blocks per thread, at most MC
  int64_t mcBlock = ((M + 4 * nt - 1) / (4 * nt) + MR - 1) / MR * MR;
  mcBlock = std::max(MR, std::min(MC, mcBlock));
  const int64_t mBlocks = (M + mcBlock - 1) / mcBlock;
  thread_local std::vector<float> bufB;
  const int64_t ncMax = std::min(NC, ((N + NR - 1) / NR) * NR);
  const int64_t kcMax = std::min(KC, K);
  if ((int64_t)bufB.size() < kcMax * ncMax) bufB.resize(kcMax * ncMax);
  float* Bp = bufB.data();
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    const int64_t panels = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool acc = pc > 0 || beta == 1.f;
      const bool last = pc + KC >= K;
      const int64_t packParts = std::min<int64_t>(panels, kc * nc >= (1 << 15) ? 2 * nt : 1);
      pool.run(packParts, [&](int part, int n) {
        const int64_t p0 = panels * part / n, p1 = panels * (part + 1) / n;
        if (p1 > p0) packB(tb, B, ldb, pc, kc, jc + p0 * NR, std::min(nc, p1 * NR) - p0 * NR, Bp + p0 * NR * kc);
      });
      pool.run(mBlocks, [&](int part, int) {
        const int64_t ic = part * mcBlock;
        const int64_t mc = std::min(mcBlock, M - ic);
        thread_local std::vector<float> bufA;
        if ((int64_t)bufA.size() < kc * mcBlock) bufA.resize(kc * mcBlock);
        float* Ap = bufA.data();
        packA(ta, A, lda, ic, mc, pc, kc, Ap);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = std::min(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            micro12x32(kc, Ap + ir * kc, Bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, acc, std::min(MR, mc - ir), nr);
          }
        }
        if (last) epilogue(C, ldc, ic, ic + mc, jc, jc + nc, bias, biasKind, act, alpha);
      });
    }
  }
  return true;
}

#else

bool sgemmOwn(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float, float*, int64_t) { return false; }
bool sgemmOwnAvailable() { return false; }
bool sgemmOwnPar(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float, float*, int64_t, const float*, int,
                 int, float) {
  return false;
}

#endif

}  // namespace pl
