// Token buckets per client address (see rate_limiter.hpp). Must never block beyond its mutex.
#include "server/rate_limiter.hpp"

#include <algorithm>

namespace duet::server {

namespace {
constexpr size_t kMaxClients = 4096;
}

RateLimiter::RateLimiter(double per_second, double burst)
    : per_second_(per_second), burst_(std::max(1.0, burst)) {}

bool RateLimiter::allow(const std::string& client) {
  if (per_second_ <= 0.0) return true;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (buckets_.size() > kMaxClients) {
    // Forget buckets that have refilled completely: they hold no information.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      const double idle = std::chrono::duration<double>(now - it->second.last).count();
      it = it->second.tokens + idle * per_second_ >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(client);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = burst_;
  } else {
    const double idle = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + idle * per_second_);
  }
  b.last = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace duet::server
