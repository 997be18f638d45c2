// The latency trace of one turn: when each stage reached its milestone, in ms since the session
// started on the wall clock (audio positions are mapped to when their samples arrived, so a client
// that starts streaming late does not inflate the figures). Emitted as a Trace frame (one JSON object) when the reply's first audio is out or
// the turn ends, and appended as a JSON line by `duet converse --trace`. A milestone that did not
// happen is absent (-1 here, missing in JSON). Must never be computed from anything but events
// the session observed.
#pragma once

#include <cstdint>
#include <string>

namespace duet::dialog {

struct TurnTrace {
  uint64_t turn = 0;               // the reply's id
  std::string mode = "duplex";     // "duplex" or "cascade"
  double speech_start_ms = -1;     // the person's speech began (VAD)
  double speech_end_ms = -1;       // the last frame of the person's speech ended (VAD)
  // The person's voice ended: where its energy fell, 50-140 ms before the VAD hears it (the VAD's
  // end in a room too noisy for the energy). Voice-to-voice latency counts from here.
  double voice_end_ms = -1;
  double look_start_ms = -1;       // the look that gave the final transcript was asked for
  double look_text_ms = -1;        // that look's transcript was decoded
  double look_tone_ms = -1;        // that look's tone/speaker/background annotation was ready
  double speculative_start_ms = -1;  // the transcript was looked at and a reply started early
  double final_transcript_ms = -1;   // the turn was committed with its final transcript
  double first_token_ms = -1;      // the LLM's first piece of text
  double first_tts_chunk_ms = -1;  // the voice's first audio chunk was ready
  double first_audio_ms = -1;      // the first sample of the answer went to the speaker
  int rollbacks = 0;               // speculative replies dropped in this turn
  int looks = 0;                   // looks at the transcript in this turn
  bool early_look = false;         // the committed transcript came from a look at the acoustic end
  std::string end_pitch;           // the voice's pitch at its end: falling, rising or unknown
  bool interrupted = false;        // the person barged in
  std::string transcript;          // what the person said
  std::string annotation;          // tone/speaker/background
  std::string reply;               // what Duet said (as heard, after any cut)
  int64_t prompt_tokens = 0, reused_tokens = 0;

  // first_audio_ms - voice_end_ms (speech_end_ms when the voice's end is not known), or -1.
  double voice_to_voice_ms() const;
  // One JSON object, milestones rounded to 0.1 ms.
  std::string to_json() const;
};

}  // namespace duet::dialog
