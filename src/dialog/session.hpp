// A conversation: the session connects the stages (audio in -> echo cancellation -> VAD and
// endpointing -> streaming ASR -> turn policy -> LLM -> TTS -> playout) of one conversation and
// reports what happens as Frames through one observer. The Engine holds what all sessions share
// (the models, loaded once); a Session holds one conversation's state (KV cache, history,
// buffers). Feed microphone audio with push_audio() in real time; take the answer either by
// pulling it for playout with pull_audio() (a sound card, a WAV timeline) or from OutputAudio
// frames as they are made (a network client that plays them and reports truncation).
// Must never block the caller of push_audio()/pull_audio() on model work, and never let audio of
// a cancelled answer out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dialog/chat_llm.hpp"
#include "dialog/frame.hpp"

namespace duet::dialog {

// Which engines to load; empty names pick the defaults from the model store.
struct EngineOptions {
  std::string llm;          // path to a .gguf; "" = the store's default (SmolLM2)
  std::string remote_url;   // OpenAI-compatible server base URL (".../v1"); set = remote LLM
  std::string remote_model; // model name to ask the remote server for
  std::string remote_key;   // API key for the remote server ("" = none)
  std::string asr;          // path to the Whisper .gguf; "" = the store's default (tiny.en)
  std::string voice;        // "piper" (default when present), "piper:<file>", "espeak[:voice]"
  std::string vad;          // "auto" (Silero when present, else WebRTC), "silero", "webrtc", "energy"
  int threads = 0;          // compute threads; 0 = all cores
};

class Engine;  // the shared models (engine.hpp)

struct TurnDetection {
  enum class Type { ServerVad, SemanticVad, None };
  Type type = Type::SemanticVad;
  float threshold = 0.5f;        // VAD probability of speech
  int prefix_padding_ms = 300;   // audio kept before the detected start
  int silence_duration_ms = 500; // server_vad: silence that ends a turn
  std::string eagerness = "auto";  // semantic_vad: low | medium | high | auto
  bool create_response = true;   // answer when a turn ends
  bool interrupt_response = true;  // the person's speech stops the answer (barge-in)
  int idle_timeout_ms = 0;       // > 0: report a timeout after this much silence (server_vad)
};

struct SessionConfig {
  std::string instructions = "You are Duet, a helpful voice assistant. Keep answers short. "
                             "Square brackets after a message describe how it was said.";
  std::string voice;              // "" = the engine's default voice
  bool audio_output = true;       // false: text-only answers
  int output_rate = 24000;        // Hz of OutputAudio and pull_audio()
  int input_rate = 16000;         // Hz of push_audio()
  ReplyOptions reply;
  TurnDetection turn;
  bool transcribe_input = true;
  bool speculative = true;        // start answering at the first silence, confirm or roll back
  bool annotate = true;           // put the tone/speaker/background annotation in the prompt
  bool echo_cancellation = true;  // cancel Duet's own playback from the microphone signal
  int barge_in_ms = 400;          // speech over Duet shorter than this does not stop it
  bool cascade = false;           // the old three-model baseline: wait, transcribe, generate
                                  // the whole reply, synthesize it all, then play
  int cascade_silence_ms = 800;   // cascade: the fixed silence timeout
};

// Overrides for one response (response.create).
struct ResponseOverrides {
  std::optional<std::string> instructions;
  std::optional<bool> audio_output;
  std::optional<float> temperature;
  std::optional<int> max_tokens;
  std::optional<std::string> voice;  // this response's voice ("" = the engine's default)
};

struct HistoryEntry {
  uint64_t id = 0;            // the user turn or reply id (Frame::turn)
  std::string role;           // "user", "assistant" or "system"
  std::string text;           // transcript, or the reply as heard (after truncation)
  std::string annotation;     // user turns: tone/speaker/background ("" if none)
  bool truncated = false;
  int64_t audio_ms = 0;       // assistant: length of its audio as heard (all of it unless cut)
  int64_t audio_made_ms = 0;  // assistant: length of all the audio made for it
  std::vector<WordMark> words;  // assistant: its words and where their sound starts
};

class Session {
 public:
  using Observer = std::function<void(const Frame&)>;

  // The observer is called from the session's own thread, one frame at a time, and must not call
  // back into the session synchronously except for the const accessors.
  Session(std::shared_ptr<Engine> engine, SessionConfig config, Observer observer);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Microphone audio at config.input_rate, in real time, any chunk size.
  void push_audio(std::span<const float> pcm);
  // Playout: fills `out` with the answer's audio at config.output_rate (silence when none) and
  // advances the playback clock; what it returns is the far end for echo cancellation and the
  // truth of what the person heard. Returns how many samples were answer audio.
  size_t pull_audio(std::span<float> out);
  // True while an answer is being produced or played.
  bool responding() const;

  void update(const SessionConfig& config);
  SessionConfig config() const;  // a copy: update() may run concurrently

  // Manual turn control (turn detection "none", or a client's commands).
  void commit_input();
  void clear_input();
  // Adds a message to the history ("user", "assistant" or "system") and returns its id.
  uint64_t add_message(const std::string& role, const std::string& text);
  bool delete_message(uint64_t id);
  // Replaces the text of message `id` (a transcript that arrived after the message was placed);
  // false when there is no such message.
  bool set_message_text(uint64_t id, const std::string& text);
  void create_response(const ResponseOverrides& overrides = {});
  void cancel_response();
  // Cuts reply `id` to its first audio_end_ms of audio, as heard (a client that plays the audio
  // knows best: its value replaces any cut the session made itself); throws duet::Error when the
  // reply does not exist or audio_end_ms is beyond the audio made for it.
  void truncate(uint64_t id, int64_t audio_end_ms);
  // Drops output audio not yet played (output_audio_buffer.clear).
  void clear_output();

  std::vector<HistoryEntry> history() const;
  // Blocks until no work is pending (tests and the converse driver at the end).
  void drain();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duet::dialog
