// The echo test: Duet's own synthesized speech comes back into the microphone 40-120 ms late,
// attenuated and smeared by a short room response, mixed with a person (pocketsphinx-testdata
// recordings) with stretches where only the echo plays. After the echo canceller, the WebRTC
// and energy detectors stay quiet on the echo-only stretches and fire on the person; without
// the canceller the same detectors do fire on the echo (so the test means something). The
// Piper voice (skipped when not pulled) and espeak-ng (always there) each play the far end.
// Also: a person barging in over Duet's voice is still heard, gain control lifts quiet speech,
// a silent far end leaves speech alone, reset() starts afresh, frame sizes and rates are checked.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "audio/echo_canceller.hpp"
#include "core/error.hpp"
#include "frontend_audio.hpp"
#include "speech/endpointer.hpp"
#include "speech/vad_energy.hpp"
#include "speech/vad_webrtc.hpp"

namespace {

using duet::audio::EchoCanceller;
using duet::audio::EchoCancellerConfig;
using duet::speech::EndpointEvent;
using duet::speech::Endpointer;
using duet::speech::EnergyVad;
using duet::speech::WebrtcVad;
using namespace duet::test;

constexpr int kRate = 16000;
// The canceller starts knowing nothing about the room: it may let the first moments of Duet's
// very first line through (measured: up to ~160 ms of echo, one WebRTC VAD start). From one
// second into that line on, echo must never pass for speech.
constexpr double kConvergenceSeconds = 1.0;

struct Span {
  size_t begin, end;
};

// A conversation's microphone and loudspeaker signals: Duet talks (echo only), the person
// answers (Duet silent), Duet talks again, the person again.
struct Scene {
  std::vector<float> far;   // what the loudspeaker played
  std::vector<float> near;  // what the microphone heard
  std::vector<Span> echo_only;
  std::vector<Span> person;
};

// The acoustic path: the direct sound `delay_ms` late at `gain`, plus two weaker reflections.
void add_echo(std::vector<float>& near, const std::vector<float>& far, int delay_ms, float gain) {
  const size_t d = samples_for(delay_ms / 1000.0);
  for (const auto& [extra_ms, g] : {std::pair{0, 1.0f}, {3, 0.35f}, {11, 0.15f}}) {
    const size_t shift = d + samples_for(extra_ms / 1000.0);
    for (size_t i = 0; i + shift < near.size() && i < far.size(); ++i) {
      near[i + shift] += gain * g * far[i];
    }
  }
}

Scene make_scene(const std::vector<std::vector<float>>& duet_lines,
                 const std::vector<std::vector<float>>& person_lines, int delay_ms,
                 float echo_gain) {
  Scene s;
  size_t at = samples_for(0.5);
  for (size_t turn = 0; turn < duet_lines.size(); ++turn) {
    const auto& line = duet_lines[turn];
    mix_into(s.far, line, at);
    // The echo keeps sounding for the delay and the room's tail after the line ends.
    const size_t judged_from = at + (turn == 0 ? samples_for(kConvergenceSeconds) : 0);
    s.echo_only.push_back({judged_from, at + line.size() + samples_for((delay_ms + 30) / 1000.0)});
    at += line.size() + samples_for(0.8);
    const auto& answer = person_lines[turn];
    s.person.push_back({at, at + answer.size()});
    mix_into(s.near, answer, at);
    at += answer.size() + samples_for(0.8);
  }
  s.far.resize(at, 0.0f);
  s.near.resize(at, 0.0f);
  add_echo(s.near, s.far, delay_ms, echo_gain);
  const auto noise = room_noise(at, 0.0005f);
  for (size_t i = 0; i < at; ++i) s.near[i] += noise[i];
  return s;
}

std::vector<float> cancel_echo(const Scene& s, int delay_hint_ms = 0) {
  EchoCancellerConfig config;
  config.delay_hint_ms = delay_hint_ms;
  EchoCanceller aec(config);
  const auto n = static_cast<size_t>(aec.frame_samples());
  std::vector<float> out(s.near.size(), 0.0f);
  for (size_t i = 0; i + n <= s.near.size(); i += n) {
    aec.process(std::span(s.near).subspan(i, n), std::span(s.far).subspan(i, n),
                std::span(out).subspan(i, n));
  }
  return out;
}

struct Verdict {
  std::vector<double> echo_active;    // per echo-only stretch, fraction of active VAD frames
  std::vector<double> person_active;  // per person stretch
  int starts_in_echo = 0;             // endpointer starts inside echo-only stretches
  std::vector<int> starts_in_person;  // per person stretch
};

template <typename Vad>
Verdict judge(const Scene& s, const std::vector<float>& mic, std::unique_ptr<Vad> vad) {
  Verdict v;
  const int n = vad->frame_samples();
  const auto probs = run_vad(*vad, mic);
  for (const auto& e : s.echo_only) {
    v.echo_active.push_back(active_fraction(probs, n, e.begin, e.end));
  }
  for (const auto& p : s.person) {
    v.person_active.push_back(active_fraction(probs, n, p.begin, p.end));
  }
  vad->reset();
  Endpointer ep(std::move(vad));
  v.starts_in_person.assign(s.person.size(), 0);
  for (const auto& e : ep.push(mic)) {
    if (e.kind != EndpointEvent::Kind::SpeechStarted) continue;
    const auto at = static_cast<size_t>(e.sample);
    for (const auto& span : s.echo_only) v.starts_in_echo += at >= span.begin && at < span.end;
    for (size_t i = 0; i < s.person.size(); ++i) {
      v.starts_in_person[i] += at >= s.person[i].begin && at < s.person[i].end;
    }
  }
  return v;
}

std::string describe(const Verdict& v) {
  return fmt::format("echo-only active: {:.3f}; person active: {:.3f}; starts in echo: {}",
                     fmt::join(v.echo_active, " "), fmt::join(v.person_active, " "),
                     v.starts_in_echo);
}

void expect_echo_ignored_and_person_heard(const Verdict& v, const std::string& what) {
  SCOPED_TRACE(fmt::format("{}: {}", what, describe(v)));
  fmt::print("  {}: {}\n", what, describe(v));  // the figures, for the record
  for (const double f : v.echo_active) EXPECT_LT(f, 0.1);
  for (const double f : v.person_active) EXPECT_GT(f, 0.5);
  EXPECT_EQ(v.starts_in_echo, 0);
  for (const int starts : v.starts_in_person) EXPECT_GE(starts, 1);
}

std::vector<std::vector<float>> people_or_skip() {
  std::vector<std::vector<float>> people;
  for (const char* file : {"librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
                           "librivox/sense_and_sensibility_01_austen_64kb-0930.wav"}) {
    auto speech = pocketsphinx_speech(file);
    if (!speech) return {};
    people.push_back(normalized(*speech, 0.5f));
  }
  return people;
}

void run_echo_scenes(const std::vector<std::vector<float>>& duet_lines, const std::string& voice) {
  const auto people = people_or_skip();
  if (people.empty()) GTEST_SKIP() << "pocketsphinx-testdata is not installed";
  for (const int delay_ms : {40, 80, 120}) {
    const Scene s = make_scene(duet_lines, people, delay_ms, 0.5f);
    const std::string what = fmt::format("{} echo {} ms", voice, delay_ms);
    // Without cancellation the echo alone is loud enough to pass for speech.
    const auto raw = judge(s, s.near, std::make_unique<WebrtcVad>(kRate, 2));
    fmt::print("  {} without the canceller: {}\n", what, describe(raw));
    EXPECT_GT(raw.echo_active[1], 0.4) << what << " (raw): " << describe(raw);
    EXPECT_GE(raw.starts_in_echo, 1) << what << " (raw)";
    const auto clean = cancel_echo(s);
    expect_echo_ignored_and_person_heard(judge(s, clean, std::make_unique<WebrtcVad>(kRate, 2)),
                                         fmt::format("{}, webrtc VAD", what));
    expect_echo_ignored_and_person_heard(judge(s, clean, std::make_unique<EnergyVad>(kRate)),
                                         fmt::format("{}, energy VAD", what));
  }
}

// Barge-in: after a first line (the canceller's warm-up), the person starts talking one second
// into Duet's second line and talks over it. Returns the fraction of active detector frames
// while both talk, and where the first start event after the person began lies (-1: none).
struct BargeIn {
  double overlap_active = 0.0;
  double start_delay_s = -1.0;
};

BargeIn barge_in(const std::vector<std::vector<float>>& duet_lines,
                 const std::vector<float>& person, int delay_ms) {
  std::vector<float> far, near;
  const size_t first = samples_for(0.5);
  mix_into(far, duet_lines[0], first);
  const size_t second = first + duet_lines[0].size() + samples_for(0.8);
  mix_into(far, duet_lines[1], second);
  const size_t person_at = second + samples_for(1.0);
  mix_into(near, person, person_at);
  const size_t total = std::max(far.size(), near.size()) + samples_for(1.0);
  far.resize(total, 0.0f);
  near.resize(total, 0.0f);
  add_echo(near, far, delay_ms, 0.5f);
  Scene s{far, near, {}, {}};
  const auto clean = cancel_echo(s);
  WebrtcVad vad(kRate, 2);
  const auto probs = run_vad(vad, clean);
  const size_t overlap_end = std::min(second + duet_lines[1].size(), person_at + person.size());
  BargeIn b;
  b.overlap_active = active_fraction(probs, vad.frame_samples(), person_at, overlap_end);
  Endpointer ep(std::make_unique<WebrtcVad>(kRate, 2));
  for (const auto& e : ep.push(clean)) {
    const auto person_start = static_cast<int64_t>(person_at);
    const auto slack = static_cast<int64_t>(samples_for(0.1));
    if (e.kind == EndpointEvent::Kind::SpeechStarted && e.sample + slack >= person_start) {
      b.start_delay_s = static_cast<double>(e.sample - person_start) / kRate;
      break;
    }
  }
  return b;
}

}  // namespace

