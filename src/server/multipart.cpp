// multipart/form-data parsing (see multipart.hpp). Must never loop without consuming input.
#include "server/multipart.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"

namespace duet::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The value of parameter `key` in a header value such as `form-data; name="file"; filename=x`.
std::optional<std::string> header_param(std::string_view value, std::string_view key) {
  size_t pos = 0;
  while (pos < value.size()) {
    size_t semi = value.find(';', pos);
    // A quoted value may hold ';': skip to the closing quote first.
    const size_t quote = value.find('"', pos);
    if (quote != std::string_view::npos && quote < semi) {
      const size_t close = value.find('"', quote + 1);
      semi = close == std::string_view::npos ? std::string_view::npos : value.find(';', close);
    }
    const std::string_view item = trim(value.substr(pos, semi == std::string_view::npos
                                                             ? std::string_view::npos
                                                             : semi - pos));
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos && lower(trim(item.substr(0, eq))) == key) {
      std::string_view v = trim(item.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
    if (semi == std::string_view::npos) break;
    pos = semi + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  if (lower(trim(content_type.substr(0, semi))) != "multipart/form-data") return std::nullopt;
  if (semi == std::string_view::npos) return std::nullopt;
  auto b = header_param(content_type.substr(semi + 1), "boundary");
  if (!b || b->empty() || b->size() > 200) return std::nullopt;
  return b;
}

std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  std::vector<FormPart> parts;
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) fail("multipart body has no boundary '{}'", boundary);
  pos += delimiter.size();
  while (true) {
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    // Skip transport padding and the CRLF after the delimiter.
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") fail("multipart body: delimiter not followed by CRLF");
    pos += 2;
    const size_t header_end = body.find("\r\n\r\n", pos);
    if (header_end == std::string_view::npos) fail("multipart part {} has no end of headers", parts.size());
    FormPart part;
    std::string_view headers = body.substr(pos, header_end - pos);
    while (!headers.empty()) {
      const size_t eol = headers.find("\r\n");
      const std::string_view line = headers.substr(0, eol);
      const size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        const std::string name = lower(trim(line.substr(0, colon)));
        const std::string_view value = trim(line.substr(colon + 1));
        if (name == "content-disposition") {
          part.name = header_param(value, "name").value_or("");
          part.filename = header_param(value, "filename").value_or("");
        } else if (name == "content-type") {
          part.content_type = std::string(value);
        }
      }
      if (eol == std::string_view::npos) break;
      headers.remove_prefix(eol + 2);
    }
    if (part.name.empty()) fail("multipart part {} has no name in Content-Disposition", parts.size());
    const size_t data_start = header_end + 4;
    const std::string next = "\r\n" + delimiter;
    const size_t data_end = body.find(next, data_start);
    if (data_end == std::string_view::npos) fail("multipart part '{}' is not terminated", part.name);
    part.data = std::string(body.substr(data_start, data_end - data_start));
    parts.push_back(std::move(part));
    pos = data_end + next.size();
  }
}

const FormPart* find_part(const std::vector<FormPart>& parts, std::string_view name) {
  for (const auto& p : parts) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace duet::server
