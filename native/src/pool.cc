// The persistent thread pool (see common.h) and the argument helpers.
#include <immintrin.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "common.h"

namespace pl {

// The ticket packs the job's epoch (32 bits), its number of parts (16) and the next unclaimed part
// (16), so that one compare-and-swap both claims a part and proves it belongs to the current job.
struct ThreadPool::State {
  std::vector<std::thread> threads;
  std::mutex m;
  std::condition_variable cv;
  std::atomic<uint64_t> ticket{0};
  std::atomic<int> sleepers{0};
  std::atomic<int> done{0};
  std::atomic<bool> stopping{false};
  Job job{nullptr, nullptr};
  uint32_t epoch = 0;        // written by the dispatching thread only
  int64_t spinNs = 200000;  // how long an idle worker spins before sleeping
};

thread_local bool ThreadPool::tInside = false;

static inline uint32_t epochOf(uint64_t t) { return (uint32_t)(t >> 32); }
static inline uint32_t partsOf(uint64_t t) { return (uint32_t)((t >> 16) & 0xffff); }
static inline uint32_t nextOf(uint64_t t) { return (uint32_t)(t & 0xffff); }

static int defaultThreads() {
  if (const char* e = std::getenv("PAPERLAB_THREADS")) {
    int v = std::atoi(e);
    if (v >= 1 && v <= 64) return v;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int c = CPU_COUNT(&set);
    if (c >= 1) return c > 64 ? 64 : c;
  }
  unsigned h = std::thread::hardware_concurrency();
  return h >= 1 ? (h > 64 ? 64 : (int)h) : 1;
}

ThreadPool& ThreadPool::get() {
  static ThreadPool* pool = new ThreadPool();  // never destroyed: workers live for the process
  return *pool;
}

ThreadPool::ThreadPool() {
  s_ = new State();
  if (const char* e = std::getenv("PAPERLAB_SPIN_US")) {
    long v = std::atol(e);
    if (v >= 0 && v <= 1000000) s_->spinNs = v * 1000;
  }
  start(defaultThreads());
}

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::start(int n) {
  nthreads_ = n;
  s_->stopping = false;
  // each worker starts from the epoch current now, so a job dispatched before it runs is not missed
  const uint64_t e0 = epochOf(s_->ticket.load());
  for (int t = 1; t < n; t++) s_->threads.emplace_back([this, t, e0] { worker(t, e0); });
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lk(s_->m);
    s_->stopping = true;
    s_->epoch++;
    s_->ticket.store((uint64_t)s_->epoch << 32);  // an empty job: wakes everyone
  }
  s_->cv.notify_all();
  for (auto& th : s_->threads) th.join();
  s_->threads.clear();
}

void ThreadPool::resize(int n) {
  if (n < 1) n = 1;
  if (n > 64) n = 64;
  if (n == nthreads_) return;
  stop();
  start(n);
}

uint64_t ThreadPool::work(uint64_t t) {
  State& s = *s_;
  const uint32_t e = epochOf(t);
  for (;;) {
    if (epochOf(t) != e || nextOf(t) >= partsOf(t)) return t;
    if (s.ticket.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
      // the part is ours and belongs to epoch e, whose job stays put until every part is done
      const Job j = s.job;
      tInside = true;
      j.call(j.ctx, (int)nextOf(t), (int)partsOf(t));
      tInside = false;
      s.done.fetch_add(1, std::memory_order_acq_rel);
      t = s.ticket.load(std::memory_order_acquire);
    }
  }
}

void ThreadPool::worker(int, uint64_t seenEpoch) {
  State& s = *s_;
  uint32_t seen = (uint32_t)seenEpoch;
  for (;;) {
    uint64_t t = s.ticket.load(std::memory_order_acquire);
    if (epochOf(t) == seen) {
      auto t0 = std::chrono::steady_clock::now();
      int k = 0;
      while (epochOf(t = s.ticket.load(std::memory_order_acquire)) == seen) {
        _mm_pause();
        if (++k == 256) {
          k = 0;
          if (std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count() > s.spinNs) {
            std::unique_lock<std::mutex> lk(s.m);
            s.sleepers.fetch_add(1);
            s.cv.wait(lk, [&] { return epochOf(s.ticket.load()) != seen; });
            s.sleepers.fetch_sub(1);
            t = s.ticket.load();
            break;
          }
        }
      }
    }
    if (s.stopping.load()) return;
    seen = epochOf(t);
    work(t);  // if a newer job appears meanwhile, the next turn sees its epoch != seen at once
  }
}

