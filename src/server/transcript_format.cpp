// Transcript formatting (see transcript_format.hpp). Must never throw on any segment text.
#include "server/transcript_format.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace duet::server {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string subtitle_time(double seconds, char decimal_mark) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const auto ms_total = static_cast<int64_t>(std::llround(seconds * 1000.0));
  const int64_t h = ms_total / 3'600'000;
  const int64_t m = ms_total / 60'000 % 60;
  const int64_t s = ms_total / 1000 % 60;
  const int64_t ms = ms_total % 1000;
  return fmt::format("{:02}:{:02}:{:02}{}{:03}", h, m, s, decimal_mark, ms);
}

FormattedTranscript format_transcript(const std::vector<whisper::Segment>& segments,
                                      double duration_s, const std::string& format,
                                      const std::string& language) {
  std::string text;
  for (const auto& s : segments) text += s.text;
  text = trim(text);
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  if (format == "text") return {text + "\n", "text/plain; charset=utf-8"};
  if (format == "json") return {dump({{"text", text}}), "application/json"};
  if (format == "verbose_json") {
    nlohmann::json segs = nlohmann::json::array();
    double last_end = 0.0;
    for (size_t i = 0; i < segments.size(); ++i) {
      const auto& s = segments[i];
      const double start = std::max(last_end, std::max(0.0, s.start));
      const double end = std::max(start, s.end);
      last_end = end;
      segs.push_back({{"id", i},
                      {"seek", static_cast<int64_t>(std::floor(start * 100.0))},
                      {"start", start},
                      {"end", end},
                      {"text", s.text},
                      {"tokens", s.tokens},
                      {"temperature", 0.0},
                      {"avg_logprob", s.avg_logprob},
                      {"compression_ratio", 1.0},
                      {"no_speech_prob", s.no_speech_prob}});
    }
    return {dump({{"task", "transcribe"},
                  {"language", language},
                  {"duration", duration_s},
                  {"text", text},
                  {"segments", segs}}),
            "application/json"};
  }
  const bool vtt = format == "vtt";
  std::string out = vtt ? "WEBVTT\n\n" : "";
  int index = 1;
  double last_end = 0.0;
  for (const auto& s : segments) {
    const std::string line = trim(s.text);
    if (line.empty()) continue;
    const double start = std::max(last_end, std::max(0.0, s.start));
    const double end = std::max(start, s.end);
    last_end = end;
    if (!vtt) out += fmt::format("{}\n", index);
    out += fmt::format("{} --> {}\n{}\n\n", subtitle_time(start, vtt ? '.' : ','),
                       subtitle_time(end, vtt ? '.' : ','), line);
    ++index;
  }
  return {out, vtt ? "text/vtt; charset=utf-8" : "application/x-subrip; charset=utf-8"};
}

}  // namespace duet::server
