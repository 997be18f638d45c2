// Benchmark of the audio front end's CPU cost: thread CPU time per second of 16 kHz audio for
// the echo canceller (AEC + NS), each detector (WebRTC, energy, and Silero when built with it and
// its model is pulled), the endpointer over them, the whole chain, and the paralinguistic
// feature analyzer when it is built in (driven as a session drives it: at each look at an
// utterance the endpointer finds after echo cancellation, plus the background between). The audio is a
// conversation scene: a person's speech (pocketsphinx-testdata when installed, espeak-ng
// otherwise) with an espeak echo of Duet.
// Prints one line per stage and a JSON summary. Must never assert on timings.
//
//   bench_frontend [--seconds N] [--runs N]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "audio/echo_canceller.hpp"
#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "core/cancel.hpp"
#include "core/error.hpp"
#include "speech/endpointer.hpp"
#include "speech/espeak_voice.hpp"
#include "speech/vad_energy.hpp"
#include "speech/vad_webrtc.hpp"
#ifdef DUET_BENCH_SILERO
#include "speech/vad_silero.hpp"
#endif
#ifdef DUET_BENCH_VOICE_FEATURES
#include "audio/speech_offset.hpp"
#include "audio/voice_features.hpp"
#endif

namespace {

constexpr int kRate = 16000;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::vector<float> espeak(const std::string& text) {
  duet::EspeakVoice voice("espeak:en-us");
  const duet::CancelToken cancel;
  return duet::resample(voice.synthesize(text, {}, cancel).to_mono(), kRate).samples;
}

// The person's side: pocketsphinx's LibriVox recordings, or espeak when they are missing.
std::vector<float> person_speech() {
  const std::filesystem::path dir = "/usr/share/pocketsphinx/test/data/librivox";
  std::vector<float> out;
  if (std::filesystem::exists(dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".wav") continue;
      const auto clip = duet::resample(duet::read_wav(entry.path()).to_mono(), kRate).samples;
      out.insert(out.end(), clip.begin(), clip.end());
      out.resize(out.size() + kRate, 0.0f);  // a second of pause between clips
    }
  }
  if (out.empty()) out = espeak("I would like to know what the weather will be like tomorrow.");
  return out;
}

struct Scene {
  std::vector<float> near, far;
};

// `seconds` of audio: the person on the microphone, Duet's espeak voice on the loudspeaker,
// echoed 80 ms late at half level, in alternating turns.
Scene make_scene(double seconds) {
  const auto total = static_cast<size_t>(seconds * kRate);
  const auto person = person_speech();
  const auto duet_line = espeak("Sure, I can help with that. Let me check the forecast for you.");
  Scene s{std::vector<float>(total, 0.0f), std::vector<float>(total, 0.0f)};
  size_t at = 0, from_person = 0;
  bool duet_turn = true;
  while (at < total) {
    const size_t len = duet_turn ? duet_line.size() : std::min<size_t>(4 * kRate, person.size());
    for (size_t i = 0; i < len && at + i < total; ++i) {
      if (duet_turn) s.far[at + i] = 0.6f * duet_line[i];
      else s.near[at + i] = person[(from_person + i) % person.size()];
    }
    if (!duet_turn) from_person += len;
    at += len + kRate / 2;
    duet_turn = !duet_turn;
  }
  const size_t delay = kRate * 80 / 1000;
  for (size_t i = 0; i + delay < total; ++i) s.near[i + delay] += 0.5f * s.far[i];
  return s;
}

struct Stage {
  std::string name;
  std::function<void(const Scene&)> run;  // processes the whole scene once, from a fresh state
};

void run_detector(duet::speech::VoiceActivity& vad, const std::vector<float>& audio) {
  const auto n = static_cast<size_t>(vad.frame_samples());
  float sink = 0.0f;
  for (size_t i = 0; i + n <= audio.size(); i += n) {
    sink += vad.step(std::span(audio).subspan(i, n));
  }
  if (sink < -1.0f) std::puts("");  // keeps the loop from being optimized away
}

void run_canceller(const Scene& s, const std::function<void(std::span<const float>)>& next) {
  duet::audio::EchoCanceller aec;
  const auto n = static_cast<size_t>(aec.frame_samples());
  std::vector<float> out(n);
  for (size_t i = 0; i + n <= s.near.size(); i += n) {
    aec.process(std::span(s.near).subspan(i, n), std::span(s.far).subspan(i, n), out);
    next(out);
  }
}

