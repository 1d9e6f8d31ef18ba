// Module entry of the paperlab native addon: registers the kernel families and reports the BLAS
// library and the thread count. Loaded by src/core/native.ts.
#include <cblas.h>
#include <malloc.h>

#include <cstdlib>
#include <string>

#include "common.h"
#include "gemm.h"

namespace pl {

static Napi::Value BlasInfo(const Napi::CallbackInfo& info) {
  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH … " → "OpenBLAS 0.3.21 (core Haswell)"
  std::string cfg = openblas_get_config() ? openblas_get_config() : "OpenBLAS";
  size_t sp = cfg.find(' ');
  if (sp != std::string::npos) sp = cfg.find(' ', sp + 1);
  std::string s = cfg.substr(0, sp);
  if (const char* core = openblas_get_corename()) s += std::string(" (core ") + core + ")";
  s = (gUseOwnGemm && sgemmOwnAvailable() ? "paperlab AVX-512 GEMM + " : "GEMM and ") + s;
  return Napi::String::New(info.Env(), s);
}

static Napi::Value NumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ThreadPool::get().size()); }

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = (int)argInt(info, 0, "threads", 1, 64);
  ThreadPool::get().resize(n);
  return Napi::Number::New(info.Env(), ThreadPool::get().size());
}

// Tunes glibc malloc so that the large Float32Arrays tfjs allocates for every op are recycled from
// the heap instead of being mmap'ed and unmapped each time (same effect as MALLOC_MMAP_THRESHOLD_
// etc. in the environment, but set from inside the process). Returns false if an option was refused.
static Napi::Value TuneMalloc(const Napi::CallbackInfo& info) {
  int64_t mmapThreshold = argInt(info, 0, "mmapThreshold", 0, (int64_t)1 << 30);
  int64_t trimThreshold = argInt(info, 1, "trimThreshold", 0, (int64_t)1 << 40);
  int64_t topPad = argInt(info, 2, "topPad", 0, (int64_t)1 << 30);
  bool ok = mallopt(M_MMAP_THRESHOLD, (int)mmapThreshold) == 1;
  ok = (mallopt(M_TRIM_THRESHOLD, (int)std::min<int64_t>(trimThreshold, INT32_MAX)) == 1) && ok;
  ok = (mallopt(M_TOP_PAD, (int)topPad) == 1) && ok;
  return Napi::Boolean::New(info.Env(), ok);
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Number::New(env, 1));
  exports.Set("blasInfo", Napi::Function::New(env, BlasInfo, "blasInfo"));
  exports.Set("numThreads", Napi::Function::New(env, NumThreads, "numThreads"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("tuneMalloc", Napi::Function::New(env, TuneMalloc, "tuneMalloc"));
  initGemm(env, exports);
  initConv(env, exports);
  initElementwise(env, exports);
  initMemory(env, exports);
  return exports;
}

}  // namespace pl

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return pl::Init(env, exports); }
NODE_API_MODULE(paperlab_native, InitAll)
