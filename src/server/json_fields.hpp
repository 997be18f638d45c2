// Strict, path-aware reading of JSON fields for the Realtime protocol and the REST bodies: each
// getter checks the type and throws a ProtocolError whose message names the field's full path
// ("Invalid type for 'session.turn_detection.threshold': expected a number, but got a string.")
// and whose `param` is that path. Unknown fields are simply never asked for (ignored).
// Must never coerce one type into another (a "5" is not 5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace duet::server {

using nlohmann::json;

// An error the client caused: becomes an `error` event or a 400 answer.
class ProtocolError : public Error {
 public:
  ProtocolError(std::string message, std::string param = "",
                std::string code = "invalid_request_error")
      : Error(std::move(message)), param_(std::move(param)), code_(std::move(code)) {}
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }

 private:
  std::string param_;
  std::string code_;
};

// "a string", "an integer", "a number", "a boolean", "an object", "an array", "null".
std::string json_type_phrase(const json& value);

// Joins a parent path and a key: ("session", "voice") -> "session.voice"; ("", "audio") -> "audio".
std::string field_path(std::string_view parent, std::string_view key);

// Reader over one JSON object at `path` ("" for the event itself).
class Fields {
 public:
  // Throws when `value` is not an object.
  Fields(const json& value, std::string path);
  const json& raw() const { return obj_; }
  const std::string& path() const { return path_; }
  bool has(std::string_view key) const;
  // True when the key is present with JSON null.
  bool is_null(std::string_view key) const;

  std::optional<std::string> string(std::string_view key) const;
  std::string required_string(std::string_view key) const;
  std::optional<double> number(std::string_view key, double min, double max) const;
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max) const;
  std::optional<bool> boolean(std::string_view key) const;
  // A string that must be one of `allowed`.
  std::optional<std::string> choice(std::string_view key,
                                    const std::vector<std::string>& allowed) const;
  // A nested object reader (nullopt when absent or null).
  std::optional<Fields> object(std::string_view key) const;
  // An array of strings.
  std::optional<std::vector<std::string>> strings(std::string_view key) const;
  // Throws the "Invalid type" error for `key`, expected `expected`.
  [[noreturn]] void wrong_type(std::string_view key, std::string_view expected) const;

 private:
  const json* get(std::string_view key) const;  // null when absent
  const json& obj_;
  std::string path_;
};

}  // namespace duet::server
