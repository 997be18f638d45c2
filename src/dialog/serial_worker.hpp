// A worker thread that runs posted jobs one at a time, in order: each model stage of a session
// (recognition, answering) gets one, so stages run in parallel with each other and with the
// caller's audio thread, while each stage's own state is only ever touched by its thread.
// Must never run two jobs at once, and never drop a job unless destroyed or cleared.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace duet::dialog {

class SerialWorker {
 public:
  SerialWorker() : thread_([this] { loop(); }) {}
  ~SerialWorker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      jobs_.clear();
    }
    cv_.notify_all();
    thread_.join();
  }
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
  }
  // Drops jobs not yet started.
  void clear() {
    std::lock_guard lock(mu_);
    jobs_.clear();
  }
  // True when no job is queued or running.
  bool idle() const {
    std::lock_guard lock(mu_);
    return jobs_.empty() && !running_;
  }
  // Blocks until idle.
  void wait_idle() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return jobs_.empty() && !running_; });
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      running_ = true;
      lock.unlock();
      job();  // jobs catch their own exceptions
      lock.lock();
      running_ = false;
      cv_.notify_all();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool running_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the fields it uses
};

}  // namespace duet::dialog
