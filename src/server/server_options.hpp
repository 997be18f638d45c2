// What `duet serve` is told: where to listen, the API key, the static web folder and the limits
// that keep one client from starving the others. Plain data, filled by the CLI.
// Must never hold anything but settings (no sockets, no models).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace duet::server {

struct ServerLimits {
  size_t max_ws_message_bytes = 21u << 20;   // one WebSocket message (15 MiB of audio, base64)
  size_t max_buffered_audio_ms = 120'000;    // audio held for one uncommitted user turn
  size_t max_request_body_bytes = 26u << 20; // REST bodies (uploads up to 25 MiB as OpenAI's)
  size_t max_sessions = 16;                  // concurrent Realtime connections
  size_t max_pending_jobs = 8;               // REST model jobs queued beyond those running
  int worker_threads = 2;                    // concurrent REST model jobs
  double requests_per_second = 20.0;         // per client address (token bucket refill)
  double request_burst = 40.0;               // per client address (bucket size)
  size_t max_ws_send_queue_bytes = 64u << 20;  // a client this far behind is disconnected
  int idle_timeout_s = 300;                  // an HTTP connection with nothing to do
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  std::string api_key;  // "" = none (only allowed on loopback)
  std::string web_root;  // folder of the browser page; "" = no static files
  std::vector<std::string> allowed_origins;  // besides same-host origins; "*" = any
  int io_threads = 2;
  ServerLimits limits;
};

}  // namespace duet::server
