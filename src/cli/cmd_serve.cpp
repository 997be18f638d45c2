// `duet serve [--host 127.0.0.1] [--port 8080] [--api-key K] [--llm ...] [--voice ...]`: loads the
// engine's models once and runs the HTTP/WebSocket server (OpenAI-style REST endpoints and the
// Realtime protocol at /v1/realtime). Prints one line once it listens.
// Must never hold server logic: everything beyond argument handling lives in src/server.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "dialog/engine.hpp"
#include "server/auth.hpp"
#include "server/heap_policy.hpp"
#include "server/server.hpp"

namespace duet::cli {
namespace {

struct ServeRequest {
  server::ServerOptions server;
  dialog::EngineOptions engine;
  std::string web_root;
};

std::string default_web_root() {
  const std::filesystem::path source_web = std::filesystem::path(DUET_SOURCE_DIR) / "web";
  std::error_code ec;
  return std::filesystem::is_directory(source_web, ec) ? source_web.string() : std::string();
}

void run_serve(ServeRequest req) {
  if (req.server.api_key.empty()) {
    if (const char* env = std::getenv("DUET_API_KEY")) req.server.api_key = env;
  }
  req.server.web_root = req.web_root.empty() ? default_web_root() : req.web_root;
  server::check_bind_policy(req.server.host, req.server.api_key);
  server::apply_server_heap_policy();
  const auto engine = dialog::Engine::load(req.engine);
  server::run_server(req.server, engine, [&](unsigned short port) {
    const std::string host = req.server.host.find(':') != std::string::npos
                                 ? "[" + req.server.host + "]"
                                 : req.server.host;
    fmt::print("duet serve: listening on http://{}:{} (Realtime: ws://{}:{}/v1/realtime, LLM {})\n",
               host, port, host, port, engine->llm_name());
    std::fflush(stdout);
  });
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto req = std::make_shared<ServeRequest>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the voice server: OpenAI-style REST endpoints and the Realtime protocol.");
  auto& s = req->server;
  cmd->add_option("--host", s.host, "Address to bind (anything but loopback needs an API key)")
      ->capture_default_str();
  cmd->add_option("--port", s.port, "TCP port (0: any free port)")->capture_default_str();
  cmd->add_option("--api-key", s.api_key,
                  "API key clients must send (Authorization: Bearer, or the WebSocket subprotocol "
                  "openai-insecure-api-key.KEY); default: $DUET_API_KEY");
  cmd->add_option("--allow-origin", s.allowed_origins,
                  "Browser Origin allowed besides this server's own (repeatable; * for any)");
  cmd->add_option("--web", req->web_root, "Folder served at / (default: the source tree's web/)");
  cmd->add_option("--max-sessions", s.limits.max_sessions, "Concurrent Realtime sessions")
      ->capture_default_str();
  cmd->add_option("--workers", s.limits.worker_threads, "Concurrent REST model jobs")
      ->capture_default_str();
  cmd->add_option("--io-threads", s.io_threads, "Network threads")->capture_default_str();
  cmd->add_option("--rate", s.limits.requests_per_second,
                  "Requests per second per client address (0: unlimited)")
      ->capture_default_str();
  cmd->add_option("--burst", s.limits.request_burst, "Request burst per client address")
      ->capture_default_str();
  cmd->add_option("--max-message", s.limits.max_ws_message_bytes,
                  "Largest WebSocket message in bytes")
      ->capture_default_str();
  auto& e = req->engine;
  cmd->add_option("--llm", e.llm, "LLM: a .gguf path (default: the store's SmolLM2)");
  cmd->add_option("--llm-url", e.remote_url,
                  "Use a remote OpenAI-compatible server (base URL ending in /v1) as the LLM");
  cmd->add_option("--llm-model", e.remote_model, "Model name to ask the remote server for");
  cmd->add_option("--llm-key", e.remote_key, "API key for the remote LLM server");
  cmd->add_option("--asr", e.asr, "Whisper .gguf (default: the store's whisper-tiny.en)");
  cmd->add_option("--voice", e.voice, "Voice: piper, piper:<file>, espeak[:voice]");
  cmd->add_option("--vad", e.vad, "VAD: auto, silero, webrtc, energy");
  cmd->add_option("-t,--threads", e.threads, "Compute threads (0: all cores)");
  cmd->callback([req] { run_serve(*req); });
}

}  // namespace duet::cli
