// One Realtime conversation over a WebSocket (see realtime_connection.hpp).
// Must never let an exception out of a public method, and never block on the session's models.
#include "server/realtime_connection.hpp"

#include <algorithm>
#include <type_traits>

#include <fmt/format.h>

#include "core/error.hpp"
#include "dialog/engine.hpp"
#include "audio/audio_buffer.hpp"
#include "audio/resampler.hpp"
#include "core/cancel.hpp"
#include "server/audio_transcriber.hpp"
#include "server/base64.hpp"
#include "server/heap_policy.hpp"

namespace duet::server::realtime {

using dialog::Frame;
using dialog::FrameKind;
using nlohmann::json;

namespace {
constexpr int64_t kMinCommitMs = 100;
}

RealtimeConnection::RealtimeConnection(std::shared_ptr<ServerContext> ctx, Dialect dialect,
                                       std::string model, uint64_t connection_id,
                                       Transport transport)
    : ctx_(std::move(ctx)),
      dialect_(dialect),
      connection_id_(connection_id),
      transport_(std::move(transport)),
      settings_(default_settings(dialog::SessionConfig{})) {
  if (!model.empty()) settings_.model = model.substr(0, 128);
  session_id_ = new_id("sess");
  conversation_id_ = new_id("conv");
}

RealtimeConnection::~RealtimeConnection() { shutdown(); }

std::string RealtimeConnection::new_id(std::string_view prefix) {
  return fmt::format("{}_duet{}x{:06}", prefix, connection_id_, ++counter_);
}

void RealtimeConnection::emit(std::string_view type, json fields) {
  const json ev = server_event(type, new_id("event"), std::move(fields));
  transport_.send(ev.dump(-1, ' ', false, json::error_handler_t::replace));
}

void RealtimeConnection::emit_error(std::string_view code, std::string_view message,
                                    std::string_view param, std::string_view type) {
  const json ev = error_event(new_id("event"), type, code, message, param, client_event_id_);
  transport_.send(ev.dump(-1, ' ', false, json::error_handler_t::replace));
}

int64_t RealtimeConnection::samples_to_ms(int64_t samples) const {
  const int rate = settings_.config.output_rate > 0 ? settings_.config.output_rate : 24000;
  return samples * 1000 / rate;
}

bool RealtimeConnection::start() {
  try {
    input_ = std::make_unique<AudioInput>(settings_.input_format, settings_.config.input_rate);
    output_ = std::make_unique<AudioOutput>(settings_.output_format, settings_.config.output_rate);
    auto post = transport_.post_frame;
    session_ = std::make_unique<dialog::Session>(ctx_->engine, settings_.config,
                                                 [post](const Frame& f) { post(f); });
  } catch (const std::exception& e) {
    emit_error("session_failed", fmt::format("could not start the session: {}", e.what()), "",
               "server_error");
    return false;
  }
  emit("session.created", {{"session", session_object(settings_, dialect_, session_id_)}});
  emit("conversation.created",
       {{"conversation", {{"id", conversation_id_}, {"object", "realtime.conversation"}}}});
  return true;
}

void RealtimeConnection::shutdown() {
  if (!session_) return;
  auto session = std::shared_ptr<dialog::Session>(std::move(session_));
  try {
    session->cancel_response();
  } catch (...) {
  }
  // Destroying a session joins its threads: never on an I/O thread.
  ctx_->cleanup.submit_always([session]() mutable {
    session.reset();
    release_free_heap();  // what the session held goes back to the system
  });
}

// --- client events ---------------------------------------------------------------------------

void RealtimeConnection::on_binary() {
  client_event_id_.clear();
  emit_error("invalid_message",
             "binary WebSocket messages are not supported; send JSON events as text messages");
}

void RealtimeConnection::on_text(std::string_view message) {
  client_event_id_.clear();
  try {
    const ClientEvent ev = parse_client_event(message, client_event_id_);
    handle(ev);
  } catch (const ProtocolError& e) {
    emit_error(e.code(), e.what(), e.param());
  } catch (const Error& e) {
    emit_error("invalid_request_error", e.what());
  } catch (const std::exception& e) {
    emit_error("server_error", fmt::format("internal error: {}", e.what()), "", "server_error");
  }
}

void RealtimeConnection::handle(const ClientEvent& ev) {
  if (!session_) {
    emit_error("session_closed", "the session is not running", "", "server_error");
    return;
  }
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, SessionUpdate>) on_session_update(e);
        else if constexpr (std::is_same_v<T, AudioAppend>) on_append(e);
        else if constexpr (std::is_same_v<T, AudioCommit>) on_commit();
        else if constexpr (std::is_same_v<T, AudioClear>) on_clear();
        else if constexpr (std::is_same_v<T, ItemCreate>) on_item_create(e);
        else if constexpr (std::is_same_v<T, ItemRetrieve>) on_item_retrieve(e);
        else if constexpr (std::is_same_v<T, ItemTruncate>) on_item_truncate(e);
        else if constexpr (std::is_same_v<T, ItemDelete>) on_item_delete(e);
        else if constexpr (std::is_same_v<T, ResponseCreate>) on_response_create(e);
        else if constexpr (std::is_same_v<T, ResponseCancel>) on_response_cancel(e);
        else if constexpr (std::is_same_v<T, OutputAudioClear>) on_output_clear();
      },
      ev.body);
}

