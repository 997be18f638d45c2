// The command-line options that choose the conversation engine's models (shared by `duet
// converse`, `duet chat` and `duet serve`), so every command names them the same way.
// Must never load anything itself: it only fills dialog::EngineOptions.
#pragma once

#include <CLI/CLI.hpp>

#include "dialog/session.hpp"

namespace duet::cli {

inline void add_engine_options(CLI::App* cmd, dialog::EngineOptions& o) {
  cmd->add_option("--llm", o.llm, "Local LLM: a .gguf path or a model-store name "
                                  "(default smollm2-135m-instruct)");
  cmd->add_option("--remote-url", o.remote_url,
                  "Use an OpenAI-compatible chat server instead, e.g. http://127.0.0.1:8000/v1");
  cmd->add_option("--remote-model", o.remote_model, "Model name to ask the remote server for");
  cmd->add_option("--remote-key", o.remote_key, "API key for the remote server");
  cmd->add_option("--asr", o.asr, "Whisper model: a .gguf path or store name (default whisper-tiny.en)");
  cmd->add_option("--voice", o.voice, "Voice: piper (default), piper:<file.gguf>, espeak, espeak:<voice>");
  cmd->add_option("--vad", o.vad, "Voice activity detector: auto, silero, webrtc[:0-3], energy");
  cmd->add_option("-t,--threads", o.threads, "Compute threads (0: all cores)");
}

}  // namespace duet::cli
