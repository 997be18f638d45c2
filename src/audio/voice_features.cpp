// VoiceFeatureAnalyzer: runs the spectral frames, YIN, prosody, background and speaker pieces over
// one utterance and keeps the stream's history. Must never throw on odd audio (any sample values,
// any length): only an unusable sample rate, refused at construction, is an error.
#include "audio/voice_features.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "audio/background_kind.hpp"
#include "audio/pitch_yin.hpp"
#include "audio/prosody.hpp"
#include "audio/speaker_stats.hpp"
#include "audio/spectral_frames.hpp"
#include "core/error.hpp"

namespace duet::audio {

namespace {

constexpr double kBackgroundKeepSeconds = 4.0;
constexpr double kBackgroundMinSeconds = 0.3;
constexpr double kMaxUtteranceSeconds = 60.0;
constexpr size_t kMaxVoices = 8;

// A copy of the frames whose flag is set (for the background heard inside an utterance).
SpectralFrames select_frames(const SpectralFrames& f, const std::vector<bool>& keep) {
  SpectralFrames out;
  out.sample_rate = f.sample_rate;
  out.hop = f.hop;
  out.n_fft = f.n_fft;
  out.n_bins = f.n_bins;
  for (int t = 0; t < f.n_frames; ++t) {
    if (!keep[t]) continue;
    out.power.insert(out.power.end(), f.spectrum(t), f.spectrum(t) + f.n_bins);
    out.level_db.push_back(f.level_db[t]);
    out.vowel_db.push_back(f.vowel_db[t]);
    const auto m = static_cast<size_t>(t) * kMelBands;
    out.mel_db.insert(out.mel_db.end(), f.mel_db.begin() + m, f.mel_db.begin() + m + kMelBands);
    const auto c = static_cast<size_t>(t) * kCepstra;
    out.cepstrum.insert(out.cepstrum.end(), f.cepstrum.begin() + c,
                        f.cepstrum.begin() + c + kCepstra);
    ++out.n_frames;
  }
  return out;
}

float percentile_of(std::vector<float> v, float q) {
  if (v.empty()) return kFloorDb;
  const auto k = static_cast<size_t>(q * (v.size() - 1) + 0.5f);
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

}  // namespace

VoiceFeatureAnalyzer::VoiceFeatureAnalyzer(int sample_rate) : sample_rate_(sample_rate) {
  if (sample_rate < 4000 || sample_rate > 192000) {
    fail("VoiceFeatureAnalyzer: sample rate {} Hz is outside 4000..192000; resample first",
         sample_rate);
  }
}

void VoiceFeatureAnalyzer::observe_background(std::span<const float> pcm) {
  if (pcm.empty()) return;
  background_cache_.valid = false;
  const auto keep = static_cast<size_t>(kBackgroundKeepSeconds * sample_rate_);
  if (pcm.size() >= keep) {
    background_.assign(pcm.end() - static_cast<std::ptrdiff_t>(keep), pcm.end());
    return;
  }
  const size_t total = background_.size() + pcm.size();
  if (total > keep) {
    background_.erase(background_.begin(),
                      background_.begin() + static_cast<std::ptrdiff_t>(total - keep));
  }
  background_.insert(background_.end(), pcm.begin(), pcm.end());
}

const VoiceFeatureAnalyzer::BackgroundCache& VoiceFeatureAnalyzer::measured_background() {
  if (background_cache_.valid) return background_cache_;
  BackgroundCache c;
  c.valid = true;
  if (background_.size() >= static_cast<size_t>(kBackgroundMinSeconds * sample_rate_)) {
    const std::vector<float> clean = clean_signal(background_, sample_rate_);
    const SpectralFrames frames = analyze_frames(clean, sample_rate_);
    // Pitch only where the estimate reads it.
    const PitchTrack pitch = track_pitch(clean, sample_rate_, frames.hop, frames.n_frames,
                                         sounding_frames(frames));
    const BackgroundEstimate e = estimate_background(frames, pitch.f0_hz);
    c.present = true;
    c.level_dbfs = e.level_dbfs;
    c.kind = e.kind;
    c.noise_mel = mean_mel_power(frames);
  }
  background_cache_ = std::move(c);
  return background_cache_;
}

void VoiceFeatureAnalyzer::reset() {
  background_cache_ = {};
  background_.clear();
  voices_.clear();
  last_speaker_ = -1;
}

VoiceFeatures VoiceFeatureAnalyzer::analyze(std::span<const float> whole) {
  VoiceFeatures out;
  out.duration_s = static_cast<float>(static_cast<double>(whole.size()) / sample_rate_);
  // A monologue is described by its last minute (bounded time and memory).
  const std::span<const float> utterance =
      whole.last(std::min(whole.size(), static_cast<size_t>(kMaxUtteranceSeconds * sample_rate_)));
  size_t clipped = 0;
  for (float v : utterance) clipped += (std::isfinite(v) && std::fabs(v) >= 0.999f) ? 1 : 0;
  if (!utterance.empty()) out.clipped_fraction = static_cast<float>(clipped) / utterance.size();

  // The background heard between utterances, when there is enough of it.
  const BackgroundCache& heard = measured_background();
  bool have_background = heard.present;
  BackgroundEstimate background;
  background.level_dbfs = heard.level_dbfs;
  background.kind = heard.kind;
  std::vector<double> noise_mel = heard.noise_mel;  // for the voice statistics

  const std::vector<float> clean = clean_signal(utterance, sample_rate_);
  const SpectralFrames frames = analyze_frames(clean, sample_rate_);
  const double frame_s = frames.seconds(1);
  if (frames.n_frames == 0) {
    if (have_background) {
      out.background_dbfs = background.level_dbfs;
      out.background = background.kind;
    }
    return out;
  }

  // Speech frames: within 35 dB of the loud frames, above -60 dBFS and 6 dB above the background.
  float gate = std::max(-60.0f, percentile_of(frames.level_db, 0.95f) - 35.0f);
  if (have_background) gate = std::max(gate, background.level_dbfs + 6.0f);
  std::vector<bool> speech(frames.n_frames);
  double speech_power = 0;
  int speech_frames = 0;
  for (int t = 0; t < frames.n_frames; ++t) {
    speech[t] = frames.level_db[t] >= gate;
    if (speech[t]) {
      speech_power += std::pow(10.0, frames.level_db[t] / 10.0);
      ++speech_frames;
    }
  }
  if (speech_frames > 0) out.loudness_dbfs = power_db(speech_power / speech_frames);

  // Pitch only where the voice stands well clear of the background (noise fakes periodicity in
  // faint frames, at the ends of utterances above all).
  std::vector<bool> pitched = speech;
  if (have_background) {
    for (int t = 0; t < frames.n_frames; ++t) {
      pitched[t] = speech[t] && frames.level_db[t] >= background.level_dbfs + 12.0f;
    }
  }
  PitchTrack pitch = track_pitch(clean, sample_rate_, frames.hop, frames.n_frames, pitched);
  const PitchSummary ps = summarize_pitch(pitch.f0_hz, frame_s);
  out.pitch_median_hz = ps.median_hz;
  out.pitch_low_hz = ps.low_hz;
  out.pitch_high_hz = ps.high_hz;
  out.pitch_slope_st_per_s = ps.slope_st_per_s;
  out.pitch_final_rise_st = ps.final_rise_st;
  out.voiced_fraction = static_cast<float>(ps.voiced_frames) / frames.n_frames;

  const PauseSummary pauses = find_pauses(speech, frame_s);
  out.pauses = pauses.pauses;
  out.pause_seconds = pauses.pause_seconds;
  if (pauses.first_speech >= 0) {
    const double talk = (pauses.last_speech - pauses.first_speech + 1) * frame_s -
                        pauses.pause_seconds;
    const int nuclei = count_syllable_nuclei(frames, speech, pitch.f0_hz);
    if (talk >= 0.3) out.speaking_rate_sps = static_cast<float>(nuclei / talk);
  }
  out.hesitations = count_hesitations(frames, pitch.f0_hz);

  // Without background heard before, fall back on the quiet frames inside the utterance.
  if (!have_background) {
    std::vector<bool> quiet(frames.n_frames);
    int count = 0;
    for (int t = 0; t < frames.n_frames; ++t) {
      quiet[t] = !speech[t] && frames.level_db[t] > kFloorDb + 1.0f;
      count += quiet[t] ? 1 : 0;
    }
    if (count * frame_s >= 0.5) {
      const SpectralFrames quiet_frames = select_frames(frames, quiet);
      // Pitch only on the quiet frames the estimate reads.
      const std::vector<bool> sounding = sounding_frames(quiet_frames);
      std::vector<bool> read(frames.n_frames, false);
      for (int t = 0, q = 0; t < frames.n_frames; ++t) {
        if (quiet[t]) read[t] = sounding[q++];
      }
      const PitchTrack quiet_pitch =
          track_pitch(clean, sample_rate_, frames.hop, frames.n_frames, read);
      std::vector<float> quiet_f0;
      for (int t = 0; t < frames.n_frames; ++t) {
        if (quiet[t]) quiet_f0.push_back(quiet_pitch.f0_hz[t]);
      }
      background = estimate_background(quiet_frames, quiet_f0);
      noise_mel = mean_mel_power(quiet_frames);
      have_background = true;
    }
  }
  if (have_background) {
    out.background_dbfs = background.level_dbfs;
    out.background = background.kind;
  }

  // Speaker: the nearest voice heard before, or a new one.
  const std::vector<float> stats = voice_statistics(frames, pitch.f0_hz, ps.median_hz, noise_mel);
  if (stats.empty()) {
    out.speaker = std::max(last_speaker_, 0);
    return out;
  }
  int best = -1, nearest = -1;
  float best_distance = kSameSpeakerDistance, nearest_distance = 0;
  for (size_t i = 0; i < voices_.size(); ++i) {
    const float d = voice_distance(voices_[i], stats);
    if (nearest < 0 || d < nearest_distance) {
      nearest_distance = d;
      nearest = static_cast<int>(i);
    }
    if (d < best_distance) {
      best_distance = d;
      best = static_cast<int>(i);
    }
  }
  // A bounded history: past kMaxVoices, an unfamiliar voice counts as the nearest one known.
  if (best < 0 && voices_.size() >= kMaxVoices) best = nearest;
  if (best < 0) {
    voices_.push_back(stats);
    best = static_cast<int>(voices_.size()) - 1;
  } else {
    if (voices_[best][0] >= 50.0f) out.pitch_vs_usual_st = stats[1] - voices_[best][1];
    merge_voice(voices_[best], stats);
  }
  out.speaker = best;
  out.speaker_changed = last_speaker_ >= 0 && best != last_speaker_;
  last_speaker_ = best;
  return out;
}

}  // namespace duet::audio
