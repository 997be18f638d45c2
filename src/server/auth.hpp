// Who may talk to the server: the API key (Authorization: Bearer, or for browsers the WebSocket
// subprotocol "openai-insecure-api-key.<key>"), the rule that a non-loopback bind needs a key,
// and the Origin check for browser requests.
// Must never log or echo a key, and never compare keys in time that depends on where they differ.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::server {

// True when `host` names only this machine (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(std::string_view host);

// Throws duet::Error when binding to `host` without a key would expose the server.
void check_bind_policy(std::string_view host, std::string_view api_key);

// Compares in time independent of where the strings differ.
bool keys_equal(std::string_view a, std::string_view b);

// The key a request carries: "Bearer K" in Authorization, else the subprotocol form in
// Sec-WebSocket-Protocol (a comma-separated list). nullopt when none.
std::optional<std::string> presented_key(std::string_view authorization,
                                         std::string_view websocket_protocols);

// The subprotocol the server should echo back: "realtime" when offered, else the first offered
// one that carries no key; nullopt when none is offered (then no header is sent).
std::optional<std::string> chosen_subprotocol(std::string_view websocket_protocols);

// True when a browser Origin may use the server: no Origin (not a browser), an origin on the
// loopback, the Host the request was sent to, or one in `allowed` ("*" allows any).
bool origin_allowed(std::string_view origin, std::string_view host_header,
                    const std::vector<std::string>& allowed);

// DNS-rebinding guard: a server bound to the loopback answers only requests whose Host header
// names the loopback (a page on evil.example that resolves to 127.0.0.1 sends Host: evil.example).
bool host_header_allowed(std::string_view host_header, bool bound_to_loopback);

}  // namespace duet::server
