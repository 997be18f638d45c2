// ComputeArbiter: slots, a line of waiters ordered by (urgency, since, ticket), and leases whose
// tokens lend the slot at yield points. The fast path of a yield point is two relaxed atomic loads.
#include "core/compute_arbiter.hpp"

#include <algorithm>
#include <chrono>

namespace duet {

namespace {
constexpr auto kCancelPoll = std::chrono::milliseconds(4);
}

struct ComputeArbiter::Holder final : CancelToken::Yielder {
  Holder(ComputeArbiter& a, const Place& p, CancelToken c, std::optional<CancelToken> g)
      : arbiter(a), urgency(p.urgency), since(p.since), ticket(p.ticket), cancel(std::move(c)),
        give_up(std::move(g)) {}
  void yield() override { arbiter.yield(*this); }
  Place place() const { return {urgency.load(std::memory_order_relaxed), since, ticket}; }

  ComputeArbiter& arbiter;
  std::atomic<int> urgency;
  // Its place in line (with its current urgency) when it waits to get a lent slot back.
  const ComputeClaim::Clock::time_point since;
  const uint64_t ticket;
  const CancelToken cancel;  // the caller's token, polled while it waits to get the slot back
  const std::optional<CancelToken> give_up;
  std::atomic<bool> held{true};
};

ComputeArbiter::ComputeArbiter(int slots) : slots_(std::max(1, slots)), free_(slots_) {}

ComputeArbiter::Lease& ComputeArbiter::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    holder_ = std::move(other.holder_);
    token_ = std::move(other.token_);
  }
  return *this;
}

ComputeArbiter::Lease::~Lease() { release(); }

void ComputeArbiter::Lease::release() {
  if (holder_) holder_->arbiter.give_back(*holder_);
  holder_.reset();
}

void ComputeArbiter::Lease::set_urgency(Urgency u) {
  if (holder_) holder_->urgency.store(static_cast<int>(u), std::memory_order_relaxed);
}

bool ComputeArbiter::first_in_line(const Place& place) const {
  return std::none_of(waiting_.begin(), waiting_.end(),
                      [&](const Place& w) { return w.ticket != place.ticket && w.before(place); });
}

void ComputeArbiter::publish_most_urgent() {
  int most = kNobody;
  for (const Place& w : waiting_) most = std::min(most, w.urgency);
  most_urgent_waiting_.store(most, std::memory_order_relaxed);
}

void ComputeArbiter::wait_for_slot(std::unique_lock<std::mutex>& lock, const Place& place,
                                   const CancelToken& cancel, const CancelToken* give_up) {
  waiting_.push_back(place);
  publish_most_urgent();
  const auto leave_line = [&] {
    std::erase_if(waiting_, [&](const Place& w) { return w.ticket == place.ticket; });
    publish_most_urgent();
  };
  while (true) {
    if (free_ > 0 && first_in_line(place)) {
      leave_line();
      --free_;
      if (free_ > 0) cv_.notify_all();  // the next in line may take another slot
      return;
    }
    if (cancel.cancelled() || (give_up && give_up->cancelled())) {
      leave_line();
      cv_.notify_all();  // someone behind it may now be first
      throw Cancelled{};
    }
    cv_.wait_for(lock, kCancelPoll);
  }
}

ComputeArbiter::Lease ComputeArbiter::acquire(const ComputeClaim& claim, const CancelToken& cancel) {
  std::unique_lock lock(mu_);
  const Place place{static_cast<int>(claim.urgency), claim.since, next_ticket_++};
  wait_for_slot(lock, place, cancel, claim.give_up ? &*claim.give_up : nullptr);
  auto h = std::make_shared<Holder>(*this, place, cancel, claim.give_up);
  holding_.push_back(h.get());
  return Lease(h, cancel.yielding_to(h));
}

std::optional<ComputeArbiter::Lease> ComputeArbiter::try_acquire(Urgency urgency,
                                                                 const CancelToken& cancel) {
  std::lock_guard lock(mu_);
  if (free_ == 0 || !waiting_.empty()) return std::nullopt;
  --free_;
  const Place place{static_cast<int>(urgency), ComputeClaim::Clock::now(), next_ticket_++};
  auto h = std::make_shared<Holder>(*this, place, cancel, std::nullopt);
  holding_.push_back(h.get());
  return Lease(h, cancel.yielding_to(h));
}

bool ComputeArbiter::idle() const {
  std::lock_guard lock(mu_);
  return holding_.empty() && waiting_.empty();
}

bool ComputeArbiter::busy_with(Urgency u) const {
  const int most = static_cast<int>(u);
  std::lock_guard lock(mu_);
  return std::any_of(waiting_.begin(), waiting_.end(), [&](const Place& w) { return w.urgency <= most; }) ||
         std::any_of(holding_.begin(), holding_.end(),
                     [&](const Holder* h) { return h->urgency.load(std::memory_order_relaxed) <= most; });
}

size_t ComputeArbiter::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

void ComputeArbiter::yield(Holder& h) {
  // Fast path: a token that outlived its lease (checked first: it never touches the arbiter
  // then), or nobody waits who is more urgent than this holder.
  if (!h.held.load(std::memory_order_relaxed)) return;
  const int mine = h.urgency.load(std::memory_order_relaxed);
  if (most_urgent_waiting_.load(std::memory_order_relaxed) >= mine) return;
  std::unique_lock lock(mu_);
  const Place place = h.place();
  // A free slot is the waiter's to take; only a full machine is lent.
  if (!h.held.load(std::memory_order_relaxed) || free_ > 0 || first_in_line(place)) return;
  // Lend the slot, then wait for it in line at its own place.
  h.held.store(false, std::memory_order_relaxed);
  ++free_;
  std::erase(holding_, &h);
  cv_.notify_all();
  // Throws Cancelled: the slot stays lent.
  wait_for_slot(lock, place, h.cancel, h.give_up ? &*h.give_up : nullptr);
  h.held.store(true, std::memory_order_relaxed);
  holding_.push_back(&h);
}

void ComputeArbiter::give_back(Holder& h) {
  {
    std::lock_guard lock(mu_);
    if (!h.held.load(std::memory_order_relaxed)) return;
    h.held.store(false, std::memory_order_relaxed);
    ++free_;
    std::erase(holding_, &h);
  }
  cv_.notify_all();
}

}  // namespace duet
