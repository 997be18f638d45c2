// SentencePiece-style merge-by-score encoding (see spm.hpp). Must never read outside the escaped
// text buffer: symbols are byte ranges of it.
#include "text/spm.hpp"

#include <algorithm>
#include <string>

#include "text/unicode.hpp"

namespace duet::text {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581

struct Symbol {
  int32_t prev, next;
  uint32_t begin, len;
};
struct Pair {
  float score;
  int32_t left, right;
  uint32_t len;
};
// Heap order: highest score first, then leftmost.
bool pair_after(const Pair& a, const Pair& b) {
  return a.score != b.score ? a.score < b.score : a.left > b.left;
}

}  // namespace

SpmEncoder::SpmEncoder(const Vocab& vocab) : vocab_(&vocab) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const char name[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
    Token t = vocab.find(std::string_view(name, 6));
    if (t == kNoToken) {
      const char raw = static_cast<char>(b);
      t = vocab.find(std::string_view(&raw, 1));
    }
    if (t == kNoToken) t = vocab.special().unk;
    byte_token_[b] = t;
  }
}

void SpmEncoder::encode(std::string_view raw, bool space_prefix, std::vector<Token>& out) const {
  std::string text;
  text.reserve(raw.size() + raw.size() / 2 + 3);
  if (space_prefix) text += kSpaceMark;
  for (char c : raw) {
    if (c == ' ') {
      text += kSpaceMark;
    } else {
      text += c;
    }
  }
  if (text.empty()) return;

  std::vector<Symbol> sym;
  sym.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    const size_t len = std::min(utf8_lead_len(static_cast<uint8_t>(text[at])), text.size() - at);
    const auto n = static_cast<int32_t>(sym.size());
    sym.push_back({n - 1, at + len == text.size() ? -1 : n + 1, static_cast<uint32_t>(at),
                   static_cast<uint32_t>(len)});
    at += len;
  }
  std::vector<Pair> heap;
  heap.reserve(sym.size());
  const auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& a = sym[static_cast<size_t>(left)];
    const Symbol& b = sym[static_cast<size_t>(right)];
    const Token t = vocab_->find(std::string_view(text).substr(a.begin, a.len + b.len));
    if (t == kNoToken) return;
    heap.push_back({vocab_->score(t), left, right, a.len + b.len});
    std::push_heap(heap.begin(), heap.end(), pair_after);
  };
  for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) try_pair(i - 1, i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), pair_after);
    const Pair p = heap.back();
    heap.pop_back();
    Symbol& a = sym[static_cast<size_t>(p.left)];
    Symbol& b = sym[static_cast<size_t>(p.right)];
    if (a.len == 0 || b.len == 0 || a.len + b.len != p.len) continue;  // stale
    a.len += b.len;
    b.len = 0;
    a.next = b.next;
    if (b.next >= 0) sym[static_cast<size_t>(b.next)].prev = p.left;
    try_pair(a.prev, p.left);
    try_pair(p.left, a.next);
  }
  for (int32_t i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next) {
    const Symbol& s = sym[static_cast<size_t>(i)];
    const std::string_view piece = std::string_view(text).substr(s.begin, s.len);
    if (Token t = vocab_->find(piece); t != kNoToken) {
      out.push_back(t);
      continue;
    }
    for (char c : piece) {
      const Token t = byte_token_[static_cast<uint8_t>(c)];
      if (t != kNoToken) out.push_back(t);
    }
  }
}

}  // namespace duet::text
