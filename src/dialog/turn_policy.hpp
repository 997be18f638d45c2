// Turn-taking policy: decides how long a silence must last before the person's turn is over,
// from the transcript's look (a finished question or sentence vs a trailing "and um...", "so...")
// and the configured eagerness, and which utterances are not turns at all (noise tags such as
// "(coughing)" or "[music]", empty text) or only backchannels ("mm-hm", "yeah") that must not
// stop Duet. Pure functions of their inputs: must never keep state or look at the clock.
#pragma once

#include <string>
#include <string_view>

#include "dialog/session.hpp"

namespace duet::dialog {

// Probability in [0, 1] that a turn with this transcript is complete: high after a finished
// sentence or question, low after a conjunction, filler or a cut-off word.
double end_of_turn_probability(std::string_view transcript);

struct TurnWaits {
  int first_look_ms = 0;  // silence after which the transcript is looked at (speculation starts)
  int question_ms = 0;    // silence that ends a finished question (the surest end of a turn)
  int short_ms = 0;       // silence that ends a complete-looking turn
  int long_ms = 0;        // silence that ends an incomplete-looking turn
};

// True when the transcript's last spoken character is a letter or digit: no full stop, question
// mark, comma or ellipsis. Whisper writes one at almost every end it hears, so its absence means
// the audio stopped close behind the last word, or the words go on.
bool ends_unmarked(std::string_view transcript);

// How the voice's pitch moved at the end of the utterance. English statements that are finished
// end low ("falling"); a voice that rises or stays up at a pause ("I'll call at seven, ...")
// usually goes on. Questions may rise either way, so only statements use it.
enum class EndPitch { Unknown, Falling, Rising };

// From the pitch slope over the last 0.3 s of voiced speech (semitones per second) and the rise
// of the last voiced frames over the lowest point before them (semitones), as
// audio::VoiceFeatures measures them. Unknown when neither movement is clear.
EndPitch end_pitch(float slope_st_per_s, float final_rise_st);
const char* end_pitch_name(EndPitch pitch);

// The waits for a turn-detection setting (server_vad: silence_duration_ms for both; semantic_vad:
// from its eagerness).
TurnWaits turn_waits(const TurnDetection& turn);

// The silence that ends a turn whose transcript has end-of-turn probability p. after_barge_in:
// the turn began by interrupting Duet; "Stop, stop." is then rarely all the person has to say,
// and its transcript is less sure (its start was said over Duet's voice: a hesitation's "to..."
// comes out as "two?"), so even a finished question waits at least twice the statement wait
// (semantic_vad only).
// semantic_vad also reads the pitch at the end of a finished-looking statement: falling, it is
// taken as soon as a question; rising, it is waited for half as long again as a plain statement.
int silence_to_end_turn(const TurnDetection& turn, double p, bool after_barge_in = false,
                        EndPitch pitch = EndPitch::Unknown);

// The transcript with Whisper's non-speech tags ("(coughing)", "[MUSIC]", "*laughs*", "♪") and
// surrounding blanks removed; "" when nothing was said.
std::string spoken_text(std::string_view transcript);

// True for short acknowledgements that do not claim the turn ("mm-hm", "yeah", "okay", "right").
bool is_backchannel(std::string_view transcript);

// True when speech heard over Duet's answer leaves it the turn: a backchannel, or an utterance
// shorter than barge_in_ms of speech (so it never interrupted) that neither asks a question nor
// asks Duet to stop ("wait", "no", "sorry"). Short sounds are where the recogniser errs most (a
// quiet "yeah" comes out as "here."), so they must not cut a story short.
bool leaves_duet_the_turn(std::string_view transcript, int speech_ms, int barge_in_ms);

}  // namespace duet::dialog
