// The hearing side of a session: echo cancellation against what Duet plays, endpointing, feeding
// the recogniser (partials while the person speaks, a look at the transcript at the first pause),
// and the turn decision: speculate at the pause, commit when the silence is long enough for what
// was said, roll back when the person goes on. Runs on the controller thread only.
// Must never block on recognition: the recogniser runs on its own worker.
#include <algorithm>

#include "core/error.hpp"
#include "dialog/session_impl.hpp"
#include "dialog/turn_policy.hpp"

namespace duet::dialog {
namespace {

constexpr int64_t kSamplesPerMs = kRate / 1000;
// Audio between partial transcripts: each one encodes Whisper's whole context (about 100 ms on 2
// cores), done while the person speaks and the CPU is otherwise idle. Their words let the LLM
// prefill the person's message, and the last one is the draft the look at the pause verifies: the
// fresher it is, the fewer words both have left to do once the person stops.
constexpr int64_t kPartialEvery = 300 * kSamplesPerMs;
constexpr int64_t kResumeAfter = 64 * kSamplesPerMs;    // speech after a look that means "goes on"
// The early look at the acoustic end of speech: after this much quiet while the VAD's probability
// has begun to fall (Silero stays above 0.9 for 50-140 ms after the voice stops), in an utterance
// of at least this much speech. Under the relook bound an early look's transcript is read again
// once the VAD, too, hears the pause.
constexpr int kEarlyLookQuietMs = 40;
constexpr float kEarlyLookMaxProbability = 0.98f;
// Speech after a look began that is too short to mean "goes on" (a short word after a gap, "...
// take | to ..."), but more than a final consonant's release: the look missed it, so the turn is
// not committed on it; it is looked at again at the voice's next fall or at the pause.
constexpr int64_t kRelookAfter = 32 * kSamplesPerMs;
constexpr int64_t kEarlyLookMinSpeech = 300 * kSamplesPerMs;
constexpr double kRelookBelow = 0.8;
// A look whose transcript stops without an end mark ("How many legs does a spider have" but for
// the "?") is read again, once, when the pause has grown to a finished question's wait: Whisper
// cut close to the voice often leaves the mark out, and with 150 ms more silence puts it in. Not
// below this probability: a trailing "and" or "um" is what the person said, not a cut.
constexpr double kRelookUnmarkedAbove = 0.2;
constexpr size_t kMaxUtteranceAudio = 30 * kRate;
// How long before its turn would end an unfinished-looking look's answer is started: a reply's
// first phrase takes 100-200 ms of the machine.
constexpr int kSpeculateLeadMs = 200;

}  // namespace

void Session::Impl::apply_config() {
  speech::EndpointerConfig ep;
  ep.threshold = std::clamp(cfg.turn.threshold, 0.05f, 0.99f);
  ep.release_threshold = std::max(0.02f, ep.threshold - 0.15f);
  ep.prefix_padding_ms = std::max(0, cfg.turn.prefix_padding_ms);
  ep.hangover_ms = cfg.turn.type == TurnDetection::Type::ServerVad
                       ? std::max(0, cfg.turn.silence_duration_ms)
                       : turn_waits(cfg.turn).short_ms;
  if (cfg.cascade) ep.hangover_ms = cfg.cascade_silence_ms;
  if (!endpointer) {
    endpointer = std::make_unique<speech::Endpointer>(engine->new_vad(kRate), ep);
  } else {
    endpointer->set_config(ep);
  }
  if (cfg.voice != voice_name) {
    voice_name = cfg.voice;
    std::shared_ptr<Voice> fresh = engine->new_voice(cfg.voice);
    // Swapped on the reply worker, between replies.
    reply_worker.post([this, fresh]() mutable { voice = std::move(fresh); });
  }
}

std::vector<float> Session::Impl::clean_input(std::span<const float> pcm) {
  std::vector<float> out(pcm.begin(), pcm.end());
  if (!cfg.echo_cancellation || !playout.attached()) return out;
  if (!aec) {
    aec = std::make_unique<audio::EchoCanceller>(audio::EchoCancellerConfig{.sample_rate = kRate});
    echo_gate = std::make_unique<audio::EchoGate>(
        audio::EchoGateConfig{.sample_rate = kRate, .frame_samples = aec->frame_samples()});
  }
  const auto frame = static_cast<size_t>(aec->frame_samples());
  aec_near.insert(aec_near.end(), pcm.begin(), pcm.end());
  {
    std::lock_guard lock(far_mu);
    for (size_t i = 0; i < pcm.size(); ++i) {
      if (far_end.empty()) {
        aec_far.push_back(0.0f);
      } else {
        aec_far.push_back(far_end.front());
        far_end.pop_front();
      }
    }
  }
  out.clear();
  size_t done = 0;
  aec_out.resize(frame);
  while (aec_near.size() - done >= frame) {
    aec->process(std::span<const float>(aec_near).subspan(done, frame),
                 std::span<const float>(aec_far).subspan(done, frame), aec_out);
    echo_gate->process(std::span<const float>(aec_far).subspan(done, frame), aec_out);
    out.insert(out.end(), aec_out.begin(), aec_out.end());
    done += frame;
  }
  aec_near.erase(aec_near.begin(), aec_near.begin() + static_cast<int64_t>(done));
  aec_far.erase(aec_far.begin(), aec_far.begin() + static_cast<int64_t>(done));
  return out;
}

void Session::Impl::on_input(std::vector<float> pcm) {
  const std::vector<float> clean = clean_input(pcm);
  if (clean.empty()) return;
  recent.insert(recent.end(), clean.begin(), clean.end());
  while (recent.size() > static_cast<size_t>(kRate)) recent.pop_front();
  chunk_samples = static_cast<int64_t>(clean.size());
  offset.push(clean);
  const auto events = endpointer->push(clean);
  for (const auto& ev : events) {
    if (ev.kind == speech::EndpointEvent::Kind::SpeechStarted) {
      on_speech_started(ev.sample);
    } else {
      emit({.kind = FrameKind::SpeechStopped, .turn = utt.id, .time_ms = ev.sample / kSamplesPerMs});
    }
  }
  const auto n = static_cast<int64_t>(clean.size());
  if (utt.open) {
    const size_t room = kMaxUtteranceAudio - std::min(kMaxUtteranceAudio, utt.audio.size());
    utt.audio.insert(utt.audio.end(), clean.begin(), clean.begin() + static_cast<int64_t>(std::min(room, clean.size())));
    if (cfg.transcribe_input || cfg.turn.create_response) {
      asr_worker.post([this, chunk = clean, token = asr_cancel] { asr->append(chunk, token); });
    }
  } else {
    // Background: audio that stayed outside speech for half a second (so the onset of speech,
    // heard before the endpointer confirms it, is never taken for background).
    background_pending.insert(background_pending.end(), clean.begin(), clean.end());
    const size_t keep = kRate / 2;
    if (background_pending.size() > 2 * keep) {
      const auto n_old = static_cast<int64_t>(background_pending.size() - keep);
      std::vector<float> old(background_pending.begin(), background_pending.begin() + n_old);
      background_pending.erase(background_pending.begin(), background_pending.begin() + n_old);
      feature_worker.post([this, old = std::move(old)] { features.observe_background(old); });
    }
  }
  input_pos += n;
  wall_minus_input_ms = now_ms() - static_cast<double>(input_pos) / kSamplesPerMs;
  after_input(n);
}

void Session::Impl::on_speech_started(int64_t sample) {
  if (utt.open) {
    emit({.kind = FrameKind::SpeechStarted, .turn = utt.id, .time_ms = sample / kSamplesPerMs});
    return;
  }
  background_pending.clear();
  offset.begin_utterance();
  utt = Utterance{};
  utt.open = true;
  utt.id = next_utt_id++;
  utt.start_sample = sample;
  // Speech over an answer that is playing, or released and about to play: a barge-in if it lasts,
  // a backchannel if it is short and reads like one.
  utt.over_answer = answer_in_progress();
  speech_over_answer = 0;
  // Pre-roll: the audio from the padding before the start up to this chunk (which follows).
  const int64_t recent_begin = input_pos + chunk_samples - static_cast<int64_t>(recent.size());
  const int64_t from = std::max(recent_begin, sample - cfg.turn.prefix_padding_ms * kSamplesPerMs);
  std::vector<float> pre;
  for (int64_t pos = from; pos < input_pos; ++pos) pre.push_back(recent[static_cast<size_t>(pos - recent_begin)]);
  utt.audio = pre;
  asr_worker.post([this, pre = std::move(pre), token = asr_cancel] {
    asr->reset();
    asr->append(pre, token);
  });
  emit({.kind = FrameKind::SpeechStarted, .turn = utt.id, .time_ms = sample / kSamplesPerMs});
}

void Session::Impl::after_input(int64_t n) {
  if (!utt.open) {
    speech_over_answer = 0;
    return;
  }
  const int silence = endpointer->silence_ms();
  const bool speaking = endpointer->in_speech() && silence == 0;
  if (speaking) {
    utt.speech_end = input_pos;
    // The VAD still says "speech" for a few frames after the voice stops; the energy does not.
    const int quiet = offset.quiet_ms();
    utt.voice_end = input_pos - int64_t{quiet} * kSamplesPerMs;
    if (quiet == 0) utt.speech_run += n;
    utt.speech_total += n;
    utt.since_partial += n;
  }
  // Barge-in: the person talks over Duet for long enough.
  if (utt.over_answer && cfg.turn.interrupt_response && answer_in_progress()) {
    if (speaking) speech_over_answer += n;
    if (speech_over_answer >= static_cast<int64_t>(cfg.barge_in_ms) * kSamplesPerMs) {
      barge_in();
      utt.over_answer = false;  // from now on an ordinary turn
      utt.barged_in = true;
    }
  }
  // The person went on after a look: the speculation (if any) is void.
  if (speaking && (utt.look_pending || utt.look_done) && utt.speech_run >= kResumeAfter) {
    if (reply && reply->speculative) {
      drop_reply("cancelled");
      ++utt.rollbacks;
    }
    // A look still being decoded is stale: stop it, so the look at the next pause need not wait.
    if (utt.look_pending) renew_asr_cancel();
    utt.look_pending = false;
    utt.look_done = false;
  }
  // Partial transcripts while the person speaks, unless the first sound of an answer is due.
  // Nor while Duet speaks: its voice must stay ahead of playout (barge-in needs only the VAD).
  const bool critical = (reply && !reply->playing && !reply->generation_done) || answer_audible();
  // Nor when the voice's energy has just fallen: the look at the acoustic end is due within a few
  // frames, and a partial begun now would only hold it up until it is cancelled.
  const bool voice_falling = offset.quiet_ms() > 0;
  // Nor while another session's (or this one's) model work has the machine: a partial is only a
  // head start, worth running on an idle machine; it is tried again at the next chunk.
  if (speaking && cfg.transcribe_input && !cfg.cascade && !asr_busy && !critical && !voice_falling &&
      utt.since_partial >= kPartialEvery && engine->arbiter().idle()) {
    utt.since_partial = 0;
    asr_busy = true;
    asr_worker.post([this, id = utt.id, token = asr_cancel] {
      Frame f{.kind = FrameKind::TranscriptPartial, .epoch = id};
      try {
        // Lent to any more urgent work at its yield points; skipped (turn 0) when the machine
        // was taken meanwhile.
        if (auto lease = engine->arbiter().try_acquire(Urgency::Idle, token)) {
          const auto r = asr->partial(lease->token());
          f.turn = 1;
          f.text = r.text;
          f.detail = r.stable;
        }
      } catch (const Cancelled&) {
      } catch (const Error&) {
      }
      f.time_ms = static_cast<int64_t>(now_ms());
      post_event(std::move(f));
    });
  }
  if (cfg.turn.type == TurnDetection::Type::None && !utt.commit_requested) return;
  if (cfg.cascade) {
    if (silence >= cfg.cascade_silence_ms && !utt.look_pending && !utt.look_done) request_look();
    if (utt.look_done) commit_turn(false);
    return;
  }
  const TurnWaits waits = turn_waits(cfg.turn);
  // The voice stopped (its energy fell) while the VAD, smeared over its context, still hears
  // speech: look now, so the answer can be on its way 50-100 ms sooner. Only speculation starts
  // here; the turn still ends by the VAD's silence. Not while another look or first phrase holds
  // or waits for the machine (other sessions'): this guess, often a pause inside a sentence,
  // would stand in line before them, by its earlier start, and the look at the VAD's pause
  // comes soon enough behind them. After speech the look in hand (or in flight) did not hear, a
  // fresh look is due, at the voice's next fall or at the pause, and the turn is not committed on
  // the old one.
  const auto missed_speech = [&] {
    return (utt.look_pending || utt.look_done) && utt.speech_run >= kRelookAfter;
  };
  if (speaking && ((!utt.look_pending && !utt.look_done) || missed_speech()) &&
      utt.speech_total >= kEarlyLookMinSpeech &&
      offset.quiet_ms() >= kEarlyLookQuietMs &&
      endpointer->last_probability() < kEarlyLookMaxProbability &&
      !engine->arbiter().busy_with(Urgency::Now)) {
    request_look();
    utt.look_early = true;
  }
  // A look at the pause; or again, when an early look read as unfinished (Whisper hears a
  // trailing-off voice, cut close, as a sentence that goes on), when a look missed speech, or
  // (semantic_vad, whose wait depends on the words) when a look lacked an end mark.
  const bool relook_unmarked =
      cfg.turn.type == TurnDetection::Type::SemanticVad && utt.look_done && !utt.relooked_unmarked &&
      !speaking && utt.end_probability > kRelookUnmarkedAbove &&
      utt.end_probability < kRelookBelow && ends_unmarked(utt.look_text) &&
      utt.look_silence_ms < waits.question_ms && heard_silence_ms(false) >= waits.question_ms;
  const bool relook = (utt.look_done && utt.look_early && utt.end_probability < kRelookBelow) ||
                      missed_speech() || relook_unmarked;
  if (silence >= waits.first_look_ms && !speaking && ((!utt.look_pending && !utt.look_done) || relook)) {
    if (relook_unmarked) utt.relooked_unmarked = true;
    request_look();
  }
  if (!utt.look_done) return;
  if (!reply || reply->speculative) speculate(speaking);
  const bool pause_ends_turn =
      !missed_speech() &&
      heard_silence_ms(speaking) >=
          silence_to_end_turn(cfg.turn, utt.end_probability, utt.barged_in, utt.end_pitch);
  if (utt.commit_requested || pause_ends_turn) commit_turn(utt.commit_requested);
}

int Session::Impl::heard_silence_ms(bool speaking) const {
  const int silence = endpointer->silence_ms();
  // server_vad's silence_duration_ms is the VAD's silence, as its speech_stopped event says.
  if (speaking || cfg.turn.type == TurnDetection::Type::ServerVad) return speaking ? 0 : silence;
  // Once the VAD, too, hears the pause, the silence began where the voice's energy fell: the VAD
  // hears it 50-100 ms late. A sound after the voice (a cough) restarts the energy's count but
  // not the VAD's, so the longer of the two is the pause. In a room too noisy for the energy,
  // quiet_ms() is 0 and the VAD alone counts.
  return std::max(silence, offset.quiet_ms());
}

void Session::Impl::request_look() {
  ++utt.look_seq;
  // The person waits from the end of the voice a look is about: after more speech, anew.
  if (utt.looks++ == 0 || utt.speech_run > 0) utt.waiting_since = ComputeClaim::Clock::now();
  utt.look_pending = true;
  utt.look_done = false;
  utt.look_early = false;
  utt.text_ready = false;
  utt.tone_ready = utt.audio.empty();
  utt.annotation.clear();
  utt.end_pitch = EndPitch::Unknown;
  utt.look_start_ms = now_ms();
  const bool mid_speech = endpointer->in_speech() && endpointer->silence_ms() == 0;
  utt.look_silence_ms = mid_speech ? 0 : heard_silence_ms(false);
  utt.look_text_ms = -1;
  utt.look_tone_ms = utt.tone_ready ? utt.look_start_ms : -1;
  utt.speech_run = 0;
  // The tone of the utterance, in parallel with its transcript: the annotation for the prompt,
  // and the pitch at the end of the voice for the turn decision.
  if (!utt.tone_ready) {
    feature_worker.post([this, id = utt.id, seq = utt.look_seq, pcm = utt.audio, annotate = cfg.annotate] {
      std::string a;
      EndPitch pitch = EndPitch::Unknown;
      try {
        const audio::VoiceFeatures v = features.analyze(pcm);
        pitch = end_pitch(v.pitch_slope_st_per_s, v.pitch_final_rise_st);
        if (annotate) a = audio::annotation(v);
      } catch (const std::exception&) {
        // No annotation is better than no turn.
      }
      post_control([this, id, seq, a = std::move(a), pitch]() mutable { on_tone(id, seq, std::move(a), pitch); });
    });
  }
  // Abandon a partial in flight: the look is on the path to the answer.
  renew_asr_cancel();
  asr_worker.post([this, id = utt.id, seq = utt.look_seq, token = asr_cancel, since = utt.waiting_since] {
    Frame f{.kind = FrameKind::TranscriptFinal, .epoch = id, .turn = seq};
    try {
      // Someone is waiting on this: it goes first among the sessions' model work.
      auto lease = engine->arbiter().acquire({.urgency = Urgency::Now, .since = since}, token);
      f.text = asr->peek(lease.token()).text;
    } catch (const Cancelled&) {
      return;
    } catch (const Error& e) {
      f.detail = e.what();
    }
    f.time_ms = static_cast<int64_t>(now_ms());
    post_event(std::move(f));
  });
}

void Session::Impl::on_partial(const Frame& f) {
  if (f.epoch == utt.id) asr_busy = false;
  if (f.epoch != utt.id || f.turn == 0 || !utt.open) return;
  // The words heard so far are the likely start of the person's message: prefill them now. The
  // cache keeps the longest common prefix, so words the look reads differently cost nothing.
  const std::string heard = spoken_text(f.text);
  if (!heard.empty() && !cfg.cascade && cfg.turn.create_response && !reply) warm_llm(&heard);
  emit({.kind = FrameKind::TranscriptPartial, .turn = utt.id, .time_ms = f.time_ms,
        .text = f.text, .detail = f.detail});
}

void Session::Impl::on_look(const Frame& f) {
  if (!utt.open || f.epoch != utt.id || f.turn != utt.look_seq || !utt.look_pending) return;
  asr_busy = false;
  if (!f.detail.empty()) {
    emit({.kind = FrameKind::Error, .time_ms = f.time_ms,
          .text = "transcription failed: " + f.detail, .detail = "transcription_failed"});
  }
  utt.look_text = f.text;
  utt.look_text_ms = static_cast<double>(f.time_ms);
  utt.text_ready = true;
  finish_look();
}

void Session::Impl::on_tone(uint64_t utt_id, uint64_t seq, std::string annotation, EndPitch pitch) {
  if (!utt.open || utt_id != utt.id || seq != utt.look_seq || !utt.look_pending) return;
  utt.annotation = std::move(annotation);
  utt.end_pitch = pitch;
  utt.look_tone_ms = now_ms();
  utt.tone_ready = true;
  finish_look();
}

void Session::Impl::finish_look() {
  if (!utt.text_ready || !utt.tone_ready) return;
  utt.look_pending = false;
  utt.look_done = true;
  utt.end_probability = end_of_turn_probability(utt.look_text);
  speculate(false);
  after_input(0);
}

void Session::Impl::speculate(bool speaking) {
  if (!cfg.speculative || cfg.cascade || !cfg.turn.create_response ||
      cfg.turn.type == TurnDetection::Type::None) {
    return;
  }
  // A look that reads as unfinished is often a pause inside the sentence: its answer is started
  // only when the pause nears the wait that would end the turn, so that a guess the person talks
  // over costs nobody (eight sessions share two cores) the machine. Checked before any text is
  // read: this runs at every chunk of the pause.
  if (cfg.turn.type == TurnDetection::Type::SemanticVad && utt.end_probability < kRelookBelow) {
    const int wait = silence_to_end_turn(cfg.turn, utt.end_probability, utt.barged_in, utt.end_pitch);
    if (speaking || heard_silence_ms(false) < wait - kSpeculateLeadMs) return;
  }
  const std::string spoken = spoken_text(utt.look_text);
  if (spoken.empty() || aside_over_answer(spoken)) return;
  const std::string content = user_content(spoken, utt.annotation);
  if (!reply || !reply->speculative || reply->answers != content) {
    if (!reply || reply->speculative) start_reply(true, content, utt.waiting_since);
  }
}

bool Session::Impl::aside_over_answer(const std::string& spoken) const {
  const auto speech_ms = static_cast<int>(utt.speech_total / kSamplesPerMs);
  return utt.over_answer && leaves_duet_the_turn(spoken, speech_ms, cfg.barge_in_ms);
}

void Session::Impl::commit_turn(bool manual) {
  if (!utt.open) {
    if (manual) {
      emit({.kind = FrameKind::Error, .time_ms = static_cast<int64_t>(now_ms()),
            .text = "no speech in the input audio buffer to commit; send audio first",
            .detail = "input_audio_buffer_commit_empty"});
    }
    return;
  }
  if (!utt.look_done) {
    if (manual) {
      utt.commit_requested = true;
      if (!utt.look_pending) request_look();
    }
    return;
  }
  const bool was_manual = manual || utt.commit_requested;
  const std::string spoken = spoken_text(utt.look_text);
  if (spoken.empty() || (answer_in_progress() && aside_over_answer(spoken))) {
    if (reply && reply->speculative) drop_reply("cancelled");
    close_utterance();
    return;
  }
  // An earlier answer still going ends here (reported with its own trace) before this turn's.
  if (reply && !reply->speculative) cut_reply(heard_samples(*reply), false);
  const std::string annotation = utt.annotation;
  const uint64_t item = add_history("user", spoken, annotation);
  const double now = now_ms();
  emit({.kind = FrameKind::InputCommitted, .turn = item, .time_ms = static_cast<int64_t>(now)});
  emit({.kind = FrameKind::TranscriptFinal, .turn = item, .time_ms = static_cast<int64_t>(now),
        .text = spoken, .detail = annotation});
  trace = TurnTrace{};
  trace_open = true;
  trace.mode = cfg.cascade ? "cascade" : "duplex";
  // On the session clock: when those samples arrived (a client may start streaming late).
  trace.speech_start_ms = static_cast<double>(utt.start_sample) / kSamplesPerMs + wall_minus_input_ms;
  trace.speech_end_ms = static_cast<double>(utt.speech_end) / kSamplesPerMs + wall_minus_input_ms;
  trace.voice_end_ms = static_cast<double>(std::clamp(utt.voice_end, utt.start_sample, utt.speech_end)) /
                           kSamplesPerMs + wall_minus_input_ms;
  trace.final_transcript_ms = now;
  trace.transcript = spoken;
  trace.annotation = annotation;
  trace.rollbacks = utt.rollbacks;
  trace.looks = utt.looks;
  trace.early_look = utt.look_early;
  trace.end_pitch = end_pitch_name(utt.end_pitch);
  trace.look_start_ms = utt.look_start_ms;
  trace.look_text_ms = utt.look_text_ms;
  trace.look_tone_ms = utt.look_tone_ms;
  const std::string content = user_content(spoken, annotation);
  const auto since = utt.looks > 0 ? std::optional(utt.waiting_since) : std::nullopt;
  close_utterance();
  if (was_manual || !cfg.turn.create_response) return;
  if (reply && reply->speculative && reply->answers == content) {
    release_reply();
  } else {
    if (reply && reply->speculative) ++trace.rollbacks;
    start_reply(false, "", since);
  }
}

void Session::Impl::renew_asr_cancel() {
  asr_cancel.cancel();
  asr_cancel = CancelToken();
}

void Session::Impl::close_utterance() {
  utt = Utterance{};
  speech_over_answer = 0;
  renew_asr_cancel();
  asr_busy = false;
  asr_worker.clear();
  asr_worker.post([this] { asr->reset(); });
}

}  // namespace duet::dialog
