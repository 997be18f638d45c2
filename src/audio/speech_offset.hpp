// Acoustic end of speech from 10 ms frame energy. A neural voice activity detector smears the end
// of an utterance over its context (Silero keeps saying "speech" for 50-100 ms after the voice
// stops); the energy of short frames drops within one frame. This detector follows the room's
// noise floor and the utterance's speech level, and reports how long the signal has been quiet
// relative to both, so the conversation can look at the transcript as soon as the voice stops,
// and, once the VAD too hears the pause, count the pause from where the voice really stopped.
// It never decides alone that a turn ended, and in a room too noisy to tell speech from
// background it stays silent (quiet_ms() is 0).
// Must never allocate per frame, and never look ahead in time.
#pragma once

#include <cstdint>
#include <span>

namespace duet::audio {

struct SpeechOffsetConfig {
  int sample_rate = 16000;
  int frame_ms = 10;
  float drop_db = 25.0f;         // a frame this far under the speech level is quiet...
  float above_floor_db = 8.0f;   // ...unless it is within this of the noise floor (then quiet too)
  float min_snr_db = 18.0f;      // speech level over the floor needed to trust the energy at all
  float level_decay_db_per_s = 6.0f;  // how fast the remembered speech level fades
  float floor_rise_db_per_s = 2.0f;   // how fast the floor follows a louder room
};

class SpeechOffset {
 public:
  explicit SpeechOffset(const SpeechOffsetConfig& config = {});

  // Feeds mono PCM at config().sample_rate, any chunk size (non-finite samples count as 0).
  void push(std::span<const float> pcm);
  // A new utterance starts: forget the previous one's speech level.
  void begin_utterance();
  // Length of the current run of quiet frames, in ms; 0 while the voice is heard, before any
  // speech of this utterance, or when the room is too noisy to tell.
  int quiet_ms() const;
  float noise_floor_db() const { return floor_db_; }
  float speech_level_db() const { return level_db_; }

 private:
  void step(double mean_square);

  SpeechOffsetConfig config_;
  int64_t frame_samples_;
  double acc_ = 0.0;          // sum of squares of the frame being filled
  int64_t filled_ = 0;        // samples in the frame being filled
  bool have_floor_ = false;
  float floor_db_ = -100.0f;
  float level_db_ = -100.0f;  // decaying maximum of this utterance's frames
  bool heard_ = false;        // a frame of this utterance stood out of the floor
  int quiet_frames_ = 0;
};

}  // namespace duet::audio