void run_endpointer(std::unique_ptr<duet::speech::VoiceActivity> vad,
                    const std::vector<float>& audio) {
  duet::speech::Endpointer ep(std::move(vad));
  size_t events = 0;
  for (size_t i = 0; i + 160 <= audio.size(); i += 160) {
    events += ep.push(std::span(audio).subspan(i, 160)).size();
  }
  if (events == static_cast<size_t>(-1)) std::puts("");
}

#ifdef DUET_BENCH_VOICE_FEATURES
// The microphone after echo cancellation and the utterances the endpointer found in it, as
// [audio_start, heard_until): from the pre-roll to where the stop event came (after the hangover),
// which is the audio a session holds when it analyzes the turn.
struct HeardTurns {
  std::vector<float> audio;
  std::vector<std::pair<size_t, size_t>> turns;
  double speech_seconds() const {
    size_t n = 0;
    for (const auto& [from, to] : turns) n += to - from;
    return static_cast<double>(n) / kRate;
  }
};

HeardTurns hear_turns(const Scene& s) {
  HeardTurns h;
  run_canceller(s, [&](std::span<const float> f) {
    h.audio.insert(h.audio.end(), f.begin(), f.end());
  });
  duet::speech::Endpointer ep(std::make_unique<duet::speech::WebrtcVad>(kRate, 2));
  for (size_t i = 0; i + 320 <= h.audio.size(); i += 320) {
    for (const auto& ev : ep.push(std::span(h.audio).subspan(i, 320))) {
      if (ev.kind == duet::speech::EndpointEvent::Kind::SpeechStopped) {
        h.turns.emplace_back(static_cast<size_t>(ev.audio_start), i + 320);
      }
    }
  }
  return h;
}

// The analyzer as a session drives it (session_hearing.cpp): the whole utterance so far analyzed
// at each look, that is each time the voice's energy (SpeechOffset, fed every frame) has been
// quiet for 40 ms inside an utterance, and once more when the utterance ends; the audio outside
// utterances handed over as background once it has stayed outside speech for half a second, in
// the 20 ms chunks it arrives. A session looks at fewer pauses than this (a look also needs
// enough speech and a falling VAD), so this errs on the costly side.
// Returns how many looks (analyses of an utterance) it made.
size_t run_features(const HeardTurns& h) {
  duet::audio::VoiceFeatureAnalyzer analyzer(kRate);
  duet::audio::SpeechOffset offset;
  constexpr int kLookQuietMs = 40;
  const size_t chunk = 320, keep = kRate / 2;
  std::vector<float> pending;
  size_t next_turn = 0, annotated = 0, looks = 0;
  bool looked_at_this_pause = false, turn_begun = false;
  for (size_t i = 0; i + chunk <= h.audio.size(); i += chunk) {
    offset.push(std::span(h.audio).subspan(i, chunk));
    const bool in_turn = next_turn < h.turns.size() && i + chunk > h.turns[next_turn].first;
    if (in_turn) {
      pending.clear();
      const auto [from, to] = h.turns[next_turn];
      if (!turn_begun) {
        offset.begin_utterance();
        turn_begun = true;
        looked_at_this_pause = false;
      }
      const bool quiet = offset.quiet_ms() >= kLookQuietMs;
      const bool ends = i + chunk >= to;
      if ((quiet && !looked_at_this_pause) || ends) {
        annotated += duet::audio::annotation(
            analyzer.analyze(std::span(h.audio).subspan(from, i + chunk - from))).size();
        ++looks;
      }
      looked_at_this_pause = quiet;
      if (ends) {
        ++next_turn;
        turn_begun = false;
      }
      continue;
    }
    pending.insert(pending.end(), h.audio.begin() + static_cast<std::ptrdiff_t>(i),
                   h.audio.begin() + static_cast<std::ptrdiff_t>(i + chunk));
    if (pending.size() > 2 * keep) {
      const auto n_old = static_cast<std::ptrdiff_t>(pending.size() - keep);
      analyzer.observe_background(std::span(pending).first(static_cast<size_t>(n_old)));
      pending.erase(pending.begin(), pending.begin() + n_old);
    }
  }
  if (annotated == static_cast<size_t>(-1)) std::puts("");
  return looks;
}

