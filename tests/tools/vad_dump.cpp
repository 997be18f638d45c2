// Test driver for the Silero VAD peer check (tests/python/test_vad_vs_onnx.py): the per-frame
// speech probability of a mono 16 or 8 kHz WAV through Duet's Silero VAD, one value per line on
// stdout (whole frames only; a trailing partial frame is dropped), and with --repeat N the
// mean time per frame on stderr. Must never be used by the engine itself.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "audio/wav.hpp"
#include "core/error.hpp"
#include "speech/vad_silero.hpp"

namespace {

int usage() {
  std::cerr << "usage: vad_dump MODEL.gguf AUDIO.wav [--repeat N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc != 3 && argc != 5) return usage();
    int repeat = 0;
    if (argc == 5) {
      if (std::string(argv[3]) != "--repeat") return usage();
      repeat = std::atoi(argv[4]);
      if (repeat <= 0) return usage();
    }
    const auto model = duet::models::SileroModel::load(argv[1]);
    const duet::AudioBuffer audio = duet::read_wav(argv[2]);
    if (audio.channels != 1) duet::fail("{}: expected mono audio", argv[2]);
    duet::speech::SileroVad vad(model, audio.sample_rate);
    const size_t n = static_cast<size_t>(vad.frame_samples());
    const size_t frames = audio.samples.size() / n;
    const std::span<const float> all(audio.samples);
    for (size_t f = 0; f < frames; ++f) {
      std::printf("%.9g\n", static_cast<double>(vad.step(all.subspan(f * n, n))));
    }
    if (repeat > 0 && frames > 0) {
      float sink = 0.0f;
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < repeat; ++r) {
        vad.reset();
        for (size_t f = 0; f < frames; ++f) sink += vad.step(all.subspan(f * n, n));
      }
      const std::chrono::duration<double, std::micro> dt = std::chrono::steady_clock::now() - t0;
      std::fprintf(stderr, "us_per_frame %.2f (%zu frames x %d, checksum %.3f)\n",
                   dt.count() / (static_cast<double>(frames) * repeat), frames, repeat,
                   static_cast<double>(sink));
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vad_dump: error: %s\n", e.what());
    return 1;
  }
}
