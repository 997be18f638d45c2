// Sample-rate conversion through libsamplerate's band-limited sinc converters: a one-shot
// resample() for whole buffers and a streaming Resampler for audio that arrives in chunks.
// Must never change a signal's level or pitch beyond the converter's quality limits, and never
// drop or invent audio at stream ends (output length is round(input_frames * ratio)).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "audio/audio_buffer.hpp"

struct SRC_STATE_tag;

namespace duet {

enum class ResampleQuality {
  Best,    // SRC_SINC_BEST_QUALITY: the default, for anything that is stored or compared
  Medium,  // SRC_SINC_MEDIUM_QUALITY
  Fast,    // SRC_SINC_FASTEST: still band-limited, for tight real-time budgets
};

// Streaming converter for interleaved audio with a fixed channel count. Not thread-safe: one
// thread at a time. push() and flush() append to a caller's vector (and so may allocate).
class Resampler {
 public:
  // Throws duet::Error when a rate is outside 1..768000 Hz, their ratio is outside 1/256..256,
  // or channels is not 1 or 2.
  Resampler(int input_rate, int output_rate, int channels,
            ResampleQuality quality = ResampleQuality::Best);
  ~Resampler();
  Resampler(Resampler&& other) noexcept;
  Resampler& operator=(Resampler&& other) noexcept;
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Converts `input` (whole interleaved frames, any count including 0) and appends what the
  // converter can emit so far to `output`. Returns the number of frames appended.
  size_t push(std::span<const float> input, std::vector<float>& output);

  // Ends the stream: appends the remaining output, so that the stream's total output is
  // round(total input frames * ratio). Afterwards the converter is reset for a new stream.
  size_t flush(std::vector<float>& output);

  // Drops all buffered audio and starts a new stream.
  void reset();

  int input_rate() const { return input_rate_; }
  int output_rate() const { return output_rate_; }
  int channels() const { return channels_; }

 private:
  size_t convert(std::span<const float> input, bool end_of_input, std::vector<float>& output);

  SRC_STATE_tag* state_ = nullptr;  // null when the rates are equal (exact pass-through)
  int input_rate_ = 0;
  int output_rate_ = 0;
  int channels_ = 1;
  double ratio_ = 1.0;
  unsigned long long input_frames_total_ = 0;
  unsigned long long output_frames_total_ = 0;
};

// Converts a whole buffer to `target_rate` (a copy when the rate already matches).
AudioBuffer resample(const AudioBuffer& input, int target_rate,
                     ResampleQuality quality = ResampleQuality::Best);

}  // namespace duet
