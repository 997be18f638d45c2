// The Engine: what every conversation session shares, loaded once per process: the Whisper model,
// the local LLM (or the remote server's address), the Piper voice model, the choice of VAD, and
// the ComputeArbiter that lends the machine to the sessions' model work, most urgent first.
// Sessions (session.hpp) and the server's REST endpoints borrow these; per-conversation state
// (KV cache, recogniser buffers, VAD state, a voice's stream) is always made fresh per user.
// Must never hold per-conversation state, and never load a model twice.
#pragma once

#include <memory>
#include <string>

#include "core/compute_arbiter.hpp"
#include "dialog/chat_llm.hpp"
#include "dialog/session.hpp"
#include "models/llm_model.hpp"
#include "models/silero_vad.hpp"
#include "models/vits.hpp"
#include "models/whisper.hpp"
#include "speech/vad.hpp"
#include "speech/voice.hpp"

namespace duet::dialog {

class Engine {
 public:
  // Loads the engines named in `options` (defaults from the model store). Throws duet::Error
  // naming the missing model and the `duet models pull` command that fetches it.
  static std::shared_ptr<Engine> load(const EngineOptions& options);

  const EngineOptions& options() const { return options_; }
  int threads() const { return threads_; }

  // The shared Whisper model.
  std::shared_ptr<const whisper::WhisperModel> whisper() const { return whisper_; }
  // A new LLM engine for one conversation (its own KV cache over the shared weights, or its own
  // connection to the remote server).
  std::unique_ptr<ChatLlm> new_chat_llm() const;
  // A new voice for one conversation: `name` "" = the default voice. Piper voices share the
  // loaded model when it is the default one.
  std::unique_ptr<Voice> new_voice(const std::string& name = "") const;
  // Throws duet::Error unless `name` names a kind of voice new_voice() makes ("" = the default,
  // piper, piper:<file>, espeak, espeak:<voice>); loads nothing (a file may still fail later).
  void check_voice_name(const std::string& name) const;
  // The Piper model behind the default voice, or null when the default is espeak.
  std::shared_ptr<const models::VitsModel> piper_model() const { return piper_; }
  // A new voice activity detector at `sample_rate` (the engine's choice).
  std::unique_ptr<speech::VoiceActivity> new_vad(int sample_rate = 16000) const;
  std::string default_voice_name() const { return default_voice_; }
  std::string llm_name() const { return llm_name_; }
  // One heavy computation per slot at a time (slots: the cores over threads()): every session's
  // looks, replies, partials and head starts take a lease from it.
  ComputeArbiter& arbiter() const { return *arbiter_; }

 private:
  EngineOptions options_;
  int threads_ = 1;
  std::shared_ptr<const whisper::WhisperModel> whisper_;
  std::shared_ptr<const models::LlmModel> llm_;  // null when remote
  std::shared_ptr<const models::VitsModel> piper_;
  std::string default_voice_;
  std::string vad_name_;
  std::shared_ptr<const models::SileroModel> silero_;  // when the VAD is Silero
  std::string llm_name_;
  std::unique_ptr<ComputeArbiter> arbiter_ = std::make_unique<ComputeArbiter>(1);
};

}  // namespace duet::dialog
