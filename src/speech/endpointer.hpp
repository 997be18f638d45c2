// Endpointing: turns a voice activity detector's per-frame probabilities into "speech started"
// and "speech stopped" events with hysteresis, a minimum speech length (a click or cough is not
// speech), pre-roll padding (the audio just before the start belongs to the utterance) and a
// hangover (short pauses inside an utterance do not end it). The adaptive mode follows the
// room's noise floor and raises the threshold in noisy rooms. Feed it frames of any size at the
// detector's rate; it slices them into the detector's frames. Must never drop audio of an
// utterance it reported, and never allocate per frame once warmed up.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "speech/vad.hpp"

namespace duet::speech {

struct EndpointerConfig {
  float threshold = 0.5f;         // probability at which speech is heard (Realtime's threshold)
  float release_threshold = 0.35f;  // probability under which a frame counts as silence
  int min_speech_ms = 160;        // speech shorter than this is ignored (no start event)
  int prefix_padding_ms = 300;    // audio kept before the start (Realtime's prefix_padding_ms)
  int hangover_ms = 500;          // silence that ends speech (Realtime's silence_duration_ms)
  bool adaptive = false;          // raise the threshold with the noise floor in noisy rooms
};

struct EndpointEvent {
  enum class Kind { SpeechStarted, SpeechStopped };
  Kind kind = Kind::SpeechStarted;
  // Sample positions (at the detector's rate) counted from the first sample ever pushed.
  // SpeechStarted: where speech began (before the min-speech confirmation delay, without pre-roll).
  // SpeechStopped: where speech ended (the last speech frame's end, before the hangover).
  int64_t sample = 0;
  // Where the utterance's audio begins: the start minus prefix_padding_ms, never before 0 nor
  // before the previous utterance's end. Set on both events, so a stopped event spans the
  // whole utterance as [audio_start, sample).
  int64_t audio_start = 0;
};

class Endpointer {
 public:
  Endpointer(std::unique_ptr<VoiceActivity> vad, EndpointerConfig config = {});

  // Runs the detector over `pcm` (mono, at vad().sample_rate()) and returns the events it caused,
  // in order. A started event comes min_speech_ms after the speech began; a stopped event
  // hangover_ms after it ended.
  std::vector<EndpointEvent> push(std::span<const float> pcm);

  bool in_speech() const { return in_speech_; }
  // Silence so far after the last speech frame, in ms (0 while the detector hears speech).
  int silence_ms() const;
  // Probability of the most recent detector frame.
  float last_probability() const { return last_prob_; }
  // Samples pushed so far.
  int64_t position() const { return position_; }
  // The threshold in use now (differs from config().threshold in adaptive mode).
  float current_threshold() const;
  const EndpointerConfig& config() const { return config_; }
  void set_config(const EndpointerConfig& config);
  VoiceActivity& vad() { return *vad_; }
  void reset();

 private:
  std::unique_ptr<VoiceActivity> vad_;
  EndpointerConfig config_;
  std::vector<float> pending_;  // samples waiting for a whole detector frame
  int64_t position_ = 0;        // samples pushed
  int64_t frames_done_ = 0;     // detector frames evaluated
  bool in_speech_ = false;
  int64_t candidate_start_ = -1;  // first sample of speech not yet long enough to report
  int64_t last_speech_end_ = 0;   // end sample of the last frame above the release threshold
  float last_prob_ = 0.0f;
  float noise_floor_ = 0.0f;      // adaptive mode: running estimate of the silence probability
  int64_t audio_start_ = 0;       // audio_start of the utterance being reported
  int64_t previous_end_ = 0;      // end sample of the last reported utterance

  void step_frame(std::span<const float> frame, std::vector<EndpointEvent>& events);
  int64_t ms_to_samples(int ms) const;
};

}  // namespace duet::speech
