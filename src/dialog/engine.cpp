// Engine: loads the shared models once and makes per-conversation engines over them.
// Must never keep anything that belongs to one conversation.
#include "dialog/engine.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "core/error.hpp"
#include "dialog/chat_llm_local.hpp"
#include "dialog/chat_llm_remote.hpp"
#include "speech/espeak_voice.hpp"
#include "speech/piper_voice.hpp"
#include "speech/vad_silero.hpp"
#include "store/model_store.hpp"

namespace duet::dialog {
namespace {

constexpr const char* kDefaultLlm = "smollm2-135m-instruct";
constexpr const char* kDefaultWhisper = "whisper-tiny.en";

std::filesystem::path resolve_llm(const std::string& arg) {
  std::error_code ec;
  const std::string name = arg.empty() ? kDefaultLlm : arg;
  if (std::filesystem::is_regular_file(name, ec)) return name;
  store::ModelStore s(store::ModelStore::default_dir());
  return s.require(name);
}

std::filesystem::path resolve_whisper(const std::string& arg) {
  std::error_code ec;
  if (!arg.empty() && std::filesystem::is_regular_file(arg, ec)) return arg;
  const std::string name = arg.empty() ? kDefaultWhisper : arg;
  const auto path = store::ModelStore::default_dir() / name / (name + ".gguf");
  if (!std::filesystem::is_regular_file(path, ec)) {
    fail("no Whisper model '{}': {} is missing; run `duet models pull {}` or pass a .gguf path",
         name, path.string(), name);
  }
  return path;
}

}  // namespace

std::shared_ptr<Engine> Engine::load(const EngineOptions& options) {
  auto e = std::make_shared<Engine>();
  e->options_ = options;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  e->threads_ = options.threads > 0 ? options.threads : cores;
  e->arbiter_ = std::make_unique<ComputeArbiter>(std::max(1, cores / e->threads_));
  e->whisper_ = whisper::WhisperModel::load(resolve_whisper(options.asr));
  if (options.remote_url.empty()) {
    e->llm_ = models::LlmModel::load(resolve_llm(options.llm));
    e->llm_name_ = "local:" + resolve_llm(options.llm).filename().string();
  } else {
    e->llm_name_ = "remote:" + options.remote_url;
  }
  std::string voice = options.voice;
  if (voice.empty()) voice = PiperVoice::default_model_path() ? "piper" : "espeak";
  if (voice == "piper") {
    const auto p = PiperVoice::default_model_path();
    if (!p) {
      fail("the Piper voice is not in the model store; fetch it with `duet models pull` or pick "
           "--voice espeak");
    }
    e->piper_ = models::VitsModel::load(*p);
    // One short phrase spoken at load: espeak-ng reads its data files on its first use (about
    // 10 ms), and the voice's code and data are cold until first run, so without this the first
    // reply the engine speaks reaches its first sound 15-25 ms later than the ones after it.
    PiperVoice(e->piper_, "piper", e->threads_).synthesize("Hello.", PiperControls{}, CancelToken{});
  } else if (!PiperVoice::is_piper_name(voice) && !EspeakVoice::is_espeak_name(voice)) {
    fail("unknown voice '{}'; use piper, piper:<voice.gguf>, espeak or espeak:<voice>", voice);
  }
  e->default_voice_ = voice;
  e->vad_name_ = options.vad.empty() ? "auto" : options.vad;
  const bool silero = e->vad_name_ == "silero" ||
                      (e->vad_name_ == "auto" && speech::SileroVad::default_model_path());
  if (silero) {
    const auto path = speech::SileroVad::default_model_path();
    if (!path) fail("the Silero VAD is not in the model store; run `duet models pull silero-vad`");
    e->silero_ = models::SileroModel::load(*path);
  } else {
    (void)speech::open_voice_activity(e->vad_name_, 16000);  // fail now, not in a session
  }
  return e;
}

std::unique_ptr<ChatLlm> Engine::new_chat_llm() const {
  // 1024 positions hold a voice conversation of some twenty exchanges (older ones are dropped).
  if (llm_) return std::make_unique<LocalChatLlm>(llm_, threads_, 1024);
  return std::make_unique<RemoteChatLlm>(options_.remote_url, options_.remote_model,
                                         options_.remote_key);
}

std::unique_ptr<Voice> Engine::new_voice(const std::string& name) const {
  const std::string v = name.empty() ? default_voice_ : name;
  if (v == "piper" && piper_) return std::make_unique<PiperVoice>(piper_, "piper", threads_);
  if (PiperVoice::is_piper_name(v)) return std::make_unique<PiperVoice>(v, threads_);
  if (EspeakVoice::is_espeak_name(v)) return std::make_unique<EspeakVoice>(v);
  fail("unknown voice '{}'; use piper, piper:<voice.gguf>, espeak or espeak:<voice>", v);
}

void Engine::check_voice_name(const std::string& name) const {
  if (name.empty() || PiperVoice::is_piper_name(name) || EspeakVoice::is_espeak_name(name)) return;
  fail("unknown voice '{}'; use piper, piper:<voice.gguf>, espeak or espeak:<voice>", name);
}

std::unique_ptr<speech::VoiceActivity> Engine::new_vad(int sample_rate) const {
  if (silero_) return std::make_unique<speech::SileroVad>(silero_, sample_rate);
  return speech::open_voice_activity(vad_name_, sample_rate);
}

}  // namespace duet::dialog
