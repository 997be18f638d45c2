// Frame: the one kind of message that flows between the stages of a conversation and out of it
// to whoever drives the session (CLI, server, tests). Every frame carries the epoch it was made
// in: barge-in, cancel and rollback bump the session's epoch, and a stage drops any frame of an
// older epoch, so nothing from an abandoned answer ever reaches the speaker or the history.
// Must never carry pointers into a stage's state: a frame owns all it holds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duet::dialog {

enum class FrameKind {
  // Data.
  InputAudio,   // microphone PCM (audio, sample_rate)
  OutputAudio,  // the answer's PCM at the output rate (audio, sample_rate); text = its words
  // Hearing.
  SpeechStarted,      // time_ms = where the person's speech began (input timeline)
  SpeechStopped,      // time_ms = where it ended
  InputCommitted,     // the user turn `turn` is final and goes into the history
  InputCleared,       // buffered input audio was dropped
  TranscriptPartial,  // text = the hypothesis so far, detail = its stable prefix
  TranscriptFinal,    // text = the final transcript, detail = the tone annotation ("" if none)
  // Answering.
  ResponseStarted,  // a reply `turn` began (after its speculation, if any, was confirmed)
  TextDelta,        // text = a new piece of the reply's text
  ResponseDone,     // text = the whole reply as it stands in the history, detail = status:
                    // "completed", "cancelled", "interrupted" or "failed"
  PlaybackStarted,  // the first sample of reply `turn` went out (output_audio_buffer.started)
  PlaybackStopped,  // reply `turn` finished playing or was cut (output_audio_buffer.stopped)
  Truncated,        // the reply `turn` was cut at time_ms of its audio; text = what was heard
  // Control and reporting.
  Interrupt,  // barge-in: stop speaking now
  Trace,      // detail = the turn's latency trace, one JSON object (see trace.hpp)
  Error,      // text = what went wrong and what to do; detail = a short code
};

std::string_view frame_kind_name(FrameKind kind);

// A word of an answer and where its sound starts, in samples from the answer's first sample.
struct WordMark {
  std::string word;
  int64_t start_sample = 0;
};

struct Frame {
  FrameKind kind = FrameKind::InputAudio;
  uint64_t epoch = 0;       // the session epoch the frame was made in
  uint64_t turn = 0;        // the user turn or reply it belongs to (0: none)
  int64_t time_ms = 0;      // a time on the session's input timeline, where meaningful
  std::string text;
  std::string detail;
  int sample_rate = 0;      // audio frames only
  std::vector<float> audio; // mono samples, audio frames only
  std::vector<WordMark> words;  // OutputAudio: the words that start in this chunk
};

}  // namespace duet::dialog
