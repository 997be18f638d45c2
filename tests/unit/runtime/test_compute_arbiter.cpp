// Tests of ComputeArbiter, the one lender of the machine to every session's model work: a slot at
// a time, the most urgent waiter first (first come first served among equals), yield points that
// lend a held slot to more urgent work and take it back, try_acquire only on an idle machine,
// busy_with as a hint of urgent work held or in line, and waits that end when their token is
// raised.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/compute_arbiter.hpp"
#include "runtime/ops.hpp"

namespace duet {
namespace {

using namespace std::chrono_literals;

// Waits (up to 10 s, never a timing assertion) until `cond` holds.
template <typename Cond>
bool eventually(Cond cond) {
  for (int i = 0; i < 10000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return cond();
}

// The order in which things happened, across threads.
struct Log {
  std::mutex mu;
  std::vector<std::string> events;
  void add(std::string e) {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
  }
  std::vector<std::string> get() {
    std::lock_guard lock(mu);
    return events;
  }
};

// A model computation under `lease`: polls its token between units of work, as every model does,
// until a poll throws Cancelled; then sets `ended`.
void compute_until_cancelled(const ComputeArbiter::Lease& lease, std::atomic<bool>& ended) {
  try {
    while (true) {
      rt::check_cancel(lease.token());
      std::this_thread::sleep_for(1ms);
    }
  } catch (const Cancelled&) {
    ended = true;
  }
}

TEST(ComputeArbiter, ASecondComputationWaitsForTheSlot) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  auto first = std::make_optional(arbiter.acquire(Urgency::Now, none));
  std::atomic<bool> second_got{false};
  std::thread t([&] {
    auto lease = arbiter.acquire(Urgency::Now, none);
    second_got = true;
  });
  ASSERT_TRUE(eventually([&] { return arbiter.waiting() == 1; }));
  std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(second_got.load());
  first.reset();
  EXPECT_TRUE(eventually([&] { return second_got.load(); }));
  t.join();
  EXPECT_TRUE(arbiter.idle());
}

TEST(ComputeArbiter, TheMostUrgentWaiterGoesFirstAndEqualsInArrivalOrder) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  auto holder = std::make_optional(arbiter.acquire(Urgency::Now, none));
  Log log;
  std::vector<std::thread> threads;
  const auto wait_as = [&](Urgency u, std::string name) {
    const size_t before = arbiter.waiting();
    threads.emplace_back([&arbiter, &log, &none, u, name] {
      auto lease = arbiter.acquire(u, none);
      log.add(name);
    });
    ASSERT_TRUE(eventually([&] { return arbiter.waiting() == before + 1; }));  // in line
  };
  wait_as(Urgency::Idle, "idle");
  wait_as(Urgency::Soon, "soon-1");
  wait_as(Urgency::Now, "now");
  wait_as(Urgency::Soon, "soon-2");
  holder.reset();
  for (auto& t : threads) t.join();
  EXPECT_EQ(log.get(), (std::vector<std::string>{"now", "soon-1", "soon-2", "idle"}));
}

TEST(ComputeArbiter, AmongEquallyUrgentWorkThePersonWhoWaitedLongestGoesFirst) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  auto holder = std::make_optional(arbiter.acquire(Urgency::Now, none));
  Log log;
  const auto turn_end = ComputeClaim::Clock::now();
  // A look for a turn that ended just now arrives first; the reply to a turn that ended 300 ms
  // earlier arrives after it, and still goes first.
  std::thread look([&] {
    auto l = arbiter.acquire({.urgency = Urgency::Now, .since = turn_end}, none);
    log.add("look for the later turn");
  });
  ASSERT_TRUE(eventually([&] { return arbiter.waiting() == 1; }));
  std::thread reply([&] {
    auto l = arbiter.acquire({.urgency = Urgency::Now, .since = turn_end - 300ms}, none);
    log.add("reply to the earlier turn");
  });
  ASSERT_TRUE(eventually([&] { return arbiter.waiting() == 2; }));
  holder.reset();
  look.join();
  reply.join();
  EXPECT_EQ(log.get(), (std::vector<std::string>{"reply to the earlier turn", "look for the later turn"}));
}

