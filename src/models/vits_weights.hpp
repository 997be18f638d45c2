// The tensors of a VITS voice, bound by name once at load time and checked against VitsConfig.
// Views point into the memory-mapped GGUF; nothing is copied. Must never be mutated after load.
#pragma once

#include <vector>

#include "models/vits_config.hpp"
#include "runtime/conv1d.hpp"
#include "runtime/gguf.hpp"
#include "runtime/matmul.hpp"
#include "runtime/vocoder_ops.hpp"

namespace duet::models {

// A Conv1d: weight f32 [kernel, c_in, c_out] (as tools/convert_piper.py writes it), bias f32
// [c_out] or null, shape.
struct VitsConv {
  const float* wt = nullptr;
  const float* packed = nullptr;  // wt repacked by rt::conv1d_pack (decoder only), or null
  const float* b = nullptr;
  rt::Conv1dParams p;
  bool present() const { return wt != nullptr; }
};

struct VitsEncoderLayer {
  VitsConv q, k, v, o;
  const float* rel_k = nullptr;  // f32 [2*window+1, head_dim]
  const float* rel_v = nullptr;
  const float* ln1_g = nullptr;
  const float* ln1_b = nullptr;
  const float* ln2_g = nullptr;
  const float* ln2_b = nullptr;
  VitsConv ffn1, ffn2;
};

struct VitsDdsLayer {
  const float* sep_w = nullptr;  // f32 [kernel, channels] (depthwise)
  const float* sep_b = nullptr;
  int64_t dilation = 1;
  const float* n1_g = nullptr;
  const float* n1_b = nullptr;
  VitsConv conv1x1;
  const float* n2_g = nullptr;
  const float* n2_b = nullptr;
};

struct VitsConvFlow {
  VitsConv pre;
  std::vector<VitsDdsLayer> convs;
  VitsConv proj;
};

struct VitsWnLayer {
  VitsConv in;
  VitsConv res_skip;
};

struct VitsCoupling {
  VitsConv pre;
  std::vector<VitsWnLayer> wn;
  VitsConv cond;  // speaker conditioning (multi-speaker only)
  VitsConv post;
};

struct VitsUpsample {
  const float* wt = nullptr;  // f32 [c_in, kernel, c_out]
  const float* packed = nullptr;  // wt repacked by rt::conv_transpose1d_pack, or null
  const float* b = nullptr;
  rt::ConvTranspose1dParams p;
};

struct VitsWeights {
  rt::GgufFile file;
  // Text encoder.
  rt::WeightView emb;  // [n_vocab, hidden]
  std::vector<VitsEncoderLayer> enc;
  VitsConv enc_proj;
  // Duration predictor.
  VitsConv dp_pre, dp_proj, dp_cond;
  std::vector<VitsDdsLayer> dp_convs;
  std::vector<VitsConvFlow> dp_flows;  // in config.dp_flows order (ascending)
  const float* dp_m = nullptr;         // f32 [2]
  const float* dp_exp_neg_logs = nullptr;  // f32 [2]
  // Flow.
  std::vector<VitsCoupling> flows;  // in config.flows order (ascending)
  // Decoder.
  VitsConv dec_pre, dec_post, dec_cond;
  std::vector<VitsUpsample> ups;
  std::vector<std::vector<VitsConv>> resblocks;  // per block: its convs in application order
  // Speakers.
  rt::WeightView speaker_emb;  // [num_speakers, gin] or empty
  // The decoder's weights repacked once at load for the vocoder kernels (what the `packed`
  // pointers above point into; each buffer stays put when this moves).
  std::vector<std::vector<float>> packed_store;

  // Binds and checks every tensor; throws duet::Error naming the first bad one.
  static VitsWeights bind(rt::GgufFile file, const VitsConfig& c);
};

}  // namespace duet::models
