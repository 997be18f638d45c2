// Strict JSON field getters with precise messages (see json_fields.hpp).
// Must never throw anything but ProtocolError for a client's mistake.
#include "server/json_fields.hpp"

#include <cmath>

#include <fmt/format.h>

namespace duet::server {

std::string json_type_phrase(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a decimal";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

std::string field_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

Fields::Fields(const json& value, std::string path) : obj_(value), path_(std::move(path)) {
  if (!value.is_object()) {
    if (path_.empty()) {
      throw ProtocolError(fmt::format("Invalid event: expected a JSON object, but got {}.",
                                      json_type_phrase(value)));
    }
    throw ProtocolError(fmt::format("Invalid type for '{}': expected an object, but got {} instead.",
                                    path_, json_type_phrase(value)),
                        path_);
  }
}

const json* Fields::get(std::string_view key) const {
  const auto it = obj_.find(key);
  return it == obj_.end() ? nullptr : &*it;
}

bool Fields::has(std::string_view key) const { return get(key) != nullptr; }

bool Fields::is_null(std::string_view key) const {
  const json* v = get(key);
  return v != nullptr && v->is_null();
}

void Fields::wrong_type(std::string_view key, std::string_view expected) const {
  const json* v = get(key);
  const std::string path = field_path(path_, key);
  throw ProtocolError(fmt::format("Invalid type for '{}': expected {}, but got {} instead.", path,
                                  expected, v ? json_type_phrase(*v) : "nothing"),
                      path);
}

std::optional<std::string> Fields::string(std::string_view key) const {
  const json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) wrong_type(key, "a string");
  return v->get<std::string>();
}

std::string Fields::required_string(std::string_view key) const {
  auto v = string(key);
  if (!v) {
    const std::string path = field_path(path_, key);
    throw ProtocolError(fmt::format("Missing required parameter: '{}'.", path), path,
                        "missing_required_parameter");
  }
  return *v;
}

std::optional<double> Fields::number(std::string_view key, double min, double max) const {
  const json* v = get(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number()) wrong_type(key, "a number");
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    const std::string path = field_path(path_, key);
    throw ProtocolError(fmt::format("Invalid value for '{}': {} is outside [{}, {}].", path,
                                    v->dump(), min, max),
                        path, "invalid_value");
  }
  return d;
}

std::optional<int64_t> Fields::integer(std::string_view key, int64_t min, int64_t max) const {
  const json* v = get(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number_integer() && !v->is_number_unsigned()) wrong_type(key, "an integer");
  const std::string path = field_path(path_, key);
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    throw ProtocolError(fmt::format("Invalid value for '{}': {} is too large.", path, v->dump()),
                        path, "invalid_value");
  }
  const int64_t i = v->get<int64_t>();
  if (i < min || i > max) {
    throw ProtocolError(fmt::format("Invalid value for '{}': {} is outside [{}, {}].", path, i, min,
                                    max),
                        path, "invalid_value");
  }
  return i;
}

std::optional<bool> Fields::boolean(std::string_view key) const {
  const json* v = get(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_boolean()) wrong_type(key, "a boolean");
  return v->get<bool>();
}

std::optional<std::string> Fields::choice(std::string_view key,
                                          const std::vector<std::string>& allowed) const {
  auto v = string(key);
  if (!v) return std::nullopt;
  for (const auto& a : allowed) {
    if (*v == a) return v;
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "'" : ", '") + a + "'";
  const std::string path = field_path(path_, key);
  throw ProtocolError(fmt::format("Invalid value: '{}'. Supported values are: {}.", *v, list), path,
                      "invalid_value");
}

std::optional<Fields> Fields::object(std::string_view key) const {
  const json* v = get(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_object()) wrong_type(key, "an object");
  return Fields(*v, field_path(path_, key));
}

std::optional<std::vector<std::string>> Fields::strings(std::string_view key) const {
  const json* v = get(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_array()) wrong_type(key, "an array of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string()) {
      const std::string path = fmt::format("{}[{}]", field_path(path_, key), i);
      throw ProtocolError(fmt::format("Invalid type for '{}': expected a string, but got {} instead.",
                                      path, json_type_phrase(e)),
                          path);
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace duet::server