TEST(ComputeArbiter, AYieldPointLendsTheSlotToMoreUrgentWorkAndTakesItBack) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  Log log;
  std::atomic<bool> holding{false}, urgent_done{false};
  std::thread background([&] {
    auto lease = arbiter.acquire(Urgency::Soon, none);
    holding = true;
    log.add("soon starts");
    // A computation polling its token between units of work, as every model does.
    while (!urgent_done.load()) {
      rt::check_cancel(lease.token());
      std::this_thread::sleep_for(1ms);
    }
    log.add("soon resumes");
  });
  ASSERT_TRUE(eventually([&] { return holding.load(); }));
  {
    auto lease = arbiter.acquire(Urgency::Now, none);  // granted at the holder's next yield point
    log.add("now runs");
  }
  urgent_done = true;
  background.join();
  EXPECT_EQ(log.get(), (std::vector<std::string>{"soon starts", "now runs", "soon resumes"}));
  EXPECT_TRUE(arbiter.idle());
}

TEST(ComputeArbiter, AHolderDoesNotYieldToEquallyOrLessUrgentWork) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  auto lease = arbiter.acquire(Urgency::Soon, none);
  std::atomic<int> granted{0};
  std::thread equal([&] { auto l = arbiter.acquire(Urgency::Soon, none); ++granted; });
  std::thread lower([&] { auto l = arbiter.acquire(Urgency::Idle, none); ++granted; });
  ASSERT_TRUE(eventually([&] { return arbiter.waiting() == 2; }));
  for (int i = 0; i < 20; ++i) rt::check_cancel(lease.token());  // yield points: nothing to lend
  EXPECT_EQ(granted.load(), 0);
  auto moved = std::move(lease);  // a moved lease still holds its slot
  std::this_thread::sleep_for(10ms);
  EXPECT_EQ(granted.load(), 0);
  { auto gone = std::move(moved); }
  equal.join();
  lower.join();
  EXPECT_EQ(granted.load(), 2);
}

TEST(ComputeArbiter, LoweringAHoldersUrgencyMakesItYield) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  auto lease = arbiter.acquire(Urgency::Now, none);
  std::atomic<bool> soon_got{false};
  std::thread soon([&] { auto l = arbiter.acquire(Urgency::Soon, none); soon_got = true; });
  ASSERT_TRUE(eventually([&] { return arbiter.waiting() == 1; }));
  rt::check_cancel(lease.token());
  EXPECT_FALSE(soon_got.load());  // a reply's first phrase keeps the machine...
  lease.set_urgency(Urgency::Idle);
  rt::check_cancel(lease.token());  // ...the rest of it lends it (and waits here until it is back)
  EXPECT_TRUE(soon_got.load());
  soon.join();
}

TEST(ComputeArbiter, TryAcquireOnlyOnAnIdleMachine) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  EXPECT_TRUE(arbiter.idle());
  {
    auto lease = arbiter.try_acquire(Urgency::Idle, none);
    ASSERT_TRUE(lease.has_value());
    EXPECT_FALSE(arbiter.idle());
    EXPECT_FALSE(arbiter.try_acquire(Urgency::Idle, none).has_value());
  }
  EXPECT_TRUE(arbiter.idle());
  ComputeArbiter two(2);
  auto a = two.try_acquire(Urgency::Idle, none);
  auto b = two.try_acquire(Urgency::Idle, none);
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(two.try_acquire(Urgency::Idle, none).has_value());
}

TEST(ComputeArbiter, ARaisedTokenEndsTheWaitAndTheNextInLineProceeds) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  auto holder = std::make_optional(arbiter.acquire(Urgency::Now, none));
  CancelToken barge_in, reply_started;
  std::atomic<int> cancelled{0};
  std::atomic<bool> last_got{false};
  std::thread a([&] {
    try {
      auto l = arbiter.acquire(Urgency::Now, barge_in);
    } catch (const Cancelled&) {
      ++cancelled;
    }
  });
  std::thread b([&] {
    try {
      auto l = arbiter.acquire({.urgency = Urgency::Soon, .give_up = reply_started}, none);  // a head start
    } catch (const Cancelled&) {
      ++cancelled;
    }
  });
  ASSERT_TRUE(eventually([&] { return arbiter.waiting() == 2; }));
  std::thread c([&] { auto l = arbiter.acquire(Urgency::Idle, none); last_got = true; });
  ASSERT_TRUE(eventually([&] { return arbiter.waiting() == 3; }));
  barge_in.cancel();
  reply_started.cancel();
  a.join();
  b.join();
  EXPECT_EQ(cancelled.load(), 2);
  EXPECT_FALSE(last_got.load());  // the slot is still held
  holder.reset();
  c.join();
  EXPECT_TRUE(last_got.load());
  EXPECT_TRUE(arbiter.idle());
}

