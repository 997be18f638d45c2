// GET /v1/models and /v1/models/{id}: the models this server answers to, in OpenAI's list shape.
// Aliases (whisper-1, tts-1, gpt-4o-realtime-preview) are listed so that stock clients find them.
// Must never touch a model file (the list comes from the loaded engine).
#include <fmt/format.h>

#include "server/http_reply.hpp"
#include "server/rest_handlers.hpp"
#include "server/router.hpp"

namespace duet::server {

void handle_models(const std::shared_ptr<ServerContext>& ctx, const Request& req, SinkPtr sink) {
  std::vector<std::string> ids = {ctx->engine->llm_name(), "whisper-tiny.en", "whisper-1",
                                  "duet-tts",              "tts-1",           "duet-realtime",
                                  "gpt-4o-realtime-preview"};
  auto model = [](const std::string& id) {
    return nlohmann::json{{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "duet"}};
  };
  const std::string path = target_path(req.target());
  if (path.size() > std::string_view("/v1/models/").size()) {
    const std::string id = path.substr(std::string_view("/v1/models/").size());
    for (const auto& m : ids) {
      if (m == id) return sink->send(json_response(model(m)));
    }
    return sink->send(error_response(http::status::not_found,
                                     fmt::format("The model '{}' does not exist", id), "model",
                                     "model_not_found"));
  }
  nlohmann::json data = nlohmann::json::array();
  for (const auto& id : ids) data.push_back(model(id));
  sink->send(json_response({{"object", "list"}, {"data", data}}));
}

}  // namespace duet::server
