// AudioBuffer: the plain PCM container passed between Duet's audio stages (interleaved float
// samples, nominally in [-1, 1], plus sample rate and channel count). It must never hide work:
// no resampling, no I/O, no hidden allocation beyond what its helpers return.
#pragma once

#include <cstddef>
#include <vector>

namespace duet {

struct AudioBuffer {
  int sample_rate = 0;         // frames per second, > 0 in any buffer produced by Duet
  int channels = 1;            // 1 (mono) or 2 (stereo); samples are interleaved L R L R ...
  std::vector<float> samples;  // frames() * channels values

  // Whole frames held (a trailing partial frame, which Duet never produces, is not counted).
  size_t frames() const {
    return channels > 0 ? samples.size() / static_cast<size_t>(channels) : 0;
  }

  double duration_seconds() const {
    return sample_rate > 0 ? static_cast<double>(frames()) / sample_rate : 0.0;
  }

  // A mono copy: channels averaged per frame (a mono buffer is simply copied).
  AudioBuffer to_mono() const {
    AudioBuffer mono{sample_rate, 1, {}};
    if (channels <= 1) {
      mono.samples = samples;
      return mono;
    }
    const size_t frame_count = frames();
    mono.samples.resize(frame_count);
    const size_t stride = static_cast<size_t>(channels);
    for (size_t frame = 0; frame < frame_count; ++frame) {
      float sum = 0.0f;
      for (size_t channel = 0; channel < stride; ++channel) {
        sum += samples[frame * stride + channel];
      }
      mono.samples[frame] = sum / static_cast<float>(channels);
    }
    return mono;
  }
};

}  // namespace duet