void ThreadPool::dispatch(const Job& job, int parts) {
  State& s = *s_;
  s.job = job;
  s.done.store(0, std::memory_order_relaxed);
  s.epoch++;
  const uint64_t t0 = ((uint64_t)s.epoch << 32) | ((uint64_t)parts << 16);
  s.ticket.store(t0);  // seq_cst publish: pairs with sleepers.fetch_add in worker()
  if (s.sleepers.load() > 0) {
    std::lock_guard<std::mutex> lk(s.m);
    s.cv.notify_all();
  }
  work(t0);
  int k = 0;
  while (s.done.load(std::memory_order_acquire) < parts) {
    _mm_pause();
    if (++k > 2048) {
      std::this_thread::yield();  // a worker holding a part was descheduled: let it finish
      k = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
[[noreturn]] void fail(const Napi::Env& env, const std::string& msg) {
  throw Napi::RangeError::New(env, "paperlab native: " + msg);
}

F32 argF32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsTypedArray()) throw Napi::TypeError::New(env, std::string("paperlab native: ") + name + " must be a Float32Array");
  Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_float32_array) throw Napi::TypeError::New(env, std::string("paperlab native: ") + name + " must be a Float32Array");
  Napi::Float32Array f = info[i].As<Napi::Float32Array>();
  F32 r;
  r.p = f.Data();
  r.n = f.ElementLength();
  return r;
}

F32 argF32Opt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return F32{};
  return argF32(info, i, name);
}

I32 argI32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(env, std::string("paperlab native: ") + name + " must be an Int32Array");
  }
  Napi::Int32Array a = info[i].As<Napi::Int32Array>();
  I32 r;
  r.p = a.Data();
  r.n = a.ElementLength();
  return r;
}

double argNum(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string("paperlab native: ") + name + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo, int64_t hi) {
  double v = argNum(info, i, name);
  if (!(v == std::floor(v)) || v < (double)lo || v > (double)hi) {
    fail(info.Env(), std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
  }
  return (int64_t)v;
}

bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean()) throw Napi::TypeError::New(info.Env(), std::string("paperlab native: ") + name + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> argDims(const Napi::CallbackInfo& info, size_t i, const char* name, size_t maxLen) {
  Napi::Env env = info.Env();
  std::vector<int64_t> out;
  if (i < info.Length() && info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    Napi::Int32Array a = info[i].As<Napi::Int32Array>();
    if (a.ElementLength() > maxLen) fail(env, std::string(name) + " is too long");
    for (size_t k = 0; k < a.ElementLength(); k++) {
      if (a[k] < 0) fail(env, std::string(name) + " has a negative entry");
      out.push_back(a[k]);
    }
    return out;
  }
  if (i >= info.Length() || !info[i].IsArray()) throw Napi::TypeError::New(env, std::string("paperlab native: ") + name + " must be an array of integers");
  Napi::Array arr = info[i].As<Napi::Array>();
  uint32_t len = arr.Length();
  if (len > maxLen) fail(env, std::string(name) + " is too long");
  for (uint32_t k = 0; k < len; k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("paperlab native: ") + name + " must be an array of integers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d == std::floor(d)) || d < 0 || d > 2147483647.0) fail(env, std::string(name) + " must hold integers in [0, 2^31)");
    out.push_back((int64_t)d);
  }
  return out;
}

int64_t sizeOf(const Napi::Env& env, const std::vector<int64_t>& dims, const char* name) {
  int64_t s = 1;
  for (int64_t d : dims) {
    if (d != 0 && s > (int64_t(1) << 53) / d) fail(env, std::string(name) + " is too large");
    s *= d;
  }
  return s;
}

void checkLen(const Napi::Env& env, size_t got, int64_t want, const char* name) {
  if ((int64_t)got != want) fail(env, std::string(name) + " has " + std::to_string(got) + " elements, expected " + std::to_string(want));
}

void checkNoAlias(const Napi::Env& env, const float* out, size_t outN, const void* in, size_t inBytes, const char* name) {
  const char* o0 = reinterpret_cast<const char*>(out);
  const char* o1 = o0 + outN * sizeof(float);
  const char* i0 = static_cast<const char*>(in);
  const char* i1 = i0 + inBytes;
  if (outN && inBytes && o0 < i1 && i0 < o1) fail(env, std::string("output overlaps ") + name);
}

}  // namespace pl
