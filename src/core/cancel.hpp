// The one cancellation mechanism of Duet: a shared flag that a controller raises and every stage
// (runtime ops, model forward passes, TTS, streaming) polls between units of work. Raising is
// cheap and thread-safe. The same polls are a computation's yield points: a token may carry a
// Yielder (a ComputeArbiter lease), which there lends the machine to more urgent work and waits
// to get it back. Must never block or allocate when polled for cancellation (cancelled()).
#pragma once

#include <atomic>
#include <memory>

namespace duet {

class CancelToken {
 public:
  // What a computation lends its share of the machine to at its yield points.
  class Yielder {
   public:
    virtual ~Yielder() = default;
    // May wait while more urgent work runs; throws Cancelled if the wait was cancelled.
    virtual void yield() = 0;
  };

  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() const { flag_->store(true, std::memory_order_release); }
  bool cancelled() const { return flag_->load(std::memory_order_acquire); }
  // A fresh token for the next unit of work; holders of the old one still see it cancelled.
  static CancelToken fresh() { return CancelToken(); }
  // The same cancellation, whose yield points go to `yielder`.
  CancelToken yielding_to(std::shared_ptr<Yielder> yielder) const {
    CancelToken t = *this;
    t.yielder_ = std::move(yielder);
    return t;
  }
  // A yield point: a no-op unless the token carries a Yielder. Throws Cancelled (see Yielder).
  void yield() const {
    if (yielder_) yielder_->yield();
  }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
  std::shared_ptr<Yielder> yielder_;
};

// Thrown by long computations that noticed a raised CancelToken; the state each API leaves after
// it is documented at that API.
struct Cancelled {};

}  // namespace duet
