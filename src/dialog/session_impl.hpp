// The inside of a Session, shared by its three source files: session.cpp (public API, the
// controller thread and its queues), session_hearing.cpp (input audio, endpointing, recognition
// scheduling and turn decisions) and session_answer.cpp (replies, playout, barge-in, truncation).
// All fields below the "controller-owned" line are touched only by the controller thread.
// Must never be included outside src/dialog/session*.cpp.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audio/echo_canceller.hpp"
#include "audio/echo_gate.hpp"
#include "audio/resampler.hpp"
#include "audio/speech_offset.hpp"
#include "audio/voice_features.hpp"
#include "dialog/engine.hpp"
#include "dialog/playout.hpp"
#include "dialog/serial_worker.hpp"
#include "dialog/session.hpp"
#include "dialog/trace.hpp"
#include "dialog/turn_policy.hpp"
#include "runtime/thread_pool.hpp"
#include "speech/asr_whisper.hpp"
#include "speech/endpointer.hpp"

namespace duet::dialog {

constexpr int kRate = 16000;  // the hearing side's rate

// The person's utterance being heard (from the first speech until the turn is committed).
struct Utterance {
  bool open = false;
  uint64_t id = 0;               // recognition epoch: results of other ids are stale
  int64_t start_sample = 0;      // where speech began (input timeline, 16 kHz)
  int64_t speech_end = 0;        // end of the latest speech frame (VAD)
  // Where the voice's energy last fell while the VAD heard speech (the VAD lags it by 50-140 ms);
  // the VAD's end where the energy cannot tell (a noisy room).
  int64_t voice_end = 0;
  std::vector<float> audio;      // its audio (features), at most 30 s
  bool over_answer = false;      // began while Duet was speaking
  bool barged_in = false;        // it interrupted Duet's answer
  int64_t since_partial = 0;     // samples since the last partial was asked for
  int64_t speech_run = 0;        // samples of speech since the last look at the transcript
  int64_t speech_total = 0;      // samples of speech in the whole utterance
  uint64_t look_seq = 0;         // the latest look asked for
  bool look_pending = false;     // a look is being decoded
  bool look_done = false;        // look_text is the transcript of all audio up to the pause
  bool look_early = false;       // the look came at the acoustic end, before the VAD's end
  int look_silence_ms = 0;       // the pause the latest look heard (0 when asked for mid-speech)
  bool relooked_unmarked = false;  // a look without an end mark was read again at a longer pause
  bool commit_requested = false; // commit_input() came while the look was being decoded
  bool text_ready = false;       // the look's transcript arrived (look_text)
  bool tone_ready = false;       // the look's annotation arrived (annotation)
  std::string look_text;
  double look_start_ms = -1;     // session clock: the latest look was asked for
  double look_text_ms = -1;      // its transcript was decoded
  double look_tone_ms = -1;      // its annotation was ready
  double end_probability = 0.0;
  EndPitch end_pitch = EndPitch::Unknown;  // the look's pitch at the end of the voice
  std::string annotation;
  int rollbacks = 0;
  int looks = 0;
  // When the person began to wait for the answer (the first look after their latest speech, at
  // the end of the voice): orders this turn's model work among the sessions' equally urgent work.
  ComputeClaim::Clock::time_point waiting_since{};
};

// The answer being produced or played.
struct ActiveReply {
  uint64_t id = 0;
  CancelToken cancel;
  bool speculative = false;      // held back until the turn is confirmed
  std::string answers;           // the user transcript it answers
  std::vector<Frame> held;       // output made while speculative
  std::string text;              // all text generated so far
  std::vector<WordMark> words;   // word starts (samples from the reply's start)
  int64_t audio_samples = 0;     // audio made so far
  bool generation_done = false;
  std::string status = "completed";
  bool audio_output = true;
  double first_emit_ms = -1;     // when the first audio left in OutputAudio frames
  bool playing = false;          // its first sample went to the speaker
  double started_ms = -1;        // when the reply job was started
  double first_token_ms = -1;    // its first text
  double first_chunk_ms = -1;    // its first audio chunk
  int64_t prompt_tokens = 0, reused_tokens = 0;
};

struct Session::Impl {
  Impl(std::shared_ptr<Engine> engine, SessionConfig config, Observer observer);
  ~Impl();

  // ---- shared between threads (guarded by mu) ----
  std::shared_ptr<Engine> engine;
  Observer observer;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  mutable std::mutex mu;
  std::condition_variable cv;
  SessionConfig config;                         // copy read by other threads under mu
  std::deque<std::function<void()>> control;    // commands (first lane)
  std::deque<Frame> events;                     // stage results (second lane)
  std::deque<std::vector<float>> input;         // microphone audio at 16 kHz (third lane)
  bool stopping = false;
  bool handling = false;                        // the controller is handling an item
  std::vector<HistoryEntry> history;            // guarded by mu
  bool responding_flag = false;                 // guarded by mu
  Playout playout;                              // its own lock
  std::mutex far_mu;
  std::deque<float> far_end;                    // played audio at 16 kHz, for echo cancellation
  std::mutex push_mu;
  std::optional<Resampler> input_resampler;     // input_rate -> 16 kHz (push_audio's thread)
  std::optional<Resampler> far_resampler;       // output_rate -> 16 kHz (pull_audio's thread)
  std::vector<float> resample_scratch, far_scratch;

