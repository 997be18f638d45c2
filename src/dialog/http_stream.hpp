// A cancellable streaming HTTP POST over libcurl: the body of the answer is handed over piece by
// piece as it arrives, and raising the CancelToken closes the connection within a few
// milliseconds (the transfer is polled in short slices). One transfer at a time per object; the
// connection is kept alive between calls. Knows nothing of what the bytes mean. Must never call
// on_body after post() returned, nor throw a C++ exception through libcurl.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/cancel.hpp"

namespace duet::dialog {

struct HttpAnswer {
  long status = 0;           // HTTP status code (0 before the status line arrived)
  std::string content_type;  // the Content-Type header, lower-cased ("" when none)
  bool cancelled = false;    // the CancelToken stopped the transfer
};

class HttpStream {
 public:
  HttpStream();
  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  // POSTs `body` to `url` with the extra `headers` ("Name: value"). on_body gets each piece of
  // the answer's body with the status and content type known so far; an exception it throws
  // stops the transfer and is rethrown from post(). Returns when the answer is complete or
  // cancelled. Throws duet::Error for a transport failure (refused, unresolvable, bad URL, reset,
  // timed out) with libcurl's words and what to check (the caller adds which server it was).
  HttpAnswer post(const std::string& url, std::span<const std::string> headers,
                  std::string_view body,
                  const std::function<void(std::string_view, const HttpAnswer&)>& on_body,
                  const CancelToken& cancel);

 private:
  struct Handles;
  std::unique_ptr<Handles> handles_;
};

}  // namespace duet::dialog
