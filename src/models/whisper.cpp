// Loading a Whisper GGUF (tools/convert_whisper.py) into an immutable WhisperModel: metadata,
// vocabulary (byte-level text decoded to bytes once), special tokens and weight views.
// Must never copy weights (views into the map) and never accept a tensor of the wrong shape.
#include "models/whisper.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "runtime/requantize.hpp"
#include "text/byte_unicode.hpp"

namespace duet::whisper {
namespace {

const rt::TensorInfo& tensor(const rt::GgufFile& f, const std::string& name,
                             std::initializer_list<int64_t> ne) {
  const rt::TensorInfo& t = f.tensor(name);
  int i = 0;
  for (int64_t n : ne) {
    if (t.ne[i] != n) {
      fail("tensor {} has ne[{}] = {}, expected {}", name, i, t.ne[i], n);
    }
    ++i;
  }
  if (static_cast<int64_t>(ne.size()) < t.n_dims) fail("tensor {} has too many dimensions", name);
  return t;
}

const float* f32(const rt::GgufFile& f, const std::string& name, std::initializer_list<int64_t> ne) {
  const rt::TensorInfo& t = tensor(f, name, ne);
  if (t.type != rt::DType::F32) fail("tensor {} must be F32", name);
  return reinterpret_cast<const float*>(t.data);
}

Linear linear(const rt::GgufFile& f, const std::string& name, int64_t n_in, int64_t n_out) {
  Linear l;
  l.w = rt::WeightView::of(tensor(f, name + ".w", {n_in, n_out}));
  l.b = f32(f, name + ".b", {n_out});
  return l;
}

Norm norm(const rt::GgufFile& f, const std::string& name, int64_t n) {
  return Norm{f32(f, name + ".w", {n}), f32(f, name + ".b", {n})};
}

// The UTF-8 bytes a byte-level BPE token stands for; text that is not byte-level stays as is.
std::string decode_byte_level(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xC0 && c < 0xE0 && i + 1 < s.size()) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      len = 2;
    } else if (c >= 0xE0) {
      return s;  // not a byte-level token
    }
    const auto b = text::unicode_to_byte(cp);
    if (!b) return s;
    out.push_back(static_cast<char>(*b));
    i += len;
  }
  return out;
}

}  // namespace

