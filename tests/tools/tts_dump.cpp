// Test driver for the Piper peer checks (tests/python/test_tts_vs_piper.py): prints what Duet's
// normalizer and phonemizer make of text, and synthesizes given phoneme ids to raw float32 files.
// Must never be used by the engine; output formats are for the tests only.
//
//   tts_dump ids MODEL.gguf < texts.txt        one JSON line per input line:
//                                               {"normalized": s, "sentences": [[ids...], ...]}
//   tts_dump synth MODEL.gguf OUT_DIR NOISE_SCALE LENGTH_SCALE NOISE_W THREADS [SPEAKER] < ids.txt
//                                               each input line "1 0 23 ..." -> OUT_DIR/<n>.f32
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "core/error.hpp"
#include "models/vits.hpp"
#include "runtime/thread_pool.hpp"
#include "speech/piper_phonemize.hpp"
#include "speech/speech_text.hpp"
#include "text/normalize.hpp"

namespace {

int cmd_ids(const std::filesystem::path& model_path) {
  const auto model = duet::models::VitsModel::load(model_path);
  const auto& cfg = model->config();
  std::string line;
  while (std::getline(std::cin, line)) {
    const std::string norm = duet::text::normalize_for_speech(duet::replace_invalid_utf8(line));
    std::cout << "{\"normalized\": \"";
    for (const char c : norm) {
      if (c == '"' || c == '\\') std::cout << '\\';
      std::cout << c;
    }
    std::cout << "\", \"sentences\": [";
    const auto sentences = duet::espeak_phonemize(norm, cfg.espeak_voice);
    for (size_t s = 0; s < sentences.size(); ++s) {
      const auto ph = duet::phonemes_to_ids(sentences[s], cfg.phoneme_id_map);
      std::cout << (s ? ", [" : "[");
      for (size_t i = 0; i < ph.ids.size(); ++i) std::cout << (i ? ", " : "") << ph.ids[i];
      std::cout << "]";
    }
    std::cout << "]}\n" << std::flush;
  }
  return 0;
}

int cmd_synth(char** argv) {
  const auto model = duet::models::VitsModel::load(argv[0]);
  const std::filesystem::path out_dir = argv[1];
  duet::models::VitsParams params = model->default_params();
  params.noise_scale = std::stof(argv[2]);
  params.length_scale = std::stof(argv[3]);
  params.noise_w = std::stof(argv[4]);
  if (argv[6] != nullptr) params.speaker_id = std::stoi(argv[6]);
  duet::rt::ThreadPool pool(std::stoi(argv[5]));
  const duet::CancelToken cancel;
  std::string line;
  int n = 0;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::vector<int64_t> ids;
    int64_t id = 0;
    while (in >> id) ids.push_back(id);
    const std::vector<float> audio = model->synthesize(ids, params, cancel, &pool);
    std::ofstream out(out_dir / (std::to_string(n++) + ".f32"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(audio.data()),
              static_cast<std::streamsize>(audio.size() * sizeof(float)));
    std::cout << audio.size() << "\n" << std::flush;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "ids" && argc == 3) return cmd_ids(argv[2]);
    if (cmd == "synth" && (argc == 8 || argc == 9)) return cmd_synth(argv + 2);
    std::fprintf(stderr, "usage: tts_dump ids MODEL | tts_dump synth MODEL OUT NS LS NW THREADS [SPEAKER]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tts_dump: %s\n", e.what());
    return 1;
  }
}
