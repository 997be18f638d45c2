// Building the common responses: JSON bodies, OpenAI-shaped errors
// ({"error": {"message", "type", "param", "code"}}) and plain bodies of a given type.
// Must never put anything in an error message that the client did not send or need.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/http_types.hpp"

namespace duet::server {

Response make_response(http::status status, std::string body, std::string_view content_type);
Response json_response(const nlohmann::json& body, http::status status = http::status::ok);
// type: "invalid_request_error" for 4xx, "server_error" for 5xx unless given.
Response error_response(http::status status, std::string_view message,
                        std::string_view param = "", std::string_view code = "");

}  // namespace duet::server