TEST(ComputeArbiter, ACancelWhileLendingTheSlotEndsTheComputationWithoutGivingItBackTwice) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  CancelToken partial;
  std::atomic<bool> holding{false}, cancelled{false};
  std::optional<ComputeArbiter::Lease> urgent;
  std::thread background([&] {
    auto lease = arbiter.acquire(Urgency::Idle, partial);
    holding = true;
    compute_until_cancelled(lease, cancelled);
  });  // the lease ends here, having lent its slot
  ASSERT_TRUE(eventually([&] { return holding.load(); }));
  urgent.emplace(arbiter.acquire(Urgency::Now, none));
  partial.cancel();  // the session's own look abandons the partial while it waits
  background.join();
  EXPECT_TRUE(cancelled.load());
  EXPECT_FALSE(arbiter.try_acquire(Urgency::Idle, none).has_value());  // still the urgent one's
  urgent.reset();
  EXPECT_TRUE(arbiter.idle());
  auto again = arbiter.try_acquire(Urgency::Idle, none);
  EXPECT_TRUE(again.has_value());
  EXPECT_FALSE(arbiter.try_acquire(Urgency::Idle, none).has_value());  // one slot, not two
}

TEST(ComputeArbiter, AHeadStartThatLentTheMachineGivesUpWhenTheReplyStarts) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  CancelToken reply_started;
  std::atomic<bool> holding{false}, gave_up{false};
  std::thread head_start([&] {
    auto lease = arbiter.acquire({.urgency = Urgency::Soon, .give_up = reply_started}, none);
    holding = true;
    compute_until_cancelled(lease, gave_up);
  });
  ASSERT_TRUE(eventually([&] { return holding.load(); }));
  auto other_session = arbiter.acquire(Urgency::Now, none);  // the head start lends the machine
  reply_started.cancel();  // ...and, waiting to get it back, is told its reply began
  head_start.join();
  EXPECT_TRUE(gave_up.load());
}

TEST(ComputeArbiter, ATokenThatOutlivesItsLeaseYieldsNothing) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  CancelToken kept;
  { kept = arbiter.acquire(Urgency::Idle, none).token(); }
  auto now = arbiter.acquire(Urgency::Now, none);
  std::thread waiter([&] { auto l = arbiter.acquire(Urgency::Now, none); });
  ASSERT_TRUE(eventually([&] { return arbiter.waiting() == 1; }));
  rt::check_cancel(kept);  // returns at once: it holds nothing to lend
  { auto gone = std::move(now); }
  waiter.join();
}

TEST(ComputeArbiter, BusyWithSaysWhetherWorkThatUrgentHoldsOrWaits) {
  ComputeArbiter arbiter(1);
  const CancelToken none;
  EXPECT_FALSE(arbiter.busy_with(Urgency::Idle));
  {
    auto partial = arbiter.acquire(Urgency::Idle, none);
    EXPECT_TRUE(arbiter.busy_with(Urgency::Idle));
    EXPECT_FALSE(arbiter.busy_with(Urgency::Now));
    partial.set_urgency(Urgency::Now);  // a holder's urgency is read as it is now
    EXPECT_TRUE(arbiter.busy_with(Urgency::Now));
    partial.set_urgency(Urgency::Soon);
    EXPECT_FALSE(arbiter.busy_with(Urgency::Now));
    EXPECT_TRUE(arbiter.busy_with(Urgency::Soon));
    // A look waiting in line counts as much as one that runs; and once it runs in the lent slot,
    // the holder that lent it no longer counts.
    std::atomic<bool> done{false};
    std::thread look([&] {
      auto lease = arbiter.acquire(Urgency::Now, none);
      EXPECT_TRUE(arbiter.busy_with(Urgency::Now));
      done = true;
    });
    ASSERT_TRUE(eventually([&] { return arbiter.waiting() == 1; }));
    EXPECT_TRUE(arbiter.busy_with(Urgency::Now));
    std::atomic<bool> ended{false};
    std::thread yielder([&] {
      try {
        rt::check_cancel(partial.token());  // lends the slot to the look, then takes it back
      } catch (const Cancelled&) {
        ended = true;
      }
    });
    yielder.join();
    look.join();
    EXPECT_TRUE(done.load());
    EXPECT_FALSE(ended.load());
    EXPECT_FALSE(arbiter.busy_with(Urgency::Now));
    EXPECT_TRUE(arbiter.busy_with(Urgency::Soon));
  }
  EXPECT_FALSE(arbiter.busy_with(Urgency::Idle));
  EXPECT_TRUE(arbiter.idle());
}

}  // namespace
}  // namespace duet
