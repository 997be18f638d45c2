// Duet's one error type: a message that says what went wrong and what to do, plus the context it
// happened in. Must never be thrown for control flow, and never lose the original cause's text.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace duet {

class Error : public std::runtime_error {
 public:
  explicit Error(std::string message) : std::runtime_error(std::move(message)) {}
};

// Throws duet::Error with a formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Runs fn; if it throws, rethrows duet::Error with `context: ` prefixed to the message.
template <typename Fn>
decltype(auto) with_context(std::string_view context, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    throw Error(std::string(context) + ": " + e.what());
  }
}

}  // namespace duet
