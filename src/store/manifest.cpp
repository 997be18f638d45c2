// Manifest parsing and validation with nlohmann-json. Must never accept an entry without a
// checksum or a source: every model file Duet uses is verifiable and reproducible.
#include "store/manifest.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace duet::store {

extern const char* const kBuiltinManifestJson;  // generated from tools/models/manifest.json

namespace {

std::string required_string(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
    fail("model manifest: {} needs a non-empty string '{}'", where, key);
  }
  return j[key].get<std::string>();
}

bool is_hex_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_safe_relative_path(const std::string& p) {
  return !p.empty() && p[0] != '/' && p.find("..") == std::string::npos;
}

}  // namespace

const ModelSpec* Manifest::find(std::string_view name) const {
  for (const auto& m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Manifest parse_manifest(std::string_view json_text) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    fail("model manifest is not valid JSON: {}", e.what());
  }
  if (!root.is_object() || !root.contains("models") || !root["models"].is_array()) {
    fail("model manifest needs a top-level 'models' array");
  }
  Manifest manifest;
  for (const auto& jm : root["models"]) {
    ModelSpec m;
    m.name = required_string(jm, "name", "a model entry");
    const std::string where = "model '" + m.name + "'";
    m.role = required_string(jm, "role", where);
    if (m.role != "llm" && m.role != "asr" && m.role != "tts" && m.role != "vad") {
      fail("model manifest: {} has role '{}' (expected llm, asr, tts or vad)", where, m.role);
    }
    m.description = jm.value("description", "");
    if (!jm.contains("files") || !jm["files"].is_array() || jm["files"].empty()) {
      fail("model manifest: {} needs a non-empty 'files' array", where);
    }
    for (const auto& jf : jm["files"]) {
      FileSpec f;
      f.path = required_string(jf, "path", where + " file");
      const std::string fwhere = where + " file '" + f.path + "'";
      if (!is_safe_relative_path(f.path)) fail("model manifest: {} must be a relative path", fwhere);
      f.sha256 = required_string(jf, "sha256", fwhere);
      if (!is_hex_sha256(f.sha256)) fail("model manifest: {} has a malformed sha256", fwhere);
      if (!jf.contains("size") || !jf["size"].is_number_unsigned()) {
        fail("model manifest: {} needs its size in bytes", fwhere);
      }
      f.size = jf["size"].get<uint64_t>();
      if (jf.contains("tool")) {
        f.tool = required_string(jf, "tool", fwhere);
        if (!is_safe_relative_path(f.tool)) fail("model manifest: {} tool must be a relative path", fwhere);
        if (!jf.contains("args") || !jf["args"].is_array()) fail("model manifest: {} needs 'args'", fwhere);
        for (const auto& a : jf["args"]) {
          if (!a.is_string()) fail("model manifest: {} args must be strings", fwhere);
          f.args.push_back(a.get<std::string>());
        }
        m.files.push_back(std::move(f));
        continue;
      }
      if (!jf.contains("parts") || !jf["parts"].is_array() || jf["parts"].empty()) {
        fail("model manifest: {} needs a non-empty 'parts' array (or a converter 'tool')", fwhere);
      }
      for (const auto& jp : jf["parts"]) {
        PartSpec p;
        p.package = required_string(jp, "package", fwhere + " part");
        p.version = required_string(jp, "version", fwhere + " part");
        p.member = required_string(jp, "member", fwhere + " part");
        f.parts.push_back(std::move(p));
      }
      m.files.push_back(std::move(f));
    }
    if (manifest.find(m.name)) fail("model manifest: model '{}' is listed twice", m.name);
    manifest.models.push_back(std::move(m));
  }
  return manifest;
}

const Manifest& builtin_manifest() {
  static const Manifest manifest = parse_manifest(kBuiltinManifestJson);
  return manifest;
}

}  // namespace duet::store
