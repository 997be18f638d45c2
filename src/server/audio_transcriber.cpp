// One-shot transcription for the Realtime server (see audio_transcriber.hpp).
// Must never keep state between calls: each call owns its Whisper state and thread pool.
#include "server/audio_transcriber.hpp"

#include <vector>

#include "audio/log_mel.hpp"
#include "core/error.hpp"
#include "models/whisper.hpp"
#include "models/whisper_decode.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::server {

std::string transcribe_audio(const dialog::Engine& engine, std::span<const float> pcm16k,
                             const CancelToken& cancel) {
  const auto model = engine.whisper();
  if (!model) fail("no Whisper model is loaded; run: build/duet models pull whisper-tiny.en");
  if (pcm16k.empty()) return "";
  rt::ThreadPool pool(engine.threads());
  whisper::WhisperState state(model, &pool);
  audio::LogMel mel(model->mel_filters(), model->hparams().n_mels);
  mel.push(pcm16k);
  std::vector<float> feats;
  mel.features(feats);
  const whisper::TranscribeOptions options;
  // The machine, shared with the sessions: lent to their looks and first phrases.
  const auto lease = engine.arbiter().acquire(Urgency::Soon, cancel);
  const std::vector<whisper::Segment> segments =
      whisper::transcribe(state, feats, mel.n_frames(), options, lease.token());
  std::string text;
  for (const auto& s : segments) {
    size_t b = s.text.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    size_t e = s.text.find_last_not_of(' ');
    if (!text.empty()) text.push_back(' ');
    text.append(s.text, b, e - b + 1);
  }
  return text;
}

}  // namespace duet::server
