// Tokenizer, chat template and streaming checks on the real models (SmolLM2-135M-Instruct and
// Gemma 3 270M) when present under $DUET_MODELS (default <repo>/models, the file itself or one
// folder down); skipped with a message otherwise. Ids here were confirmed against llama.cpp.
// Must never fail for a missing model: those tests skip with a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "runtime/gguf.hpp"
#include "text/chat_template.hpp"
#include "text/stream_decoder.hpp"
#include "text/tokenizer.hpp"

using namespace duet::text;
namespace fs = std::filesystem;

namespace {

std::optional<fs::path> find_model(const std::string& file) {
  const char* env = std::getenv("DUET_MODELS");
  const fs::path root = env ? fs::path(env) : fs::path(DUET_SOURCE_DIR) / "models";
  if (fs::exists(root / file)) return root / file;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / file)) return entry.path() / file;
  }
  return std::nullopt;
}

struct Model {
  duet::rt::GgufFile gguf;
  Tokenizer tok;
};

// Loads once per test binary run; nullptr when absent.
const Model* load(const std::string& file) {
  static std::map<std::string, std::unique_ptr<Model>> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second.get();
  std::unique_ptr<Model> m;
  if (auto path = find_model(file)) {
    auto gguf = duet::rt::GgufFile::open(*path);
    auto tok = Tokenizer::from_gguf(gguf);
    m = std::make_unique<Model>(Model{std::move(gguf), std::move(tok)});
  }
  return (cache[file] = std::move(m)).get();
}

constexpr const char* kSmol = "SmolLM2-135M-Instruct.Q4_1.gguf";
constexpr const char* kGemma = "gemma-3-270m-q4_k_m.gguf";

#define REQUIRE_MODEL(var, file) \
  const Model* var = load(file); \
  if (!var) GTEST_SKIP() << file << " not found under $DUET_MODELS (default <repo>/models)"

std::vector<ChatMessage> chat() {
  return {{"system", "You are Duet."},
          {"user", "Hi! What's 2+2?"},
          {"assistant", "4."},
          {"user", "Thanks \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"}};
}

void check_incremental_tokens(const Tokenizer& tok, const ChatTemplate& t) {
  const auto msgs = chat();
  const std::span<const ChatMessage> all(msgs);
  for (size_t split = 1; split < msgs.size(); ++split) {
    auto ids = tok.encode(t.render(all.subspan(0, split), false),
                          {.add_special = true, .parse_special = true});
    tok.encode(t.render_increment(all.subspan(0, split), all.subspan(split)),
               {.add_special = false, .parse_special = true}, ids);
    EXPECT_EQ(ids, tok.encode(t.render(all), {.add_special = true, .parse_special = true}))
        << "split " << split;
  }
}

std::string stream_all(const Tokenizer& tok, const std::vector<Token>& ids) {
  StreamDecoder dec(tok);
  std::string out;
  for (Token t : ids) out += dec.push(t);
  return out + dec.flush();
}

double median_encode_us(const Tokenizer& tok, const std::string& text, size_t* n_tokens) {
  std::vector<double> us;
  for (int i = 0; i < 30; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    *n_tokens = tok.encode(text, {.add_special = true, .parse_special = true}).size();
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

std::string long_prompt() {
  std::string text = "<|im_start|>user\n";
  for (int i = 0; i < 28; ++i)
    text += "The quick brown fox, number " + std::to_string(i * 37) +
            ", jumps over the lazy dog's back; ";
  return text + "<|im_end|>\n";
}

}  // namespace

TEST(TokenizerModels, SmolLM2) {
  REQUIRE_MODEL(m, kSmol);
  const Tokenizer& tok = m->tok;
  EXPECT_EQ(tok.vocab().kind(), VocabKind::Bpe);
  EXPECT_EQ(tok.vocab_size(), 49152u);
  EXPECT_FALSE(tok.add_bos());
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<Token>{19556, 905}));
  EXPECT_EQ(tok.encode("<|im_start|>user\nhi<|im_end|>", {.parse_special = true}),
            (std::vector<Token>{1, 4093, 198, 6004, 2}));
  EXPECT_TRUE(tok.is_eog(2));
  const auto t = ChatTemplate::from_gguf(m->gguf, tok);
  EXPECT_EQ(t.family(), ChatFamily::ChatML);
  EXPECT_EQ(t.options().default_system,
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  const auto stops = t.stop_tokens(tok.vocab());
  EXPECT_NE(std::find(stops.begin(), stops.end(), 2), stops.end());
  check_incremental_tokens(tok, t);
}

TEST(TokenizerModels, Gemma3) {
  REQUIRE_MODEL(m, kGemma);
  const Tokenizer& tok = m->tok;
  EXPECT_EQ(tok.vocab().kind(), VocabKind::Spm);
  EXPECT_EQ(tok.vocab_size(), 262144u);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<Token>{2, 9259, 1902}));
  EXPECT_EQ(tok.find_token("<end_of_turn>"), 106);
  const auto t = ChatTemplate::from_gguf(m->gguf, tok);
  EXPECT_EQ(t.family(), ChatFamily::Gemma);
  const auto stops = t.stop_tokens(tok.vocab());
  EXPECT_NE(std::find(stops.begin(), stops.end(), 106), stops.end());
  EXPECT_NE(std::find(stops.begin(), stops.end(), 1), stops.end());
  EXPECT_TRUE(tok.is_eog(106));
  check_incremental_tokens(tok, t);
}

TEST(TokenizerModels, StreamingEqualsDecodeOnRealVocabularies) {
  const std::string text =
      "Emoji \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD, family "
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"
      "\xF0\x9F\x91\xA7, CJK \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E, Arabic "
      "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7";
  bool any = false;
  for (const char* file : {kSmol, kGemma}) {
    const Model* m = load(file);
    if (!m) continue;
    any = true;
    const auto ids = m->tok.encode(text);
    EXPECT_EQ(m->tok.decode(ids), text) << file;
    EXPECT_EQ(stream_all(m->tok, ids), text) << file;
  }
  if (!any) GTEST_SKIP() << "no model found under $DUET_MODELS";
}

TEST(TokenizerModels, EncodesA512TokenPromptQuickly) {
  bool any = false;
  for (const char* file : {kSmol, kGemma}) {
    const Model* m = load(file);
    if (!m) continue;
    any = true;
    size_t n = 0;
    const double us = median_encode_us(m->tok, long_prompt(), &n);
    std::printf("[ perf     ] %s: %zu tokens in %.0f us (median of 30)\n", file, n, us);
    EXPECT_GE(n, 512u);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
    EXPECT_LT(us, 3000.0) << "encoding got slow";
#endif
  }
  if (!any) GTEST_SKIP() << "no model found under $DUET_MODELS";
}