TEST(EchoCancellation, PiperEchoIsRemovedAndThePersonIsHeard) {
  auto* piper = piper_voice();
  if (piper == nullptr) GTEST_SKIP() << "the Piper voice is not in the model store";
  const std::vector<std::vector<float>> lines = {
      normalized(speak(*piper, "Hello! I am Duet. How can I help you today?"), 0.6f),
      normalized(speak(*piper, "Sure. The weather tomorrow looks sunny, with a light breeze."),
                 0.6f)};
  run_echo_scenes(lines, "piper");
}

TEST(EchoCancellation, EspeakEchoIsRemovedAndThePersonIsHeard) {
  const std::vector<std::vector<float>> lines = {
      normalized(espeak_speech("Hello! I am Duet. How can I help you today?"), 0.6f),
      normalized(espeak_speech("Sure. The weather tomorrow looks sunny, with a light breeze."),
                 0.6f)};
  run_echo_scenes(lines, "espeak");
}

TEST(EchoCancellation, SilentFarEndLeavesSpeechAlone) {
  const auto people = people_or_skip();
  if (people.empty()) GTEST_SKIP() << "pocketsphinx-testdata is not installed";
  EchoCanceller aec;
  std::vector<float> mic(samples_for(0.5), 0.0f);
  mic.insert(mic.end(), people[0].begin(), people[0].end());
  mic.resize(mic.size() / 160 * 160);
  const std::vector<float> silence(160, 0.0f);
  std::vector<float> out(mic.size());
  for (size_t i = 0; i < mic.size(); i += 160) {
    aec.process(std::span(mic).subspan(i, 160), silence, std::span(out).subspan(i, 160));
  }
  // Level within 3 dB of the input over the speech (noise suppression only trims the floor).
  const double in_rms = rms(std::span(mic).subspan(samples_for(0.5)));
  const double out_rms = rms(std::span(out).subspan(samples_for(0.5)));
  EXPECT_GT(out_rms, in_rms * 0.7);
  EXPECT_LT(out_rms, in_rms * 1.4);
}

