// The HTTP vocabulary the server's parts share: Beast aliases, and ResponseSink, the one way a
// handler answers a request (a whole response, or a chunked stream such as server-sent events),
// from any thread.
// Must never expose the socket: handlers only ever see the sink.
#pragma once

#include <memory>
#include <string>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/cancel.hpp"

namespace duet::server {

namespace beast = boost::beast;
namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Thread-safe; exactly one of send() or start_stream() ... end_stream() per request. A sink
// dropped without an answer answers 500 itself.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void send(Response response) = 0;
  // Starts a chunked response with `content_type` (e.g. "text/event-stream").
  virtual void start_stream(http::status status, const std::string& content_type) = 0;
  // Queues one chunk; false once the client has gone away (stop producing then).
  virtual bool write_chunk(std::string data) = 0;
  virtual void end_stream() = 0;
  // Raised when the client disconnects: long work polls it.
  virtual const CancelToken& client_gone() const = 0;
};

using SinkPtr = std::shared_ptr<ResponseSink>;

}  // namespace duet::server
