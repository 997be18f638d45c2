// The one cancellation mechanism of Duet: a shared flag that a controller raises and every stage
// (runtime ops, model forward passes, TTS, streaming) polls between units of work. Raising is
// cheap and thread-safe. Must never block or allocate on the polling side.
#pragma once

#include <atomic>
#include <memory>

namespace duet {

class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() const { flag_->store(true, std::memory_order_release); }
  bool cancelled() const { return flag_->load(std::memory_order_acquire); }
  // A fresh token for the next unit of work; holders of the old one still see it cancelled.
  static CancelToken fresh() { return CancelToken(); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

// Thrown by long computations that noticed a raised CancelToken; the state each API leaves after
// it is documented at that API.
struct Cancelled {};

}  // namespace duet
