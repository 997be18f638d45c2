// The workers that run REST model work (transcription, speech, chat) off the I/O threads, with
// bounded concurrency (a fixed number of threads) and a bounded queue (a full queue refuses work,
// so the caller answers 503 at once instead of letting requests pile up).
// Must never run a job on the caller's thread, and never let a job's exception escape a worker.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace duet::server {

class WorkerPool {
 public:
  WorkerPool(int threads, size_t max_queued);
  ~WorkerPool();  // finishes queued jobs, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`; false (and the job is dropped) when the queue is full or the pool is stopping.
  bool try_submit(std::function<void()> job);
  // Queues `job` regardless of the bound (for clean-up work that must happen).
  void submit_always(std::function<void()> job);

 private:
  void loop();
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  size_t max_queued_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace duet::server
