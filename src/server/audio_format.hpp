// The Realtime protocol's audio formats and their conversion to and from the float samples the
// session works with: pcm16 (audio/pcm, 16-bit little-endian mono at 24 kHz), g711_ulaw
// (audio/pcmu) and g711_alaw (audio/pcma), both 8 kHz. Each WebSocket connection owns one
// AudioInput and one AudioOutput (they hold resampler state).
// Must never accept a payload it cannot decode exactly (odd byte counts for pcm16 are errors).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audio/resampler.hpp"

namespace duet::server {

enum class AudioFormat { Pcm16, Ulaw, Alaw };

// The wire rate of a format: 24000 for pcm16, 8000 for G.711.
int format_rate(AudioFormat format);
// Beta names: "pcm16", "g711_ulaw", "g711_alaw". GA types: "audio/pcm", "audio/pcmu", "audio/pcma".
std::optional<AudioFormat> parse_beta_format(std::string_view name);
std::optional<AudioFormat> parse_ga_format(std::string_view type);
std::string beta_format_name(AudioFormat format);
std::string ga_format_type(AudioFormat format);

// Wire bytes -> float samples at the format's rate. Throws duet::Error for an odd pcm16 length.
std::vector<float> decode_wire_audio(AudioFormat format, std::span<const uint8_t> bytes);
// Float samples at the format's rate -> wire bytes (clamped to [-1, 1]).
std::vector<uint8_t> encode_wire_audio(AudioFormat format, std::span<const float> samples);

// Client audio -> the session's input rate, streaming.
class AudioInput {
 public:
  AudioInput(AudioFormat format, int session_rate);
  AudioFormat format() const { return format_; }
  // Decodes `bytes` and returns the samples at the session rate (may be empty).
  std::vector<float> convert(std::span<const uint8_t> bytes);
  void reset();

 private:
  AudioFormat format_;
  Resampler resampler_;
};

// Session output audio -> wire bytes, streaming.
class AudioOutput {
 public:
  AudioOutput(AudioFormat format, int session_rate);
  AudioFormat format() const { return format_; }
  std::vector<uint8_t> convert(std::span<const float> samples);
  void reset();

 private:
  AudioFormat format_;
  Resampler resampler_;
};

}  // namespace duet::server