TEST(EchoCancellation, ChecksFrameSizesAndRates) {
  EchoCanceller aec;
  EXPECT_EQ(aec.frame_samples(), 160);
  std::vector<float> ok(160, 0.0f), bad(161, 0.0f), out(160, 0.0f);
  EXPECT_THROW(aec.process(bad, ok, out), duet::Error);
  EXPECT_THROW(aec.process(ok, bad, out), duet::Error);
  EXPECT_NO_THROW(aec.process(ok, ok, out));
  EXPECT_THROW(EchoCanceller({.sample_rate = 44100}), duet::Error);
  EXPECT_EQ(EchoCanceller({.sample_rate = 48000}).frame_samples(), 480);
  EXPECT_EQ(EchoCanceller({.sample_rate = 8000}).frame_samples(), 80);
}

TEST(EchoCancellation, BargeInIsHeardOverDuetsOwnVoice) {
  const auto people = people_or_skip();
  if (people.empty()) GTEST_SKIP() << "pocketsphinx-testdata is not installed";
  const std::vector<std::vector<float>> lines = {
      normalized(espeak_speech("Hello! I am Duet. How can I help you today?"), 0.6f),
      normalized(espeak_speech("Sure. The weather tomorrow looks sunny, with a light breeze, and "
                               "in the afternoon some clouds may come in from the west."), 0.6f)};
  for (const int delay_ms : {40, 80, 120}) {
    const auto b = barge_in(lines, people[0], delay_ms);
    fmt::print("  barge-in, echo {} ms: person active {:.3f} while both talk, "
               "start after {:.2f} s\n",
               delay_ms, b.overlap_active, b.start_delay_s);
    EXPECT_GT(b.overlap_active, 0.3) << delay_ms << " ms";
    EXPECT_GE(b.start_delay_s, -0.1) << delay_ms << " ms";
    EXPECT_LT(b.start_delay_s, 0.6) << delay_ms << " ms";
  }
}

