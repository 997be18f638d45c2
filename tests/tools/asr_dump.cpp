// Test driver for the ASR peer checks (tests/python/test_asr_*.py): log-mel features of raw f32
// audio, and transcription of raw f32 16 kHz audio with a Whisper GGUF. Output is plain files or
// one JSON line; must never be used by the engine itself.
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

int usage() {
  std::cerr << "usage: asr_dump mel FILTERS.f32 N_MELS AUDIO.f32 OUT.f32 [CHUNK]\n"
               "       asr_dump transcribe MODEL.gguf AUDIO.f32... [--min-frames N] [--threads N]\n";
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
        std::cout << "{\"file\": \"" << json_escape(f) << "\", \"text\": \"" << json_escape(text)
                  << "\", \"segments\": " << segs.size() << "}" << std::endl;
      }
      return 0;
    }
    return usage();
  } catch (const std::exception& e) {
    std::cerr << "asr_dump: " << e.what() << "\n";
    return 1;
  }
}
