// Realtime audio formats: names, wire decoding/encoding and the streaming rate conversion, driven
// by one table of the formats. Must never read a sample beyond the payload.
#include "server/audio_format.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "server/g711.hpp"

namespace duet::server {

namespace {

// Everything that tells the formats apart, in one row each. The G.711 rows carry their companding
// pair; pcm16 (no codec) is 16-bit little-endian.
struct FormatSpec {
  AudioFormat format;
  std::string_view beta_name;  // session.input_audio_format (beta)
  std::string_view ga_type;    // session.audio.input.format.type (GA)
  int rate;
  int16_t (*expand)(uint8_t);   // G.711 code -> linear; null for pcm16
  uint8_t (*compress)(int16_t);  // linear -> G.711 code; null for pcm16
};

constexpr FormatSpec kFormats[] = {
    {AudioFormat::Pcm16, "pcm16", "audio/pcm", 24000, nullptr, nullptr},
    {AudioFormat::Ulaw, "g711_ulaw", "audio/pcmu", 8000, ulaw_to_linear, linear_to_ulaw},
    {AudioFormat::Alaw, "g711_alaw", "audio/pcma", 8000, alaw_to_linear, linear_to_alaw},
};

const FormatSpec& spec(AudioFormat format) {
  for (const FormatSpec& f : kFormats) {
    if (f.format == format) return f;
  }
  return kFormats[0];
}

template <typename Field>
std::optional<AudioFormat> find_format(Field field, std::string_view value) {
  for (const FormatSpec& f : kFormats) {
    if (f.*field == value) return f.format;
  }
  return std::nullopt;
}

int16_t to_int16(float x) {
  if (!std::isfinite(x)) return 0;
  const float c = std::clamp(x, -1.0f, 1.0f) * 32767.0f;
  return static_cast<int16_t>(std::lrint(c));
}

}  // namespace

int format_rate(AudioFormat format) { return spec(format).rate; }

std::optional<AudioFormat> parse_beta_format(std::string_view name) {
  return find_format(&FormatSpec::beta_name, name);
}

std::optional<AudioFormat> parse_ga_format(std::string_view type) {
  return find_format(&FormatSpec::ga_type, type);
}

std::string beta_format_name(AudioFormat format) { return std::string(spec(format).beta_name); }

std::string ga_format_type(AudioFormat format) { return std::string(spec(format).ga_type); }

std::vector<float> decode_wire_audio(AudioFormat format, std::span<const uint8_t> bytes) {
  const FormatSpec& f = spec(format);
  std::vector<float> out;
  if (f.expand) {
    out.resize(bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
      out[i] = static_cast<float>(f.expand(bytes[i])) / 32768.0f;
    }
    return out;
  }
  if (bytes.size() % 2 != 0) {
    fail("{} audio must hold whole 16-bit samples, got {} bytes", f.beta_name, bytes.size());
  }
  out.resize(bytes.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const auto v = static_cast<int16_t>(static_cast<uint16_t>(bytes[2 * i]) |
                                        (static_cast<uint16_t>(bytes[2 * i + 1]) << 8));
    out[i] = static_cast<float>(v) / 32768.0f;
  }
  return out;
}

std::vector<uint8_t> encode_wire_audio(AudioFormat format, std::span<const float> samples) {
  const FormatSpec& f = spec(format);
  std::vector<uint8_t> out;
  if (f.compress) {
    out.resize(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) out[i] = f.compress(to_int16(samples[i]));
    return out;
  }
  out.resize(samples.size() * 2);
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto v = static_cast<uint16_t>(to_int16(samples[i]));
    out[2 * i] = static_cast<uint8_t>(v & 0xFF);
    out[2 * i + 1] = static_cast<uint8_t>(v >> 8);
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
