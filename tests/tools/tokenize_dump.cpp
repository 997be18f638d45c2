// Peer-check helper for tests/python/test_tokenizer_vs_llamacpp.py: loads a GGUF tokenizer and
// prints, for each string of a JSON array, Duet's token ids (with and without special-token
// parsing and BOS) and decoded text, or every token's piece. Output is JSON on stdout; decoded
// bytes are hex so invalid UTF-8 survives. Must never print anything else on stdout.
//
//   tokenize_dump MODEL.gguf STRINGS.json     per-string ids and decodings
//   tokenize_dump MODEL.gguf --pieces         token_to_piece of every token (plain, special)
//   tokenize_dump MODEL.gguf --bench TEXT     microseconds per encode of TEXT (median of runs)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/gguf.hpp"
#include "text/tokenizer.hpp"

namespace {

using duet::text::DecodeOptions;
using duet::text::EncodeOptions;
using duet::text::Token;
using duet::text::Tokenizer;

std::string hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

int dump_strings(const Tokenizer& tok, const std::string& json_path) {
  std::ifstream in(json_path);
  if (!in) {
    std::cerr << "cannot read " << json_path << "\n";
    return 2;
  }
  const auto strings = nlohmann::json::parse(in);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : strings) {
    const std::string text = s.get<std::string>();
    const auto plain = tok.encode(text, EncodeOptions{.add_special = true, .parse_special = false});
    const auto special =
        tok.encode(text, EncodeOptions{.add_special = true, .parse_special = true});
    const auto bare = tok.encode(text, EncodeOptions{.add_special = false, .parse_special = false});
    out.push_back({
        {"plain", plain},
        {"special", special},
        {"bare", bare},
        {"decode_plain", hex(tok.decode(plain))},
        {"decode_special", hex(tok.decode(special, DecodeOptions{.unparse_special = true}))},
        {"decode_special_removed",
         hex(tok.decode(special, DecodeOptions{.remove_special = true, .unparse_special = true}))},
    });
  }
  std::cout << out.dump() << "\n";
  return 0;
}

int dump_pieces(const Tokenizer& tok) {
  nlohmann::json plain = nlohmann::json::array(), special = nlohmann::json::array();
  for (size_t t = 0; t < tok.vocab_size(); ++t) {
    plain.push_back(hex(tok.token_to_piece(static_cast<Token>(t), false)));
    special.push_back(hex(tok.token_to_piece(static_cast<Token>(t), true)));
  }
  std::cout << nlohmann::json{{"plain", plain}, {"special", special}}.dump() << "\n";
  return 0;
}

int bench(const Tokenizer& tok, const std::string& text) {
  std::vector<double> us;
  size_t n_tokens = 0;
  for (int run = 0; run < 50; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok.encode(text, EncodeOptions{.add_special = true, .parse_special = true});
    const auto t1 = std::chrono::steady_clock::now();
    n_tokens = ids.size();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  std::cout << nlohmann::json{{"tokens", n_tokens},
                              {"median_us", us[us.size() / 2]},
                              {"min_us", us.front()}}
                   .dump()
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: tokenize_dump MODEL.gguf STRINGS.json | --pieces | --bench TEXT\n";
    return 2;
  }
  try {
    const auto gguf = duet::rt::GgufFile::open(argv[1]);
    const auto tok = Tokenizer::from_gguf(gguf);
    const std::string mode = argv[2];
    if (mode == "--pieces") return dump_pieces(tok);
    if (mode == "--bench" && argc >= 4) return bench(tok, argv[3]);
    return dump_strings(tok, mode);
  } catch (const std::exception& e) {
    std::cerr << "tokenize_dump: " << e.what() << "\n";
    return 1;
  }
}
