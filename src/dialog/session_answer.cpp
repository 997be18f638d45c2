// The answering side of a session: building the LLM's view of the conversation, running a reply
// (LLM -> voice) on the reply worker, holding a speculative reply's output until the turn is
// confirmed, feeding playout, and cutting a reply where the person stopped hearing it (barge-in,
// response.cancel, truncate). Runs on the controller thread, except the job in start_reply().
// Must never let a frame of a dropped reply through: every frame is checked against reply->id.
#include <algorithm>
#include <cstdio>

#include "core/error.hpp"
#include "dialog/reply_speaker.hpp"
#include "dialog/session_impl.hpp"
#include "dialog/tag_filter.hpp"

namespace duet::dialog {

std::string Session::Impl::user_content(const std::string& text, const std::string& annotation) const {
  // After the words, so the model reads the question first (small models answer better so).
  if (!cfg.annotate || annotation.empty()) return text;
  return text + " " + annotation;
}

std::vector<ChatMessage> Session::Impl::conversation(const std::string* pending_user) const {
  std::vector<ChatMessage> msgs;
  std::string system = next_overrides.instructions.value_or(cfg.instructions);
  std::lock_guard lock(mu);
  for (const auto& h : history) {
    if (h.role == "system") system += "\n" + h.text;
  }
  if (!system.empty()) msgs.push_back({"system", system});
  for (const auto& h : history) {
    if (h.role == "user") {
      msgs.push_back({"user", user_content(h.text, h.annotation)});
    } else if (h.role == "assistant" && !h.text.empty()) {
      msgs.push_back({"assistant", h.text});
    }
  }
  if (pending_user) msgs.push_back({"user", *pending_user});
  return msgs;
}

uint64_t Session::Impl::add_history(const std::string& role, const std::string& text,
                                    const std::string& annotation) {
  std::lock_guard lock(mu);
  const uint64_t id = next_item_id++;
  history.push_back({.id = id, .role = role, .text = text, .annotation = annotation});
  return id;
}

bool Session::Impl::answer_audible() const {
  if (!reply || reply->speculative || reply->audio_samples == 0) return false;
  if (playout.attached()) return reply->playing && playout.queued() > 0;
  return heard_samples(*reply) < reply->audio_samples;
}

bool Session::Impl::answer_in_progress() const {
  if (!reply || reply->speculative) return false;
  if (!reply->generation_done) return true;  // more is coming (or its first sound is due)
  return playout.attached() ? playout.queued() > 0 || !reply->playing
                            : heard_samples(*reply) < reply->audio_samples;
}

int64_t Session::Impl::heard_samples(const ActiveReply& r) const {
  if (playout.attached()) return playout.played(r.id);
  if (r.first_emit_ms < 0) return 0;
  const double elapsed = (now_ms() - r.first_emit_ms) / 1000.0;
  return std::min<int64_t>(r.audio_samples, static_cast<int64_t>(elapsed * cfg.output_rate));
}

void Session::Impl::warm_llm(const std::string* pending_user) {
  if (reply && !reply->generation_done) return;  // the LLM is busy with an answer
  // The person's next turn is open: its opening (and its stable words) are computed too.
  const std::string next_turn = pending_user ? *pending_user : std::string();
  std::vector<ChatMessage> messages = conversation(&next_turn);
  if (messages.empty()) return;
  warm_cancel.cancel();
  warm_cancel = CancelToken();
  warm_give_up = CancelToken();
  reply_worker.post([this, messages = std::move(messages), token = warm_cancel, give_up = warm_give_up] {
    try {
      // Not worth waiting for once the answer itself started (start_reply raises give_up): its
      // prefill computes the same tokens, and it waits behind this job. A head start that lent
      // the machine to other sessions gives up too (the cache keeps what it computed).
      std::optional<ComputeArbiter::Lease> lease;
      if (llm->computes_here()) {
        lease.emplace(engine->arbiter().acquire({.urgency = Urgency::Soon, .give_up = give_up}, token));
      }
      llm->prefill(messages, lease ? lease->token() : token);
    } catch (const Cancelled&) {
    } catch (const std::exception&) {
      // Only a head start: the answer itself reports whatever is wrong with the conversation.
    }
  });
}

void Session::Impl::start_reply(bool speculative, const std::string& user_text,
                                std::optional<ComputeClaim::Clock::time_point> since) {
  // A head start still running is left to finish: its tokens are the start of this prompt (a
  // cancel would throw them away). One waiting for the machine (first, or to get it back after
  // lending it to another session) stops there.
  warm_give_up.cancel();
  if (reply) {
    if (reply->speculative) {
      drop_reply("cancelled");
    } else {
      cut_reply(heard_samples(*reply), false);
    }
  }
  const std::vector<ChatMessage> messages = conversation(speculative ? &user_text : nullptr);
  const bool has_user = std::any_of(messages.begin(), messages.end(),
                                    [](const ChatMessage& m) { return m.role == "user"; });
  if (!has_user) {
    emit({.kind = FrameKind::Error, .time_ms = static_cast<int64_t>(now_ms()),
          .text = "nothing to respond to: the conversation has no user message yet",
          .detail = "invalid_request_error"});
    next_overrides = {};
    return;
  }
  ActiveReply r;
  {
    std::lock_guard lock(mu);
    r.id = next_item_id++;
  }
  r.speculative = speculative;
  r.answers = user_text;
  r.audio_output = next_overrides.audio_output.value_or(cfg.audio_output);
  r.started_ms = now_ms();
  ReplyOptions options = cfg.reply;
  if (next_overrides.temperature) options.temperature = *next_overrides.temperature;
  if (next_overrides.max_tokens) options.max_tokens = *next_overrides.max_tokens;
  // A voice of its own for this response only (made on the reply worker, off the controller).
  std::optional<std::string> own_voice;
  if (next_overrides.voice && *next_overrides.voice != cfg.voice) own_voice = next_overrides.voice;
  next_overrides = {};
  reply = r;
  set_responding(true);
  if (!speculative) release_reply();
  if (!trace_open) {  // a response without a spoken turn (response.create after text input)
    trace = TurnTrace{};
    trace.mode = cfg.cascade ? "cascade" : "duplex";
    trace_open = true;
  }
  const ComputeClaim claim{.urgency = Urgency::Now, .since = since.value_or(ComputeClaim::Clock::now())};
  reply_worker.post([this, id = r.id, cancel = r.cancel, messages, options,
                     audio = r.audio_output, whole = cfg.cascade, rate = cfg.output_rate,
                     own_voice, claim] {
    const auto stamp = [&](Frame f) {
      f.epoch = id;
      f.turn = id;
      f.time_ms = static_cast<int64_t>(now_ms());
      post_event(std::move(f));
    };
    std::vector<float> whole_audio;
    std::vector<WordMark> whole_words;
    try {
      // A voice of the response's own is loaded before the machine is taken, so that reading
      // its model file never holds up another session's work.
      const std::shared_ptr<Voice> speaking_voice =
          audio && own_voice ? std::shared_ptr<Voice>(engine->new_voice(*own_voice)) : voice;
      // The machine, first among the sessions' work until the first sound (or text) is out,
      // then lent at every token and every vocoder layer to anyone's more urgent work. A remote
      // LLM computes elsewhere: only the voice's chunks take the machine then, one at a time.
      std::optional<ComputeArbiter::Lease> lease;
      if (llm->computes_here()) lease.emplace(engine->arbiter().acquire(claim, cancel));
      const CancelToken& work = lease ? lease->token() : cancel;
      bool first_out = false;
      const auto out_first = [&] {
        if (!first_out && lease) lease->set_urgency(Urgency::Soon);
        first_out = true;
      };
      std::optional<ReplySpeaker> speaker;
      if (audio) speaker.emplace(*speaking_voice, rate);
      const auto next_chunk = [&]() -> std::optional<SpokenChunk> {
        if (lease) return speaker->next_chunk(work);
        auto own = engine->arbiter().acquire(
            {.urgency = first_out ? Urgency::Soon : Urgency::Now, .since = claim.since}, cancel);
        return speaker->next_chunk(own.token());
      };
      const auto speak_ready = [&] {
        while (auto chunk = next_chunk()) {
          if (whole) {
            whole_audio.insert(whole_audio.end(), chunk->samples.begin(), chunk->samples.end());
            whole_words.insert(whole_words.end(), chunk->words.begin(), chunk->words.end());
          } else {
            stamp({.kind = FrameKind::OutputAudio, .sample_rate = rate,
                   .audio = std::move(chunk->samples), .words = std::move(chunk->words)});
            out_first();
          }
        }
      };
      // The model's copies of the prompt's tags ("[third speaker]") are neither shown, kept
      // nor spoken.
      TagFilter tags;
      std::string said;
      const auto on_text = [&](std::string_view raw) {
        const std::string piece = tags.push(raw);
        if (piece.empty()) return;
        said += piece;
        stamp({.kind = FrameKind::TextDelta, .text = piece});
        if (!speaker) out_first();
        if (speaker && !whole) {
          speaker->push_text(piece);
          speak_ready();
        }
      };
      const ReplyResult result = llm->reply(messages, options, on_text, work);
      tags.finish();
      stamp({.kind = FrameKind::Trace,
             .detail = std::to_string(result.prompt_tokens) + " " + std::to_string(result.reused_tokens)});
      if (result.end == ReplyEnd::Cancelled) throw Cancelled{};
      if (speaker) {
        if (whole) speaker->push_text(said);
        speaker->finish();
        speak_ready();
        if (whole && !whole_audio.empty()) {
          stamp({.kind = FrameKind::OutputAudio, .sample_rate = rate, .audio = std::move(whole_audio),
                 .words = std::move(whole_words)});
        }
      }
      stamp({.kind = FrameKind::ResponseDone, .text = said,
             .detail = result.end == ReplyEnd::Length ? "incomplete" : "completed"});
    } catch (const Cancelled&) {
      stamp({.kind = FrameKind::ResponseDone, .detail = "cancelled"});
    } catch (const std::exception& e) {
      stamp({.kind = FrameKind::Error, .text = std::string("the reply failed: ") + e.what(),
             .detail = "response_failed"});
      stamp({.kind = FrameKind::ResponseDone, .detail = "failed"});
    }
  });
}

void Session::Impl::release_reply() {
  if (!reply) return;
  reply->speculative = false;
  {
    std::lock_guard lock(mu);
    history.push_back({.id = reply->id, .role = "assistant"});
  }
  emit({.kind = FrameKind::ResponseStarted, .epoch = reply->id, .turn = reply->id,
        .time_ms = static_cast<int64_t>(now_ms())});
  std::vector<Frame> held = std::move(reply->held);
  reply->held.clear();
  for (auto& f : held) {
    if (!reply) break;
    deliver(std::move(f));
  }
}

void Session::Impl::drop_reply(const char* status) {
  if (!reply) return;
  if (!reply->speculative) {
    cut_reply(heard_samples(*reply), false);
    return;
  }
  (void)status;
  reply->cancel.cancel();
  reply.reset();
  set_responding(false);
}

void Session::Impl::on_reply_frame(Frame f) {
  if (!reply || f.epoch != reply->id) return;  // a dropped reply's leftovers
  switch (f.kind) {
    case FrameKind::TextDelta:
      if (reply->first_token_ms < 0) reply->first_token_ms = static_cast<double>(f.time_ms);
      reply->text += f.text;
      break;
    case FrameKind::OutputAudio:
      if (reply->first_chunk_ms < 0) reply->first_chunk_ms = static_cast<double>(f.time_ms);
      for (const auto& w : f.words) reply->words.push_back(w);
      reply->audio_samples += static_cast<int64_t>(f.audio.size());
      break;
    case FrameKind::ResponseDone:
      reply->generation_done = true;
      reply->status = f.detail;
      break;
    case FrameKind::Trace: {
      long long prompt = 0, reused = 0;
      if (std::sscanf(f.detail.c_str(), "%lld %lld", &prompt, &reused) == 2) {
        reply->prompt_tokens = prompt;
        reply->reused_tokens = reused;
      }
      return;
    }
    default:
      break;
  }
  if (reply->speculative) {
    reply->held.push_back(std::move(f));
    return;
  }
  deliver(std::move(f));
}

void Session::Impl::deliver(Frame f) {
  const uint64_t id = reply->id;
  switch (f.kind) {
    case FrameKind::TextDelta: {
      std::lock_guard lock(mu);
      for (auto& h : history) {
        if (h.id == id) h.text += f.text;
      }
      break;
    }
    case FrameKind::OutputAudio: {
      if (reply->first_emit_ms < 0) {
        reply->first_emit_ms = now_ms();
        if (!playout.attached() && trace_open && trace.first_audio_ms < 0) {
          trace.first_audio_ms = reply->first_emit_ms;
        }
      }
      if (playout.attached()) playout.append(id, f.audio);
      std::lock_guard lock(mu);
      for (auto& h : history) {
        if (h.id != id) continue;
        h.audio_made_ms = (reply->audio_samples * 1000) / cfg.output_rate;
        h.audio_ms = h.audio_made_ms;
        h.words.insert(h.words.end(), f.words.begin(), f.words.end());
      }
      break;
    }
    case FrameKind::ResponseDone:
      warm_llm(nullptr);  // the reply's closing tokens, while it plays
      finish_reply_if_done();
      return;  // reported by finish_reply_if_done()
    default:
      break;
  }
  emit(std::move(f));
}

void Session::Impl::on_playback(const Frame& f) {
  if (!reply || reply->id != f.epoch) return;
  if (f.kind == FrameKind::PlaybackStarted) {
    reply->playing = true;
    if (trace_open && trace.first_audio_ms < 0) trace.first_audio_ms = static_cast<double>(f.time_ms);
    emit(f);
    return;
  }
  finish_reply_if_done();
}

void Session::Impl::finish_reply_if_done() {
  if (!reply || !reply->generation_done || reply->speculative) return;
  if (playout.attached() && playout.queued() > 0) return;  // still playing
  const ActiveReply r = *reply;
  // State first, then the news: an observer that looks at the session sees it finished.
  std::optional<Frame> trace_frame = finish_trace();
  reply.reset();
  set_responding(false);
  if (r.playing) {
    emit({.kind = FrameKind::PlaybackStopped, .epoch = r.id, .turn = r.id,
          .time_ms = static_cast<int64_t>(now_ms())});
  }
  emit({.kind = FrameKind::ResponseDone, .epoch = r.id, .turn = r.id,
        .time_ms = static_cast<int64_t>(now_ms()), .text = r.text, .detail = r.status});
  if (trace_frame) emit(std::move(*trace_frame));
}

void Session::Impl::barge_in() {
  if (!reply) return;
  // An answer not heard yet is simply withdrawn (the person went on talking); only one that was
  // sounding is interrupted.
  const bool sounding = playout.attached() ? reply->playing : reply->first_emit_ms >= 0;
  if (sounding) {
    emit({.kind = FrameKind::Interrupt, .epoch = reply->id, .turn = reply->id,
          .time_ms = static_cast<int64_t>(now_ms())});
  }
  cut_reply(heard_samples(*reply), sounding);
}

void Session::Impl::cut_reply(int64_t heard, bool interrupted) {
  if (!reply) return;
  reply->cancel.cancel();
  if (reply->speculative) {
    reply.reset();
    set_responding(false);
    return;
  }
  if (playout.attached()) playout.clear();
  const ActiveReply r = *reply;
  std::string heard_text;
  if (!r.audio_output) {
    heard_text = r.text;
  } else {
    for (const auto& w : r.words) {
      if (w.start_sample >= heard) break;
      if (!heard_text.empty()) heard_text.push_back(' ');
      heard_text += w.word;
    }
  }
  const int64_t heard_ms = heard * 1000 / std::max(1, cfg.output_rate);
  {
    std::lock_guard lock(mu);
    for (auto& h : history) {
      if (h.id != r.id) continue;
      h.text = heard_text;
      h.truncated = true;
      h.audio_ms = heard_ms;
    }
  }
  reply->text = heard_text;
  trace.interrupted = interrupted;
  std::optional<Frame> trace_frame = finish_trace();
  reply.reset();
  set_responding(false);
  emit({.kind = FrameKind::Truncated, .epoch = r.id, .turn = r.id, .time_ms = heard_ms,
        .text = heard_text});
  if (r.playing) {
    emit({.kind = FrameKind::PlaybackStopped, .epoch = r.id, .turn = r.id,
          .time_ms = static_cast<int64_t>(now_ms())});
  }
  emit({.kind = FrameKind::ResponseDone, .epoch = r.id, .turn = r.id,
        .time_ms = static_cast<int64_t>(now_ms()), .text = heard_text,
        .detail = interrupted ? "interrupted" : "cancelled"});
  if (trace_frame) emit(std::move(*trace_frame));
}

std::optional<Frame> Session::Impl::finish_trace() {
  if (!trace_open || !reply) return std::nullopt;
  trace.turn = reply->id;
  trace.reply = reply->text;
  trace.first_token_ms = reply->first_token_ms;
  trace.first_tts_chunk_ms = reply->first_chunk_ms;
  if (reply->started_ms < trace.final_transcript_ms) trace.speculative_start_ms = reply->started_ms;
  trace.prompt_tokens = reply->prompt_tokens;
  trace.reused_tokens = reply->reused_tokens;
  trace_open = false;
  return Frame{.kind = FrameKind::Trace, .epoch = reply->id, .turn = reply->id,
               .time_ms = static_cast<int64_t>(now_ms()), .detail = trace.to_json()};
}

}  // namespace duet::dialog
