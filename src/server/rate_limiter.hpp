// Request-rate limiting per client address: a token bucket each, refilled at a steady rate.
// Thread-safe (one mutex; the I/O threads call it once per request or connection).
// Must never grow without bound: idle buckets are forgotten once the table is large.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace duet::server {

class RateLimiter {
 public:
  RateLimiter(double per_second, double burst);
  // Takes one token for `client`; false when its bucket is empty.
  bool allow(const std::string& client);

 private:
  struct Bucket {
    double tokens = 0.0;
    std::chrono::steady_clock::time_point last;
  };
  double per_second_;
  double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace duet::server
