// Access checks and dispatch (see router.hpp). Must never answer a refused request's body.
#include "server/router.hpp"

#include <fmt/format.h>

#include "server/auth.hpp"
#include "server/http_reply.hpp"
#include "server/rest_handlers.hpp"

namespace duet::server {

std::string target_path(std::string_view target) {
  return std::string(target.substr(0, target.find('?')));
}

std::optional<Response> check_access(ServerContext& ctx, const Request& req,
                                     const std::string& client_address) {
  if (!ctx.limiter.allow(client_address)) {
    Response res = error_response(http::status::too_many_requests,
                                  "too many requests from this address; slow down",
                                  "", "rate_limit_exceeded");
    res.set(http::field::retry_after, "1");
    return res;
  }
  if (!host_header_allowed(req[http::field::host], ctx.bound_to_loopback)) {
    return error_response(http::status::forbidden,
                          "the Host header does not name this machine (possible DNS rebinding)",
                          "", "host_not_allowed");
  }
  if (!origin_allowed(req[http::field::origin], req[http::field::host],
                      ctx.options.allowed_origins)) {
    return error_response(http::status::forbidden,
                          "this Origin may not use the server; start it with --allow-origin",
                          "", "origin_not_allowed");
  }
  const std::string path = target_path(req.target());
  const bool protected_path = path.rfind("/v1/", 0) == 0;
  if (protected_path && !ctx.options.api_key.empty() && req.method() != http::verb::options) {
    const auto key = presented_key(req[http::field::authorization],
                                   req[http::field::sec_websocket_protocol]);
    if (!key || !keys_equal(*key, ctx.options.api_key)) {
      Response res = error_response(http::status::unauthorized,
                                    key ? "Incorrect API key provided."
                                        : "You didn't provide an API key. Send it as "
                                          "'Authorization: Bearer KEY'.",
                                    "", "invalid_api_key");
      res.set(http::field::www_authenticate, "Bearer");
      return res;
    }
  }
  return std::nullopt;
}

void route_request(const std::shared_ptr<ServerContext>& ctx, const Request& req, SinkPtr sink) {
  const std::string path = target_path(req.target());
  const http::verb method = req.method();
  if (method == http::verb::options) {
    Response res = make_response(http::status::no_content, "", "text/plain");
    res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    res.set(http::field::access_control_allow_headers, "Authorization, Content-Type, OpenAI-Beta");
    sink->send(std::move(res));
    return;
  }
  auto wrong_method = [&](const char* allowed) {
    Response res = error_response(http::status::method_not_allowed,
                                  fmt::format("{} only accepts {}", path, allowed));
    res.set(http::field::allow, allowed);
    sink->send(std::move(res));
  };
  if (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0) {
    if (method != http::verb::get) return wrong_method("GET");
    return handle_models(ctx, req, std::move(sink));
  }
  if (path == "/v1/audio/transcriptions") {
    if (method != http::verb::post) return wrong_method("POST");
    return handle_transcription(ctx, req, std::move(sink));
  }
  if (path == "/v1/audio/speech") {
    if (method != http::verb::post) return wrong_method("POST");
    return handle_speech(ctx, req, std::move(sink));
  }
  if (path == "/v1/chat/completions") {
    if (method != http::verb::post) return wrong_method("POST");
    return handle_chat(ctx, req, std::move(sink));
  }
  if (path == "/v1/realtime") {
    sink->send(error_response(http::status::upgrade_required,
                              "/v1/realtime is a WebSocket endpoint; connect with a WebSocket client"));
    return;
  }
  if (path == "/health" || path == "/healthz") {
    sink->send(json_response({{"status", "ok"}}));
    return;
  }
  if (path.rfind("/v1/", 0) != 0 && (method == http::verb::get || method == http::verb::head)) {
    if (auto file = ctx->static_files.find(req.target())) {
      Response res = make_response(http::status::ok, std::move(file->body), file->content_type);
      res.set("X-Content-Type-Options", "nosniff");
      sink->send(std::move(res));
      return;
    }
  }
  sink->send(error_response(http::status::not_found,
                            fmt::format("no route for {} {}", std::string(req.method_string()), path),
                            "", "not_found"));
}

}  // namespace duet::server
