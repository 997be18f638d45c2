// The hyperparameters and voice settings of a Piper/VITS GGUF (written by tools/convert_piper.py):
// network shapes, decoder layout, sample rate, inference defaults, phoneme-id map and speakers.
// Must never read tensors (vits_weights does) and never guess a value the file lacks.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace duet::rt {
class GgufFile;
}

namespace duet::models {

struct VitsConfig {
  // Text encoder.
  int64_t n_vocab = 0, hidden = 0, n_layers = 0, n_heads = 0, window = 0, filter = 0,
          ffn_kernel = 0, inter = 0;
  // Stochastic duration predictor.
  int64_t dp_filter = 0, dp_kernel = 0, dp_layers = 0, dp_bins = 0;
  float dp_tail_bound = 5.0f;
  std::vector<int64_t> dp_flows;  // ConvFlow indices, ascending (e.g. 3, 5, 7)
  // Coupling flow.
  std::vector<int64_t> flows;  // coupling layer indices, ascending (0, 2, 4, 6)
  int64_t wn_layers = 0, wn_kernel = 0;
  std::vector<int64_t> wn_dilations;
  // HiFi-GAN.
  std::vector<int64_t> up_rates, up_kernels, up_paddings;
  int64_t up_initial = 0, conv_pre_kernel = 0, conv_post_kernel = 0;
  bool conv_post_bias = false;
  int64_t resblock_type = 2;
  std::vector<int64_t> resblock_kernels;
  std::vector<std::vector<int64_t>> resblock_dilations;  // per kernel
  int64_t gin = 0;
  // Voice.
  int sample_rate = 22050;
  int64_t hop = 256;
  float noise_scale = 0.667f, length_scale = 1.0f, noise_w = 0.8f;
  std::string phoneme_type, espeak_voice, quality;
  std::unordered_map<char32_t, std::vector<int64_t>> phoneme_id_map;
  int64_t num_speakers = 1, default_speaker = 0;
  std::vector<std::string> speaker_names;  // index = speaker id where known
  std::unordered_map<char32_t, float> phoneme_silence;  // seconds of silence after a phoneme

  // Reads and checks the config; throws duet::Error naming the bad key.
  static VitsConfig from_gguf(const rt::GgufFile& file);
};

}  // namespace duet::models
