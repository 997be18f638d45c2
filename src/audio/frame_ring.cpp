// SampleRing and Framer construction plus the ring's push/pop. Acquire/release pairs on the two
// counters publish the sample memory between the producer and the consumer. Must never allocate
// outside the constructors.
#include "audio/frame_ring.hpp"

#include <algorithm>
#include <bit>

#include "core/error.hpp"

namespace duet {

SampleRing::SampleRing(size_t capacity) : capacity_(capacity) {
  if (capacity == 0) fail("sample ring: capacity must be at least 1 sample");
  if (capacity > (size_t{1} << 40)) fail("sample ring: capacity {} samples is absurd", capacity);
  const size_t storage_size = std::bit_ceil(capacity);
  storage_ = std::make_unique<float[]>(storage_size);
  index_mask_ = storage_size - 1;
}

size_t SampleRing::size_for_writing() const {
  const size_t written = written_.load(std::memory_order_relaxed);
  const size_t read = read_.load(std::memory_order_acquire);
  return capacity_ - (written - read);
}

size_t SampleRing::size_for_reading() const {
  const size_t written = written_.load(std::memory_order_acquire);
  const size_t read = read_.load(std::memory_order_relaxed);
  return written - read;
}

size_t SampleRing::push(std::span<const float> samples) {
  const size_t written = written_.load(std::memory_order_relaxed);
  const size_t read = read_.load(std::memory_order_acquire);  // the consumer is done with these
  const size_t count = std::min(samples.size(), capacity_ - (written - read));
  const size_t storage_size = index_mask_ + 1;
  const size_t start = written & index_mask_;
  const size_t first_part = std::min(count, storage_size - start);
  std::copy_n(samples.data(), first_part, storage_.get() + start);
  std::copy_n(samples.data() + first_part, count - first_part, storage_.get());
  written_.store(written + count, std::memory_order_release);  // publish the samples
  return count;
}

size_t SampleRing::pop(std::span<float> out) {
  const size_t read = read_.load(std::memory_order_relaxed);
  const size_t written = written_.load(std::memory_order_acquire);  // see the producer's samples
  const size_t count = std::min(out.size(), written - read);
  const size_t storage_size = index_mask_ + 1;
  const size_t start = read & index_mask_;
  const size_t first_part = std::min(count, storage_size - start);
  std::copy_n(storage_.get() + start, first_part, out.data());
  std::copy_n(storage_.get(), count - first_part, out.data() + first_part);
  read_.store(read + count, std::memory_order_release);  // hand the room back
  return count;
}

bool SampleRing::pop_exact(std::span<float> out) {
  if (size_for_reading() < out.size()) return false;
  pop(out);
  return true;
}

Framer::Framer(int sample_rate, FrameDuration duration, int channels) {
  if (sample_rate < 1 || sample_rate > 768000) {
    fail("framer: sample rate {} Hz is outside 1..768000 Hz", sample_rate);
  }
  if (channels < 1 || channels > 2) fail("framer: {} channels; use mono or stereo", channels);
  const long long milliseconds = static_cast<long long>(duration);
  const long long scaled = static_cast<long long>(sample_rate) * milliseconds;
  if (scaled % 1000 != 0) {
    fail("framer: {} ms at {} Hz is {:.1f} samples, not a whole number; use a rate such as 16000, "
         "24000 or 48000 Hz",
         milliseconds, sample_rate, static_cast<double>(scaled) / 1000.0);
  }
  frame_samples_ = static_cast<size_t>(scaled / 1000) * static_cast<size_t>(channels);
  pending_ = std::make_unique<float[]>(frame_samples_);
}

}  // namespace duet
