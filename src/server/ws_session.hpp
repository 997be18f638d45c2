// The WebSocket transport of one Realtime connection: accepts the upgrade (echoing the chosen
// subprotocol), reads text messages under a size limit, and writes the connection's events from
// a bounded queue; a client that falls too far behind is closed with a reason. The protocol itself
// lives in RealtimeConnection.
// Must never touch the stream off its strand, and never keep the session alive after the socket
// is gone.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>

#include "server/http_types.hpp"
#include "server/server_context.hpp"

namespace duet::server {

namespace realtime {
class RealtimeConnection;
}

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(beast::tcp_stream stream, std::shared_ptr<ServerContext> ctx,
            std::unique_ptr<SessionSlot> slot, std::string client);
  ~WsSession();
  void start(Request req);

 private:
  void on_accept(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, size_t bytes);
  void send(std::string text);  // on the strand
  void write_next();
  void on_write(beast::error_code ec, size_t bytes);
  void close_with(beast::websocket::close_code code, std::string reason);
  void start_close();
  void finish();

  beast::websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ServerContext> ctx_;
  std::unique_ptr<SessionSlot> slot_;
  std::string client_;
  std::string model_;
  bool beta_ = false;
  std::unique_ptr<realtime::RealtimeConnection> conn_;
  std::deque<std::string> out_;
  size_t out_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  beast::websocket::close_reason close_reason_;
  bool finished_ = false;
  boost::asio::steady_timer timer_;  // the connection's one scheduled callback (idle timeout)
};

}  // namespace duet::server
