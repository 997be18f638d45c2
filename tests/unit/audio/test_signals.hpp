// Test helpers for audio: sine generation, RMS and zero-crossing frequency measurement, and a
// little-endian byte builder for hand-made (often deliberately broken) WAV files. Test-only;
// must never be linked into the product.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <string_view>
#include <vector>

#include "audio/audio_buffer.hpp"

namespace duet::test {

// One channel of `seconds` of a sine at `frequency` Hz, peak `amplitude`.
inline std::vector<float> sine(double frequency, int rate, double seconds, double amplitude) {
  const auto count = static_cast<size_t>(std::llround(seconds * rate));
  std::vector<float> samples(count);
  for (size_t i = 0; i < count; ++i) {
    samples[i] = static_cast<float>(amplitude *
                                    std::sin(2.0 * std::numbers::pi * frequency * i / rate));
  }
  return samples;
}

// Channel `channel` of an interleaved buffer.
inline std::vector<float> channel_of(const AudioBuffer& buffer, int channel) {
  std::vector<float> out(buffer.frames());
  for (size_t frame = 0; frame < out.size(); ++frame) {
    out[frame] = buffer.samples[frame * buffer.channels + channel];
  }
  return out;
}

inline double rms(std::span<const float> samples) {
  double sum = 0.0;
  for (const float s : samples) sum += static_cast<double>(s) * s;
  return samples.empty() ? 0.0 : std::sqrt(sum / samples.size());
}

// Frequency from the interpolated times of the first and last upward zero crossings.
inline double zero_crossing_frequency(std::span<const float> samples, int rate) {
  double first = -1.0;
  double last = -1.0;
  int crossings = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    if (samples[i - 1] < 0.0f && samples[i] >= 0.0f) {
      const double t = (i - 1) + samples[i - 1] / (samples[i - 1] - samples[i]);
      if (first < 0.0) first = t;
      last = t;
      ++crossings;
    }
  }
  if (crossings < 2) return 0.0;
  return (crossings - 1) / ((last - first) / rate);
}

class Bytes {
 public:
  Bytes& tag(std::string_view four) {
    for (const char c : four) bytes_.push_back(static_cast<uint8_t>(c));
    return *this;
  }
  Bytes& u16(uint16_t v) {
    bytes_.push_back(static_cast<uint8_t>(v));
    bytes_.push_back(static_cast<uint8_t>(v >> 8));
    return *this;
  }
  Bytes& u32(uint32_t v) {
    for (int shift = 0; shift < 32; shift += 8) bytes_.push_back(static_cast<uint8_t>(v >> shift));
    return *this;
  }
  Bytes& zeros(size_t count) {
    bytes_.insert(bytes_.end(), count, 0);
    return *this;
  }
  Bytes& raw(std::span<const uint8_t> more) {
    bytes_.insert(bytes_.end(), more.begin(), more.end());
    return *this;
  }
  // A 16-byte (or 18 with cbSize) fmt chunk.
  Bytes& fmt_chunk(uint16_t format_tag, uint16_t channels, uint32_t rate, uint16_t bits,
                   uint16_t block_align) {
    tag("fmt ").u32(16).u16(format_tag).u16(channels).u32(rate).u32(rate * block_align);
    return u16(block_align).u16(bits);
  }
  // A 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk whose subformat GUID carries `subformat`.
  Bytes& extensible_fmt_chunk(uint16_t subformat, uint16_t channels, uint32_t rate, uint16_t bits,
                              bool standard_guid = true) {
    const uint16_t align = static_cast<uint16_t>(channels * bits / 8);
    tag("fmt ").u32(40).u16(0xFFFE).u16(channels).u32(rate).u32(rate * align).u16(align).u16(bits);
    u16(22).u16(bits).u32(channels == 1 ? 0x4 : 0x3).u32(subformat);
    const uint8_t last = standard_guid ? 0x71 : 0x72;
    const uint8_t tail[12] = {0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
                              0x00, 0xAA, 0x00, 0x38, 0x9B, last};
    return raw(tail);
  }
  // Patches the RIFF size field (bytes 4..7) to the current length - 8.
  Bytes& fix_riff_size() {
    const auto size = static_cast<uint32_t>(bytes_.size() - 8);
    for (int i = 0; i < 4; ++i) bytes_[4 + i] = static_cast<uint8_t>(size >> (8 * i));
    return *this;
  }
  const std::vector<uint8_t>& get() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// "RIFF" + size placeholder + "WAVE".
inline Bytes riff_wave() {
  Bytes b;
  b.tag("RIFF").u32(0).tag("WAVE");
  return b;
}

}  // namespace duet::test
