// Splits raw text into plain-text fragments and special tokens (control / user-defined / unknown
// tokens written literally in the text), with llama.cpp's priority: longer special tokens claim
// their occurrences first. Control and unknown tokens are only recognised when parse_special is
// set; user-defined tokens always are. Must never return overlapping or out-of-order fragments.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/vocab.hpp"

namespace duet::text {

struct Fragment {
  size_t begin = 0;  // byte range in the text (for plain-text fragments)
  size_t end = 0;
  Token token = kNoToken;  // a special token, or kNoToken for plain text
};

class SpecialSplitter {
 public:
  explicit SpecialSplitter(const Vocab& vocab);
  void split(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;

 private:
  struct Node {
    Token token = kNoToken;  // token ending here
  };
  int child(int node, uint8_t byte) const;
  const Vocab* vocab_;
  std::vector<Node> nodes_;                         // node 0 is the root
  std::vector<int32_t> root_children_;              // 256 entries, -1 = none
  std::unordered_map<uint64_t, int32_t> children_;  // (node << 8 | byte) -> node
  std::vector<uint32_t> priority_;                  // per token id in the trie: rank (0 = first)
};

}  // namespace duet::text
