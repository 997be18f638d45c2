// Test driver for the ASR peer checks (tests/python/test_asr_*.py): log-mel features of raw f32
// audio, and transcription of raw f32 16 kHz audio with a Whisper GGUF. Output is plain files or
// one JSON line; must never be used by the engine itself.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "audio/log_mel.hpp"
#include "core/error.hpp"
#include "models/whisper.hpp"
#include "models/whisper_decode.hpp"
#include "runtime/thread_pool.hpp"
#include "speech/asr_whisper.hpp"

namespace {

std::vector<float> read_f32(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) duet::fail("cannot open {}", path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> v(bytes.size() / sizeof(float));
  std::copy(bytes.begin(), bytes.begin() + static_cast<long>(v.size() * sizeof(float)),
            reinterpret_cast<char*>(v.data()));
  return v;
}

void write_f32(const std::string& path, const std::vector<float>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  if (!f) duet::fail("cannot write {}", path);
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Streams the audio with partials, then times peek() with and without the speculative draft on
// two recognisers fed identically, and a relook: a second peek after 200 ms more silence (the
// engine's look once the VAD, too, hears the pause), drafting from the first peek's words. Fresh
// recognisers for each of --repeat rounds (a peek's words are the next one's draft); best of
// the rounds. One JSON line.
int peek_timing(int argc, char** argv) {
  int partial_ms = 300, threads = 2, repeat = 5;
  for (int i = 4; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--partial-ms") {
      partial_ms = std::stoi(argv[i + 1]);
    } else if (a == "--threads") {
      threads = std::stoi(argv[i + 1]);
    } else if (a == "--repeat") {
      repeat = std::stoi(argv[i + 1]);
    } else {
      duet::fail("asr_dump peek: unknown option {}", a);
    }
  }
  auto model = duet::whisper::WhisperModel::load(argv[2]);
  const std::vector<float> audio = read_f32(argv[3]);
  const std::vector<float> pause(3200, 0.0f);
  duet::rt::ThreadPool pool(threads);
  duet::CancelToken cancel;
  duet::speech::AsrOptions on, off;
  on.partial_interval_ms = off.partial_interval_ms = partial_ms;
  off.speculative = false;
  struct Best {
    double total = 1e9, decode = 1e9;
    void add(double t, const duet::speech::AsrResult& r) {
      total = std::min(total, t);
      decode = std::min(decode, r.decode_seconds);
    }
  } plain_peek, spec_peek, plain_relook, spec_relook;
  std::string text_spec, text_plain;
  int relook_accepted = 0;
  auto timed_peek = [&](duet::speech::WhisperAsr& asr, Best& best) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = asr.peek(cancel);
    best.add(seconds_since(t0), r);
    return r;
  };
  for (int round = 0; round < std::max(1, repeat); ++round) {
    duet::speech::WhisperAsr spec(model, &pool, on), plain(model, &pool, off);
    for (size_t i = 0; i < audio.size(); i += 1600) {
      const auto part = std::span(audio).subspan(i, std::min<size_t>(1600, audio.size() - i));
      spec.push(part, cancel);
      plain.push(part, cancel);
    }
    text_plain = timed_peek(plain, plain_peek).text;
    text_spec = timed_peek(spec, spec_peek).text;
    plain.append(pause, cancel);
    spec.append(pause, cancel);
    timed_peek(plain, plain_relook);
    relook_accepted = timed_peek(spec, spec_relook).draft_accepted;
  }
  std::cout << "{\"audio_seconds\": " << static_cast<double>(audio.size()) / 16000.0
            << ", \"peek_plain_s\": " << plain_peek.total << ", \"peek_speculative_s\": " << spec_peek.total
            << ", \"decode_plain_s\": " << plain_peek.decode << ", \"decode_speculative_s\": " << spec_peek.decode
            << ", \"relook_plain_s\": " << plain_relook.total << ", \"relook_speculative_s\": " << spec_relook.total
            << ", \"relook_decode_plain_s\": " << plain_relook.decode
            << ", \"relook_decode_speculative_s\": " << spec_relook.decode
            << ", \"relook_draft_accepted\": " << relook_accepted
            << ", \"same_text\": " << (text_spec == text_plain ? "true" : "false")
            << ", \"text\": \"" << json_escape(text_spec) << "\"}" << std::endl;
  return text_spec == text_plain ? 0 : 1;
}