void RealtimeConnection::apply_settings() {
  if (!input_ || input_->format() != settings_.input_format) {
    input_ = std::make_unique<AudioInput>(settings_.input_format, settings_.config.input_rate);
  }
  if (!output_ || output_->format() != settings_.output_format) {
    output_ = std::make_unique<AudioOutput>(settings_.output_format, settings_.config.output_rate);
  }
  session_->update(settings_.config);
}

void RealtimeConnection::on_session_update(const SessionUpdate& e) {
  SessionSettings next = settings_;
  apply_session_update(next, e.session);  // throws ProtocolError, leaving settings_ as was
  check_voice(next.config.voice, "session.voice");
  settings_ = std::move(next);
  try {
    apply_settings();
  } catch (const std::exception& ex) {
    emit_error("invalid_value", fmt::format("the session could not take the update: {}", ex.what()),
               "session");
    return;
  }
  emit("session.updated", {{"session", session_object(settings_, dialect_, session_id_)}});
}

void RealtimeConnection::on_append(const AudioAppend& e) {
  std::vector<uint8_t> bytes;
  try {
    bytes = base64_decode(e.audio);
  } catch (const Error& ex) {
    throw ProtocolError(fmt::format("Invalid 'audio': {}.", ex.what()), "audio", "invalid_base64");
  }
  std::vector<float> pcm;
  try {
    pcm = input_->convert(bytes);
  } catch (const Error& ex) {
    throw ProtocolError(fmt::format("Invalid 'audio': {}.", ex.what()), "audio", "invalid_audio");
  }
  const int64_t limit = static_cast<int64_t>(ctx_->options.limits.max_buffered_audio_ms) *
                        settings_.config.input_rate / 1000;
  if (settings_.config.turn.type == dialog::TurnDetection::Type::None &&
      buffered_samples_ + static_cast<int64_t>(pcm.size()) > limit) {
    throw ProtocolError(fmt::format("The input audio buffer would exceed its limit of {} ms; "
                                    "commit or clear it first.",
                                    ctx_->options.limits.max_buffered_audio_ms),
                        "audio", "input_audio_buffer_full");
  }
  buffered_samples_ += static_cast<int64_t>(pcm.size());
  input_samples_total_ += static_cast<int64_t>(pcm.size());
  if (!pcm.empty()) session_->push_audio(pcm);
}

void RealtimeConnection::on_commit() {
  const int64_t ms = buffered_samples_ * 1000 / settings_.config.input_rate;
  if (ms < kMinCommitMs) {
    throw ProtocolError(fmt::format("Error committing input audio buffer: buffer too small. "
                                    "Expected at least {}ms of audio, but buffer only has {}ms of "
                                    "audio.",
                                    kMinCommitMs, ms),
                        "", "input_audio_buffer_commit_empty");
  }
  if (!pending_user_item_) pending_user_item_ = new_id("item");
  session_->commit_input();
  commit_pending_ = true;
  buffered_samples_ = 0;
}

void RealtimeConnection::on_clear() {
  session_->clear_input();
  input_->reset();
  buffered_samples_ = 0;
  pending_user_item_.reset();
  expect_cleared_frame_ = true;
  emit("input_audio_buffer.cleared");
}

