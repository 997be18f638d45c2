// One HTTP connection: reads requests (with size and time limits), passes each through the
// router, writes the answer the handler gives through its ResponseSink (whole or chunked, from
// any thread, serialised on the connection's strand), keeps the connection alive between
// requests, and hands WebSocket upgrades of /v1/realtime to a WsSession.
// Must never read the next request before the current answer is fully written, and never touch
// the socket off its strand.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "server/http_types.hpp"
#include "server/server_context.hpp"

namespace duet::server {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerContext> ctx);
  void run();

  // Called on the strand by the sink: queue bytes; `last` ends the current response.
  void queue_write(std::shared_ptr<const std::string> bytes, bool last);
  const CancelToken& gone() const { return gone_; }
  beast::tcp_stream::executor_type executor() { return stream_.get_executor(); }

 private:
  void do_read();
  void on_read(beast::error_code ec, size_t bytes);
  void handle(Request req);
  void upgrade(Request req);
  void send_now(Response res, bool close);
  void write_next();
  void on_write(beast::error_code ec, size_t bytes);
  void do_close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ServerContext> ctx_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string client_;
  std::deque<std::pair<std::shared_ptr<const std::string>, bool>> out_;
  bool writing_ = false;
  bool keep_alive_ = false;
  bool closed_ = false;
  CancelToken gone_;
};

}  // namespace duet::server
