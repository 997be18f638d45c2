// VitsConfig from GGUF metadata under the "vits." prefix. Must never accept a shape it cannot run.
#include "models/vits_config.hpp"

#include "core/error.hpp"
#include "runtime/gguf.hpp"
#include "text/unicode.hpp"

namespace duet::models {
namespace {

constexpr std::string_view kArch = "vits";

std::string key(std::string_view name) { return std::string(kArch) + "." + std::string(name); }

int64_t positive(const rt::GgufFile& f, std::string_view name) {
  const int64_t v = f.get_int(key(name));
  if (v <= 0 || v > (1 << 20)) fail("vits: {} = {} is out of range", key(name), v);
  return v;
}

std::vector<int64_t> int_list(const rt::GgufFile& f, std::string_view name) {
  const auto& a = f.get_array(key(name));
  for (const int64_t v : a.ints) {
    if (v < 0 || v > (1 << 20)) fail("vits: {} holds {}, out of range", key(name), v);
  }
  return a.ints;
}

char32_t single_codepoint(const std::string& s, std::string_view what) {
  size_t offset = 0;
  const uint32_t cp = text::utf8_decode_one(s, offset);
  if (s.empty() || offset != s.size()) fail("vits: {} key '{}' is not one codepoint", what, s);
  return static_cast<char32_t>(cp);
}

}  // namespace

VitsConfig VitsConfig::from_gguf(const rt::GgufFile& f) {
  const std::string arch = f.get_string("general.architecture", "");
  if (arch != kArch) fail("not a VITS voice (architecture '{}', expected 'vits')", arch);
  VitsConfig c;
  c.n_vocab = positive(f, "n_vocab");
  c.hidden = positive(f, "hidden_channels");
  c.n_layers = positive(f, "n_layers");
  c.n_heads = positive(f, "n_heads");
  c.window = positive(f, "window_size");
  c.filter = positive(f, "filter_channels");
  c.ffn_kernel = positive(f, "ffn_kernel");
  c.inter = positive(f, "inter_channels");
  c.dp_filter = positive(f, "dp_filter_channels");
  c.dp_kernel = positive(f, "dp_kernel");
  c.dp_layers = positive(f, "dp_n_layers");
  c.dp_bins = positive(f, "dp_num_bins");
  c.dp_tail_bound = static_cast<float>(f.get_float(key("dp_tail_bound")));
  c.dp_flows = int_list(f, "dp_flows");
  c.flows = int_list(f, "flows");
  c.wn_layers = positive(f, "wn_layers");
  c.wn_kernel = positive(f, "wn_kernel");
  c.wn_dilations = int_list(f, "wn_dilations");
  c.up_rates = int_list(f, "upsample_rates");
  c.up_kernels = int_list(f, "upsample_kernels");
  c.up_paddings = int_list(f, "upsample_paddings");
  c.up_initial = positive(f, "upsample_initial_channel");
  c.conv_pre_kernel = positive(f, "conv_pre_kernel");
  c.conv_post_kernel = positive(f, "conv_post_kernel");
  c.conv_post_bias = f.get_bool(key("conv_post_bias"));
  c.resblock_type = positive(f, "resblock_type");
  c.resblock_kernels = int_list(f, "resblock_kernels");
  const int64_t n_dil = positive(f, "resblock_n_dilations");
  const auto dil = int_list(f, "resblock_dilations");
  c.gin = f.get_int(key("gin_channels"));
  if (c.hidden % c.n_heads != 0) fail("vits: hidden {} is not divisible by {} heads", c.hidden, c.n_heads);
  if (c.inter % 2 != 0) fail("vits: inter_channels {} is odd", c.inter);
  if (c.resblock_type != 1 && c.resblock_type != 2) fail("vits: resblock type {}", c.resblock_type);
  if (c.up_rates.empty() || c.up_rates.size() != c.up_kernels.size() ||
      c.up_rates.size() != c.up_paddings.size()) {
    fail("vits: upsample rates/kernels/paddings disagree");
  }
  if (c.resblock_kernels.empty() ||
      dil.size() != c.resblock_kernels.size() * static_cast<size_t>(n_dil)) {
    fail("vits: resblock kernels/dilations disagree");
  }
  for (size_t j = 0; j < c.resblock_kernels.size(); ++j) {
    c.resblock_dilations.emplace_back(dil.begin() + static_cast<int64_t>(j) * n_dil,
                                      dil.begin() + static_cast<int64_t>(j + 1) * n_dil);
  }
  if (c.wn_dilations.size() != static_cast<size_t>(c.wn_layers)) fail("vits: wn dilations disagree");
  if (c.flows.empty() || c.dp_flows.empty()) fail("vits: no flows");
  if (c.dp_kernel % 2 == 0 || c.wn_kernel % 2 == 0) fail("vits: even kernels are not supported");

  c.sample_rate = static_cast<int>(positive(f, "sample_rate"));
  c.hop = positive(f, "hop_length");
  int64_t hop = 1;
  for (const int64_t r : c.up_rates) hop *= r;
  if (hop != c.hop) fail("vits: hop_length {} differs from the upsampling product {}", c.hop, hop);
  c.noise_scale = static_cast<float>(f.get_float(key("noise_scale")));
  c.length_scale = static_cast<float>(f.get_float(key("length_scale")));
  c.noise_w = static_cast<float>(f.get_float(key("noise_w")));
  c.phoneme_type = f.get_string(key("phoneme_type"), "espeak");
  c.espeak_voice = f.get_string(key("espeak_voice"), "en-us");
  c.quality = f.get_string(key("quality"), "");

  const auto& keys = f.get_array(key("phoneme_id_map.keys")).strings;
  const auto& counts = f.get_array(key("phoneme_id_map.counts")).ints;
  const auto& ids = f.get_array(key("phoneme_id_map.ids")).ints;
  if (keys.size() != counts.size()) fail("vits: phoneme_id_map keys/counts disagree");
  size_t at = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (counts[i] < 0 || at + static_cast<size_t>(counts[i]) > ids.size()) {
      fail("vits: phoneme_id_map ids are short");
    }
    std::vector<int64_t> v(ids.begin() + static_cast<int64_t>(at),
                           ids.begin() + static_cast<int64_t>(at) + counts[i]);
    for (const int64_t id : v) {
      if (id < 0 || id >= c.n_vocab) fail("vits: phoneme id {} is outside the vocabulary", id);
    }
    at += static_cast<size_t>(counts[i]);
    c.phoneme_id_map[single_codepoint(keys[i], "phoneme_id_map")] = std::move(v);
  }
  if (f.has(key("phoneme_silence.keys"))) {
    const auto& sk = f.get_array(key("phoneme_silence.keys")).strings;
    const auto& sv = f.get_array(key("phoneme_silence.seconds")).floats;
    if (sk.size() != sv.size()) fail("vits: phoneme_silence keys/seconds disagree");
    for (size_t i = 0; i < sk.size(); ++i) {
      c.phoneme_silence[single_codepoint(sk[i], "phoneme_silence")] = static_cast<float>(sv[i]);
    }
  }
  c.num_speakers = f.get_int(key("num_speakers"), 1);
  c.default_speaker = f.get_int(key("default_speaker_id"), 0);
  if (c.num_speakers < 1) fail("vits: num_speakers {}", c.num_speakers);
  if (c.num_speakers > 1 && c.gin <= 0) fail("vits: several speakers but no speaker embedding");
  if (f.has(key("speaker_names"))) {
    const auto& names = f.get_array(key("speaker_names")).strings;
    const auto& sids = f.get_array(key("speaker_ids")).ints;
    c.speaker_names.assign(static_cast<size_t>(c.num_speakers), std::string());
    for (size_t i = 0; i < names.size() && i < sids.size(); ++i) {
      if (sids[i] >= 0 && sids[i] < c.num_speakers) c.speaker_names[static_cast<size_t>(sids[i])] = names[i];
    }
  }
  return c;
}

}  // namespace duet::models
