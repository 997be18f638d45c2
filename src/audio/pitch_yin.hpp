// The YIN fundamental-frequency estimator (de Cheveigne and Kawahara, 2002): cumulative mean
// normalised difference function, absolute threshold, parabolic refinement, on the same 10 ms
// frame grid as SpectralFrames. Must never report a pitch outside [min_hz, max_hz] or a
// non-finite value; unvoiced frames are 0.
#pragma once

#include <span>
#include <vector>

namespace duet::audio {

struct PitchOptions {
  float min_hz = 60.0f;
  float max_hz = 500.0f;
  float threshold = 0.15f;          // the first CMNDF dip under this is the period
  float fallback_threshold = 0.4f;  // else the deepest dip, when under this
  float window_seconds = 0.025f;  // integration window
};

struct PitchTrack {
  std::vector<float> f0_hz;         // [frames] 0 where unvoiced
  std::vector<float> aperiodicity;  // [frames] the CMNDF at the chosen lag (1 when unvoiced)
};

// Pitch of frame t centred on t * hop + hop / 2 of a cleaned signal, for `frames` frames.
// Frames whose flag in `analyse` is false (when given) are skipped as unvoiced.
PitchTrack track_pitch(std::span<const float> clean, int sample_rate, int hop, int frames,
                       const std::vector<bool>& analyse = {}, const PitchOptions& options = {});

}  // namespace duet::audio
