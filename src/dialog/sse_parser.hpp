// Incremental parser of a server-sent-events stream (the WHATWG "text/event-stream" format): bytes
// go in as the network delivers them, split anywhere, and each complete event (the data lines up
// to a blank line) comes out once. Knows nothing of HTTP or JSON. Must never hand out an event
// before its terminating blank line, and never grow without bound on a line that never ends.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace duet::dialog {

struct SseEvent {
  std::string event;  // the "event:" field; "" means the default type, "message"
  std::string data;   // the "data:" lines joined by '\n'
  std::string id;     // the last "id:" field seen
};

class SseParser {
 public:
  // A line longer than max_line_bytes makes feed() throw duet::Error (a malformed stream).
  explicit SseParser(size_t max_line_bytes = 1 << 20) : max_line_bytes_(max_line_bytes) {}

  // Consumes `bytes` (any split, lines ending in LF, CRLF or CR) and calls on_event for every
  // event completed by them, in order. Comment lines (":...") and unknown fields are skipped; an
  // event without data lines is not dispatched (as the spec says).
  void feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event);

  // True while part of a line or an undispatched event is buffered (the stream stopped mid-event).
  bool pending() const { return !line_.empty() || has_data_ || !event_.event.empty(); }

  void reset();

 private:
  void process_line(const std::function<void(const SseEvent&)>& on_event);

  size_t max_line_bytes_;
  std::string line_;        // the current line so far, without its terminator
  bool last_was_cr_ = false;  // a CR ended the previous line: an LF right after it is not a line
  bool bom_checked_ = false;
  bool has_data_ = false;
  SseEvent event_;          // the event being built
  std::string last_id_;
};

}  // namespace duet::dialog
