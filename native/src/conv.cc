// 2-D convolution (NHWC) via im2col + sgemm, its two gradients, and max/avg pooling with their
// gradients. Work is split over the thread pool by blocks of output rows (forward, filter
// gradient) or by whole images (input gradient, so that the col2im scatter never races).
#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "common.h"
#include "gemm.h"

namespace pl {

struct ConvP {
  int64_t N, H, W, C, FH, FW, OC, OH, OW, sh, sw, dh, dw, pt, pl;
  int64_t K() const { return FH * FW * C; }
  int64_t rows() const { return N * OH * OW; }
  bool pointwise() const { return FH == 1 && FW == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && OH == H && OW == W; }
};

static ConvP argConv(const Napi::CallbackInfo& info, size_t i) {
  std::vector<int64_t> v = argDims(info, i, "params", 15);
  if (v.size() != 15) fail(info.Env(), "params must be [N,H,W,C,FH,FW,OC,OH,OW,strideH,strideW,dilH,dilW,padTop,padLeft]");
  ConvP p{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]};
  if (p.sh < 1 || p.sw < 1 || p.dh < 1 || p.dw < 1) fail(info.Env(), "strides and dilations must be ≥ 1");
  if (p.K() > INT_MAX || p.OC > INT_MAX) fail(info.Env(), "filter too large");
  return p;
}

// Writes im2col rows [r0, r1) (row = (n, oh, ow)) into col[(r - r0) * K ...]; padding reads as 0.
static void im2col(const ConvP& p, const float* x, int64_t r0, int64_t r1, float* col) {
  const int64_t K = p.K(), C = p.C;
  for (int64_t r = r0; r < r1; r++) {
    int64_t n = r / (p.OH * p.OW), rem = r % (p.OH * p.OW), oh = rem / p.OW, ow = rem % p.OW;
    float* c = col + (r - r0) * K;
    for (int64_t fh = 0; fh < p.FH; fh++) {
      int64_t ih = oh * p.sh - p.pt + fh * p.dh;
      for (int64_t fw = 0; fw < p.FW; fw++) {
        int64_t iw = ow * p.sw - p.pl + fw * p.dw;
        float* dst = c + (fh * p.FW + fw) * C;
        if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W)
          std::fill(dst, dst + C, 0.f);
        else
          std::memcpy(dst, x + ((n * p.H + ih) * p.W + iw) * C, (size_t)C * 4);
      }
    }
  }
}

// Adds im2col-layout rows [r0, r1) of dcol back into dx (the adjoint of im2col).
static void col2im(const ConvP& p, const float* dcol, int64_t r0, int64_t r1, float* dx) {
  const int64_t K = p.K(), C = p.C;
  for (int64_t r = r0; r < r1; r++) {
    int64_t n = r / (p.OH * p.OW), rem = r % (p.OH * p.OW), oh = rem / p.OW, ow = rem % p.OW;
    const float* c = dcol + (r - r0) * K;
    for (int64_t fh = 0; fh < p.FH; fh++) {
      int64_t ih = oh * p.sh - p.pt + fh * p.dh;
      if (ih < 0 || ih >= p.H) continue;
      for (int64_t fw = 0; fw < p.FW; fw++) {
        int64_t iw = ow * p.sw - p.pl + fw * p.dw;
        if (iw < 0 || iw >= p.W) continue;
        const float* src = c + (fh * p.FW + fw) * C;
        float* __restrict d = dx + ((n * p.H + ih) * p.W + iw) * C;
        for (int64_t k = 0; k < C; k++) d[k] += src[k];
      }
    }
  }
}

// rows per im2col block: ~1 MiB of columns, at least 32 rows
static int64_t blockRows(const ConvP& p) { return std::max<int64_t>(32, (int64_t(1) << 18) / std::max<int64_t>(p.K(), 1)); }

