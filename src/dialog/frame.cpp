// Names of frame kinds, for logs and the JSON event stream. Must never change a published name.
#include "dialog/frame.hpp"

namespace duet::dialog {

std::string_view frame_kind_name(FrameKind kind) {
  switch (kind) {
    case FrameKind::InputAudio: return "input_audio";
    case FrameKind::OutputAudio: return "output_audio";
    case FrameKind::SpeechStarted: return "speech_started";
    case FrameKind::SpeechStopped: return "speech_stopped";
    case FrameKind::InputCommitted: return "input_committed";
    case FrameKind::InputCleared: return "input_cleared";
    case FrameKind::TranscriptPartial: return "transcript_partial";
    case FrameKind::TranscriptFinal: return "transcript_final";
    case FrameKind::ResponseStarted: return "response_started";
    case FrameKind::TextDelta: return "text_delta";
    case FrameKind::ResponseDone: return "response_done";
    case FrameKind::PlaybackStarted: return "playback_started";
    case FrameKind::PlaybackStopped: return "playback_stopped";
    case FrameKind::Truncated: return "truncated";
    case FrameKind::Interrupt: return "interrupt";
    case FrameKind::Trace: return "trace";
    case FrameKind::Error: return "error";
  }
  return "unknown";
}

}  // namespace duet::dialog
