// GEMM helpers shared by the matmul and convolution kernels.
#pragma once
#include <cstdint>

namespace pl {

enum Act : int { ACT_LINEAR = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_ELU = 3, ACT_SIGMOID = 4, ACT_LEAKYRELU = 5, ACT_GELU = 6 };
enum BiasKind : int { BIAS_NONE = 0, BIAS_SCALAR = 1, BIAS_COLUMN = 2 /* length N, added to every row */ };

// The AVX-512 kernel of sgemm.cc (false: not compiled in, or beta not 0/1, or empty: use BLAS).
bool sgemmOwn(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
              float* C, int64_t ldc);
bool sgemmOwnAvailable();
// Multithreaded version with the epilogue fused per row block (false: use the BLAS path).
bool sgemmOwnPar(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                 float* C, int64_t ldc, const float* bias, int biasKind, int act, float alpha);
// Which GEMM sgemm1 uses: true = the AVX-512 kernel when available, false = OpenBLAS.
extern bool gUseOwnGemm;

// Row-major C[M,N] = op(A)[M,K] · op(B)[K,N] (+ beta·C), on the calling thread only.
void sgemm1(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
            float beta, float* C, int64_t ldc);
// Same, split over the thread pool when large enough. Applies the epilogue (bias, activation) per block.
void sgemmPar(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
              float beta, float* C, int64_t ldc, const float* bias = nullptr, int biasKind = BIAS_NONE, int act = ACT_LINEAR,
              float alpha = 0.f);
// Bias and activation over C[i0:i1, j0:j1].
void epilogue(float* C, int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1, const float* bias, int biasKind, int act,
              float alpha);

}  // namespace pl
