// Session: the public API, the controller thread and its three lanes (commands first, then stage
// results, then microphone audio). Every change of conversation state happens on the controller
// thread; push_audio()/pull_audio() only queue or copy. Must never run model work on the
// caller's thread, and never call the observer from anywhere but the controller.
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "dialog/session_impl.hpp"

namespace duet::dialog {

Session::Impl::Impl(std::shared_ptr<Engine> eng, SessionConfig conf, Observer obs)
    : engine(std::move(eng)),
      observer(std::move(obs)),
      config(conf),
      cfg(std::move(conf)),
      asr_pool(engine->threads()) {
  speech::AsrOptions asr_options;
  asr_options.partial_interval_ms = 0;  // the controller decides when to decode
  asr = std::make_unique<speech::WhisperAsr>(engine->whisper(), &asr_pool, asr_options);
  llm = engine->new_chat_llm();
  voice_name = cfg.voice;
  voice = engine->new_voice(cfg.voice);
  apply_config();
  warm_llm(nullptr);  // the instructions into the LLM's cache before the person speaks
  controller = std::thread([this] { run(); });
}

Session::Impl::~Impl() {
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
  asr_cancel.cancel();
  warm_cancel.cancel();
  if (reply) reply->cancel.cancel();
  controller.join();
  // Again, now that the controller is gone: tokens it renewed meanwhile end jobs that are still
  // waiting for the machine (ComputeArbiter) instead of letting them run for nobody.
  asr_cancel.cancel();
  warm_cancel.cancel();
  warm_give_up.cancel();
  if (reply) reply->cancel.cancel();
  asr_worker.clear();
  reply_worker.clear();
  feature_worker.clear();
}

double Session::Impl::now_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void Session::Impl::post_event(Frame f) {
  {
    std::lock_guard lock(mu);
    events.push_back(std::move(f));
  }
  cv.notify_all();
}

void Session::Impl::post_control(std::function<void()> fn) {
  {
    std::lock_guard lock(mu);
    control.push_back(std::move(fn));
  }
  cv.notify_all();
}

void Session::Impl::emit(Frame f) {
  if (!observer) return;
  try {
    observer(f);
  } catch (...) {
    // An observer's failure must not stop the conversation.
  }
}

void Session::Impl::set_responding(bool on) {
  std::lock_guard lock(mu);
  responding_flag = on;
}

void Session::Impl::run() {
  while (true) {
    std::function<void()> command;
    std::optional<Frame> event;
    std::vector<float> pcm;
    {
      std::unique_lock lock(mu);
      handling = false;
      cv.notify_all();
      cv.wait(lock, [this] {
        return stopping || !control.empty() || !events.empty() || !input.empty();
      });
      if (stopping) return;
      handling = true;
      if (!control.empty()) {
        command = std::move(control.front());
        control.pop_front();
      } else if (!events.empty()) {
        event = std::move(events.front());
        events.pop_front();
      } else {
        pcm = std::move(input.front());
        input.pop_front();
      }
    }
    try {
      if (command) {
        command();
      } else if (event) {
        switch (event->kind) {
          case FrameKind::TranscriptPartial: on_partial(*event); break;
          case FrameKind::TranscriptFinal: on_look(*event); break;
          case FrameKind::PlaybackStarted:
          case FrameKind::PlaybackStopped: on_playback(*event); break;
          case FrameKind::Error: emit(std::move(*event)); break;
          default: on_reply_frame(std::move(*event)); break;
        }
      } else {
        on_input(std::move(pcm));
      }
    } catch (const Error& e) {
      Frame err{.kind = FrameKind::Error, .time_ms = static_cast<int64_t>(now_ms()),
                .text = e.what(), .detail = "server_error"};
      emit(std::move(err));
    }
  }
}

// ---- public API ----

Session::Session(std::shared_ptr<Engine> engine, SessionConfig config, Observer observer)
    : impl_(std::make_unique<Impl>(std::move(engine), std::move(config), std::move(observer))) {}

Session::~Session() = default;

void Session::push_audio(std::span<const float> pcm) {
  if (pcm.empty()) return;
  std::vector<float> at16;
  {
    std::lock_guard lock(impl_->push_mu);
    int rate = 0;
    {
      std::lock_guard cfg_lock(impl_->mu);
      rate = impl_->config.input_rate;
    }
    if (rate == kRate) {
      at16.assign(pcm.begin(), pcm.end());
    } else {
      if (!impl_->input_resampler || impl_->input_resampler->input_rate() != rate) {
        impl_->input_resampler.emplace(rate, kRate, 1, ResampleQuality::Fast);
      }
      impl_->input_resampler->push(pcm, at16);
    }
  }
  for (float& v : at16) {
    if (!std::isfinite(v)) v = 0.0f;
  }
  if (at16.empty()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->input.push_back(std::move(at16));
  }
  impl_->cv.notify_all();
}

size_t Session::pull_audio(std::span<float> out) {
  const Playout::PullResult r = impl_->playout.pull(out);
  const double now = impl_->now_ms();
  int out_rate = 0;
  {
    std::lock_guard lock(impl_->mu);
    out_rate = impl_->config.output_rate;
  }
  if (r.started != 0) {
    impl_->post_event({.kind = FrameKind::PlaybackStarted, .epoch = r.started, .turn = r.started,
                       .time_ms = static_cast<int64_t>(now + 1000.0 * static_cast<double>(r.started_offset) / out_rate)});
  }
  if (r.drained != 0) {
    impl_->post_event({.kind = FrameKind::PlaybackStopped, .epoch = r.drained, .turn = r.drained,
                       .time_ms = static_cast<int64_t>(now + 1000.0 * static_cast<double>(out.size()) / out_rate)});
  }
  // The far end for echo cancellation, on the hearing side's rate.
  {
    std::lock_guard lock(impl_->far_mu);
    if (!impl_->far_resampler || impl_->far_resampler->input_rate() != out_rate) {
      impl_->far_resampler.emplace(out_rate, kRate, 1, ResampleQuality::Fast);
    }
    impl_->far_scratch.clear();
    impl_->far_resampler->push(out, impl_->far_scratch);
    impl_->far_end.insert(impl_->far_end.end(), impl_->far_scratch.begin(), impl_->far_scratch.end());
    const size_t cap = kRate * 2;  // never more than 2 s behind
    if (impl_->far_end.size() > cap) {
      impl_->far_end.erase(impl_->far_end.begin(), impl_->far_end.end() - static_cast<int64_t>(cap));
    }
  }
  return r.answer_samples;
}

bool Session::responding() const {
  std::lock_guard lock(impl_->mu);
  return impl_->responding_flag || impl_->playout.queued() > 0;
}

void Session::update(const SessionConfig& config) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->config = config;
  }
  impl_->post_control([impl = impl_.get(), config] {
    impl->cfg = config;
    impl->apply_config();
    if (!impl->utt.open) impl->warm_llm(nullptr);  // new instructions, computed ahead
  });
}

