// SampleRing: capacity limits, wraparound, order under a real two-thread producer/consumer
// race; Framer: exact frame sizes for the supported rates, any chunking, zero-padded flush.
// Must never rely on sleeps for correctness (only for pacing).
#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "audio/frame_ring.hpp"
#include "core/error.hpp"

namespace duet {
namespace {

std::vector<float> counting(size_t count, float start = 0.0f) {
  std::vector<float> values(count);
  std::iota(values.begin(), values.end(), start);
  return values;
}

TEST(SampleRing, RejectsZeroCapacity) {
  EXPECT_THROW(SampleRing(0), Error);
}

TEST(SampleRing, FullAndEmpty) {
  SampleRing ring(10);
  EXPECT_EQ(ring.capacity(), 10u);
  EXPECT_EQ(ring.size_for_reading(), 0u);
  EXPECT_EQ(ring.size_for_writing(), 10u);
  std::vector<float> out(16);
  EXPECT_EQ(ring.pop(out), 0u);  // empty

  const std::vector<float> input = counting(15);
  EXPECT_EQ(ring.push(input), 10u);  // only the first 10 fit
  EXPECT_EQ(ring.size_for_writing(), 0u);
  EXPECT_EQ(ring.push(input), 0u);  // full
  EXPECT_EQ(ring.size_for_reading(), 10u);

  EXPECT_EQ(ring.pop(out), 10u);
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 10), counting(10));
  EXPECT_EQ(ring.size_for_reading(), 0u);
  EXPECT_EQ(ring.size_for_writing(), 10u);
}

TEST(SampleRing, WrapsAroundInOrder) {
  SampleRing ring(7);  // not a power of two: the storage is larger than the capacity
  float next_in = 0.0f;
  float next_out = 0.0f;
  std::vector<float> out(7);
  for (int round = 0; round < 100; ++round) {
    const size_t push_count = 1 + round % 7;
    const std::vector<float> chunk = counting(push_count, next_in);
    const size_t pushed = ring.push(chunk);
    next_in += static_cast<float>(pushed);
    const size_t popped = ring.pop(std::span<float>(out).first(1 + (round * 3) % 7));
    for (size_t i = 0; i < popped; ++i) ASSERT_EQ(out[i], next_out++);
  }
  while (const size_t popped = ring.pop(out)) {
    for (size_t i = 0; i < popped; ++i) ASSERT_EQ(out[i], next_out++);
  }
  EXPECT_EQ(next_in, next_out);
  EXPECT_GT(next_out, 200.0f);  // many trips around the ring
}

TEST(SampleRing, PopExactTakesAllOrNothing) {
  SampleRing ring(8);
  ring.push(counting(5));
  std::vector<float> frame(4);
  EXPECT_TRUE(ring.pop_exact(frame));
  EXPECT_EQ(frame, counting(4));
  EXPECT_FALSE(ring.pop_exact(frame));
  EXPECT_EQ(ring.size_for_reading(), 1u);
}

// One producer and one consumer hammer the ring with random chunk sizes; every sample must
// arrive exactly once and in order.
TEST(SampleRing, TwoThreadStressKeepsEverySampleInOrder) {
  constexpr size_t kTotal = 3'000'000;  // exactly representable as floats (< 2^24)
  SampleRing ring(1000);
  std::thread producer([&ring] {
    std::mt19937 rng(1);
    std::uniform_int_distribution<size_t> chunk(1, 257);
    std::vector<float> buffer(257);
    size_t next = 0;
    while (next < kTotal) {
      const size_t want = std::min(chunk(rng), kTotal - next);
      for (size_t i = 0; i < want; ++i) buffer[i] = static_cast<float>(next + i);
      size_t sent = 0;
      while (sent < want) {
        const size_t pushed = ring.push(std::span<const float>(buffer).subspan(sent, want - sent));
        if (pushed == 0) std::this_thread::yield();
        sent += pushed;
      }
      next += want;
    }
  });
  std::mt19937 rng(2);
  std::uniform_int_distribution<size_t> chunk(1, 300);
  std::vector<float> buffer(300);
  size_t expected = 0;
  size_t mismatches = 0;
  while (expected < kTotal) {
    const size_t popped = ring.pop(std::span<float>(buffer).first(chunk(rng)));
    if (popped == 0) std::this_thread::yield();
    for (size_t i = 0; i < popped; ++i) {
      if (buffer[i] != static_cast<float>(expected + i)) ++mismatches;
    }
    expected += popped;
  }
  producer.join();
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(expected, kTotal);
  EXPECT_EQ(ring.size_for_reading(), 0u);
}

TEST(Framer, FrameSizesForSupportedRates) {
  EXPECT_EQ(Framer(16000, FrameDuration::Ms10).frame_samples(), 160u);
  EXPECT_EQ(Framer(16000, FrameDuration::Ms20).frame_samples(), 320u);
  EXPECT_EQ(Framer(24000, FrameDuration::Ms10).frame_samples(), 240u);
  EXPECT_EQ(Framer(24000, FrameDuration::Ms20).frame_samples(), 480u);
  EXPECT_EQ(Framer(48000, FrameDuration::Ms20, 2).frame_samples(), 1920u);
  EXPECT_EQ(Framer(22050, FrameDuration::Ms20).frame_samples(), 441u);
  EXPECT_THROW(Framer(22050, FrameDuration::Ms10), Error);  // 220.5 samples
  EXPECT_THROW(Framer(0, FrameDuration::Ms10), Error);
  EXPECT_THROW(Framer(16000, FrameDuration::Ms10, 3), Error);
}

TEST(Framer, CutsAnyChunkingIntoOrderedFrames) {
  Framer framer(16000, FrameDuration::Ms10);
  const std::vector<float> input = counting(16000);
  std::mt19937 rng(3);
  std::uniform_int_distribution<size_t> chunk(0, 500);
  std::vector<float> joined;
  size_t frames = 0;
  auto on_frame = [&](std::span<const float> frame) {
    ASSERT_EQ(frame.size(), 160u);
    joined.insert(joined.end(), frame.begin(), frame.end());
    ++frames;
  };
  for (size_t offset = 0; offset < input.size();) {
    const size_t take = std::min(chunk(rng), input.size() - offset);
    framer.push(std::span<const float>(input).subspan(offset, take), on_frame);
    offset += take;
  }
  EXPECT_EQ(frames, 100u);
  EXPECT_EQ(joined, input);
  EXPECT_EQ(framer.pending_samples(), 0u);
  EXPECT_FALSE(framer.flush(on_frame));
}

TEST(Framer, FlushPadsThePartialFrameWithSilence) {
  Framer framer(24000, FrameDuration::Ms10);
  std::vector<std::vector<float>> frames;
  auto on_frame = [&](std::span<const float> frame) {
    frames.emplace_back(frame.begin(), frame.end());
  };
  framer.push(counting(250, 1.0f), on_frame);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(framer.pending_samples(), 10u);
  EXPECT_TRUE(framer.flush(on_frame));
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_EQ(frames[1].size(), 240u);
  EXPECT_EQ(frames[1][0], 241.0f);
  EXPECT_EQ(frames[1][9], 250.0f);
  EXPECT_EQ(frames[1][10], 0.0f);
  EXPECT_EQ(frames[1][239], 0.0f);
  framer.push(counting(5), on_frame);
  framer.reset();
  EXPECT_EQ(framer.pending_samples(), 0u);
}

}  // namespace
}  // namespace duet
