// POST /v1/audio/transcriptions: a multipart upload (file, model, response_format, language,
// prompt, temperature) transcribed by the shared Whisper model on a worker, answered as json,
// text, verbose_json, srt or vtt. Audio: WAV (16-bit or float, any rate, mono or stereo).
// Must never decode or transcribe on the I/O thread, and never load the model again.
#include <algorithm>

#include <fmt/format.h>

#include "audio/log_mel.hpp"
#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "core/error.hpp"
#include "models/whisper.hpp"
#include "models/whisper_decode.hpp"
#include "runtime/thread_pool.hpp"
#include "server/http_reply.hpp"
#include "server/json_fields.hpp"
#include "server/multipart.hpp"
#include "server/rest_handlers.hpp"
#include "server/transcript_format.hpp"

namespace duet::server {
namespace {

const std::vector<std::string> kFormats = {"json", "text", "verbose_json", "srt", "vtt"};

struct TranscriptionJob {
  std::string audio;  // the uploaded file's bytes
  std::string filename;
  std::string format = "json";
  std::string language = "english";
};

void transcribe_job(const std::shared_ptr<ServerContext>& ctx, const TranscriptionJob& job,
                    const SinkPtr& sink) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(job.audio.data());
  AudioBuffer audio;
  try {
    audio = read_wav_bytes(std::span(bytes, job.audio.size()), job.filename).to_mono();
  } catch (const Error& e) {
    throw ProtocolError(fmt::format("Invalid file format: {}. Duet reads WAV (16-bit PCM or "
                                    "32-bit float); convert other formats first, e.g. with "
                                    "`sox in.mp3 out.wav`.",
                                    e.what()),
                        "file", "invalid_file_format");
  }
  if (audio.sample_rate != 16000 && audio.frames() > 0) audio = resample(audio, 16000);
  const double duration = static_cast<double>(audio.frames()) / 16000.0;
  const auto model = ctx->engine->whisper();
  if (!model) fail("no Whisper model is loaded; run: build/duet models pull whisper-tiny.en");
  std::vector<whisper::Segment> segments;
  if (audio.frames() > 0) {
    rt::ThreadPool pool(ctx->engine->threads());
    whisper::WhisperState state(model, &pool);
    audio::LogMel mel(model->mel_filters(), model->hparams().n_mels);
    mel.push(audio.samples);
    std::vector<float> feats;
    mel.features(feats);
    const whisper::TranscribeOptions options;
    // The machine, shared with the Realtime sessions: lent to their looks and first phrases.
    const auto lease = ctx->engine->arbiter().acquire(Urgency::Soon, sink->client_gone());
    segments = whisper::transcribe(state, feats, mel.n_frames(), options, lease.token());
  }
  FormattedTranscript out = format_transcript(segments, duration, job.format, job.language);
  sink->send(make_response(http::status::ok, std::move(out.body), out.content_type));
}

}  // namespace

void handle_transcription(const std::shared_ptr<ServerContext>& ctx, const Request& req,
                          SinkPtr sink) {
  const auto boundary = multipart_boundary(req[http::field::content_type]);
  if (!boundary) {
    return sink->send(error_response(http::status::bad_request,
                                     "the body must be multipart/form-data with a 'file' part",
                                     "file", "invalid_content_type"));
  }
  std::vector<FormPart> parts;
  try {
    parts = parse_multipart(req.body(), *boundary);
  } catch (const Error& e) {
    return sink->send(error_response(http::status::bad_request, e.what(), "file", "invalid_multipart"));
  }
  const FormPart* file = find_part(parts, "file");
  if (!file) {
    return sink->send(error_response(http::status::bad_request,
                                     "Missing required parameter: 'file'.", "file",
                                     "missing_required_parameter"));
  }
  auto job = std::make_shared<TranscriptionJob>();
  job->audio = file->data;
  job->filename = file->filename.empty() ? "upload" : file->filename;
  if (const FormPart* f = find_part(parts, "response_format")) {
    if (std::find(kFormats.begin(), kFormats.end(), f->data) == kFormats.end()) {
      return sink->send(error_response(
          http::status::bad_request,
          fmt::format("Invalid value: '{}'. Supported values are: 'json', 'text', 'srt', "
                      "'verbose_json', and 'vtt'.",
                      f->data),
          "response_format", "invalid_value"));
    }
    job->format = f->data;
  }
  if (const FormPart* f = find_part(parts, "language")) {
    if (!f->data.empty() && f->data != "en" && f->data != "english") {
      return sink->send(error_response(
          http::status::bad_request,
          fmt::format("Unsupported language '{}': the loaded Whisper model is English-only.", f->data),
          "language", "unsupported_language"));
    }
  }
  run_on_worker(ctx, sink, [ctx, job, sink] { transcribe_job(ctx, *job, sink); });
}

}  // namespace duet::server
