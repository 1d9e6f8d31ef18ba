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
// Thread pool: a fixed set of workers plus the calling thread. A job is a number of parts; the
// caller and the workers claim parts with an atomic ticket, so the caller never waits for a worker
// that has not claimed anything (on a busy machine a descheduled worker costs nothing: the caller
// runs the parts itself). Idle workers spin briefly (kernels arrive back to back), then sleep.
// ---------------------------------------------------------------------------------------------
class ThreadPool {
 public:
  static ThreadPool& get();
  int size() const { return nthreads_; }
  // Runs fn(part, parts) for part = 0 … parts-1, each exactly once, on any of the threads (the
  // caller included); returns when all parts are done. Nested calls run inline.
  template <class F>
  void run(int64_t parts, F&& fn) {
    if (parts <= 0) return;
    if (parts == 1 || nthreads_ <= 1 || tInside) {
      for (int64_t p = 0; p < parts; p++) fn((int)p, (int)parts);
      return;
    }
    if (parts > 65535) parts = 65535;
    Job job{&invoke<F>, &fn};
    dispatch(job, (int)parts);
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
  static void invoke(void* ctx, int part, int parts) {
    (*static_cast<F*>(ctx))(part, parts);
  }
  ThreadPool();
  void dispatch(const Job& job, int parts);
  void start(int n);
  void stop();
  void worker(int tid, uint64_t startEpoch);
  // claims and runs parts of the job whose ticket is t; returns the last ticket seen
  uint64_t work(uint64_t t);

  int nthreads_ = 1;
  static thread_local bool tInside;
  struct State;
  State* s_ = nullptr;
};

// Splits [0, total) into chunks of at least `grain` items (a few per thread, for balance) and runs
// body(begin, end) for each on the pool.
template <class F>
void parallel_for(int64_t total, int64_t grain, F&& body) {
  if (total <= 0) return;
  ThreadPool& pool = ThreadPool::get();
  int64_t maxParts = grain > 0 ? (total + grain - 1) / grain : total;
  int64_t parts = maxParts < 4 * pool.size() ? maxParts : 4 * pool.size();
  if (parts <= 1 || pool.size() <= 1) {
    body((int64_t)0, total);
    return;
  }
  pool.run(parts, [&](int part, int n) {
    int64_t b = total * part / n, e = total * (part + 1) / n;
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