// conv2d(x, filter, out, params, bias|null, biasKind, act, alpha)
static Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x"), f = argF32(info, 1, "filter"), o = argF32(info, 2, "out");
  ConvP p = argConv(info, 3);
  F32 bias = argF32Opt(info, 4, "bias");
  int biasKind = (int)argInt(info, 5, "biasKind", 0, 2);
  int act = (int)argInt(info, 6, "act", 0, 6);
  float alpha = (float)argNum(info, 7, "alpha");
  checkLen(env, x.n, p.N * p.H * p.W * p.C, "x");
  checkLen(env, f.n, p.K() * p.OC, "filter");
  checkLen(env, o.n, p.rows() * p.OC, "out");
  if (biasKind == 1 && bias.n != 1) fail(env, "scalar bias must have 1 element");
  if (biasKind == 2 && (int64_t)bias.n != p.OC) fail(env, "bias must have outChannels elements");
  if (biasKind != 0 && !bias.p) fail(env, "bias missing");
  checkNoAlias(env, o.p, o.n, x.p, x.n * 4, "x");
  checkNoAlias(env, o.p, o.n, f.p, f.n * 4, "filter");
  if (o.n == 0) return env.Undefined();
  const int64_t K = p.K(), rows = p.rows();
  if (p.pointwise()) {
    sgemmPar(false, false, rows, p.OC, K, x.p, K, f.p, p.OC, 0.f, o.p, p.OC, bias.p, biasKind, act, alpha);
    return env.Undefined();
  }
  const int64_t br = blockRows(p);
  const int64_t blocks = (rows + br - 1) / br;
  ThreadPool::get().run(blocks, [&](int b, int) {
    thread_local std::vector<float> col;
    if (col.size() < (size_t)br * K) col.resize((size_t)br * K);
    int64_t r0 = b * br, r1 = std::min(rows, r0 + br);
    im2col(p, x.p, r0, r1, col.data());
    sgemm1(false, false, r1 - r0, p.OC, K, col.data(), K, f.p, p.OC, 0.f, o.p + r0 * p.OC, p.OC);
    epilogue(o.p + r0 * p.OC, p.OC, 0, r1 - r0, 0, p.OC, bias.p, biasKind, act, alpha);
  });
  return env.Undefined();
}

// conv2dBackpropInput(dy, filter, dx, params): dx = col2im(dy · filterᵀ)
static Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 dy = argF32(info, 0, "dy"), f = argF32(info, 1, "filter"), dx = argF32(info, 2, "dx");
  ConvP p = argConv(info, 3);
  checkLen(env, dy.n, p.rows() * p.OC, "dy");
  checkLen(env, f.n, p.K() * p.OC, "filter");
  checkLen(env, dx.n, p.N * p.H * p.W * p.C, "dx");
  checkNoAlias(env, dx.p, dx.n, dy.p, dy.n * 4, "dy");
  checkNoAlias(env, dx.p, dx.n, f.p, f.n * 4, "filter");
  if (dx.n == 0) return env.Undefined();
  const int64_t K = p.K(), rows = p.rows();
  if (p.pointwise()) {
    sgemmPar(false, true, rows, K, p.OC, dy.p, p.OC, f.p, p.OC, 0.f, dx.p, K);
    return env.Undefined();
  }
  std::fill(dx.p, dx.p + dx.n, 0.f);
  if (rows == 0) return env.Undefined();
  const int64_t imgRows = p.OH * p.OW;
  const int64_t br = std::max<int64_t>(blockRows(p), 1);
  ThreadPool& pool = ThreadPool::get();
  if (p.N >= 2) {
    const int64_t parts = std::min<int64_t>(p.N, 4 * pool.size());
    pool.run(parts, [&](int part, int n) {
      int64_t n0 = p.N * part / n, n1 = p.N * (part + 1) / n;
      thread_local std::vector<float> dcol;
      if (dcol.size() < (size_t)br * K) dcol.resize((size_t)br * K);
      for (int64_t r0 = n0 * imgRows; r0 < n1 * imgRows; r0 += br) {
        int64_t r1 = std::min(n1 * imgRows, r0 + br);
        sgemm1(false, true, r1 - r0, K, p.OC, dy.p + r0 * p.OC, p.OC, f.p, p.OC, 0.f, dcol.data(), K);
        col2im(p, dcol.data(), r0, r1, dx.p);
      }
    });
  } else {
    std::vector<float> dcol((size_t)br * K);
    for (int64_t r0 = 0; r0 < rows; r0 += br) {
      int64_t r1 = std::min(rows, r0 + br);
      sgemmPar(false, true, r1 - r0, K, p.OC, dy.p + r0 * p.OC, p.OC, f.p, p.OC, 0.f, dcol.data(), K);
      col2im(p, dcol.data(), r0, r1, dx.p);
    }
  }
  return env.Undefined();
}

