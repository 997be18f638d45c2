// ThreadPool: jobs are published with a generation counter, workers spin then sleep on a futex,
// and every thread (the controller too) claims chunks from one packed atomic counter until none
// are left. Must never lose a wake-up: sleepers and the controller announce themselves with
// seq_cst atomics before re-checking the condition they wait on, and the futex re-checks the value
// in the kernel. (Raw futexes, not std::atomic::wait: libstdc++ 12's wait/notify can miss
// wake-ups.)
#include "runtime/thread_pool.hpp"

#include <immintrin.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>

#include "core/error.hpp"

namespace duet::rt {
namespace {

// Chunks per thread: enough that a descheduled thread's share is picked up by the others, few
// enough that claiming (one CAS) stays negligible.
constexpr int64_t kChunksPerThread = 4;

// How long a thread polls before it sleeps: long enough to bridge the gaps between the matmuls of
// one decoded token, short enough not to burn a shared core between tokens.
constexpr auto kSpinTime = std::chrono::microseconds(100);

// Polls done() with pause instructions for up to kSpinTime; returns whether it became true.
template <typename Pred>
bool spin_until(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      _mm_pause();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}

// Sleeps while word == expected (or until a wake-up; callers re-check).
void futex_wait(std::atomic<uint32_t>& word, uint32_t expected) {
  static_assert(sizeof(std::atomic<uint32_t>) == 4 && std::atomic<uint32_t>::is_always_lock_free);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>& word, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr,
          nullptr, 0);
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  n_threads_ = n_threads < 1 ? 1 : n_threads;
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_seq_cst);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake(generation_, INT_MAX);
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::record_exception() {
  std::lock_guard<std::mutex> lock(error_mutex_);
  if (!error_) error_ = std::current_exception();
}

void ThreadPool::run_chunks(uint32_t gen, int thread_idx) {
  uint64_t v = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<uint32_t>(v >> 32) != gen || (v & 0xffffffffu) == 0) return;
    if (!claim_.compare_exchange_weak(v, v - 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
      continue;
    }
    // Chunks are claimed from the top down; this one is unfinished, so the job fields are stable.
    // Read them all now: once this chunk is counted done, the controller may post the next job.
    const int64_t chunks = job_chunks_;
    const int64_t chunk = chunks - static_cast<int64_t>(v & 0xffffffffu);
    int64_t begin, end;
    split(job_n_, chunks, chunk, &begin, &end);
    try {
      job_fn_(job_ctx_, begin, end, thread_idx);
    } catch (...) {
      record_exception();
    }
    if (done_.fetch_add(1, std::memory_order_seq_cst) + 1 == static_cast<uint32_t>(chunks) &&
        controller_waiting_.load(std::memory_order_seq_cst)) {
      futex_wake(done_, 1);
    }
    v = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_main(int idx) {
  // Generation 0 is the pool's start: a job may be posted before this thread first runs, so the
  // worker must not read its starting point from generation_.
  uint32_t seen = 0;
  for (;;) {
    uint32_t now = seen;
    spin_until([&] { return (now = generation_.load(std::memory_order_acquire)) != seen; });
    while (now == seen) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      futex_wait(generation_, seen);
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      now = generation_.load(std::memory_order_acquire);
    }
    seen = now;
    if (stop_.load(std::memory_order_acquire)) return;
    run_chunks(seen, idx);
  }
}

void ThreadPool::run(int64_t n, Trampoline fn, void* ctx) {
  if (n <= 0) return;
  if (in_job_.exchange(true, std::memory_order_acquire)) {
    fail("ThreadPool::parallel_for called from inside a parallel_for or from two threads at once");
  }
  if (n == 1 || workers_.empty()) {
    try {
      fn(ctx, 0, n, 0);
    } catch (...) {
      in_job_.store(false, std::memory_order_release);
      throw;
    }
    in_job_.store(false, std::memory_order_release);
    return;
  }
  const int64_t chunks = std::min<int64_t>(n, n_threads_ * kChunksPerThread);
  const uint32_t gen = generation_.load(std::memory_order_relaxed) + 1;
  job_fn_ = fn;
  job_ctx_ = ctx;
  job_n_ = n;
  job_chunks_ = chunks;
  error_ = nullptr;
  done_.store(0, std::memory_order_relaxed);
  claim_.store((static_cast<uint64_t>(gen) << 32) | static_cast<uint64_t>(chunks), std::memory_order_release);
  generation_.store(gen, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) futex_wake(generation_, INT_MAX);

  run_chunks(gen, 0);

  const auto all = static_cast<uint32_t>(chunks);
  uint32_t finished = 0;
  if (!spin_until([&] { return (finished = done_.load(std::memory_order_acquire)) == all; })) {
    controller_waiting_.store(true, std::memory_order_seq_cst);
    while ((finished = done_.load(std::memory_order_seq_cst)) != all) futex_wait(done_, finished);
    controller_waiting_.store(false, std::memory_order_relaxed);
  }
  std::exception_ptr error = error_;
  error_ = nullptr;
  in_job_.store(false, std::memory_order_release);
  if (error) std::rethrow_exception(error);
}

}  // namespace duet::rt
