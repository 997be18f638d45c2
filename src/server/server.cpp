// Listener and I/O threads of `duet serve` (see server.hpp).
// Must never run model work on the I/O threads (handlers pass it to the worker pools).
#include "server/server.hpp"

#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>

#include "core/error.hpp"
#include "server/auth.hpp"
#include "server/http_session.hpp"
#include "server/server_context.hpp"

namespace duet::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, tcp::acceptor acceptor, std::shared_ptr<ServerContext> ctx)
      : ioc_(ioc), acceptor_(std::move(acceptor)), ctx_(std::move(ctx)) {}

  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                             self->on_accept(ec, std::move(socket));
                           });
  }

  void stop() {
    beast::error_code ec;
    acceptor_.close(ec);
  }

 private:
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      beast::error_code opt_ec;
      socket.set_option(tcp::no_delay(true), opt_ec);
      std::make_shared<HttpSession>(std::move(socket), ctx_)->run();
    }
    accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<ServerContext> ctx_;
};

}  // namespace

void run_server(const ServerOptions& options, std::shared_ptr<dialog::Engine> engine,
                const std::function<void(unsigned short port)>& on_listening) {
  check_bind_policy(options.host, options.api_key);
  auto ctx = std::make_shared<ServerContext>(options, std::move(engine));
  ctx->bound_to_loopback = is_loopback_host(options.host);

  net::io_context ioc(options.io_threads);
  beast::error_code ec;
  std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  const auto address = net::ip::make_address(host, ec);
  if (ec) fail("cannot listen on '{}': not an IP address ({})", options.host, ec.message());
  tcp::acceptor acceptor(ioc);
  const tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    fail("cannot listen on {}:{}: {} (is another server using the port? try --port)", options.host,
         options.port, ec.message());
  }
  const unsigned short port = acceptor.local_endpoint().port();
  auto listener = std::make_shared<Listener>(ioc, std::move(acceptor), ctx);
  listener->accept();

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&ioc, listener](beast::error_code, int) {
    listener->stop();
    ioc.stop();
  });
  if (on_listening) on_listening(port);

  const int n = std::max(1, options.io_threads);
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
}

}  // namespace duet::server
