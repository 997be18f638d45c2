// Classifies the audio around speech: quiet, steady noise (fans, hiss, traffic rumble), music
// (steady tonal peaks, harmonic notes) or babble (several voices: speech-like, modulated, with
// drifting harmonics), from spectral flatness, level modulation and the persistence of tonal
// peaks. Must never fail on any input: too little audio is simply quiet.
#pragma once

#include <span>
#include <vector>

#include "audio/spectral_frames.hpp"
#include "audio/voice_features.hpp"

namespace duet::audio {

struct BackgroundEstimate {
  float level_dbfs = kFloorDb;      // mean power of the frames
  BackgroundKind kind = BackgroundKind::Quiet;
  float flatness = 0;               // mean spectral flatness (geometric / arithmetic mean)
  float modulation_db = 0;          // standard deviation of the smoothed frame level
  float tonal_persistence = 0;      // share of tonal peaks found at the same bin 30 ms earlier
  float tonal_fraction = 0;         // share of the band's power in tonal peaks
  float flux = 0;                   // mean positive spectral change between frames (dB per bin)
  float periodic_fraction = 0;      // share of sounding frames with a pitch (voices, notes)
};

// The frames the estimate reads: those within 30 dB of the frames' mean level (and not far below
// the quiet level); the others (digital silence) are skipped, their pitch never read.
std::vector<bool> sounding_frames(const SpectralFrames& frames);

// All frames of `frames` are taken as background; f0_hz is their pitch track (0 = aperiodic).
BackgroundEstimate estimate_background(const SpectralFrames& frames, std::span<const float> f0_hz);

}  // namespace duet::audio
