// A small HTTP server on 127.0.0.1 for the remote LLM's tests: for each of its first N
// connections, one after the other, it reads one request, then runs the test's script, which writes the answer byte by byte as it likes (stalls, partial
// streams, errors) and can watch for the client closing. Must never be used outside tests, and
// never bind anything but the loopback address.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace duet::test {

class FakeConnection {
 public:
  explicit FakeConnection(int fd) : fd_(fd) {}
  // Writes all of `bytes`; false once the client has gone.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Waits up to timeout_ms for the client to close its end; returns how long it took, or -1.
  double wait_closed_ms(int timeout_ms) {
    const auto start = std::chrono::steady_clock::now();
    char buf[256];
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      const int left = timeout_ms - static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count());
      if (left <= 0) return -1;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
      }
    }
  }

 private:
  int fd_;
};

class FakeHttpServer {
 public:
  using Script = std::function<void(FakeConnection&, const std::string& request)>;

  explicit FakeHttpServer(Script script, int connections = 1) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 4) != 0) {
      throw std::runtime_error("bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, connections, script = std::move(script)] {
      for (int i = 0; i < connections; ++i) {
        if (!serve(script)) break;
      }
    });
  }
  ~FakeHttpServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  // The last request as received (valid once the script has run; join by destroying the server).
  const std::string& request() const { return request_; }

 private:
  bool serve(const Script& script) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return false;
    request_ = read_request(fd);
    FakeConnection conn(fd);
    script(conn, request_);
    ::close(fd);
    return true;
  }

  static std::string read_request(int fd) {
    std::string req;
    char buf[4096];
    size_t body_start = std::string::npos;
    size_t content_length = 0;
    for (;;) {
      if (body_start != std::string::npos && req.size() >= body_start + content_length) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
      if (body_start == std::string::npos) {
        const size_t end = req.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        body_start = end + 4;
        for (const char* key : {"Content-Length: ", "content-length: "}) {
          const size_t at = req.find(key);
          if (at != std::string::npos && at < end) {
            content_length = std::stoul(req.substr(at + std::string_view(key).size()));
          }
        }
      }
    }
    return req;
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

// An HTTP/1.1 answer head for a streamed event stream (the body ends when the server closes).
inline std::string sse_head() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
         "Connection: close\r\n\r\n";
}

inline std::string json_answer(int status, std::string_view reason, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + std::string(body);
}

inline std::string sse_piece(std::string_view text) {
  return "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
         "{\"content\":\"" + std::string(text) + "\"},\"finish_reason\":null}]}\n\n";
}

}  // namespace duet::test