void RealtimeConnection::on_item_create(const ItemCreate& e) {
  if (e.previous_item_id && *e.previous_item_id != "root" && !find_item(*e.previous_item_id)) {
    throw ProtocolError(fmt::format("Error adding item: the previous item with id '{}' does not "
                                    "exist.",
                                    *e.previous_item_id),
                        "previous_item_id", "item_not_found");
  }
  if (e.id && find_item(*e.id)) {
    throw ProtocolError(fmt::format("Error adding item: an item with id '{}' already exists.", *e.id),
                        "item.id", "item_already_exists");
  }
  std::vector<float> pcm;
  if (!e.audio.empty()) pcm = item_audio(e);
  const std::string previous = last_item_id();
  Item item;
  item.id = e.id ? *e.id : new_id("item");
  item.role = e.role;
  item.text = e.text;
  item.audio = !e.audio.empty();
  if (item.audio) transcribe_item(item.id, e.audio_content_index, e.text, std::move(pcm));
  // An audio item takes its place in the history now; its transcript fills it in later.
  item.history_id = session_->add_message(e.role, item.audio ? std::string() : e.text);
  Item& added = add_item(std::move(item));
  const json fields = {{"previous_item_id", previous.empty() ? json(nullptr) : json(previous)},
                       {"item", item_json(added)}};
  emit(event_name(dialect_, Name::ItemAdded), fields);
  if (dialect_ == Dialect::Ga) emit("conversation.item.done", fields);
}

std::vector<float> RealtimeConnection::item_audio(const ItemCreate& e) const {
  std::vector<float> wire;
  for (size_t i = 0; i < e.audio.size(); ++i) {
    const std::string param = fmt::format("item.content[{}].audio", e.audio_content_index);
    std::vector<uint8_t> bytes;
    try {
      bytes = base64_decode(e.audio[i]);
    } catch (const Error& ex) {
      throw ProtocolError(fmt::format("Invalid '{}': {}.", param, ex.what()), param,
                          "invalid_base64");
    }
    try {
      const std::vector<float> part = decode_wire_audio(settings_.input_format, bytes);
      wire.insert(wire.end(), part.begin(), part.end());
    } catch (const Error& ex) {
      throw ProtocolError(fmt::format("Invalid '{}': {}.", param, ex.what()), param, "invalid_audio");
    }
  }
  const int rate = format_rate(settings_.input_format);
  const int64_t ms = static_cast<int64_t>(wire.size()) * 1000 / rate;
  const int64_t limit = ctx_->options.limits.max_buffered_audio_ms;
  if (ms < kMinCommitMs || ms > limit) {
    throw ProtocolError(fmt::format("The audio of a conversation item must last {} to {} ms; it "
                                    "lasts {} ms.",
                                    kMinCommitMs, limit, ms),
                        "item.content", "invalid_value");
  }
  AudioBuffer buffer{.sample_rate = rate, .channels = 1, .samples = std::move(wire)};
  if (rate != 16000) buffer = resample(buffer, 16000);
  return std::move(buffer.samples);
}

void RealtimeConnection::transcribe_item(const std::string& item_id, int64_t content_index,
                                         const std::string& text, std::vector<float> pcm) {
  if (!transport_.post) {
    throw ProtocolError("Audio in conversation items is not available on this connection.",
                        "item.content", "unsupported_content");
  }
  auto post = transport_.post;
  auto ctx = ctx_;
  const bool queued = ctx_->workers.try_submit(
      [ctx, post, item_id, content_index, text, pcm = std::move(pcm)] {
        std::string transcript, failure;
        try {
          const CancelToken never;
          transcript = transcribe_audio(*ctx->engine, pcm, never);
          if (!text.empty()) transcript = transcript.empty() ? text : text + " " + transcript;
        } catch (const std::exception& ex) {
          failure = ex.what();
        }
        post([item_id, content_index, transcript, failure](RealtimeConnection& self) {
          self.on_item_transcribed(item_id, content_index, transcript, failure);
        });
      });
  if (!queued) {
    throw ProtocolError("The server is too busy to transcribe the item's audio; try again.",
                        "item.content", "server_busy");
  }
  ++transcribing_items_;
}

void RealtimeConnection::on_item_transcribed(const std::string& item_id, int64_t content_index,
                                             const std::string& transcript,
                                             const std::string& failure) {
  if (transcribing_items_ > 0) --transcribing_items_;
  Item* item = session_ ? find_item(item_id) : nullptr;
  if (item) {
    if (failure.empty()) {
      item->text = transcript;
      if (item->history_id != 0) session_->set_message_text(item->history_id, transcript);
      if (settings_.config.transcribe_input) {
        emit("conversation.item.input_audio_transcription.completed",
             {{"item_id", item_id}, {"content_index", content_index}, {"transcript", transcript}});
      }
    } else {
      emit("conversation.item.input_audio_transcription.failed",
           {{"item_id", item_id},
            {"content_index", content_index},
            {"error", {{"type", "server_error"},
                       {"code", "transcription_failed"},
                       {"message", fmt::format("could not transcribe the item's audio: {}", failure)},
                       {"param", nullptr}}}});
    }
  }
  if (session_) start_deferred_response();
}

