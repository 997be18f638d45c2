// One HTTP connection (see http_session.hpp). Must never throw out of a completion handler.
#include "server/http_session.hpp"

#include <chrono>
#include <sstream>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>

#include "server/auth.hpp"
#include "server/http_reply.hpp"
#include "server/http_sink.hpp"
#include "server/router.hpp"
#include "server/ws_session.hpp"

namespace duet::server {

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;

namespace {
constexpr auto kWriteTimeout = std::chrono::seconds(60);
constexpr size_t kHeaderLimit = 16 * 1024;
}  // namespace

HttpSession::HttpSession(net::ip::tcp::socket socket, std::shared_ptr<ServerContext> ctx)
    : stream_(std::move(socket)), ctx_(std::move(ctx)) {
  beast::error_code ec;
  const auto endpoint = stream_.socket().remote_endpoint(ec);
  client_ = ec ? "unknown" : endpoint.address().to_string();
}

void HttpSession::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->body_limit(ctx_->options.limits.max_request_body_bytes);
  parser_->header_limit(kHeaderLimit);
  stream_.expires_after(std::chrono::seconds(ctx_->options.limits.idle_timeout_s));
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, size_t) {
  if (ec == http::error::end_of_stream) return do_close();
  if (ec == http::error::body_limit) {
    return send_now(error_response(http::status::payload_too_large,
                                   fmt::format("the request body is larger than the limit of {} bytes",
                                               ctx_->options.limits.max_request_body_bytes),
                                   "", "request_too_large"),
                    true);
  }
  if (ec == http::error::header_limit) {
    return send_now(error_response(http::status::request_header_fields_too_large,
                                   "the request headers are too large"),
                    true);
  }
  if (ec) {
    gone_.cancel();
    if (ec != beast::error::timeout && ec != net::error::operation_aborted &&
        ec != net::error::connection_reset && ec != net::error::eof) {
      // A malformed request: answer 400 where the socket still works.
      return send_now(error_response(http::status::bad_request,
                                     fmt::format("malformed HTTP request: {}", ec.message())),
                      true);
    }
    return do_close();
  }
  stream_.expires_never();
  handle(parser_->release());
}

void HttpSession::handle(Request req) {
  if (auto refusal = check_access(*ctx_, req, client_)) {
    keep_alive_ = false;
    return send_now(std::move(*refusal), true);
  }
  if (websocket::is_upgrade(req)) return upgrade(std::move(req));
  keep_alive_ = req.keep_alive();
  std::string allow_origin;
  if (!req[http::field::origin].empty()) allow_origin = std::string(req[http::field::origin]);
  auto sink = std::make_shared<HttpSink>(shared_from_this(), req.version(), keep_alive_,
                                         std::move(allow_origin));
  try {
    route_request(ctx_, req, sink);
  } catch (const std::exception& e) {
    sink->send(error_response(http::status::internal_server_error, e.what()));
  }
}

void HttpSession::upgrade(Request req) {
  if (target_path(req.target()) != "/v1/realtime") {
    return send_now(error_response(http::status::not_found,
                                   "WebSocket connections are served at /v1/realtime only"),
                    true);
  }
  auto slot = std::make_unique<SessionSlot>(ctx_);
  if (!slot->ok()) {
    return send_now(error_response(http::status::service_unavailable,
                                   fmt::format("the server already holds its limit of {} sessions; "
                                               "try again later",
                                               ctx_->options.limits.max_sessions),
                                   "", "session_limit_reached"),
                    true);
  }
  auto ws = std::make_shared<WsSession>(std::move(stream_), ctx_, std::move(slot), client_);
  ws->start(std::move(req));
}

void HttpSession::send_now(Response res, bool close) {
  if (close) keep_alive_ = false;
  res.version(11);
  res.keep_alive(!close && keep_alive_);
  res.prepare_payload();
  std::ostringstream os;
  os << res;
  queue_write(std::make_shared<const std::string>(os.str()), true);
}

void HttpSession::queue_write(std::shared_ptr<const std::string> bytes, bool last) {
  if (closed_) return;
  out_.emplace_back(std::move(bytes), last);
  if (!writing_) write_next();
}

void HttpSession::write_next() {
  if (out_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  stream_.expires_after(kWriteTimeout);
  net::async_write(stream_, net::buffer(*out_.front().first),
                   beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
}

void HttpSession::on_write(beast::error_code ec, size_t) {
  if (ec) {
    gone_.cancel();
    out_.clear();
    writing_ = false;
    return do_close();
  }
  const bool last = out_.front().second;
  out_.pop_front();
  if (last) {
    writing_ = false;
    if (!keep_alive_) return do_close();
    gone_ = CancelToken();  // a fresh token for the next request
    out_.clear();
    return do_read();
  }
  write_next();
}

void HttpSession::do_close() {
  if (closed_) return;
  closed_ = true;
  gone_.cancel();
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.close();
}

}  // namespace duet::server
