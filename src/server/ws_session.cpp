// WebSocket transport of a Realtime connection (see ws_session.hpp).
// Must never throw out of a completion handler.
#include "server/ws_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "server/auth.hpp"
#include "server/realtime_connection.hpp"
#include "server/static_files.hpp"

namespace duet::server {

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;

namespace {

// The value of query parameter `key` in a target ("" when absent).
std::string query_param(std::string_view target, std::string_view key) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key && eq != std::string_view::npos) {
      return url_decode_path(pair.substr(eq + 1)).value_or("");
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

WsSession::WsSession(beast::tcp_stream stream, std::shared_ptr<ServerContext> ctx,
                     std::unique_ptr<SessionSlot> slot, std::string client)
    : ws_(std::move(stream)),
      ctx_(std::move(ctx)),
      slot_(std::move(slot)),
      client_(std::move(client)),
      timer_(ws_.get_executor()) {}

WsSession::~WsSession() {
  if (conn_) conn_->shutdown();
}

void WsSession::start(Request req) {
  model_ = query_param(req.target(), "model");
  const std::string beta_header(req["OpenAI-Beta"]);
  beta_ = beta_header.find("realtime=v1") != std::string::npos ||
          query_param(req.target(), "dialect") == "beta";
  const auto subprotocol = chosen_subprotocol(req[http::field::sec_websocket_protocol]);
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
    res.set(http::field::server, "duet");
    if (subprotocol) res.set(http::field::sec_websocket_protocol, *subprotocol);
  }));
  ws_.read_message_max(ctx_->options.limits.max_ws_message_bytes);
  ws_.auto_fragment(false);
  ws_.async_accept(req, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
}

void WsSession::on_accept(beast::error_code ec) {
  if (ec) return finish();
  std::weak_ptr<WsSession> weak = shared_from_this();
  auto executor = ws_.get_executor();
  realtime::Transport transport;
  transport.send = [this](std::string text) { send(std::move(text)); };
  transport.close_policy = [this](std::string_view reason) {
    close_with(websocket::close_code::policy_error, std::string(reason));
  };
  transport.post_frame = [weak, executor](dialog::Frame frame) {
    net::post(executor, [weak, frame = std::move(frame)] {
      if (auto self = weak.lock()) {
        if (self->conn_ && !self->finished_) self->conn_->on_frame(frame);
      }
    });
  };
  transport.post = [weak, executor](std::function<void(realtime::RealtimeConnection&)> fn) {
    net::post(executor, [weak, fn = std::move(fn)] {
      if (auto self = weak.lock()) {
        if (self->conn_ && !self->finished_) fn(*self->conn_);
      }
    });
  };
  transport.schedule = [this, weak](int64_t ms, std::function<void()> fn) {
    timer_.cancel();
    if (ms < 0 || !fn) return;
    timer_.expires_after(std::chrono::milliseconds(ms));
    timer_.async_wait([weak, fn = std::move(fn)](beast::error_code wait_ec) {
      if (wait_ec) return;
      if (auto self = weak.lock()) {
        if (self->conn_ && !self->finished_) fn();
      }
    });
  };
  conn_ = std::make_unique<realtime::RealtimeConnection>(
      ctx_, beta_ ? realtime::Dialect::Beta : realtime::Dialect::Ga, model_,
      ctx_->next_connection.fetch_add(1), std::move(transport));
  if (!conn_->start()) {
    return close_with(websocket::close_code::try_again_later, "the session could not start");
  }
  do_read();
}

void WsSession::do_read() {
  if (closing_) return;
  ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
}

void WsSession::on_read(beast::error_code ec, size_t) {
  if (ec) {
    // closed by the peer, a protocol violation or an oversize message: Beast has already sent
    // the close frame with its reason (1009 for too big) where the socket allows.
    return finish();
  }
  if (ws_.got_text()) {
    const auto data = buffer_.data();
    const std::string_view text(static_cast<const char*>(data.data()), data.size());
    conn_->on_text(text);
  } else {
    conn_->on_binary();
  }
  buffer_.consume(buffer_.size());
  do_read();
}

void WsSession::send(std::string text) {
  if (closing_ || finished_) return;
  out_bytes_ += text.size();
  out_.push_back(std::move(text));
  if (out_bytes_ > ctx_->options.limits.max_ws_send_queue_bytes) {
    // The client does not read: a close frame would never get through, so drop the connection.
    return finish();
  }
  if (!writing_) write_next();
}

void WsSession::write_next() {
  if (finished_) {
    writing_ = false;
    return;
  }
  if (out_.empty()) {
    writing_ = false;
    if (closing_) start_close();
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(out_.front()),
                  beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
}

void WsSession::on_write(beast::error_code ec, size_t) {
  if (ec) {
    writing_ = false;
    return finish();
  }
  out_bytes_ -= out_.front().size();
  out_.pop_front();
  write_next();
}

void WsSession::close_with(websocket::close_code code, std::string reason) {
  if (closing_ || finished_) return;
  closing_ = true;
  if (reason.size() > 120) reason.resize(120);
  close_reason_ = websocket::close_reason(code, reason);
  // Queued events (e.g. the error that explains the close) go out first: write_next() closes
  // once the queue is empty.
  if (!writing_) write_next();
}

void WsSession::start_close() {
  auto self = shared_from_this();
  ws_.async_close(close_reason_, [self](beast::error_code) { self->finish(); });
}

void WsSession::finish() {
  if (finished_) return;
  finished_ = true;
  if (conn_) conn_->shutdown();
  timer_.cancel();
  if (!writing_) {  // an in-flight write still reads out_.front()
    out_.clear();
    out_bytes_ = 0;
  }
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(ws_).close();
  slot_.reset();
}

}  // namespace duet::server
