// Prosodic measures of one utterance from its 10 ms frames and pitch track: pitch statistics and
// the end-of-utterance slope, pauses, speaking rate from syllable nuclei (peaks of the vowel-band
// energy in voiced speech, each standing 2 dB above the dip before it, after de Jong and Wempe,
// 2009) and hesitations (long voiced stretches of flat pitch and a steady spectrum).
// Must never fail or produce NaN: too little speech gives zeros.
#pragma once

#include <span>
#include <vector>

#include "audio/spectral_frames.hpp"

namespace duet::audio {

struct PitchSummary {
  float median_hz = 0, low_hz = 0, high_hz = 0;  // median, 10th and 90th percentiles
  float slope_st_per_s = 0;                      // over the last 0.3 s of voiced speech
  float final_rise_st = 0;  // the last voiced frames over the lowest point of the last 0.5 s
  int voiced_frames = 0;
};

// Cleans a raw YIN track in place (octave jumps folded toward the median, voiced runs shorter
// than 30 ms dropped) and summarises it.
PitchSummary summarize_pitch(std::vector<float>& f0_hz, double frame_seconds);

struct PauseSummary {
  int first_speech = -1, last_speech = -1;  // frame indices (-1: no speech)
  int pauses = 0;
  float pause_seconds = 0;
};

// Silent gaps of at least 200 ms between the first and the last speech frame.
PauseSummary find_pauses(const std::vector<bool>& speech, double frame_seconds);

// Syllable nuclei in the speech frames.
int count_syllable_nuclei(const SpectralFrames& frames, const std::vector<bool>& speech,
                          std::span<const float> f0_hz);

// Voiced stretches of at least 400 ms with pitch within a semitone and a steady spectrum.
int count_hesitations(const SpectralFrames& frames, std::span<const float> f0_hz);

}  // namespace duet::audio
