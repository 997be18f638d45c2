// Stop-string detection over streamed text (see stop_strings.hpp). Keeps only the longest tail
// that is a prefix of some stop string; everything before it is released. Must never allocate
// once its buffers have grown to the longest stop string plus one piece.
#include "text/stop_strings.hpp"

#include <algorithm>

namespace duet::text {

StopStrings::StopStrings(std::vector<std::string> stops) {
  for (auto& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

void StopStrings::reset() {
  held_.clear();
  out_.clear();
  matched_.clear();
  stopped_ = false;
}

StopStrings::Result StopStrings::push(std::string_view piece) {
  out_.clear();
  if (stopped_) return {out_, true};
  held_ += piece;
  // Earliest completed stop string (ties: the longer one).
  size_t best = std::string::npos;
  const std::string* which = nullptr;
  for (const auto& s : stops_) {
    const size_t at = held_.find(s);
    if (at != std::string::npos && (at < best || (at == best && s.size() > which->size()))) {
      best = at;
      which = &s;
    }
  }
  if (which) {
    out_.assign(held_, 0, best);
    matched_ = *which;
    held_.clear();
    stopped_ = true;
    return {out_, true};
  }
  // Hold the longest suffix of held_ that is a proper prefix of a stop string.
  size_t hold = 0;
  for (const auto& s : stops_) {
    const size_t most = std::min(s.size() - 1, held_.size());
    for (size_t k = most; k > hold; --k) {
      if (std::string_view(held_).substr(held_.size() - k) == std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
    }
  }
  out_.assign(held_, 0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return {out_, false};
}

std::string_view StopStrings::flush() {
  out_ = held_;
  held_.clear();
  return out_;
}

}  // namespace duet::text
