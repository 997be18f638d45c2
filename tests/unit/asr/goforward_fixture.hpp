// Shared by the Whisper decoding tests: where the converted tiny.en GGUF and pocketsphinx-testdata's
// goforward.raw ("go forward ten meters", 16 kHz s16) live, and reading that raw recording. Must
// never fetch anything: a test skips when a file is missing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace duet::test {

inline const std::filesystem::path kWhisperModel =
    std::filesystem::path(DUET_SOURCE_DIR) / "models" / "whisper-tiny.en" / "whisper-tiny.en.gguf";
inline const std::filesystem::path kGoForward = "/usr/share/pocketsphinx/test/data/goforward.raw";

// Little-endian s16 samples as floats in [-1, 1).
inline std::vector<float> read_s16(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> x(b.size() / 2);
  for (size_t i = 0; i < x.size(); ++i) {
    const auto lo = static_cast<uint8_t>(b[2 * i]);
    const auto hi = static_cast<uint8_t>(b[2 * i + 1]);
    x[i] = static_cast<float>(static_cast<int16_t>(lo | (hi << 8))) / 32768.0f;
  }
  return x;
}

}  // namespace duet::test
