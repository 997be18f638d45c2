// A fixed pool of worker threads for data-parallel loops: parallel_for(n, fn) cuts [0, n) into a
// few contiguous chunks per thread that the calling thread and the workers claim from a shared
// counter, calling fn(begin, end, thread_idx) for each claimed chunk. A worker that the OS has not
// scheduled therefore delays nothing: the others take its chunks. Workers spin briefly between
// jobs, then sleep on a futex, so the hundreds of calls per decoded token cost about a
// microsecond each. Must be driven by one controlling thread at a time, never re-entered from
// inside fn, and never allocate per call.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace duet::rt {

class ThreadPool {
 public:
  // n_threads <= 0: std::thread::hardware_concurrency() (at least 1). The calling thread counts
  // as one, so n_threads - 1 workers are started.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(begin, end, thread_idx) over disjoint, non-empty ranges covering [0, n) and returns
  // when all are done. A thread may get several ranges; thread_idx (in [0, size())) names the
  // thread, for per-thread scratch. The first exception thrown by any fn is rethrown here after
  // every range finished.
  template <typename Fn>
  void parallel_for(int64_t n, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run(n, [](void* ctx, int64_t b, int64_t e, int t) { (*static_cast<F*>(ctx))(b, e, t); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // Range k of n_parts near-equal contiguous ranges of [0, n).
  static void split(int64_t n, int64_t n_parts, int64_t k, int64_t* begin, int64_t* end) {
    *begin = n * k / n_parts;
    *end = n * (k + 1) / n_parts;
  }

 private:
  using Trampoline = void (*)(void* ctx, int64_t begin, int64_t end, int thread_idx);
  void run(int64_t n, Trampoline fn, void* ctx);
  void worker_main(int idx);
  // Claims and runs chunks of job `gen` until none are left.
  void run_chunks(uint32_t gen, int thread_idx);
  void record_exception();

  int n_threads_ = 1;
  std::vector<std::thread> workers_;  // n_threads_ - 1 workers

  // The current job, written by the controller before it publishes `claim_` and `generation_`,
  // and stable while any of its chunks is unfinished.
  Trampoline job_fn_ = nullptr;
  void* job_ctx_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_chunks_ = 0;

  // (generation << 32) | chunks not yet claimed; a claim decrements it, so a thread holding a
  // stale generation can never claim a chunk of a newer job.
  alignas(64) std::atomic<uint64_t> claim_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};  // bumped once per job (wakes workers)
  alignas(64) std::atomic<uint32_t> done_{0};        // chunks of the current job finished
  std::atomic<int> sleepers_{0};                     // workers blocked on generation_
  std::atomic<bool> controller_waiting_{false};      // controller blocked on done_
  std::atomic<bool> stop_{false};
  std::atomic<bool> in_job_{false};

  std::mutex error_mutex_;
  std::exception_ptr error_;  // first exception of the current job
};

}  // namespace duet::rt