// conv2dBackpropFilter(x, dy, dw, params): dw[K, OC] = Σ_rows im2col(x)ᵀ · dy
static Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x"), dy = argF32(info, 1, "dy"), dw = argF32(info, 2, "dw");
  ConvP p = argConv(info, 3);
  checkLen(env, x.n, p.N * p.H * p.W * p.C, "x");
  checkLen(env, dy.n, p.rows() * p.OC, "dy");
  checkLen(env, dw.n, p.K() * p.OC, "dw");
  checkNoAlias(env, dw.p, dw.n, x.p, x.n * 4, "x");
  checkNoAlias(env, dw.p, dw.n, dy.p, dy.n * 4, "dy");
  if (dw.n == 0) return env.Undefined();
  const int64_t K = p.K(), rows = p.rows(), OC = p.OC;
  if (p.pointwise()) {
    sgemmPar(true, false, K, OC, rows, x.p, K, dy.p, OC, 0.f, dw.p, OC);
    return env.Undefined();
  }
  std::fill(dw.p, dw.p + dw.n, 0.f);
  if (rows == 0) return env.Undefined();
  const int64_t br = blockRows(p);
  const int64_t blocks = (rows + br - 1) / br;
  ThreadPool& pool = ThreadPool::get();
  int parts = (int)std::min<int64_t>(2 * pool.size(), blocks);
  std::vector<float> partial((size_t)(parts - 1) * K * OC);
  pool.run(parts, [&](int tid, int n) {
    float* acc = tid == 0 ? dw.p : partial.data() + (size_t)(tid - 1) * K * OC;
    if (tid > 0) std::fill(acc, acc + K * OC, 0.f);
    thread_local std::vector<float> col;
    if (col.size() < (size_t)br * K) col.resize((size_t)br * K);
    for (int64_t b = tid; b < blocks; b += n) {
      int64_t r0 = b * br, r1 = std::min(rows, r0 + br);
      im2col(p, x.p, r0, r1, col.data());
      sgemm1(true, false, K, OC, r1 - r0, col.data(), K, dy.p + r0 * OC, OC, 1.f, acc, OC);
    }
  });
  for (int t = 1; t < parts; t++) {
    const float* src = partial.data() + (size_t)(t - 1) * K * OC;
    for (int64_t i = 0; i < K * OC; i++) dw.p[i] += src[i];
  }
  return env.Undefined();
}

// ------------------------------------------------------------------------------------------------
// Pooling (NHWC, dilation 1). params: [N,H,W,C, FH,FW, OH,OW, sh,sw, pt,pl]
// ------------------------------------------------------------------------------------------------
struct PoolP {
  int64_t N, H, W, C, FH, FW, OH, OW, sh, sw, pt, pl;
};
static PoolP argPool(const Napi::CallbackInfo& info, size_t i) {
  std::vector<int64_t> v = argDims(info, i, "params", 12);
  if (v.size() != 12) fail(info.Env(), "params must be [N,H,W,C,FH,FW,OH,OW,strideH,strideW,padTop,padLeft]");
  PoolP p{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
  if (p.sh < 1 || p.sw < 1) fail(info.Env(), "strides must be ≥ 1");
  return p;
}

// pool2d(x, out, params, isMax): max (first strict maximum, NaN ignored) or average over the valid pixels
static Napi::Value Pool2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x"), o = argF32(info, 1, "out");
  PoolP p = argPool(info, 2);
  bool isMax = argBool(info, 3, "isMax");
  checkLen(env, x.n, p.N * p.H * p.W * p.C, "x");
  checkLen(env, o.n, p.N * p.OH * p.OW * p.C, "out");
  checkNoAlias(env, o.p, o.n, x.p, x.n * 4, "x");
  if (o.n == 0) return env.Undefined();
  const int64_t C = p.C;
  parallel_for(p.N * p.OH, std::max<int64_t>(1, (1 << 12) / std::max<int64_t>(p.OW * C, 1)), [&](int64_t s, int64_t e) {
    std::vector<float> cnt((size_t)C);
    for (int64_t t = s; t < e; t++) {
      int64_t n = t / p.OH, oh = t % p.OH;
      int64_t h0 = std::max<int64_t>(0, oh * p.sh - p.pt), h1 = std::min<int64_t>(p.H, oh * p.sh - p.pt + p.FH);
      for (int64_t ow = 0; ow < p.OW; ow++) {
        int64_t w0 = std::max<int64_t>(0, ow * p.sw - p.pl), w1 = std::min<int64_t>(p.W, ow * p.sw - p.pl + p.FW);
        float* __restrict op = o.p + ((n * p.OH + oh) * p.OW + ow) * C;
        for (int64_t c = 0; c < C; c++) op[c] = isMax ? -__builtin_inff() : 0.f;
        int64_t count = 0;
        for (int64_t h = h0; h < h1; h++) {
          for (int64_t w = w0; w < w1; w++) {
            const float* __restrict xp = x.p + ((n * p.H + h) * p.W + w) * C;
            if (isMax) {
              for (int64_t c = 0; c < C; c++) op[c] = xp[c] > op[c] ? xp[c] : op[c];
            } else {
              for (int64_t c = 0; c < C; c++) op[c] += xp[c];
            }
            count++;
          }
        }
        if (!isMax) {
          const float inv = 1.f / (float)count;
          for (int64_t c = 0; c < C; c++) op[c] = count ? op[c] * inv : __builtin_nanf("");
        }
      }
    }
  });
  return env.Undefined();
}

