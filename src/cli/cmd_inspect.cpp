// `duet inspect FILE.gguf`: prints a GGUF file's metadata and tensor table, as text or JSON, so a
// model can be checked before use. Must never print whole vocabularies in text mode (they are
// summarised); JSON mode prints everything.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "runtime/gguf.hpp"

namespace duet::cli {
namespace {

nlohmann::json value_to_json(const rt::GgufValue& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, rt::GgufArray>) {
          if (!x.strings.empty()) return x.strings;
          if (!x.floats.empty()) return x.floats;
          return x.ints;
        } else {
          return x;
        }
      },
      v);
}

std::string value_summary(const rt::GgufValue& v) {
  if (const auto* a = std::get_if<rt::GgufArray>(&v)) {
    const size_t n = a->strings.size() + a->floats.size() + a->ints.size();
    return fmt::format("[array of {} {}]", n,
                       !a->strings.empty() ? "strings" : (!a->floats.empty() ? "floats" : "integers"));
  }
  std::string s = value_to_json(v).dump();
  if (s.size() > 100) s = s.substr(0, 97) + "...";
  return s;
}

void inspect(const std::string& path, bool as_json) {
  const auto f = rt::GgufFile::open(path);
  if (as_json) {
    nlohmann::json j;
    j["version"] = f.version();
    auto& meta = j["metadata"] = nlohmann::json::object();
    for (const auto& [key, value] : f.metadata()) meta[key] = value_to_json(value);
    auto& tensors = j["tensors"] = nlohmann::json::array();
    for (const auto& t : f.tensors()) {
      tensors.push_back({{"name", t.name},
                         {"type", rt::dtype_name(t.type)},
                         {"shape", std::vector<int64_t>(t.ne, t.ne + t.n_dims)},
                         {"nbytes", t.nbytes}});
    }
    fmt::print("{}\n", j.dump(1));
    return;
  }
  fmt::print("{}: GGUF v{}, {} metadata keys, {} tensors\n", path, f.version(), f.metadata().size(),
             f.tensors().size());
  for (const auto& [key, value] : f.metadata()) fmt::print("  {:<44} {}\n", key, value_summary(value));
  size_t total = 0;
  for (const auto& t : f.tensors()) {
    std::string shape;
    for (int d = 0; d < t.n_dims; ++d) shape += (d ? " x " : "") + std::to_string(t.ne[d]);
    fmt::print("  {:<44} {:<6} {}\n", t.name, rt::dtype_name(t.type), shape);
    total += t.nbytes;
  }
  fmt::print("tensor data: {:.1f} MB\n", total / 1e6);
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Show a GGUF model file's metadata and tensors");
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("file", *path, "GGUF file")->required();
  cmd->add_flag("--json", *as_json, "Print everything as JSON");
  cmd->callback([path, as_json] { inspect(*path, *as_json); });
}

}  // namespace duet::cli