void RealtimeConnection::on_item_retrieve(const ItemRetrieve& e) {
  const Item* item = find_item(e.item_id);
  if (!item) {
    throw ProtocolError(fmt::format("Error retrieving item: the item with id '{}' does not exist.",
                                    e.item_id),
                        "item_id", "item_not_found");
  }
  emit("conversation.item.retrieved", {{"item", item_json(*item)}});
}

void RealtimeConnection::on_item_truncate(const ItemTruncate& e) {
  Item* item = find_item(e.item_id);
  if (!item) {
    throw ProtocolError(fmt::format("Error truncating item: the item with id '{}' does not exist.",
                                    e.item_id),
                        "item_id", "item_not_found");
  }
  if (item->role != "assistant" || !item->audio) {
    throw ProtocolError(fmt::format("Error truncating item: only assistant messages with audio can "
                                    "be truncated, and '{}' is not one.",
                                    e.item_id),
                        "item_id", "invalid_value");
  }
  const int64_t have_ms = samples_to_ms(item->audio_samples);
  // A player counting at its own rate may round a few ms past the end: that is the end.
  constexpr int64_t kRoundingSlackMs = 20;
  if (e.audio_end_ms > have_ms + kRoundingSlackMs) {
    throw ProtocolError(fmt::format("Audio content of {}ms is already shorter than {}ms", have_ms,
                                    e.audio_end_ms),
                        "audio_end_ms", "invalid_value");
  }
  const int64_t end_ms = std::min(e.audio_end_ms, have_ms);
  if (item->history_id != 0) {
    try {
      session_->truncate(item->history_id, end_ms);
    } catch (const Error& ex) {
      throw ProtocolError(fmt::format("Error truncating item: {}", ex.what()), "audio_end_ms",
                          "invalid_value");
    }
    for (const auto& h : session_->history()) {
      if (h.id == item->history_id) item->text = h.text;
    }
  }
  item->audio_samples = end_ms * settings_.config.output_rate / 1000;
  truncated_sent_[item->id] = end_ms;
  emit("conversation.item.truncated",
       {{"item_id", item->id}, {"content_index", e.content_index}, {"audio_end_ms", e.audio_end_ms}});
}

void RealtimeConnection::on_item_delete(const ItemDelete& e) {
  const auto it = std::find_if(items_.begin(), items_.end(),
                               [&](const Item& i) { return i.id == e.item_id; });
  if (it == items_.end()) {
    throw ProtocolError(fmt::format("Error deleting item: the item with id '{}' does not exist.",
                                    e.item_id),
                        "item_id", "item_not_found");
  }
  if (it->history_id != 0) session_->delete_message(it->history_id);
  for (auto m = user_turn_items_.begin(); m != user_turn_items_.end();) {
    m = m->second == e.item_id ? user_turn_items_.erase(m) : std::next(m);
  }
  items_.erase(it);
  emit("conversation.item.deleted", {{"item_id", e.item_id}});
}

void RealtimeConnection::on_response_create(const ResponseCreate& e) {
  if (response_ || requested_) {
    const std::string id = response_ ? response_->id : "";
    throw ProtocolError(fmt::format("Conversation already has an active response in progress: {}. "
                                    "Wait until the response is finished before creating a new one.",
                                    id),
                        "", "conversation_already_has_active_response");
  }
  ResponseRequest request = parse_response_request(e.response, settings_);
  if (request.overrides.voice) check_voice(*request.overrides.voice, "response.voice");
  requested_ = request;
  if (commit_pending_ || transcribing_items_ > 0) {
    response_deferred_ = true;  // started by start_deferred_response() once the turn is final
    return;
  }
  try {
    session_->create_response(request.overrides);
  } catch (const Error&) {
    requested_.reset();
    throw;
  }
}

void RealtimeConnection::on_response_cancel(const ResponseCancel& e) {
  if (!response_ && !requested_) {
    throw ProtocolError("Cancellation failed: no active response found", "",
                        "response_cancel_not_active");
  }
  if (e.response_id && response_ && *e.response_id != response_->id) {
    throw ProtocolError(fmt::format("Cancellation failed: response '{}' is not the active one.",
                                    *e.response_id),
                        "response_id", "response_cancel_not_active");
  }
  if (response_deferred_) {
    // Not started yet: nothing to stop in the session; report it as cancelled right away.
    response_deferred_ = false;
    Frame done;
    done.kind = FrameKind::ResponseDone;
    done.detail = "cancelled";
    on_response_done(done);
    return;
  }
  session_->cancel_response();
}

