// Simple voice statistics for telling speakers apart without a neural model: the median pitch (in
// semitones) and the mean mel-cepstrum (c1..c12, the spectral envelope: vocal tract and channel)
// over voiced frames, a distance between two such summaries, and a running merge.
// Must never claim a voice from too little audio: fewer than kMinVoicedFrames voiced frames give
// an empty summary.
#pragma once

#include <span>
#include <vector>

#include "audio/spectral_frames.hpp"

namespace duet::audio {

inline constexpr int kMinVoicedFrames = 25;  // 250 ms of voiced speech
inline constexpr float kSameSpeakerDistance = 2.2f;

// [weight (voiced frames), pitch in semitones above 100 Hz, c1..c12 means] or empty. When the
// background's mean mel power is given, it is subtracted from each frame first (so a noisy room
// does not flatten every voice toward the noise's spectrum).
std::vector<float> voice_statistics(const SpectralFrames& frames, std::span<const float> f0_hz,
                                    float pitch_median_hz,
                                    std::span<const double> noise_mel_power = {});

// Scaled distance: about 1 separates the same voice from a different one.
float voice_distance(std::span<const float> a, std::span<const float> b);

// Folds `next` into `voice` as a weighted running mean (weights capped so a voice keeps adapting).
void merge_voice(std::vector<float>& voice, std::span<const float> next);

}  // namespace duet::audio
