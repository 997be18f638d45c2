// Real-time plumbing between an audio callback and the engine: a lock-free single-producer /
// single-consumer ring of float samples, and a Framer that cuts any stream into fixed 10 or 20 ms
// frames. Must never allocate, lock or block in push/pop (memory is reserved at construction).
//
// Threading contract:
//   SampleRing: exactly one producer thread calls push() and exactly one consumer thread calls
//     pop()/pop_exact(); these may run concurrently without locks. size_for_reading() is exact on
//     the consumer thread and size_for_writing() on the producer thread; from any other thread
//     they are only a snapshot. Construction and destruction must not race with anything.
//   Framer: not thread-safe; it belongs to a single thread (typically the ring's consumer).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <span>

namespace duet {

class SampleRing {
 public:
  // Room for exactly `capacity` samples (> 0). Throws duet::Error for 0.
  explicit SampleRing(size_t capacity);
  SampleRing(const SampleRing&) = delete;
  SampleRing& operator=(const SampleRing&) = delete;

  size_t capacity() const { return capacity_; }

  // Producer: copies as many samples as fit (a prefix of `samples`); returns how many.
  size_t push(std::span<const float> samples);
  // Producer: free room right now (never less than the true value on the producer thread).
  size_t size_for_writing() const;

  // Consumer: moves up to out.size() samples into `out`; returns how many.
  size_t pop(std::span<float> out);
  // Consumer: fills all of `out` and returns true, or takes nothing and returns false.
  bool pop_exact(std::span<float> out);
  // Consumer: samples waiting right now (never more than the true value on the consumer thread).
  size_t size_for_reading() const;

 private:
  static constexpr size_t kCacheLine = 64;

  std::unique_ptr<float[]> storage_;  // power-of-two length >= capacity_, indexed by mask
  size_t capacity_ = 0;
  size_t index_mask_ = 0;
  // Free-running counters (they wrap at 2^64, which the power-of-two mask tolerates).
  alignas(kCacheLine) std::atomic<size_t> written_{0};
  alignas(kCacheLine) std::atomic<size_t> read_{0};
};

enum class FrameDuration { Ms10 = 10, Ms20 = 20 };

// Collects samples and hands out fixed frames: at 16 kHz mono, 160 samples (10 ms) or 320
// (20 ms); at 24 kHz, 240 or 480. Interleaved multi-channel frames hold frames x channels samples.
class Framer {
 public:
  // Throws duet::Error when the rate is outside 1..768000 Hz, channels is not 1 or 2, or the
  // duration is not a whole number of samples at that rate (e.g. 10 ms at 22050 Hz).
  Framer(int sample_rate, FrameDuration duration, int channels = 1);

  size_t frame_samples() const { return frame_samples_; }
  size_t pending_samples() const { return filled_; }

  // Calls on_frame(std::span<const float>) once per completed frame, in order. The span is only
  // valid during the call. Does not allocate.
  template <typename OnFrame>
  void push(std::span<const float> samples, OnFrame&& on_frame) {
    while (!samples.empty()) {
      if (filled_ == 0 && samples.size() >= frame_samples_) {  // whole frame: no copy needed
        on_frame(samples.first(frame_samples_));
        samples = samples.subspan(frame_samples_);
        continue;
      }
      const size_t take = std::min(frame_samples_ - filled_, samples.size());
      std::copy_n(samples.begin(), take, pending_.get() + filled_);
      filled_ += take;
      samples = samples.subspan(take);
      if (filled_ == frame_samples_) {
        filled_ = 0;
        on_frame(std::span<const float>(pending_.get(), frame_samples_));
      }
    }
  }

  // Emits the partial frame, padded with silence; returns false when nothing was pending.
  template <typename OnFrame>
  bool flush(OnFrame&& on_frame) {
    if (filled_ == 0) return false;
    std::fill(pending_.get() + filled_, pending_.get() + frame_samples_, 0.0f);
    filled_ = 0;
    on_frame(std::span<const float>(pending_.get(), frame_samples_));
    return true;
  }

  // Drops the partial frame.
  void reset() { filled_ = 0; }

 private:
  size_t frame_samples_ = 0;
  size_t filled_ = 0;
  std::unique_ptr<float[]> pending_;
};

}  // namespace duet
