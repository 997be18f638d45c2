// Stop strings over streamed text: detects a stop string even when it arrives split across
// tokens, releases text as soon as it can no longer be the start of a stop string, and reports
// the text before the stop. Must never release bytes that could still belong to a stop string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace duet::text {

class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);  // empty strings are ignored

  struct Result {
    std::string_view text;  // safe to show now (valid until the next call)
    bool stopped = false;   // a stop string completed; text is everything before it
  };
  // Feeds the next piece of streamed text (complete UTF-8 characters, e.g. from StreamDecoder).
  Result push(std::string_view piece);
  // End of stream without a stop: returns what was held back.
  std::string_view flush();
  void reset();
  const std::string& matched() const { return matched_; }  // the stop string that fired

 private:
  std::vector<std::string> stops_;
  std::string held_;
  std::string out_;
  std::string matched_;
  bool stopped_ = false;
};

}  // namespace duet::text
