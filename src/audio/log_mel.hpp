// Whisper's log-mel front end (as faster-whisper's FeatureExtractor / openai-whisper audio.py):
// 16 kHz mono, n_fft 400, hop 160, periodic Hann, reflect-padded centred STFT, power spectrum,
// Slaney mel filters (80 or 128 bins, taken from the model file), log10 clamped to max - 8,
// then (x + 4) / 4. Frames are computed incrementally as audio arrives; only the frames that
// touch the end of the audio are recomputed when the spectrogram is read.
// Must never allocate per push in steady state beyond the growth of the frame store, and never
// read outside the audio it was given.
#pragma once
#include <complex>
#include <cstdint>
#include <span>
#include <vector>

namespace duet::audio {

// A complex FFT of one fixed length built from radix-2/3/4/5 stages (400 = 4*4*5*5).
class Fft {
 public:
  explicit Fft(int n);  // throws duet::Error when n has a prime factor above 5
  int size() const { return n_; }
  // out[k] = sum_j in[j] * exp(-2 pi i j k / n). in and out must not overlap; both hold n values.
  void forward(const std::complex<double>* in, std::complex<double>* out) const;

 private:
  void step(const std::complex<double>* in, int64_t stride, std::complex<double>* out, int n,
            int level) const;
  int n_ = 0;
  std::vector<int> factors_;
  std::vector<std::complex<double>> twiddles_;  // exp(-2 pi i k / n), k < n
};

class LogMel {
 public:
  static constexpr int kNfft = 400;
  static constexpr int kHop = 160;
  static constexpr int kBins = kNfft / 2 + 1;

  // filters: f32 [n_mels, 201] (Slaney, as librosa.filters.mel(16000, 400, n_mels)).
  LogMel(std::span<const float> filters, int n_mels);

  int n_mels() const { return n_mels_; }
  // Appends 16 kHz samples (any count). Non-finite samples are treated as 0.
  void push(std::span<const float> samples);
  // Forgets all audio (capacity is kept).
  void reset();
  // Samples pushed so far.
  int64_t n_samples() const { return static_cast<int64_t>(audio_.size()); }
  // Frames features() gives for the audio so far: n_samples / 160 + 1 (faster-whisper appends 160
  // zero samples, then drops the last STFT frame).
  int64_t n_frames() const;
  // Normalised features of all audio so far, as faster-whisper's FeatureExtractor(audio):
  // out f32 [n_mels, n_frames()] (resized). The max used for the clamp is over these frames.
  void features(std::vector<float>& out);
  // Same, for frames [first, n_frames()) only but with the clamp over all frames; out is
  // [n_mels, n_frames() - first].
  void features_from(int64_t first, std::vector<float>& out);

 private:
  // log10(max(mel power, 1e-10)) of frame t into dst[n_mels] given the padded-signal sampler.
  void frame(int64_t t, float* dst);
  float sample_padded(int64_t i) const;  // the signal with 160 zeros appended, reflect-padded by 200

  int n_mels_ = 0;
  std::vector<float> filters_;  // [n_mels, 201]
  std::vector<float> window_;   // periodic Hann [400]
  Fft fft_;
  std::vector<std::complex<double>> fft_in_, fft_out_;
  std::vector<float> power_;    // [201]
  std::vector<float> audio_;    // every sample pushed
  std::vector<float> stable_;   // [n_stable, n_mels] raw log10 frames that no later audio changes
  int64_t n_stable_ = 0;
  std::vector<float> tail_;     // raw frames past the stable ones, recomputed on read
};

}  // namespace duet::audio