int usage() {
  std::cerr << "usage: asr_dump mel FILTERS.f32 N_MELS AUDIO.f32 OUT.f32 [CHUNK]\n"
               "       asr_dump transcribe MODEL.gguf AUDIO.f32... [--min-frames N] [--threads N]\n"
               "                [--beam N] [--no-fallback]\n"
               "       asr_dump peek MODEL.gguf AUDIO.f32 [--partial-ms N] [--threads N] [--repeat N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) return usage();
    const std::string cmd = argv[1];
    if (cmd == "mel" && argc >= 6) {
      const std::vector<float> filters = read_f32(argv[2]);
      duet::audio::LogMel mel(filters, std::stoi(argv[3]));
      const std::vector<float> audio = read_f32(argv[4]);
      const size_t chunk = argc >= 7 ? std::stoul(argv[6]) : audio.size();
      for (size_t i = 0; i < audio.size(); i += std::max<size_t>(chunk, 1)) {
        mel.push(std::span(audio).subspan(i, std::min(chunk, audio.size() - i)));
      }
      std::vector<float> out;
      mel.features(out);
      write_f32(argv[5], out);
      std::cout << mel.n_frames() << "\n";
      return 0;
    }
    if (cmd == "transcribe" && argc >= 4) {
      duet::whisper::TranscribeOptions opt;
      int threads = 2;
      std::vector<std::string> files;
      for (int i = 3; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--pad-frames" && i + 1 < argc) {
          opt.pad_frames = std::stoi(argv[++i]);
        } else if (a == "--min-frames" && i + 1 < argc) {
          opt.min_frames = std::stoi(argv[++i]);
        } else if (a == "--threads" && i + 1 < argc) {
          threads = std::stoi(argv[++i]);
        } else if (a == "--no-timestamps") {
          opt.decode.timestamps = false;
        } else if (a == "--beam" && i + 1 < argc) {
          opt.decode.beam_size = std::stoi(argv[++i]);
        } else if (a == "--no-fallback") {
          opt.temperatures = {0.0f};
        } else {
          files.push_back(a);
        }
      }
      auto model = duet::whisper::WhisperModel::load(argv[2]);
      duet::rt::ThreadPool pool(threads);
      duet::whisper::WhisperState state(model, &pool);
      duet::audio::LogMel mel(model->mel_filters(), model->hparams().n_mels);
      duet::CancelToken cancel;
      std::vector<float> feats;
      for (const std::string& f : files) {
        mel.reset();
        mel.push(read_f32(f));
        mel.features(feats);
        const auto segs = duet::whisper::transcribe(state, feats, mel.n_frames(), opt, cancel);
        std::string text;
        for (const auto& s : segs) text += s.text;
        // Each segment's scores to the last bit (hex floats), for runs that must agree exactly.
        std::string scores;
        for (const auto& s : segs) {
          char buf[96];
          std::snprintf(buf, sizeof buf, "%s\"%a %a\"", scores.empty() ? "" : ", ", s.avg_logprob,
                        static_cast<double>(s.no_speech_prob));
          scores += buf;
        }
        std::cout << "{\"file\": \"" << json_escape(f) << "\", \"text\": \"" << json_escape(text)
                  << "\", \"segments\": " << segs.size() << ", \"scores\": [" << scores << "]}" << std::endl;
      }
      return 0;
    }
    if (cmd == "peek" && argc >= 4) return peek_timing(argc, argv);
    return usage();
  } catch (const std::exception& e) {
    std::cerr << "asr_dump: " << e.what() << "\n";
    return 1;
  }
}