void RealtimeConnection::on_output_clear() {
  session_->clear_output();
  emit("output_audio_buffer.cleared", {{"response_id", response_ ? json(response_->id) : json(nullptr)}});
}

void RealtimeConnection::check_voice(const std::string& engine_voice_name, std::string_view param) {
  try {
    ctx_->engine->check_voice_name(engine_voice_name);
  } catch (const Error& ex) {
    throw ProtocolError(fmt::format("Invalid value for '{}': {}", param, ex.what()),
                        std::string(param), "invalid_value");
  }
}

void RealtimeConnection::start_deferred_response() {
  // Still waiting for a user turn to become final, or for an item's audio to be transcribed.
  if (commit_pending_ || transcribing_items_ > 0) return;
  if (!response_deferred_) return;
  response_deferred_ = false;
  if (!requested_) return;
  try {
    session_->create_response(requested_->overrides);
  } catch (const std::exception& e) {
    requested_.reset();
    emit_error("response_failed", fmt::format("the response could not start: {}", e.what()), "",
               "server_error");
  }
}

void RealtimeConnection::arm_idle_timer(int64_t playback_left_ms) {
  const auto& td = settings_.config.turn;
  if (td.type != dialog::TurnDetection::Type::ServerVad || td.idle_timeout_ms <= 0 ||
      !transport_.schedule) {
    return;
  }
  // The client plays the answer from about now: the silence counts from the end of its audio.
  transport_.schedule(playback_left_ms + td.idle_timeout_ms, [this] { on_idle_timeout(); });
}

void RealtimeConnection::disarm_idle_timer() {
  if (transport_.schedule) transport_.schedule(-1, {});
}

void RealtimeConnection::on_idle_timeout() {
  if (!session_ || response_ || requested_) return;
  const int64_t now_ms = input_samples_total_ * 1000 / settings_.config.input_rate;
  const std::string item_id = pending_user_item_ ? *pending_user_item_ : new_id("item");
  emit("input_audio_buffer.timeout_triggered",
       {{"audio_start_ms", std::max<int64_t>(0, now_ms - settings_.config.turn.idle_timeout_ms)},
        {"audio_end_ms", now_ms},
        {"item_id", item_id}});
  // Prompt the person: the model speaks again (as the published API does after a timeout).
  try {
    ResponseRequest request;
    request.audio_output = settings_.config.audio_output;
    request.overrides.audio_output = request.audio_output;
    requested_ = request;
    session_->create_response(request.overrides);
  } catch (const std::exception&) {
    requested_.reset();
  }
}

// --- session frames --------------------------------------------------------------------------

void RealtimeConnection::on_frame(const Frame& f) {
  if (!session_) return;
  client_event_id_.clear();
  try {
    switch (f.kind) {
      case FrameKind::SpeechStarted: return on_speech_started(f);
      case FrameKind::SpeechStopped: return on_speech_stopped(f);
      case FrameKind::InputCommitted: return on_input_committed(f);
      case FrameKind::InputCleared:
        if (expect_cleared_frame_) {
          expect_cleared_frame_ = false;
        } else {
          emit("input_audio_buffer.cleared");
        }
        return;
      case FrameKind::TranscriptPartial: return on_transcript(f, false);
      case FrameKind::TranscriptFinal: return on_transcript(f, true);
      case FrameKind::ResponseStarted: return on_response_started(f);
      case FrameKind::TextDelta: return on_text_delta(f);
      case FrameKind::OutputAudio: return on_output_audio(f);
      case FrameKind::ResponseDone: return on_response_done(f);
      case FrameKind::PlaybackStarted:
        emit("output_audio_buffer.started",
             {{"response_id", response_ ? json(response_->id) : json(nullptr)}});
        return;
      case FrameKind::PlaybackStopped:
        emit("output_audio_buffer.stopped",
             {{"response_id", response_ ? json(response_->id) : json(nullptr)}});
        return;
      case FrameKind::Truncated: return on_truncated(f);
      case FrameKind::Trace: {
        json trace = json::parse(f.detail, nullptr, false);
        if (trace.is_discarded()) trace = f.detail;
        Item* item = nullptr;
        for (auto& i : items_) {
          if (i.history_id == f.turn && f.turn != 0) item = &i;
        }
        emit("duet.latency_trace", {{"turn", f.turn},
                                    {"item_id", item ? json(item->id) : json(nullptr)},
                                    {"trace", trace}});
        return;
      }
      case FrameKind::Error:
        emit_error(f.detail.empty() ? "server_error" : f.detail, f.text, "", "server_error");
        if (commit_pending_) {
          // The turn will not become final: the waiting response cannot start either.
          commit_pending_ = false;
          if (response_deferred_ && transcribing_items_ == 0) {
            response_deferred_ = false;
            requested_.reset();
          }
        } else if (requested_ && !response_ && !response_deferred_) {
          requested_.reset();  // the requested response failed before it started
        }
        return;
      case FrameKind::Interrupt:
      case FrameKind::InputAudio:
        return;
    }
  } catch (const std::exception& e) {
    emit_error("server_error", fmt::format("internal error handling a {} frame: {}",
                                           dialog::frame_kind_name(f.kind), e.what()),
               "", "server_error");
  }
}

