// Special-token splitting (see special_split.hpp). A byte trie finds every occurrence of every
// special token in one pass; occurrences are then claimed in priority order (longer tokens first,
// then lower id; left to right within a token), skipping any that overlap claimed bytes. This is
// the same result as searching token by token, without its cost per special token. Must never
// let a lower-priority token take bytes a higher-priority one claimed.
#include "text/special_split.hpp"

#include <algorithm>
#include <cstddef>

namespace duet::text {

SpecialSplitter::SpecialSplitter(const Vocab& vocab) : vocab_(&vocab), root_children_(256, -1) {
  nodes_.emplace_back();
  std::vector<Token> order = vocab.special_tokens();
  std::stable_sort(order.begin(), order.end(),
                   [&](Token a, Token b) { return vocab.text(a).size() > vocab.text(b).size(); });
  priority_.assign(vocab.size(), 0);
  for (size_t rank = 0; rank < order.size(); ++rank) {
    const Token t = order[rank];
    priority_[static_cast<size_t>(t)] = static_cast<uint32_t>(rank);
    int node = 0;
    for (char ch : vocab.text(t)) {
      const auto byte = static_cast<uint8_t>(ch);
      int next = child(node, byte);
      if (next < 0) {
        next = static_cast<int>(nodes_.size());
        nodes_.emplace_back();
        if (node == 0) {
          root_children_[byte] = next;
        } else {
          children_.emplace((uint64_t(node) << 8) | byte, next);
        }
      }
      node = next;
    }
    // Two tokens with one text: the first in priority order keeps it.
    if (nodes_[static_cast<size_t>(node)].token == kNoToken)
      nodes_[static_cast<size_t>(node)].token = t;
  }
}

int SpecialSplitter::child(int node, uint8_t byte) const {
  if (node == 0) return root_children_[byte];
  auto it = children_.find((uint64_t(node) << 8) | byte);
  return it == children_.end() ? -1 : it->second;
}

void SpecialSplitter::split(std::string_view text, bool parse_special,
                            std::vector<Fragment>& out) const {
  out.clear();
  struct Hit {
    uint32_t rank;
    uint32_t pos;
    Token token;
  };
  std::vector<Hit> hits;
  const uint16_t blocked = parse_special ? 0 : (kAttrControl | kAttrUnknown);
  for (size_t pos = 0; pos < text.size(); ++pos) {
    int node = root_children_[static_cast<uint8_t>(text[pos])];
    for (size_t k = pos + 1; node >= 0; ++k) {
      const Token t = nodes_[static_cast<size_t>(node)].token;
      if (t != kNoToken && !(vocab_->attr(t) & blocked))
        hits.push_back({priority_[static_cast<size_t>(t)], static_cast<uint32_t>(pos), t});
      if (k >= text.size()) break;
      node = child(node, static_cast<uint8_t>(text[k]));
    }
  }
  if (hits.empty()) {
    if (!text.empty()) out.push_back({0, text.size(), kNoToken});
    return;
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos;
  });
  std::vector<uint8_t> claimed(text.size(), 0);
  std::vector<Hit> accepted;
  for (const Hit& h : hits) {
    const size_t len = vocab_->text(h.token).size();
    const auto first = claimed.begin() + h.pos;
    if (std::find(first, first + static_cast<std::ptrdiff_t>(len), 1) !=
        first + static_cast<std::ptrdiff_t>(len))
      continue;
    std::fill(first, first + static_cast<std::ptrdiff_t>(len), 1);
    accepted.push_back(h);
  }
  std::sort(accepted.begin(), accepted.end(),
            [](const Hit& a, const Hit& b) { return a.pos < b.pos; });
  size_t at = 0;
  for (const Hit& h : accepted) {
    if (h.pos > at) out.push_back({at, h.pos, kNoToken});
    out.push_back({h.pos, h.pos + vocab_->text(h.token).size(), h.token});
    at = h.pos + vocab_->text(h.token).size();
  }
  if (at < text.size()) out.push_back({at, text.size(), kNoToken});
}

}  // namespace duet::text