SessionConfig Session::config() const {
  std::lock_guard lock(impl_->mu);
  return impl_->config;
}

void Session::commit_input() {
  impl_->post_control([impl = impl_.get()] { impl->commit_turn(true); });
}

void Session::clear_input() {
  impl_->post_control([impl = impl_.get()] {
    impl->close_utterance();
    impl->emit({.kind = FrameKind::InputCleared, .time_ms = static_cast<int64_t>(impl->now_ms())});
  });
}

uint64_t Session::add_message(const std::string& role, const std::string& text) {
  if (role != "user" && role != "assistant" && role != "system") {
    fail("unknown message role '{}'; use user, assistant or system", role);
  }
  std::lock_guard lock(impl_->mu);
  const uint64_t id = impl_->next_item_id++;
  impl_->history.push_back({.id = id, .role = role, .text = text});
  return id;
}

bool Session::delete_message(uint64_t id) {
  std::lock_guard lock(impl_->mu);
  auto& h = impl_->history;
  const auto it = std::find_if(h.begin(), h.end(), [id](const HistoryEntry& e) { return e.id == id; });
  if (it == h.end()) return false;
  h.erase(it);
  return true;
}

bool Session::set_message_text(uint64_t id, const std::string& text) {
  std::lock_guard lock(impl_->mu);
  for (auto& e : impl_->history) {
    if (e.id != id) continue;
    e.text = text;
    return true;
  }
  return false;
}

void Session::create_response(const ResponseOverrides& overrides) {
  impl_->post_control([impl = impl_.get(), overrides] {
    impl->next_overrides = overrides;
    impl->start_reply(false, "");
  });
}

void Session::cancel_response() {
  impl_->post_control([impl = impl_.get()] {
    if (!impl->reply) return;
    impl->cut_reply(impl->heard_samples(*impl->reply), false);
  });
}

void Session::truncate(uint64_t id, int64_t audio_end_ms) {
  {
    std::lock_guard lock(impl_->mu);
    auto& h = impl_->history;
    const auto it =
        std::find_if(h.begin(), h.end(), [id](const HistoryEntry& e) { return e.id == id; });
    if (it == h.end() || it->role != "assistant") fail("no assistant item {} to truncate", id);
    if (audio_end_ms < 0 || audio_end_ms > it->audio_made_ms) {
      fail("audio_end_ms {} is beyond the item's audio ({} ms)", audio_end_ms, it->audio_made_ms);
    }
  }
  impl_->post_control([impl = impl_.get(), id, audio_end_ms] {
    const int64_t heard = audio_end_ms * impl->cfg.output_rate / 1000;
    if (impl->reply && impl->reply->id == id) {
      impl->cut_reply(heard, false);
      return;
    }
    // A finished (or already cut) reply: its text becomes the words whose sound had started.
    std::lock_guard inner(impl->mu);
    for (auto& e : impl->history) {
      if (e.id != id) continue;
      std::string text;
      for (const auto& w : e.words) {
        if (w.start_sample >= heard) break;
        if (!text.empty()) text.push_back(' ');
        text += w.word;
      }
      e.text = std::move(text);
      e.truncated = true;
      e.audio_ms = audio_end_ms;
    }
  });
}

void Session::clear_output() {
  impl_->post_control([impl = impl_.get()] {
    if (impl->reply) impl->cut_reply(impl->heard_samples(*impl->reply), false);
    impl->playout.clear();
  });
}

std::vector<HistoryEntry> Session::history() const {
  std::lock_guard lock(impl_->mu);
  return impl_->history;
}

void Session::drain() {
  while (true) {
    impl_->asr_worker.wait_idle();
    impl_->reply_worker.wait_idle();
    impl_->feature_worker.wait_idle();
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait(lock, [this] {
      return impl_->stopping || (!impl_->handling && impl_->control.empty() &&
                                 impl_->events.empty() && impl_->input.empty());
    });
    if (impl_->asr_worker.idle() && impl_->reply_worker.idle() && impl_->feature_worker.idle() &&
        impl_->events.empty() && impl_->control.empty()) {
      return;
    }
  }
}

}  // namespace duet::dialog