void RealtimeConnection::on_speech_started(const Frame& f) {
  // With turn detection off the client decides turns: no VAD events, as the published API.
  if (settings_.config.turn.type == dialog::TurnDetection::Type::None) return;
  disarm_idle_timer();
  if (!pending_user_item_) pending_user_item_ = new_id("item");
  emit("input_audio_buffer.speech_started",
       {{"audio_start_ms", f.time_ms}, {"item_id", *pending_user_item_}});
}

void RealtimeConnection::on_speech_stopped(const Frame& f) {
  if (settings_.config.turn.type == dialog::TurnDetection::Type::None) return;
  if (!pending_user_item_) pending_user_item_ = new_id("item");
  emit("input_audio_buffer.speech_stopped",
       {{"audio_end_ms", f.time_ms}, {"item_id", *pending_user_item_}});
}

RealtimeConnection::Item* RealtimeConnection::item_for_turn(uint64_t turn, std::string_view role) {
  for (auto& i : items_) {
    if (i.history_id == turn && i.role == role && turn != 0) return &i;
  }
  return nullptr;
}

void RealtimeConnection::on_input_committed(const Frame& f) {
  if (item_for_turn(f.turn, "user")) return;  // already reported
  const std::string previous = last_item_id();
  Item item;
  item.id = pending_user_item_ ? *pending_user_item_ : new_id("item");
  pending_user_item_.reset();
  item.history_id = f.turn;
  item.role = "user";
  item.audio = true;
  item.status = "completed";
  buffered_samples_ = 0;
  Item& added = add_item(std::move(item));
  const json prev = previous.empty() ? json(nullptr) : json(previous);
  emit("input_audio_buffer.committed", {{"previous_item_id", prev}, {"item_id", added.id}});
  emit(event_name(dialect_, Name::ItemAdded), {{"previous_item_id", prev}, {"item", item_json(added)}});
}

void RealtimeConnection::on_transcript(const Frame& f, bool final) {
  if (!settings_.config.transcribe_input && !final) return;
  Item* item = item_for_turn(f.turn, "user");
  std::string item_id;
  if (item) {
    item_id = item->id;
  } else {
    if (!pending_user_item_) pending_user_item_ = new_id("item");
    item_id = *pending_user_item_;
  }
  if (!final) {
    std::string& sent = partials_[item_id];
    if (f.text.size() > sent.size() && f.text.compare(0, sent.size(), sent) == 0) {
      const std::string delta = f.text.substr(sent.size());
      sent = f.text;
      emit("conversation.item.input_audio_transcription.delta",
           {{"item_id", item_id}, {"content_index", 0}, {"delta", delta}});
    }
    return;
  }
  partials_.erase(item_id);
  if (!item) {
    // The final transcript came before the commit: report the commit now.
    Frame committed;
    committed.kind = FrameKind::InputCommitted;
    committed.turn = f.turn;
    on_input_committed(committed);
    item = item_for_turn(f.turn, "user");
    if (!item) return;
  }
  item->text = f.text;
  json fields = {{"item_id", item->id}, {"content_index", 0}, {"transcript", f.text}};
  if (!f.detail.empty()) fields["duet"] = {{"annotation", f.detail}};
  if (settings_.config.transcribe_input) {
    emit("conversation.item.input_audio_transcription.completed", fields);
  }
  if (dialect_ == Dialect::Ga) {
    emit("conversation.item.done", {{"previous_item_id", nullptr}, {"item", item_json(*item)}});
  }
  commit_pending_ = false;
  start_deferred_response();
}

RealtimeConnection::Response& RealtimeConnection::ensure_response(uint64_t turn) {
  if (response_ && (response_->turn == turn || response_->turn == 0 || turn == 0)) {
    if (response_->turn == 0) response_->turn = turn;
    return *response_;
  }
  if (response_) {
    // A response we never saw finish: close it first so the client's state stays consistent.
    Frame done;
    done.kind = FrameKind::ResponseDone;
    done.turn = response_->turn;
    done.text = response_->text;
    done.detail = "cancelled";
    on_response_done(done);
  }
  Response r;
  r.id = new_id("resp");
  r.turn = turn;
  r.audio = requested_ ? requested_->audio_output : settings_.config.audio_output;
  r.voice = requested_ ? requested_->voice : settings_.voice;
  requested_.reset();
  response_ = std::move(r);
  return *response_;
}

