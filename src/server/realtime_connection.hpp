// One Realtime conversation: binds a WebSocket's messages to one dialog::Session. Client events
// (parsed by realtime_events) become session calls; the session's Frames become the server
// events a standard client expects, in order (input_audio_buffer.*, conversation.item.*,
// response.created -> output_item.added -> content_part.added -> deltas -> *.done ->
// response.done), with Duet's extras (latency trace, tone annotation) as extra events/fields.
// Everything here runs on the connection's strand: frames are posted to it, never handled on the
// session's thread.
// Must never throw out of on_text/on_frame (every failure becomes an `error` event), and never
// send audio of a cancelled response.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dialog/frame.hpp"
#include "dialog/session.hpp"
#include "server/audio_format.hpp"
#include "server/realtime_events.hpp"
#include "server/realtime_session.hpp"
#include "server/server_context.hpp"

namespace duet::server::realtime {

class RealtimeConnection;

// What the connection needs from its transport (WsSession); all called on the strand except
// post_frame, which the session's thread calls.
struct Transport {
  std::function<void(std::string)> send;                         // one text message
  std::function<void(std::string_view reason)> close_policy;     // close with 1008 and a reason
  std::function<void(dialog::Frame)> post_frame;                 // hand a frame to the strand
  // Runs `fn` on the strand after `ms` milliseconds, replacing any earlier schedule; ms < 0
  // only cancels. `fn` never runs once the connection is gone.
  std::function<void(int64_t ms, std::function<void()> fn)> schedule;
  // Runs `fn` on the strand with the connection (from any thread); dropped once it is gone.
  std::function<void(std::function<void(RealtimeConnection&)> fn)> post;
};

class RealtimeConnection {
 public:
  RealtimeConnection(std::shared_ptr<ServerContext> ctx, Dialect dialect, std::string model,
                     uint64_t connection_id, Transport transport);
  ~RealtimeConnection();

  // Creates the session and sends session.created and conversation.created. On failure sends an
  // error event and returns false (the caller closes).
  bool start();
  void on_text(std::string_view message);
  void on_binary();
  void on_frame(const dialog::Frame& frame);
  // The WebSocket is gone: stop the session and hand it to the clean-up worker.
  void shutdown();

 private:
  struct Item {
    std::string id;
    uint64_t history_id = 0;  // the session's id (Frame::turn / HistoryEntry::id); 0 = none yet
    std::string role;
    std::string text;          // transcript or text
    bool audio = false;        // audio content (input_audio or output audio)
    int64_t audio_samples = 0; // assistant: output samples sent, at the session's output rate
    std::string status = "completed";
  };
  struct Response {
    std::string id;
    std::string item_id;
    uint64_t turn = 0;
    bool audio = true;
    bool started = false;  // response.created was sent
    std::string voice;     // as the client named it
    std::string text;
  };

  // Client events.
  void handle(const ClientEvent& ev);
  void on_session_update(const SessionUpdate& e);
  void on_append(const AudioAppend& e);
  void on_commit();
  void on_clear();
  void on_item_create(const ItemCreate& e);
  void on_item_retrieve(const ItemRetrieve& e);
  void on_item_truncate(const ItemTruncate& e);
  void on_item_delete(const ItemDelete& e);
  void on_response_create(const ResponseCreate& e);
  void on_response_cancel(const ResponseCancel& e);
  void on_output_clear();
  // conversation.item.create with input_audio: the audio at 16 kHz (throws ProtocolError), its
  // transcription on a worker, and the transcript arriving back on the strand.
  std::vector<float> item_audio(const ItemCreate& e) const;
  void transcribe_item(const std::string& item_id, int64_t content_index, const std::string& text,
                       std::vector<float> pcm);
  void on_item_transcribed(const std::string& item_id, int64_t content_index,
                           const std::string& transcript, const std::string& failure);
  void check_voice(const std::string& engine_voice_name, std::string_view param);

  // Session frames.
  void on_speech_started(const dialog::Frame& f);
  void on_speech_stopped(const dialog::Frame& f);
  void on_input_committed(const dialog::Frame& f);
  void on_transcript(const dialog::Frame& f, bool final);
  void on_response_started(const dialog::Frame& f);
  void on_text_delta(const dialog::Frame& f);
  void on_output_audio(const dialog::Frame& f);
  void on_response_done(const dialog::Frame& f);
  void on_truncated(const dialog::Frame& f);

  // Helpers.
  std::string new_id(std::string_view prefix);
  void emit(std::string_view type, nlohmann::json fields = nlohmann::json::object());
  void emit_error(std::string_view code, std::string_view message, std::string_view param = "",
                  std::string_view type = "invalid_request_error");
  Item* find_item(std::string_view id);
  Item* item_for_turn(uint64_t turn, std::string_view role);
  Item& add_item(Item item);  // appends; sends nothing
  std::string last_item_id() const;
  nlohmann::json item_json(const Item& item) const;
  std::string audio_part_type() const;
  std::string text_part_type() const;
  Response& ensure_response(uint64_t turn);
  nlohmann::json response_json(const Response& r, std::string_view status,
                               const nlohmann::json& status_details,
                               const nlohmann::json& usage) const;
  void apply_settings();
  void start_deferred_response();
  // server_vad idle_timeout_ms: (re)arms or disarms the timer that reports the person's silence.
  void arm_idle_timer(int64_t playback_left_ms);
  void disarm_idle_timer();
  void on_idle_timeout();
  int64_t samples_to_ms(int64_t samples) const;

  std::shared_ptr<ServerContext> ctx_;
  Dialect dialect_;
  uint64_t connection_id_;
  Transport transport_;
  SessionSettings settings_;
  std::string session_id_;
  std::string conversation_id_;
  std::unique_ptr<dialog::Session> session_;
  std::unique_ptr<AudioInput> input_;
  std::unique_ptr<AudioOutput> output_;
  uint64_t counter_ = 0;
  std::string client_event_id_;  // the event being handled, for error events

  std::vector<Item> items_;
  std::map<uint64_t, std::string> user_turn_items_;  // session user turn -> item id
  std::optional<std::string> pending_user_item_;     // from speech_started until committed
  std::map<std::string, std::string> partials_;      // item id -> transcript delta sent so far
  std::optional<Response> response_;
  std::optional<ResponseRequest> requested_;  // response.create waiting for its ResponseStarted
  int64_t buffered_samples_ = 0;              // uncommitted input at the session's input rate
  bool expect_cleared_frame_ = false;
  // input_audio_buffer.commit was sent to the session, whose user turn is not final yet; a
  // response.create meanwhile waits for it (the session answers only committed turns).
  bool commit_pending_ = false;
  bool response_deferred_ = false;
  int transcribing_items_ = 0;  // item audio being transcribed; a response.create waits for it
  int64_t input_samples_total_ = 0;  // all audio appended, at the session's input rate
  std::map<std::string, int64_t> truncated_sent_;  // item id -> audio_end_ms already reported
};

}  // namespace duet::server::realtime
