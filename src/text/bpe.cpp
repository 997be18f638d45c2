// Byte-level BPE encoding (see bpe.hpp). Words are merged with a binary heap of candidate pairs;
// stale candidates (a side already merged) are recognised by their recorded byte length and
// dropped. Must never emit a token id outside the vocabulary.
#include "text/bpe.hpp"

#include <algorithm>

#include "text/byte_unicode.hpp"
#include "text/unicode.hpp"

namespace duet::text {

struct BpeScratch {
  struct Symbol {
    int32_t piece;
    int32_t prev, next;
    uint32_t begin, len;  // bytes of the word
  };
  struct Pair {
    int32_t rank;
    int32_t left, right;
    uint32_t len;  // left.len + right.len when queued
  };
  std::vector<uint32_t> cps;
  std::vector<uint32_t> word_ends;
  std::string word;     // UTF-8 of the current word
  std::string encoded;  // byte-level text of the current word (ignore_merges lookups)
  std::vector<Symbol> symbols;
  std::vector<Pair> heap;
};

namespace {
// Heap order: lowest rank first, then leftmost.
bool pair_after(const BpeScratch::Pair& a, const BpeScratch::Pair& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
}
}  // namespace

BpeEncoder::BpeEncoder(const Vocab& vocab) : vocab_(&vocab), pre_(pre_info(vocab.pre())) {
  for (int b = 0; b < 256; ++b)
    byte_piece_[b] = piece_id(utf8_encode(byte_to_unicode(static_cast<uint8_t>(b))));
  merges_.reserve(vocab.merges().size());
  const auto& merges = vocab.merges();
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t sep = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (sep == std::string::npos) continue;  // malformed: llama.cpp records an empty pair
    const std::string_view left(m.data(), sep), right(m.data() + sep + 1, m.size() - sep - 1);
    const int32_t l = piece_id(left), r = piece_id(right);
    const int32_t merged = piece_id(std::string(left) + std::string(right));
    merges_.emplace((uint64_t(uint32_t(l)) << 32) | uint32_t(r),
                    Merge{static_cast<int32_t>(rank), merged});
  }
}

BpeEncoder::~BpeEncoder() = default;

int32_t BpeEncoder::piece_id(std::string_view text) {
  if (Token t = vocab_->find(text); t != kNoToken) return t;
  if (auto it = extra_index_.find(text); it != extra_index_.end()) return it->second;
  extra_pieces_.emplace_back(text);
  const auto id = static_cast<int32_t>(vocab_->size() + extra_pieces_.size() - 1);
  extra_index_.emplace(extra_pieces_.back(), id);
  return id;
}

void BpeEncoder::encode(std::string_view text, std::vector<Token>& out) const {
  BpeScratch s;
  utf8_decode(text, s.cps);
  pre_tokenize(pre_.kind, s.cps, s.word_ends);
  uint32_t begin = 0;
  for (uint32_t end : s.word_ends) {
    s.word.clear();
    for (uint32_t i = begin; i < end; ++i) utf8_append(s.word, s.cps[i]);
    begin = end;
    encode_word(s, out);
  }
}

void BpeEncoder::encode_word(BpeScratch& s, std::vector<Token>& out) const {
  const std::string& w = s.word;
  if (w.empty()) return;
  if (pre_.ignore_merges) {
    s.encoded.clear();
    for (char c : w) utf8_append(s.encoded, byte_to_unicode(static_cast<uint8_t>(c)));
    if (Token t = vocab_->find(s.encoded); t != kNoToken) {
      out.push_back(t);
      return;
    }
  }
  auto& sym = s.symbols;
  sym.clear();
  for (size_t i = 0; i < w.size(); ++i) {
    const int32_t n = static_cast<int32_t>(i);
    sym.push_back({byte_piece_[static_cast<uint8_t>(w[i])], n - 1, i + 1 == w.size() ? -1 : n + 1,
                   static_cast<uint32_t>(i), 1});
  }
  auto& heap = s.heap;
  heap.clear();
  const auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const auto& a = sym[static_cast<size_t>(left)];
    const auto& b = sym[static_cast<size_t>(right)];
    auto it = merges_.find((uint64_t(uint32_t(a.piece)) << 32) | uint32_t(b.piece));
    if (it == merges_.end()) return;
    heap.push_back({it->second.rank, left, right, a.len + b.len});
    std::push_heap(heap.begin(), heap.end(), pair_after);
  };
  for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) try_pair(i - 1, i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), pair_after);
    const BpeScratch::Pair p = heap.back();
    heap.pop_back();
    auto& a = sym[static_cast<size_t>(p.left)];
    auto& b = sym[static_cast<size_t>(p.right)];
    if (a.len == 0 || b.len == 0 || a.len + b.len != p.len) continue;  // stale
    a.piece = merges_.at((uint64_t(uint32_t(a.piece)) << 32) | uint32_t(b.piece)).result;
    a.len += b.len;
    b.len = 0;
    a.next = b.next;
    if (b.next >= 0) sym[static_cast<size_t>(b.next)].prev = p.left;
    try_pair(a.prev, p.left);
    try_pair(p.left, a.next);
  }
  for (int32_t i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next)
    emit_piece(sym[static_cast<size_t>(i)].piece, out);
}

void BpeEncoder::emit_piece(int32_t piece, std::vector<Token>& out) const {
  if (piece >= 0 && static_cast<size_t>(piece) < vocab_->size()) {
    out.push_back(piece);
    return;
  }
  // Not a token (odd vocabulary): llama.cpp falls back to single-byte tokens of the piece's
  // byte-level text, dropping bytes that have none.
  const std::string& text = extra_pieces_[static_cast<size_t>(piece) - vocab_->size()];
  for (char c : text) {
    if (Token t = vocab_->find(std::string_view(&c, 1)); t != kNoToken) out.push_back(t);
  }
}

}  // namespace duet::text
