// API key, bind policy and Origin checks (see auth.hpp). Must never echo a key in an error.
#include "server/auth.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"

namespace duet::server {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> parts;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    parts.push_back(trim(s.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return parts;
}

constexpr std::string_view kKeyProtocol = "openai-insecure-api-key.";

// "http://host:port" -> "host" (brackets kept off IPv6 literals).
std::string_view origin_host(std::string_view origin) {
  const size_t scheme = origin.find("://");
  if (scheme != std::string_view::npos) origin.remove_prefix(scheme + 3);
  if (!origin.empty() && origin.front() == '[') {
    const size_t close = origin.find(']');
    return close == std::string_view::npos ? origin : origin.substr(1, close - 1);
  }
  return origin.substr(0, origin.find_first_of(":/"));
}

std::string_view host_only(std::string_view host_header) {
  if (!host_header.empty() && host_header.front() == '[') {
    const size_t close = host_header.find(']');
    return close == std::string_view::npos ? host_header : host_header.substr(1, close - 1);
  }
  return host_header.substr(0, host_header.find(':'));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  const std::string h = lower(host);
  return h == "localhost" || h == "::1" || h == "[::1]" || h.rfind("127.", 0) == 0;
}

void check_bind_policy(std::string_view host, std::string_view api_key) {
  if (!is_loopback_host(host) && api_key.empty()) {
    fail("binding to {} exposes the server beyond this machine; give an API key with --api-key "
         "or DUET_API_KEY, or bind to 127.0.0.1",
         host);
  }
}

bool keys_equal(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

std::optional<std::string> presented_key(std::string_view authorization,
                                         std::string_view websocket_protocols) {
  const std::string_view auth = trim(authorization);
  if (auth.size() > 7 && lower(auth.substr(0, 7)) == "bearer ") {
    return std::string(trim(auth.substr(7)));
  }
  for (std::string_view p : split_commas(websocket_protocols)) {
    if (p.substr(0, kKeyProtocol.size()) == kKeyProtocol) {
      return std::string(p.substr(kKeyProtocol.size()));
    }
  }
  return std::nullopt;
}

std::optional<std::string> chosen_subprotocol(std::string_view websocket_protocols) {
  std::optional<std::string> first;
  for (std::string_view p : split_commas(websocket_protocols)) {
    if (p.empty() || p.substr(0, kKeyProtocol.size()) == kKeyProtocol) continue;
    if (p == "realtime") return std::string(p);
    if (!first) first = std::string(p);
  }
  return first;
}

bool origin_allowed(std::string_view origin, std::string_view host_header,
                    const std::vector<std::string>& allowed) {
  if (origin.empty()) return true;
  for (const auto& a : allowed) {
    if (a == "*" || lower(a) == lower(origin)) return true;
  }
  const std::string oh = lower(origin_host(origin));
  if (is_loopback_host(oh)) return true;
  return !oh.empty() && oh == lower(host_only(host_header));
}

bool host_header_allowed(std::string_view host_header, bool bound_to_loopback) {
  if (!bound_to_loopback) return true;
  return is_loopback_host(host_only(host_header));
}

}  // namespace duet::server