#endif

}  // namespace

int main(int argc, char** argv) {
  double seconds = 60.0;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--seconds") seconds = std::stod(argv[i + 1]);
    else if (a == "--runs") runs = std::stoi(argv[i + 1]);
  }
  try {
    const Scene scene = make_scene(seconds);
    std::vector<Stage> stages = {
        {"echo_canceller", [](const Scene& s) { run_canceller(s, [](std::span<const float>) {}); }},
        {"vad_webrtc", [](const Scene& s) {
           duet::speech::WebrtcVad v(kRate, 2);
           run_detector(v, s.near);
         }},
        {"vad_energy", [](const Scene& s) {
           duet::speech::EnergyVad v(kRate);
           run_detector(v, s.near);
         }},
        {"endpointer_webrtc", [](const Scene& s) {
           run_endpointer(std::make_unique<duet::speech::WebrtcVad>(kRate, 2), s.near);
         }},
        {"endpointer_energy", [](const Scene& s) {
           run_endpointer(std::make_unique<duet::speech::EnergyVad>(kRate), s.near);
         }},
        {"chain_aec_webrtc_endpointer", [](const Scene& s) {
           duet::speech::Endpointer ep(std::make_unique<duet::speech::WebrtcVad>(kRate, 2));
           run_canceller(s, [&](std::span<const float> f) { ep.push(f); });
         }},
        {"chain_aec_energy_endpointer", [](const Scene& s) {
           duet::speech::Endpointer ep(std::make_unique<duet::speech::EnergyVad>(kRate));
           run_canceller(s, [&](std::span<const float> f) { ep.push(f); });
         }},
    };
#ifdef DUET_BENCH_SILERO
    if (duet::speech::SileroVad::default_model_path()) {
      stages.push_back({"vad_silero", [](const Scene& s) {
                          auto v = duet::speech::SileroVad::open_default(kRate);
                          run_detector(*v, s.near);
                        }});
      stages.push_back({"chain_aec_silero_endpointer", [](const Scene& s) {
                          duet::speech::Endpointer ep(duet::speech::SileroVad::open_default(kRate));
                          run_canceller(s, [&](std::span<const float> f) { ep.push(f); });
                        }});
    } else {
      std::printf("silero: model not pulled, skipped\n");
    }
#endif
#ifdef DUET_BENCH_VOICE_FEATURES
    const HeardTurns heard = hear_turns(scene);
    size_t looks = 0;
    stages.push_back({"voice_features", [&heard, &looks](const Scene&) { looks = run_features(heard); }});
#endif
    std::string json = fmt::format("{{\"audio_seconds\":{:.1f},\"cpu_ms_per_audio_s\":{{", seconds);
    double heaviest_chain = 0.0, features = 0.0;
    for (size_t k = 0; k < stages.size(); ++k) {
      double best = 1e30;
      for (int r = 0; r < runs; ++r) {
        const double t0 = thread_cpu_seconds();
        stages[k].run(scene);
        best = std::min(best, thread_cpu_seconds() - t0);
      }
      const double ms_per_s = best * 1000.0 / seconds;
      std::printf("%-30s %8.3f ms CPU per s of audio  (%.3f%% of one core)\n",
                  stages[k].name.c_str(), ms_per_s, ms_per_s / 10.0);
      json += fmt::format("{}\"{}\":{:.4f}", k ? "," : "", stages[k].name, ms_per_s);
      if (stages[k].name.starts_with("chain_")) heaviest_chain = std::max(heaviest_chain, ms_per_s);
      if (stages[k].name == "voice_features") features = ms_per_s;
    }
#ifdef DUET_BENCH_VOICE_FEATURES
    std::printf("voice_features: %zu utterances (%.1f s) found by AEC + WebRTC endpointer, "
                "analyzed at %zu looks\n", heard.turns.size(), heard.speech_seconds(), looks);
#endif
    // The whole front end as a session runs it: the costliest chain plus the feature analyzer.
    const double total = heaviest_chain + features;
    std::printf("front end total (heaviest chain + features): %.3f ms per s = %.3f%% of one core "
                "(goal < 2%%)\n", total, total / 10.0);
    json += fmt::format("}},\"front_end_total_ms_per_audio_s\":{:.4f}", total);
    std::printf("%s}\n", json.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_frontend: %s\n", e.what());
    return 1;
  }
  return 0;
}
