// The `duet serve` server: listens on host:port, runs the I/O thread pool, accepts connections
// into HttpSessions, and stops cleanly on SIGINT/SIGTERM.
// Must never start listening on a non-loopback address without an API key (check_bind_policy).
#pragma once

#include <functional>
#include <memory>

#include "dialog/engine.hpp"
#include "server/server_options.hpp"

namespace duet::server {

// Runs until SIGINT or SIGTERM. `on_listening` is called once the socket is bound (with the
// actual port, useful when options.port is 0). Throws duet::Error when it cannot listen.
void run_server(const ServerOptions& options, std::shared_ptr<dialog::Engine> engine,
                const std::function<void(unsigned short port)>& on_listening);

}  // namespace duet::server
