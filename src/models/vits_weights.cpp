// VitsWeights::bind(): one lookup per tensor with a shape check. Must never keep a view to a
// tensor whose shape was not checked.
#include "models/vits_weights.hpp"

#include <string>

#include "core/error.hpp"

namespace duet::models {
namespace {

class Binder {
 public:
  explicit Binder(const rt::GgufFile& f) : f_(f) {}

  const rt::TensorInfo& tensor(const std::string& name, int64_t numel) const {
    const rt::TensorInfo& t = f_.tensor(name);
    if (t.nelements() != numel) {
      fail("vits: tensor {} has {} elements, expected {}", name, t.nelements(), numel);
    }
    return t;
  }
  const float* vec(const std::string& name, int64_t n) const {
    const rt::TensorInfo& t = tensor(name, n);
    if (t.type != rt::DType::F32) fail("vits: tensor {} must be F32", name);
    return reinterpret_cast<const float*>(t.data);
  }
  const float* opt_vec(const std::string& name, int64_t n) const {
    return f_.find_tensor(name) != nullptr ? vec(name, n) : nullptr;
  }
  rt::WeightView matrix(const std::string& name, int64_t n_out, int64_t n_in) const {
    const rt::TensorInfo& t = tensor(name, n_out * n_in);
    return rt::WeightView::of(t.type, n_in, n_out, t.data);
  }
  VitsConv conv(const std::string& prefix, int64_t c_in, int64_t c_out, int64_t kernel,
                int64_t dilation = 1, bool bias = true) const {
    VitsConv c;
    const rt::TensorInfo& t = tensor(prefix + ".weight", c_out * c_in * kernel);
    if (t.type != rt::DType::F32 || t.ne[0] != c_out || t.ne[1] != c_in) {
      fail("vits: tensor {}.weight must be F32 [kernel][c_in {}][c_out {}]; reconvert the voice "
           "with tools/convert_piper.py",
           prefix, c_in, c_out);
    }
    c.wt = reinterpret_cast<const float*>(t.data);
    c.b = bias ? vec(prefix + ".bias", c_out) : opt_vec(prefix + ".bias", c_out);
    c.p.c_in = c_in;
    c.p.c_out = c_out;
    c.p.kernel = kernel;
    c.p.dilation = dilation;
    c.p.pad_left = c.p.pad_right = dilation * (kernel - 1) / 2;
    return c;
  }
  bool has(const std::string& name) const { return f_.find_tensor(name) != nullptr; }

 private:
  const rt::GgufFile& f_;
};

std::vector<VitsDdsLayer> dds(const Binder& b, const std::string& prefix, const VitsConfig& c) {
  std::vector<VitsDdsLayer> layers;
  int64_t dilation = 1;
  for (int64_t i = 0; i < c.dp_layers; ++i) {
    const std::string s = std::to_string(i);
    VitsDdsLayer l;
    l.sep_w = b.vec(prefix + ".convs_sep." + s + ".weight", c.dp_kernel * c.dp_filter);
    l.sep_b = b.vec(prefix + ".convs_sep." + s + ".bias", c.dp_filter);
    l.dilation = dilation;
    l.n1_g = b.vec(prefix + ".norms_1." + s + ".gamma", c.dp_filter);
    l.n1_b = b.vec(prefix + ".norms_1." + s + ".beta", c.dp_filter);
    l.conv1x1 = b.conv(prefix + ".convs_1x1." + s, c.dp_filter, c.dp_filter, 1);
    l.n2_g = b.vec(prefix + ".norms_2." + s + ".gamma", c.dp_filter);
    l.n2_b = b.vec(prefix + ".norms_2." + s + ".beta", c.dp_filter);
    layers.push_back(l);
    dilation *= c.dp_kernel;
  }
  return layers;
}

// Repacks the decoder's convolutions (the vocoder's hot loops) into the kernels' panel layout;
// convolutions the layout does not fit keep only their plain weights.
void pack_decoder(VitsWeights& w) {
  const auto pack = [&w](VitsConv& c) {
    if (!rt::conv1d_packable(c.p)) return;
    std::vector<float>& buf = w.packed_store.emplace_back(rt::conv1d_packed_floats(c.p));
    rt::conv1d_pack(c.wt, c.p, buf.data());
    c.packed = buf.data();
  };
  pack(w.dec_pre);
  pack(w.dec_post);
  for (std::vector<VitsConv>& block : w.resblocks) {
    for (VitsConv& c : block) pack(c);
  }
  for (VitsUpsample& u : w.ups) {
    if (!rt::conv_transpose1d_packable(u.p)) continue;
    std::vector<float>& buf = w.packed_store.emplace_back(rt::conv_transpose1d_packed_floats(u.p));
    rt::conv_transpose1d_pack(u.wt, u.p, buf.data());
    u.packed = buf.data();
  }
}

}  // namespace

VitsWeights VitsWeights::bind(rt::GgufFile file, const VitsConfig& c) {
  VitsWeights w{std::move(file)};
  const Binder b(w.file);
  const int64_t hd = c.hidden / c.n_heads;
  const int64_t rel = 2 * c.window + 1;
  w.emb = b.matrix("enc_p.emb.weight", c.n_vocab, c.hidden);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string a = "enc_p.encoder.attn_layers." + std::to_string(i);
    const std::string s = std::to_string(i);
    VitsEncoderLayer l;
    l.q = b.conv(a + ".conv_q", c.hidden, c.hidden, 1);
    l.k = b.conv(a + ".conv_k", c.hidden, c.hidden, 1);
    l.v = b.conv(a + ".conv_v", c.hidden, c.hidden, 1);
    l.o = b.conv(a + ".conv_o", c.hidden, c.hidden, 1);
    l.rel_k = b.vec(a + ".emb_rel_k", rel * hd);
    l.rel_v = b.vec(a + ".emb_rel_v", rel * hd);
    l.ln1_g = b.vec("enc_p.encoder.norm_layers_1." + s + ".gamma", c.hidden);
    l.ln1_b = b.vec("enc_p.encoder.norm_layers_1." + s + ".beta", c.hidden);
    l.ln2_g = b.vec("enc_p.encoder.norm_layers_2." + s + ".gamma", c.hidden);
    l.ln2_b = b.vec("enc_p.encoder.norm_layers_2." + s + ".beta", c.hidden);
    l.ffn1 = b.conv("enc_p.encoder.ffn_layers." + s + ".conv_1", c.hidden, c.filter, c.ffn_kernel);
    l.ffn2 = b.conv("enc_p.encoder.ffn_layers." + s + ".conv_2", c.filter, c.hidden, c.ffn_kernel);
    w.enc.push_back(l);
  }
  w.enc_proj = b.conv("enc_p.proj", c.hidden, 2 * c.inter, 1);

