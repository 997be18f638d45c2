// The front door of every HTTP request: rate limit, Host (DNS rebinding) and Origin checks, the
// API key, then dispatch to the REST endpoints and the static page. WebSocket upgrades go through
// the same checks (check_access) before the Realtime connection takes over.
// Must never run model work itself: endpoints hand that to the worker pool.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "server/http_types.hpp"
#include "server/server_context.hpp"

namespace duet::server {

// A refusal to send instead of handling the request, or nullopt when it may proceed.
std::optional<Response> check_access(ServerContext& ctx, const Request& req,
                                     const std::string& client_address);

// Answers `req` through `sink` (possibly later, from a worker).
void route_request(const std::shared_ptr<ServerContext>& ctx, const Request& req, SinkPtr sink);

// The path of a target without its query.
std::string target_path(std::string_view target);

}  // namespace duet::server
