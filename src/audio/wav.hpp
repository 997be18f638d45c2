// Reading and writing RIFF/WAVE files: 16-bit PCM and 32-bit IEEE float (also inside
// WAVE_FORMAT_EXTENSIBLE), mono or stereo, any rate from 1 to 768000 Hz. Everything else is
// rejected with a duet::Error that names the problem and says how to convert the file.
// Must never read outside the given bytes, whatever the header claims, and never crash on input.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "audio/audio_buffer.hpp"

namespace duet {

enum class WavSampleFormat { Pcm16, Float32 };

inline constexpr int kMaxWavSampleRate = 768000;
inline constexpr int kMaxWavChannels = 2;

// Parses a whole WAV file held in memory. `source_name` only labels error messages.
// Unknown chunks (LIST, fact, ...) are skipped. A data chunk whose size is 0xFFFFFFFF or larger
// than the bytes present (a WAV that was streamed or cut short), or 0 while the RIFF size is also
// unset (0 or 0xFFFFFFFF), yields the whole frames that are there; one that promises audio but
// holds not even one whole frame is an error.
// 16-bit samples map to s / 32768; float samples are kept as stored (NaN/Inf become 0).
AudioBuffer read_wav_bytes(std::span<const uint8_t> bytes,
                           std::string_view source_name = "WAV data");

// Reads a WAV file (memory-mapped); errors name the path.
AudioBuffer read_wav(const std::filesystem::path& path);

// The bytes of a WAV file holding `buffer`. Pcm16 clamps to [-1, 1] and rounds to the nearest
// step of 1/32768 (so 16-bit input round-trips exactly); Float32 stores samples unchanged.
std::vector<uint8_t> encode_wav(const AudioBuffer& buffer,
                                WavSampleFormat format = WavSampleFormat::Pcm16);

// Writes encode_wav(buffer, format) to `path`, replacing any existing file.
void write_wav(const std::filesystem::path& path, const AudioBuffer& buffer,
               WavSampleFormat format = WavSampleFormat::Pcm16);

}  // namespace duet
