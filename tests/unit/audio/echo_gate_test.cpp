// EchoGate: while the canceller is still learning, Duet's own voice leaking through is silenced
// and a louder person is not; nothing is gated when nothing played; once learned, frames pass.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "audio/echo_gate.hpp"
#include "core/error.hpp"

namespace duet::audio {
namespace {

constexpr size_t kFrame = 160;

std::vector<float> noise_frame(std::mt19937& rng, float amplitude) {
  std::uniform_real_distribution<float> u(-amplitude, amplitude);
  std::vector<float> f(kFrame);
  for (auto& v : f) v = u(rng);
  return f;
}

bool all_zero(const std::vector<float>& f) {
  for (float v : f) {
    if (v != 0.0f) return false;
  }
  return true;
}

TEST(EchoGate, NothingIsGatedWhenNothingPlayed) {
  EchoGate gate;
  std::mt19937 rng(1);
  const std::vector<float> silence(kFrame, 0.0f);
  for (int i = 0; i < 50; ++i) {
    auto near = noise_frame(rng, 0.01f);  // a quiet person, a silent speaker
    const auto before = near;
    EXPECT_FALSE(gate.process(silence, near));
    EXPECT_EQ(near, before);
  }
}

TEST(EchoGate, EchoIsSilencedWhileLearningButALouderPersonIsNot) {
  EchoGate gate;
  std::mt19937 rng(2);
  std::vector<std::vector<float>> far;
  for (int i = 0; i < 40; ++i) far.push_back(noise_frame(rng, 0.3f));
  int echo_gated = 0;
  for (size_t i = 0; i < far.size(); ++i) {
    // The echo: the far end 80 ms (8 frames) later, at half amplitude.
    std::vector<float> near(kFrame, 0.0f);
    if (i >= 8) {
      for (size_t k = 0; k < kFrame; ++k) near[k] = 0.5f * far[i - 8][k];
    }
    echo_gated += gate.process(far[i], near) ? 1 : 0;
    EXPECT_TRUE(all_zero(near)) << "frame " << i;
  }
  EXPECT_GE(echo_gated, 30);
  // The person, louder than the speaker, talks over the echo.
  auto person = noise_frame(rng, 0.6f);
  EXPECT_FALSE(gate.process(noise_frame(rng, 0.3f), person));
  EXPECT_FALSE(all_zero(person));
}

TEST(EchoGate, OnceLearnedFramesPassUntouched) {
  EchoGate gate(EchoGateConfig{.learning_ms = 200});
  std::mt19937 rng(3);
  for (int i = 0; i < 20; ++i) {  // 200 ms of far end
    auto near = noise_frame(rng, 0.05f);
    gate.process(noise_frame(rng, 0.3f), near);
  }
  EXPECT_TRUE(gate.learned());
  auto echo = noise_frame(rng, 0.05f);
  const auto before = echo;
  EXPECT_FALSE(gate.process(noise_frame(rng, 0.3f), echo));
  EXPECT_EQ(echo, before);
}

TEST(EchoGate, WrongFrameSizesAndConfigurationsAreClearErrors) {
  EchoGate gate;
  std::vector<float> far(kFrame), short_frame(kFrame - 1);
  EXPECT_THROW(gate.process(far, short_frame), Error);
  EXPECT_THROW(EchoGate(EchoGateConfig{.frame_samples = 0}), Error);
  EXPECT_THROW(EchoGate(EchoGateConfig{.energy_margin = -1.0f}), Error);
}

}  // namespace
}  // namespace duet::audio
