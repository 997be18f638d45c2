// Entry point of the `duet` binary: builds the command tree and turns any error into one line on
// stderr and exit status 1. Must never hold logic of its own beyond dispatch.
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Duet: a local, real-time voice engine (speech in, speech out, on a plain CPU)."};
  app.set_version_flag("--version", std::string("duet ") + duet::kVersion);
  app.require_subcommand(1);
  duet::cli::add_say_command(app);
  duet::cli::add_models_command(app);
  duet::cli::add_inspect_command(app);
  duet::cli::add_llm_command(app);
  duet::cli::add_transcribe_command(app);
  duet::cli::add_listen_command(app);
  duet::cli::add_serve_command(app);
  duet::cli::add_converse_command(app);
  duet::cli::add_chat_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    fmt::print(stderr, "duet: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
