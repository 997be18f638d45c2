// The machine's cores, lent to one heavy computation at a time, most urgent first, and among
// equally urgent work, the one whose person has waited longest (the earliest `since`). Every session
// of a process runs its model work (a look at the transcript, a reply, a partial transcript, a
// head start of the LLM) under a lease from the engine's one arbiter, so with eight conversations
// on two cores, the look that someone is waiting on runs before another's partial, instead of all
// of them slowing each other down. A holder lends its slot to more urgent work at its yield points
// (where its CancelToken is polled), and takes it back after.
// Must never hold its lock while a computation runs, never starve a waiter of equal urgency (first
// come, first served), and never wait on a raised CancelToken.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/cancel.hpp"

namespace duet {

// How soon a computation's result is needed.
enum class Urgency : int {
  Now = 0,   // someone is waiting on it: the look at a finished turn, a reply's first phrase
  Soon = 1,  // needed before long: the rest of a reply (ahead of its playout), a head start
  Idle = 2,  // worth doing only on an idle machine: partial transcripts
};

// What a computation asks for: how urgent it is, since when someone waits on it (the end of the
// turn it answers; by default, the moment it asks), and a token that makes the wait pointless.
struct ComputeClaim {
  using Clock = std::chrono::steady_clock;
  Urgency urgency = Urgency::Soon;
  Clock::time_point since = Clock::now();
  // Raised while this claim waits for the machine (for its first grant, or to get it back after
  // lending it), the wait ends with Cancelled: for work that is pointless once something else
  // started, e.g. a head start of a reply that began, which must not hold up the reply behind it.
  std::optional<CancelToken> give_up;
};

class ComputeArbiter {
  struct Holder;

 public:
  // `slots` computations may run at once (the cores over the threads each computation uses).
  explicit ComputeArbiter(int slots);
  ComputeArbiter(const ComputeArbiter&) = delete;
  ComputeArbiter& operator=(const ComputeArbiter&) = delete;

  // A slot while it lives. Its token() carries the caller's cancellation plus the yield points:
  // pass it to the computation. Movable; returns the slot when destroyed.
  class Lease {
   public:
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept;
    ~Lease();
    const CancelToken& token() const { return token_; }
    // From now on, yields to work more urgent than `u` (and waits as `u` when it yields).
    void set_urgency(Urgency u);

   private:
    friend class ComputeArbiter;
    Lease(std::shared_ptr<Holder> holder, CancelToken token)
        : holder_(std::move(holder)), token_(std::move(token)) {}
    void release();
    std::shared_ptr<Holder> holder_;
    CancelToken token_;
  };

  // Waits until a slot is free and nobody more urgent (or equally urgent and waiting since
  // earlier) waits. Throws Cancelled when `cancel` or the claim's give_up is raised while
  // waiting (they are polled every few ms).
  Lease acquire(const ComputeClaim& claim, const CancelToken& cancel);
  Lease acquire(Urgency urgency, const CancelToken& cancel) {
    return acquire(ComputeClaim{.urgency = urgency}, cancel);
  }
  // A slot only if one is free now and nobody waits for one; nullopt otherwise.
  std::optional<Lease> try_acquire(Urgency urgency, const CancelToken& cancel);
  // Nobody holds or waits for a slot (a hint: it may change at once).
  bool idle() const;
  // Work at urgency `u` or more urgent holds a slot or waits for one (a hint). A session asks
  // before speculating: with another person's look or first phrase in line, a look on a guess
  // would only stand in front of it.
  bool busy_with(Urgency u) const;
  // How many computations wait for a slot now (a hint, for diagnostics and tests).
  size_t waiting() const;
  int slots() const { return slots_; }

 private:
  // A place in line: urgency first, then since, then arrival.
  struct Place {
    int urgency;
    ComputeClaim::Clock::time_point since;
    uint64_t ticket;
    bool before(const Place& o) const {
      if (urgency != o.urgency) return urgency < o.urgency;
      if (since != o.since) return since < o.since;
      return ticket < o.ticket;
    }
  };
  // Waits for a slot at `place` (lock held); throws Cancelled.
  void wait_for_slot(std::unique_lock<std::mutex>& lock, const Place& place,
                     const CancelToken& cancel, const CancelToken* give_up);
  // At a yield point of `h`: lends its slot while more urgent work waits.
  void yield(Holder& h);
  void give_back(Holder& h);
  bool first_in_line(const Place& place) const;            // lock held
  void publish_most_urgent();                             // lock held

  const int slots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int free_ = 0;
  std::vector<const Holder*> holding_;  // the holders of slots now (not those that lent theirs)
  uint64_t next_ticket_ = 0;
  std::vector<Place> waiting_;
  // The most urgent waiter's urgency (kNobody when none): what a yield point compares to.
  static constexpr int kNobody = 1 << 20;
  std::atomic<int> most_urgent_waiting_{kNobody};
};

}  // namespace duet
