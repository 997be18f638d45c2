// The `duet` subcommands. Each cmd_*.cpp adds one subcommand (with its --help) to the app and runs
// it from a callback. Must never call exit(): errors propagate as duet::Error to main, which prints
// one line and returns a non-zero status.
#pragma once

#include <CLI/CLI.hpp>

namespace duet::cli {

void add_say_command(CLI::App& app);
void add_models_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_llm_command(CLI::App& app);
void add_transcribe_command(CLI::App& app);
void add_listen_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_converse_command(CLI::App& app);
void add_chat_command(CLI::App& app);

}  // namespace duet::cli
