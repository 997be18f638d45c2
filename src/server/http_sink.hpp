// The ResponseSink of an HttpSession: serialises whole responses and chunked streams into bytes
// and posts them onto the connection's strand, from whichever thread the handler runs on.
// Must never write to the socket itself, and never let a request go unanswered (its destructor
// answers 500 when nothing was sent).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "server/http_session.hpp"
#include "server/http_types.hpp"

namespace duet::server {

class HttpSink final : public ResponseSink {
 public:
  HttpSink(std::shared_ptr<HttpSession> session, unsigned version, bool keep_alive,
           std::string allow_origin);
  ~HttpSink() override;

  void send(Response response) override;
  void start_stream(http::status status, const std::string& content_type) override;
  bool write_chunk(std::string data) override;
  void end_stream() override;
  const CancelToken& client_gone() const override { return gone_; }

 private:
  void post(std::string bytes, bool last);
  void decorate(http::response_header<>& header) const;

  std::shared_ptr<HttpSession> session_;  // keeps the connection alive until the answer is out
  beast::tcp_stream::executor_type executor_;
  unsigned version_;
  bool keep_alive_;
  std::string allow_origin_;
  CancelToken gone_;
  std::atomic<bool> answered_{false};
  std::atomic<bool> finished_{false};
};

}  // namespace duet::server
