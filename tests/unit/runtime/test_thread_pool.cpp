// Tests of ThreadPool: every index covered exactly once, thread indices in range, many tiny jobs
// in a row (the decode pattern), sleeping workers waking up, exceptions and misuse reported.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::rt {
namespace {

TEST(ThreadPool, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 3, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> bad_thread{0};
      pool.parallel_for(n, [&](int64_t b, int64_t e, int t) {
        if (t < 0 || t >= threads || b >= e) bad_thread++;
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      EXPECT_EQ(bad_thread.load(), 0);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << n << " " << i;
    }
  }
}

TEST(ThreadPool, DefaultSizeIsTheMachine) {
  ThreadPool pool;
  EXPECT_EQ(pool.size(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(ThreadPool, ManyTinyJobsAndSleepingWorkers) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  for (int rep = 0; rep < 20000; ++rep) {
    pool.parallel_for(2, [&](int64_t b, int64_t e, int) { total += e - b; });
  }
  EXPECT_EQ(total.load(), 40000);
  // Let the worker fall asleep; then the calling thread holds its chunk until the worker has
  // woken up and run the other one (bounded, so a lost wake-up fails instead of hanging).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::atomic<int> ran_on_worker{0};
  pool.parallel_for(2, [&](int64_t, int64_t, int t) {
    if (t != 0) {
      ran_on_worker++;
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (ran_on_worker.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  });
  EXPECT_GE(ran_on_worker.load(), 1);
}

TEST(ThreadPool, RethrowsTheFirstExceptionAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(10, [](int64_t b, int64_t, int) {
                 if (b >= 5) throw std::runtime_error("worker failed");
               }),
               std::runtime_error);
  EXPECT_THROW(pool.parallel_for(1, [](int64_t, int64_t, int) { throw std::logic_error("inline"); }),
               std::logic_error);
  std::atomic<int> count{0};
  pool.parallel_for(4, [&](int64_t b, int64_t e, int) { count += static_cast<int>(e - b); });
  EXPECT_EQ(count.load(), 4);
}

TEST(ThreadPool, NestedCallIsAnError) {
  ThreadPool pool(2);
  std::atomic<int> errors{0};
  pool.parallel_for(2, [&](int64_t, int64_t, int) {
    try {
      pool.parallel_for(2, [](int64_t, int64_t, int) {});
    } catch (const Error&) {
      errors++;
    }
  });
  EXPECT_EQ(errors.load(), 2);
}

}  // namespace
}  // namespace duet::rt
