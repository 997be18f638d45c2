// The OpenAI-style REST endpoints, one file each: GET /v1/models (rest_models.cpp),
// POST /v1/audio/transcriptions, POST /v1/audio/speech, POST /v1/chat/completions.
// Each validates its request on the I/O thread, then runs model work on ctx.workers.
// Must never block the calling (I/O) thread on a model.
#pragma once

#include <memory>

#include "server/http_types.hpp"
#include "server/server_context.hpp"

namespace duet::server {

void handle_models(const std::shared_ptr<ServerContext>& ctx, const Request& req, SinkPtr sink);
void handle_transcription(const std::shared_ptr<ServerContext>& ctx, const Request& req,
                          SinkPtr sink);
void handle_speech(const std::shared_ptr<ServerContext>& ctx, const Request& req, SinkPtr sink);
void handle_chat(const std::shared_ptr<ServerContext>& ctx, const Request& req, SinkPtr sink);

// Runs `job` on the worker pool, or answers 503 when the pool is full. A job that throws answers
// with the error (duet::Error: 400 unless `server_fault`, anything else: 500).
void run_on_worker(const std::shared_ptr<ServerContext>& ctx, SinkPtr sink,
                   std::function<void()> job);

}  // namespace duet::server
