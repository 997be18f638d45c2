// What the REST endpoints share: running a job on the worker pool with its errors turned into
// OpenAI-shaped answers. Must never let an exception escape to the I/O thread or the worker.
#include <fmt/format.h>

#include "core/cancel.hpp"
#include "server/http_reply.hpp"
#include "server/json_fields.hpp"
#include "server/rest_handlers.hpp"

namespace duet::server {

void run_on_worker(const std::shared_ptr<ServerContext>& ctx, SinkPtr sink,
                   std::function<void()> job) {
  auto task = [sink, job = std::move(job)] {
    try {
      job();
    } catch (const ProtocolError& e) {
      sink->send(error_response(http::status::bad_request, e.what(), e.param(), e.code()));
    } catch (const Error& e) {
      sink->send(error_response(http::status::bad_request, e.what()));
    } catch (const Cancelled&) {
      sink->send(error_response(http::status::service_unavailable, "the request was cancelled"));
    } catch (const std::exception& e) {
      sink->send(error_response(http::status::internal_server_error,
                                fmt::format("internal error: {}", e.what())));
    }
  };
  if (!ctx->workers.try_submit(std::move(task))) {
    Response res = error_response(http::status::service_unavailable,
                                  "the server is busy with other requests; try again shortly", "",
                                  "server_busy");
    res.set(http::field::retry_after, "2");
    sink->send(std::move(res));
  }
}

}  // namespace duet::server