// maxPoolGrad(dy, x, dx, params): each output's gradient goes to the first strict maximum of its
// window (row-major window order), as tfjs's cpu kernel does.
static Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 dy = argF32(info, 0, "dy"), x = argF32(info, 1, "x"), dx = argF32(info, 2, "dx");
  PoolP p = argPool(info, 3);
  checkLen(env, x.n, p.N * p.H * p.W * p.C, "x");
  checkLen(env, dx.n, p.N * p.H * p.W * p.C, "dx");
  checkLen(env, dy.n, p.N * p.OH * p.OW * p.C, "dy");
  checkNoAlias(env, dx.p, dx.n, x.p, x.n * 4, "x");
  checkNoAlias(env, dx.p, dx.n, dy.p, dy.n * 4, "dy");
  std::fill(dx.p, dx.p + dx.n, 0.f);
  if (dy.n == 0) return env.Undefined();
  const int64_t C = p.C;
  parallel_for(p.N, 1, [&](int64_t s, int64_t e) {
    std::vector<float> best((size_t)C);
    std::vector<int64_t> pos((size_t)C);
    for (int64_t n = s; n < e; n++) {
      for (int64_t oh = 0; oh < p.OH; oh++) {
        int64_t h0 = std::max<int64_t>(0, oh * p.sh - p.pt), h1 = std::min<int64_t>(p.H, oh * p.sh - p.pt + p.FH);
        for (int64_t ow = 0; ow < p.OW; ow++) {
          int64_t w0 = std::max<int64_t>(0, ow * p.sw - p.pl), w1 = std::min<int64_t>(p.W, ow * p.sw - p.pl + p.FW);
          for (int64_t c = 0; c < C; c++) best[c] = -__builtin_inff(), pos[c] = -1;
          for (int64_t h = h0; h < h1; h++) {
            for (int64_t w = w0; w < w1; w++) {
              int64_t base = ((n * p.H + h) * p.W + w) * C;
              const float* xp = x.p + base;
              for (int64_t c = 0; c < C; c++) {
                if (xp[c] > best[c]) best[c] = xp[c], pos[c] = base + c;
              }
            }
          }
          const float* g = dy.p + ((n * p.OH + oh) * p.OW + ow) * C;
          for (int64_t c = 0; c < C; c++)
            if (pos[c] >= 0) dx.p[pos[c]] += g[c];
        }
      }
    }
  });
  return env.Undefined();
}

// avgPoolGrad(dy, dx, params): every pixel of a window gets dy / (FH·FW) (tfjs's cpu semantics)
static Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 dy = argF32(info, 0, "dy"), dx = argF32(info, 1, "dx");
  PoolP p = argPool(info, 2);
  checkLen(env, dx.n, p.N * p.H * p.W * p.C, "dx");
  checkLen(env, dy.n, p.N * p.OH * p.OW * p.C, "dy");
  checkNoAlias(env, dx.p, dx.n, dy.p, dy.n * 4, "dy");
  std::fill(dx.p, dx.p + dx.n, 0.f);
  if (dy.n == 0 || p.FH * p.FW == 0) return env.Undefined();
  const int64_t C = p.C;
  const float mult = 1.f / (float)(p.FH * p.FW);
  parallel_for(p.N, 1, [&](int64_t s, int64_t e) {
    for (int64_t n = s; n < e; n++) {
      for (int64_t oh = 0; oh < p.OH; oh++) {
        int64_t h0 = std::max<int64_t>(0, oh * p.sh - p.pt), h1 = std::min<int64_t>(p.H, oh * p.sh - p.pt + p.FH);
        for (int64_t ow = 0; ow < p.OW; ow++) {
          int64_t w0 = std::max<int64_t>(0, ow * p.sw - p.pl), w1 = std::min<int64_t>(p.W, ow * p.sw - p.pl + p.FW);
          const float* g = dy.p + ((n * p.OH + oh) * p.OW + ow) * C;
          for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) {
              float* __restrict d = dx.p + ((n * p.H + h) * p.W + w) * C;
              for (int64_t c = 0; c < C; c++) d[c] += g[c] * mult;
            }
        }
      }
    }
  });
  return env.Undefined();
}

void initConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput, "conv2dBackpropInput"));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter, "conv2dBackpropFilter"));
  exports.Set("pool2d", Napi::Function::New(env, Pool2d, "pool2d"));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad, "maxPoolGrad"));
  exports.Set("avgPoolGrad", Napi::Function::New(env, AvgPoolGrad, "avgPoolGrad"));
}

}  // namespace pl
