// What every connection of one server shares: the options, the engine's models, the REST worker
// pool, the rate limiter, the static files and the count of open Realtime sessions. Owned by the
// Server and handed to connections by shared_ptr (there is no global state).
// Must never hold per-connection state.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "dialog/engine.hpp"
#include "server/rate_limiter.hpp"
#include "server/server_options.hpp"
#include "server/static_files.hpp"
#include "server/worker_pool.hpp"

namespace duet::server {

struct ServerContext {
  ServerContext(ServerOptions opts, std::shared_ptr<dialog::Engine> eng)
      : options(std::move(opts)),
        engine(std::move(eng)),
        workers(options.limits.worker_threads, options.limits.max_pending_jobs),
        cleanup(1, 1),
        limiter(options.limits.requests_per_second, options.limits.request_burst),
        static_files(options.web_root) {}

  ServerOptions options;
  std::shared_ptr<dialog::Engine> engine;
  WorkerPool workers;  // REST model jobs (bounded)
  WorkerPool cleanup;  // tearing down sessions (joins their threads) off the I/O threads
  RateLimiter limiter;
  StaticFiles static_files;
  std::atomic<size_t> open_sessions{0};
  std::atomic<uint64_t> next_connection{1};
  bool bound_to_loopback = true;
};

// Holds one of ServerContext::open_sessions while alive.
class SessionSlot {
 public:
  // Takes a slot; ok() is false when the limit was reached (nothing is held then).
  explicit SessionSlot(std::shared_ptr<ServerContext> ctx) : ctx_(std::move(ctx)) {
    const size_t before = ctx_->open_sessions.fetch_add(1);
    if (before >= ctx_->options.limits.max_sessions) {
      ctx_->open_sessions.fetch_sub(1);
      ctx_.reset();
    }
  }
  ~SessionSlot() {
    if (ctx_) ctx_->open_sessions.fetch_sub(1);
  }
  SessionSlot(const SessionSlot&) = delete;
  SessionSlot& operator=(const SessionSlot&) = delete;
  bool ok() const { return ctx_ != nullptr; }

 private:
  std::shared_ptr<ServerContext> ctx_;
};

}  // namespace duet::server
