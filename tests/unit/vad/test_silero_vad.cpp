// Silero VAD on the runtime (speech/vad_silero, models/silero_vad, runtime/recurrent): frame-size
// errors, reset, non-finite input, silence, a real recording, shared models, no allocation per
// frame, and the missing-model message. Must never need network access; model-backed cases skip
// when the model store lacks the converted file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "alloc_counter.hpp"
#include "core/error.hpp"
#include "runtime/recurrent.hpp"
#include "speech/vad_silero.hpp"

namespace duet::speech {
namespace {

std::shared_ptr<const models::SileroModel> model_or_skip() {
  static const std::shared_ptr<const models::SileroModel> model = [] {
    const auto path = SileroVad::default_model_path();
    return path ? models::SileroModel::load(*path) : nullptr;
  }();
  return model;
}

#define REQUIRE_MODEL(var)                                                          \
  const auto var = model_or_skip();                                                 \
  if (!var) GTEST_SKIP() << "no silero_vad.gguf; run: build/duet models pull silero-vad"

std::vector<float> noise(size_t n, float amplitude, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, amplitude);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<float> run(SileroVad& vad, const std::vector<float>& audio) {
  const size_t n = static_cast<size_t>(vad.frame_samples());
  std::vector<float> out;
  for (size_t at = 0; at + n <= audio.size(); at += n) {
    out.push_back(vad.step(std::span<const float>(audio).subspan(at, n)));
  }
  return out;
}

TEST(SileroVad, ReportsItsShape) {
  REQUIRE_MODEL(model);
  SileroVad v16(model, 16000);
  EXPECT_EQ(v16.name(), "silero");
  EXPECT_EQ(v16.sample_rate(), 16000);
  EXPECT_EQ(v16.frame_samples(), 512);
  SileroVad v8(model, 8000);
  EXPECT_EQ(v8.sample_rate(), 8000);
  EXPECT_EQ(v8.frame_samples(), 256);
}

TEST(SileroVad, WrongFrameSizeThrowsNamingTheSize) {
  REQUIRE_MODEL(model);
  for (const int rate : {16000, 8000}) {
    SileroVad vad(model, rate);
    const std::vector<float> frame(static_cast<size_t>(vad.frame_samples()) + 1, 0.0f);
    try {
      vad.step(frame);
      FAIL() << "no error for a frame of " << frame.size();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(vad.frame_samples())), std::string::npos)
          << e.what();
    }
    EXPECT_THROW(vad.step(std::span<const float>()), Error);
  }
}

TEST(SileroVad, RejectsOtherRatesAndNullModels) {
  REQUIRE_MODEL(model);
  EXPECT_THROW(SileroVad(model, 44100), Error);
  EXPECT_THROW(SileroVad(nullptr, 16000), Error);
  EXPECT_THROW(SileroVad::open_default(22050), Error);
}

TEST(SileroVad, SilenceAndFaintNoiseAreNotSpeech) {
  REQUIRE_MODEL(model);
  for (const int rate : {16000, 8000}) {
    SileroVad vad(model, rate);
    for (const float p : run(vad, std::vector<float>(rate * 2, 0.0f))) EXPECT_LT(p, 0.1f);
    vad.reset();
    for (const float p : run(vad, noise(rate * 2, 1e-3f, 7))) EXPECT_LT(p, 0.2f);
  }
}

TEST(SileroVad, ARealRecordingIsSpeechSomewhere) {
  REQUIRE_MODEL(model);
  std::ifstream f("/usr/share/pocketsphinx/test/data/goforward.raw", std::ios::binary);
  if (!f) GTEST_SKIP() << "pocketsphinx-testdata is not installed";
  std::vector<float> audio;
  for (int16_t s; f.read(reinterpret_cast<char*>(&s), sizeof s);) audio.push_back(s / 32768.0f);
  SileroVad vad(model, 16000);
  const auto probs = run(vad, audio);
  ASSERT_FALSE(probs.empty());
  float best = 0.0f;
  for (const float p : probs) {
    EXPECT_GE(p, 0.0f);
    EXPECT_LE(p, 1.0f);
    best = std::max(best, p);
  }
  EXPECT_GT(best, 0.9f);
}

TEST(SileroVad, ResetGivesTheSameSequenceAsAFreshDetector) {
  REQUIRE_MODEL(model);
  const auto audio = noise(16000, 0.1f, 3);
  SileroVad a(model, 16000);
  const auto first = run(a, audio);
  a.reset();
  EXPECT_EQ(run(a, audio), first);
  SileroVad b(model, 16000);
  EXPECT_EQ(run(b, audio), first);
}

