// WAV parsing and encoding. Every read goes through bounds-checked helpers over a span, and all
// size arithmetic is done in 64 bits, so no header value can make the parser read out of bounds.
// Must never trust a size field from the file without checking it against the bytes present.
#include "audio/wav.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/file_map.hpp"

namespace duet {
namespace {

constexpr uint16_t kFormatPcm = 0x0001;
constexpr uint16_t kFormatIeeeFloat = 0x0003;
constexpr uint16_t kFormatExtensible = 0xFFFE;
constexpr size_t kRiffHeaderBytes = 12;
constexpr size_t kChunkHeaderBytes = 8;
constexpr size_t kMinFmtBytes = 16;
constexpr size_t kExtensibleFmtBytes = 40;
constexpr uint32_t kStreamedDataSize = 0xFFFFFFFFu;
constexpr std::string_view kConvertHint =
    "convert it with: sox in.wav -e signed-integer -b 16 out.wav";

// Bytes 4..15 of every standard KSDATAFORMAT_SUBTYPE GUID (bytes 0..3 hold the format tag).
constexpr uint8_t kSubformatGuidTail[12] = {0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
                                            0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

[[noreturn]] void reject(std::string_view source, std::string_view problem) {
  fail("cannot read WAV {}: {}", source, problem);
}

// Little-endian loads; callers have already checked that offset + width <= bytes.size().
uint16_t load_u16(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>(bytes[offset] | (bytes[offset + 1] << 8));
}

uint32_t load_u32(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint32_t>(bytes[offset]) | (static_cast<uint32_t>(bytes[offset + 1]) << 8) |
         (static_cast<uint32_t>(bytes[offset + 2]) << 16) |
         (static_cast<uint32_t>(bytes[offset + 3]) << 24);
}

bool has_tag(std::span<const uint8_t> bytes, size_t offset, std::string_view tag) {
  if (offset + tag.size() > bytes.size()) return false;
  return std::memcmp(bytes.data() + offset, tag.data(), tag.size()) == 0;
}

// A four-character code made safe to print (non-printable bytes become '?').
std::string printable_fourcc(std::span<const uint8_t> bytes, size_t offset) {
  std::string code;
  for (size_t i = offset; i < offset + 4 && i < bytes.size(); ++i) {
    const uint8_t c = bytes[i];
    code.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  return code;
}

// Why a file that does not start with RIFF....WAVE is not a WAV, with a guess at what it is.
std::string describe_wrong_magic(std::span<const uint8_t> bytes) {
  if (has_tag(bytes, 0, "RIFX")) {
    return fmt::format("wrong magic: big-endian WAV (RIFX) is not supported; {}", kConvertHint);
  }
  if (has_tag(bytes, 0, "RF64") || has_tag(bytes, 0, "BW64")) {
    return fmt::format("wrong magic: 64-bit WAV ({}) is not supported; {}",
                       printable_fourcc(bytes, 0), kConvertHint);
  }
  if (has_tag(bytes, 0, "ID3") ||
      (bytes.size() >= 2 && bytes[0] == 0xFF && (bytes[1] & 0xE0) == 0xE0)) {
    return "wrong magic: this looks like an MP3 file, not a WAV; convert it with: "
           "ffmpeg -i in.mp3 -ac 1 -c:a pcm_s16le out.wav";
  }
  if (has_tag(bytes, 0, "OggS")) {
    return "wrong magic: this looks like an Ogg (Vorbis/Opus) file, not a WAV; convert it with: "
           "ffmpeg -i in.ogg -ac 1 -c:a pcm_s16le out.wav";
  }
  if (has_tag(bytes, 0, "fLaC")) {
    return "wrong magic: this looks like a FLAC file, not a WAV; convert it with: "
           "sox in.flac -b 16 out.wav";
  }
  if (has_tag(bytes, 0, "FORM")) {
    return "wrong magic: this looks like an AIFF file, not a WAV; convert it with: "
           "sox in.aiff -b 16 out.wav";
  }
  if (has_tag(bytes, 0, "RIFF")) {
    return fmt::format("wrong magic: RIFF file of type '{}', not WAVE",
                       printable_fourcc(bytes, 8));
  }
  return fmt::format("wrong magic: the file starts with '{}', not 'RIFF....WAVE' (not a WAV file)",
                     printable_fourcc(bytes, 0));
}

struct WavFormat {
  uint16_t codec = 0;  // format tag, or the subformat's tag for WAVE_FORMAT_EXTENSIBLE
  uint16_t channels = 0;
  uint32_t sample_rate = 0;
  uint16_t block_align = 0;
  uint16_t bits_per_sample = 0;
};

std::string describe_codec(uint16_t codec, uint16_t bits) {
  switch (codec) {
    case kFormatPcm:
      return bits == 32 ? "32-bit integer PCM" : fmt::format("{}-bit PCM", bits);
    case kFormatIeeeFloat: return fmt::format("{}-bit float", bits);
    case 0x0002: return "Microsoft ADPCM";
    case 0x0006: return "A-law";
    case 0x0007: return "mu-law";
    case 0x0011: return "IMA ADPCM";
    case 0x0031: return "GSM 6.10";
    case 0x0050: return "MPEG audio";
    case 0x0055: return "MP3";
    case 0xF1AC: return "FLAC";
    default: return fmt::format("codec with format tag 0x{:04X}", codec);
  }
}

WavFormat parse_fmt_chunk(std::span<const uint8_t> body, std::string_view source) {
  if (body.size() < kMinFmtBytes) {
    reject(source, fmt::format("corrupt header: fmt chunk is {} bytes, needs at least {}",
                               body.size(), kMinFmtBytes));
  }
  WavFormat format;
  const uint16_t tag = load_u16(body, 0);
  format.channels = load_u16(body, 2);
  format.sample_rate = load_u32(body, 4);
  format.block_align = load_u16(body, 12);
  format.bits_per_sample = load_u16(body, 14);
  format.codec = tag;
  if (tag == kFormatExtensible) {
    if (body.size() < kExtensibleFmtBytes) {
      reject(source, fmt::format("corrupt header: WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes, "
                                 "needs {}",
                                 body.size(), kExtensibleFmtBytes));
    }
    const uint32_t subformat = load_u32(body, 24);
    if (subformat > 0xFFFF || std::memcmp(body.data() + 28, kSubformatGuidTail, 12) != 0) {
      reject(source, fmt::format("unsupported codec: WAVE_FORMAT_EXTENSIBLE with a non-standard "
                                 "subformat GUID; {}",
                                 kConvertHint));
    }
    format.codec = static_cast<uint16_t>(subformat);
  }
  return format;
}

void validate_format(const WavFormat& format, std::string_view source) {
  if (format.channels == 0) reject(source, "corrupt header: zero channels");
  if (format.sample_rate == 0) reject(source, "corrupt header: sample rate is 0 Hz");
  if (format.sample_rate > static_cast<uint32_t>(kMaxWavSampleRate)) {
    reject(source, fmt::format("corrupt header: absurd sample rate {} Hz (Duet reads 1 to {} Hz)",
                               format.sample_rate, kMaxWavSampleRate));
  }
  const bool pcm16 = format.codec == kFormatPcm && format.bits_per_sample == 16;
  const bool float32 = format.codec == kFormatIeeeFloat && format.bits_per_sample == 32;
  if (!pcm16 && !float32) {
    reject(source, fmt::format("unsupported codec: {} (Duet reads 16-bit PCM and 32-bit float); {}",
                               describe_codec(format.codec, format.bits_per_sample),
                               kConvertHint));
  }
  if (format.channels > kMaxWavChannels) {
    reject(source, fmt::format("{} channels: Duet reads mono or stereo only; downmix with: "
                               "sox in.wav -c 1 out.wav",
                               format.channels));
  }
  const uint32_t expected_align = format.channels * (format.bits_per_sample / 8u);
  if (format.block_align != expected_align) {
    reject(source, fmt::format("corrupt header: block align mismatch ({} bytes per frame stated, "
                               "{} channels x {} bits need {})",
                               format.block_align, format.channels, format.bits_per_sample,
                               expected_align));
  }
}

struct DataChunk {
  std::span<const uint8_t> bytes;  // the audio bytes actually present
  uint32_t declared_size = 0;      // what the header promised
};

struct WavChunks {
  std::optional<WavFormat> format;
  std::optional<DataChunk> data;
};

// A writer that streamed the file (to a pipe) could not go back to fill in the sizes: it leaves
// the RIFF size as 0 or 0xFFFFFFFF, and the data size as 0 or 0xFFFFFFFF.
bool riff_size_left_unset(std::span<const uint8_t> bytes) {
  const uint32_t riff_size = load_u32(bytes, 4);
  return riff_size == 0 || riff_size == kStreamedDataSize;
}

// Walks the chunk list after the RIFF header, keeping the first fmt and data chunks.
WavChunks find_chunks(std::span<const uint8_t> bytes, std::string_view source) {
  const bool streamed_header = riff_size_left_unset(bytes);
  WavChunks chunks;
  size_t offset = kRiffHeaderBytes;
  while (offset < bytes.size()) {
    const size_t remaining = bytes.size() - offset;
    if (remaining < kChunkHeaderBytes) {
      if (chunks.data && chunks.format) break;  // a few stray trailing bytes after the audio
      reject(source, fmt::format("truncated header: {} byte(s) at offset {} where an 8-byte chunk "
                                 "header should be",
                                 remaining, offset));
    }
    const std::string id = printable_fourcc(bytes, offset);
    const uint32_t declared = load_u32(bytes, offset + 4);
    const size_t body = offset + kChunkHeaderBytes;
    const uint64_t available = bytes.size() - body;

    if (id == "data") {
      if (!chunks.data) {
        // Streamed (size unknown) or truncated: the audio runs to the end of the file.
        const bool cut_short = declared > available || (declared == 0 && streamed_header);
        const size_t present = cut_short ? static_cast<size_t>(available) : declared;
        chunks.data = DataChunk{bytes.subspan(body, present), declared};
        if (cut_short) break;
      }
    } else if (declared > available) {
      if (chunks.data && chunks.format) break;  // trailing metadata cut off; the audio is whole
      if (id == "fmt ") {
        reject(source, fmt::format("truncated header: fmt chunk needs {} bytes but only {} remain",
                                   declared, available));
      }
      reject(source, fmt::format("corrupt header: chunk '{}' at offset {} claims {} bytes but only "
                                 "{} remain in the file",
                                 id, offset, declared, available));
    } else if (id == "fmt " && !chunks.format) {
      chunks.format = parse_fmt_chunk(bytes.subspan(body, declared), source);
      validate_format(*chunks.format, source);
    }
    const uint64_t next = body + static_cast<uint64_t>(declared) + (declared & 1u);
    if (next >= bytes.size()) break;  // also covers a missing pad byte at the very end
    offset = static_cast<size_t>(next);
  }
  return chunks;
}

float decode_pcm16(const uint8_t* p) {
  const auto value = static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
  return static_cast<float>(value) / 32768.0f;
}

float decode_float32(const uint8_t* p) {
  const uint32_t bits = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                        (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
  const float value = std::bit_cast<float>(bits);
  return std::isfinite(value) ? value : 0.0f;
}

AudioBuffer decode_samples(const WavFormat& format, const DataChunk& data,
                           std::string_view source) {
  const size_t frame_bytes = format.block_align;
  const size_t frame_count = data.bytes.size() / frame_bytes;
  if (frame_count == 0 && data.declared_size > data.bytes.size() &&
      data.declared_size != kStreamedDataSize) {
    reject(source, fmt::format("truncated data: the data chunk promises {} bytes but the file "
                               "holds only {} (not one whole frame)",
                               data.declared_size, data.bytes.size()));
  }
  AudioBuffer buffer;
  buffer.sample_rate = static_cast<int>(format.sample_rate);
  buffer.channels = format.channels;
  const size_t sample_count = frame_count * format.channels;
  buffer.samples.resize(sample_count);
  const size_t sample_bytes = format.bits_per_sample / 8u;
  const uint8_t* in = data.bytes.data();
  const bool is_float = format.codec == kFormatIeeeFloat;
  for (size_t i = 0; i < sample_count; ++i, in += sample_bytes) {
    buffer.samples[i] = is_float ? decode_float32(in) : decode_pcm16(in);
  }
  return buffer;
}

void append_u16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value & 0xFF));
  out.push_back(static_cast<uint8_t>(value >> 8));
}

void append_u32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

void append_tag(std::vector<uint8_t>& out, std::string_view tag) {
  out.insert(out.end(), tag.begin(), tag.end());
}

int16_t to_pcm16(float sample) {
  if (!std::isfinite(sample)) return 0;
  const float scaled = std::nearbyint(std::clamp(sample, -1.0f, 1.0f) * 32768.0f);
  return static_cast<int16_t>(std::clamp(scaled, -32768.0f, 32767.0f));
}

void validate_for_writing(const AudioBuffer& buffer) {
  if (buffer.channels < 1 || buffer.channels > kMaxWavChannels) {
    fail("cannot write WAV: the buffer has {} channels; Duet writes mono or stereo",
         buffer.channels);
  }
  if (buffer.sample_rate < 1 || buffer.sample_rate > kMaxWavSampleRate) {
    fail("cannot write WAV: sample rate {} Hz is outside 1..{} Hz", buffer.sample_rate,
         kMaxWavSampleRate);
  }
  if (buffer.samples.size() % static_cast<size_t>(buffer.channels) != 0) {
    fail("cannot write WAV: {} samples do not split into whole {}-channel frames",
         buffer.samples.size(), buffer.channels);
  }
}

}  // namespace

AudioBuffer read_wav_bytes(std::span<const uint8_t> bytes, std::string_view source_name) {
  if (bytes.empty()) reject(source_name, "the file is empty (0 bytes)");
  if (bytes.size() >= 4 && !has_tag(bytes, 0, "RIFF")) {
    reject(source_name, describe_wrong_magic(bytes));
  }
  if (bytes.size() < kRiffHeaderBytes) {
    reject(source_name, fmt::format("file too short: {} bytes is a truncated header (a WAV needs "
                                    "at least 44)",
                                    bytes.size()));
  }
  if (!has_tag(bytes, 8, "WAVE")) reject(source_name, describe_wrong_magic(bytes));

  const WavChunks chunks = find_chunks(bytes, source_name);
  if (!chunks.format) {
    reject(source_name, chunks.data ? "missing fmt chunk: the audio format is unknown"
                                    : "missing fmt chunk and data chunk (truncated header?)");
  }
  if (!chunks.data) {
    reject(source_name, "missing data chunk: there is no audio (truncated file?)");
  }
  return decode_samples(*chunks.format, *chunks.data, source_name);
}

AudioBuffer read_wav(const std::filesystem::path& path) {
  const FileMap file(path);
  return read_wav_bytes(file.bytes(), path.string());
}

std::vector<uint8_t> encode_wav(const AudioBuffer& buffer, WavSampleFormat format) {
  validate_for_writing(buffer);
  const bool is_float = format == WavSampleFormat::Float32;
  const uint32_t sample_bytes = is_float ? 4 : 2;
  const uint64_t data_bytes = static_cast<uint64_t>(buffer.samples.size()) * sample_bytes;
  const uint32_t fmt_bytes = is_float ? 18 : 16;  // non-PCM formats carry cbSize = 0
  const uint32_t fact_bytes = is_float ? kChunkHeaderBytes + 4 : 0;
  const uint64_t riff_bytes = 4 + kChunkHeaderBytes + fmt_bytes + fact_bytes + kChunkHeaderBytes +
                              data_bytes;
  if (riff_bytes > 0xFFFFFFFFull) {
    fail("cannot write WAV: {:.1f} s of audio exceeds the 4 GiB limit of the format",
         buffer.duration_seconds());
  }
  const auto channels = static_cast<uint16_t>(buffer.channels);
  const auto rate = static_cast<uint32_t>(buffer.sample_rate);
  const auto block_align = static_cast<uint16_t>(channels * sample_bytes);

  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(riff_bytes) + kChunkHeaderBytes);
  append_tag(out, "RIFF");
  append_u32(out, static_cast<uint32_t>(riff_bytes));
  append_tag(out, "WAVE");
  append_tag(out, "fmt ");
  append_u32(out, fmt_bytes);
  append_u16(out, is_float ? kFormatIeeeFloat : kFormatPcm);
  append_u16(out, channels);
  append_u32(out, rate);
  append_u32(out, rate * block_align);
  append_u16(out, block_align);
  append_u16(out, static_cast<uint16_t>(sample_bytes * 8));
  if (is_float) {
    append_u16(out, 0);  // cbSize
    append_tag(out, "fact");
    append_u32(out, 4);
    append_u32(out, static_cast<uint32_t>(buffer.frames()));
  }
  append_tag(out, "data");
  append_u32(out, static_cast<uint32_t>(data_bytes));
  for (const float sample : buffer.samples) {
    if (is_float) {
      append_u32(out, std::bit_cast<uint32_t>(sample));
    } else {
      append_u16(out, static_cast<uint16_t>(to_pcm16(sample)));
    }
  }
  return out;
}

void write_wav(const std::filesystem::path& path, const AudioBuffer& buffer,
               WavSampleFormat format) {
  const std::vector<uint8_t> bytes = encode_wav(buffer, format);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("cannot write WAV {}: {} (is the folder there and writable?)", path.string(),
                 std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail("cannot write WAV {}: write failed ({})", path.string(), std::strerror(errno));
}

}  // namespace duet
