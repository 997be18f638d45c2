// Common response builders (see http_reply.hpp). Must never throw on any message text.
#include "server/http_reply.hpp"

namespace duet::server {

Response make_response(http::status status, std::string body, std::string_view content_type) {
  Response res{status, 11};
  res.set(http::field::server, "duet");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  return res;
}

Response json_response(const nlohmann::json& body, http::status status) {
  return make_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json");
}

Response error_response(http::status status, std::string_view message, std::string_view param,
                        std::string_view code) {
  const bool server_side = static_cast<unsigned>(status) >= 500;
  nlohmann::json err = {{"message", message},
                        {"type", server_side ? "server_error" : "invalid_request_error"},
                        {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
                        {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}};
  return json_response({{"error", err}}, status);
}

}  // namespace duet::server
