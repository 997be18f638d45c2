// Short-time analysis shared by the voice features: a cleaned copy of the signal (finite, bounded,
// DC removed) and, every 10 ms, the Hann-windowed power spectrum, the frame's level, the energy of
// the vowel band (300-2500 Hz) and mel-band log energies with their cepstrum.
// Must never produce a non-finite value, whatever the input holds.
#pragma once

#include <span>
#include <vector>

namespace duet::audio {

inline constexpr int kMelBands = 24;
inline constexpr int kCepstra = 12;  // c1..c12 (c0, the level, is left out)
inline constexpr float kFloorDb = -120.0f;

// A finite copy of `pcm`: NaN/Inf become 0, values are clamped to [-4, 4], and DC and rumble are
// removed by a one-pole high-pass at about 20 Hz.
std::vector<float> clean_signal(std::span<const float> pcm, int sample_rate);

struct SpectralFrames {
  int sample_rate = 16000;
  int hop = 160;    // samples between frame centres (10 ms)
  int n_fft = 512;  // window and FFT length (a power of two of at least 25 ms)
  int n_bins = 257;
  int n_frames = 0;  // ceil(samples / hop); frame t is centred on t * hop + hop / 2
  std::vector<float> power;     // f32 [n_frames, n_bins] |FFT|^2 of the windowed frame / sum(w^2)
  std::vector<float> level_db;  // f32 [n_frames] windowed mean square, dBFS (>= kFloorDb)
  std::vector<float> vowel_db;  // f32 [n_frames] 300-2500 Hz energy, dB
  std::vector<float> mel_db;    // f32 [n_frames, kMelBands] mel-band log energies, dB
  std::vector<float> cepstrum;  // f32 [n_frames, kCepstra] DCT-II of mel_db, c1..c12

  float bin_hz() const { return static_cast<float>(sample_rate) / n_fft; }
  const float* spectrum(int t) const { return power.data() + static_cast<size_t>(t) * n_bins; }
  double seconds(int frames) const { return static_cast<double>(frames) * hop / sample_rate; }
};

// Frames of an already cleaned signal (see clean_signal). sample_rate must be 4000..192000;
// anything else throws duet::Error.
SpectralFrames analyze_frames(std::span<const float> clean, int sample_rate);

// dB of a power value, floored at kFloorDb.
float power_db(double power);

// c1..c12 (DCT-II, orthonormal) of kMelBands mel log energies in dB.
void mel_cepstrum(const float* mel_db, float* cepstrum);

// Mean linear power per mel band over all frames ([kMelBands]; empty when there are no frames).
std::vector<double> mean_mel_power(const SpectralFrames& frames);

}  // namespace duet::audio