TEST(SileroVad, NonFiniteSamplesCountAsZero) {
  REQUIRE_MODEL(model);
  const auto audio = noise(512 * 6, 0.1f, 5);
  auto poisoned = audio;
  auto zeroed = audio;
  for (size_t i = 512; i < 1024; i += 3) {
    poisoned[i] = (i % 2) ? std::numeric_limits<float>::quiet_NaN()
                          : std::numeric_limits<float>::infinity();
    zeroed[i] = 0.0f;
  }
  SileroVad a(model, 16000);
  SileroVad b(model, 16000);
  const auto pa = run(a, poisoned);
  const auto pb = run(b, zeroed);
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(std::isfinite(pa[i]));
    EXPECT_EQ(pa[i], pb[i]) << "frame " << i;
  }
}

TEST(SileroVad, StreamsSharingAModelDoNotInterfere) {
  REQUIRE_MODEL(model);
  const auto x = noise(512 * 8, 0.2f, 11);
  const auto y = noise(512 * 8, 0.05f, 12);
  SileroVad alone_x(model, 16000);
  SileroVad alone_y(model, 16000);
  const auto rx = run(alone_x, x);
  const auto ry = run(alone_y, y);
  SileroVad sx(model, 16000);
  SileroVad sy(model, 16000);
  for (size_t f = 0; f < rx.size(); ++f) {
    EXPECT_EQ(sx.step(std::span<const float>(x).subspan(f * 512, 512)), rx[f]);
    EXPECT_EQ(sy.step(std::span<const float>(y).subspan(f * 512, 512)), ry[f]);
  }
}

TEST(SileroVad, StepDoesNotAllocate) {
  REQUIRE_MODEL(model);
  const auto audio = noise(512 * 10, 0.1f, 9);
  SileroVad vad(model, 16000);
  const auto span = std::span<const float>(audio);
  vad.step(span.first(512));  // warm-up
  const long before = test::allocation_count();
  float sum = 0.0f;
  for (size_t f = 1; f < 10; ++f) sum += vad.step(span.subspan(f * 512, 512));
  EXPECT_EQ(test::allocation_count(), before);
  EXPECT_TRUE(std::isfinite(sum));
}

TEST(SileroVad, MissingModelNamesThePullCommand) {
  const std::filesystem::path empty =
      std::filesystem::temp_directory_path() / ("duet-silero-empty-" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  const char* old = std::getenv("DUET_MODELS");
  const std::string saved = old ? old : "";
  ::setenv("DUET_MODELS", empty.c_str(), 1);
  EXPECT_FALSE(SileroVad::default_model_path().has_value());
  try {
    (void)SileroVad::open_default(16000);
    ADD_FAILURE() << "no error without the model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("build/duet models pull silero-vad"), std::string::npos)
        << e.what();
  }
  if (old) {
    ::setenv("DUET_MODELS", saved.c_str(), 1);
  } else {
    ::unsetenv("DUET_MODELS");
  }
  std::filesystem::remove_all(empty);
}

TEST(Recurrent, LstmCellMatchesTheFormulaOnATinyCell) {
  // hidden 1, input 1: gates = [i, f, g, o] = w_ih * x + w_hh * h + b.
  const float w_ih[4] = {0.5f, -0.25f, 1.0f, 0.75f};
  const float w_hh[4] = {0.1f, 0.2f, -0.3f, 0.4f};
  const float b_ih[4] = {0.0f, 1.0f, 0.0f, -0.5f};
  rt::LstmWeights w;
  w.w_ih = rt::WeightView::of(rt::DType::F32, 1, 4, w_ih);
  w.w_hh = rt::WeightView::of(rt::DType::F32, 1, 4, w_hh);
  w.b_ih = b_ih;
  float x = 0.8f, h = 0.3f, c = -0.2f;
  std::vector<float> scratch(rt::lstm_scratch_floats(w));
  std::vector<uint8_t> mm(rt::lstm_matmul_scratch_bytes(w));
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  const double gi = sig(0.5 * 0.8 + 0.1 * 0.3), gf = sig(-0.25 * 0.8 + 0.2 * 0.3 + 1.0);
  const double gg = std::tanh(1.0 * 0.8 - 0.3 * 0.3), go = sig(0.75 * 0.8 + 0.4 * 0.3 - 0.5);
  const double c_ref = gf * -0.2 + gi * gg;
  const double h_ref = go * std::tanh(c_ref);
  rt::lstm_cell(w, &x, &h, &c, scratch, mm, nullptr);
  EXPECT_NEAR(c, c_ref, 1e-6);
  EXPECT_NEAR(h, h_ref, 1e-6);
}

}  // namespace
}  // namespace duet::speech
