// Server-sent-events parsing (see sse_parser.hpp): line splitting over arbitrary chunk borders and
// the field rules of the event-stream format. Must never interpret the data it carries.
#include "dialog/sse_parser.hpp"

#include "core/error.hpp"

namespace duet::dialog {

void SseParser::reset() {
  line_.clear();
  last_was_cr_ = false;
  bom_checked_ = false;
  has_data_ = false;
  event_ = SseEvent{};
  last_id_.clear();
}

void SseParser::feed(std::string_view bytes,
                     const std::function<void(const SseEvent&)>& on_event) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (last_was_cr_) {
      last_was_cr_ = false;
      if (c == '\n') continue;  // the LF of a CRLF pair
    }
    if (c == '\r' || c == '\n') {
      last_was_cr_ = (c == '\r');
      process_line(on_event);
      line_.clear();
      continue;
    }
    // Take the run of ordinary bytes at once rather than one by one.
    size_t end = i;
    while (end < bytes.size() && bytes[end] != '\r' && bytes[end] != '\n') ++end;
    if (line_.size() + (end - i) > max_line_bytes_) {
      fail("malformed event stream: a line longer than {} bytes without an end; check that the "
           "URL points at a server-sent-events (text/event-stream) endpoint",
           max_line_bytes_);
    }
    line_.append(bytes.substr(i, end - i));
    if (!bom_checked_ && line_.size() >= 3) {
      bom_checked_ = true;
      if (line_.compare(0, 3, "\xEF\xBB\xBF") == 0) line_.erase(0, 3);
    }
    i = end - 1;
  }
}

void SseParser::process_line(const std::function<void(const SseEvent&)>& on_event) {
  bom_checked_ = true;  // only the stream's very first bytes may carry a byte-order mark
  if (line_.empty()) {  // a blank line dispatches the event
    if (has_data_) {
      event_.id = last_id_;
      on_event(event_);
    }
    has_data_ = false;
    event_.event.clear();
    event_.data.clear();
    return;
  }
  if (line_.front() == ':') return;  // a comment (servers send these as keep-alives)

  std::string_view line(line_);
  std::string_view field = line;
  std::string_view value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data.push_back('\n');
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  }
  // "retry" and unknown fields: nothing to do for a client that never reconnects on its own.
}

}  // namespace duet::dialog
