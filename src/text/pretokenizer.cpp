// The byte-level BPE pre-tokenizer scanners (see pretokenizer.hpp). Each scanner returns the
// length of the match at a position, trying the pattern's alternatives in order, exactly as the
// regex would (and as llama.cpp's hand-written splitters do). Must never look outside [begin, end).
#include "text/pretokenizer.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "text/unicode.hpp"

namespace duet::text {
namespace {

struct Span {
  const uint32_t* cps;
  size_t begin;
  size_t end;
  bool in(size_t i) const { return i >= begin && i < end; }
  uint32_t at(size_t i) const { return cps[i]; }
  bool letter(size_t i) const { return in(i) && is_letter(cps[i]); }
  bool number(size_t i) const { return in(i) && is_number(cps[i]); }
  bool space(size_t i) const { return in(i) && is_whitespace(cps[i]); }
  // [^\s\p{L}\p{N}]: any code point that is not whitespace, letter or number.
  bool other(size_t i) const {
    if (!in(i)) return false;
    const uint32_t c = cps[i];
    return !is_whitespace(c) && !is_letter(c) && !is_number(c);
  }
  bool newline(size_t i) const { return in(i) && (cps[i] == '\r' || cps[i] == '\n'); }
};

// 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive; 0 when no match.
size_t match_contraction(const Span& s, size_t i, bool ignore_case) {
  if (s.at(i) != '\'' || !s.in(i + 1)) return 0;
  const auto low = [&](size_t k) { return ignore_case ? ascii_lower(s.at(k)) : s.at(k); };
  const uint32_t a = low(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (!s.in(i + 2)) return 0;
  const uint32_t b = low(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s+(?!\S)|\s+ at a whitespace position (after other alternatives failed).
size_t match_trailing_space(const Span& s, size_t i) {
  size_t k = i;
  while (s.space(k)) ++k;
  const size_t run = k - i;
  if (run > 1 && s.in(k)) return run - 1;  // leave the last one to prefix the next word
  return std::max<size_t>(run, 1);
}

size_t match_gpt2(const Span& s, size_t i) {
  if (size_t n = match_contraction(s, i, false)) return n;
  const size_t j = s.at(i) == ' ' ? i + 1 : i;  // the optional leading space
  size_t k = j;
  if (s.letter(j)) {
    while (s.letter(k)) ++k;
    return k - i;
  }
  if (s.number(j)) {
    while (s.number(k)) ++k;
    return k - i;
  }
  if (s.other(j)) {
    while (s.other(k)) ++k;
    return k - i;
  }
  return match_trailing_space(s, i);
}

size_t match_llama3(const Span& s, size_t i, size_t max_digits) {
  if (size_t n = match_contraction(s, i, true)) return n;
  const uint32_t c = s.at(i);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c != '\r' && c != '\n' && !is_number(c) && (is_letter(c) || s.letter(i + 1))) {
    size_t k = i + 1;
    while (s.letter(k)) ++k;
    return k - i;
  }
  // \p{N}{1,max}
  if (is_number(c)) {
    size_t k = i;
    while (k - i < max_digits && s.number(k)) ++k;
    return k - i;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'; a lone trailing space also lands here (same result as \s+).
  const size_t j = c == ' ' ? i + 1 : i;
  if (s.other(j) || !s.in(j)) {
    size_t k = j;
    while (s.other(k)) ++k;
    while (s.newline(k)) ++k;
    return k - i;
  }
  // \s*[\r\n]+ : whitespace up to and including the run's last line break.
  size_t k = i;
  size_t after_break = 0;
  while (s.space(k)) {
    if (s.at(k) == '\r' || s.at(k) == '\n') after_break = k + 1;
    ++k;
  }
  if (after_break > 0) return after_break - i;
  return match_trailing_space(s, i);
}

template <typename Match>
void scan(const Span& s, std::vector<uint32_t>& ends, Match&& match) {
  for (size_t i = s.begin; i < s.end;) {
    i += match(s, i);
    ends.push_back(static_cast<uint32_t>(i));
  }
}

}  // namespace

PreInfo pre_info(std::string_view name) {
  struct Entry {
    std::string_view name;
    PreInfo info;
  };
  static constexpr std::array kTable = {
      Entry{"gpt-2", {PreKind::Gpt2, false, true, false}},
      Entry{"gpt2", {PreKind::Gpt2, false, true, false}},
      Entry{"phi-2", {PreKind::Gpt2, false, true, false}},
      Entry{"mpt", {PreKind::Gpt2, false, true, false}},
      Entry{"olmo", {PreKind::Gpt2, false, true, false}},
      Entry{"exaone4", {PreKind::Gpt2, false, true, false}},
      Entry{"smollm", {PreKind::Digits1Gpt2, false, false, false}},
      Entry{"starcoder", {PreKind::Digits1Gpt2, false, true, false}},
      Entry{"refact", {PreKind::Digits1Gpt2, false, true, false}},
      Entry{"codeshell", {PreKind::Digits1Gpt2, false, true, false}},
      Entry{"command-r", {PreKind::Digits1Gpt2, false, false, false}},
      Entry{"exaone", {PreKind::Digits1Gpt2, false, true, false}},
      Entry{"llama3", {PreKind::Llama3, true, true, true}},
      Entry{"llama-v3", {PreKind::Llama3, true, true, true}},
      Entry{"llama-bpe", {PreKind::Llama3, true, true, true}},
      Entry{"falcon3", {PreKind::Llama3, true, true, true}},
      Entry{"dbrx", {PreKind::Llama3, false, true, false}},
      Entry{"smaug-bpe", {PreKind::Llama3, false, true, false}},
      Entry{"qwen2", {PreKind::Qwen2, false, false, false}},
      Entry{"deepseek-r1-qwen", {PreKind::Qwen2, false, false, false}},
      Entry{"stablelm2", {PreKind::Qwen2, false, true, false}},
      Entry{"megrez", {PreKind::Qwen2, false, true, false}},
  };
  for (const auto& e : kTable) {
    if (e.name == name) return e.info;
  }
  fail(
      "unsupported BPE pre-tokenizer '{}' (supported: gpt2, smollm/starcoder, llama3/llama-bpe, "
      "qwen2 and their aliases)",
      name);
}

void pre_tokenize(PreKind kind, std::span<const uint32_t> cps, std::vector<uint32_t>& ends) {
  const Span all{cps.data(), 0, cps.size()};
  switch (kind) {
    case PreKind::Gpt2:
      scan(all, ends, match_gpt2);
      return;
    case PreKind::Llama3:
      scan(all, ends, [](const Span& s, size_t i) { return match_llama3(s, i, 3); });
      return;
    case PreKind::Qwen2:
      scan(all, ends, [](const Span& s, size_t i) { return match_llama3(s, i, 1); });
      return;
    case PreKind::Digits1Gpt2: {
      // First pass: every number code point is its own piece; GPT-2 rules run inside the rest.
      size_t piece = 0;
      for (size_t i = 0; i <= cps.size(); ++i) {
        if (i < cps.size() && !is_number(cps[i])) continue;
        if (i > piece) scan(Span{cps.data(), piece, i}, ends, match_gpt2);
        if (i < cps.size()) ends.push_back(static_cast<uint32_t>(i + 1));
        piece = i + 1;
      }
      return;
    }
  }
}

}  // namespace duet::text