void RealtimeConnection::on_response_started(const Frame& f) {
  Response& r = ensure_response(f.turn);
  if (r.started) return;
  r.started = true;
  const std::string previous = last_item_id();
  Item item;
  item.id = new_id("item");
  item.history_id = f.turn;
  item.role = "assistant";
  item.audio = r.audio;
  item.status = "in_progress";
  Item& added = add_item(std::move(item));
  r.item_id = added.id;
  emit("response.created", {{"response", response_json(r, "in_progress", nullptr, nullptr)}});
  json item_js = item_json(added);
  item_js["content"] = json::array();
  emit("response.output_item.added",
       {{"response_id", r.id}, {"output_index", 0}, {"item", item_js}});
  emit(event_name(dialect_, Name::ItemAdded),
       {{"previous_item_id", previous.empty() ? json(nullptr) : json(previous)}, {"item", item_js}});
  const json part = r.audio ? audio_part(audio_part_type(), std::string())
                            : text_part(text_part_type(), "");
  emit("response.content_part.added", {{"response_id", r.id},
                                       {"item_id", r.item_id},
                                       {"output_index", 0},
                                       {"content_index", 0},
                                       {"part", part}});
}

void RealtimeConnection::on_text_delta(const Frame& f) {
  if (!response_ || !response_->started) on_response_started(f);
  Response& r = *response_;
  r.text += f.text;
  if (Item* item = find_item(r.item_id)) item->text = r.text;
  emit(event_name(dialect_, r.audio ? Name::TranscriptDelta : Name::TextDelta),
       {{"response_id", r.id},
        {"item_id", r.item_id},
        {"output_index", 0},
        {"content_index", 0},
        {"delta", f.text}});
}

void RealtimeConnection::on_output_audio(const Frame& f) {
  if (f.audio.empty()) return;
  if (!response_ || !response_->started) on_response_started(f);
  Response& r = *response_;
  if (!r.audio) return;  // a text-only response never carries audio
  const std::vector<uint8_t> bytes = output_->convert(f.audio);
  if (Item* item = find_item(r.item_id)) {
    item->audio_samples += static_cast<int64_t>(f.audio.size()) *
                           settings_.config.output_rate / std::max(1, f.sample_rate > 0 ? f.sample_rate : settings_.config.output_rate);
  }
  if (bytes.empty()) return;
  emit(event_name(dialect_, Name::OutputAudioDelta), {{"response_id", r.id},
                                                      {"item_id", r.item_id},
                                                      {"output_index", 0},
                                                      {"content_index", 0},
                                                      {"delta", base64_encode(bytes)}});
}

void RealtimeConnection::on_response_done(const Frame& f) {
  if (!response_ || !response_->started) {
    if (!response_ && !requested_ && f.detail != "completed" && f.detail != "failed") {
      return;  // a cancelled speculative reply that the client never saw
    }
    on_response_started(f);
  }
  Response r = std::move(*response_);
  response_.reset();
  output_->reset();
  const std::string text = f.text.empty() ? r.text : f.text;
  Item* item = find_item(r.item_id);
  std::string status = "completed";
  json details = nullptr;
  if (f.detail == "cancelled") {
    status = "cancelled";
    details = {{"type", "cancelled"}, {"reason", "client_cancelled"}};
  } else if (f.detail == "interrupted") {
    status = "cancelled";
    details = {{"type", "cancelled"}, {"reason", "turn_detected"}};
  } else if (f.detail == "incomplete") {
    status = "incomplete";
    details = {{"type", "incomplete"}, {"reason", "max_output_tokens"}};
  } else if (f.detail == "failed") {
    status = "failed";
    details = {{"type", "failed"}, {"error", {{"type", "server_error"}, {"message", f.text}}}};
  }
  if (item) {
    item->text = status == "failed" ? r.text : text;
    item->status = status == "completed" ? "completed" : "incomplete";
  }
  const std::string final_text = item ? item->text : r.text;
  const json ids = {{"response_id", r.id}, {"item_id", r.item_id}, {"output_index", 0}, {"content_index", 0}};
  auto with = [&ids](json extra) {
    json j = ids;
    for (auto& [k, v] : extra.items()) j[k] = v;
    return j;
  };
  if (r.audio) {
    emit(event_name(dialect_, Name::OutputAudioDone), ids);
    emit(event_name(dialect_, Name::TranscriptDone), with({{"transcript", final_text}}));
    emit("response.content_part.done",
         with({{"part", audio_part(audio_part_type(), final_text)}}));
  } else {
    emit(event_name(dialect_, Name::TextDone), with({{"text", final_text}}));
    emit("response.content_part.done", with({{"part", text_part(text_part_type(), final_text)}}));
  }
  const json item_js = item ? item_json(*item) : json(nullptr);
  emit("response.output_item.done", {{"response_id", r.id}, {"output_index", 0}, {"item", item_js}});
  if (dialect_ == Dialect::Ga && item) {
    emit("conversation.item.done", {{"previous_item_id", nullptr}, {"item", item_js}});
  }
  json done = response_json(r, status, details, nullptr);
  done["output"] = item ? json::array({item_js}) : json::array();
  emit("response.done", {{"response", done}});
  if (r.audio && item) {
    arm_idle_timer(samples_to_ms(item->audio_samples));
  } else {
    arm_idle_timer(0);
  }
  // A local server has no quota: report the session limits so clients that track them see some.
  emit("rate_limits.updated",
       {{"rate_limits", json::array({{{"name", "requests"},
                                      {"limit", ctx_->options.limits.request_burst},
                                      {"remaining", ctx_->options.limits.request_burst},
                                      {"reset_seconds", 0}}})}});
}

