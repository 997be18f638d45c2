// Realtime audio formats: names, wire decoding/encoding and the streaming rate conversion.
// Must never read a sample beyond the payload.
#include "server/audio_format.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "server/g711.hpp"

namespace duet::server {

int format_rate(AudioFormat format) { return format == AudioFormat::Pcm16 ? 24000 : 8000; }

std::optional<AudioFormat> parse_beta_format(std::string_view name) {
  if (name == "pcm16") return AudioFormat::Pcm16;
  if (name == "g711_ulaw") return AudioFormat::Ulaw;
  if (name == "g711_alaw") return AudioFormat::Alaw;
  return std::nullopt;
}

std::optional<AudioFormat> parse_ga_format(std::string_view type) {
  if (type == "audio/pcm") return AudioFormat::Pcm16;
  if (type == "audio/pcmu") return AudioFormat::Ulaw;
  if (type == "audio/pcma") return AudioFormat::Alaw;
  return std::nullopt;
}

std::string beta_format_name(AudioFormat format) {
  switch (format) {
    case AudioFormat::Pcm16: return "pcm16";
    case AudioFormat::Ulaw: return "g711_ulaw";
    case AudioFormat::Alaw: return "g711_alaw";
  }
  return "pcm16";
}

std::string ga_format_type(AudioFormat format) {
  switch (format) {
    case AudioFormat::Pcm16: return "audio/pcm";
    case AudioFormat::Ulaw: return "audio/pcmu";
    case AudioFormat::Alaw: return "audio/pcma";
  }
  return "audio/pcm";
}

std::vector<float> decode_wire_audio(AudioFormat format, std::span<const uint8_t> bytes) {
  std::vector<float> out;
  if (format == AudioFormat::Pcm16) {
    if (bytes.size() % 2 != 0) {
      fail("pcm16 audio must hold whole 16-bit samples, got {} bytes", bytes.size());
    }
    out.resize(bytes.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      const auto v = static_cast<int16_t>(static_cast<uint16_t>(bytes[2 * i]) |
                                          (static_cast<uint16_t>(bytes[2 * i + 1]) << 8));
      out[i] = static_cast<float>(v) / 32768.0f;
    }
    return out;
  }
  out.resize(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    const int16_t v = format == AudioFormat::Ulaw ? ulaw_to_linear(bytes[i]) : alaw_to_linear(bytes[i]);
    out[i] = static_cast<float>(v) / 32768.0f;
  }
  return out;
}

namespace {
int16_t to_int16(float x) {
  if (!std::isfinite(x)) return 0;
  const float c = std::clamp(x, -1.0f, 1.0f) * 32767.0f;
  return static_cast<int16_t>(std::lrint(c));
}
}  // namespace

std::vector<uint8_t> encode_wire_audio(AudioFormat format, std::span<const float> samples) {
  std::vector<uint8_t> out;
  if (format == AudioFormat::Pcm16) {
    out.resize(samples.size() * 2);
    for (size_t i = 0; i < samples.size(); ++i) {
      const auto v = static_cast<uint16_t>(to_int16(samples[i]));
      out[2 * i] = static_cast<uint8_t>(v & 0xFF);
      out[2 * i + 1] = static_cast<uint8_t>(v >> 8);
    }
    return out;
  }
  out.resize(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const int16_t v = to_int16(samples[i]);
    out[i] = format == AudioFormat::Ulaw ? linear_to_ulaw(v) : linear_to_alaw(v);
  }
  return out;
}

AudioInput::AudioInput(AudioFormat format, int session_rate)
    : format_(format), resampler_(format_rate(format), session_rate, 1, ResampleQuality::Fast) {}

std::vector<float> AudioInput::convert(std::span<const uint8_t> bytes) {
  const std::vector<float> wire = decode_wire_audio(format_, bytes);
  std::vector<float> out;
  resampler_.push(wire, out);
  return out;
}

void AudioInput::reset() { resampler_.reset(); }

AudioOutput::AudioOutput(AudioFormat format, int session_rate)
    : format_(format), resampler_(session_rate, format_rate(format), 1, ResampleQuality::Fast) {}

std::vector<uint8_t> AudioOutput::convert(std::span<const float> samples) {
  std::vector<float> wire;
  resampler_.push(samples, wire);
  return encode_wire_audio(format_, wire);
}

void AudioOutput::reset() { resampler_.reset(); }

}  // namespace duet::server
