// Shared declarations of the paperlab native addon: the thread pool, argument checking helpers and
// the registration hooks of each kernel family. Every exported function validates the lengths,
// shapes and types of its arguments before touching memory and throws a JS error otherwise.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace pl {

// ---------------------------------------------------------------------------------------------
// Thread pool: a fixed set of workers plus the calling thread. Workers spin briefly after each
// job (kernels arrive back to back) and then sleep on a condition variable.
// ---------------------------------------------------------------------------------------------
class ThreadPool {
 public:
  static ThreadPool& get();
  int size() const { return nthreads_; }
  // Runs fn(tid, n) on n = min(want, size()) threads, tid 0 being the caller; returns when all are done.
  template <class F>
  void run(int want, F&& fn) {
    int n = want < nthreads_ ? want : nthreads_;
    if (n <= 1 || inside_) {
      fn(0, 1);
      return;
    }
    Job job{&invoke<F>, &fn};
    dispatch(job, n);
  }
  // Changes the number of threads (1..64). Not thread-safe against concurrent run().
  void resize(int n);
  ~ThreadPool();

 private:
  struct Job {
    void (*call)(void*, int, int);
    void* ctx;
  };
  template <class F>
  static void invoke(void* ctx, int tid, int n) {
    (*static_cast<F*>(ctx))(tid, n);
  }
  ThreadPool();
  void dispatch(const Job& job, int n);
  void start(int n);
  void stop();
  void worker(int tid, uint64_t startEpoch);

  int nthreads_ = 1;
  bool inside_ = false;  // true while the caller runs a job: nested runs execute inline
  struct State;
  State* s_ = nullptr;
};

// Splits [0, total) into parts of at least `grain` items and runs body(begin, end) on the pool.
template <class F>
void parallel_for(int64_t total, int64_t grain, F&& body) {
  if (total <= 0) return;
  ThreadPool& pool = ThreadPool::get();
  int64_t maxParts = grain > 0 ? (total + grain - 1) / grain : total;
  int parts = (int)(maxParts < pool.size() ? maxParts : pool.size());
  if (parts <= 1) {
    body((int64_t)0, total);
    return;
  }
  pool.run(parts, [&](int tid, int n) {
    int64_t b = total * tid / n, e = total * (tid + 1) / n;
    if (b < e) body(b, e);
  });
}

// ---------------------------------------------------------------------------------------------
// Argument helpers. They throw Napi::TypeError / Napi::RangeError (C++ exceptions are enabled and
// node-addon-api turns them into JS exceptions).
// ---------------------------------------------------------------------------------------------
struct F32 {
  float* p = nullptr;
  size_t n = 0;
};
struct I32 {
  int32_t* p = nullptr;
  size_t n = 0;
};

[[noreturn]] void fail(const Napi::Env& env, const std::string& msg);
F32 argF32(const Napi::CallbackInfo& info, size_t i, const char* name);
// Float32Array or null/undefined (returns p == nullptr).
F32 argF32Opt(const Napi::CallbackInfo& info, size_t i, const char* name);
I32 argI32(const Napi::CallbackInfo& info, size_t i, const char* name);
int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo, int64_t hi);
double argNum(const Napi::CallbackInfo& info, size_t i, const char* name);
bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name);
// A JS array of non-negative integers (or an Int32Array), each at most 2^31-1, at most `maxLen` long.
std::vector<int64_t> argDims(const Napi::CallbackInfo& info, size_t i, const char* name, size_t maxLen = 16);
// Product of dims, throwing if it overflows 2^53.
int64_t sizeOf(const Napi::Env& env, const std::vector<int64_t>& dims, const char* name);
void checkLen(const Napi::Env& env, size_t got, int64_t want, const char* name);
// Throws unless the ranges [p, p+n) of out and in are disjoint (kernels never run in place).
void checkNoAlias(const Napi::Env& env, const float* out, size_t outN, const void* in, size_t inBytes, const char* name);

// Registration of each kernel family on the exports object.
void initGemm(Napi::Env env, Napi::Object exports);
void initConv(Napi::Env env, Napi::Object exports);
void initElementwise(Napi::Env env, Napi::Object exports);
void initMemory(Napi::Env env, Napi::Object exports);

}  // namespace pl
