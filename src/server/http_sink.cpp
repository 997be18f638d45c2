// Serialising answers onto an HttpSession's strand (see http_sink.hpp).
// Must never block: every write is posted.
#include "server/http_sink.hpp"

#include <sstream>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "server/http_reply.hpp"

namespace duet::server {

HttpSink::HttpSink(std::shared_ptr<HttpSession> session, unsigned version, bool keep_alive,
                   std::string allow_origin)
    : session_(session),
      executor_(session->executor()),
      version_(version),
      keep_alive_(keep_alive),
      allow_origin_(std::move(allow_origin)),
      gone_(session->gone()) {}

HttpSink::~HttpSink() {
  if (!answered_.load()) {
    send(error_response(http::status::internal_server_error, "the request was dropped unanswered"));
  } else if (!finished_.load()) {
    end_stream();
  }
}

void HttpSink::decorate(http::response_header<>& header) const {
  header.version(version_);
  header.set(http::field::connection, keep_alive_ ? "keep-alive" : "close");
  if (!allow_origin_.empty()) {
    header.set(http::field::access_control_allow_origin, allow_origin_);
    header.set(http::field::vary, "Origin");
  }
}

void HttpSink::post(std::string bytes, bool last) {
  auto data = std::make_shared<const std::string>(std::move(bytes));
  boost::asio::post(executor_, [session = session_, data, last] { session->queue_write(data, last); });
}

void HttpSink::send(Response response) {
  if (answered_.exchange(true)) return;
  finished_ = true;
  decorate(response.base());
  response.prepare_payload();
  std::ostringstream os;
  os << response;
  post(os.str(), true);
}

void HttpSink::start_stream(http::status status, const std::string& content_type) {
  if (answered_.exchange(true)) return;
  http::response<http::empty_body> res{status, version_};
  res.set(http::field::server, "duet");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-cache");
  decorate(res.base());
  res.chunked(true);
  std::ostringstream os;
  os << res.base();
  post(os.str(), false);
}

bool HttpSink::write_chunk(std::string data) {
  if (gone_.cancelled()) return false;
  if (data.empty() || finished_.load()) return true;
  post(fmt::format("{:x}\r\n", data.size()) + data + "\r\n", false);
  return true;
}

void HttpSink::end_stream() {
  if (finished_.exchange(true)) return;
  post("0\r\n\r\n", true);
}

}  // namespace duet::server