  w.dp_pre = b.conv("dp.pre", c.hidden, c.dp_filter, 1);
  w.dp_convs = dds(b, "dp.convs", c);
  w.dp_proj = b.conv("dp.proj", c.dp_filter, c.dp_filter, 1);
  if (c.gin > 0) w.dp_cond = b.conv("dp.cond", c.gin, c.dp_filter, 1);
  const int64_t proj_out = 3 * c.dp_bins - 1;
  for (const int64_t i : c.dp_flows) {
    const std::string p = "dp.flows." + std::to_string(i);
    VitsConvFlow f;
    f.pre = b.conv(p + ".pre", 1, c.dp_filter, 1);
    f.convs = dds(b, p + ".convs", c);
    f.proj = b.conv(p + ".proj", c.dp_filter, proj_out, 1);
    w.dp_flows.push_back(std::move(f));
  }
  w.dp_m = b.vec("dp.flows.0.m", 2);
  w.dp_exp_neg_logs = b.vec("dp.flows.0.exp_neg_logs", 2);

  const int64_t half = c.inter / 2;
  for (const int64_t i : c.flows) {
    const std::string p = "flow.flows." + std::to_string(i);
    VitsCoupling f;
    f.pre = b.conv(p + ".pre", half, c.hidden, 1);
    for (int64_t j = 0; j < c.wn_layers; ++j) {
      const std::string s = std::to_string(j);
      VitsWnLayer l;
      l.in = b.conv(p + ".enc.in_layers." + s, c.hidden, 2 * c.hidden, c.wn_kernel,
                    c.wn_dilations[static_cast<size_t>(j)]);
      const int64_t rs = j + 1 < c.wn_layers ? 2 * c.hidden : c.hidden;
      l.res_skip = b.conv(p + ".enc.res_skip_layers." + s, c.hidden, rs, 1);
      f.wn.push_back(l);
    }
    if (c.gin > 0) f.cond = b.conv(p + ".enc.cond_layer", c.gin, 2 * c.hidden * c.wn_layers, 1);
    f.post = b.conv(p + ".post", c.hidden, half, 1);
    w.flows.push_back(std::move(f));
  }

  w.dec_pre = b.conv("dec.conv_pre", c.inter, c.up_initial, c.conv_pre_kernel);
  if (c.gin > 0) w.dec_cond = b.conv("dec.cond", c.gin, c.up_initial, 1);
  int64_t ch = c.up_initial;
  for (size_t i = 0; i < c.up_rates.size(); ++i) {
    VitsUpsample u;
    const int64_t out = ch / 2;
    const std::string p = "dec.ups." + std::to_string(i);
    const rt::TensorInfo& t = b.tensor(p + ".weight", ch * c.up_kernels[i] * out);
    if (t.type != rt::DType::F32 || t.ne[0] != out || t.ne[1] != c.up_kernels[i]) {
      fail("vits: tensor {}.weight must be F32 [c_in][kernel][c_out]; reconvert the voice", p);
    }
    u.wt = reinterpret_cast<const float*>(t.data);
    u.b = b.vec(p + ".bias", out);
    u.p = {ch, out, c.up_kernels[i], c.up_rates[i], c.up_paddings[i]};
    w.ups.push_back(u);
    for (size_t j = 0; j < c.resblock_kernels.size(); ++j) {
      const size_t blk = i * c.resblock_kernels.size() + j;
      const std::string r = "dec.resblocks." + std::to_string(blk);
      const int64_t k = c.resblock_kernels[j];
      std::vector<VitsConv> convs;
      const auto& dil = c.resblock_dilations[j];
      for (size_t d = 0; d < dil.size(); ++d) {
        const std::string s = std::to_string(d);
        if (c.resblock_type == 2) {
          convs.push_back(b.conv(r + ".convs." + s, out, out, k, dil[d]));
        } else {
          convs.push_back(b.conv(r + ".convs1." + s, out, out, k, dil[d]));
          convs.push_back(b.conv(r + ".convs2." + s, out, out, k, 1));
        }
      }
      w.resblocks.push_back(std::move(convs));
    }
    ch = out;
  }
  w.dec_post = b.conv("dec.conv_post", ch, 1, c.conv_post_kernel, 1, c.conv_post_bias);
  if (c.gin > 0) w.speaker_emb = b.matrix("emb_g.weight", c.num_speakers, c.gin);
  pack_decoder(w);
  return w;
}

}  // namespace duet::models