TEST(EchoCancellation, GainControlLiftsQuietSpeech) {
  const auto people = people_or_skip();
  if (people.empty()) GTEST_SKIP() << "pocketsphinx-testdata is not installed";
  auto quiet = normalized(people[0], 0.03f);  // peaks at -30 dBFS
  quiet.resize(quiet.size() / 160 * 160);
  auto process = [&](bool agc) {
    EchoCanceller aec({.gain_control = agc});
    const std::vector<float> silence(160, 0.0f);
    std::vector<float> out(quiet.size());
    for (int pass = 0; pass < 2; ++pass) {  // the second pass is measured, once the gain settled
      for (size_t i = 0; i < quiet.size(); i += 160) {
        aec.process(std::span(quiet).subspan(i, 160), silence, std::span(out).subspan(i, 160));
      }
    }
    return rms(out);
  };
  const double plain = process(false);
  const double lifted = process(true);
  fmt::print("  gain control: rms {:.4f} -> {:.4f}\n", plain, lifted);
  EXPECT_GT(lifted, plain * 2.0);  // at least +6 dB
}

TEST(EchoCancellation, ResetStartsAfresh) {
  EchoCanceller aec;
  const auto tone = [](size_t i) { return 0.3f * static_cast<float>(std::sin(0.2 * i)); };
  std::vector<float> near(160), far(160), out(160), first, second;
  for (int round = 0; round < 2; ++round) {
    auto& record = round == 0 ? first : second;
    for (size_t f = 0; f < 100; ++f) {
      for (size_t i = 0; i < 160; ++i) {
        far[i] = tone(f * 160 + i);
        near[i] = f * 160 + i >= 800 ? 0.5f * tone(f * 160 + i - 800) : 0.0f;
      }
      aec.process(near, far, out);
      record.insert(record.end(), out.begin(), out.end());
    }
    aec.reset();
  }
  EXPECT_EQ(first, second);  // the same input after reset gives the same output
}