std::shared_ptr<const WhisperModel> WhisperModel::load(const std::filesystem::path& path) {
  return with_context("loading Whisper model " + path.string(), [&] {
    std::shared_ptr<WhisperModel> m(new WhisperModel());
    m->file_ = std::make_unique<rt::GgufFile>(rt::GgufFile::open(path));
    const rt::GgufFile& f = *m->file_;
    if (f.get_string("general.architecture") != "whisper") {
      fail("general.architecture is '{}', not 'whisper' (convert with tools/convert_whisper.py)",
           f.get_string("general.architecture"));
    }
    Hparams& hp = m->hp_;
    auto geti = [&](const char* k) { return static_cast<int>(f.get_int(std::string("whisper.") + k)); };
    hp.n_mels = geti("n_mels");
    hp.n_audio_ctx = geti("n_audio_ctx");
    hp.n_audio_state = geti("n_audio_state");
    hp.n_audio_head = geti("n_audio_head");
    hp.n_audio_layer = geti("n_audio_layer");
    hp.n_text_ctx = geti("n_text_ctx");
    hp.n_text_state = geti("n_text_state");
    hp.n_text_head = geti("n_text_head");
    hp.n_text_layer = geti("n_text_layer");
    hp.n_vocab = geti("n_vocab");
    hp.eps = static_cast<float>(f.get_float("whisper.layer_norm_eps", 1e-5));
    if (hp.n_audio_state % hp.n_audio_head || hp.n_text_state % hp.n_text_head ||
        hp.n_audio_state != hp.n_text_state || hp.n_audio_layer <= 0 || hp.n_text_layer <= 0) {
      fail("inconsistent hyperparameters (state {}/{}, heads {}/{})", hp.n_audio_state,
           hp.n_text_state, hp.n_audio_head, hp.n_text_head);
    }
    SpecialTokens& sp = m->sp_;
    auto tok = [&](const char* k) {
      const int64_t v = f.get_int(std::string("whisper.token.") + k);
      if (v < 0 || v >= hp.n_vocab) fail("special token {} = {} is outside the vocabulary", k, v);
      return static_cast<int32_t>(v);
    };
    sp.eot = tok("eot");
    sp.sot = tok("sot");
    sp.translate = tok("translate");
    sp.transcribe = tok("transcribe");
    sp.sot_lm = tok("sot_lm");
    sp.sot_prev = tok("sot_prev");
    sp.no_speech = tok("no_speech");
    sp.no_timestamps = tok("no_timestamps");
    sp.timestamp_begin = tok("timestamp_begin");
    m->multilingual_ = f.get_bool("whisper.multilingual");
    auto ids = [&](const char* k, std::vector<int32_t>& out) {
      const rt::GgufValue* v = f.find(std::string("whisper.") + k);
      if (!v) return;
      for (int64_t x : f.get_array(std::string("whisper.") + k).ints) {
        if (x < 0 || x >= hp.n_vocab) fail("{} holds id {} outside the vocabulary", k, x);
        out.push_back(static_cast<int32_t>(x));
      }
    };
    ids("suppress_tokens", m->suppress_);
    ids("suppress_tokens_begin", m->suppress_begin_);
    ids("language_ids", m->lang_ids_);
    if (f.find("whisper.language_codes")) m->lang_codes_ = f.get_array("whisper.language_codes").strings;
    m->vocab_ = f.get_array("whisper.vocab").strings;
    if (static_cast<int>(m->vocab_.size()) != hp.n_vocab) {
      fail("vocabulary holds {} tokens, n_vocab is {}", m->vocab_.size(), hp.n_vocab);
    }
    m->vocab_bytes_.resize(m->vocab_.size());
    for (size_t i = 0; i < m->vocab_.size(); ++i) {
      const bool special = static_cast<int32_t>(i) >= sp.eot;
      m->vocab_bytes_[i] = special ? std::string() : decode_byte_level(m->vocab_[i]);
    }
    const float* mf = f32(f, "mel_filters", {201, hp.n_mels});
    m->mel_filters_.assign(mf, mf + 201 * hp.n_mels);

    const int64_t d = hp.n_audio_state, ff = f.tensor("enc.0.ffn_up.w").ne[1];
    m->conv1_w = rt::WeightView::of(rt::DType::F32, hp.n_mels * 3, d,
                                    f32(f, "enc.conv1.w", {3, hp.n_mels, d}));
    m->conv1_b = f32(f, "enc.conv1.b", {d});
    m->conv2_w = rt::WeightView::of(rt::DType::F32, d * 3, d, f32(f, "enc.conv2.w", {3, d, d}));
    m->conv2_b = f32(f, "enc.conv2.b", {d});
    m->enc_pos = f32(f, "enc.pos", {d, hp.n_audio_ctx});
    m->enc_norm = norm(f, "enc.norm", d);
    for (int i = 0; i < hp.n_audio_layer; ++i) {
      const std::string p = "enc." + std::to_string(i);
      EncoderLayer l;
      l.attn_norm = norm(f, p + ".attn_norm", d);
      l.ffn_norm = norm(f, p + ".ffn_norm", d);
      l.q = linear(f, p + ".attn_q", d, d);
      l.k = linear(f, p + ".attn_k", d, d);
      l.v = linear(f, p + ".attn_v", d, d);
      l.o = linear(f, p + ".attn_o", d, d);
      l.up = linear(f, p + ".ffn_up", d, ff);
      l.down = linear(f, p + ".ffn_down", ff, d);
      m->enc.push_back(l);
    }
    m->tok_emb = rt::WeightView::of(tensor(f, "dec.tok", {d, hp.n_vocab}));
    m->dec_pos = f32(f, "dec.pos", {d, hp.n_text_ctx});
    m->dec_norm = norm(f, "dec.norm", d);
    for (int i = 0; i < hp.n_text_layer; ++i) {
      const std::string p = "dec." + std::to_string(i);
      DecoderLayer l;
      l.attn_norm = norm(f, p + ".attn_norm", d);
      l.cross_norm = norm(f, p + ".cross_norm", d);
      l.ffn_norm = norm(f, p + ".ffn_norm", d);
      l.q = linear(f, p + ".attn_q", d, d);
      l.k = linear(f, p + ".attn_k", d, d);
      l.v = linear(f, p + ".attn_v", d, d);
      l.o = linear(f, p + ".attn_o", d, d);
      l.cross_q = linear(f, p + ".cross_q", d, d);
      l.cross_k = linear(f, p + ".cross_k", d, d);
      l.cross_v = linear(f, p + ".cross_v", d, d);
      l.cross_o = linear(f, p + ".cross_o", d, d);
      l.up = linear(f, p + ".ffn_up", d, ff);
      l.down = linear(f, p + ".ffn_down", ff, d);
      m->dec.push_back(l);
    }
    // A decoder step streams every decoder weight and the whole output projection from memory
    // (about 56 MB at F16 for tiny; 10 GB/s on this machine). The projection, 40 MB of it, is
    // read in Q8_0: half the bytes. The decoder layers stay F16: in Q8_0 too, beam search lost a
    // word against faster-whisper on the accuracy set (tests/python/test_asr_accuracy.py).
    m->tok_out = rt::requantized_view(m->tok_emb, rt::DType::Q8_0, m->requantized_);
    // Everything that runs once per audio position goes through an integer GEMM: the 8-bit one
    // where this CPU runs it (AVX-512 VNNI: twice the multiplies per instruction), else the 16-bit
    // one. The conv stem stays 16-bit everywhere: with it in 8 bits too, beam search's word error
    // rate on the accuracy set rose from 0.096 to 0.117 against faster-whisper's 0.093
    // (tests/python/test_asr_accuracy.py); the stem is 7% of the encoder's multiplies.
    const bool int8 = rt::gemm_int8_available();
    auto pack = [&](rt::WeightView& w, bool eight_bit) {
      if (int8 && eight_bit) {
        m->int8_panels_.push_back(rt::pack_int8_panels(w));
        w.int8 = m->int8_panels_.back().get();
      } else {
        m->int16_panels_.push_back(rt::pack_int16_panels(w));
        w.int16 = m->int16_panels_.back().get();
      }
    };
    pack(m->conv1_w, false);
    pack(m->conv2_w, false);
    for (EncoderLayer& l : m->enc) {
      for (Linear* lin : {&l.q, &l.k, &l.v, &l.o, &l.up, &l.down}) pack(lin->w, true);
    }
    for (DecoderLayer& l : m->dec) {
      pack(l.cross_k.w, true);
      pack(l.cross_v.w, true);
    }
    return std::shared_ptr<const WhisperModel>(std::move(m));
  });
}

int32_t WhisperModel::language_token(std::string_view code) const {
  for (size_t i = 0; i < lang_codes_.size() && i < lang_ids_.size(); ++i) {
    if (lang_codes_[i] == code) return lang_ids_[i];
  }
  return -1;
}

const std::string& WhisperModel::token_bytes(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || id >= static_cast<int32_t>(vocab_bytes_.size())) return kEmpty;
  return vocab_bytes_[id];
}

const std::string& WhisperModel::token_text(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || id >= static_cast<int32_t>(vocab_.size())) return kEmpty;
  return vocab_[id];
}

}  // namespace duet::whisper