void RealtimeConnection::on_truncated(const Frame& f) {
  Item* item = item_for_turn(f.turn, "assistant");
  if (!item) return;
  item->text = f.text;
  const auto sent = truncated_sent_.find(item->id);
  if (sent != truncated_sent_.end() && sent->second == f.time_ms) return;
  truncated_sent_[item->id] = f.time_ms;
  emit("conversation.item.truncated",
       {{"item_id", item->id}, {"content_index", 0}, {"audio_end_ms", f.time_ms}});
}

// --- helpers ---------------------------------------------------------------------------------

RealtimeConnection::Item* RealtimeConnection::find_item(std::string_view id) {
  for (auto& i : items_) {
    if (i.id == id) return &i;
  }
  return nullptr;
}

RealtimeConnection::Item& RealtimeConnection::add_item(Item item) {
  // Keep the conversation view bounded: the session keeps the real history.
  constexpr size_t kMaxItems = 4096;
  if (items_.size() >= kMaxItems) items_.erase(items_.begin());
  items_.push_back(std::move(item));
  return items_.back();
}

std::string RealtimeConnection::last_item_id() const {
  return items_.empty() ? std::string() : items_.back().id;
}

std::string RealtimeConnection::audio_part_type() const {
  return dialect_ == Dialect::Ga ? "output_audio" : "audio";
}

std::string RealtimeConnection::text_part_type() const {
  return dialect_ == Dialect::Ga ? "output_text" : "text";
}

json RealtimeConnection::item_json(const Item& item) const {
  json content = json::array();
  if (item.role == "user") {
    if (item.audio) {
      content.push_back(audio_part("input_audio", item.text.empty() ? std::nullopt
                                                                    : std::optional(item.text)));
    } else {
      content.push_back(text_part("input_text", item.text));
    }
  } else if (item.role == "assistant") {
    if (item.audio) {
      content.push_back(audio_part(audio_part_type(), item.text));
    } else {
      content.push_back(text_part(text_part_type(), item.text));
    }
  } else {
    content.push_back(text_part("input_text", item.text));
  }
  return message_item(item.id, item.role, item.status, content);
}

json RealtimeConnection::response_json(const Response& r, std::string_view status,
                                       const json& status_details, const json& usage) const {
  const json modalities = r.audio ? json::array({"audio"}) : json::array({"text"});
  json j = {{"object", "realtime.response"},
            {"id", r.id},
            {"status", status},
            {"status_details", status_details},
            {"output", json::array()},
            {"conversation_id", conversation_id_},
            {"usage", usage},
            {"metadata", nullptr}};
  if (dialect_ == Dialect::Ga) {
    j["output_modalities"] = modalities;
    json format = {{"type", ga_format_type(settings_.output_format)}};
    if (settings_.output_format == AudioFormat::Pcm16) format["rate"] = 24000;
    j["audio"] = {{"output", {{"format", format}, {"voice", r.voice}}}};
  } else {
    j["modalities"] = r.audio ? json::array({"text", "audio"}) : json::array({"text"});
    j["voice"] = r.voice;
    j["output_audio_format"] = beta_format_name(settings_.output_format);
  }
  return j;
}

}  // namespace duet::server::realtime
