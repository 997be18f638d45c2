// POST /v1/audio/speech: JSON {model, input, voice, response_format, speed} spoken by a voice
// from the engine on a worker; answered as wav or pcm (16-bit little-endian mono, 24 kHz, as
// OpenAI's pcm format).
// Must never synthesize on the I/O thread, and never accept unbounded input text.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "server/http_reply.hpp"
#include "server/json_fields.hpp"
#include "server/realtime_session.hpp"
#include "server/rest_handlers.hpp"
#include "server/audio_format.hpp"

namespace duet::server {
namespace {

constexpr size_t kMaxInput = 4096;
constexpr int kOutputRate = 24000;

struct SpeechJob {
  std::string input;
  std::string voice;   // engine voice name ("" = default)
  std::string format = "wav";
  double speed = 1.0;
};

void speech_job(const std::shared_ptr<ServerContext>& ctx, const SpeechJob& job, const SinkPtr& sink) {
  std::unique_ptr<Voice> voice;
  try {
    voice = ctx->engine->new_voice(job.voice);
  } catch (const Error& e) {
    throw ProtocolError(fmt::format("Invalid voice '{}': {}", job.voice, e.what()), "voice",
                        "invalid_value");
  }
  SynthesisOptions options;
  if (std::abs(job.speed - 1.0) > 1e-6) {
    options.words_per_minute =
        std::clamp(static_cast<int>(std::lround(175.0 * job.speed)), 80, 450);
  }
  AudioBuffer audio;
  {
    // The machine, shared with the Realtime sessions: lent to their looks and first phrases.
    const auto lease = ctx->engine->arbiter().acquire(Urgency::Soon, sink->client_gone());
    audio = voice->synthesize(job.input, options, lease.token()).to_mono();
  }
  if (audio.sample_rate != kOutputRate && audio.frames() > 0) audio = resample(audio, kOutputRate);
  audio.sample_rate = kOutputRate;
  if (job.format == "pcm") {
    const auto bytes = encode_wire_audio(AudioFormat::Pcm16, audio.samples);
    return sink->send(make_response(http::status::ok, std::string(bytes.begin(), bytes.end()),
                                    "audio/pcm"));
  }
  const auto wav = encode_wav(audio, WavSampleFormat::Pcm16);
  sink->send(make_response(http::status::ok, std::string(wav.begin(), wav.end()), "audio/wav"));
}

}  // namespace

void handle_speech(const std::shared_ptr<ServerContext>& ctx, const Request& req, SinkPtr sink) {
  auto job = std::make_shared<SpeechJob>();
  try {
    const nlohmann::json body = nlohmann::json::parse(req.body(), nullptr, false);
    if (body.is_discarded()) {
      throw ProtocolError("We could not parse the JSON body of your request.", "", "invalid_json");
    }
    const Fields f(body, "");
    job->input = f.required_string("input");
    if (job->input.empty() || job->input.size() > kMaxInput) {
      throw ProtocolError(fmt::format("Invalid 'input': it must hold 1 to {} characters.", kMaxInput),
                          "input", "invalid_value");
    }
    (void)f.string("model");
    job->voice = realtime::engine_voice(f.string("voice").value_or("alloy"));
    if (auto fmt_name = f.string("response_format")) {
      if (*fmt_name != "wav" && *fmt_name != "pcm") {
        throw ProtocolError(fmt::format("Unsupported response_format '{}': Duet answers 'wav' or "
                                        "'pcm'.",
                                        *fmt_name),
                            "response_format", "invalid_value");
      }
      job->format = *fmt_name;
    }
    job->speed = f.number("speed", 0.25, 4.0).value_or(1.0);
    (void)f.string("instructions");
  } catch (const ProtocolError& e) {
    return sink->send(error_response(http::status::bad_request, e.what(), e.param(), e.code()));
  }
  run_on_worker(ctx, sink, [ctx, job, sink] { speech_job(ctx, *job, sink); });
}

}  // namespace duet::server
