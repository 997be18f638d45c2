// Traversal-safe static file lookup (see static_files.hpp). Must never follow a path out of root.
#include "server/static_files.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

namespace duet::server {
namespace {

constexpr uintmax_t kMaxStaticFile = 16u << 20;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> url_decode_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out += path[i];
      continue;
    }
    if (i + 2 >= path.size()) return std::nullopt;
    const int hi = hex_value(path[i + 1]);
    const int lo = hex_value(path[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0' || c == '/' || c == '\\') return std::nullopt;
    out += c;
    i += 2;
  }
  return out;
}

std::string content_type_for(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".wav") return "audio/wav";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

StaticFiles::StaticFiles(std::filesystem::path root) {
  std::error_code ec;
  if (!root.empty() && std::filesystem::is_directory(root, ec)) {
    root_ = std::filesystem::canonical(root, ec);
    if (ec) root_.clear();
  }
}

std::optional<StaticFile> StaticFiles::find(std::string_view target) const {
  if (root_.empty()) return std::nullopt;
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  const auto decoded = url_decode_path(path);
  if (!decoded || decoded->empty() || decoded->front() != '/') return std::nullopt;
  std::string rel = decoded->substr(1);
  if (rel.empty() || rel.back() == '/') rel += "index.html";
  // Every segment must be a plain name: no "..", ".", hidden files, backslashes or empty parts.
  std::filesystem::path relative;
  std::string_view rest = rel;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg.front() == '.' || seg.find('\\') != std::string_view::npos ||
        seg.find(':') != std::string_view::npos) {
      return std::nullopt;
    }
    relative /= std::string(seg);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::error_code ec;
  const std::filesystem::path full = std::filesystem::canonical(root_ / relative, ec);
  if (ec) return std::nullopt;
  // The resolved file (symlinks followed) must still lie under the root.
  const auto [root_end, full_it] = std::mismatch(root_.begin(), root_.end(), full.begin(), full.end());
  if (root_end != root_.end()) return std::nullopt;
  if (!std::filesystem::is_regular_file(full, ec)) return std::nullopt;
  const uintmax_t size = std::filesystem::file_size(full, ec);
  if (ec || size > kMaxStaticFile) return std::nullopt;
  std::ifstream in(full, std::ios::binary);
  if (!in) return std::nullopt;
  StaticFile file;
  file.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  file.content_type = content_type_for(full);
  return file;
}

}  // namespace duet::server
