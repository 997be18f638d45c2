// Static files of the browser page (web/): maps a request target to a file under the web root.
// Must never serve anything outside the root: no "..", no absolute paths, no encoded escapes, no
// symlinks that lead out, no hidden files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace duet::server {

struct StaticFile {
  std::string body;
  std::string content_type;
};

class StaticFiles {
 public:
  // root "" = serve nothing.
  explicit StaticFiles(std::filesystem::path root);
  // The file for `target` (path and query), "/" meaning index.html; nullopt when there is none
  // or the path is not allowed.
  std::optional<StaticFile> find(std::string_view target) const;

 private:
  std::filesystem::path root_;  // canonical, or empty
};

// "text/html; charset=utf-8" and so on, by extension; application/octet-stream otherwise.
std::string content_type_for(const std::filesystem::path& path);

// Percent-decodes a URL path; nullopt for a malformed escape or an encoded NUL or slash.
std::optional<std::string> url_decode_path(std::string_view path);

}  // namespace duet::server
