// The response formats of POST /v1/audio/transcriptions: json, text, verbose_json (with
// segments), srt and vtt, from Whisper's segments.
// Must never emit a malformed timestamp (negative or unordered times are clamped).
#pragma once

#include <string>
#include <vector>

#include "models/whisper_decode.hpp"

namespace duet::server {

struct FormattedTranscript {
  std::string body;
  std::string content_type;
};

// format: "json", "text", "verbose_json", "srt" or "vtt" (the caller has validated it).
FormattedTranscript format_transcript(const std::vector<whisper::Segment>& segments,
                                      double duration_s, const std::string& format,
                                      const std::string& language);

// "00:01:02,345" (srt) or "00:01:02.345" (vtt).
std::string subtitle_time(double seconds, char decimal_mark);

}  // namespace duet::server
