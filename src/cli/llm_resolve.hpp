// Turning a user's -m argument into a model file: an existing path is used as is, otherwise the
// name is looked up in the model store (so `-m gemma3-270m` works). Must never guess a path that
// does not exist: the store's error names the fix.
#pragma once

#include <filesystem>
#include <string>

#include "store/model_store.hpp"

namespace duet::cli {

inline std::filesystem::path resolve_model(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) return arg;
  store::ModelStore s(store::ModelStore::default_dir());
  return s.require(arg);
}

}  // namespace duet::cli