  // ---- controller-owned ----
  SessionConfig cfg;                            // the controller's copy
  std::unique_ptr<speech::Endpointer> endpointer;
  std::unique_ptr<audio::EchoCanceller> aec;
  std::unique_ptr<audio::EchoGate> echo_gate;  // silences Duet's leaking voice while aec learns
  audio::SpeechOffset offset{audio::SpeechOffsetConfig{.sample_rate = kRate}};  // acoustic end of speech
  std::vector<float> aec_near, aec_far, aec_out;
  std::deque<float> background_pending;         // non-speech audio not yet sure to stay so
  std::deque<float> recent;                     // the last second of input (pre-roll)
  int64_t input_pos = 0;                        // samples of input processed
  int64_t chunk_samples = 0;                    // size of the chunk being processed
  // Wall clock minus input timeline (ms) when the latest chunk was processed: maps audio positions
  // to the session clock for the trace, whenever the client started streaming.
  double wall_minus_input_ms = 0.0;
  Utterance utt;
  uint64_t next_utt_id = 1;
  uint64_t next_item_id = 1;
  std::optional<ActiveReply> reply;
  TurnTrace trace;                              // the turn in progress
  bool trace_open = false;
  int64_t speech_over_answer = 0;               // samples of speech heard while Duet speaks
  ResponseOverrides next_overrides;
  CancelToken warm_cancel;                      // raised when a newer head start replaces it
  CancelToken warm_give_up;                     // raised when the answer starts (a waiting head start is dropped)

  // ---- stages (each touched only by its worker thread, jobs posted by the controller) ----
  rt::ThreadPool asr_pool;
  std::unique_ptr<speech::WhisperAsr> asr;
  CancelToken asr_cancel;                       // raised to abandon an in-flight partial
  bool asr_busy = false;                        // controller's view: a partial is in flight
  std::unique_ptr<ChatLlm> llm;
  std::shared_ptr<Voice> voice;
  std::string voice_name;
  audio::VoiceFeatureAnalyzer features{kRate};  // tone, speaker, background (feature worker)
  SerialWorker asr_worker;                      // declared last among stages: joins first
  SerialWorker reply_worker;
  SerialWorker feature_worker;

  std::thread controller;

  // session.cpp
  double now_ms() const;
  void post_event(Frame f);
  void post_control(std::function<void()> fn);
  void emit(Frame f);
  void run();
  void set_responding(bool on);

  // session_hearing.cpp
  void on_input(std::vector<float> pcm);
  void on_speech_started(int64_t sample);
  void after_input(int64_t n);
  void request_look();
  void on_look(const Frame& f);
  void on_tone(uint64_t utt_id, uint64_t seq, std::string annotation, EndPitch pitch);
  // Silence heard after the voice, in ms, for ending the turn (see after_input).
  int heard_silence_ms(bool speaking) const;
  void finish_look();
  // Starts (or keeps) the speculative answer to the look in hand, when it is worth it now.
  void speculate(bool speaking);
  void on_partial(const Frame& f);
  void commit_turn(bool manual);
  void close_utterance();
  // Stops the partial or look the recogniser is decoding (it ends with Cancelled) and gives
  // later recognition jobs a fresh token.
  void renew_asr_cancel();
  void apply_config();
  std::vector<float> clean_input(std::span<const float> pcm);

  // session_answer.cpp
  std::vector<ChatMessage> conversation(const std::string* pending_user) const;
  // `since`: when the person began to wait for it (default: now), for the ComputeArbiter.
  void start_reply(bool speculative, const std::string& user_text,
                   std::optional<ComputeClaim::Clock::time_point> since = std::nullopt);
  // While the LLM would idle, computes the conversation so far (and the words of the person's
  // turn that are already stable) into its cache, so the answer's prompt is mostly there.
  void warm_llm(const std::string* pending_user);
  void release_reply();
  void drop_reply(const char* status);
  void on_reply_frame(Frame f);
  void deliver(Frame f);
  void on_playback(const Frame& f);
  void finish_reply_if_done();
  void barge_in();
  void cut_reply(int64_t heard_samples, bool interrupted);
  // Closes the turn's trace with the current reply; the Trace frame to emit, if a trace was open.
  std::optional<Frame> finish_trace();
  uint64_t add_history(const std::string& role, const std::string& text, const std::string& annotation);
  int64_t heard_samples(const ActiveReply& r) const;
  bool answer_audible() const;
  // A released answer is being made or played (pauses between its phrases included).
  bool answer_in_progress() const;
  // True when the open utterance was said over Duet's answer and leaves it the turn.
  bool aside_over_answer(const std::string& spoken) const;
  std::string user_content(const std::string& text, const std::string& annotation) const;
};

}  // namespace duet::dialog
